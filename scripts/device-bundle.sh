#!/usr/bin/env bash
# Builds device-bundle/: the Debian 12 packages deepmr needs besides LibTorch and CUDA -- Open MPI
# 4.1 (headers, wrappers, mpirun, its runtime), parallel HDF5 1.10.8 (libhdf5-openmpi-dev), Boost
# program_options (and the Boost headers deepmr includes), Eigen, zlib, OpenSSL, libBigWig -- and
# every shared library they need that a bare Ubuntu/Debian GPU image may lack, extracted (never
# installed) into a prefix that scripts/device-check.sh --bundle DIR builds and runs against on a
# machine that has CUDA and PyTorch but no MPI, HDF5 or Boost (docs/performance.md, "GPU check").
#
# Run on Debian 12 (amd64) with apt's package lists in place (apt-get update once). It uses
# `apt-get download` and `dpkg-deb -x` only: nothing is installed. The runtime closure is found
# from the ELF files' NEEDED entries: each soname that neither the bundle nor the base system
# (glibc, libstdc++, libgcc_s, libgomp: see BASE below) provides is looked up with dpkg -S on this
# machine, so the packages that own them must be installed here (scripts/install-deps does).
# Absolute symbolic links are made relative, so the folder can move (the device runner carries it).
#
# Usage: scripts/device-bundle.sh [DIR]   (default: device-bundle/ in the repository, git-ignored;
#        also writes DIR.tar.gz, the same packed, a third of the size, for the device runner)
# Exit status 0 when the bundle is complete, 2 when it could not be built.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/device-bundle}"
arch=x86_64-linux-gnu

fail() { echo "device-bundle: $*" >&2; exit 2; }
say() { printf '== %s\n' "$*"; }

command -v apt-get > /dev/null && command -v dpkg-deb > /dev/null || fail "needs apt-get and dpkg-deb (Debian 12)"
[ "$(dpkg --print-architecture)" = amd64 ] || fail "needs an amd64 Debian (the GPU machine is x86-64)"

# What deepmr builds against (cmake/DeepmrDependencies.cmake), plus mpirun and the runtimes.
PACKAGES=(
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libpmix2
  libhdf5-openmpi-dev libhdf5-openmpi-103-1
  libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0
  libeigen3-dev zlib1g-dev zlib1g libssl-dev libssl3 libbigwig-dev libbigwig0
)
# Sonames every Linux image with a C++ compiler has; never bundled (an older copy ahead of the
# host's on LD_LIBRARY_PATH would break the host's own programs).
BASE=" libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libresolv.so.2 libutil.so.1 libanl.so.1
 ld-linux-x86-64.so.2 libstdc++.so.6 libgcc_s.so.1 libgomp.so.1 "
# Open MPI components for fabrics a single GPU node does not use (UCX, libfabric, PSM, verbs,
# OpenSHMEM): dropped, so that their libraries need not come along. Shared memory (vader) and TCP
# stay; device-check.sh selects them (OMPI_MCA_pml=ob1, OMPI_MCA_btl=self,vader,tcp).
DROP_COMPONENTS='mca_(.*ucx.*|.*ofi.*|.*psm.*|btl_openib|.*verbs.*|spml_.*|sshmem_.*|scoll_.*|atomic_.*|memheap_.*|reachable_netlink)\.so$'

work="$(mktemp -d)"
chmod 755 "$work"  # apt-get download drops privileges to _apt where it can
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs"
stage="$work/prefix"
mkdir -p "$stage"

fetch() {  # fetch PACKAGE...: download the .debs (apt's candidate versions) and extract them
  (cd "$work/debs" && apt-get download "$@" > "$work/download.log" 2>&1) ||
    { tail -5 "$work/download.log" >&2; fail "apt-get download $* failed (run apt-get update first?)"; }
  local p deb
  for p in "$@"; do
    deb="$(ls "$work/debs/${p}"_*.deb 2> /dev/null | head -1)"
    [ -n "$deb" ] || fail "no .deb for $p after apt-get download"
    dpkg-deb -x "$deb" "$stage"
    printf '%s\t%s\n' "$p" "$(dpkg-deb -f "$deb" Version)" >> "$work/manifest"
  done
}

