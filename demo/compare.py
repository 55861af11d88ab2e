#!/usr/bin/env python3
"""Planted effect beside Deep MR's estimate, per TF, from a demo store (docs/validation.md).

Reads a store written by `deepmr run --config configs/demo.ini` (h5py) and the planted effects
(demo/data/planted.tsv) and prints one row per TF: its role, the planted gamma, the meta-analysed
estimate of the store's first MR method with its 95% interval and tau, whether the sign agrees, the
Egger intercepts pooled over the TF's regions (DerSimonian-Laird, by `deepmr meta`) with their z
score, and how many regions' intercepts have p < 0.05. The verdict column says what the demo expects:
  sign ok          |gamma| >= 0.1 and the estimate has gamma's sign
  covers 0         gamma = 0 and the interval covers 0
and "MISSED" where that fails; for the pleiotropic TF it also says whether its pooled intercept
flags it (|z| >= 1.96; docs/validation.md says why it does not). Exit status 0 when every sign and
null expectation holds, 1 otherwise.

Usage: /usr/bin/python3 demo/compare.py STORE [--planted demo/data/planted.tsv] [--format tsv|json|text]
                                              [--deepmr build/bin/deepmr]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "analysis"))
from deepmr_store import STATUS, Store  # noqa: E402

DEEPMR = os.path.join(os.path.dirname(HERE), "build", "bin", "deepmr")
CLEARLY_NONZERO = 0.1


def read_planted(path):
    rows = {}
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            values = dict(zip(header, line.rstrip("\n").split("\t")))
            rows[values["tf"]] = {"role": values["role"], "gamma": float(values["gamma"])}
    return rows


def pooled_by_deepmr_meta(deepmr, groups):
    """{name: (estimate, se)}: one DerSimonian-Laird meta-analysis per group of (estimates, ses), by
    `deepmr meta --group` (the stats layer's, the same as the store's meta-analyses)."""
    if not groups:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".tsv") as table:
        table.write("group\testimate\tse\n")
        for name, (estimates, ses) in groups.items():
            for estimate, se in zip(estimates, ses):
                table.write("%s\t%r\t%r\n" % (name, float(estimate), float(se)))
        table.flush()
        result = subprocess.run([deepmr, "meta", "--input", table.name, "--group", "group", "--format", "json"],
                                capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("compare.py: %s meta failed: %s" % (deepmr, result.stderr.strip()))
    return {row["group"]: (row["estimate"], row["se"]) for row in json.loads(result.stdout)}


def compare(store, planted, deepmr=DEEPMR):
    with Store(store) as s:
        method = s.methods[0]
        names = s.exposures
        meta = s.meta(method)
        meta_status = meta["status"]
        unit_exposure, unit_status = s.unit_exposure, s.unit_status
        egger = s.fits("egger") if "egger" in s.methods else None
        complete = int(s.attrs["complete"])
    ok = STATUS["ok"]
    # Each TF's units with an Egger fit, and their intercepts pooled in one `deepmr meta` call.
    fitted = {}
    if egger is not None:
        for e, name in enumerate(names):
            use = (unit_exposure == e) & (unit_status == ok) & (egger["status"] == ok)
            if use.any():
                fitted[name] = use
    pooled_intercepts = pooled_by_deepmr_meta(
        deepmr, {name: (egger["intercept"][use], egger["intercept_se"][use]) for name, use in fitted.items()})
    rows = []
    for e, name in enumerate(names):
        truth = planted.get(name)
        row = {"tf": name, "role": truth["role"] if truth else "", "planted": truth["gamma"] if truth else None,
               "method": method, "regions": int(meta["k"][e]) if meta_status[e] == ok else 0}
        for column in ("estimate", "ci_low", "ci_high", "tau", "pvalue"):
            row[column] = float(meta[column][e]) if meta_status[e] == ok else None
        row["sign_agrees"] = None
        if truth and row["estimate"] is not None and truth["gamma"] != 0:
            row["sign_agrees"] = bool(np.sign(row["estimate"]) == np.sign(truth["gamma"]))
        row["intercept"] = row["intercept_se"] = row["intercept_z"] = None
        row["intercept_regions_p05"] = None
        if name in fitted:
            use = fitted[name]
            pooled, pooled_se = pooled_intercepts[name]
            row["intercept"], row["intercept_se"] = pooled, pooled_se
            row["intercept_z"] = pooled / pooled_se
            row["intercept_regions_p05"] = f"{int(np.sum(egger['intercept_pvalue'][use] < 0.05))}/{int(use.sum())}"
        row["verdict"] = verdict(row, truth)
        rows.append(row)
    return rows, complete


def verdict(row, truth):
    if truth is None or row["estimate"] is None:
        return "no estimate"
    parts = []
    gamma = truth["gamma"]
    if abs(gamma) >= CLEARLY_NONZERO:
        parts.append("sign ok" if row["sign_agrees"] else "sign MISSED")
    elif gamma == 0:
        parts.append("covers 0" if row["ci_low"] <= 0 <= row["ci_high"] else "0 MISSED")
    if "pleiotropic" in truth["role"]:
        flagged = row["intercept_z"] is not None and abs(row["intercept_z"]) >= 1.96
        parts.append("intercept flags it" if flagged else "intercept does not flag it (docs/validation.md)")
    return ", ".join(parts)


def passes(row):
    """The claims the demo stands behind: every clearly non-zero sign, and the null's interval covers 0."""
    return "MISSED" not in row["verdict"] and row["verdict"] != "no estimate"


def covers(row):
    if row["estimate"] is None:
        return ""
    return "yes" if row["ci_low"] <= row["planted"] <= row["ci_high"] else "no"


def number(value, digits=3):
    if value is None:
        return ""
    return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.2e}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store")
    parser.add_argument("--planted", default=os.path.join(HERE, "data", "planted.tsv"))
    parser.add_argument("--format", choices=["text", "tsv", "json"], default="text")
    parser.add_argument("--deepmr", default=DEEPMR, help="the deepmr binary (for `deepmr meta`)")
    args = parser.parse_args(argv)
    rows, complete = compare(args.store, read_planted(args.planted), args.deepmr)
    if args.format == "json":
        print(json.dumps(rows, indent=1))
    else:
        columns = ["tf", "role", "planted", "estimate", "ci_low", "ci_high", "covers_planted", "tau", "regions",
                   "intercept", "intercept_z", "intercept_regions_p05", "verdict"]
        table = [columns] + [[r["tf"], r["role"], number(r["planted"], 2), number(r["estimate"]), number(r["ci_low"]),
                              number(r["ci_high"]), covers(r), number(r["tau"]), str(r["regions"]), number(r["intercept"], 4),
                              number(r["intercept_z"], 1), r["intercept_regions_p05"] or "", r["verdict"]]
                             for r in rows]
        if args.format == "tsv":
            print("\n".join("\t".join(line) for line in table))
        else:
            widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
            for line in table:
                print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    if not complete:
        print("compare.py: the store is not complete", file=sys.stderr)
    return 0 if all(passes(r) for r in rows) and complete else 1


if __name__ == "__main__":
    sys.exit(main())
