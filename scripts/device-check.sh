#!/usr/bin/env bash
# GPU check of deepmr (docs/performance.md, "GPU check"). On a machine with an NVIDIA GPU and a CUDA
# build of LibTorch it runs, each step going on when an earlier one failed:
#   driver  builds the compute core and a small driver (benchmarks/ism/device) against that LibTorch;
#   ism     DeepSEA architecture (random weights, L = 1000, two outputs, one window) at N = 50 MC
#           samples: the CPU incremental engine (deterministic kernels) is the reference, the
#           incremental and the full engine run through LibTorch on the GPU on the same window and
#           masks (the incremental engine twice: one sample per pass, then the automatic samples
#           per pass, whose ratio is the launch overhead saved); prints the GPU's mutant
#           evaluations per second and the largest differences of beta and se from the reference
#           (each must be <= 1e-6);
#   app     builds the whole deepmr application (target deepmr, tests and benchmarks off) against
#           the same LibTorch, in its own build folder; with --bundle DIR against the MPI, parallel
#           HDF5, Boost, Eigen, zlib, OpenSSL and libBigWig that scripts/device-bundle.sh extracted
#           into DIR (the GPU machine has none of them), and checks with ldd that it loads DIR's;
#   demo    the README's demo (configs/demo.ini) under mpirun with 2 ranks (a coordinator and one
#           worker) on the GPU (run.device cuda, run.backend torch), then the same config on the CPU
#           (kernels) as the reference; checks that both runs completed, that every stored
#           per-mutant beta and se is within 1e-6 of the CPU run's, and compares the meta-analysis
#           tables (same pairs and statuses; the largest estimate difference is reported).
# Ends with a summary (each step ok / FAILED / DIFFERS, and the figures), also written to
# $OUT/device-check.txt when OUT is set (the device runner brings $OUT back).
#
# Usage: scripts/device-check.sh [--cpu] [--bundle DIR] [--hide-system] [--samples N] [--jobs J]
#                                [--skip STEP,...] [BUILD_DIR]
#   --cpu          dry run without a GPU: every step on the CPU, the torch path through LibTorch's
#                  CPU operators (slow on DeepSEA: the ism step then covers the window's first 4
#                  positions, the full engine 2; the demo's small model runs whole)
#   --bundle DIR   build and run against DIR (scripts/device-bundle.sh); its libraries take
#                  precedence; DIR/bin/mpirun is the mpirun. DIR may also be the packed
#                  DIR.tar.gz that scripts/device-bundle.sh writes beside it (unpacked into
#                  BUILD_DIR/bundle)
#   --hide-system  (dry run, root) with --bundle: runs in a private mount namespace where the
#                  system's MPI, PMIx, parallel HDF5, Boost and Eigen are hidden, so that only the
#                  bundle can serve
#   --samples N    MC dropout samples of the ism step (default 50)
#   --jobs J       parallel build jobs (default: the cores)
#   --demo-regions K  the demo with K regions per TF instead of the config's 20 (a quicker run)
#   --skip LIST    steps to leave out: driver (and with it ism), app (and with it demo), demo
#   BUILD_DIR      the driver's build folder (default build-device/); the application's is
#                  BUILD_DIR-app (BUILD_DIR-app-bundle with --bundle)
# Needs cmake >= 3.18, a C++17 compiler with OpenMP, LibTorch (Torch_DIR, else pip's torch:
# python3 -c 'import torch; print(torch.utils.cmake_prefix_path)', else CMake's search), the CUDA
# toolkit LibTorch's CMake files look for, and for the app and demo steps MPI, parallel HDF5,
# Boost, Eigen, zlib, OpenSSL and libBigWig (installed, or --bundle). No Python beyond the torch
# lookup, no h5py: the stores are read with deepmr itself.
# Exit status 0 when every step ran and every difference is within 1e-6, 1 when a difference
# exceeds 1e-6, 2 when a step could not run (1 wins when both happen).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device=cuda
samples=50
positions=1000
full_positions=1000
demo_regions=""
bundle=""
hide=0
jobs="$(nproc)"
skip=","
build=""
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) device=cpu; positions=4; full_positions=2 ;;
    --demo-regions) demo_regions="${2:?--demo-regions needs K}"; shift ;;
    --bundle) bundle="${2:?--bundle needs a folder or a .tar.gz}"; shift ;;
    --hide-system) hide=1 ;;
    --samples) samples="${2:?--samples needs N}"; shift ;;
    --jobs) jobs="${2:?--jobs needs J}"; shift ;;
    --skip) skip=",${2:?--skip needs a list},"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "device-check: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) build="$1" ;;
  esac
  shift
