#!/usr/bin/env bash
# The layer matrix (ARCHITECTURE.md section 2; written here once): each layer includes
# and links only the layers below it, and the libraries that have a layer of their own stay in it:
# <mpi.h> in dist only (others reach MPI through dist's Communicator), HDF5's headers in the store's
# sources only (no public header), LibTorch's in the model's sources only, NCCL and the CUDA runtime
# in dist and app. The store's reader half (target deepmr_store_reader) uses neither dist nor MPI.
#
# Usage: check_layering.sh SOURCE_DIR [LINKS_FILE]   (LINKS_FILE: <build>/layering/links.txt,
# written by CMake: per layer, the layers and +mpi/+hdf5/+torch it links). Exit 1 on a violation.
set -u
root=${1:?usage: check_layering.sh SOURCE_DIR [LINKS_FILE]}
links=${2:-}
status=0

declare -A uses=(
  [common]="common"
  [genome]="common genome"
  [model]="common model"
  [ism]="common genome model ism"
  [stats]="common stats"
  [dist]="common dist"
  [store_reader]="common stats store"
  [store]="common stats dist store"
  [run]="common genome model ism stats dist store run"
  [app]="common genome model ism stats dist store run app"
)
reader_files="effects_reader.hpp effects_reader.cpp hdf5.hpp hdf5.cpp hdf5_version.hpp schema.hpp schema.cpp sequence_file.hpp sequence_file.cpp store_reader.hpp store_reader.cpp"

violation() {
  echo "layering: $1"
  status=1
}

# The layer a file belongs to (store files of the reader half: store_reader).
layer_of() {
  local file=$1 layer=""
  [[ "$file" =~ /(include/deepmr|src)/([a-z_]+)/ ]] && layer=${BASH_REMATCH[2]}
  if [ "$layer" = store ] && [[ " $reader_files " == *" ${file##*/} "* ]]; then layer=store_reader; fi
  echo "$layer"
}

while IFS= read -r file; do
  layer=$(layer_of "$file")
  [ -n "${uses[$layer]+x}" ] || continue
  public=0
  [[ "$file" == *"/include/deepmr/"* ]] && public=1
  while IFS= read -r hit; do
    line=${hit%%:*}
    [[ "$hit" =~ \#include\ *[\<\"]([^\>\"]+)[\>\"] ]] || continue
    header=${BASH_REMATCH[1]}
    where="${file#"$root"/}:$line"
    case "$header" in
      deepmr/*/*)
        used=${header#deepmr/}
        used=${used%%/*}
        [[ " ${uses[$layer]} " == *" $used "* ]] || violation "$where: the $layer layer includes $header (it may use: ${uses[$layer]})"
        if [ "$layer" = store_reader ] && [ "$used" = store ] && [[ " $reader_files " != *" ${header##*/} "* ]]; then
          violation "$where: the store's reader half includes $header (it may use: $reader_files)"
        fi
        ;;
      mpi.h)
        [ "$layer" = dist ] || violation "$where: <mpi.h> outside dist (use dist::Communicator)"
        ;;
      hdf5.h|H5*.h)
        { [ "$public" -eq 0 ] && [[ "$layer" == store* ]]; } || violation "$where: an HDF5 header outside the store layer's sources"
        ;;
      torch/*|ATen/*|c10/*)
        { [ "$public" -eq 0 ] && [ "$layer" = model ]; } || violation "$where: a LibTorch header outside the model layer's sources"
        ;;
      nccl.h|cuda_runtime*.h|cuda.h)
        { [ "$public" -eq 0 ] && { [ "$layer" = dist ] || [ "$layer" = app ]; }; } ||
          violation "$where: a CUDA or NCCL header outside the sources of dist and app"
        ;;
    esac
  done < <(grep -nE '^ *#include *[<"]' "$file")
done < <(find "$root/include/deepmr" "$root/src" -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) | sort)

# Links, as CMake resolved them.
if [ -n "$links" ]; then
  [ -f "$links" ] || { echo "layering: no links file $links (configure the build first)"; exit 1; }
  while IFS= read -r entry; do
    layer=${entry%%:*}
    [ -n "${uses[$layer]+x}" ] || { violation "links: unknown layer '$layer' in $links"; continue; }
    allowed=" ${uses[$layer]} "
    [ "$layer" = store ] && allowed+="store_reader "
    [[ "$layer" == run || "$layer" == app ]] && allowed+="store_reader "
    for linked in ${entry#*:}; do
      case "$linked" in
        +mpi) [[ "$allowed" == *" dist "* ]] || violation "links: $layer links MPI without going through dist" ;;
        +hdf5) [[ "$allowed" == *" store "* || "$layer" == store_reader ]] || violation "links: $layer links HDF5 outside the store layer" ;;
        +torch) [[ "$allowed" == *" model "* ]] || violation "links: $layer links LibTorch without going through model" ;;
        *) [ "$linked" = "$layer" ] || [[ "$allowed" == *" $linked "* ]] ||
             violation "links: $layer links the $linked layer (it may use: ${uses[$layer]})" ;;
      esac
    done
  done < "$links"
fi

[ $status -eq 0 ] && echo "layering: every layer includes${links:+ and links} only the layers below it"
exit $status
