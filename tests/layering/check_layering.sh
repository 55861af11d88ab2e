#!/usr/bin/env bash
# Fails when a compute-core layer (genome, model, ism, stats) includes an MPI or HDF5 header, or
# a header of a layer above it (store, dist, app).
set -u
root=${1:?usage: check_layering.sh SOURCE_DIR}
status=0
for layer in genome model ism stats; do
  for dir in "$root/include/deepmr/$layer" "$root/src/$layer"; do
    [ -d "$dir" ] || continue
    hits=$(grep -rnE '#include *[<"](mpi\.h|hdf5\.h|H5[A-Za-z]*\.h|nccl\.h|deepmr/(store|dist|app)/)' "$dir" || true)
    if [ -n "$hits" ]; then
      echo "layering: the $layer layer must not include MPI, HDF5, NCCL or upper layers:"
      echo "$hits"
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo "layering: compute core is free of MPI, HDF5 and upper layers"
exit $status
