#!/usr/bin/env python3
"""Ground truth end to end: the oracle model and the demo model through `mpirun deepmr run`, the store
and `deepmr summarize` (docs/validation.md).

Oracle: demo/oracle/oracle.pt computes ACC = 0.25 + 0.75 TF1 - 1.25 TF2 + 2.5 TF3 and MARK = 0.125 -
0.5 TF1 + 0.375 TF2 + 1.5 TF3 exactly under every dropout mask, and TF_k reads only its own block of
input bases (demo/make_oracle.py). configs/oracle.ini fits both outcomes. So, exactly, for each
(exposure, outcome) pair with its gamma_k:
  - a mutant outside block k has bx = bxse = 0 for exposure k; inside it, by = gamma_k bx and
    byse = |gamma_k| bxse;
  - MR-Egger leaves out the bx = 0 instruments, so every unit's Egger fit uses the block's mutants with
    bx != 0 (n_used counts them), its slope is gamma_k and its intercept 0 (to 1e-6; in fact ~1e-16);
  - IVW keeps the bx = 0 instruments (they add to Q, not to the slope) and the weighted median sees only
    ratios equal to gamma_k: both are gamma_k too;
  - the meta-analysis of each exposure is gamma_k with tau^2 = 0, and `deepmr summarize` prints it.
Demo: configs/demo.ini itself (20 regions per TF, 50 dropout samples, a few seconds) on the shipped demo
model: the sign of every TF whose planted effect is clearly non-zero (|gamma| >= 0.1) is recovered and
the null TF's interval covers 0 (the table of docs/validation.md).

Usage: test_demo.py BUILD_DIR SOURCE_DIR [unittest arguments, e.g. -k Oracle]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis"))
from deepmr_store import STATUS, Store  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
DEEPMR = os.path.join(BUILD, "bin", "deepmr")
MPIRUN = ["mpirun", "-q", "--oversubscribe", "--allow-run-as-root"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
TOLERANCE = 1e-6
sys.path.insert(0, os.path.join(SOURCE, "demo"))
import compare  # noqa: E402  (demo/compare.py: planted effect beside the estimate)


def run_config(directory, name, store):
    """configs/NAME with the store in `directory`; paths stay relative to SOURCE (the run's cwd)."""
    with open(os.path.join(SOURCE, "configs", name)) as f:
        text = f.read()
    lines = [line for line in text.splitlines() if not line.strip().startswith("store =")]
    text = "\n".join(lines).replace("[run]", "[run]\nstore = %s\nthreads = 1" % store)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    return path


def deepmr_run(ranks, ini, *arguments, timeout=600):
    command = MPIRUN + ["-n", str(ranks), DEEPMR, "run", "--config", ini] + list(arguments)
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout, cwd=SOURCE)


def read_gammas():
    """{outcome: {exposure: (gamma, block start, block end)}} of the oracle's two outcomes."""
    gammas = {"ACC": {}, "MARK": {}}
    with open(os.path.join(SOURCE, "demo", "oracle", "gammas.tsv")) as f:
        next(f)
        for line in f:
            if not line.startswith("#"):
                name, gamma, lo, hi, gamma_mark = line.rstrip("\n").split("\t")
                gammas["ACC"][name] = (float(gamma), int(lo), int(hi))
                gammas["MARK"][name] = (float(gamma_mark), int(lo), int(hi))
    return gammas


