#!/usr/bin/env python3
"""Exports the graph models of the incremental-graph benchmark (docs/performance.md, "Incremental
graphs (issue 16)"): a BPNet-like model at fastISM's setting (64 channels, 9 dilated residual
layers, 1000 bp) and a Basset-sized Basset-like model (300/200/200 filters of width 19/11/7, max
pools 3/4/4, two hidden layers of 1000, 164 sigmoid outputs, 600 bp), both TorchScript modules that
are not nn.Sequentials (read as graphs). Random weights (seed 16).

usage: export_graph_models.py OUT_DIR
"""
import os
import sys

import torch
from torch import nn
from typing import Tuple
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "model"))
from make_fixtures import BPNetLike  # noqa: E402


class BPNetLarge(BPNetLike):
    deepmr_input_length: int

    def __init__(self):
        super().__init__(channels=64, layers=9)
        self.deepmr_input_length = 1000


class BassetLarge(nn.Module):
    deepmr_input_length: int

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(4, 300, 19, padding=9), nn.BatchNorm1d(300), nn.ReLU(), nn.MaxPool1d(3),
            nn.Conv1d(300, 200, 11, padding=5), nn.BatchNorm1d(200), nn.ReLU(), nn.MaxPool1d(4),
            nn.Conv1d(200, 200, 7, padding=3), nn.BatchNorm1d(200), nn.ReLU(), nn.MaxPool1d(4))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(200 * 12, 1000), nn.ReLU(), nn.Dropout(0.3), nn.Linear(1000, 1000), nn.ReLU(),
            nn.Dropout(0.3), nn.Linear(1000, 164), nn.Sigmoid())
        self.deepmr_input_length = 600

    def forward(self, x):
        return self.head(self.body(x))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(16)
    for name, module in (("bpnet_large", BPNetLarge()), ("basset_large", BassetLarge())):
        module.eval()
        torch.jit.script(module).save(os.path.join(out, name + ".pt"))
        print(os.path.join(out, name + ".pt"))


if __name__ == "__main__":
    main()