done
build="$(mkdir -p "${build:-$root/build-device}" && cd "${build:-$root/build-device}" && pwd)"
app_build="$build-app${bundle:+-bundle}"
ism_rows="$build/device-check.tsv"
if [ -n "$bundle" ] && [ -f "$bundle" ]; then
  # A packed bundle (scripts/device-bundle.sh writes DIR.tar.gz beside DIR): unpacked into the build folder.
  case "$bundle" in *.tar.gz|*.tgz|*.tar.xz|*.tar) ;; *) echo "device-check: --bundle $bundle: neither a folder nor a .tar.gz" >&2; exit 2 ;; esac
  rm -rf "$build/bundle" && mkdir -p "$build/bundle" && tar -xf "$bundle" -C "$build/bundle" ||
    { echo "device-check: could not unpack $bundle into $build/bundle" >&2; exit 2; }
  bundle="$build/bundle"
fi
if [ -n "$bundle" ]; then
  [ -d "$bundle" ] || { echo "device-check: no bundle folder $bundle" >&2; exit 2; }
  bundle="$(cd "$bundle" && pwd)"
fi
python="${PYTHON:-python3}"
tolerance="${DEEPMR_DEVICE_CHECK_TOLERANCE:-1e-6}"  # the engines' contract (a lower one tests the exit status 1)

if [ "$hide" = 1 ] && [ -z "${DEEPMR_DEVICE_CHECK_HIDDEN:-}" ]; then
  [ -n "$bundle" ] || { echo "device-check: --hide-system needs --bundle" >&2; exit 2; }
  command -v unshare > /dev/null || { echo "device-check: --hide-system needs unshare (util-linux)" >&2; exit 2; }
  # Re-run this script in a private mount namespace with the system's copies covered.
  exec unshare -m env DEEPMR_DEVICE_CHECK_HIDDEN=1 bash -c '
    a=x86_64-linux-gnu
    for d in /usr/lib/$a/openmpi /usr/lib/$a/pmix2 /usr/lib/$a/hdf5 /usr/include/hdf5 /usr/include/boost \
             /usr/include/eigen3 /usr/share/eigen3 /usr/share/openmpi /usr/share/pmix /etc/openmpi /usr/lib/$a/cmake/Boost-* \
             /usr/lib/$a/cmake/boost_*; do
      if [ -d "$d" ]; then mount -t tmpfs none "$d" || exit 2; fi
    done
    for f in /usr/bin/mpicc /usr/bin/mpirun /usr/bin/mpiexec /usr/bin/h5pcc /usr/lib/$a/libmpi.so.40 /usr/lib/$a/libopen-pal.so.40 \
             /usr/lib/$a/libopen-rte.so.40 /usr/lib/$a/libhdf5_openmpi.so.103 /usr/lib/$a/libpmix.so.2 \
             /usr/lib/$a/libboost_program_options.so.1.74.0; do
      if [ -e "$f" ]; then mount --bind /dev/null "$(readlink -f "$f")" || exit 2; fi
    done
    echo "== hid the system MPI, PMIx, parallel HDF5, Boost and Eigen (private mount namespace)"
    exec "$0" "$@"' "$0" "${args[@]}"
fi