def oracle_violations(store, gammas):
    """Every way the store departs from the closed-form answer (an empty list when it matches);
    gammas: {outcome: {exposure: (gamma, block start, block end)}}."""
    bad = []
    ok = STATUS["ok"]
    with Store(store) as s:
        if int(s.attrs["complete"]) != 1:
            bad.append("store not complete")
        names = s.strings("exposures/name")
        unit_exposure, unit_region = s.dataset("units/exposure"), s.dataset("units/region")
        unit_outcome, regions = s.unit_outcome, len(s.dataset("regions/start"))
        position = s.dataset("effects/position")
        bx_all, bxse_all = s.dataset("effects/exposure_beta").astype(float), s.dataset("effects/exposure_se").astype(float)
        by_all, byse_all = s.dataset("effects/outcome_beta").astype(float), s.dataset("effects/outcome_se").astype(float)
        fits = {m: s.fits(m) for m in ("egger", "ivw", "median-weighted")}
        if sorted(s.outcomes) != sorted(gammas):
            bad.append("outcomes %s, expected %s" % (s.outcomes, sorted(gammas)))
            return bad
        for outcome in gammas:
            if sorted(names) != sorted(gammas[outcome]):
                bad.append("exposures %s, expected %s" % (names, sorted(gammas[outcome])))
        for u in range(len(unit_exposure)):
            name, outcome = names[unit_exposure[u]], s.outcomes[unit_outcome[u]]
            gamma, lo, hi = gammas[outcome][name]
            inside = (position >= lo) & (position < hi)
            bx, bxse = bx_all[u], bxse_all[u]
            row = unit_outcome[u] * regions + unit_region[u]  # outcome o's effects: rows o R + r
            by, byse = by_all[row], byse_all[row]
            where = "unit %d (%s on %s, region %d)" % (u, name, outcome, unit_region[u])
            if np.any(bx[~inside] != 0) or np.any(bxse[~inside] != 0):
                bad.append("%s: a mutant outside the block moves the exposure" % where)
            if not np.allclose(by[inside], gamma * bx[inside], rtol=1e-6, atol=1e-9) or \
                    not np.allclose(byse[inside], abs(gamma) * bxse[inside], rtol=1e-6, atol=1e-9):
                bad.append("%s: by != gamma bx inside the block" % where)
            used = int(np.sum(inside & (bx != 0)))
            informative = int(np.sum((bx != 0) | (bxse != 0) | (by != 0) | (byse != 0)))
            egger = {c: fits["egger"][c][u] for c in ("estimate", "intercept", "n_used", "status")}
            if egger["status"] != ok:
                bad.append("%s: egger status %d" % (where, egger["status"]))
                continue
            if abs(egger["estimate"] - gamma) > TOLERANCE:
                bad.append("%s: egger slope %r, gamma %r" % (where, egger["estimate"], gamma))
            if abs(egger["intercept"]) > TOLERANCE:
                bad.append("%s: egger intercept %r" % (where, egger["intercept"]))
            if egger["n_used"] != used or used < 3:
                bad.append("%s: egger used %r instruments, the block has %d with bx != 0" % (where, egger["n_used"], used))
            for method in ("ivw", "median-weighted"):
                fit = fits[method]
                if fit["status"][u] != ok or abs(fit["estimate"][u] - gamma) > TOLERANCE:
                    bad.append("%s: %s %r (status %d), gamma %r" % (where, method, fit["estimate"][u], fit["status"][u], gamma))
            if fits["ivw"]["n_used"][u] != informative:
                bad.append("%s: ivw used %r instruments, %d are informative" % (where, fits["ivw"]["n_used"][u], informative))
        for o, outcome in enumerate(s.outcomes):
            meta = {m: s.meta(m, o) for m in ("egger", "ivw", "median-weighted")}
            for e, name in enumerate(names):
                gamma = gammas[outcome][name][0]
                count = int(np.sum((unit_exposure == e) & (unit_outcome == o)))
                for method, m in meta.items():
                    if m["status"][e] != ok or m["k"][e] != count or abs(m["estimate"][e] - gamma) > TOLERANCE \
                            or m["tau2"][e] != 0:
                        bad.append("meta %s %s on %s: k %r, estimate %r, tau2 %r (gamma %r)" % (
                            method, name, outcome, m["k"][e], m["estimate"][e], m["tau2"][e], gamma))
    return bad


