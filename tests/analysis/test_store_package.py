#!/usr/bin/env python3
"""Tests of analysis/deepmr_store, the Python package that reads a store (docs/store.md).

Usage: test_store_package.py BUILD_DIR SOURCE_DIR [unittest arguments, e.g. -k Schema]

  Schema       (label unit) schema.json loads and is consistent; no Python file outside the
               package opens an HDF5 file with h5py for reading (the listed test writers excepted).
  FromDeepmr   (label mpi) stores written by the real binary under mpirun from
               configs/test_tiny.ini, with and without run.store-effects: the package's dataset
               expansion is exactly the set of datasets in the file, with the schema's types and
               row spaces; the root attributes are exactly the schema's, with its types.
"""
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "analysis"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "run"))
import deepmr_store  # noqa: E402
import run_support  # noqa: E402
from deepmr_store import (ATTRIBUTES, DATASETS, DIRECTION_COLUMNS, FIT_COLUMNS, META_COLUMNS, OPTIONAL_ATTRIBUTES,
                          SCHEMA, STATUS, Store,  # noqa: E402
                          all_datasets, expand, open_h5, root_attributes, text, type_of)

run_support.configure(BUILD, SOURCE)

PACKAGE = os.path.join("analysis", "deepmr_store")
# The only Python files outside the package that may call h5py.File, each only to write a file.
H5PY_WRITERS = {
    os.path.join("tests", "robustness", "corpus.py"): "writes an HDF5 file that is not a deepmr store",
}
TYPES = {"text", "int8", "int32", "int64", "float32", "float64"}
ROW_SPACES = {"exposures", "outcomes", "pairs", "outcome regions", "regions", "units", "mutants"}


# ---- the grep-style check: h5py.File calls in Python sources -------------------------------------
def h5py_file_calls(source):
    """[(line, mode)] of every h5py.File(...) call in a Python source; mode is the literal mode
    string, None when none is given (h5py's default, read-only) or "?" when it is not a literal."""
    tree = ast.parse(source)
    modules, functions = {"h5py"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name == "h5py")
        elif isinstance(node, ast.ImportFrom) and node.module == "h5py":
            functions.update(a.asname or a.name for a in node.names if a.name == "File")
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if not ((isinstance(f, ast.Attribute) and f.attr == "File" and isinstance(f.value, ast.Name)
                 and f.value.id in modules) or (isinstance(f, ast.Name) and f.id in functions)):
            continue
        mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
        if mode is None:
            calls.append((node.lineno, None))
        elif isinstance(mode, ast.Constant) and isinstance(mode.value, str):
            calls.append((node.lineno, mode.value))
        else:
            calls.append((node.lineno, "?"))
    return calls


def reads(mode):
    return mode is None or mode == "?" or mode.startswith("r") and "+" not in mode


def python_files(root):
    """Repository-relative paths of the .py files under root, outside build trees and hidden folders."""
    out = []
    for directory, subdirectories, files in os.walk(root):
        # Fuzz seed corpora are data (bytes named like the files they imitate), not code.
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d != "__pycache__"
                                   and not os.path.exists(os.path.join(directory, d, "CMakeCache.txt"))
                                   and os.path.relpath(os.path.join(directory, d), root) != os.path.join("tests", "fuzz", "corpus"))
        out += [os.path.relpath(os.path.join(directory, f), root) for f in sorted(files) if f.endswith(".py")]
    return out


def h5py_violations(root):
    """Each h5py.File call outside the package that reads, or that writes from an unlisted file."""
    bad = []
    for path in python_files(root):
        if path.startswith(PACKAGE + os.sep):
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            calls = h5py_file_calls(f.read())
        for line, mode in calls:
            if reads(mode):
                bad.append("%s:%d: h5py.File opened for reading (mode %s): read stores with deepmr_store"
                           % (path, line, mode))
            elif path not in H5PY_WRITERS:
                bad.append("%s:%d: h5py.File(..., %r) in a file that is not a listed writer" % (path, line, mode))
    return bad


