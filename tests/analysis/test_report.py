#!/usr/bin/env python3
"""Tests of analysis/report.py (the paper's Figures 2 and 3, the scaling plots, report.html).

Usage: test_report.py BUILD_DIR SOURCE_DIR [unittest arguments, e.g. -k FromDeepmr]

  FromDeepmr   (CTest label mpi) stores written by the real binary under mpirun from
               configs/test_tiny.ini: with per-mutant effects, without, with one region per
               exposure, and partial stores derived from them.
  Offline      (label unit) a synthetic store written here with h5py, the scaling plots, bad input,
               the KDE and planted-effect helpers.

Expectations are computed here with numpy from the datasets as stored (read with deepmr_store's
Store.dataset, the package's one h5py reader), not with the report's code.
"""
import base64
import glob
import html.parser
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
DEEPMR = os.path.join(BUILD, "bin", "deepmr")
REPORT = os.path.join(SOURCE, "analysis", "report.py")
MPIRUN = ["mpirun", "-q", "--oversubscribe", "--allow-run-as-root"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
sys.path.insert(0, os.path.join(SOURCE, "analysis"))
from deepmr_store import META_COLUMNS, PLANTED_ATTRIBUTE, STATUS, Store, open_h5, strings, write_attributes  # noqa: E402

# Pixel sizes the report promises (analysis/README.md).
KDE_SIZE, SCATTER_SIZE, SCALING_SIZE, MUTATION_MAP_SIZE = (440, 640), (560, 640), (400, 1000), (640, 1100)
BASES = "ACGT"


def meta_size(exposures):
    return (480, max(700, 160 + 34 * exposures))


def expected_size(name, exposures):
    if name.startswith("fig2") and "_kde_" in name:
        return KDE_SIZE
    if name.startswith("fig2") and "_scatter_" in name:
        return SCATTER_SIZE
    if name.startswith("fig3"):
        return meta_size(exposures)
    if name.startswith("scaling_"):
        return SCALING_SIZE
    if name.startswith("mutmap_"):
        return MUTATION_MAP_SIZE
    if name.startswith("forest_") or name.startswith("network_"):
        return None  # its size depends on its rows (and a network's on its outputs)
    raise AssertionError("unexpected figure " + name)


def run_report(*arguments):
    return subprocess.run([sys.executable, REPORT] + [str(a) for a in arguments], capture_output=True, text=True,
                          timeout=300)


def tiny_config(directory, name, extra=""):
    with open(os.path.join(SOURCE, "configs", "test_tiny.ini")) as f:
        text = f.read()
    for relative in ("tests/data/models/conv1d_small.pt", "data/genome/hg38_chr22_32000000_32300000.fa",
                     "tests/data/run/tfa.bed", "tests/data/run/tfb.bed", "tests/data/run/tfc.bed"):
        text = text.replace(relative, os.path.join(SOURCE, relative))
    text = text.replace("store = tiny.h5", "store = %s\nthreads = 1\n%s" % (os.path.join(directory, name), extra))
    path = os.path.join(directory, name + ".ini")
    with open(path, "w") as f:
        f.write(text)
    return path


def deepmr_store(directory, name, extra="", arguments=()):
    result = subprocess.run(MPIRUN + ["-n", "3", DEEPMR, "run", "--config", tiny_config(directory, name, extra)]
                            + list(arguments), env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return os.path.join(directory, name)


def write_scaling_csv(path, mode="strong", rows=((2, 1, 1.0), (3, 2, 0.55), (4, 3, 0.4))):
    base_t, base_w = rows[0][2], rows[0][1]
    with open(path, "w") as f:
        f.write("mode,ranks,workers,units,repeats,seconds,units_per_second,efficiency,seconds_all\n")
        for ranks, workers, seconds in rows:
            eff = (base_t * base_w) / (seconds * workers) if mode == "strong" else base_t / seconds
            f.write("%s,%d,%d,12,3,%r,%r,%r,%r %r %r\n" % (mode, ranks, workers, seconds, 12 / seconds, eff,
                                                         seconds * 0.95, seconds, seconds * 1.1))
    return path


class Page(html.parser.HTMLParser):
    """Tables (id -> rows of (text, attrs)), figures (data-file -> img src), notes, all resource URLs."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.figures, self.resources, self.notes = {}, {}, [], []
        self._table = self._row = self._cell = self._figure = self._note = None
        self._depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a and not a[key].startswith("data:") and not a[key].startswith("#"):
                self.resources.append((tag, a[key]))
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ["", a]
        elif tag == "figure":
            self._figure = a.get("data-file")
        elif tag == "img" and self._figure:
            self.figures[self._figure] = a
        elif tag == "div" and "note" in a.get("class", ""):
            self._note, self._depth = [a, ""], 1
        elif tag == "div" and self._note is not None:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((self._cell[0].strip(), self._cell[1]))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "figure":
            self._figure = None
        elif tag == "div" and self._note is not None:
            self._depth -= 1
            if self._depth == 0:
                self.notes.append((self._note[0], self._note[1].strip()))
                self._note = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data
        if self._note is not None:
            self._note[1] += data

    def table(self, name):
        """{first cell text: {header: (text, attrs)}} of one table."""
        rows = self.tables[name]
        header = [text for text, _ in rows[0]]
        return {row[0][0]: dict(zip(header, row)) for row in rows[1:]}


def store_estimates(path, method):
    """{exposure name: [(estimate, unit)]} of done units with an ok, finite fit."""
    with Store(path) as s:
        names = s.strings("exposures/name")
        est = s.dataset("fits/%s/estimate" % method)
        ok = ((s.dataset("units/status") == STATUS["ok"]) & (s.dataset("fits/%s/status" % method) == STATUS["ok"])
              & np.isfinite(est))
        exposure = s.dataset("units/exposure")
    out = {n: [] for n in names}
    for u in np.flatnonzero(ok):
        out[names[exposure[u]]].append((float(est[u]), int(u)))
    return out


def expected_map_files(path, method):
    """The mutation maps a report of this store draws, computed here: per exposure with estimable units, the
    median-estimate unit (lower median, ties by unit) and the largest |estimate / se| (ties by unit)."""
    files = {}
    with Store(path) as s:
        names = s.strings("exposures/name")
        se = s.dataset("fits/%s/se" % method)
    for name, pairs in store_estimates(path, method).items():
        if not pairs:
            continue
        median = sorted(pairs)[(len(pairs) - 1) // 2][1]
        extreme = max(pairs, key=lambda p: (abs(p[0] / se[p[1]]), -p[1]))[1]
        files["mutmap_%s_median.png" % name] = median
        if extreme != median:
            files["mutmap_%s_extreme.png" % name] = extreme
    assert names
    return files


def independent_forest(path, method):
    """{file: (exposure index, units, weights, pooled estimate)} of the forest plots a report of this store
    draws, from the datasets: per exposure whose meta/<method> row is ok, its done units whose fit is ok with a
    finite estimate and a finite, positive se, weighted by 1 / (se^2 + tau^2)."""
    out = {}
    with Store(path) as s:
        names = s.strings("exposures/name")
        status = s.dataset("meta/%s/status" % method)
        tau2 = s.dataset("meta/%s/tau2" % method)
        est, se = s.dataset("fits/%s/estimate" % method), s.dataset("fits/%s/se" % method)
        pooled = ((s.dataset("units/status") == STATUS["ok"]) & (s.dataset("fits/%s/status" % method) == STATUS["ok"])
                  & np.isfinite(est) & np.isfinite(se) & (se > 0))
        exposure = s.dataset("units/exposure")
    for e, name in enumerate(names):
        if status[e] != STATUS["ok"]:
            continue
        units = np.flatnonzero(pooled & (exposure == e))
        w = 1.0 / (se[units] ** 2 + (tau2[e] if math.isfinite(tau2[e]) else 0.0))
        out["forest_%s.png" % name] = (e, units, w / w.sum(), float(np.sum(w * est[units]) / w.sum()))
    return out


def independent_map(path, unit):
    """(exposure 4 x L, outcome 4 x L, sequence) of one unit from the datasets as stored: column j is position
    j // 3 and the (j % 3)-th base of A, C, G, T other than the reference; reference cells NaN."""
    with Store(path) as s:
        region = int(s.dataset("units/region")[unit])
        sequence = s.strings("effects/sequence")[region]
        bx = s.dataset("effects/exposure_beta")[unit].astype(np.float64)
        by = s.dataset("effects/outcome_beta")[region].astype(np.float64)
    length = len(sequence)
    ex, out = np.full((4, length), np.nan), np.full((4, length), np.nan)
    for j in range(3 * length):
        p = j // 3
        alt = [b for b in BASES if b != sequence[p]][j % 3]
        ex[BASES.index(alt), p] = bx[j]
        out[BASES.index(alt), p] = by[j]
    return ex, out, sequence


def bw_nrd0(x):
    x = np.asarray(x, dtype=float)
    q1, q3 = np.percentile(x, [25, 75])
    return 0.9 * min(np.std(x, ddof=1), (q3 - q1) / 1.34) * len(x) ** -0.2


class ReportChecks(unittest.TestCase):
    def assertPngs(self, out, exposures):
        """Every PNG decodes to its expected size and is not blank; the manifest lists exactly them."""
        pngs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png")))
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(sorted(manifest["figures"]), pngs)
        self.assertEqual(manifest["internal_errors"], [])
        for name in pngs:
            image = matplotlib.image.imread(os.path.join(out, name))
            if expected_size(name, exposures) is not None:
                self.assertEqual(image.shape[:2], expected_size(name, exposures), name)
            rgb = image[..., :3]
            self.assertGreater(float(rgb.var()), 2e-3, name + " is blank")
            non_white = np.mean(np.any(rgb < 0.9, axis=-1))
            self.assertGreater(non_white, 0.03, name + " is (nearly) empty")
            coloured = np.mean(np.ptp(rgb, axis=-1) > 0.15)  # not only black text on white
            self.assertGreater(coloured, 0.002, name + " has no coloured marks")
        return pngs

    def assertHtml(self, out, pngs):
        """report.html is self-contained and embeds every PNG byte for byte."""
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            text = f.read()
        page = Page(text)
        self.assertNotIn("<script", text)
        self.assertNotIn("<link", text)
        external = [r for r in page.resources if r[0] != "a"]
        self.assertEqual(external, [], "report.html loads external resources")
        self.assertNotIn("Traceback", text)
        self.assertEqual(sorted(page.figures), pngs)
        for name in pngs:
            self.assertIn(name, text)
            src = page.figures[name]["src"]
            self.assertTrue(src.startswith("data:image/png;base64,"), name)
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(base64.b64decode(src.split(",", 1)[1]), f.read(), name + " embedded differs")
        return page, text

    def assertMutationMaps(self, out, text, store, method):
        """The maps drawn are those of each exposure's median and most extreme units, their numbers those of the
        store (read here), their captions name the unit; returns {file: unit}."""
        import mutation_maps
        files = expected_map_files(store, method)
        drawn = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "mutmap_*.png")))
        self.assertEqual(drawn, sorted(files))
        self.assertIn('<h2 id="mutation-maps">Mutation maps</h2>', text)
        with Store(store) as s:
            for name, unit in files.items():
                exposure = name[len("mutmap_"):].rsplit("_", 1)[0]
                caption = re.search(r'data-file="%s">.*?<figcaption>(.*?)</figcaption>' % re.escape(name), text, re.S)
                self.assertIsNotNone(caption, name)
                self.assertIn("Mutation map of %s, " % exposure, caption.group(1))
                self.assertIn("(unit %d, " % unit, caption.group(1))
                ex, outcome, sequence = independent_map(store, unit)
                data = mutation_maps.map_data(s, unit)
                self.assertEqual(data["sequence"], sequence)
                np.testing.assert_array_equal(data["exposure"], ex)
                np.testing.assert_array_equal(data["outcome"], outcome)
                for p, base in enumerate(sequence):  # the reference cell is empty, the other three hold effects
                    self.assertTrue(math.isnan(data["exposure"][BASES.index(base), p]))
                    self.assertEqual(int(np.isfinite(data["exposure"][:, p]).sum()), 3)
                for key, matrix in (("exposure_logo", ex), ("outcome_logo", outcome)):
                    expected = np.array([-np.mean(matrix[[b for b in range(4) if BASES[b] != sequence[p]], p])
                                         for p in range(len(sequence))])
                    np.testing.assert_allclose(data[key], expected, rtol=1e-12, atol=0)
        return files

    def assertForest(self, out, text, store, method):
        """One forest plot per exposure with an estimable meta-analysis, its rows and weights those computed
        here, its pooled weighted mean the store's meta estimate (deepmr's meta-analysis, recomputed), its height
        that of its rows; returns the files."""
        import forest
        files = independent_forest(store, method)
        drawn = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "forest_*.png")))
        self.assertEqual(drawn, sorted(files))
        self.assertIn('<h2 id="forest-plots">Forest plots</h2>', text)
        with Store(store) as s:
            meta_estimate = s.dataset("meta/%s/estimate" % method)
            k = s.dataset("meta/%s/k" % method)
            for name, (e, units, weight, pooled) in files.items():
                self.assertEqual(len(units), int(k[e]), name)
                self.assertAlmostEqual(pooled, float(meta_estimate[e]), delta=1e-9 * max(1.0, abs(meta_estimate[e])),
                                       msg=name)
                data = forest.forest_data(s, method, e)
                np.testing.assert_array_equal(data["units"], units)
                np.testing.assert_allclose(data["weight"], weight, rtol=1e-12)
                rows = min(len(units), forest.MAX_ROWS)
                image = matplotlib.image.imread(os.path.join(out, name))
                self.assertEqual(image.shape[:2], (150 + 16 * (rows + 5), 900), name)
                caption = re.search(r'data-file="%s">.*?<figcaption>(.*?)</figcaption>' % re.escape(name), text, re.S)
                self.assertIsNotNone(caption, name)
                self.assertIn("Forest plot of %s&#x27;s random-effects meta-analysis" % s.exposures[e],
                              caption.group(1))
        return files

    def assertMetaTable(self, page, store, method, planted=None):
        table = page.table("meta-table")
        with Store(store) as s:
            names = s.strings("exposures/name")
            self.assertEqual(sorted(table), sorted(names))
            for column in META_COLUMNS:
                values = s.dataset("meta/%s/%s" % (method, column))
                for e, name in enumerate(names):
                    text, attrs = table[name][column]
                    exact = float(attrs["data-value"])
                    if math.isnan(values[e]):
                        self.assertTrue(math.isnan(exact), (name, column))
                        self.assertEqual(text, "n/a")
                        continue
                    self.assertEqual(exact, float(values[e]), (name, column))
                    self.assertAlmostEqual(float(text), float(values[e]), delta=1e-5 * max(1.0, abs(values[e])),
                                           msg=(name, column))
        if planted:
            for name, value in planted.items():
                self.assertEqual(float(table[name]["planted"][1]["data-value"]), value)


