#!/usr/bin/env python3
"""End-to-end tests of `deepmr export` (docs/export.md) and of the region columns of the tables
(summarize --units, plan's files): a tiny store made by the real binary under mpirun (2 ranks, with
run.store-effects), exported in every format and read back by independent readers: pyBigWig for
bigWig, plain parsers here for BED and bedGraph, each value compared with the store read with h5py
(analysis/deepmr_store) and with values computed here from effects/.

Usage: test_export.py BUILD_DIR SOURCE_DIR [unittest arguments]
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import pyBigWig

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "run"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
import run_support  # noqa: E402
from deepmr_store import STATUS, Store, open_h5, write_attributes  # noqa: E402
from run_support import config, deepmr_run  # noqa: E402

run_support.configure(sys.argv[1], sys.argv[2])
DEEPMR = run_support.DEEPMR
FASTA = os.path.join(run_support.SOURCE, "data", "genome", "hg38_chr22_32000000_32300000.fa")
STATS = ["beta", "se", "z"]
ALTS = ["A", "C", "G", "T", "mean", "maxabs"]


def export(store, fmt, out, *arguments):
    return subprocess.run([DEEPMR, "export", store, "--format", fmt, "--out", out, "--fasta", FASTA] + list(arguments),
                          capture_output=True, text=True)


def fai_sizes():
    with open(FASTA + ".fai") as f:
        return {line.split("\t")[0]: int(line.split("\t")[1]) for line in f if line.strip()}


def expected_track(beta, se, positions, sequence, stat, alt):
    """{window position: float32 value} of one track, computed here from the stored effects."""
    per_base = {}
    seen = {}
    for j, p in enumerate(positions):
        p = int(p)
        ref = sequence[p].upper()
        k = seen.get(p, 0)
        seen[p] = k + 1
        base = [b for b in "ACGT" if b != ref][k]
        b, s = float(beta[j]), float(se[j])
        value = {"beta": b, "se": s, "z": b / s if s > 0 else math.nan}[stat]
        per_base.setdefault(p, {})[base] = value
    out = {}
    for p, values in per_base.items():
        finite = [values[b] for b in "ACGT" if b in values and not math.isnan(values[b])]
        if alt == "mean":
            result = sum(finite) / len(finite) if finite else math.nan
        elif alt == "maxabs":
            result = math.nan
            for v in finite:
                if math.isnan(result) or abs(v) > abs(result):
                    result = v
        else:
            result = values.get(alt, math.nan)
        if not math.isnan(result):
            out[p] = np.float32(result)
    return out


def visible(windows):
    """Visible part of each (start, end) window of one chromosome, sorted: overlaps cut at the
    midpoint between the centres (docs/export.md)."""
    spans = [list(w) for w in windows]
    for i in range(1, len(windows)):
        (a0, a1), (b0, b1) = windows[i - 1], windows[i]
        if b0 >= a1:
            continue
        cut = min(max((a0 + a1 + b0 + b1) // 4, b0), a1)
        spans[i - 1][1] = min(spans[i - 1][1], cut)
        spans[i][0] = max(spans[i][0], cut)
    return [(s, max(s, e)) for s, e in spans]


class StoreView:
    """What the tests compare against, read with h5py through analysis/deepmr_store."""

    def __init__(self, path):
        with Store(path) as s:
            self.exposures = s.exposures
            self.outcome = s.attrs["outcome"]
            self.methods = s.methods
            self.unit_exposure, self.unit_region, self.unit_status = s.unit_exposure, s.unit_region, s.unit_status
            self.chrom = s.strings("regions/chrom")
            self.start, self.end = s.dataset("regions/start"), s.dataset("regions/end")
            self.name = s.strings("regions/name") if s.has("regions/name") else [""] * len(self.start)
            self.summit = s.dataset("regions/summit") if s.has("regions/summit") else np.full(len(self.start), -1)
            self.region_status = s.dataset("regions/status")
            self.fits = {m: s.fits(m) for m in s.methods}
            self.has_effects = s.has_effects
            if s.has_effects:
                self.positions = s.dataset("effects/position")
                self.sequence = s.strings("effects/sequence")
                self.outcome_beta, self.outcome_se = s.dataset("effects/outcome_beta"), s.dataset("effects/outcome_se")
                self.exposure_beta, self.exposure_se = s.dataset("effects/exposure_beta"), s.dataset("effects/exposure_se")

    def subject_rows(self, role, exposure=None):
        """[(region, beta row, se row)] of the outcome or one exposure, done rows only, genome order."""
        if role == "outcome":
            rows = [(r, self.outcome_beta[r], self.outcome_se[r]) for r in range(len(self.start))
                    if self.region_status[r] == STATUS["ok"]]
        else:
            e = self.exposures.index(exposure)
            rows = [(int(self.unit_region[u]), self.exposure_beta[u], self.exposure_se[u])
                    for u in range(len(self.unit_region)) if self.unit_exposure[u] == e and self.unit_status[u] == STATUS["ok"]]
        return sorted(rows, key=lambda row: (self.chrom[row[0]], int(self.start[row[0]])))

    def expected(self, role, exposure, stat, alt):
        """{(chrom, position): float32} of one track."""
        out = {}
        rows = self.subject_rows(role, exposure)
        for chrom in sorted({self.chrom[r] for r, _, _ in rows}):
            on = [row for row in rows if self.chrom[row[0]] == chrom]
            spans = visible([(int(self.start[r]), int(self.end[r])) for r, _, _ in on])
            for (r, beta, se), (lo, hi) in zip(on, spans):
                values = expected_track(beta, se, self.positions, self.sequence[r], stat, alt)
                for p, v in values.items():
                    g = int(self.start[r]) + p
                    if lo <= g < hi:
                        out[(chrom, g)] = v
        return out


def read_bed(path):
    with open(path) as f:
        lines = f.read().splitlines()
    return lines[0], lines[1].split("\t"), [line.split("\t") for line in lines[2:]]


def read_bedgraph(path):
    """{track name: (track line, {(chrom, start): value text})}, checking each line is one base."""
    tracks, current = {}, None
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("track "):
                name = line.split('name="', 1)[1].split('"', 1)[0]
                current = tracks.setdefault(name, (line, {}))[1]
                continue
            chrom, start, end, value = line.split("\t")
            assert int(end) == int(start) + 1, line
            current[(chrom, int(start))] = value
    return tracks


class Export(unittest.TestCase):
    directory = None
    store = None

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="deepmr-export-")
        cls.store = os.path.join(cls.directory, "tiny.h5")
        result = deepmr_run(2, config(cls.directory, "tiny.h5"), "--run.store-effects", "true")
        if result.returncode != 0:
            raise RuntimeError("the tiny run failed: " + result.stderr)
        cls.view = StoreView(cls.store)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.directory, name)

    def copy(self, name):
        shutil.copyfile(self.store, self.path(name))
        return self.path(name)

    def expect_error(self, result, status, *parts):
        self.assertEqual(result.returncode, status, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("deepmr export: error: "), result.stderr)
        for part in parts:
            self.assertIn(part, lines[0])

    # ---- BED of per-region estimates ---------------------------------------------------------
    def test_bed_holds_every_unit_estimate_as_stored(self):
        v = self.view
        for method in v.methods:
            out = self.path("estimates-%s.bed" % method)
            result = export(self.store, "bed", out, "--method", method)
            self.assertEqual(result.returncode, 0, result.stderr)
            track, header, rows = read_bed(out)
            self.assertTrue(track.startswith('track name="deepmr %s" description="' % method), track)
            self.assertNotIn("partial", track)
            self.assertEqual(header, ["#chrom", "start", "end", "name", "score", "strand", "thickStart", "thickEnd",
                                      "itemRgb", "exposure", "method", "estimate", "se", "ci_low", "ci_high", "pvalue",
                                      "status", "peak", "summit", "region", "unit", "outcome"])
            self.assertEqual(len(rows), len(v.unit_region))
            fits = v.fits[method]
            for u, row in enumerate(rows):
                self.assertEqual(len(row), len(header))
                field = dict(zip(header, row))
                r = int(v.unit_region[u])
                self.assertEqual(int(field["unit"]), u)
                self.assertEqual(int(field["region"]), r)
                self.assertEqual((field["#chrom"], int(field["start"]), int(field["end"])),
                                 (v.chrom[r], int(v.start[r]), int(v.end[r])))
                self.assertEqual(field["name"], v.exposures[v.unit_exposure[u]])
                self.assertEqual(field["exposure"], field["name"])
                self.assertEqual(field["peak"], v.name[r] or ".")
                self.assertTrue(field["peak"].startswith("tf"), field["peak"])  # the tiny peaks are named
                self.assertEqual(int(field["summit"]), -1)  # BED peaks: no summit
                for column in ("estimate", "se", "ci_low", "ci_high", "pvalue"):
                    stored = float(fits[column][u])
                    if math.isnan(stored):
                        self.assertEqual(field[column], "NA")
                    else:
                        self.assertEqual(float(field[column]), stored)  # shortest form reads back exactly
                ok = fits["status"][u] == STATUS["ok"]
                self.assertEqual(field["status"], "ok" if ok else "not_estimable")
                p = float(fits["pvalue"][u])
                self.assertEqual(int(field["score"]), min(1000, int(math.floor(-10 * math.log10(p)))) if ok and p > 0 else
                                 (1000 if ok else 0))
                estimate = float(fits["estimate"][u])
                self.assertEqual(field["itemRgb"], "153,153,153" if not ok else
                                 ("178,24,43" if estimate > 0 else "33,102,172"))

    def test_bed_filters_exposures(self):
        out = self.path("tfb.bed")
        result = export(self.store, "bed", out, "--exposure", "TFB")
        self.assertEqual(result.returncode, 0, result.stderr)
        _, _, rows = read_bed(out)
        self.assertEqual({row[3] for row in rows}, {"TFB"})
        self.assertEqual(len(rows), int(np.sum(self.view.unit_exposure == self.view.exposures.index("TFB"))))

    def test_partial_store_exports_what_is_done_and_says_so(self):
        partial = self.copy("partial.h5")
        tfb = self.view.exposures.index("TFB")
        with open_h5(partial, "r+") as h5:
            status = h5["units/status"][:]
            status[self.view.unit_exposure == tfb] = 0
            h5["units/status"][:] = status
            write_attributes(h5, {"complete": 0, "units_done": int(np.sum(status == 1))})
        out = self.path("partial.bed")
        result = export(partial, "bed", out)
        self.assertEqual(result.returncode, 75, result.stderr)
        self.assertIn("partial store", result.stderr)
        track, _, rows = read_bed(out)
        done = int(np.sum(self.view.unit_exposure != tfb))
        self.assertIn("(partial store: %d of %d units done)" % (done, len(self.view.unit_region)), track)
        self.assertEqual(len(rows), done)
        self.assertNotIn("TFB", {row[3] for row in rows})
        # Effect tracks too: no TFB track (no unit done), the others in full.
        tracks = self.path("partial-tracks")
        result = export(partial, "bigwig", tracks, "--stat", "z", "--alt", "maxabs")
        self.assertEqual(result.returncode, 75, result.stderr)
        self.assertEqual(sorted(os.listdir(tracks)), sorted("exposure.%s.z.maxabs.bw" % e for e in ("TFA", "TFC")) +
                         ["outcome.%s.z.maxabs.bw" % self.view.outcome.replace("|", "_")])

    # ---- bigWig and bedGraph of per-mutant effects ------------------------------------------
    def check_bigwig(self, path, role, exposure, stat, alt):
        expected = self.view.expected(role, exposure, stat, alt)
        self.assertGreater(len(expected), 100)
        bw = pyBigWig.open(path)
        try:
            self.assertTrue(bw.isBigWig())
            self.assertEqual(bw.chroms(), fai_sizes())
            got = {}
            for chrom in bw.chroms():
                for start, end, value in bw.intervals(chrom) or []:
                    self.assertEqual(end, start + 1)
                    got[(chrom, start)] = np.float32(value)
        finally:
            bw.close()
        self.assertEqual(set(got), set(expected), path)
        for key, value in expected.items():
            self.assertEqual(got[key], value, "%s at %s" % (path, key))
        return got

    def test_bigwig_tracks_hold_the_stored_effects(self):
        out = self.path("tracks")
        result = export(self.store, "bigwig", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        outcome = self.view.outcome.replace("|", "_")
        subjects = [("outcome", None, outcome)] + [("exposure", e, e) for e in self.view.exposures]
        names = sorted("%s.%s.%s.%s.bw" % (role, label, stat, alt) for role, _, label in subjects
                       for stat in STATS for alt in ALTS)
        self.assertEqual(sorted(os.listdir(out)), names)
        for role, exposure, label in subjects:
            for stat in STATS:
                for alt in ALTS:
                    self.check_bigwig(os.path.join(out, "%s.%s.%s.%s.bw" % (role, label, stat, alt)),
                                      role, exposure, stat, alt)

    def test_a_full_disk_leaves_no_track_that_looks_whole(self):
        # libBigWig reports no write error: each file is read back before it takes its name.
        disk = self.path("disk")
        os.makedirs(disk, exist_ok=True)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", disk], capture_output=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here: " + mounted.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["umount", disk])
        result = export(self.store, "bigwig", disk)
        self.expect_error(result, 2, "cannot write the bigWig file", "No space left on device")
        written = os.listdir(disk)
        self.assertTrue(all(name.endswith(".bw") for name in written), written)
        self.assertLess(len(written), 72)
        for name in written:
            bw = pyBigWig.open(os.path.join(disk, name))
            self.assertGreater(bw.header()["nBasesCovered"], 0, name)
            bw.close()

    def test_bedgraph_holds_the_same_values_as_the_bigwig(self):
        out = self.path("tracks.bedGraph")
        result = export(self.store, "bedgraph", out, "--exposure", "TFA", "--outcome", "--stat", "beta,z")
        self.assertEqual(result.returncode, 0, result.stderr)
        tracks = read_bedgraph(out)
        expected_names = ["outcome.%s.%s.%s" % (self.view.outcome, stat, alt) for stat in ("beta", "z") for alt in ALTS]
        expected_names += ["exposure.TFA.%s.%s" % (stat, alt) for stat in ("beta", "z") for alt in ALTS]
        self.assertEqual(list(tracks), expected_names)
        for name, (line, values) in tracks.items():
            role, rest = name.split(".", 1)
            stat, alt = rest.rsplit(".", 2)[1:]
            self.assertIn("type=bedGraph", line)
            expected = self.view.expected(role, "TFA" if role == "exposure" else None, stat, alt)
            self.assertEqual(set(values), set(expected), name)
            for key, text in values.items():
                self.assertEqual(np.float32(text), expected[key], "%s at %s" % (name, key))
                # Shortest text that reads back to the float: one digit fewer would not.
                digits = text.lstrip("-").replace(".", "").split("e")[0].lstrip("0")
                if len(digits) > 1:
                    shorter = float("%.*g" % (len(digits) - 1, float(text)))
                    self.assertNotEqual(np.float32(shorter), expected[key], text)

    def test_filters_choose_the_tracks(self):
        out = self.path("outcome-only")
        result = export(self.store, "bigwig", out, "--outcome", "--stat", "se", "--alt", "mean,A")
        self.assertEqual(result.returncode, 0, result.stderr)
        outcome = self.view.outcome.replace("|", "_")
        self.assertEqual(sorted(os.listdir(out)), ["outcome.%s.se.A.bw" % outcome, "outcome.%s.se.mean.bw" % outcome])
        out = self.path("tfc-only")
        result = export(self.store, "bigwig", out, "--exposure", "TFC", "--stat", "z", "--alt", "T")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.listdir(out), ["exposure.TFC.z.T.bw"])
        self.check_bigwig(os.path.join(out, "exposure.TFC.z.T.bw"), "exposure", "TFC", "z", "T")

    def test_exports_are_byte_identical_for_the_same_store(self):
        other = self.copy("same.h5")
        for fmt, name in (("bed", "a.bed"), ("bedgraph", "a.bedGraph"), ("bigwig", "a-tracks")):
            first, second = self.path("first-" + name), self.path("second-" + name)
            chosen = [] if fmt == "bed" else ["--stat", "z"]
            self.assertEqual(export(self.store, fmt, first, *chosen).returncode, 0)
            self.assertEqual(export(other, fmt, second, *chosen).returncode, 0)
            files = sorted(os.listdir(first)) if fmt == "bigwig" else [""]
            self.assertGreater(len(files), 0)
            for f in files:
                with open(os.path.join(first, f) if f else first, "rb") as a, \
                        open(os.path.join(second, f) if f else second, "rb") as b:
                    self.assertEqual(a.read(), b.read(), "%s %s" % (fmt, f))

    # ---- errors ------------------------------------------------------------------------------
    def test_a_store_without_effects_has_no_tracks(self):
        plain = self.copy("no-effects.h5")
        with open_h5(plain, "r+") as h5:
            del h5["effects"]
        for fmt in ("bigwig", "bedgraph"):
            self.expect_error(export(plain, fmt, self.path("none-" + fmt)), 5, "no per-mutant effects",
                              "run.store-effects = true")
        self.assertEqual(export(plain, "bed", self.path("plain.bed")).returncode, 0)

    def test_bad_requests_are_usage_or_input_errors(self):
        self.expect_error(export(self.store, "wig", self.path("x")), 2, "unknown export format 'wig'")
        self.expect_error(export(self.store, "bigwig", self.path("x"), "--method", "egger"), 2, "'method'")
        self.expect_error(export(self.store, "bed", self.path("x"), "--exposure", "TFZ"), 2, "no exposure 'TFZ'",
                          "TFA, TFB, TFC")
        self.expect_error(export(self.store, "bed", self.path("x"), "--outcome"), 2, "'outcome'")
        self.expect_error(export(self.store, "bigwig", self.path("x"), "--stat", "p"), 2, "unknown value 'p'")
        result = subprocess.run([DEEPMR, "export", self.store, "--format", "bigwig", "--out", self.path("x"),
                                 "--fasta", self.path("absent.fa")], capture_output=True, text=True)
        self.expect_error(result, 3, "absent.fa", "--fasta")
        self.expect_error(export(self.path("absent.h5"), "bed", self.path("x")), 5, "absent.h5")

    # ---- region columns of the tables ---------------------------------------------------------
    def test_summarize_units_carries_the_region_coordinates_and_peak(self):
        result = subprocess.run([DEEPMR, "summarize", self.store, "--units"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        header = lines[0].split("\t")
        self.assertEqual(header[:10], ["unit", "exposure", "outcome", "region", "chrom", "start", "end", "name", "summit",
                                       "method"])
        v = self.view
        for line in lines[1:]:
            field = dict(zip(header, line.split("\t")))
            r = int(field["region"])
            self.assertEqual((field["chrom"], int(field["start"]), int(field["end"]), field["name"], field["summit"]),
                             (v.chrom[r], int(v.start[r]), int(v.end[r]), v.name[r], ""))
            self.assertTrue(field["name"].startswith("tf"))

    def test_a_store_without_peak_names_reads_with_empty_names(self):
        old = self.copy("old.h5")
        with open_h5(old, "r+") as h5:
            del h5["regions/name"]
            del h5["regions/summit"]
        result = subprocess.run([DEEPMR, "summarize", old, "--units"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
        self.assertEqual({(row[7], row[8]) for row in rows}, {("", "")})
        self.assertEqual(export(old, "bed", self.path("old.bed")).returncode, 0)
        _, _, bed = read_bed(self.path("old.bed"))
        self.assertEqual({(row[17], row[18]) for row in bed}, {(".", "-1")})

    def test_plan_units_and_regions_carry_coordinates_and_peak(self):
        out = self.path("plan")
        result = subprocess.run([DEEPMR, "plan", "--config", config(self.directory, "plan.h5"), "--out", out],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        v = self.view
        with open(os.path.join(out, "units.tsv")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0].split("\t"), ["unit", "exposure", "region", "chrom", "start", "end", "name", "summit"])
        self.assertEqual(len(lines) - 1, len(v.unit_region))
        for u, line in enumerate(lines[1:]):
            _, exposure, region, chrom, start, end, name, summit = line.split("\t")
            r = int(region)
            self.assertEqual(r, int(v.unit_region[u]))
            self.assertEqual((chrom, int(start), int(end), name, summit), (v.chrom[r], int(v.start[r]), int(v.end[r]), v.name[r], ""))
        with open(os.path.join(out, "regions.bed")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "#chrom\tstart\tend\tregion\texposures\tname\tsummit")
        for r, line in enumerate(lines[1:]):
            chrom, start, end, region, _, name, summit = line.split("\t")
            self.assertEqual((chrom, int(start), int(end), int(region), name, int(summit)),
                             (v.chrom[r], int(v.start[r]), int(v.end[r]), r, v.name[r] or ".", int(v.summit[r])))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
