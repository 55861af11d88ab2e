#!/usr/bin/env python3
"""End-to-end tests of `deepmr run` under mpirun: stores identical at 1, 2 and 3 ranks, stop and
resume, kills of a worker or of the whole job at several points, refused resumes.

Usage: test_run.py BUILD_DIR SOURCE_DIR [unittest arguments, e.g. -k Kill]
Runs the real binary with the tiny shipped config (configs/test_tiny.ini) and reads stores back
with h5py (analysis/deepmr_store) and the journal with an independent reader (run_support.py).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis"))
import run_support  # noqa: E402
from deepmr_store import STATUS, Store  # noqa: E402
from run_support import (config, deepmr_run, journal_records, rank_processes, signals_caught, start_run,  # noqa: E402
                         wait_for_records)

run_support.configure(sys.argv[1], sys.argv[2])
DEEPMR, COMPARE = run_support.DEEPMR, run_support.COMPARE


class Reference:
    """One uninterrupted run per configuration, shared by the tests that compare against it."""
    directory = tempfile.mkdtemp(prefix="deepmr-run-reference-")
    stores = {}

    @classmethod
    def store(cls, mc_samples=None):
        if mc_samples not in cls.stores:
            name = "reference-%s.h5" % mc_samples
            result = deepmr_run(2, config(cls.directory, name, mc_samples))
            assert result.returncode == 0, result.stderr
            cls.stores[mc_samples] = os.path.join(cls.directory, name)
        return cls.stores[mc_samples]


class RunTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="deepmr-run-test-")

    def tearDown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def assertSameStore(self, a, b):
        result = subprocess.run([sys.executable, COMPARE, a, b], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def assertComplete(self, store):
        with Store(store) as s:
            self.assertEqual(s.attrs["complete"], 1)
            self.assertEqual(s.attrs["units_done"], s.attrs["units_total"])
            self.assertTrue(np.all(s.dataset("units/status") == STATUS["ok"]))


class Ranks(RunTest):
    def test_stores_are_bitwise_identical_at_1_2_and_3_ranks(self):
        stores, tables = [], []
        for ranks in (1, 2, 3):
            ini = config(self.directory, "p%d.h5" % ranks)
            result = deepmr_run(ranks, ini)
            self.assertEqual(result.returncode, 0, result.stderr)
            stores.append(os.path.join(self.directory, "p%d.h5" % ranks))
            tables.append(result.stdout)
            self.assertComplete(stores[-1])
        self.assertSameStore(stores[0], stores[1])
        self.assertSameStore(stores[0], stores[2])
        self.assertEqual(tables[0], tables[2])
        # summarize prints the table the run printed.
        summary = subprocess.run([DEEPMR, "summarize", stores[2]], capture_output=True, text=True)
        self.assertEqual(summary.returncode, 0, summary.stderr)
        self.assertEqual(summary.stdout, tables[0])
        self.assertIn("12 of 12 units done; the run is complete", summary.stderr)

    def test_network_stores_are_bitwise_identical_at_1_2_and_3_ranks(self):
        # Two listed outcomes and analysis.network: every exposure on out0, out4 and the other
        # exposures' outputs, from one mutagenesis per region. The stores agree bit for bit at 1, 2
        # and 3 ranks; each pair's meta-analysis is deepmr meta on its units; the primary outcome's
        # fits are the one-outcome run's; the effects hold every outcome's rows; summarize prints
        # the pairs, one outcome's pairs and the matrix.
        extra = "[analysis]\noutcome = conv1d_small|out4\nnetwork = true\n"
        stores, tables = [], []
        for ranks in (1, 2, 3):
            name = "n%d.h5" % ranks
            result = deepmr_run(ranks, config(self.directory, name, extra=extra), "--run.store-effects", "true")
            self.assertEqual(result.returncode, 0, result.stderr)
            stores.append(os.path.join(self.directory, name))
            tables.append(result.stdout)
            self.assertComplete(stores[-1])
        self.assertSameStore(stores[0], stores[1])
        self.assertSameStore(stores[0], stores[2])
        self.assertEqual(tables[0], tables[2])
        # The store assembled anew from the journal's records (a resume of the finished run) is the same.
        again = deepmr_run(2, os.path.join(self.directory, "n2.h5.ini"), "--run.store-effects", "true", "--auto-resume")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("48 of 48 units done, 0 regions to compute", again.stderr)
        self.assertSameStore(stores[0], stores[1])
        outcomes = ["conv1d_small|out0", "conv1d_small|out4", "conv1d_small|out1", "conv1d_small|out2",
                    "conv1d_small|out3"]
        import json
        with Store(stores[0]) as n, Store(Reference.store()) as one:
            self.assertEqual(n.attrs["format_version"], 2)
            self.assertEqual(n.attrs["network"], 1)
            self.assertEqual(n.outcomes, outcomes)
            self.assertEqual(list(n.outcome_outputs), [0, 4, 1, 2, 3])
            self.assertEqual(n.attrs["units_total"], 4 * 12)  # each of 12 (exposure, region) on 4 outcomes
            exposures = n.exposures
            for u in range(len(n.unit_status)):
                self.assertNotEqual(n.outcome_outputs[n.unit_outcome[u]], n.exposure_outputs[n.unit_exposure[u]])
            primary = np.flatnonzero(n.unit_outcome == 0)
            np.testing.assert_array_equal(n.unit_region[primary], one.unit_region)
            for method in one.methods:
                for column, values in one.fits(method).items():
                    if column != "reason":
                        np.testing.assert_array_equal(n.fits(method)[column][primary], values, err_msg=column)
                np.testing.assert_array_equal(n.meta(method)["estimate"], one.meta(method)["estimate"])
            # Each pair's meta-analysis, from its own units; the exposure on its own output is not fitted.
            # So is its pooled direction test, from its units' differences and their jackknife SEs.
            egger, meta = n.fits("egger"), n.meta_pairs("egger")
            direction, pooled_direction = n.direction(), n.direction_pairs()
            for e, exposure in enumerate(exposures):
                for o, outcome in enumerate(outcomes):
                    row = e * len(outcomes) + o
                    if n.self_pair(e, o):
                        self.assertEqual(meta["status"][row], STATUS["not_estimable"])
                        self.assertEqual(meta["k"][row], 0)
                        self.assertEqual(pooled_direction["status"][row], STATUS["not_estimable"])
                        continue
                    units = np.flatnonzero((n.unit_exposure == e) & (n.unit_outcome == o))
                    self.assertEqual(len(units), 4)
                    result = self.pooled_by_deepmr_meta(egger["estimate"][units], egger["se"][units])
                    self.assertEqual(meta["estimate"][row], result["estimate"], (exposure, outcome))
                    self.assertTrue(np.all(direction["status"][units] == STATUS["ok"]))
                    np.testing.assert_array_equal(direction["difference"][units],
                                                  direction["r2_exposure"][units] - direction["r2_outcome"][units])
                    result = self.pooled_by_deepmr_meta(direction["difference"][units], direction["se"][units])
                    self.assertEqual(pooled_direction["estimate"][row], result["estimate"], (exposure, outcome))
                    self.assertEqual(pooled_direction["pvalue"][row], result["pvalue"], (exposure, outcome))
            # Effects: outcome o's rows follow the outcomes before it; by of a unit is its outcome's row.
            regions = len(n.dataset("regions/start"))
            self.assertEqual(n.dataset("effects/outcome_beta").shape[0], len(outcomes) * regions)
            u = int(np.flatnonzero(n.unit_outcome == 3)[0])
            bx, bxse, by, byse, position = n.effects(u)
            np.testing.assert_array_equal(by, n.dataset("effects/outcome_beta")[3 * regions + n.unit_region[u]])
        summary = subprocess.run([DEEPMR, "summarize", stores[2]], capture_output=True, text=True)
        self.assertEqual(summary.returncode, 0, summary.stderr)
        self.assertEqual(summary.stdout, tables[0])
        lines = summary.stdout.splitlines()
        self.assertEqual(lines[0].split("\t")[:3], ["exposure", "outcome", "method"])
        self.assertEqual(len(lines), 1 + 3 * 4)
        only = subprocess.run([DEEPMR, "summarize", stores[2], "--outcome", "conv1d_small|out2", "--format", "json"],
                              capture_output=True, text=True)
        self.assertEqual(only.returncode, 0, only.stderr)
        self.assertEqual([(r["exposure"], r["outcome"]) for r in json.loads(only.stdout)],
                         [("TFA", "conv1d_small|out2"), ("TFC", "conv1d_small|out2")])
        matrix = subprocess.run([DEEPMR, "summarize", stores[2], "--matrix"], capture_output=True, text=True)
        self.assertEqual(matrix.returncode, 0, matrix.stderr)
        rows = [line.split("\t") for line in matrix.stdout.splitlines()]
        self.assertEqual(rows[0], ["exposure"] + outcomes + ["run"])
        by_pair = {(line[0], line[1]): line[4] for line in (l.split("\t") for l in lines[1:])}
        for row in rows[1:]:
            for o, outcome in enumerate(outcomes):
                self.assertEqual(row[1 + o], by_pair.get((row[0], outcome), ""), (row[0], outcome))
        missing = subprocess.run([DEEPMR, "summarize", stores[2], "--outcome", "nope"], capture_output=True, text=True)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("no outcome 'nope'", missing.stderr)
        # Exports: one outcome track per outcome, one exposure track per exposure (its units on several
        # outcomes share its effects), and a BED line per unit with its outcome.
        tracks = os.path.join(self.directory, "n.bedGraph")
        exported = subprocess.run([DEEPMR, "export", stores[2], "--format", "bedgraph", "--out", tracks, "--stat", "z",
                                   "--alt", "maxabs"], capture_output=True, text=True)
        self.assertEqual(exported.returncode, 0, exported.stderr)
        with open(tracks) as f:
            names = [line.split('name="')[1].split('"')[0] for line in f if line.startswith("track ")]
        self.assertEqual(sorted(names), sorted(["outcome.%s.z.maxabs" % o for o in outcomes] +
                                               ["exposure.%s.z.maxabs" % e for e in ("TFA", "TFB", "TFC")]))
        bed = os.path.join(self.directory, "n.bed")
        exported = subprocess.run([DEEPMR, "export", stores[2], "--format", "bed", "--out", bed], capture_output=True,
                                  text=True)
        self.assertEqual(exported.returncode, 0, exported.stderr)
        with open(bed) as f:
            lines = [line.rstrip("\n").split("\t") for line in f if not line.startswith(("track", "#"))]
        self.assertEqual(len(lines), 48)
        self.assertEqual(sorted({line[-1] for line in lines}), sorted(outcomes))
        # deepmr plan counts the units the run fits.
        plan = subprocess.run([DEEPMR, "plan", "--config", config(self.directory, "plan.h5", extra=extra), "--out",
                               os.path.join(self.directory, "plan"), "--format", "json"], capture_output=True, text=True)
        self.assertEqual(plan.returncode, 0, plan.stderr)
        rows = {row["exposure"]: row for row in json.loads(plan.stdout)}
        self.assertEqual(rows["(all)"]["fit_units"], 48)
        self.assertEqual([rows[e]["fit_units"] for e in ("TFA", "TFB", "TFC")], [16, 16, 16])

    def pooled_by_deepmr_meta(self, estimates, ses):
        """`deepmr meta`'s one row for these estimates and standard errors."""
        table = os.path.join(self.directory, "pooled.tsv")
        with open(table, "w") as out:
            out.write("estimate\tse\n")
            for estimate, se in zip(estimates, ses):
                out.write("%r\t%r\n" % (float(estimate), float(se)))
        pooled = subprocess.run([DEEPMR, "meta", "--input", table, "--format", "json"], capture_output=True, text=True)
        self.assertEqual(pooled.returncode, 0, pooled.stderr)
        import json
        return json.loads(pooled.stdout)[0]

    def test_samples_split_across_device_groups_give_the_same_store(self):
        # run.gpus-per-worker > 1 on the CPU build: sample groups on host threads, gathered through
        # the same interface as NCCL between GPUs, merged in block order.
        stores = []
        for groups in (1, 2, 3):
            ini = config(self.directory, "g%d.h5" % groups, mc_samples=20, extra="[run]\ngpus-per-worker = %d\n" % groups)
            result = deepmr_run(2, ini)
            self.assertEqual(result.returncode, 0, result.stderr)
            stores.append(os.path.join(self.directory, "g%d.h5" % groups))
        self.assertSameStore(stores[0], stores[1])
        self.assertSameStore(stores[0], stores[2])

    def test_a_deep_ensemble_runs_each_sample_on_its_member_and_records_every_member(self):
        # model.file repeated: a deep ensemble of two models of one shape (identical_bases is
        # conv1d_small with other first-layer weights), MC dropout inside each: 2 x 4 samples,
        # sample n on member n mod 2. The stores agree bit for bit at 1 and 2 ranks, record both
        # members and their SHA-256, and differ from the single model's. The members name their
        # outputs after themselves, so a targets file names them all.
        member = os.path.join(run_support.SOURCE, "tests", "data", "models", "identical_bases.pt")
        targets = os.path.join(self.directory, "ensemble_targets.txt")
        with open(targets, "w") as f:
            f.write("".join("conv1d_small|out%d\n" % i for i in range(5)))
        extra = "[model]\nfile = %s\ntargets = %s\n" % (member, targets)
        stores = []
        for ranks in (1, 2):
            name = "ensemble-%d.h5" % ranks
            result = deepmr_run(ranks, config(self.directory, name, extra=extra))
            self.assertEqual(result.returncode, 0, result.stderr)
            stores.append(os.path.join(self.directory, name))
            self.assertComplete(stores[-1])
        self.assertSameStore(stores[0], stores[1])
        import hashlib
        with Store(stores[0]) as s:
            self.assertEqual(s.attrs["ensemble_members"], 2)
            self.assertEqual(s.attrs["mc_samples"], 8)
            files = s.attrs["model"].split(" ; ")
            self.assertEqual(len(files), 2)
            self.assertTrue(files[0].endswith("conv1d_small.pt") and files[1] == member, files)
            digests = []
            for f in files:
                with open(f, "rb") as model_file:
                    digests.append(hashlib.sha256(model_file.read()).hexdigest())
            self.assertEqual(s.attrs["model_sha256"], " ; ".join(digests))
        # The same two members in one file (scripts/export_model.py's DeepMREnsembleFirst): the same
        # results bit for bit; only the model's name and digests differ.
        sys.path.insert(0, os.path.join(run_support.SOURCE, "scripts"))
        import export_model
        import torch
        one_file = os.path.join(self.directory, "ensemble_file.pt")
        torch.jit.script(export_model.DeepMREnsembleFirst([torch.jit.load(files[0]), torch.jit.load(member)])).save(one_file)
        ini = config(self.directory, "ensemble-file.h5", extra="[model]\ntargets = %s\n" % targets)
        with open(ini) as f:
            text = f.read().replace(files[0], one_file)
        with open(ini, "w") as f:
            f.write(text)
        result = deepmr_run(1, ini)
        self.assertEqual(result.returncode, 0, result.stderr)
        store = os.path.join(self.directory, "ensemble-file.h5")
        compare = subprocess.run([sys.executable, run_support.COMPARE, stores[0], store], capture_output=True, text=True)
        differing = sorted(line.split(" differs")[0] for line in compare.stdout.splitlines())
        self.assertEqual(differing, ["attribute model", "attribute model_sha256"], compare.stdout)
        with Store(store) as s:
            self.assertEqual(s.attrs["model"], one_file + "[members.0] ; " + one_file + "[members.1]")
            with open(one_file, "rb") as model_file:
                digest = hashlib.sha256(model_file.read()).hexdigest()
            self.assertEqual(s.attrs["model_sha256"], digest + " ; " + digest)
        with Store(Reference.store()) as single:
            self.assertNotIn("ensemble_members", single.attrs)
        compare = subprocess.run([sys.executable, run_support.COMPARE, Reference.store(), stores[0]],
                                 capture_output=True, text=True)
        self.assertNotEqual(compare.returncode, 0)

    def test_mr_overlapped_with_the_next_regions_mutagenesis_gives_the_same_store(self):
        # run.overlap-mr (the default) fits a region's MR on its own thread while the next region's
        # mutagenesis runs; off, each region is fitted before the next starts. One rank (the
        # coordinator computes) and two (a worker), each against the reference (2 ranks, on).
        for ranks in (1, 2):
            name = "sequential-%d.h5" % ranks
            ini = config(self.directory, name, extra="[run]\noverlap-mr = false\n")
            result = deepmr_run(ranks, ini)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertSameStore(Reference.store(), os.path.join(self.directory, name))
        overlapped = config(self.directory, "overlapped-1.h5")
        result = deepmr_run(1, overlapped)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertSameStore(Reference.store(), os.path.join(self.directory, "overlapped-1.h5"))
        # The bootstraps on 3 threads (run.mr-threads): the same store.
        threaded = config(self.directory, "mr-threads-2.h5", extra="[run]\nmr-threads = 3\n")
        result = deepmr_run(2, threaded)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertSameStore(Reference.store(), os.path.join(self.directory, "mr-threads-2.h5"))

    def test_dispatch_benchmark_hands_out_every_unit(self):
        for ranks in (2, 3):
            result = subprocess.run(run_support.MPIRUN + ["-n", str(ranks), DEEPMR, "bench", "dispatch", "--regions", "5000",
                                                          "--units-per-region", "3", "--repeats", "1", "--format", "json"],
                                    env=run_support.ENV, capture_output=True, text=True, timeout=120 * run_support.TIMEOUT_SCALE)
            self.assertEqual(result.returncode, 0, result.stderr)
            import json
            row = json.loads(result.stdout)[0]
            self.assertEqual(row["units"], 15000)
            self.assertEqual(row["workers"], ranks - 1)
            self.assertGreater(row["units_per_second"], 0)

    def test_plan_of_a_run_config_lists_the_units_the_run_computes(self):
        ini = config(self.directory, "plan.h5")
        out = os.path.join(self.directory, "plan")
        result = subprocess.run([DEEPMR, "plan", "--config", ini, "--out", out], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "units.tsv")) as f:
            units = [line.split("\t") for line in f.read().splitlines()[1:]]
        with Store(Reference.store()) as s:
            self.assertEqual([int(u[2]) for u in units], list(s.dataset("units/region")))
            names = s.strings("exposures/name")
            self.assertEqual([u[1] for u in units], [names[e] for e in s.dataset("units/exposure")])

    def test_auto_resume_starts_a_fresh_run_and_resumes_a_finished_one(self):
        ini = config(self.directory, "auto.h5")
        first = deepmr_run(2, ini, "--auto-resume")
        self.assertEqual(first.returncode, 0, first.stderr)
        again = deepmr_run(2, ini, "--auto-resume")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("12 of 12 units done, 0 regions to compute", again.stderr)
        self.assertSameStore(os.path.join(self.directory, "auto.h5"), Reference.store())

    def test_store_content_read_back_with_h5py(self):
        store = Reference.store()
        with Store(store) as s:
            self.assertEqual(s.attrs["format"], "deepmr-store")
            exposures = s.strings("exposures/name")
            self.assertEqual(exposures, ["TFA", "TFB", "TFC"])
            self.assertEqual(list(s.dataset("exposures/output")), [1, 2, 3])
            units = len(s.dataset("units/region"))
            self.assertEqual(units, 12)
            self.assertEqual(len(s.dataset("regions/start")), 11)  # two windows shared by exposures
            self.assertTrue(np.all(s.dataset("regions/end") - s.dataset("regions/start") == 60))
            egger = s.fit_column("egger", "estimate")
            self.assertTrue(np.all(np.isfinite(egger)))
            # 3L = 180 mutants, less at least the 6 at positions 58 and 59, which the pooling drops:
            # their effects are exactly zero on both sides and carry no information (a few others
            # can be exactly zero too, where a max-pool ignores them).
            n_used = s.fit_column("egger", "n_used")
            self.assertTrue(np.all((n_used <= 174) & (n_used >= 160)), n_used)
            # The meta-analysis of each exposure equals deepmr meta on the store's own unit estimates.
            table = os.path.join(self.directory, "units.tsv")
            unit_exposure, se = s.dataset("units/exposure"), s.fit_column("egger", "se")
            with open(table, "w") as out:
                out.write("exposure\testimate\tse\n")
                for u in range(units):
                    out.write("%s\t%r\t%r\n" % (exposures[unit_exposure[u]], float(egger[u]), float(se[u])))
            meta = subprocess.run([DEEPMR, "meta", "--input", table, "--group", "exposure", "--format", "json"],
                                  capture_output=True, text=True)
            self.assertEqual(meta.returncode, 0, meta.stderr)
            import json
            rows = {row["group"]: row for row in json.loads(meta.stdout)}
            stored = s.meta("egger")
            for e, name in enumerate(exposures):
                self.assertEqual(stored["estimate"][e], rows[name]["estimate"])
                self.assertEqual(stored["tau2"][e], rows[name]["tau2"])
                self.assertEqual(stored["k"][e], rows[name]["k"])

    def test_jackknife_columns_and_a_meta_analysis_weighted_by_them(self):
        # Default: min(10, N = 4) groups, every ok fit has a finite jackknife SE and its interval; with
        # analysis.meta-se = jackknife the meta-analysis equals deepmr meta on (estimate, se_jackknife);
        # analysis.jackknife-groups = 0 leaves the columns NaN and every other dataset as it was.
        default = Reference.store()
        jack_ini = config(self.directory, "jack.h5")
        off_ini = config(self.directory, "off.h5")
        jack = deepmr_run(2, jack_ini, "--analysis.meta-se", "jackknife")
        self.assertEqual(jack.returncode, 0, jack.stderr)
        off = deepmr_run(2, off_ini, "--analysis.jackknife-groups", "0")
        self.assertEqual(off.returncode, 0, off.stderr)
        with Store(default) as d, Store(os.path.join(self.directory, "jack.h5")) as j, \
                Store(os.path.join(self.directory, "off.h5")) as o:
            for method in d.methods:
                fits, no = d.fits(method), o.fits(method)
                ok = fits["status"] == STATUS["ok"]
                self.assertTrue(np.all(np.isfinite(fits["se_jackknife"][ok])), method)
                self.assertTrue(np.all(fits["se_jackknife"][ok] > 0), method)
                np.testing.assert_allclose(fits["ci_high_jackknife"][ok] - fits["ci_low_jackknife"][ok],
                                           2 * 1.959963984540054 * fits["se_jackknife"][ok], rtol=1e-12)
                for column in ("se_jackknife", "ci_low_jackknife", "ci_high_jackknife", "pvalue_jackknife"):
                    self.assertTrue(np.all(np.isnan(no[column])), (method, column))
                for column in ("estimate", "se", "pvalue", "n_used"):
                    np.testing.assert_array_equal(no[column], fits[column])
                    np.testing.assert_array_equal(j.fits(method)[column], fits[column])
                np.testing.assert_array_equal(o.meta(method)["estimate"], d.meta(method)["estimate"])
            exposures = j.strings("exposures/name")
            unit_exposure = j.dataset("units/exposure")
            egger = j.fits("egger")
            table = os.path.join(self.directory, "jack_units.tsv")
            with open(table, "w") as out:
                out.write("exposure\testimate\tse\n")
                for u in range(len(unit_exposure)):
                    se_jackknife = egger["se_jackknife"][u]  # the regions the assembly pools
                    if egger["status"][u] == STATUS["ok"] and np.isfinite(se_jackknife) and se_jackknife > 0:
                        out.write("%s\t%r\t%r\n" % (exposures[unit_exposure[u]], float(egger["estimate"][u]),
                                                   float(se_jackknife)))
            meta = subprocess.run([DEEPMR, "meta", "--input", table, "--group", "exposure", "--format", "json"],
                                  capture_output=True, text=True)
            self.assertEqual(meta.returncode, 0, meta.stderr)
            import json
            rows = {row["group"]: row for row in json.loads(meta.stdout)}
            stored = j.meta("egger")
            for e, name in enumerate(exposures):
                self.assertEqual(stored["estimate"][e], rows[name]["estimate"])
                self.assertEqual(stored["se"][e], rows[name]["se"])
            self.assertFalse(np.array_equal(stored["se"], d.meta("egger")["se"]))
        for arguments, message in ((["--analysis.jackknife-groups", "1"], "must be 0 (none) or at least 2 groups"),
                                   (["--analysis.meta-se", "both"], "is neither standard nor jackknife"),
                                   (["--analysis.meta-se", "jackknife", "--analysis.jackknife-groups", "0"],
                                    "analysis.jackknife-groups is 0"),
                                   (["--analysis.ivw-weights", "second-order"], "is neither simple nor delta"),
                                   (["--analysis.ivw-weights", "delta", "--analysis.mr-methods", "egger"],
                                    "has none of them")):
            bad = deepmr_run(2, jack_ini, *arguments, "--run.store", os.path.join(self.directory, "bad.h5"))
            self.assertEqual(bad.returncode, 2, bad.stderr)
            self.assertIn(message, bad.stderr)

    def test_delta_weights_change_only_the_ivw_fits_and_keep_stores_identical_across_ranks(self):
        # analysis.ivw-weights = delta: every IVW fit takes second-order weights with each mutant's psi
        # from the samples (run_layer_test checks them against the stats layer); Egger, the median
        # and the effects are as in the default run, and the store is the same at 1 and 3 ranks and
        # with the samples split over 2 device groups.
        default = Reference.store()
        stores = []
        for ranks, groups in ((1, 1), (3, 1), (2, 2)):
            name = "delta-%d-%d.h5" % (ranks, groups)
            ini = config(self.directory, name, extra="[run]\ngpus-per-worker = %d\n" % groups)
            result = deepmr_run(ranks, ini, "--analysis.ivw-weights", "delta")
            self.assertEqual(result.returncode, 0, result.stderr)
            stores.append(os.path.join(self.directory, name))
        self.assertSameStore(stores[0], stores[1])
        self.assertSameStore(stores[0], stores[2])
        with Store(default) as d, Store(stores[0]) as delta:
            for method in ("egger", "median-weighted"):
                for column in ("estimate", "se", "se_jackknife"):
                    np.testing.assert_array_equal(d.fit_column(method, column), delta.fit_column(method, column))
            ok = delta.fit_status("ivw") == STATUS["ok"]
            self.assertTrue(ok.any())
            changed = d.fit_column("ivw", "estimate")[ok] != delta.fit_column("ivw", "estimate")[ok]
            self.assertTrue(changed.all(), "every IVW estimate moves with second-order weights")

    def test_sub_window_mutagenesis_stores_only_its_positions_with_the_whole_window_as_context(self):
        # analysis.positions = 10-29: the same masks and the same context, so every stored effect
        # equals the whole-window run's at those positions, bit for bit (kernels backend).
        whole = config(self.directory, "whole.h5")
        part = config(self.directory, "part.h5")
        for ini in (whole, part):
            arguments = ["--run.store-effects", "true"] + (["--analysis.positions", "10-29"] if ini == part else [])
            result = deepmr_run(2, ini, *arguments)
            self.assertEqual(result.returncode, 0, result.stderr)
        with Store(os.path.join(self.directory, "whole.h5")) as w, Store(os.path.join(self.directory, "part.h5")) as p:
            self.assertEqual(list(p.dataset("effects/position")), [q for q in range(10, 30) for _ in range(3)])
            self.assertEqual(list(w.dataset("effects/position")), [q for q in range(60) for _ in range(3)])
            for name in ("outcome_beta", "outcome_se", "exposure_beta", "exposure_se"):
                np.testing.assert_array_equal(p.dataset("effects/" + name), w.dataset("effects/" + name)[:, 30:90])
            self.assertTrue(np.all(p.fit_column("egger", "n_used") <= 60))
            self.assertFalse(np.array_equal(p.fit_column("egger", "estimate"), w.fit_column("egger", "estimate")))
        bad = deepmr_run(2, part, "--analysis.positions", "50-60", "--run.store", os.path.join(self.directory, "bad.h5"))
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertIn("option 'analysis.positions': 50-60 is not within the window of 60 bases", bad.stderr)


