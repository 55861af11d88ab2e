#!/usr/bin/env python3
"""Deep MR on the simulator's exact truth beside Deep MR on the trained model (docs/validation.md).

For every (TF, region) unit of a demo store written with `store-effects = true`, the same mutants are
scored twice: by the demo model (the store's bx, by under MC dropout) and by the generative model of
demo/simulate.py (Simulator.truth: x_k(s) and y(s) exactly, no noise). Both are fitted by MR-Egger
with the same instruments (|bx / bxse| >= --min-abs-z-x, bx, bxse from the model) and the same
weights (1 / byse^2 from the model). Where the truth gives gamma_k and the model does not, the
difference is what the model learned, not the method; where both miss, it is the method (or the
simulation's design).

Usage: /usr/bin/python3 demo/truth_check.py STORE [--min-abs-z-x 2]
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "analysis"))
import simulate  # noqa: E402
from deepmr_store import STATUS, Store  # noqa: E402


def simulator():
    """The demo's generative model with the thresholds of demo/data/planted.tsv (no re-calibration)."""
    calibration = np.random.default_rng(0).integers(0, 4, (8, 200)).astype(np.uint8)
    sim = simulate.Simulator(20240611, simulate.PARAMETERS, calibration)
    with open(os.path.join(HERE, "data", "planted.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        thresholds = {row[0]: float(row[header.index("threshold_nats")])
                      for row in (line.rstrip("\n").split("\t") for line in f)}
    for pwm in sim.pwms:
        pwm.threshold = thresholds[pwm.name]
    return sim


def mutants(sequence):
    """The reference and its 3L single-base mutants in the store's column order (A, C, G, T per position)."""
    reference = simulate.encode(sequence)
    rows = [reference]
    for position in range(len(reference)):
        for base in range(4):
            if base != reference[position]:
                mutant = reference.copy()
                mutant[position] = base
                rows.append(mutant)
    return np.vstack(rows).astype(np.uint8)


def egger(bx, by, byse):
    """MR-Egger (orientation bx >= 0, weights 1/byse^2, SEs scaled by max(1, residual SE)):
    (slope, intercept z)."""
    sign = np.where(bx < 0, -1.0, 1.0)
    x, y, w = bx * sign, by * sign, 1.0 / byse ** 2
    design = np.c_[np.ones_like(x), x]
    inverse = np.linalg.inv((design.T * w) @ design)
    coefficients = inverse @ ((design.T * w) @ y)
    residual = y - design @ coefficients
    sigma = max(1.0, np.sqrt((w * residual ** 2).sum() / (len(x) - 2)))
    return coefficients[1], coefficients[0] / (np.sqrt(inverse[0, 0]) * sigma)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store")
    parser.add_argument("--min-abs-z-x", type=float, default=2.0)
    args = parser.parse_args()
    sim = simulator()
    tf_index = {t[0]: k for k, t in enumerate(simulate.TFS)}
    planted = {t[0]: t[3] for t in simulate.TFS}
    with Store(args.store) as store:
        if not store.has("effects"):
            sys.exit("truth_check.py: %s has no effects/ group; run with store-effects = true" % args.store)
        names = store.exposures
        unit_exposure, unit_region, status = store.unit_exposure, store.unit_region, store.unit_status
        bx_all = store.dataset("effects/exposure_beta").astype(float)
        bxse_all = store.dataset("effects/exposure_se").astype(float)
        by_all = store.dataset("effects/outcome_beta").astype(float)
        byse_all = store.dataset("effects/outcome_se").astype(float)
        sequences = store.strings("effects/sequence")
    results = {}
    for u in range(len(unit_exposure)):
        if status[u] != STATUS["ok"]:
            continue
        name, region = names[unit_exposure[u]], unit_region[u]
        truth = sim.truth(mutants(sequences[region]))
        k = tf_index[name]
        true_bx = truth["x"][1:, k] - truth["x"][0, k]
        true_by = truth["y"][1:] - truth["y"][0]
        bx, bxse, by, byse = bx_all[u], bxse_all[u], by_all[region], byse_all[region]
        keep = (byse > 0) & (bxse > 0) & (np.abs(bx) >= args.min_abs_z_x * bxse)
        if keep.sum() < 5:
            continue
        model_slope, model_z = egger(bx[keep], by[keep], byse[keep])
        true_slope, true_z = egger(true_bx[keep], true_by[keep], byse[keep])
        results.setdefault(name, []).append((model_slope, true_slope, model_z, true_z,
                                             np.corrcoef(bx, true_bx)[0, 1], np.corrcoef(by, true_by)[0, 1]))
    print("# Egger per region on the same instruments (|bx/bxse| >= %g) and weights; medians over regions"
          % args.min_abs_z_x)
    print("\t".join(["tf", "planted", "regions", "model_slope", "truth_slope", "model_intercept_z",
                     "truth_intercept_z", "corr_bx_model_truth", "corr_by_model_truth"]))
    for name in sorted(results):
        m = np.median(np.array(results[name]), axis=0)
        print("\t".join([name, "%.2f" % planted[name], str(len(results[name]))] + ["%.3f" % v for v in m]))


if __name__ == "__main__":
    main()
