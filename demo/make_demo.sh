#!/usr/bin/env bash
# Regenerates everything the demo ships from its seeds (docs/simulation.md): the simulated chromosome,
# peaks and truth (demo/data/), the training windows (demo/work/, not committed), the trained demo
# model (demo/model/), the oracle model (demo/oracle/) and the network demo (demo/network/). About
# 20 minutes on 2 cores, most of it
# training. PyTorch on CPU is not bitwise reproducible across machines and thread counts, so a
# retrained demo.pt may differ in the last digits from the shipped one; the simulated data do not.
# Usage: demo/make_demo.sh   (from anywhere; uses /usr/bin/python3 unless DEEPMR_PYTHON is set)
set -euo pipefail
cd "$(dirname "$0")"
python=${DEEPMR_PYTHON:-/usr/bin/python3}
"$python" simulate.py --seed 20240611
"$python" train.py --seed 1 --epochs 20 --threads 2
"$python" make_oracle.py --seed 7
"$python" observational.py
# The network demo (docs/simulation.md, "The network demo"): planted TF -> TF edges and a second outcome.
"$python" simulate.py --seed 20240611 --network --out network
"$python" train.py --seed 1 --epochs 20 --threads 2 --work network/work --out network/model --name demo_network.pt
