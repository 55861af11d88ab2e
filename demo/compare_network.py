#!/usr/bin/env python3
"""Every planted edge of the network demo beside Deep MR's estimate (docs/validation.md, "The network
demo").

Reads a store of `deepmr run --config configs/demo_network.ini` and the simulator's edges
(demo/network/data/edges.tsv: TF -> TF edges, and each TF's direct effect on DNase and on the
H3K27ac-like mark) and prints one row per (exposure, outcome) pair of the store: the planted value
(empty where nothing is planted: a null edge), the pooled estimate of the store's first MR method
with its 95% interval, the pooled direction test and the reverse pair's estimate, and a verdict:
  sign ok     |planted| >= 0.1 and the estimate has its sign (MISSED otherwise)
  covers 0    a null edge whose interval covers 0 (excludes 0 otherwise)
A TF -> outcome value is the direct effect; a TF with a planted TF -> TF edge also acts through its
child (FOXA1 -> HNF4A -> outcome adds 0.30 gamma_HNF4A; REST -> CEBPB -> outcome is negative).
Exit status 0 when every clearly non-zero edge has its sign, 1 otherwise.

Usage: /usr/bin/python3 demo/compare_network.py STORE [--edges demo/network/data/edges.tsv] [--format tsv|json]
"""
import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "analysis"))
from deepmr_store import STATUS, Store  # noqa: E402

CLEARLY_NONZERO = 0.1


def read_edges(path):
    """{(exposure, outcome): planted value}."""
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
    return {(r["exposure"], r["outcome"]): float(r["planted"]) for r in rows}


def compare(store_path, edges_path):
    edges = read_edges(edges_path)
    rows = []
    with Store(store_path) as store:
        method = store.methods[0]
        meta, direction = store.meta_pairs(method), store.direction_pairs()
        for e, exposure in enumerate(store.exposures):
            for o, outcome in enumerate(store.outcomes):
                if store.self_pair(e, o):
                    continue
                r = e * len(store.outcomes) + o
                estimate, low, high = (float(meta[c][r]) for c in ("estimate", "ci_low", "ci_high"))
                planted = edges.get((exposure, outcome))
                ok = meta["status"][r] == STATUS["ok"] and math.isfinite(estimate)
                covers = ok and low <= 0 <= high
                if planted is not None and abs(planted) >= CLEARLY_NONZERO:
                    verdict = "sign ok" if ok and estimate * planted > 0 else "MISSED"
                elif planted is None or planted == 0:
                    verdict = "covers 0" if covers else "excludes 0"
                else:
                    verdict = ""
                reverse = None
                if outcome in store.exposures and exposure in store.outcomes:
                    reverse = float(meta["estimate"][store.exposures.index(outcome) * len(store.outcomes)
                                                     + store.outcomes.index(exposure)])
                rows.append({"exposure": exposure, "outcome": outcome, "method": method, "planted": planted,
                             "estimate": estimate, "ci_low": low, "ci_high": high,
                             "direction": float(direction["estimate"][r]), "direction_pvalue": float(direction["pvalue"][r]),
                             "reverse_estimate": reverse, "verdict": verdict})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store")
    parser.add_argument("--edges", default=os.path.join(HERE, "network", "data", "edges.tsv"))
    parser.add_argument("--format", choices=["tsv", "json"], default="tsv")
    args = parser.parse_args(argv)
    rows = compare(args.store, args.edges)
    if args.format == "json":
        print(json.dumps(rows, indent=1))
    else:
        columns = list(rows[0])
        print("\t".join(columns))
        for row in rows:
            print("\t".join("" if row[c] is None else ("%.4g" % row[c] if isinstance(row[c], float) else str(row[c]))
                            for c in columns))
    return 1 if any(row["verdict"] == "MISSED" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
