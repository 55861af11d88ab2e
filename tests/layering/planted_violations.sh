#!/usr/bin/env bash
# Shows that check_layering.sh fails on violations: it runs the check on a copy of the sources with
# one planted violation at a time (an include of an upper layer, dist or the writer in the store's
# reader half, <mpi.h> in the store, a LibTorch header in a public model header, links of the core to
# the store or to MPI) and expects each to be named.
# Usage: planted_violations.sh SOURCE_DIR LINKS_FILE
set -u
root=${1:?usage: planted_violations.sh SOURCE_DIR LINKS_FILE}
links=${2:?usage: planted_violations.sh SOURCE_DIR LINKS_FILE}
check="$root/tests/layering/check_layering.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

fresh_copy() {
  rm -rf "$work/tree" && mkdir -p "$work/tree"
  cp -r "$root/include" "$root/src" "$work/tree/"
  cp "$links" "$work/links.txt"
}

expect_failure() {  # what: the message check_layering.sh must print
  local name=$1 what=$2 out
  out=$("$check" "$work/tree" "$work/links.txt" 2>&1)
  if [ $? -eq 0 ] || ! grep -qF -- "$what" <<<"$out"; then
    echo "planted violation '$name' was not reported as '$what':"
    echo "$out"
    status=1
  else
    echo "planted violation '$name': reported"
  fi
}

fresh_copy
"$check" "$work/tree" "$work/links.txt" >/dev/null || { echo "the unchanged copy fails the check"; exit 1; }

fresh_copy
echo '#include "deepmr/run/run_setup.hpp"' >> "$work/tree/src/stats/egger.cpp"
expect_failure "stats includes run" "the stats layer includes deepmr/run/run_setup.hpp"

fresh_copy
echo '#include "deepmr/dist/communicator.hpp"' >> "$work/tree/src/store/store_reader.cpp"
expect_failure "store reader includes dist" "the store_reader layer includes deepmr/dist/communicator.hpp"

fresh_copy
echo '#include "deepmr/store/store_writer.hpp"' >> "$work/tree/src/store/schema.cpp"
expect_failure "store reader includes the writer" "the store's reader half includes deepmr/store/store_writer.hpp"

fresh_copy
echo '#include <mpi.h>' >> "$work/tree/src/store/store_writer.cpp"
expect_failure "mpi.h in store" "<mpi.h> outside dist"

fresh_copy
echo '#include <ATen/ATen.h>' >> "$work/tree/include/deepmr/model/network.hpp"
expect_failure "ATen in a public model header" "a LibTorch header outside the model layer's sources"

fresh_copy
sed -i 's/^genome: \(.*\)$/genome: \1 store/' "$work/links.txt"
expect_failure "genome links store" "links: genome links the store layer"

fresh_copy
sed -i 's/^stats: \(.*\)$/stats: \1 +mpi/' "$work/links.txt"
expect_failure "stats links MPI" "links: stats links MPI without going through dist"

exit $status