class Schema(unittest.TestCase):
    def test_schema_loads_with_the_four_statuses(self):
        self.assertEqual(deepmr_store.FORMAT, SCHEMA["format"])
        self.assertIsInstance(deepmr_store.FORMAT_VERSION, int)
        self.assertEqual(sorted(STATUS), ["failed", "not_estimable", "ok", "pending"])
        self.assertEqual(len(set(STATUS.values())), 4)
        self.assertTrue(all(isinstance(v, int) for v in STATUS.values()))
        self.assertEqual(STATUS["pending"], 0)  # a row no result reached reads as pending (HDF5 fill 0)

    def test_columns_attributes_and_datasets_are_well_formed(self):
        for columns in (FIT_COLUMNS, META_COLUMNS, DIRECTION_COLUMNS):
            self.assertGreater(len(columns), 0)
            self.assertEqual(len(set(columns)), len(columns))
            self.assertFalse({"status", "reason"} & set(columns))
        self.assertIn("estimate", FIT_COLUMNS)
        self.assertIn("estimate", META_COLUMNS)
        self.assertEqual(len(ATTRIBUTES), len(SCHEMA["attributes"]), "an attribute is listed twice")
        self.assertTrue(set(ATTRIBUTES.values()) <= TYPES, ATTRIBUTES)
        self.assertEqual([d.path for d in DATASETS], [d["path"] for d in SCHEMA["datasets"]])
        self.assertEqual(len({d.path for d in DATASETS}), len(DATASETS), "a dataset is listed twice")
        for d in DATASETS:
            self.assertIn(d.type, TYPES, d)
            self.assertTrue(set(d.rows.split(" x ")) <= ROW_SPACES, d)
        # A column's own type is the type of the datasets its template expands to.
        for kind, placeholder, templates in (("fit_columns", "{fit_column}", 1), ("meta_columns", "{meta_column}", 2),
                                             ("direction_columns", "{direction_column}", 1)):
            template = [d for d in DATASETS if placeholder in d.path]  # meta/ and direction_meta/
            self.assertEqual(len(template), templates, placeholder)
            for column in SCHEMA[kind]:
                self.assertTrue(all(column["type"] == t.type for t in template), column)

    def test_expansion_and_paths(self):
        datasets = expand(["egger", "ivw"])
        self.assertFalse([p for p in datasets if "{" in p or "}" in p])
        per_method = len(FIT_COLUMNS) + len(META_COLUMNS) + 4  # and fits/meta status and reason
        fixed = len([d for d in DATASETS if "{" not in d.path])
        per_store = len(DIRECTION_COLUMNS) + len(META_COLUMNS)  # direction/ and direction_meta/
        self.assertEqual(len(datasets), fixed + per_store + 2 * per_method)
        self.assertEqual(datasets["fits/ivw/n_used"].type, "float64")
        self.assertEqual(datasets["meta/egger/status"].rows, "pairs")
        self.assertEqual(set(expand(["egger"])) - set(expand(["egger"], effects=False)),
                         {d.path for d in DATASETS if d.path.startswith("effects/")})
        self.assertEqual(deepmr_store.fit_path("egger", "n_used"), "fits/egger/n_used")
        self.assertEqual(deepmr_store.fit_path("ivw", "status"), "fits/ivw/status")
        self.assertEqual(deepmr_store.meta_path("egger", "tau2"), "meta/egger/tau2")
        with self.assertRaises(KeyError):
            deepmr_store.fit_path("egger", "tau2")  # a meta column, not a fit column

    def test_type_of(self):
        self.assertEqual(type_of(np.dtype("S7")), "text")
        self.assertEqual(type_of(np.bytes_(b"x")), "text")
        self.assertEqual(type_of(np.int8(1)), "int8")
        self.assertEqual(type_of(np.zeros(2, dtype=np.float32)), "float32")
        self.assertEqual(type_of(np.float64(1.0)), "float64")

    def test_no_python_file_outside_the_package_reads_hdf5_with_h5py(self):
        self.assertEqual(h5py_violations(SOURCE), [])
        for path in H5PY_WRITERS:  # the list names files that exist and write
            with open(os.path.join(SOURCE, path), encoding="utf-8") as f:
                calls = h5py_file_calls(f.read())
            self.assertTrue(calls and not any(reads(mode) for _, mode in calls), (path, calls))

    def test_the_h5py_check_finds_reads(self):
        self.assertEqual(h5py_file_calls("import h5py\nf = h5py.File(p)\n"), [(2, None)])
        self.assertEqual(h5py_file_calls("import h5py\nwith h5py.File(p, 'r') as f:\n    pass\n"), [(2, "r")])
        self.assertEqual(h5py_file_calls("import h5py as h\nh.File(p, mode=m)\n"), [(2, "?")])
        self.assertEqual(h5py_file_calls("from h5py import File\nFile(p, 'r+')\n"), [(2, "r+")])
        self.assertEqual(h5py_file_calls("import h5py\nh5py.File(p, 'w')\nopen(p, 'r')\n"), [(2, "w")])
        self.assertTrue(all(reads(m) for m in (None, "r", "?")))
        self.assertFalse(any(reads(m) for m in ("w", "r+", "a", "x", "w-")))
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "demo"))
            os.makedirs(os.path.join(root, PACKAGE))
            os.makedirs(os.path.join(root, "build"))
            open(os.path.join(root, "build", "CMakeCache.txt"), "w").close()
            for path, line in (("demo/x.py", "h5py.File(p, 'r')"), (PACKAGE + "/y.py", "h5py.File(p)"),
                               ("build/z.py", "h5py.File(p)"), ("demo/w.py", "h5py.File(p, 'w')")):
                with open(os.path.join(root, path), "w") as f:
                    f.write("import h5py\n" + line + "\n")
            self.assertEqual(sorted(v.split(":")[0] for v in h5py_violations(root)), ["demo/w.py", "demo/x.py"])


