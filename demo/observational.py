#!/usr/bin/env python3
"""The naive, observational answer Deep MR is compared with (docs/validation.md): across windows,
regress the accessibility signal (DNase) on the binding signals (ChIP of the 8 TFs) by least squares
with an intercept (95% intervals from the usual standard errors). The unobserved confounder U raises
binding and accessibility alike, and the tract's direct effect rides along with GABPA's binding, so
these coefficients are biased where Deep MR's need not be; adding U and the tract occupancy m_P as
covariates (which only the simulator knows) removes the bias, up to clipping.

Reads demo/work/train.npz (60,000 windows; demo/simulate.py writes it) when present, else the
shipped demo/data/windows.tsv (the 1,000 windows of chrsim).

Usage: /usr/bin/python3 demo/observational.py [--windows FILE]
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from simulate import PARAMETERS, TFS  # noqa: E402


def load(path):
    """(ChIP signals n x 8, DNase signal, U, tract occupancy m_P)."""
    if path.endswith(".npz"):
        d = np.load(path)
        x, y = d["x"].astype(float), d["y"].astype(float)
        gamma = np.array([t[3] for t in TFS])
        tract = (y - PARAMETERS["baseline_accessibility"] - x @ gamma) / PARAMETERS["direct_tract_effect"]
        return d["pb"].astype(float), d["pa"].astype(float), d["u"].astype(float), tract
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in f]
    column = {name: i for i, name in enumerate(header)}
    chip = np.array([[float(r[column["ChIP_" + t[0]]]) for t in TFS] for r in rows])
    dnase = np.array([float(r[column["DNase"]]) for r in rows])
    u = np.array([float(r[column["U"]]) for r in rows])
    tract = np.array([float(r[column["m_P"]]) for r in rows])
    return chip, dnase, u, tract


def regress(y, covariates):
    x = np.column_stack([np.ones(len(y))] + covariates)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    sigma2 = residual @ residual / (len(y) - x.shape[1])
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(x.T @ x)))
    return coef[1:], se[1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.path.join(HERE, "work", "train.npz")
    if not os.path.exists(default):
        default = os.path.join(HERE, "data", "windows.tsv")
    parser.add_argument("--windows", default=default)
    args = parser.parse_args(argv)
    chip, dnase, u, tract = load(args.windows)
    naive, naive_se = regress(dnase, [chip])
    adjusted, adjusted_se = regress(dnase, [chip, u, tract])
    print(f"# {len(dnase)} windows from {os.path.relpath(args.windows)}: least squares of the DNase signal on the ChIP signals")
    print("tf\tplanted\tobservational\tci_low\tci_high\tadjusted_for_U_and_m_P\tci_low\tci_high")
    for k, (name, _, _, gamma) in enumerate(TFS):
        print(f"{name}\t{gamma}\t{naive[k]:.3f}\t{naive[k] - 1.96 * naive_se[k]:.3f}\t{naive[k] + 1.96 * naive_se[k]:.3f}\t"
              f"{adjusted[k]:.3f}\t{adjusted[k] - 1.96 * adjusted_se[k]:.3f}\t{adjusted[k] + 1.96 * adjusted_se[k]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