say() { printf '== %s\n' "$*"; }
exec 3>&1  # the logs' tails of what failed, on stdout also from inside $(...); stderr has one line per failure
summary=()  # "step<TAB>status<TAB>figures"
note() { summary+=("$(printf '%s\t%s\t%s' "$1" "$2" "$3")"); }
failed() { echo "device-check: $1: $2" >&2; note "$1" FAILED "$2"; }
could_not=0
differs=0
skipped() { case "$skip" in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
report() {  # report [final]: the summary so far
  local status=0 line step st fig
  [ "$could_not" = 0 ] || status=2
  [ "$differs" = 0 ] || status=1
  echo "deepmr device check ($device${bundle:+, bundle $bundle}$( [ "$hide" = 1 ] && echo ", system hidden")), started $started, $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo '?')"
  for line in "${summary[@]}"; do
    IFS=$'\t' read -r step st fig <<< "$line"
    printf '  %-7s %-8s %s\n' "$step" "$st" "$fig"
  done
  if [ "${1:-}" = final ]; then
    echo "exit status $status ($(case $status in 0) echo 'every check passed' ;; 1) echo "a difference exceeds $tolerance" ;; 2) echo 'a step could not run' ;; esac))"
  else
    echo "(still running: the next step had not finished when this was written)"
  fi
}
save() {  # save [final]: the summary so far, the ism rows and the demo table, into $OUT (a timed-out run still brings back what it measured)
  [ -n "${OUT:-}" ] || return 0
  mkdir -p "$OUT"
  { report "${1:-}"; echo
    if [ -f "$ism_rows" ]; then echo "# ism ($ism_rows)"; cat "$ism_rows"; echo; fi
    if [ -f "$build/demo/device.table.tsv" ]; then echo "# demo table, $device"; cat "$build/demo/device.table.tsv"; fi
  } > "$OUT/device-check.txt.tmp" && mv "$OUT/device-check.txt.tmp" "$OUT/device-check.txt"
}
finish() {
  local status=0
  [ "$could_not" = 0 ] || status=2
  [ "$differs" = 0 ] || status=1
  say "summary"
  report final
  save final
  # The logs of what failed, to read without another run.
  if [ -n "${OUT:-}" ] && [ "$status" != 0 ]; then tar -czf "$OUT/device-check-logs.tar.gz" -C "$build" logs 2> /dev/null || true; fi
  exit $status
}

# One log per step in the build folder; its tail goes to stderr when the step fails.
logs="$build/logs"
mkdir -p "$logs"
quiet() {  # quiet LOGNAME CMD...: run CMD with its output in the log
  local log="$logs/$1.log"; shift
  if "$@" > "$log" 2>&1; then return 0; fi
  tail -25 "$log" | sed "s/^/  | /" >&3
  return 1
}

if [ "$device" = cuda ]; then
  if ! command -v nvidia-smi > /dev/null; then
    echo "device-check: nvidia-smi not found: no NVIDIA GPU here (use --cpu for a dry run)" >&2
    exit 2
  fi
  say "GPU"
  gpu="$(nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader | head -1)"
  echo "$gpu"
  note gpu ok "$gpu"
else
  note gpu "-" "none: CPU dry run (--cpu), the torch path on LibTorch's CPU operators"
fi

if [ -z "${Torch_DIR:-}" ]; then
  if prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2> /dev/null)" &&
     [ -f "$prefix/Torch/TorchConfig.cmake" ]; then
    export Torch_DIR="$prefix/Torch"
  fi
fi
say "LibTorch: ${Torch_DIR:-found by CMake}"
if [ "$device" = cuda ] && ! "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
  echo "device-check: note: the python torch sees no CUDA GPU; the C++ check decides" >&2
fi

# The bundle: its CMake prefix, compiler wrapper, libraries and Open MPI relocation.
cmake_bundle=()
run_env=()  # env VAR=... for deepmr's own processes (summarize, export)
mpirun=(mpirun)
if [ -n "$bundle" ]; then
  [ -f "$bundle/env.sh" ] && [ -x "$bundle/bin/mpirun" ] ||
    { echo "device-check: $bundle is not a bundle of scripts/device-bundle.sh (no env.sh, bin/mpirun)" >&2; exit 2; }
  # shellcheck source=/dev/null
  . "$bundle/env.sh"
  a=x86_64-linux-gnu
  rpath_link="$(printf -- '-Wl,-rpath-link,%s ' ${DEEPMR_BUNDLE_LIBS//:/ })"
  cmake_bundle=(
    -DCMAKE_PREFIX_PATH="$bundle/usr;$bundle"
    -DMPI_C_COMPILER="$bundle/bin/mpicc" -DMPIEXEC_EXECUTABLE="$bundle/bin/mpirun"
    -DHDF5_ROOT="$bundle/usr/lib/$a/hdf5/openmpi" -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON
    -DOPENSSL_ROOT_DIR="$bundle/usr" -DZLIB_ROOT="$bundle/usr"
    -DBoost_DIR="$bundle/usr/lib/$a/cmake/Boost-1.74.0" -DBoost_NO_SYSTEM_PATHS=ON
    -DEigen3_DIR="$bundle/usr/share/eigen3/cmake"
    -DCMAKE_EXE_LINKER_FLAGS="$rpath_link"
  )
  run_env=(env LD_LIBRARY_PATH="$DEEPMR_BUNDLE_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  mpirun=("$bundle/bin/mpirun")
  say "bundle: $bundle ($(wc -l < "$bundle/MANIFEST") Debian packages; Open MPI relocated to $OPAL_PREFIX)"
fi
mpirun+=(-q --oversubscribe)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)

save

# ---- driver and ism: the engines on DeepSEA at N = $samples -------------------------------------------
rm -f "$ism_rows"
if skipped driver; then
  note driver skipped ""; note ism skipped ""
