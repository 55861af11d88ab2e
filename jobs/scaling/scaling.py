#!/usr/bin/env python3
"""Strong- and weak-scaling driver for deepmr run (docs/scaling.md).

Runs the same config at several rank counts, repeats each point, reads the main loop's time from
each store (attribute main_loop_seconds: the loop only, not start-up or assembly) and writes a CSV:
mode, ranks, workers, units, repeats, seconds (median), units_per_second, efficiency, seconds_all.

  strong: the same plan at every rank count; efficiency = (t_base x w_base) / (t x w)
  weak:   regions.per-exposure = per_worker x workers; efficiency = t_base / t
  (w: worker ranks, P - 1 for P > 1, since rank 0 coordinates; base: the smallest rank count)

Example (this repository's tiny workload, on one machine):
  /usr/bin/python3 jobs/scaling/scaling.py --config jobs/scaling/scaling_tiny.ini --ranks 2,3 \
      --repeats 3 --mode strong --out scaling-strong.csv
On a cluster give --mpirun "srun --mpi=pmix" (inside an allocation) and a real config.
Needs h5py (Debian's python3-h5py).
"""
import argparse
import csv
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis"))
from deepmr_store import Store  # noqa: E402


def run_point(args, ranks, per_exposure, directory, repeat):
    store = os.path.join(directory, "scaling-p%d-r%d.h5" % (ranks, repeat))
    overrides = ["--run.store", store]
    if per_exposure is not None:
        overrides += ["--regions.per-exposure", str(per_exposure)]
    command = shlex.split(args.mpirun) + ["-n", str(ranks), args.deepmr, "run", "--config", args.config] + overrides
    result = subprocess.run(command, capture_output=True, text=True, cwd=args.workdir)
    if result.returncode != 0:
        sys.exit("scaling.py: %s failed (%d):\n%s" % (" ".join(command), result.returncode, result.stderr))
    with Store(store) as s:
        seconds = float(s.attrs["main_loop_seconds"])
        units = int(s.attrs["units_done"])
    for path in (store, store + ".journal"):
        subprocess.run(["rm", "-rf", path])
    return seconds, units


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="run config (paths relative to --workdir)")
    parser.add_argument("--ranks", default="2,3", help="comma-separated rank counts")
    parser.add_argument("--repeats", type=int, default=3, help="runs per point (the median is reported)")
    parser.add_argument("--mode", choices=["strong", "weak"], default="strong")
    parser.add_argument("--per-worker", type=int, default=10, help="weak: regions per exposure per worker")
    parser.add_argument("--mpirun", default="mpirun -q --oversubscribe --allow-run-as-root", help="launcher")
    parser.add_argument("--deepmr", default=os.path.abspath("build/bin/deepmr"), help="the deepmr binary")
    parser.add_argument("--workdir", default=os.getcwd(), help="directory the config's paths are relative to")
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args()
    ranks = [int(r) for r in args.ranks.split(",")]

    rows = []
    with tempfile.TemporaryDirectory(prefix="deepmr-scaling-") as directory:
        for p in ranks:
            workers = max(1, p - 1)
            per_exposure = args.per_worker * workers if args.mode == "weak" else None
            seconds, units = [], 0
            for repeat in range(args.repeats):
                s, units = run_point(args, p, per_exposure, directory, repeat)
                seconds.append(s)
            median = statistics.median(seconds)
            rows.append({"mode": args.mode, "ranks": p, "workers": workers, "units": units, "repeats": args.repeats,
                         "seconds": median, "units_per_second": units / median,
                         "seconds_all": " ".join("%.4f" % s for s in seconds)})
            print("P=%d workers=%d units=%d median %.3f s (%.2f units/s)" % (p, workers, units, median, units / median),
                  file=sys.stderr)
    base = rows[0]
    for row in rows:
        if args.mode == "strong":
            row["efficiency"] = (base["seconds"] * base["workers"]) / (row["seconds"] * row["workers"])
        else:
            row["efficiency"] = base["seconds"] / row["seconds"]
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["mode", "ranks", "workers", "units", "repeats", "seconds",
                                               "units_per_second", "efficiency", "seconds_all"])
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    print("wrote " + args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
