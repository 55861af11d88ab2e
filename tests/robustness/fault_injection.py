#!/usr/bin/env python3
"""Seeded fault injection: kill a random rank (a worker, the coordinator) or the whole job at a
random moment of a run, resume, repeat until the run completes; the final store must equal an
uninterrupted run's, bit for bit, and no region may be computed twice.

Usage: fault_injection.py BUILD_DIR SOURCE_DIR [--trials N] [--seed S] [--kills K]
Prints one line per trial and a summary; exits 1 when any trial fails.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "run"))
import run_support  # noqa: E402
from run_support import config, deepmr_run, journal_records, rank_processes, start_run, wait_for_records  # noqa: E402

REGIONS = 11  # of the tiny config
MC_SAMPLES = 200  # a region takes a fraction of a second: kills land mid-run


def trial(number, rng, reference, kills_per_trial):
    directory = tempfile.mkdtemp(prefix="deepmr-fault-%d-" % number)
    store = os.path.join(directory, "f.h5")
    ini = config(directory, "f.h5", MC_SAMPLES)
    events = []
    try:
        for attempt in range(kills_per_trial + 1):
            ranks = rng.choice([2, 3])
            # A kill may land before the run wrote its journal: later attempts resume when there is
            # something to resume (as the job scripts do).
            resume = ["--auto-resume"] if attempt > 0 else []
            last = attempt == kills_per_trial
            if last:
                result = deepmr_run(ranks, ini, *resume)
                if result.returncode != 0:
                    return False, events + ["final run failed (%d): %s" % (result.returncode, result.stderr.strip())]
                events.append("P=%d completed" % ranks)
                break
            done = len(journal_records(store)[0])
            if done >= REGIONS:
                continue
            process = start_run(ranks, ini, *resume)
            target = rng.randint(done, REGIONS - 1)  # kill once this many regions are durable
            wait_for_records(store, target, process)
            victim = rng.choice(["worker", "coordinator", "job"])
            pids = rank_processes(process.pid)
            if process.poll() is not None:
                events.append("P=%d finished before the kill" % ranks)
                process.communicate()
                continue
            if victim == "job":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                rank = 0 if victim == "coordinator" else rng.randint(1, ranks - 1)
                if rank in pids:
                    os.kill(pids[rank], signal.SIGKILL)
                else:
                    os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=120 * run_support.TIMEOUT_SCALE)
            events.append("P=%d killed %s after %d regions" % (ranks, victim, len(journal_records(store)[0])))
        compare = subprocess.run([sys.executable, run_support.COMPARE, store, reference], capture_output=True, text=True)
        regions, torn = journal_records(store)
        ok = compare.returncode == 0 and len(regions) == len(set(regions)) == REGIONS
        if compare.returncode != 0:
            events.append("store differs: " + compare.stdout.strip())
        if len(regions) != len(set(regions)):
            events.append("regions computed twice: %d" % (len(regions) - len(set(regions))))
        events.append("torn records skipped: %d" % torn)
        return ok, events
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("source")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=2, help="kills per trial before the final resume")
    args = parser.parse_args()
    run_support.configure(args.build, args.source)
    rng = random.Random(args.seed)
    reference_dir = tempfile.mkdtemp(prefix="deepmr-fault-reference-")
    try:
        result = deepmr_run(2, config(reference_dir, "reference.h5", MC_SAMPLES))
        if result.returncode != 0:
            sys.exit("fault_injection.py: the reference run failed: " + result.stderr)
        reference = os.path.join(reference_dir, "reference.h5")
        passed = 0
        for number in range(1, args.trials + 1):
            ok, events = trial(number, rng, reference, args.kills)
            passed += ok
            print("trial %2d %s: %s" % (number, "ok  " if ok else "FAIL", "; ".join(events)), flush=True)
        print("fault injection: %d of %d trials ended with the uninterrupted store (seed %d, %d kills per trial)"
              % (passed, args.trials, args.seed, args.kills))
        return 0 if passed == args.trials else 1
    finally:
        shutil.rmtree(reference_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
