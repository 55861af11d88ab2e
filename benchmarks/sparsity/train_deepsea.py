#!/usr/bin/env python3
"""Trains a DeepSEA-architecture model briefly on the demo's simulated genome, for the sparsity
measurements of docs/performance.md ("Exact sparsity in trained models").

Random weights hide the sparsity a trained network has: after training, most thresholded channels
sit at their floor for most windows and a substitution changes few pooled values. This script
gives the incremental engine a DeepSEA-shaped model whose activations look trained: Kipoi
DeepSEA's layer stack (scripts/export_model.py deepsea_layers: conv 320/480/960 of width 8,
Threshold, max pooling 4, dropout 0.2/0.2/0.5, Linear 50880 -> 925 -> outputs), L = 1000, AGCT,
strand-averaged, but 9 outputs (the demo's 8 ChIP tracks and DNase) instead of 919. Inputs are
1,000 bp around each 200 bp window of demo/data/windows.tsv (the simulated genome
demo/data/genome.fa), targets the simulated assays' signal (ChIP_*, DNase), both strands.

Usage: /usr/bin/python3 benchmarks/sparsity/train_deepsea.py --out FILE.pt [--steps 150]
       [--batch 32] [--threads 1] [--seed 1]
Writes the TorchScript model (scripts/export_model.py's wrap) and FILE.json (loss per step).
Needs Debian's python3-torch and python3-numpy. About 10 minutes for 150 steps on one core here.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from export_model import deepsea_layers, wrap  # noqa: E402

LENGTH = 1000
ALPHABET = "AGCT"


def read_fasta(path):
    with open(path) as f:
        return "".join(line.strip() for line in f if not line.startswith(">")).upper()


def windows(path):
    """(start, end, signal targets) of each window, in file order."""
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        columns = [i for i, name in enumerate(header) if name.startswith("ChIP_")] + [header.index("DNase")]
        names = [header[i].replace("ChIP_", "") for i in columns]
        rows = [line.rstrip("\n").split("\t") for line in f]
    return names, [(int(r[1]), int(r[2]), [float(r[i]) for i in columns]) for r in rows]


def one_hot(sequence):
    codes = np.frombuffer(sequence.encode(), dtype=np.uint8)
    x = np.zeros((4, len(sequence)), dtype=np.float32)
    for channel, base in enumerate(ALPHABET):
        x[channel, codes == ord(base)] = 1
    return x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    genome = read_fasta(os.path.join(ROOT, "demo", "data", "genome.fa"))
    names, rows = windows(os.path.join(ROOT, "demo", "data", "windows.tsv"))
    xs, ys = [], []
    for start, end, targets in rows:
        centre = (start + end) // 2
        first = centre - LENGTH // 2
        if first < 0 or first + LENGTH > len(genome):
            continue
        forward = one_hot(genome[first:first + LENGTH])
        xs += [forward, forward[::-1, ::-1].copy()]  # AGCT: complement = reverse the channel order
        ys += [targets, targets]
    x = torch.from_numpy(np.stack(xs))[:, :, None, :]  # N x 4 x 1 x L (DeepSEA's Conv2d layout)
    y = torch.tensor(ys, dtype=torch.float32)

    layers = list(deepsea_layers().children())
    layers[-2] = nn.Linear(925, len(names))
    net = nn.Sequential(*layers)
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    loss_fn = nn.BCELoss()
    history = []
    start = time.time()
    net.train()
    for step in range(args.steps):
        batch = torch.from_numpy(rng.choice(len(x), args.batch, replace=False))
        optimiser.zero_grad()
        loss = loss_fn(net(x[batch]), y[batch])
        loss.backward()
        optimiser.step()
        history.append({"step": step, "loss": float(loss), "seconds": round(time.time() - start, 1)})
        if step % 10 == 0:
            print(f"step {step} loss {float(loss):.4f} ({time.time() - start:.0f} s)", flush=True)
    scripted = wrap(net, ALPHABET, True, LENGTH, names)
    scripted.save(args.out)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"architecture": "DeepSEA layers, Linear(925, %d) head" % len(names), "targets": names,
                   "examples": len(x), "settings": vars(args), "torch": torch.__version__, "history": history},
                  f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
