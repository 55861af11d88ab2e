#!/usr/bin/env python3
"""Writes the model files of the robustness corpus (tests/data/robustness), with Debian's python3-torch:
  /usr/bin/python3 tests/robustness/make_bad_models.py tests/data/robustness

  nan_exposure.pt   like the tiny test model, but output 2 is NaN for every input (a poisoned bias)
  no_dropout.pt     a valid stack without any dropout layer (MC dropout cannot give SEs)
  dropout_one.pt    a dropout layer with p = 1 (every activation dropped)
  nan_first_conv.pt like the tiny test model, but one weight of its first convolution is NaN: PyTorch
                    gives NaN everywhere (0 x NaN is NaN, ReLU keeps NaN)
  dropout_zero.pt   dropout layers that all have p = 0 (MC dropout would give se = 0 everywhere)
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import export_model  # noqa: E402


def small(dropout=0.2):
    layers = [nn.Conv1d(4, 8, 5), nn.ReLU(), nn.MaxPool1d(3)]
    if dropout is not None:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Conv1d(8, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 16, 5), nn.Sigmoid()]
    return nn.Sequential(*layers)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    targets = ["out%d" % i for i in range(5)]
    poisoned = small()
    with torch.no_grad():
        poisoned[-2].bias[2] = float("nan")
    export_model.wrap(poisoned, "ACGT", False, 60, targets).save(os.path.join(out, "nan_exposure.pt"))
    export_model.wrap(small(dropout=None), "ACGT", False, 60, targets).save(os.path.join(out, "no_dropout.pt"))
    export_model.wrap(small(dropout=1.0), "ACGT", False, 60, targets).save(os.path.join(out, "dropout_one.pt"))
    torch.manual_seed(3)
    nan_conv = small()
    with torch.no_grad():
        nan_conv[0].weight[3, 1, 2] = float("nan")
    export_model.wrap(nan_conv, "ACGT", False, 60, targets).save(os.path.join(out, "nan_first_conv.pt"))
    export_model.wrap(small(dropout=0.0), "ACGT", False, 60, targets).save(os.path.join(out, "dropout_zero.pt"))


if __name__ == "__main__":
    main()
