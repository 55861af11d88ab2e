#!/usr/bin/env python3
"""Coverage of Deep MR's intervals against the simulator's truth (issue 18 item 3; docs/validation.md).

For every number of Monte Carlo samples N (default 10, 50, 200) and every seed (default 1..6), runs
configs/demo.ini under mpirun with `analysis.seed = SEED` (other regions and other masks) and
`analysis.mc-samples = N`, then for every estimable MR-Egger unit asks whether its 95% interval
covers the truth slope: MR-Egger fitted to the simulator's exact x_k and y of the same mutants, on
the same instruments (|bx / bxse| >= min-abs-z-x) with the same weights (1 / byse^2 of the model), as
demo/truth_check.py computes it. Both the standard interval (ci_low, ci_high) and the jackknife one
(ci_low_jackknife, ci_high_jackknife: the masks shared by all mutants and both outputs accounted
for) are scored. Per (N, seed, TF) the random-effects meta-analysis (`deepmr meta`, DerSimonian-Laird)
of the regions' estimates, weighted by either SE, is scored against the planted gamma.

Writes to OUT: units.tsv (one row per unit and N), coverage.tsv (per-region coverage by N and SE),
meta.tsv (one row per N, seed, TF and SE), meta_coverage.tsv, calibration.png (empirical against
nominal coverage at levels 0.50-0.99, from |estimate - truth| / se) and prints the two coverage tables.
Existing stores in OUT are reused (rerun with --fresh to recompute).

Usage (from anywhere; the runs take a few minutes on 2 cores):
  /usr/bin/python3 demo/coverage_study.py --out out/coverage [--samples 10,50,200] [--seeds 1-6]
      [--per-exposure 20] [--ranks 3] [--deepmr build/bin/deepmr]
"""
import argparse
import csv
import io
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "analysis"))
import simulate  # noqa: E402
import truth_check  # noqa: E402
from deepmr_store import STATUS, Store  # noqa: E402

