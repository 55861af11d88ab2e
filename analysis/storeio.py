"""Reading a deepmr store (docs/store.md) for the figures and the report.

Nothing here recomputes what the store holds: fits, meta-analyses and per-mutant effects are read
as deepmr wrote them. Two exceptions carry the messages the report shows:

  UnusableInput  the input cannot be used at all (missing file, not HDF5, not a deepmr store):
                 report.py prints it as one line and exits nonzero.
  Skip           one figure or table cannot be made from this store (no effects stored, too few
                 regions, ...): the report leaves it out with this message as a note.
"""
import math
import os
import re

import h5py
import numpy as np

SUPPORTED_FORMAT_VERSION = 1
UNIT_DONE = 1
FIT_OK = 1
META_OK = 1


class UnusableInput(Exception):
    """The input cannot be used at all; the message is one line naming the file."""


class Skip(Exception):
    """A figure or table cannot be made from this store; the message says why."""


def text(value):
    """A root attribute or string element as str (h5py gives bytes or numpy scalars)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    if isinstance(value, np.generic):
        return value.item()
    return value


def strings(dataset):
    return [text(v) for v in dataset[:]]


def config_value(config_text, section, key):
    """The last value of `key` in `[section]` of an INI text (deepmr's config syntax), or None."""
    current, found = None, None
    for line in config_text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == section and "=" in line:
            name, value = line.split("=", 1)
            if name.strip() == key:
                found = value.strip()
    return found


class Store:
    """An open deepmr store. Use as a context manager or call close()."""

    def __init__(self, path):
        self.path = path
        if not os.path.exists(path):
            raise UnusableInput("%s: no such file" % path)
        if os.path.isdir(path):
            raise UnusableInput("%s: is a directory, not a deepmr store" % path)
        try:
            if not h5py.is_hdf5(path):
                raise UnusableInput("%s: not an HDF5 file, so not a deepmr store" % path)
            self.h5 = h5py.File(path, "r")
        except UnusableInput:
            raise
        except OSError as error:
            raise UnusableInput("%s: cannot open: %s" % (path, str(error).splitlines()[0]))
        try:
            self._read_index()
        except UnusableInput:
            self.h5.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.h5.close()

    # ---- index: what every figure needs -------------------------------------------------------
    def _read_index(self):
        f = self.h5
        self.attrs = {key: text(f.attrs[key]) for key in f.attrs.keys()}
        if self.attrs.get("format") != "deepmr-store":
            raise UnusableInput("%s: not a deepmr store (its root attribute format is not deepmr-store)" % self.path)
        version = self.attrs.get("format_version")
        if not isinstance(version, int) or version > SUPPORTED_FORMAT_VERSION:
            raise UnusableInput("%s: store format version %s is not supported (this report reads version %d)"
                                % (self.path, version, SUPPORTED_FORMAT_VERSION))
        for name in ("exposures/name", "units/exposure", "units/region", "units/status"):
            if name not in f:
                raise UnusableInput("%s: damaged deepmr store: it lacks the dataset %s" % (self.path, name))
        self.exposures = strings(f["exposures/name"])
        self.unit_exposure = f["units/exposure"][:].astype(np.int64)
        self.unit_region = f["units/region"][:].astype(np.int64)
        self.unit_status = f["units/status"][:].astype(np.int64)
        if not (len(self.unit_exposure) == len(self.unit_region) == len(self.unit_status)):
            raise UnusableInput("%s: damaged deepmr store: the units/ datasets differ in length" % self.path)
        if len(self.unit_exposure) and (self.unit_exposure.min() < 0 or self.unit_exposure.max() >= len(self.exposures)):
            raise UnusableInput("%s: damaged deepmr store: units/exposure outside exposures/name" % self.path)
        listed = [m for m in str(self.attrs.get("methods", "")).split(",") if m]
        present = list(f["fits"].keys()) if "fits" in f else []
        self.methods = [m for m in listed if m in present] + [m for m in present if m not in listed]
        self.units_total = int(self.attrs.get("units_total", len(self.unit_status)))
        self.units_done = int(np.sum(self.unit_status == UNIT_DONE))
        self.complete = int(self.attrs.get("complete", 0)) == 1

    @property
    def config_text(self):
        return str(self.attrs.get("config", ""))

    @property
    def has_effects(self):
        return all(("effects/" + name) in self.h5 for name in
                   ("exposure_beta", "exposure_se", "outcome_beta", "outcome_se"))

    def region_label(self, region):
        f = self.h5
        try:
            row = int(f["regions/row"][region]) if "regions/row" in f else -1
            if row >= 0:
                return "row %d" % row
            chrom = text(f["regions/chrom"][region])
            return "%s:%d-%d" % (chrom, int(f["regions/start"][region]), int(f["regions/end"][region]))
        except (KeyError, IndexError, ValueError):
            return "region %d" % region

    # ---- fits -------------------------------------------------------------------------------
    def require_method(self, method):
        if method not in self.methods:
            raise Skip("the store holds no MR fits for method %s (it has: %s)"
                       % (method, ", ".join(self.methods) or "none"))

    def fit_column(self, method, column):
        name = "fits/%s/%s" % (method, column)
        if name not in self.h5:
            raise Skip("the store lacks the dataset %s" % name)
        values = self.h5[name][:]
        if len(values) != len(self.unit_status):
            raise Skip("the dataset %s has %d rows for %d units" % (name, len(values), len(self.unit_status)))
        return values

    def fit_reasons(self, method):
        name = "fits/%s/reason" % method
        return strings(self.h5[name]) if name in self.h5 else [""] * len(self.unit_status)

    def estimable_units(self, method, exposure=None):
        """Indices of done units whose fit by `method` is ok and finite (optionally of one exposure)."""
        self.require_method(method)
        estimate = self.fit_column(method, "estimate").astype(np.float64)
        ok = (self.unit_status == UNIT_DONE) & np.isfinite(estimate)
        status_name = "fits/%s/status" % method
        if status_name in self.h5:
            ok &= self.h5[status_name][:].astype(np.int64) == FIT_OK
        if exposure is not None:
            ok &= self.unit_exposure == exposure
        return np.flatnonzero(ok)

    def estimates(self, method, exposure=None):
        """Per-region causal estimates (the done, estimable units) and their unit indices."""
        units = self.estimable_units(method, exposure)
        return self.fit_column(method, "estimate")[units].astype(np.float64), units

    def units_per_exposure(self):
        return np.bincount(self.unit_exposure, minlength=len(self.exposures))

    # ---- meta-analysis ------------------------------------------------------------------------
    META_COLUMNS = ("k", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "tau", "i2", "h2",
                    "q", "q_df", "q_pvalue", "pi_low", "pi_high")

    def meta(self, method):
        """{column: array over exposures} of meta/<method>, with 'status' and 'reason'."""
        group = "meta/%s" % method
        if group not in self.h5:
            raise Skip("the store has no meta-analysis for method %s (no group %s)" % (method, group))
        g = self.h5[group]
        out = {}
        for column in self.META_COLUMNS:
            if column in g:
                values = g[column][:].astype(np.float64)
                if len(values) != len(self.exposures):
                    raise Skip("%s/%s has %d rows for %d exposures" % (group, column, len(values), len(self.exposures)))
                out[column] = values
            else:
                out[column] = np.full(len(self.exposures), np.nan)
        if "estimate" not in g:
            raise Skip("the store lacks the dataset %s/estimate" % group)
        out["status"] = g["status"][:].astype(np.int64) if "status" in g else \
            np.where(np.isfinite(out["estimate"]), META_OK, 2)
        out["reason"] = strings(g["reason"]) if "reason" in g else [""] * len(self.exposures)
        return out

    # ---- per-mutant effects -------------------------------------------------------------------
    def effects(self, unit):
        """(bx, bxse, by, byse, position) of one unit's instruments, as stored."""
        if not self.has_effects:
            raise Skip("the store holds no per-mutant effects (the run had run.store-effects = false); "
                       "rerun with --run.store-effects true to draw it")
        f = self.h5
        region = int(self.unit_region[unit])
        if unit >= f["effects/exposure_beta"].shape[0] or region < 0 or region >= f["effects/outcome_beta"].shape[0]:
            raise Skip("effects/ has no row for unit %d (region %d)" % (unit, region))
        bx = f["effects/exposure_beta"][unit, :].astype(np.float64)
        bxse = f["effects/exposure_se"][unit, :].astype(np.float64)
        by = f["effects/outcome_beta"][region, :].astype(np.float64)
        byse = f["effects/outcome_se"][region, :].astype(np.float64)
        position = f["effects/position"][:] if "effects/position" in f else np.arange(len(bx)) // 3
        return bx, bxse, by, byse, position

    def min_abs_z_x(self):
        value = config_value(self.config_text, "analysis", "min-abs-z-x")
        try:
            return float(value) if value is not None else 0.0
        except ValueError:
            return 0.0


# ---- planted effects (stores from the simulator) -------------------------------------------------
PLANTED_ATTRIBUTE = "planted_effects"


def parse_planted_attribute(value):
    """'NAME=VALUE,NAME=VALUE' -> {name: value}; raises ValueError on a malformed entry."""
    out = {}
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise ValueError("entry %r is not NAME=VALUE" % item)
        name, number = item.rsplit("=", 1)
        out[name.strip()] = float(number)
    return out


PLANTED_NAME_COLUMNS = ("exposure", "tf")          # the first present names the exposure
PLANTED_VALUE_COLUMNS = ("planted_effect", "gamma")  # the first present holds its planted effect


def read_planted_tsv(path):
    """A tab-separated file with a header -> {exposure: planted effect}. Columns: exposure and
    planted_effect (or the simulator's tf and gamma, as demo/data/planted.tsv has them); others are
    ignored; lines starting with # are comments."""
    if not os.path.exists(path):
        raise UnusableInput("%s: no such file" % path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\r\n") for line in f]
    except (OSError, UnicodeDecodeError) as error:
        raise UnusableInput("%s: cannot read: %s" % (path, error))
    rows = [(number, line) for number, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    if not rows:
        raise UnusableInput("%s: empty planted-effects file (expected the columns exposure, planted_effect)" % path)
    header = [h.strip() for h in rows[0][1].split("\t")]
    names = [c for c in PLANTED_NAME_COLUMNS if c in header]
    values = [c for c in PLANTED_VALUE_COLUMNS if c in header]
    if not names or not values:
        raise UnusableInput("%s: line %d: the header must name the columns exposure and planted_effect "
                            "(tab-separated; tf and gamma also do)" % (path, rows[0][0]))
    ie, iv = header.index(names[0]), header.index(values[0])
    out = {}
    for number, line in rows[1:]:
        fields = [x.strip() for x in line.split("\t")]
        try:
            value = float(fields[iv])
            if not math.isfinite(value):
                raise ValueError
            out[fields[ie]] = value
        except (IndexError, ValueError):
            raise UnusableInput("%s: line %d: expected an exposure name and a finite planted_effect" % (path, number))
    return out


def planted_effects(store, tsv=None):
    """({exposure: planted effect}, source text, notes). The TSV wins over the store attribute."""
    notes = []
    attribute = store.attrs.get(PLANTED_ATTRIBUTE)
    if tsv is not None:
        planted, source = read_planted_tsv(tsv), os.path.basename(tsv)
        if attribute is not None:
            notes.append("planted effects from %s; the store's own %s attribute was not used"
                         % (source, PLANTED_ATTRIBUTE))
    elif attribute is not None:
        try:
            planted, source = parse_planted_attribute(attribute), "the store's %s attribute" % PLANTED_ATTRIBUTE
        except ValueError as error:
            notes.append("the store's %s attribute is malformed (%s): planted effects not shown"
                         % (PLANTED_ATTRIBUTE, error))
            return {}, None, notes
    else:
        return {}, None, notes
    unknown = sorted(set(planted) - set(store.exposures))
    if unknown:
        notes.append("planted effects for exposures the store does not hold were ignored: " + ", ".join(unknown))
    return {k: v for k, v in planted.items() if k in store.exposures}, source, notes


def safe_name(name):
    """An exposure name as a file-name fragment."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "exposure"