else
  say "build the driver ($build)"
  if quiet driver-configure cmake -S "$root/benchmarks/ism/device" -B "$build" -DCMAKE_BUILD_TYPE=Release \
       ${Torch_DIR:+-DTorch_DIR="$Torch_DIR"} &&
     quiet driver-build cmake --build "$build" -j "$jobs"; then
    note driver ok "$build/device_check"
    say "DeepSEA architecture, random weights, L = 1000, N = $samples, outputs 0 and 1, $device"
    if "$build/device_check" --device "$device" --samples "$samples" --threads "$(nproc)" --positions "$positions" \
         --full-positions "$full_positions" > "$ism_rows" 2> "$logs/ism.log"; then
      cat "$ism_rows"
      # Columns 6 to 8: evaluations per second, largest |beta - beta_cpu| and |se - se_cpu|.
      figures="$(awk -F'\t' 'NR > 1 && $1 !~ /^#/ && $2 !~ /reference/ {
          d = ($7 + 0 > $8 + 0) ? $7 + 0 : $8 + 0; if (d > max) max = d
          printf "%s %s %s mutant evaluations/s (%d mutants); ", $1, $2, $6, $3 }
        END { printf "N = '"$samples"'; max |diff| from the CPU kernels %.3g", max }' "$ism_rows")"
      if awk -F'\t' -v tol="$tolerance" 'NR > 1 && $1 !~ /^#/ { if ($7 + 0 > tol || $8 + 0 > tol) bad = 1 } END { exit bad }' "$ism_rows"; then
        note ism ok "$figures"
      else
        echo "device-check: ism: a difference from the CPU reference exceeds $tolerance ($ism_rows)" >&2
        note ism DIFFERS "$figures"; differs=1
      fi
    else
      sed "s/^/  | /" "$logs/ism.log" >&3
      failed ism "device_check failed (log: $logs/ism.log)"; could_not=1
    fi
  else
    failed driver "configuring or building the driver failed (logs: $logs/driver-*.log)"; could_not=1
    note ism skipped "no driver"
  fi
fi

save

# ---- app: the whole deepmr ----------------------------------------------------------------------------
deepmr="$app_build/bin/deepmr"
app_ok=0
if skipped app; then
  note app skipped ""
else
  say "build deepmr ($app_build${bundle:+, against the bundle})"
  start=$(date +%s)
  if quiet app-configure cmake -S "$root" -B "$app_build" -DCMAKE_BUILD_TYPE=Release -DDEEPMR_BUILD_TESTS=OFF \
       -DDEEPMR_BUILD_BENCHMARKS=OFF ${Torch_DIR:+-DTorch_DIR="$Torch_DIR"} "${cmake_bundle[@]}" &&
     quiet app-build cmake --build "$app_build" -j "$jobs" --target deepmr; then
    found="$(grep -m1 'deepmr 0\.' "$logs/app-configure.log" | sed 's/^-- //' || true)"
    echo "$found"
    figures="$(( $(date +%s) - start )) s; $found"
    app_ok=1
    if [ -n "$bundle" ]; then
      # Each library that the bundle provides must load from it.
      "${run_env[@]}" ldd "$deepmr" > "$logs/app-ldd.log" 2>&1 || true
      outside="$(awk '/=>/ && $1 ~ /^lib(mpi|open-pal|open-rte|pmix|hdf5_openmpi|boost_program_options|BigWig|sz|aec|curl)[.-]/ &&
                      index($3, "'"$bundle"'/") != 1 { print $1 " => " $3 }' "$logs/app-ldd.log")"
      missing="$(grep 'not found' "$logs/app-ldd.log" || true)"
      inside="$(grep -c "=> $bundle/" "$logs/app-ldd.log" || true)"
      if [ -n "$outside$missing" ]; then
        failed app "deepmr does not load the bundle's libraries: $(printf '%s ' "$outside" "$missing" | tr '\n' ' ') (log: $logs/app-ldd.log)"
        could_not=1; app_ok=0
      else
        figures="$figures; ldd: $inside libraries from the bundle, none of its from elsewhere"
      fi
    fi
    [ "$app_ok" = 0 ] || note app ok "$figures"
  else
    failed app "configuring or building deepmr failed (logs: $logs/app-configure.log, app-build.log)"; could_not=1
  fi
fi

save

# ---- demo: 2 ranks on the device, and the CPU reference --------------------------------------------
if skipped demo || skipped app; then
  note demo skipped ""
elif [ "$app_ok" = 0 ]; then
  note demo skipped "no deepmr"