class GraphModel(RunTest):
    def graph_config(self, name):
        """The tiny config on tests/model/make_fixtures.py's bpnet_dropout (the graph_model_fixtures
        test): BPNet-like, a (profile, counts) tuple addressed by its flattened names (docs/models.md,
        Graphs), counts and profile positions as exposures and outcome."""
        model = os.path.join(run_support.BUILD, "test-fixtures", "graphs", "bpnet_dropout_scripted.pt")
        ini = config(self.directory, name)
        with open(ini) as f:
            text = f.read()
        text = text.replace(os.path.join(run_support.SOURCE, "tests/data/models/conv1d_small.pt"), model)
        for old, new in (("conv1d_small|out0", "1:0"), ("conv1d_small|out1", "1:1"),
                         ("conv1d_small|out2", "0:5"), ("conv1d_small|out3", "0:70")):
            text = text.replace(old, new)
        with open(ini, "w") as f:
            f.write(text)
        return ini

    def test_strand_averaging_of_profile_positions_is_refused_before_anything_is_written(self):
        result = deepmr_run(3, self.graph_config("rc.h5"), "--model.reverse-complement", "on")
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("output 0:5 is one position of the profile '0'", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.directory, "rc.h5")))
        self.assertFalse(os.path.exists(os.path.join(self.directory, "rc.h5.journal")))

    def test_a_graph_model_runs_on_the_torch_backend_with_the_same_store_at_1_and_3_ranks(self):
        stores = []
        for ranks in (1, 3):
            name = "g%d.h5" % ranks
            ini = self.graph_config(name)
            result = deepmr_run(ranks, ini)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("torch", result.stderr)
            stores.append(os.path.join(self.directory, name))
            self.assertComplete(stores[-1])
        self.assertSameStore(stores[0], stores[1])
        with Store(stores[0]) as s:
            self.assertEqual(s.attrs["backend"], "torch")