prune() {  # what neither building nor running deepmr reads: static libraries, Fortran, docs, translations,
  # Eigen's unsupported modules, Open MPI's internal headers (for building its plugins), dropped components
  rm -rf "$stage/usr/share/doc" "$stage/usr/share/man" "$stage/usr/share/lintian" "$stage/usr/share/javascript" \
    "$stage/usr/lib/$arch/fortran" "$stage/usr/share/doc-base" "$stage/usr/share/locale" "$stage/usr/include/eigen3/unsupported" \
    "$stage/usr/lib/$arch/openmpi/include/openmpi/"{opal,orte,oshmem}
  find "$stage" -name '*.a' -delete
  find "$stage" \( -name '*fortran*' -o -name '*mpifh*' -o -name '*usempi*' -o -name '*_java*' -o -name 'mpi.jar' \
    -o -name '*.mod' \) -exec rm -rf {} +
  find "$stage" -regextype posix-extended -regex ".*/$DROP_COMPONENTS" -delete
  find "$stage" \( -name 'liboshmem*' -o -name 'oshmem_info' \) -delete
  find "$stage" -regextype posix-extended -regex '.*/libmca_common_(ucx|ofi|verbs)\.so.*' -delete
}

elf_files() { find "$stage" -type f \( -name '*.so*' -o -perm -u+x \) -print0 | while IFS= read -r -d '' f; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && printf '%s\n' "$f"; done; }

missing_sonames() {  # sonames needed by the bundle's ELF files that neither it nor BASE provides
  local f
  elf_files | while IFS= read -r f; do
    readelf -d "$f" 2> /dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
  done | sort -u | while IFS= read -r soname; do
    case "$BASE" in *" $soname "*) continue ;; esac
    [ -n "$(find "$stage" -name "$soname" -print -quit)" ] || echo "$soname"
  done
}

owner() {  # the installed package that ships soname $1 for amd64
  dpkg -S "*/$1" 2> /dev/null | awk -v s="$1" -F': ' '{ n = split($2, p, "/"); if (p[n] == s && $2 ~ /x86_64-linux-gnu/) { sub(/:amd64$/, "", $1); print $1; exit } }'
}

say "downloading and extracting ${#PACKAGES[@]} packages"
fetch "${PACKAGES[@]}"
prune

# Boost: only the headers deepmr's sources reach (their preprocessor closure, with two language
# levels) and boost/config, instead of all 160 MiB of libboost1.74-dev.
say "pruning Boost to the headers deepmr includes"
includes="$(grep -rhoE '#include <boost/[^>]+>' "$root/src" "$root/include" | sort -u)"
printf '%s\n' "$includes" > "$work/boost.cpp"
keep="$work/boost-keep"
for std in c++17 c++20; do
  g++ -std=$std -M -isystem "$stage/usr/include" -x c++ "$work/boost.cpp" -o "$work/deps" 2> "$work/deps.log" ||
    { cat "$work/deps.log" >&2; fail "g++ -M over the Boost headers failed"; }
  tr ' \\' '\n\n' < "$work/deps" | grep -o "$stage/usr/include/boost/.*" >> "$keep" || true
done
(cd "$stage/usr/include" && find boost/config -type f) | sed "s|^|$stage/usr/include/|" >> "$keep"
sort -u "$keep" -o "$keep"
find "$stage/usr/include/boost" -type f | grep -vxF -f "$keep" | xargs -r rm -f
find "$stage/usr/include/boost" -depth -type d -empty -delete
say "kept $(wc -l < "$keep") Boost headers"

# The runtime closure, to a fixed point.
for round in 1 2 3 4 5 6 7 8; do
  mapfile -t need < <(missing_sonames)
  [ "${#need[@]}" -eq 0 ] && break
  new=()
  for soname in "${need[@]}"; do
    pkg="$(owner "$soname")"
    [ -n "$pkg" ] || fail "no installed package ships $soname (needed by the bundle); install it here first"
    ! grep -q "^$pkg	" "$work/manifest" || fail "$soname, needed by the bundle, is in $pkg, which is already in it (pruned?)"
    case " ${new[*]:-} " in *" $pkg "*) ;; *) new+=("$pkg") ;; esac
  done
  say "round $round: ${need[*]} -> ${new[*]}"
  fetch "${new[@]}"
  prune
