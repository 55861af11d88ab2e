#!/usr/bin/env python3
"""Per-layer sparsity of the incremental engine's differences and what skipping it saves
(docs/performance.md, "Exact sparsity in trained models").

Runs `deepmr bench ism` with the engines incremental-dense (every difference row multiplied whole)
and incremental (zero rows skipped, sparse rows multiplied at their nonzeros only), in one process
on the same window and masks, and prints, per linear layer: the fraction of difference entries and
of rows that are exactly zero, each engine's thread-seconds and the speed-up; then the whole run's
mutant evaluations per second, the ratio and whether every beta and se has the same bits.

Usage: /usr/bin/python3 benchmarks/sparsity/measure.py BUILD/bin/deepmr MODEL.pt [--mc-samples N]
       [--threads T] [--positions FIRST-LAST] [--repeats K]
MODEL: demo/model/demo.pt, a briefly trained DeepSEA (train_deepsea.py), or --architecture deepsea
(random weights) given as the word "deepsea". With --repeats K the engines alternate K times and
the medians are printed.
"""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile


def run(deepmr, model, args):
    with tempfile.TemporaryDirectory() as tmp:
        stages = os.path.join(tmp, "stages.tsv")
        source = ["--architecture", "deepsea"] if model == "deepsea" else ["--model", model]
        # A first incremental run warms the process up (page faults, first packings); only the
        # later runs count.
        command = [deepmr, "bench", "ism", *source, "--engines", "incremental,incremental-dense,incremental",
                   "--mc-samples", str(args.mc_samples), "--threads", str(args.threads), "--stages", stages]
        if args.positions:
            command += ["--positions", args.positions]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit("measure.py: deepmr bench failed: " + result.stderr.strip())
        table = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))[1:]
        with open(stages) as f:
            costs = list(csv.DictReader(f, delimiter="\t"))
        stages_per_run = len(costs) // 3
    return table, costs[stages_per_run:]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("deepmr")
    parser.add_argument("model")
    parser.add_argument("--mc-samples", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--positions")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    seconds = {}   # (engine, stage) -> [thread-seconds]
    shares = {}    # stage -> (zero entries, zero rows), the same in every run
    rates = {"incremental-dense": [], "incremental": []}
    identical = True
    for _ in range(args.repeats):
        table, costs = run(args.deepmr, args.model, args)
        for row in table:
            rates[row["engine"]].append(float(row["mutant_evaluations_per_second"]))
            identical = identical and row["bitwise_equal"] == "yes"
        for row in costs:
            seconds.setdefault((row["engine"], row["stage"]), []).append(float(row["thread_seconds"]))
            if row["engine"] == "incremental":
                shares[row["stage"]] = (float(row["zero_delta_entries"]), float(row["zero_delta_rows"]))
    print("| stage | zero difference entries | zero rows | dense thread-s | sparse thread-s | speed-up |")
    print("|---|---|---|---|---|---|")
    for stage, (entries, rows) in shares.items():
        dense = statistics.median(seconds[("incremental-dense", stage)])
        sparse = statistics.median(seconds[("incremental", stage)])
        if dense < 0.01 * sum(statistics.median(v) for (e, _), v in seconds.items() if e == "incremental-dense"):
            continue  # below 1% of the time: not shown
        linear = " conv" in stage or " linear" in stage
        print("| %s | %s | %s | %.3f | %.3f | %.2fx |" % (
            stage, "%.1f%%" % (100 * entries) if linear else "-", "%.1f%%" % (100 * rows) if linear else "-",
            dense, sparse, dense / sparse if sparse > 0 else float("inf")))
    dense_rate, rate = statistics.median(rates["incremental-dense"]), statistics.median(rates["incremental"])
    print()
    print("mutant evaluations/s: incremental-dense %.0f, incremental %.0f, ratio %.2fx; bitwise equal: %s" % (
        dense_rate, rate, rate / dense_rate, "yes" if identical else "NO"))


if __name__ == "__main__":
    main()