class FromDeepmr(unittest.TestCase):
    """Stores of the real binary (2 ranks) against the schema."""

    @classmethod
    def setUpClass(cls):
        assert os.path.exists(run_support.DEEPMR), "needs the deepmr binary: " + run_support.DEEPMR
        cls.directory = tempfile.mkdtemp(prefix="deepmr-store-package-")
        cls.stores = {}
        for name, arguments in (("plain", ()), ("effects", ("--run.store-effects", "true"))):
            result = run_support.deepmr_run(2, run_support.config(cls.directory, name + ".h5"), *arguments)
            assert result.returncode == 0, result.stderr
            cls.stores[name] = os.path.join(cls.directory, name + ".h5")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def check_store(self, path, effects):
        with open_h5(path) as f:
            attributes = root_attributes(f)
            datasets = all_datasets(f)
            methods = text(attributes["methods"]).split(",")
            self.assertEqual(methods, ["egger", "ivw", "median-weighted"])  # configs/test_tiny.ini
            expected = expand(methods, effects=effects)
            self.assertEqual(sorted(datasets), sorted(expected))
            outcomes = len(datasets["outcomes/name"])
            counts = {"exposures": len(datasets["exposures/name"]), "regions": int(attributes["regions_total"]),
                      "units": int(attributes["units_total"]), "mutants": 3 * int(attributes["input_length"]),
                      "outcomes": outcomes, "pairs": len(datasets["exposures/name"]) * outcomes,
                      "outcome regions": outcomes * int(attributes["regions_total"])}
            for name, spec in expected.items():
                self.assertEqual(type_of(datasets[name]), spec.type, name)
                self.assertEqual(datasets[name].shape, tuple(counts[r] for r in spec.rows.split(" x ")), name)
                if name.endswith("/status"):  # every status number is one of the schema's
                    self.assertTrue(set(np.unique(datasets[name][()]).tolist()) <= set(STATUS.values()), name)
            self.assertTrue(np.all(datasets["units/status"][()] == STATUS["ok"]))  # a complete store
            self.assertEqual(sorted(attributes), sorted(set(ATTRIBUTES) - OPTIONAL_ATTRIBUTES))  # one model
            for name, value in attributes.items():
                self.assertEqual(type_of(value), ATTRIBUTES[name], name)
            self.assertEqual(int(attributes["complete"]), 1)
            self.assertEqual(text(attributes["format"]), deepmr_store.FORMAT)
            self.assertEqual(int(attributes["format_version"]), deepmr_store.FORMAT_VERSION)

    def test_a_format_1_store_reads_as_its_one_outcome(self):
        # The first wave's store of the same run (tests/data/stores/README.md): the Python reader
        # and every command give what they give for the current format's store of this run.
        old = os.path.join(SOURCE, "tests", "data", "stores", "format1_tiny.h5")
        new = self.stores["effects"]
        with Store(old) as a, Store(new) as b:
            self.assertEqual(a.attrs["format_version"], 1)
            self.assertEqual(b.attrs["format_version"], 2)
            self.assertEqual(a.outcomes, ["conv1d_small|out0"])
            self.assertEqual(a.outcomes, b.outcomes)
            np.testing.assert_array_equal(a.unit_outcome, np.zeros(len(a.unit_status)))
            np.testing.assert_array_equal(a.unit_outcome, b.unit_outcome)
            for method in a.methods:
                for read in (Store.meta, Store.fits):
                    for column, values in read(a, method).items():
                        other = read(b, method)[column]
                        if column == "reason":
                            self.assertEqual(list(values), list(other), (method, column))
                        else:  # bit for bit, NaN where NaN
                            self.assertEqual(np.asarray(values).tobytes(), np.asarray(other).tobytes(), (method, column))
            for u in range(len(a.unit_status)):
                for x, y in zip(a.effects(u), b.effects(u)):
                    np.testing.assert_array_equal(x, y)
        def without_direction(tsv):  # a format-1 store has no direction test: those columns are empty
            rows = [line.split("\t") for line in tsv.splitlines()]
            keep = [c for c, name in enumerate(rows[0]) if not name.startswith("direction")]
            return [[row[c] for c in keep] for row in rows]

        for arguments in ([], ["--units"], ["--matrix"], ["--outcome", "conv1d_small|out0"]):
            printed = [subprocess.run([run_support.DEEPMR, "summarize", store] + arguments, capture_output=True,
                                      text=True) for store in (old, new)]
            self.assertEqual(printed[0].returncode, 0, printed[0].stderr)
            self.assertEqual(without_direction(printed[0].stdout), without_direction(printed[1].stdout), arguments)
        self.assertIn("direction", printed[1].stdout.splitlines()[0].split("\t"))
        beds = [os.path.join(self.directory, name) for name in ("old.bed", "new.bed")]
        for store, bed in zip((old, new), beds):
            result = subprocess.run([run_support.DEEPMR, "export", store, "--format", "bed", "--out", bed],
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
        with open(beds[0]) as x, open(beds[1]) as y:
            self.assertEqual(x.read(), y.read())
        report = os.path.join(self.directory, "old-report")
        result = subprocess.run([sys.executable, os.path.join(SOURCE, "analysis", "report.py"), old, "--out", report],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(os.path.exists(os.path.join(report, "report.html")))

    def test_store_without_effects_matches_the_schema(self):
        self.check_store(self.stores["plain"], effects=False)

    def test_store_with_effects_matches_the_schema(self):
        self.check_store(self.stores["effects"], effects=True)

    def test_store_reads_every_column_by_name(self):
        with Store(self.stores["effects"]) as store:
            self.assertEqual(store.methods, ["egger", "ivw", "median-weighted"])
            self.assertEqual(store.units_done, store.units_total)
            for method in store.methods:
                fits, meta = store.fits(method), store.meta(method)
                self.assertEqual(list(fits), list(FIT_COLUMNS) + ["status", "reason"])
                self.assertEqual(list(meta), list(META_COLUMNS) + ["status", "reason"])
                self.assertTrue(all(len(v) == store.units_total for v in fits.values()))
                self.assertTrue(all(len(v) == len(store.exposures) for v in meta.values()))
                np.testing.assert_array_equal(fits["n_used"], store.dataset("fits/%s/n_used" % method))
            self.assertTrue(store.has_effects)
            bx, bxse, by, byse, position = store.effects(0)
            self.assertEqual(len(bx), len(position))

    def test_differences_compares_every_dataset_and_attribute(self):
        self.assertEqual(deepmr_store.differences(self.stores["effects"], self.stores["effects"])[0], [])
        copy = os.path.join(self.directory, "changed.h5")
        shutil.copy(self.stores["effects"], copy)
        with open_h5(copy, "r+") as f:
            f["fits/ivw/se"][0] = f["fits/ivw/se"][0] + 1.0
            deepmr_store.write_attributes(f, {"seed": 8})
        problems, datasets, attributes = deepmr_store.differences(self.stores["effects"], copy)
        self.assertEqual(len(problems), 2, problems)
        self.assertEqual(problems[0], "dataset fits/ivw/se differs")
        self.assertTrue(problems[1].startswith("attribute seed differs: "), problems)
        self.assertEqual((datasets, attributes),
                         (len(expand(["egger", "ivw", "median-weighted"])), len(ATTRIBUTES) - len(OPTIONAL_ATTRIBUTES)))
        timing = {"units/rank", "units/seconds", "regions/rank", "regions/seconds_ism", "regions/seconds_mr"}
        problems, datasets, _ = deepmr_store.differences(self.stores["plain"], self.stores["effects"], timing,
                                                         ATTRIBUTES)
        self.assertEqual(problems, ["dataset %s only in second" % d.path for d in sorted(DATASETS)
                                    if d.path.startswith("effects/")])
        self.assertEqual(datasets, len(expand(["egger", "ivw", "median-weighted"], effects=False)) - len(timing))

if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
