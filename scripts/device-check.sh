#!/usr/bin/env bash
# GPU check of the mutagenesis engines (docs/performance.md, "GPU check").
#
# On a machine with an NVIDIA GPU and a CUDA build of LibTorch: builds the compute core and a small
# driver (benchmarks/ism/device) against that LibTorch, then, on the DeepSEA architecture (random
# weights, L = 1000, N = 2, two outputs, one window):
#   1. runs the CPU incremental engine (deterministic kernels; equal to the full engine to 1e-6) as
#      the reference;
#   2. runs the incremental and the full engine through LibTorch on the GPU, same window and masks;
#   3. prints, naming the card, both engines' mutant evaluations per second on the GPU and their
#      largest differences of beta and se from the CPU reference.
# Needs cmake >= 3.18, a C++17 compiler with OpenMP, LibTorch with CUDA (Torch_DIR, else the one in
# pip's torch: python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') and the CUDA toolkit
# LibTorch's CMake files look for. Not needed: MPI, HDF5, Boost, GoogleTest.
#
# Usage: scripts/device-check.sh [--cpu] [--samples N] [BUILD_DIR]
#   --cpu   dry run without a GPU: the torch path on the CPU (checks the script and the build; the
#           full engine then runs on the first 20 positions only, LibTorch's CPU operators being slow)
# Exit status 0 when every difference is within 1e-6 (the engines' contract), 1 otherwise, 2 when
# the check could not run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device=cuda
samples=2
full_positions=1000
build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) device=cpu; full_positions=20 ;;
    --samples) samples="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) build="$1" ;;
  esac
  shift
done
build="${build:-$root/build-device}"
python="${PYTHON:-python3}"

say() { printf '== %s\n' "$*"; }

if [ "$device" = cuda ]; then
  if ! command -v nvidia-smi > /dev/null; then
    echo "device-check: nvidia-smi not found: no NVIDIA GPU here (use --cpu for a dry run)" >&2
    exit 2
  fi
  say "GPU"
  nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader
fi

if [ -z "${Torch_DIR:-}" ]; then
  if prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2> /dev/null)"; then
    export Torch_DIR="$prefix/Torch"
  fi
fi
say "LibTorch: ${Torch_DIR:-found by CMake}"
if [ "$device" = cuda ] && ! "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
  echo "device-check: note: the python torch sees no CUDA GPU; the C++ check decides" >&2
fi

say "build ($build)"
cmake -S "$root/benchmarks/ism/device" -B "$build" -DCMAKE_BUILD_TYPE=Release ${Torch_DIR:+-DTorch_DIR="$Torch_DIR"} > "$build.configure.log" 2>&1 ||
  { tail -30 "$build.configure.log" >&2; echo "device-check: configuring failed (log: $build.configure.log)" >&2; exit 2; }
cmake --build "$build" -j "$(nproc)" > "$build.build.log" 2>&1 ||
  { tail -30 "$build.build.log" >&2; echo "device-check: building failed (log: $build.build.log)" >&2; exit 2; }

say "DeepSEA architecture, random weights, L = 1000, N = $samples, outputs 0 and 1"
result="$build/device-check.tsv"
"$build/device_check" --device "$device" --samples "$samples" --threads "$(nproc)" --full-positions "$full_positions" |
  tee "$result"

# Columns 7 and 8: largest |beta - beta_cpu| and |se - se_cpu|.
if awk -F'\t' 'NR > 1 && $1 !~ /^#/ { if ($7 + 0 > 1e-6 || $8 + 0 > 1e-6) bad = 1 } END { exit bad }' "$result"; then
  say "PASS: every engine on $device within 1e-6 of the CPU reference"
else
  say "FAIL: a difference exceeds 1e-6 (see $result)"
  exit 1
fi