class StopAndResume(RunTest):
    def test_sigterm_stops_with_75_keeps_results_and_resume_completes(self):
        reference = Reference.store(300)
        ini = config(self.directory, "s.h5", mc_samples=300)
        store = os.path.join(self.directory, "s.h5")
        process = start_run(3, ini)
        self.assertTrue(wait_for_records(store, 2, process), "the run made no progress")
        for pid in rank_processes(process.pid).values():
            os.kill(pid, signal.SIGTERM)  # as SLURM's --signal does: every rank gets it
        out, err = process.communicate(timeout=120 * run_support.TIMEOUT_SCALE)
        self.assertEqual(process.returncode, 75, err)
        # The resume line repeats the command (overrides included) under mpirun with as many ranks.
        self.assertIn("resume with: mpirun -n 3 %s run --config %s --resume" % (DEEPMR, ini), err.strip().splitlines()[-1])
        with Store(store) as s:  # a readable partial store
            self.assertEqual(s.attrs["complete"], 0)
            done = int(s.attrs["units_done"])
            self.assertGreater(done, 0)
            self.assertLess(done, 12)
            self.assertEqual(int(np.sum(s.dataset("units/status") == STATUS["ok"])), done)
        # The tables of a partial store say so on every row (the run's own and summarize's), and
        # summarize exits 75 rather than 0.
        self.assertTrue(all(line.endswith("\tpartial") for line in out.splitlines()[1:]), out)
        summary = subprocess.run([DEEPMR, "summarize", store], capture_output=True, text=True)
        self.assertEqual(summary.returncode, 75, summary.stderr)
        self.assertEqual(summary.stdout, out)
        result = deepmr_run(2, ini, "--resume")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertSameStore(store, reference)
        regions, torn = journal_records(store)
        self.assertEqual(len(regions), len(set(regions)), "a region was computed twice")
        self.assertEqual(len(regions), 11)


    def test_a_stop_during_start_up_is_kept(self):
        # A job preempted at once: SIGTERM reaches each rank as soon as it can be caught (deepmr's
        # handlers come first, before MPI starts), long before the loop. The request is kept and
        # honoured when the loop begins; the resume computes everything.
        reference = Reference.store(300)
        ini = config(self.directory, "e.h5", mc_samples=300)
        store = os.path.join(self.directory, "e.h5")
        process = start_run(2, ini)
        try:
            ranks, signalled, deadline = {}, set(), time.time() + 60
            while len(signalled) < 2 and time.time() < deadline and process.poll() is None:
                if len(ranks) < 2:
                    ranks = rank_processes(process.pid)
                for pid in set(ranks.values()) - signalled:
                    if signals_caught(pid) & (1 << (signal.SIGTERM - 1)):
                        os.kill(pid, signal.SIGTERM)
                        signalled.add(pid)
                time.sleep(0.001)
            self.assertEqual(len(signalled), 2, "the ranks never caught SIGTERM")
            out, err = process.communicate(timeout=120 * run_support.TIMEOUT_SCALE)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
        self.assertEqual(process.returncode, 75, err)
        self.assertIn("stopped: 0 of 12 units done and kept; resume with:", err.strip().splitlines()[-1])
        result = deepmr_run(2, ini, "--resume")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertSameStore(store, reference)