done
[ "$(missing_sonames | wc -l)" -eq 0 ] || fail "the runtime closure did not converge: $(missing_sonames | tr '\n' ' ')"

# Relative symbolic links: an absolute one would point into the host's /usr.
find "$stage" -type l -lname '/*' | while IFS= read -r link; do
  target="$(readlink "$link")"
  rel="$(realpath -m --relative-to="$(dirname "$link")" "$stage$target")"
  ln -sfn "$rel" "$link"
done
# Links left dangling by the pruning (HDF5's C++ and high-level libraries, which deepmr does not use) go.
find "$stage" -xtype l -delete

# Wrappers in DIR/bin: each sets up the relocated Open MPI/PMIx and the bundle's libraries for its
# own process tree only, so the host's tools (cmake, nvcc, python) never see the bundle's libraries.
mkdir -p "$stage/bin"
cat > "$stage/env.sh" << 'EOF'
# Sourced by DIR/bin/* and by scripts/device-check.sh --bundle DIR: the relocated Open MPI and PMIx.
bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
arch=x86_64-linux-gnu
export OPAL_PREFIX="$bundle/usr"
export OPAL_LIBDIR="$bundle/usr/lib/$arch/openmpi/lib" OPAL_INCLUDEDIR="$bundle/usr/lib/$arch/openmpi/include"
export OPAL_BINDIR="$bundle/usr/bin" OPAL_DATADIR="$bundle/usr/share" OPAL_PKGDATADIR="$bundle/usr/share/openmpi"
export OPAL_SYSCONFDIR="$bundle/etc/openmpi"
export OMPI_MCA_mca_base_component_path="$bundle/usr/lib/$arch/openmpi/lib/openmpi3"
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_vader_single_copy_mechanism=none
export PMIX_PREFIX="$bundle/usr/lib/$arch/pmix2" PMIX_INSTALL_PREFIX="$bundle/usr/lib/$arch/pmix2"
export PMIX_MCA_mca_base_component_path="$bundle/usr/lib/$arch/pmix2/lib/pmix"
export DEEPMR_BUNDLE_LIBS="$bundle/usr/lib/$arch:$bundle/lib/$arch:$bundle/usr/lib/$arch/openmpi/lib:$bundle/usr/lib/$arch/pmix2/lib:$bundle/usr/lib/$arch/hdf5/openmpi"
EOF
for tool in mpicc:opal_wrapper mpirun:orterun mpiexec:orterun ompi_info:ompi_info orted:orted; do
  name="${tool%%:*}" real="${tool#*:}"
  cat > "$stage/bin/$name" << EOF
#!/usr/bin/env bash
. "\$(dirname "\${BASH_SOURCE[0]}")/../env.sh"
export LD_LIBRARY_PATH="\$DEEPMR_BUNDLE_LIBS\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec -a "\$bundle/usr/bin/$name" "\$bundle/usr/bin/$real" "\$@"
EOF
  chmod +x "$stage/bin/$name"
done
# opal_wrapper picks its personality from argv[0]'s name: mpicc.
ln -sfn opal_wrapper "$stage/usr/bin/mpicc"

sort -u "$work/manifest" > "$stage/MANIFEST"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$stage" "$out"
size="$(( $(du -sb "$out" | cut -f1) / 1048576 ))"
say "bundle: $out, $size MiB, $(wc -l < "$out/MANIFEST") packages (MANIFEST)"
[ "$size" -le 60 ] || echo "device-bundle: warning: $size MiB is over the 60 MiB meant to travel with the working tree" >&2
# Packed too: one file of a third of the size, links inside, for the device runner's carry.
# gzip rather than xz: every image has gzip, not every one has xz.
tar -C "$out" -czf "$out.tar.gz.tmp" . && mv "$out.tar.gz.tmp" "$out.tar.gz" || fail "packing $out.tar.gz failed"
say "packed: $out.tar.gz, $(( $(stat -c %s "$out.tar.gz") / 1048576 )) MiB (scripts/device-check.sh --bundle takes either)"