class Oracle(unittest.TestCase):
    """The oracle through mpirun at 3 ranks: each region's Egger slope and each meta-analysis is gamma_k."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="deepmr-oracle-")
        cls.store = os.path.join(cls.directory, "oracle.h5")
        cls.result = deepmr_run(3, run_config(cls.directory, "oracle.ini", cls.store))
        cls.gammas = read_gammas()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_run_succeeds(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_store_matches_the_closed_form_answer(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(oracle_violations(self.store, self.gammas), [])

    def test_the_check_fails_when_the_answer_is_off_by_more_than_the_tolerance(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        for outcome in self.gammas:
            for name in self.gammas[outcome]:
                off = {o: dict(g) for o, g in self.gammas.items()}
                off[outcome][name] = (off[outcome][name][0] + 2 * TOLERANCE,) + off[outcome][name][1:]
                self.assertTrue(any("egger slope" in v and outcome in v for v in oracle_violations(self.store, off)),
                                (name, outcome))
        # The outcomes swapped: every slope is off.
        swapped = {"ACC": self.gammas["MARK"], "MARK": self.gammas["ACC"]}
        self.assertNotEqual(oracle_violations(self.store, swapped), [])
        shifted = {o: {name: (g, lo + 1, hi + 1) for name, (g, lo, hi) in gs.items()} for o, gs in self.gammas.items()}
        self.assertNotEqual(oracle_violations(self.store, shifted), [])

    def test_direction_difference_is_zero_without_variation_of_the_outcome_s_own(self):
        """by = gamma bx and byse = |gamma| bxse for every instrument of the exposure: the shares of
        exposure and outcome are equal (docs/statistics.md section 3e), so every unit's direction
        difference is 0 to rounding, and so is every pair's pooled one."""
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        with Store(self.store) as s:
            direction, pooled = s.direction(), s.direction_pairs()
            self.assertTrue(np.all(direction["status"] == STATUS["ok"]))
            self.assertLessEqual(float(np.max(np.abs(direction["difference"]))), 1e-12)
            self.assertTrue(np.all(direction["r2_exposure"] > 0))
            # Pooled where the jackknife SEs are not all exactly 0; where they are, not estimable, saying so.
            ok = pooled["status"] == STATUS["ok"]
            self.assertLessEqual(float(np.max(np.abs(pooled["estimate"][ok]), initial=0)), 1e-12)
            for r in np.flatnonzero(~ok):
                self.assertIn("no standard error", pooled["reason"][r])

    def test_jackknife_se_of_every_slope_is_zero_to_rounding(self):
        """outcome = C + gamma x exposure under every mask: every leave-group-out refit gives gamma, so the
        jackknife over the samples (analysis.jackknife-groups, default 10) has nothing to spread."""
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        with Store(self.store) as s:
            for method in s.methods:
                fits = s.fits(method)
                ok = fits["status"] == STATUS["ok"]
                se = fits["se_jackknife"][ok]
                self.assertTrue(ok.any(), method)
                self.assertTrue(np.all(np.isfinite(se)), "%s: a jackknife SE is missing" % method)
                self.assertLessEqual(float(np.max(se)), TOLERANCE, method)
                low, high = fits["ci_low_jackknife"][ok], fits["ci_high_jackknife"][ok]
                np.testing.assert_allclose(high - low, 2 * 1.959963984540054 * se, rtol=1e-9, atol=1e-15)

    def test_summarize_prints_gamma_with_tau2_zero(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        summary = subprocess.run([DEEPMR, "summarize", self.store], capture_output=True, text=True)
        self.assertEqual(summary.returncode, 0, summary.stderr)
        self.assertEqual(summary.stdout, self.result.stdout)  # the run printed the same table
        rows = [dict(zip(summary.stdout.splitlines()[0].split("\t"), line.split("\t")))
                for line in summary.stdout.splitlines()[1:]]
        self.assertEqual(sorted((r["exposure"], r["outcome"]) for r in rows),
                         sorted((e, o) for o in self.gammas for e in self.gammas[o]))
        for row in rows:
            self.assertEqual(row["method"], "egger")
            self.assertLessEqual(abs(float(row["estimate"]) - self.gammas[row["outcome"]][row["exposure"]][0]), TOLERANCE)
            self.assertEqual(float(row["tau2"]), 0.0)
            self.assertEqual(row["status"], "ok")
        units = subprocess.run([DEEPMR, "summarize", self.store, "--units", "--format", "json"],
                               capture_output=True, text=True)
        self.assertEqual(units.returncode, 0, units.stderr)
        egger = [u for u in json.loads(units.stdout) if u["method"] == "egger"]
        self.assertEqual(len(egger), 24)  # 12 (exposure, region) pairs on 2 outcomes
        for unit in egger:
            self.assertLessEqual(abs(unit["estimate"] - self.gammas[unit["outcome"]][unit["exposure"]][0]), TOLERANCE)
            self.assertLessEqual(abs(unit["intercept"]), TOLERANCE)


class DemoSigns(unittest.TestCase):
    """The demo run: the sign of every clearly non-zero effect, and the null TF's interval covers 0."""

    def test_signs_of_planted_effects_are_recovered(self):
        directory = tempfile.mkdtemp(prefix="deepmr-demo-")
        try:
            store = os.path.join(directory, "demo.h5")
            result = deepmr_run(3, run_config(directory, "demo.ini", store))
            self.assertEqual(result.returncode, 0, result.stderr)
            planted = compare.read_planted(os.path.join(SOURCE, "demo", "data", "planted.tsv"))
            rows, complete = compare.compare(store, planted, DEEPMR)
            self.assertEqual(complete, 1)
            self.assertEqual(sorted(r["tf"] for r in rows), sorted(planted))
            checked = nulls = 0
            for row in rows:
                gamma = planted[row["tf"]]["gamma"]
                if abs(gamma) >= compare.CLEARLY_NONZERO:
                    checked += 1
                    self.assertIsNotNone(row["estimate"], row["tf"])
                    self.assertEqual(np.sign(row["estimate"]), np.sign(gamma), row)
                elif gamma == 0:
                    nulls += 1
                    self.assertLessEqual(row["ci_low"], 0.0, row)
                    self.assertGreaterEqual(row["ci_high"], 0.0, row)
            self.assertGreaterEqual(checked, 6)
            self.assertGreaterEqual(nulls, 1)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


class DemoNetwork(unittest.TestCase):
    """The network demo (configs/demo_network.ini): every TF on DNase, on the H3K27ac-like mark and on
    every other TF, from one mutagenesis per region, against the planted edges
    (demo/network/data/edges.tsv; docs/validation.md, "The network demo")."""

    def test_planted_edges_come_back_with_their_signs(self):
        directory = tempfile.mkdtemp(prefix="deepmr-demo-network-")
        try:
            store = os.path.join(directory, "network.h5")
            result = deepmr_run(3, run_config(directory, "demo_network.ini", store))
            self.assertEqual(result.returncode, 0, result.stderr)
            import compare_network  # demo/compare_network.py
            rows = compare_network.compare(store, os.path.join(SOURCE, "demo", "network", "data", "edges.tsv"))
            self.assertEqual(len(rows), 8 * 9)  # 8 TFs on 2 outcomes and 7 other TFs
            by_pair = {(r["exposure"], r["outcome"]): r for r in rows}
            # Every clearly non-zero planted edge, TF -> TF included, has its sign.
            clear = [r for r in rows if r["planted"] is not None and abs(r["planted"]) >= compare_network.CLEARLY_NONZERO]
            self.assertEqual(len(clear), 2 + 7 + 5)  # the 2 TF -> TF edges, 7 on DNase, 5 on the mark
            for r in clear:
                self.assertEqual(r["verdict"], "sign ok", r)
            self.assertGreater(by_pair[("FOXA1", "HNF4A")]["estimate"], 0.1)
            self.assertLess(by_pair[("REST", "CEBPB")]["estimate"], 0)
            self.assertLess(by_pair[("REST", "H3K27ac")]["estimate"], 0)  # the repressor's negative effect
            # Null edges: nothing planted (54 TF -> TF pairs), or a TF -> outcome effect of 0 with no path
            # through a planted edge (CTCF on both outcomes, HNF1A and ZBTB33 on the mark). The null TF's
            # intervals cover 0; the standard-SE meta interval under-covers (the coverage study), so of
            # all null edges at least 80% cover 0 (docs/validation.md: 50 of 58), and every null
            # estimate is smaller than the smallest estimate of a planted edge.
            for pair in (("CTCF", "DNase"), ("CTCF", "H3K27ac")):
                self.assertEqual(by_pair[pair]["verdict"], "covers 0", by_pair[pair])
            nulls = [r for r in rows if r["planted"] is None] + \
                [by_pair[p] for p in (("CTCF", "DNase"), ("CTCF", "H3K27ac"), ("HNF1A", "H3K27ac"), ("ZBTB33", "H3K27ac"))]
            self.assertEqual(len(nulls), 54 + 4)
            covered = sum(r["verdict"] == "covers 0" for r in nulls)
            self.assertGreaterEqual(covered, 0.8 * len(nulls), [r for r in nulls if r["verdict"] != "covers 0"])
            self.assertLess(max(abs(r["estimate"]) for r in nulls), min(abs(r["estimate"]) for r in clear))
            # Direction: FOXA1 -> HNF4A is supported (its shares' difference > 0, p < 0.05).
            edge = by_pair[("FOXA1", "HNF4A")]
            self.assertGreater(edge["direction"], 0)
            self.assertLess(edge["direction_pvalue"], 0.05)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


class Coverage(unittest.TestCase):
    """demo/coverage_study.py on a small study (N = 10, one seed, 3 regions per TF): each unit's truth
    slope is MR-Egger on the simulator's exact effects (as demo/truth_check.py fits it), its coverage
    flags follow from the stored intervals, the tables count the flags, and the meta-analysis it runs
    with the standard SE is the one `deepmr run` stored (C++ against the script's bookkeeping)."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="deepmr-coverage-")
        cls.result = subprocess.run(
            [sys.executable, os.path.join(SOURCE, "demo", "coverage_study.py"), "--out", cls.directory,
             "--samples", "10", "--seeds", "3", "--per-exposure", "3", "--ranks", "2", "--deepmr", DEEPMR],
            env=ENV, capture_output=True, text=True, timeout=600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def table(self, name):
        with open(os.path.join(self.directory, name)) as f:
            header = f.readline().rstrip("\n").split("\t")
            return [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f]

    def test_study_runs_and_draws_its_figure(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertIn("covering the truth slope", self.result.stdout)
        self.assertGreater(os.path.getsize(os.path.join(self.directory, "calibration.png")), 10000)

    def test_truth_slopes_and_flags(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        sys.path.insert(0, os.path.join(SOURCE, "demo"))
        import truth_check
        sim = truth_check.simulator()
        units = self.table("units.tsv")
        self.assertGreaterEqual(len(units), 20)
        store = os.path.join(self.directory, "stores", "n10_seed3.h5")
        with Store(store) as s:
            fits = s.fits("egger")
            names = [t[0] for t in truth_check.simulate.TFS]
            for row in units[:6]:
                u = int(row["unit"])
                self.assertEqual(float(row["estimate"]), float(fits["estimate"][u]))
                bx, bxse, by, byse, _ = s.effects(u)
                keep = (byse > 0) & (bxse > 0) & (np.abs(bx) >= 2 * bxse)
                truth = sim.truth(truth_check.mutants(s.sequence(int(row["region"]))))
                k = names.index(row["tf"])
                slope, _ = truth_check.egger((truth["x"][1:, k] - truth["x"][0, k])[keep],
                                             (truth["y"][1:] - truth["y"][0])[keep], byse[keep])
                self.assertAlmostEqual(float(row["truth_slope"]), slope, delta=1e-9 * max(1, abs(slope)))
        for row in units:
            for name, low, high in (("standard", "ci_low", "ci_high"),
                                    ("jackknife", "ci_low_jackknife", "ci_high_jackknife")):
                inside = float(row[low]) <= float(row["truth_slope"]) <= float(row[high])
                self.assertEqual(int(row["covers_" + name]), int(inside), row)
        for row in self.table("coverage.tsv"):
            se = {"standard": "se", "jackknife": "se_jackknife"}[row["se_type"]]
            flags = [int(u["covers_" + row["se_type"]]) for u in units if np.isfinite(float(u[se]))]
            self.assertEqual(int(row["covered"]), sum(flags), row)

    def test_meta_with_the_standard_se_is_the_stored_one(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        metas = [m for m in self.table("meta.tsv") if m["se_type"] == "standard"]
        self.assertEqual(len(metas), 8)
        with Store(os.path.join(self.directory, "stores", "n10_seed3.h5")) as s:
            meta = s.meta("egger")
            for m in metas:
                e = s.exposures.index(m["tf"])
                if int(meta["k"][e]) != int(m["k"]):
                    continue  # a unit with under 3 instruments left out of the study
                self.assertAlmostEqual(float(m["estimate"]), meta["estimate"][e], delta=1e-9)
                self.assertAlmostEqual(float(m["ci_low"]), meta["ci_low"][e], delta=1e-9)
                inside = float(m["ci_low"]) <= float(m["planted"]) <= float(m["ci_high"])
                self.assertEqual(int(m["covers"]), int(inside))


if __name__ == "__main__":
    unittest.main()