class Kill(RunTest):
    def kill_and_resume(self, records, whole_job):
        reference = Reference.store(300)
        ini = config(self.directory, "k.h5", mc_samples=300)
        store = os.path.join(self.directory, "k.h5")
        process = start_run(3, ini)
        self.assertTrue(wait_for_records(store, records, process), "the run made no progress")
        if whole_job:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            os.kill(rank_processes(process.pid)[2], signal.SIGKILL)
        process.communicate(timeout=120 * run_support.TIMEOUT_SCALE)
        self.assertNotEqual(process.returncode, 0)
        before, _ = journal_records(store)
        result = deepmr_run(3, ini, "--resume")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertSameStore(store, reference)
        regions, torn = journal_records(store)
        self.assertEqual(len(regions), len(set(regions)), "a region was computed twice")
        self.assertEqual(sorted(regions), list(range(11)))
        self.assertTrue(set(before) <= set(regions))

    def test_kill_a_worker_early(self):
        self.kill_and_resume(1, whole_job=False)

    def test_kill_a_worker_late(self):
        self.kill_and_resume(7, whole_job=False)

    def test_kill_the_whole_job_early(self):
        self.kill_and_resume(2, whole_job=True)

    def test_kill_the_whole_job_late(self):
        self.kill_and_resume(9, whole_job=True)

    def test_a_damaged_store_is_rebuilt_from_the_journal(self):
        ini = config(self.directory, "d.h5")
        store = os.path.join(self.directory, "d.h5")
        self.assertEqual(deepmr_run(1, ini).returncode, 0)
        good = os.path.join(self.directory, "good.h5")
        shutil.copy(store, good)
        with open(store, "r+b") as f:
            f.seek(0)
            f.write(b"\0" * 4096)
        result = deepmr_run(2, ini, "--resume")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertSameStore(store, good)