class FromDeepmr(ReportChecks):
    directory = None

    @classmethod
    def setUpClass(cls):
        assert os.path.exists(DEEPMR), "needs the deepmr binary: " + DEEPMR
        cls.directory = tempfile.mkdtemp(prefix="deepmr-analysis-")
        cls.store = deepmr_store(cls.directory, "effects.h5", "store-effects = true")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="report-", dir=self.directory)

    def test_full_report_from_a_store_with_effects(self):
        planted = {"TFA": -0.5, "TFB": 0.25}
        tsv = os.path.join(self.directory, "planted.tsv")
        with open(tsv, "w") as f:
            f.write("exposure\tplanted_effect\n" + "".join("%s\t%r\n" % kv for kv in planted.items()))
        csv = write_scaling_csv(os.path.join(self.directory, "scaling.csv"))
        result = run_report(self.store, "--out", self.out, "--planted", tsv, "--scaling", csv)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

        estimates = store_estimates(self.store, "egger")
        names = list(estimates)
        chosen = sorted(names, key=lambda n: (-len(estimates[n]), names.index(n)))[:2]
        expected = ["fig2a_kde_all.png", "fig2b_kde_%s.png" % chosen[0], "fig2c_kde_%s.png" % chosen[1],
                    "fig2d_scatter_%s.png" % chosen[0], "fig2e_scatter_%s.png" % chosen[1], "fig3_meta_egger.png",
                    "scaling_strong.png"] + list(expected_map_files(self.store, "egger"))
        expected += list(independent_forest(self.store, "egger"))
        self.assertEqual(len(independent_forest(self.store, "egger")), len(names))  # every exposure is pooled
        pngs = self.assertPngs(self.out, len(names))
        self.assertEqual(pngs, sorted(expected))
        page, text = self.assertHtml(self.out, pngs)
        self.assertMutationMaps(self.out, text, self.store, "egger")
        self.assertForest(self.out, text, self.store, "egger")
        self.assertEqual([n for n in page.notes if "skipped" in n[0].get("class", "")], [])
        self.assertMetaTable(page, self.store, "egger", planted)

        # Figure 2d is drawn for the median-estimate region (lower median), named in its caption.
        for name in chosen:
            pairs = sorted(estimates[name])
            unit = pairs[(len(pairs) - 1) // 2][1]
            self.assertRegex(text, r"%s&#x27;s median-estimate region [^(]*\(unit %d," % (name, unit))

        # The results paragraph's numbers, computed here.
        with open(os.path.join(self.out, "summary.json")) as f:
            summary = json.load(f)
        every = np.array([e for n in names for e, _ in estimates[n]])
        q1, median, q3 = np.percentile(every, [25, 50, 75])
        o = summary["overall"]
        self.assertEqual(o["n"], len(every))
        self.assertEqual(o["negative"], int(np.sum(every < 0)))
        for key, value in (("q1", q1), ("median", median), ("q3", q3)):
            self.assertAlmostEqual(o[key], value, places=12)
        h = bw_nrd0(every)
        self.assertAlmostEqual(o["bandwidth"], h, places=12)
        grid = np.linspace(every.min() - 3 * h, every.max() + 3 * h, 20001)
        density = np.exp(-0.5 * ((grid[:, None] - every[None, :]) / h) ** 2).sum(axis=1)
        self.assertAlmostEqual(o["mode"], grid[np.argmax(density)], delta=2 * (grid[1] - grid[0]))
        for row in summary["exposures"]:
            x = [e for e, _ in estimates[row["exposure"]]]
            self.assertAlmostEqual(row["median"], float(np.median(x)), places=12)
            self.assertEqual(row["negative"], sum(v < 0 for v in x))
        summary_table = page.table("summary-table")
        self.assertAlmostEqual(float(summary_table["all exposures"]["median"][1]["data-value"]), median, places=12)
        self.assertIn("%d are negative" % int(np.sum(every < 0)) if np.sum(every < 0) != 1 else "1 is negative", text)

        # Provenance: model hash, versions, config verbatim, completeness.
        with Store(self.store) as s:
            sha, config, versions = (s.attrs[k] for k in ("model_sha256", "config", "versions"))
        provenance = page.table("provenance")
        self.assertEqual(provenance["model_sha256"]["value"][0], sha)
        self.assertEqual(provenance["complete"]["value"][0], "1")
        self.assertIn(html_escape(config), text)
        self.assertIn(html_escape(versions), text)
        self.assertIn("Complete run: 12 of 12 units done", text)
        self.assertIn("planted.tsv", text)
        speedups = [float(r[6][1]["data-value"]) for r in page.tables["scaling-scaling_strong"][1:]]
        np.testing.assert_allclose(speedups, [1.0, 1.0 / 0.55, 1.0 / 0.4])

    def test_network_figures_and_figure_3_of_every_outcome(self):
        # Two listed outcomes and analysis.network: Figure 3 of each outcome (without the exposure
        # that is its own output), the matrix and the edges, pairs_<method>.tsv with the store's values.
        store = deepmr_store(self.directory, "network.h5", arguments=(
            "--analysis.outcome", "conv1d_small|out0", "--analysis.outcome", "conv1d_small|out4",
            "--analysis.network", "true"))
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with Store(store) as s:
            outcomes, exposures = s.outcomes, s.exposures
            meta, direction = s.meta_pairs("egger"), s.direction_pairs()
            pairs = [(e, o) for e in range(len(exposures)) for o in range(len(outcomes)) if not s.self_pair(e, o)]
        self.assertEqual(len(outcomes), 5)
        pngs = self.assertPngs(self.out, len(exposures))
        safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", o).strip("._") for o in outcomes]
        for name in ["fig3_meta_egger.png", "network_matrix_egger.png", "network_edges_egger.png"] + \
                ["fig3_meta_egger_%s.png" % n for n in safe[1:]]:
            self.assertIn(name, pngs)
        page, text = self.assertHtml(self.out, pngs)
        self.assertIn("Network: every (exposure, outcome) pair", text)
        with open(os.path.join(self.out, "pairs_egger.tsv")) as f:
            header, *rows = [line.rstrip("\n").split("\t") for line in f]
        self.assertEqual(len(rows), len(pairs))
        for (e, o), row in zip(pairs, rows):
            field = dict(zip(header, row))
            self.assertEqual((field["exposure"], field["outcome"]), (exposures[e], outcomes[o]))
            r = e * len(outcomes) + o
            self.assertEqual(float(field["estimate"]), float(meta["estimate"][r]))
            self.assertEqual(float(field["direction"]), float(direction["estimate"][r]))

    def test_method_option_and_rerun_into_the_same_directory(self):
        self.assertEqual(run_report(self.store, "--out", self.out).returncode, 0)
        result = run_report(self.store, "--out", self.out, "--method", "ivw", "--exposures", "TFC")
        self.assertEqual(result.returncode, 0, result.stderr)
        pngs = self.assertPngs(self.out, 3)  # the first report's figures are gone
        self.assertEqual(pngs, sorted(["fig2a_kde_all.png", "fig2b_kde_TFC.png", "fig2c_scatter_TFC.png", "fig3_meta_ivw.png"]
                                      + list(expected_map_files(self.store, "ivw"))
                                      + list(independent_forest(self.store, "ivw"))))
        page, text = self.assertHtml(self.out, pngs)
        self.assertMutationMaps(self.out, text, self.store, "ivw")
        self.assertForest(self.out, text, self.store, "ivw")
        self.assertMetaTable(page, self.store, "ivw")

    def test_store_without_effects_skips_figure_2d_with_a_note(self):
        store = deepmr_store(self.directory, "plain.h5")
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("skipped", result.stderr)
        pngs = self.assertPngs(self.out, 3)
        self.assertFalse([p for p in pngs if "scatter" in p])
        self.assertIn("fig3_meta_egger.png", pngs)
        page, _ = self.assertHtml(self.out, pngs)
        notes = {n[0].get("data-figure"): n[1] for n in page.notes if n[0].get("data-figure")}
        scatter_notes = [k for k in notes if "_scatter_" in k]
        self.assertEqual(len(scatter_notes), 2, notes)
        for k in scatter_notes:
            self.assertIn("no per-mutant effects", notes[k])
            self.assertIn("store-effects", notes[k])
        self.assertFalse([p for p in pngs if p.startswith("mutmap_")])
        missing = [n[1] for n in page.notes if "No mutation maps" in n[1]]
        self.assertEqual(len(missing), 1, page.notes)
        self.assertIn("store-effects", missing[0])
        self.assertMetaTable(page, store, "egger")

    def test_one_region_per_exposure(self):
        store = deepmr_store(self.directory, "one.h5", "store-effects = true", ["--regions.per-exposure", "1"])
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        pngs = self.assertPngs(self.out, 3)
        self.assertIn("fig2a_kde_all.png", pngs)  # three regions across exposures
        self.assertFalse([p for p in pngs if p.startswith("fig2b_kde") or p.startswith("fig2c_kde")])
        page, _ = self.assertHtml(self.out, pngs)
        kde_notes = [n[1] for n in page.notes if "_kde_" in (n[0].get("data-figure") or "")]
        self.assertEqual(len(kde_notes), 2)
        for note in kde_notes:
            self.assertIn("1 estimable region", note)
        self.assertMetaTable(page, store, "egger")

    def test_partial_store(self):
        store = os.path.join(self.directory, "partial.h5")
        shutil.copy(self.store, store)
        with open_h5(store, "r+") as f:  # what a stopped run leaves: TFB's units and one TFA unit pending
            names = strings(f["exposures/name"])
            exposure = f["units/exposure"][:]
            pending = np.flatnonzero(exposure == names.index("TFB")).tolist()
            pending.append(int(np.flatnonzero(exposure == names.index("TFA"))[0]))
            status = f["units/status"][:]
            status[pending] = STATUS["pending"]
            f["units/status"][:] = status
            for method in f["fits"]:
                for column in f["fits"][method]:
                    data = f["fits"][method][column]
                    values = data[:]
                    if data.dtype.kind == "f":
                        values[pending] = np.nan
                    elif column == "status":
                        values[pending] = STATUS["pending"]
                    data[:] = values
            write_attributes(f, {"complete": 0, "units_done": len(status) - len(pending)})
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        pngs = self.assertPngs(self.out, 3)
        page, text = self.assertHtml(self.out, pngs)
        self.assertIn("Partial store", text)
        self.assertIn("%d of 12 units done" % (12 - len(pending)), text)
        self.assertEqual(len(page.tables["units-table"]) - 1, len(pending))
        with open(os.path.join(self.out, "summary.json")) as f:
            self.assertEqual(json.load(f)["overall"]["n"], 12 - len(pending))
        self.assertNotIn("fig2c_kde_TFB.png", pngs)  # TFB has no estimate: not among the chosen

    def test_nothing_done(self):
        store = os.path.join(self.directory, "empty.h5")
        shutil.copy(self.store, store)
        with open_h5(store, "r+") as f:
            f["units/status"][:] = np.full(len(f["units/status"]), STATUS["pending"], dtype=np.int8)
            write_attributes(f, {"complete": 0})
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        page, text = self.assertHtml(self.out, self.assertPngs(self.out, 3))
        self.assertIn("0 of 12 units done", text)
        self.assertIn("fig2a_kde_all.png", [n[0].get("data-figure") for n in page.notes])


def html_escape(s):
    import html
    return html.escape(s, quote=True)


def synthetic_store(path, planted_attribute=None, effects=True, seed=3, sequences=True):
    """A small store in deepmr's schema (docs/store.md), written here: exposures A (6 regions), B (5),
    C (1), estimates around 0.5, 1.2, -0.3; per-mutant effects on a line through the origin."""
    rng = np.random.default_rng(seed)
    names, counts, centres = ["A", "B", "C"], [6, 5, 1], [0.5, 1.2, -0.3]
    exposure = np.repeat(np.arange(3), counts).astype(np.int32)
    units = len(exposure)
    estimate = np.array([centres[e] + rng.normal(0, 0.3) for e in exposure])
    m = 30
    ok, not_estimable = STATUS["ok"], STATUS["not_estimable"]
    with open_h5(path, "w") as f:
        write_attributes(f, {"format": "deepmr-store", "format_version": 1, "deepmr_version": "0.1.0",
                             "versions": "synthetic", "config": "[analysis]\nseed = 1\n", "model": "m.pt",
                             "model_sha256": "ab" * 32, "outcome": "Y", "methods": "egger,ivw", "tau2": "DL",
                             "complete": 1, "units_total": units, "units_done": units, "regions_total": units})
        if planted_attribute is not None:
            write_attributes(f, {PLANTED_ATTRIBUTE: planted_attribute})
        f["exposures/name"] = np.array([n.encode() for n in names], dtype="S1")
        f["units/exposure"] = exposure
        f["units/region"] = np.arange(units, dtype=np.int64)
        f["units/status"] = np.full(units, ok, dtype=np.int8)
        f["units/reason"] = np.array([b""] * units, dtype="S8")
        f["regions/chrom"] = np.array([b"chr1"] * units)
        f["regions/start"] = np.arange(units, dtype=np.int64) * 1000
        f["regions/end"] = np.arange(units, dtype=np.int64) * 1000 + 60
        f["regions/row"] = -np.ones(units, dtype=np.int64)
        bx = np.abs(rng.normal(0, 0.02, (units, m))).astype(np.float32)
        by = (estimate[:, None] * bx + rng.normal(0, 0.002, (units, m))).astype(np.float32)
        for method in ("egger", "ivw"):
            g = f.create_group("fits/" + method)
            g["estimate"] = estimate + (0.01 if method == "ivw" else 0)
            g["se"] = np.full(units, 0.1)
            g["pvalue"] = np.full(units, 0.01)
            g["intercept"] = np.full(units, 0.001) if method == "egger" else np.full(units, np.nan)
            g["status"] = np.full(units, ok, dtype=np.int8)
            g["reason"] = np.array([b""] * units, dtype="S8")
            mg = f.create_group("meta/" + method)
            k = np.array(counts, dtype=float)
            mg["k"] = k
            mg["estimate"] = np.array([estimate[exposure == e].mean() for e in range(3)])
            mg["se"] = np.array([0.1, 0.12, np.nan])
            for col, values in (("ci_low", mg["estimate"][:] - 0.2), ("ci_high", mg["estimate"][:] + 0.2),
                                ("tau", np.array([0.2, 0.3, np.nan])), ("tau2", np.array([0.04, 0.09, np.nan])),
                                ("pvalue", np.array([1e-3, 1e-4, np.nan]))):
                mg[col] = values
            for col in META_COLUMNS:  # the rest: i2, h2, q, q_df, q_pvalue, pi_low, pi_high
                if col not in mg:
                    mg[col] = rng.normal(0, 1, 3)
            mg["status"] = np.array([ok, ok, not_estimable], dtype=np.int8)
            mg["reason"] = np.array([b"", b"", b"1 region"], dtype="S8")
        if effects:
            f["effects/exposure_beta"] = bx
            f["effects/exposure_se"] = np.full((units, m), 0.002, dtype=np.float32)
            f["effects/outcome_beta"] = by
            f["effects/outcome_se"] = np.full((units, m), 0.001, dtype=np.float32)
            f["effects/position"] = (np.arange(m) // 3).astype(np.int32)
            if sequences:
                f["effects/sequence"] = np.array(["".join(rng.choice(list(BASES), m // 3)).encode()
                                                  for _ in range(units)], dtype="S%d" % (m // 3))
    return path


class Offline(ReportChecks):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="deepmr-analysis-offline-")
        self.out = os.path.join(self.directory, "out")

    def tearDown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def test_synthetic_store_with_planted_attribute_and_scaling(self):
        store = synthetic_store(os.path.join(self.directory, "s.h5"), planted_attribute="A=0.5,B=1.2")
        strong = write_scaling_csv(os.path.join(self.directory, "strong.csv"))
        weak = write_scaling_csv(os.path.join(self.directory, "weak.csv"), "weak", ((2, 1, 1.0), (3, 2, 1.1)))
        result = run_report(store, "--out", self.out, "--scaling", strong, "--scaling", weak)
        self.assertEqual(result.returncode, 0, result.stderr)
        pngs = self.assertPngs(self.out, 3)
        self.assertEqual(pngs, ["fig2a_kde_all.png", "fig2b_kde_A.png", "fig2c_kde_B.png", "fig2d_scatter_A.png",
                                "fig2e_scatter_B.png", "fig3_meta_egger.png", "forest_A.png", "forest_B.png",
                                "mutmap_A_extreme.png",
                                "mutmap_A_median.png", "mutmap_B_extreme.png", "mutmap_B_median.png",
                                "mutmap_C_median.png", "scaling_strong.png", "scaling_weak.png"])
        page, text = self.assertHtml(self.out, pngs)
        self.assertMutationMaps(self.out, text, store, "egger")
        self.assertForest(self.out, text, store, "egger")
        self.assertIn("No estimable meta-analysis, so no forest plot: C.", text)
        self.assertIn("Mutation map of C, its median-estimate region, which is also its most extreme", text)
        self.assertMetaTable(page, store, "egger", {"A": 0.5, "B": 1.2})
        self.assertIn("planted_effects attribute", text)
        self.assertIn("Not estimable (n.e.): C (1 region)", text)
        speedups = [float(r[6][1]["data-value"]) for r in page.tables["scaling-scaling_strong"][1:]]
        np.testing.assert_allclose(speedups, [1.0, 1.0 / 0.55, 1.0 / 0.4])
        weak_speedups = [float(r[6][1]["data-value"]) for r in page.tables["scaling-scaling_weak"][1:]]
        np.testing.assert_allclose(weak_speedups, [1.0, 1.0 / 1.1])

    def test_exposure_with_one_region_and_all_exposures(self):
        store = synthetic_store(os.path.join(self.directory, "s.h5"), effects=False)
        result = run_report(store, "--out", self.out, "--exposures", "all")
        self.assertEqual(result.returncode, 0, result.stderr)
        pngs = self.assertPngs(self.out, 3)
        self.assertEqual(pngs, ["fig2a_kde_all.png", "fig2b_kde_A.png", "fig2c_kde_B.png", "fig3_meta_egger.png",
                                "forest_A.png", "forest_B.png"])
        page, text = self.assertHtml(self.out, pngs)
        notes = {n[0].get("data-figure"): n[1] for n in page.notes if n[0].get("data-figure")}
        self.assertEqual(sorted(notes), ["fig2d_kde_C.png", "fig2e_scatter_A.png", "fig2f_scatter_B.png",
                                         "fig2g_scatter_C.png"])
        self.assertIn("C has 1 estimable region for egger: a density needs at least 2", notes["fig2d_kde_C.png"])
        self.assertIn("no per-mutant effects", notes["fig2g_scatter_C.png"])
        missing = [n[1] for n in page.notes if "No mutation maps" in n[1]]
        self.assertEqual(len(missing), 1, page.notes)
        self.assertIn("no per-mutant effects", missing[0])
        self.assertIn('<h2 id="mutation-maps">Mutation maps</h2>', text)

    def test_effects_without_sequences_have_no_maps_but_a_note(self):
        store = synthetic_store(os.path.join(self.directory, "s.h5"), sequences=False)
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        pngs = self.assertPngs(self.out, 3)
        self.assertIn("fig2d_scatter_A.png", pngs)
        self.assertFalse([p for p in pngs if p.startswith("mutmap_")])
        page, _ = self.assertHtml(self.out, pngs)
        self.assertIn("lacks effects/sequence", " ".join(n[1] for n in page.notes if "No mutation maps" in n[1]))

    def test_mutation_map_units_and_data(self):
        """The median and most extreme units (|estimate / se|, not |estimate|), and the map's numbers, against
        values computed here from the datasets."""
        import mutation_maps
        store = synthetic_store(os.path.join(self.directory, "s.h5"))
        with open_h5(store, "r+") as f:  # se so that |estimate / se| and |estimate| pick different units of A
            estimate = f["fits/egger/estimate"][:]
            exposure = f["units/exposure"][:]
            a = np.flatnonzero(exposure == 0)
            largest = a[np.argmax(np.abs(estimate[a]))]
            se = np.full(len(estimate), 0.1)
            se[largest] = 100.0
            f["fits/egger/se"][:] = se
        with Store(store) as s:
            chosen = mutation_maps.choose_units(s, "egger", 0)
            pairs = sorted((float(estimate[u]), int(u)) for u in a)
            median = pairs[(len(pairs) - 1) // 2][1]
            z = {int(u): abs(estimate[u] / se[u]) for u in a}
            extreme = max(z, key=lambda u: (z[u], -u))
            self.assertNotEqual(extreme, largest)
            self.assertEqual([(r, u) for r, u, _, _ in chosen], [("median", median), ("most extreme", extreme)])
            self.assertAlmostEqual(chosen[1][3], estimate[extreme] / se[extreme], places=12)
            one = mutation_maps.choose_units(s, "egger", 2)
            self.assertEqual([r for r, _, _, _ in one], ["median and most extreme"])
            for unit in (median, extreme):
                ex, outcome, sequence = independent_map(store, unit)
                data = mutation_maps.map_data(s, unit)
                np.testing.assert_array_equal(data["exposure"], ex)
                np.testing.assert_array_equal(data["outcome"], outcome)
                reference = np.array([[BASES[b] == c for c in sequence] for b in range(4)])
                self.assertTrue(np.isnan(data["exposure"][reference]).all())
                self.assertTrue(np.isfinite(data["exposure"][~reference]).all())
                np.testing.assert_allclose(data["outcome_logo"], -np.nanmean(outcome, axis=0), rtol=1e-12)
                np.testing.assert_allclose(data["exposure_logo"], -np.nanmean(ex, axis=0), rtol=1e-12)
        self.assertEqual(mutation_maps.view(200), (0, 200))
        self.assertEqual(mutation_maps.view(1000), (400, 600))
        self.assertEqual(mutation_maps.view(1001), (400, 600))

    def test_forest_weights_and_the_rows_drawn(self):
        """Unequal se: the weights 1 / (se^2 + tau^2) and their pooled mean computed here; with more than MAX_ROWS
        regions, the MAX_ROWS of largest weight are drawn, sorted by estimate, and the caption says so."""
        import forest
        store = synthetic_store(os.path.join(self.directory, "s.h5"))
        with open_h5(store, "r+") as f:
            se = np.linspace(0.05, 0.3, len(f["fits/egger/se"]))
            f["fits/egger/se"][:] = se
            est, exposure = f["fits/egger/estimate"][:], f["units/exposure"][:]
            meta, tau2 = f["meta/egger/estimate"][:], f["meta/egger/tau2"][:]
            for e in (0, 1):  # what deepmr's meta-analysis stores for these fits
                w = 1 / (se[exposure == e] ** 2 + tau2[e])
                meta[e] = np.sum(w * est[exposure == e]) / w.sum()
            f["meta/egger/estimate"][:] = meta
            a = exposure == 0
            w = 1 / (se[a] ** 2 + 0.04)
        with Store(store) as s:
            data = forest.forest_data(s, "egger", 0)
            np.testing.assert_allclose(data["weight"], w / w.sum(), rtol=1e-12)
            self.assertAlmostEqual(data["pooled"], meta[0], places=12)
            self.assertEqual(list(forest.drawn_rows(data)), list(np.argsort(est[a], kind="stable")))
        many = dict(units=np.arange(50), estimate=-np.arange(50.0), weight=np.arange(1, 51) / 1275.0)
        rows = forest.drawn_rows(many)
        self.assertEqual(list(rows), list(range(49, 9, -1)))  # the 40 heaviest (units 10..49), by estimate
        result = run_report(store, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        _, text = self.assertHtml(self.out, self.assertPngs(self.out, 3))
        self.assertForest(self.out, text, store, "egger")

    def test_planted_tsv_wins_over_the_attribute(self):
        store = synthetic_store(os.path.join(self.directory, "s.h5"), planted_attribute="A=9")
        tsv = os.path.join(self.directory, "p.tsv")
        with open(tsv, "w") as f:
            f.write("exposure\tplanted_effect\nA\t0.75\nZZ\t1\n")
        result = run_report(store, "--out", self.out, "--planted", tsv)
        self.assertEqual(result.returncode, 0, result.stderr)
        page, text = self.assertHtml(self.out, self.assertPngs(self.out, 3))
        self.assertEqual(float(page.table("meta-table")["A"]["planted"][1]["data-value"]), 0.75)
        self.assertIn("ignored: ZZ", text)
        self.assertIn("attribute was not used", text)

    def test_bad_inputs_exit_nonzero_with_one_line(self):
        store = synthetic_store(os.path.join(self.directory, "s.h5"))
        not_deepmr = os.path.join(self.directory, "other.h5")
        with open_h5(not_deepmr, "w") as f:  # an HDF5 file that is not a deepmr store
            f["x"] = [1, 2, 3]
        text_file = os.path.join(self.directory, "t.txt")
        with open(text_file, "w") as f:
            f.write("hello\n")
        cases = [
            ((os.path.join(self.directory, "missing.h5"), "--out", self.out), 3, "no such file"),
            ((text_file, "--out", self.out), 3, "not an HDF5 file"),
            ((not_deepmr, "--out", self.out), 3, "not a deepmr store"),
            ((self.directory, "--out", self.out), 3, "is a directory"),
            ((store, "--out", self.out, "--scaling", text_file), 3, "not a scaling CSV"),
            ((store, "--out", self.out, "--scaling", os.path.join(self.directory, "no.csv")), 3, "no such file"),
            ((store, "--out", self.out, "--planted", text_file), 3, "exposure and planted_effect"),
            ((store, "--out", os.path.join(text_file, "sub")), 3, "cannot write"),
            ((store, "--out", self.out, "--method", "mode-weighted"), 2, "no fits for it"),
            ((store, "--out", self.out, "--exposures", "A,Q"), 2, "Q not in the store"),
            ((store,), 2, "--out"),
            ((store, "--out", self.out, "--bandwidth", "wide"), 2, "--bandwidth"),
        ]
        for arguments, code, message in cases:
            result = run_report(*arguments)
            self.assertEqual(result.returncode, code, (arguments, result.stderr))
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, (arguments, result.stderr))
            self.assertTrue(lines[0].startswith("report.py: error: "), lines[0])
            self.assertIn(message, lines[0])
            self.assertEqual(result.stdout, "")
        self.assertFalse(os.path.exists(os.path.join(self.out, "report.html")))

    def test_scaling_figure_alone(self):
        import figures
        import scaling_plots
        from deepmr_store import Skip
        modes = scaling_plots.read_csv(write_scaling_csv(os.path.join(self.directory, "s.csv")))
        fig, caption, derived = scaling_plots.scaling_figure(modes["strong"], "strong", "s.csv")
        os.makedirs(self.out)
        path = os.path.join(self.out, "scaling_strong.png")
        figures.save(fig, path)
        image = matplotlib.image.imread(path)
        self.assertEqual(image.shape[:2], SCALING_SIZE)
        self.assertGreater(float(image[..., :3].var()), 2e-3)
        self.assertEqual([d["ideal"] for d in derived], [1.0, 2.0, 3.0])
        self.assertIn("Strong scaling", caption)
        with self.assertRaises(Skip):
            scaling_plots.scaling_figure(modes["strong"][:1], "strong", "s.csv")

    def test_kde_helpers(self):
        import kde
        from deepmr_store import Skip
        rng = np.random.default_rng(1)
        x = np.concatenate([rng.normal(0, 1, 300), rng.normal(6, 0.5, 100), [400.0]])
        h = kde.bandwidth(x, "silverman")
        self.assertAlmostEqual(h, bw_nrd0(x), places=12)
        self.assertAlmostEqual(kde.bandwidth(x, "scott"), np.std(x, ddof=1) * len(x) ** -0.2, places=12)
        grid = np.linspace(-10, 420, 200001)
        density = kde.evaluate(x, grid, h)
        self.assertAlmostEqual(float(np.sum(density) * (grid[1] - grid[0])), 1.0, places=4)
        direct = np.exp(-0.5 * ((grid[::1000, None] - x[None, :]) / h) ** 2).sum(axis=1) / (len(x) * h * math.sqrt(2 * math.pi))
        np.testing.assert_allclose(density[::1000], direct, rtol=1e-12, atol=1e-300)
        mode = kde.mode(x, h)
        fine = np.linspace(-3, 3, 60001)
        self.assertAlmostEqual(mode, fine[np.argmax(kde.evaluate(x, fine, h))], delta=1e-3)
        lo, hi = kde.view_range(x, h)
        self.assertLess(hi, 400)  # the far outlier does not squeeze the view
        with self.assertRaises(Skip):
            kde.bandwidth([1.0], "silverman")
        with self.assertRaises(Skip):
            kde.bandwidth([2.0, 2.0, 2.0], "scott")

    def test_planted_tsv_columns(self):
        import deepmr_store
        path = os.path.join(self.directory, "p.tsv")
        with open(path, "w") as f:  # the simulator's layout (demo/data/planted.tsv)
            f.write("# comment\ntf\tjaspar\trole\tgamma\nFOXA1\tMA0148.5\tactivator, x\t0.25\nREST\tMA0138.3\trepressor\t-0.25\n")
        self.assertEqual(deepmr_store.read_planted_tsv(path), {"FOXA1": 0.25, "REST": -0.25})
        with open(path, "w") as f:
            f.write("exposure\tplanted_effect\nFOXA1\tbig\n")
        with self.assertRaisesRegex(deepmr_store.UnusableInput, "line 2"):
            deepmr_store.read_planted_tsv(path)

    def test_planted_attribute_parser(self):
        import deepmr_store
        self.assertEqual(deepmr_store.parse_planted_attribute("FOXA1=0.5, EZH2=-1e-1,"), {"FOXA1": 0.5, "EZH2": -0.1})
        with self.assertRaises(ValueError):
            deepmr_store.parse_planted_attribute("FOXA1")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
