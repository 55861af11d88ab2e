#!/usr/bin/env python3
"""Compares two deepmr stores bit for bit with h5py (analysis/deepmr_store), independently of deepmr.

Usage: compare_stores.py A.h5 B.h5
Every dataset and root attribute must be identical, except what records where and when a run
happened: timing and rank columns, start/finish times, attempts, and the config file's own text
and path (the runs under comparison may differ in their store paths). Exit 0 when equal, 1 with
the differences listed otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis"))
from deepmr_store import differences  # noqa: E402

IGNORED_DATASETS = {"units/rank", "units/seconds", "regions/rank", "regions/seconds_ism", "regions/seconds_mr"}
IGNORED_ATTRIBUTES = {"started", "finished", "attempts", "ranks", "main_loop_seconds", "config", "config_path"}


def main():
    problems, datasets, attributes = differences(sys.argv[1], sys.argv[2], IGNORED_DATASETS, IGNORED_ATTRIBUTES)
    if problems:
        print("\n".join(problems))
        return 1
    print(f"identical: {datasets} datasets, {attributes} attributes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
