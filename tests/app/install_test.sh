#!/usr/bin/env bash
# `cmake --install BUILD --prefix P` gives a working deepmr: P/bin/deepmr runs from anywhere, and
# the installed Python package reads the schema it was installed with.
# Usage: install_test.sh BUILD_DIR PYTHON
set -eu
build=${1:?usage: install_test.sh BUILD_DIR PYTHON}
python=${2:?usage: install_test.sh BUILD_DIR PYTHON}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cd "$prefix"  # nothing of the source or build tree on the way
"$prefix/bin/deepmr" --version | grep -q '^deepmr ' || { echo "installed deepmr --version failed"; exit 1; }
printf 'bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.02\n0.2\t0.01\t0.41\t0.02\n0.3\t0.02\t0.59\t0.03\n0.4\t0.02\t0.8\t0.03\n' > effects.tsv
"$prefix/bin/deepmr" mr --input effects.tsv --methods ivw | grep -q '^ivw' || { echo "installed deepmr mr failed"; exit 1; }
"$python" - "$prefix/share/deepmr/analysis" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import deepmr_store
assert deepmr_store.FORMAT == "deepmr-store", deepmr_store.FORMAT
assert "estimate" in deepmr_store.FIT_COLUMNS
PY
"$python" "$prefix/share/deepmr/analysis/report.py" --help >/dev/null
for f in bin/deepmr share/deepmr/scripts/export_model.py share/deepmr/configs/demo.ini share/doc/deepmr/README.md \
         share/doc/deepmr/store.md; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
echo "install: $prefix/bin/deepmr and the Python package work"