class Refusals(RunTest):
    def test_resume_with_another_config_says_what_differs(self):
        ini = config(self.directory, "r.h5")
        self.assertEqual(deepmr_run(1, ini).returncode, 0)
        changed = config(self.directory, "r.h5", mc_samples=5)
        result = deepmr_run(2, changed, "--resume")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("analysis.mc-samples: '5' here, '4' in the run", result.stderr)

    def test_a_fresh_run_never_overwrites_a_store(self):
        ini = config(self.directory, "o.h5")
        self.assertEqual(deepmr_run(1, ini).returncode, 0)
        result = deepmr_run(3, ini)
        self.assertEqual(result.returncode, 5)
        self.assertIn("already exists: resume that run with --resume", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def test_outcome_settings_that_cannot_work_are_refused_with_one_line(self):
        # An outcome listed twice, by the same text or by name and index; an exposure whose only
        # outcome is its own output; and a resume that adds an outcome (the units differ).
        cases = [
            (("--analysis.outcome", "conv1d_small|out0", "--analysis.outcome", "conv1d_small|out0"), 2,
             "lists 'conv1d_small|out0' twice"),
            (("--analysis.outcome", "conv1d_small|out0", "--analysis.outcome", "0"), 2,
             "names output 0 twice ('conv1d_small|out0' and '0')"),
            (("--analysis.outcome", "conv1d_small|out1"), 2, "exposure 'TFA' is the outcome's own output"),
        ]
        for arguments, status, text in cases:
            result = deepmr_run(2, config(self.directory, "x.h5"), *arguments)
            self.assertEqual(result.returncode, status, (arguments, result.stderr))
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn(text, result.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.directory, "x.h5")))
        ini = config(self.directory, "add.h5")
        self.assertEqual(deepmr_run(1, ini).returncode, 0)
        result = deepmr_run(2, ini, "--resume", "--analysis.outcome", "conv1d_small|out0", "--analysis.outcome",
                            "conv1d_small|out4")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("analysis.outcome", result.stderr)

    def test_resume_without_a_journal(self):
        result = deepmr_run(2, config(self.directory, "n.h5"), "--resume")
        self.assertEqual(result.returncode, 2)
        self.assertIn("holds no run to resume", result.stderr)

    def test_errors_on_every_rank_print_once(self):
        ini = config(self.directory, "e.h5", extra="\n[analysis]\n")  # a section twice is fine; a bad value is not
        with open(ini) as f:
            text = f.read().replace("outcome = conv1d_small|out0", "outcome = conv1d_small|out9")
        with open(ini, "w") as f:
            f.write(text)
        result = deepmr_run(3, ini)
        self.assertEqual(result.returncode, 4)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("unknown output 'conv1d_small|out9'", result.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
