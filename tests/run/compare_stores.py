#!/usr/bin/env python3
"""Compares two deepmr stores bit for bit, with h5py, as an independent reader.

Usage: compare_stores.py A.h5 B.h5
Every dataset and root attribute must be identical, except what records where and when a run
happened: timing and rank columns, start/finish times, attempts, and the config file's own text
and path (the runs under comparison may differ in their store paths). Exit 0 when equal, 1 with
the differences listed otherwise.
"""
import sys

import h5py
import numpy as np

IGNORED_DATASETS = {"units/rank", "units/seconds", "regions/rank", "regions/seconds_ism", "regions/seconds_mr"}
IGNORED_ATTRIBUTES = {"started", "finished", "attempts", "ranks", "main_loop_seconds", "config", "config_path"}


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def main():
    a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
    problems = []
    da, db = datasets(a), datasets(b)
    for name in sorted(set(da) | set(db)):
        if name in IGNORED_DATASETS:
            continue
        if name not in da or name not in db:
            problems.append(f"dataset {name} only in {'first' if name in da else 'second'}")
        elif not same(da[name][()], db[name][()]):
            problems.append(f"dataset {name} differs")
    for key in sorted(set(a.attrs) | set(b.attrs)):
        if key in IGNORED_ATTRIBUTES:
            continue
        if key not in a.attrs or key not in b.attrs:
            problems.append(f"attribute {key} only in {'first' if key in a.attrs else 'second'}")
        elif not same(a.attrs[key], b.attrs[key]):
            problems.append(f"attribute {key} differs: {a.attrs[key]!r} vs {b.attrs[key]!r}")
    checked = len(set(da) - IGNORED_DATASETS)
    if problems:
        print("\n".join(problems))
        return 1
    print(f"identical: {checked} datasets, {len(set(a.attrs) - IGNORED_ATTRIBUTES)} attributes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