else
  work="$build/demo"
  rm -rf "$work"; mkdir -p "$work"
  overrides=(${demo_regions:+--regions.per-exposure "$demo_regions"})
  demo_run() {  # demo_run NAME DEVICE BACKEND: the demo config on 2 ranks into $work/NAME.h5
    local start
    start=$(date +%s)
    (cd "$root" && "${mpirun[@]}" -n 2 "$deepmr" run --config configs/demo.ini --run.store "$work/$1.h5" \
       --run.device "$2" --run.backend "$3" --run.threads "$(nproc)" "${overrides[@]}") > "$work/$1.meta.tsv" 2> "$logs/demo-$1.log" ||
      { tail -15 "$logs/demo-$1.log" | sed "s/^/  | /" >&3; return 1; }
    echo $(( $(date +%s) - start ))
  }
  say "demo: deepmr run --config configs/demo.ini on 2 ranks, $device/torch${demo_regions:+ ($demo_regions region per TF)}"
  if dev_s="$(demo_run device "$device" torch)"; then
    say "demo: the same on the CPU (kernels), the reference"
    if cpu_s="$(demo_run cpu cpu kernels)"; then
      app() { (cd "$root" && "${run_env[@]}" "$deepmr" "$@"); }
      ok=1
      for s in device cpu; do
        app summarize "$work/$s.h5" > "$work/$s.table.tsv" 2> "$work/$s.summarize.log" || ok=0
        grep -q 'the run is complete' "$work/$s.summarize.log" || ok=0
        app export "$work/$s.h5" --format bedgraph --out "$work/$s.bedgraph" --stat beta,se --alt A,C,G,T \
          > /dev/null 2>> "$work/$s.summarize.log" || ok=0
      done
      if [ "$ok" = 0 ]; then
        sed "s/^/  | /" "$work/device.summarize.log" "$work/cpu.summarize.log" >&3
        failed demo "a store is incomplete or unreadable (logs: $work/*.summarize.log)"; could_not=1
      else
        cat "$work/device.table.tsv"
        units="$(sed -n 's/.*: \([0-9]* of [0-9]*\) units done.*/\1/p' "$work/device.summarize.log")"
        # Per-mutant effects: the bedGraph value columns, line by line (the same layout when both
        # runs stored the same mutants).
        effects="$(paste "$work/device.bedgraph" "$work/cpu.bedgraph" | awk -F'\t' '
          NF == 8 { if ($1 != $5 || $2 != $6) { bad = 1; exit } d = $4 - $8; if (d < 0) d = -d; if (d > max) max = d; n++ }
          NF != 8 && NF != 2 && $0 !~ /^track/ { bad = 1 }
          END { if (bad || n == 0) print "layout"; else printf "%.3g %d\n", max, n }')"
        # The meta-analysis tables: the same pairs, methods and statuses; the largest |estimate| difference.
        tables="$(paste "$work/device.table.tsv" "$work/cpu.table.tsv" | awk -F'\t' '
          NR == 1 { h = NF / 2; for (i = 1; i <= h; i++) c[$i] = i; next }
          { if ($1 != $(1 + h) || $2 != $(2 + h) || $3 != $(3 + h) || $4 != $(4 + h) || $(c["status"]) != $(c["status"] + h)) same = "no"
            d = $(c["estimate"]) - $(c["estimate"] + h); if (d < 0) d = -d; if (d > max) max = d; n++ }
          END { printf "%s %.3g %d\n", same == "no" ? "no" : "yes", max, n }')"
        read -r eff_max eff_n <<< "$effects"
        read -r same est_max rows <<< "$tables"
        figures="2 ranks; $units units; device run ${dev_s} s, CPU run ${cpu_s} s"
        if [ "$eff_max" = layout ]; then
          failed demo "the two stores' effect tracks differ in layout ($work/*.bedgraph)"; could_not=1
        else
          figures="$figures; per-mutant beta/se: max |diff| $eff_max over $eff_n values; meta table: $rows rows, pairs and statuses $( [ "$same" = yes ] && echo same || echo DIFFERENT ), max |diff| of estimate $est_max"
          if awk -v d="$eff_max" -v t="$tolerance" 'BEGIN { exit !(d + 0 <= t + 0) }' && [ "$same" = yes ]; then
            note demo ok "$figures"
          else
            echo "device-check: demo: the device run differs from the CPU run (effects $eff_max > $tolerance, or the table's pairs)" >&2
            note demo DIFFERS "$figures"; differs=1
          fi
        fi
      fi
    else
      failed demo "the CPU reference run failed (log: $logs/demo-cpu.log)"; could_not=1
    fi
  else
    failed demo "the $device run failed (log: $logs/demo-device.log)"; could_not=1
  fi
fi

# ---- summary -------------------------------------------------------------------------------------------
finish