MPIRUN = ["mpirun", "-q", "--oversubscribe", "--allow-run-as-root"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
METHOD = "egger"
Z95 = 1.959963984540054
SES = (("standard", "se", "ci_low", "ci_high"),
       ("jackknife", "se_jackknife", "ci_low_jackknife", "ci_high_jackknife"))


def seeds_of(text):
    if "-" in text:
        first, last = (int(v) for v in text.split("-"))
        return list(range(first, last + 1))
    return [int(v) for v in text.split(",")]


def run_store(args, samples, seed):
    """The store of one (N, seed) run, computed unless OUT already holds it."""
    store = os.path.abspath(os.path.join(args.out, "stores", "n%d_seed%d.h5" % (samples, seed)))
    if os.path.exists(store) and not args.fresh:
        return store
    os.makedirs(os.path.dirname(store), exist_ok=True)
    command = MPIRUN + ["-n", str(args.ranks), args.deepmr, "run", "--config", "configs/demo.ini",
                        "--analysis.seed", str(seed), "--analysis.mc-samples", str(samples),
                        "--regions.per-exposure", str(args.per_exposure),
                        "--run.store", store, "--run.store-effects", "true", "--run.threads", "1"]
    print("coverage_study.py: N = %d, seed %d ..." % (samples, seed), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=SOURCE, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("coverage_study.py: the run for N = %d, seed %d failed (exit %d):\n%s"
                 % (samples, seed, result.returncode, result.stderr))
    return store


class Truth:
    """The simulator's exact (x_k, y) differences of every mutant of a window, cached by window."""

    def __init__(self):
        self.sim = truth_check.simulator()
        self.cache = {}

    def differences(self, sequence, tf):
        if sequence not in self.cache:
            self.cache[sequence] = self.sim.truth(truth_check.mutants(sequence))
        truth = self.cache[sequence]
        k = [t[0] for t in simulate.TFS].index(tf)
        return truth["x"][1:, k] - truth["x"][0, k], truth["y"][1:] - truth["y"][0]


def unit_rows(store_path, samples, seed, truth):
    rows = []
    with Store(store_path) as store:
        fits = store.fits(METHOD)
        z = store.min_abs_z_x()
        for u in store.estimable_units(METHOD):
            tf, region = store.exposures[store.unit_exposure[u]], int(store.unit_region[u])
            bx, bxse, by, byse, _ = store.effects(u)
            keep = (byse > 0) & (bxse > 0) & (np.abs(bx) >= z * bxse)
            if keep.sum() < 3:
                continue
            true_bx, true_by = truth.differences(store.sequence(region), tf)
            truth_slope, _ = truth_check.egger(true_bx[keep], true_by[keep], byse[keep])
            row = {"samples": samples, "seed": seed, "tf": tf, "region": region, "unit": int(u),
                   "instruments": int(keep.sum()), "estimate": float(fits["estimate"][u]),
                   "truth_slope": float(truth_slope)}
            for name, se, low, high in SES:
                row[se] = float(fits[se][u])
                row[low], row[high] = float(fits[low][u]), float(fits[high][u])
                row["covers_" + name] = int(row[low] <= truth_slope <= row[high])
            rows.append(row)
    return rows


def meta_rows(args, units, planted):
    """deepmr meta (DL) per (N, seed, TF) for each SE, scored against the planted gamma."""
    out = []
    for samples in sorted({r["samples"] for r in units}):
        for seed in sorted({r["seed"] for r in units}):
            chosen = [r for r in units if r["samples"] == samples and r["seed"] == seed]
            for name, se, _, _ in SES:
                text = "tf\testimate\tse\n" + "".join(
                    "%s\t%.17g\t%.17g\n" % (r["tf"], r["estimate"], r[se]) for r in chosen
                    if np.isfinite(r[se]) and r[se] > 0)
                path = os.path.join(args.out, "meta_input.tsv")
                with open(path, "w") as f:
                    f.write(text)
                result = subprocess.run([args.deepmr, "meta", "--input", path, "--group", "tf"],
                                        capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit("coverage_study.py: deepmr meta failed: " + result.stderr.strip())
                for m in csv.DictReader(io.StringIO(result.stdout), delimiter="\t"):
                    if not m["ci_low"]:
                        continue
                    gamma = planted[m["group"]]
                    out.append({"samples": samples, "seed": seed, "tf": m["group"], "se_type": name,
                                "k": int(m["k"]), "estimate": float(m["estimate"]), "ci_low": float(m["ci_low"]),
                                "ci_high": float(m["ci_high"]), "tau2": float(m["tau2"]), "planted": gamma,
                                "covers": int(float(m["ci_low"]) <= gamma <= float(m["ci_high"]))})
    return out


def write_tsv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("%.17g" % v if isinstance(v, float) else v) for k, v in row.items()})


def binomial_interval(covered, total):
    """Wilson's 95% interval of a proportion."""
    if total == 0:
        return float("nan"), float("nan")
    p, z2 = covered / total, Z95 ** 2
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = Z95 * np.sqrt(p * (1 - p) / total + z2 / (4 * total ** 2)) / (1 + z2 / total)
    return centre - half, centre + half


def coverage_tables(units, metas):
    region, meta = [], []
    for samples in sorted({r["samples"] for r in units}):
        of_n = [r for r in units if r["samples"] == samples]
        for name, se, _, _ in SES:
            usable = [r for r in of_n if np.isfinite(r[se])]
            covered = sum(r["covers_" + name] for r in usable)
            low, high = binomial_interval(covered, len(usable))
            ratio = np.median([abs(r["estimate"] - r["truth_slope"]) / r[se] for r in usable if r[se] > 0])
            region.append({"samples": samples, "se_type": name, "units": len(usable), "covered": covered,
                           "coverage": covered / max(1, len(usable)), "coverage_ci_low": low,
                           "coverage_ci_high": high, "median_abs_z": float(ratio),
                           "median_se": float(np.median([r[se] for r in usable]))})
            chosen = [m for m in metas if m["samples"] == samples and m["se_type"] == name]
            for scope, rows in (("all", chosen), ("without GABPA", [m for m in chosen if m["tf"] != "GABPA"])):
                covered = sum(m["covers"] for m in rows)
                low, high = binomial_interval(covered, len(rows))
                meta.append({"samples": samples, "se_type": name, "tfs": scope, "intervals": len(rows),
                             "covered": covered, "coverage": covered / max(1, len(rows)),
                             "coverage_ci_low": low, "coverage_ci_high": high})
    return region, meta


def calibration_plot(units, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from statistics import NormalDist
    levels = np.linspace(0.5, 0.99, 50)
    quantiles = np.array([NormalDist().inv_cdf(0.5 + level / 2) for level in levels])
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharey=True)
    colours = {10: "#1b9e77", 50: "#d95f02", 200: "#7570b3"}
    for axis, (name, se, _, _) in zip(axes, SES):
        for samples in sorted({r["samples"] for r in units}):
            rows = [r for r in units if r["samples"] == samples and np.isfinite(r[se]) and r[se] > 0]
            z = np.array([abs(r["estimate"] - r["truth_slope"]) / r[se] for r in rows])
            axis.plot(levels, [(z <= q).mean() for q in quantiles], color=colours.get(samples), lw=2,
                      label="N = %d (%d regions)" % (samples, len(rows)))
        axis.plot([0.5, 1], [0.5, 1], color="grey", ls="--", lw=1, label="calibrated")
        axis.set_title("%s SE" % name)
        axis.set_xlabel("nominal coverage")
        axis.set_xlim(0.5, 1)
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of per-region MR-Egger intervals\ncovering the truth slope")
    axes[1].legend(loc="lower right", fontsize=8)
    figure.suptitle("Deep MR on the demo: calibration of per-region intervals against the simulator's truth",
                    fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_table(rows, out):
    out.write("\t".join(rows[0].keys()) + "\n")
    for row in rows:
        out.write("\t".join("%.3f" % v if isinstance(v, float) else str(v) for v in row.values()) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--samples", default="10,50,200")
    parser.add_argument("--seeds", default="1-6")
    parser.add_argument("--per-exposure", type=int, default=20)
    parser.add_argument("--ranks", type=int, default=3)
    parser.add_argument("--deepmr", default=os.path.join(SOURCE, "build", "bin", "deepmr"))
    parser.add_argument("--fresh", action="store_true", help="recompute stores already in OUT")
    args = parser.parse_args()
    args.deepmr = os.path.abspath(args.deepmr)
    os.makedirs(args.out, exist_ok=True)
    truth = Truth()
    units = []
    for samples in (int(v) for v in args.samples.split(",")):
        for seed in seeds_of(args.seeds):
            units += unit_rows(run_store(args, samples, seed), samples, seed, truth)
    if not units:
        sys.exit("coverage_study.py: no estimable unit")
    planted = {t[0]: t[3] for t in simulate.TFS}
    metas = meta_rows(args, units, planted)
    region, meta = coverage_tables(units, metas)
    write_tsv(os.path.join(args.out, "units.tsv"), units)
    write_tsv(os.path.join(args.out, "meta.tsv"), metas)
    write_tsv(os.path.join(args.out, "coverage.tsv"), region)
    write_tsv(os.path.join(args.out, "meta_coverage.tsv"), meta)
    calibration_plot(units, os.path.join(args.out, "calibration.png"))
    print("# per-region MR-Egger 95%% intervals covering the truth slope (%d region fits)" % len(units))
    print_table(region, sys.stdout)
    print("# per-TF meta-analysis 95% intervals (DL) covering the planted gamma")
    print_table(meta, sys.stdout)


if __name__ == "__main__":
    main()
