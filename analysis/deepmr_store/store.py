"""Reading a deepmr store (docs/store.md): Store, and the two exceptions its users report.

Nothing here recomputes what the store holds: fits, meta-analyses and per-mutant effects are read
as deepmr wrote them. Two exceptions carry the messages the report shows:

  UnusableInput  the input cannot be used at all (missing file, not HDF5, not a deepmr store):
                 report.py prints it as one line and exits nonzero.
  Skip           something this store does not hold (no effects stored, a missing dataset, too
                 few regions, ...): the report leaves that figure or table out with this message.
"""
import os

import numpy as np

from .h5file import is_hdf5, open_h5
from .schema import DIRECTION_COLUMNS, FIT_COLUMNS, FORMAT, FORMAT_VERSION, META_COLUMNS, STATUS, fit_path, meta_path


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
    """The elements of a text dataset as str."""
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


EFFECTS = ("exposure_beta", "exposure_se", "outcome_beta", "outcome_se")


class Store:
    """An open deepmr store. Use as a context manager or call close().

    After opening: attrs ({root attribute: value}, text decoded), exposures (names), outcomes
    (names; the first is the primary one; a format-1 store has one), unit_exposure, unit_outcome,
    unit_region, unit_status (int64 arrays over units), methods (fits/ groups, in the methods
    attribute's order), units_total, units_done, complete.

    The per-exposure views (meta, estimable_units, estimates) are of one outcome, the primary one
    unless `outcome` (an index into outcomes) says otherwise; meta_pairs gives every pair."""

    def __init__(self, path):
        self.path = path
        if not os.path.exists(path):
            raise UnusableInput("%s: no such file" % path)
        if os.path.isdir(path):
            raise UnusableInput("%s: is a directory, not a deepmr store" % path)
        try:
            if not is_hdf5(path):
                raise UnusableInput("%s: not an HDF5 file, so not a deepmr store" % path)
            self.h5 = open_h5(path)
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
        if self.attrs.get("format") != FORMAT:
            raise UnusableInput("%s: not a deepmr store (its root attribute format is not %s)" % (self.path, FORMAT))
        version = self.attrs.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise UnusableInput("%s: store format version %s is not supported (this report reads version %d)"
                                % (self.path, version, FORMAT_VERSION))
        for name in ("exposures/name", "units/exposure", "units/region", "units/status"):
            if name not in f:
                raise UnusableInput("%s: damaged deepmr store: it lacks the dataset %s" % (self.path, name))
        self.exposures = strings(f["exposures/name"])
        self.exposure_outputs = f["exposures/output"][:].astype(np.int64) if "exposures/output" in f else None
        if "outcomes/name" in f:
            self.outcomes = strings(f["outcomes/name"])
            self.outcome_outputs = f["outcomes/output"][:].astype(np.int64)
        else:  # format 1: one outcome
            self.outcomes = [str(self.attrs.get("outcome", "outcome"))]
            self.outcome_outputs = np.array([int(self.attrs.get("outcome_output", -1))], dtype=np.int64)
        self.unit_exposure = f["units/exposure"][:].astype(np.int64)
        self.unit_region = f["units/region"][:].astype(np.int64)
        self.unit_status = f["units/status"][:].astype(np.int64)
        self.unit_outcome = f["units/outcome"][:].astype(np.int64) if "units/outcome" in f else \
            np.zeros(len(self.unit_status), dtype=np.int64)
        if not (len(self.unit_exposure) == len(self.unit_region) == len(self.unit_status) == len(self.unit_outcome)):
            raise UnusableInput("%s: damaged deepmr store: the units/ datasets differ in length" % self.path)
        if len(self.unit_exposure) and (self.unit_exposure.min() < 0 or self.unit_exposure.max() >= len(self.exposures)):
            raise UnusableInput("%s: damaged deepmr store: units/exposure outside exposures/name" % self.path)
        if len(self.unit_outcome) and (self.unit_outcome.min() < 0 or self.unit_outcome.max() >= len(self.outcomes)):
            raise UnusableInput("%s: damaged deepmr store: units/outcome outside outcomes/name" % self.path)
        listed = [m for m in str(self.attrs.get("methods", "")).split(",") if m]
        present = list(f["fits"].keys()) if "fits" in f else []
        self.methods = [m for m in listed if m in present] + [m for m in present if m not in listed]
        self.units_total = int(self.attrs.get("units_total", len(self.unit_status)))
        self.units_done = int(np.sum(self.unit_status == STATUS["ok"]))
        self.complete = int(self.attrs.get("complete", 0)) == 1

    @property
    def config_text(self):
        return str(self.attrs.get("config", ""))

    # ---- any dataset, as stored ---------------------------------------------------------------
    def has(self, name):
        """Whether the store holds the dataset (or group) `name`, e.g. "effects/position"."""
        return name in self.h5

    def dataset(self, name):
        """A dataset's values exactly as stored (a numpy array of its dtype)."""
        if name not in self.h5:
            raise Skip("the store lacks the dataset %s" % name)
        return self.h5[name][()]

    def strings(self, name):
        """A text dataset's values as str."""
        if name not in self.h5:
            raise Skip("the store lacks the dataset %s" % name)
        return strings(self.h5[name])

    @property
    def has_effects(self):
        return all(self.has("effects/" + name) for name in EFFECTS)

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

    # ---- units --------------------------------------------------------------------------------
    def unit_reasons(self):
        """Each unit's reason (empty where none is stored)."""
        return strings(self.h5["units/reason"]) if "units/reason" in self.h5 else [""] * len(self.unit_status)

    def units_per_exposure(self):
        return np.bincount(self.unit_exposure, minlength=len(self.exposures))

    # ---- fits -------------------------------------------------------------------------------
    def require_method(self, method):
        if method not in self.methods:
            raise Skip("the store holds no MR fits for method %s (it has: %s)"
                       % (method, ", ".join(self.methods) or "none"))

    def fit_column(self, method, column):
        """One column of fits/<method> (a FIT_COLUMNS name or status) over units, as stored."""
        name = fit_path(method, column)
        if name not in self.h5:
            raise Skip("the store lacks the dataset %s" % name)
        values = self.h5[name][:]
        if len(values) != len(self.unit_status):
            raise Skip("the dataset %s has %d rows for %d units" % (name, len(values), len(self.unit_status)))
        return values

    def fit_status(self, method):
        """fits/<method>/status over units (int64), or None when the store lacks it."""
        if fit_path(method, "status") not in self.h5:
            return None
        return self.fit_column(method, "status").astype(np.int64)

    def fit_reasons(self, method):
        name = fit_path(method, "reason")
        return strings(self.h5[name]) if name in self.h5 else [""] * len(self.unit_status)

    def fits(self, method):
        """{column: values over units} of fits/<method>: every FIT_COLUMNS column as stored,
        'status' (int64) and 'reason' (str)."""
        self.require_method(method)
        out = {}
        for column in FIT_COLUMNS:
            if column.endswith("_jackknife") and fit_path(method, column) not in self.h5:
                out[column] = np.full(len(self.unit_status), np.nan)  # a store written before the jackknife
            else:
                out[column] = self.fit_column(method, column)
        out["status"] = self.fit_column(method, "status").astype(np.int64)
        out["reason"] = self.fit_reasons(method)
        return out

    def outcome_index(self, outcome):
        """An outcome given by index or name, as an index; Skip for one the store lacks."""
        if isinstance(outcome, str):
            if outcome not in self.outcomes:
                raise Skip("the store has no outcome %s (it has: %s)" % (outcome, ", ".join(self.outcomes)))
            return self.outcomes.index(outcome)
        if not 0 <= int(outcome) < len(self.outcomes):
            raise Skip("the store has no outcome %s (it has %d)" % (outcome, len(self.outcomes)))
        return int(outcome)

    def self_pair(self, exposure, outcome):
        """Whether the exposure is the outcome's own output (a network run never fits that pair)."""
        if self.exposure_outputs is None or len(self.exposure_outputs) != len(self.exposures):
            return False
        return int(self.outcome_outputs[outcome]) >= 0 and \
            int(self.exposure_outputs[exposure]) == int(self.outcome_outputs[outcome])

    def estimable_units(self, method, exposure=None, outcome=0):
        """Indices of done units of one outcome (the primary by default; None: every outcome) whose
        fit by `method` is ok and finite (optionally of one exposure)."""
        self.require_method(method)
        estimate = self.fit_column(method, "estimate").astype(np.float64)
        ok = (self.unit_status == STATUS["ok"]) & np.isfinite(estimate)
        status = self.fit_status(method)
        if status is not None:
            ok &= status == STATUS["ok"]
        if exposure is not None:
            ok &= self.unit_exposure == exposure
        if outcome is not None:
            ok &= self.unit_outcome == self.outcome_index(outcome)
        return np.flatnonzero(ok)

    def estimates(self, method, exposure=None, outcome=0):
        """Per-region causal estimates (the done, estimable units) and their unit indices."""
        units = self.estimable_units(method, exposure, outcome)
        return self.fit_column(method, "estimate")[units].astype(np.float64), units

    # ---- meta-analysis ------------------------------------------------------------------------
    def meta(self, method, outcome=0):
        """{column: array over exposures} of meta/<method> for one outcome (the primary by
        default): every META_COLUMNS column (float64, NaN where the store lacks it), 'status'
        (int64) and 'reason' (str)."""
        o, pairs = self.outcome_index(outcome), self.meta_pairs(method)
        rows = np.arange(len(self.exposures)) * len(self.outcomes) + o
        return {column: ([values[r] for r in rows] if column == "reason" else values[rows])
                for column, values in pairs.items()}

    def meta_pairs(self, method):
        """{column: array over (exposure, outcome) pairs} of meta/<method>, row e * len(outcomes) + o
        (a one-outcome store: one row per exposure), as meta() gives them."""
        rows = len(self.exposures) * len(self.outcomes)
        group = "meta/%s" % method
        if group not in self.h5:
            raise Skip("the store has no meta-analysis for method %s (no group %s)" % (method, group))
        out = {}
        for column in META_COLUMNS:
            name = meta_path(method, column)
            if name in self.h5:
                values = self.h5[name][:].astype(np.float64)
                if len(values) != rows:
                    raise Skip("%s has %d rows for %d exposures and %d outcomes"
                               % (name, len(values), len(self.exposures), len(self.outcomes)))
                out[column] = values
            else:
                out[column] = np.full(rows, np.nan)
        if meta_path(method, "estimate") not in self.h5:
            raise Skip("the store lacks the dataset %s" % meta_path(method, "estimate"))
        status, reason = meta_path(method, "status"), meta_path(method, "reason")
        out["status"] = self.h5[status][:].astype(np.int64) if status in self.h5 else \
            np.where(np.isfinite(out["estimate"]), STATUS["ok"], STATUS["not_estimable"])
        out["reason"] = strings(self.h5[reason]) if reason in self.h5 else [""] * rows
        return out

    # ---- the direction test ---------------------------------------------------------------------
    def direction(self):
        """{column: values over units} of direction/ (DIRECTION_COLUMNS, 'status', 'reason'): each
        unit's direction test (docs/statistics.md section 3e). Skip for a store without it."""
        if "direction/status" not in self.h5:
            raise Skip("the store has no direction test (written by deepmr before store format 2)")
        out = {column: self.h5["direction/" + column][:].astype(np.float64) for column in DIRECTION_COLUMNS}
        out["status"] = self.h5["direction/status"][:].astype(np.int64)
        out["reason"] = strings(self.h5["direction/reason"])
        return out

    def direction_pairs(self):
        """{column: values over (exposure, outcome) pairs} of direction_meta/, rows as meta_pairs():
        the random-effects pooling of each pair's regional differences r2_x - r2_y."""
        if "direction_meta/status" not in self.h5:
            raise Skip("the store has no direction test (written by deepmr before store format 2)")
        out = {column: self.h5["direction_meta/" + column][:].astype(np.float64) for column in META_COLUMNS}
        out["status"] = self.h5["direction_meta/status"][:].astype(np.int64)
        out["reason"] = strings(self.h5["direction_meta/reason"])
        return out

    # ---- per-mutant effects -------------------------------------------------------------------
    def effects(self, unit):
        """(bx, bxse, by, byse, position) of one unit's instruments, as stored."""
        if not self.has_effects:
            raise Skip("the store holds no per-mutant effects (the run had run.store-effects = false); "
                       "rerun with --run.store-effects true to draw it")
        f = self.h5
        region = int(self.unit_region[unit])
        # Outcome o's rows follow those of the outcomes before it (docs/store.md).
        row = int(self.unit_outcome[unit]) * f["effects/sequence"].shape[0] + region if "effects/sequence" in f else region
        if unit >= f["effects/exposure_beta"].shape[0] or region < 0 or row >= f["effects/outcome_beta"].shape[0]:
            raise Skip("effects/ has no row for unit %d (region %d)" % (unit, region))
        bx = f["effects/exposure_beta"][unit, :].astype(np.float64)
        bxse = f["effects/exposure_se"][unit, :].astype(np.float64)
        by = f["effects/outcome_beta"][row, :].astype(np.float64)
        byse = f["effects/outcome_se"][row, :].astype(np.float64)
        position = f["effects/position"][:] if "effects/position" in f else np.arange(len(bx)) // 3
        return bx, bxse, by, byse, position

    def sequence(self, region):
        """A region's window as stored in effects/sequence (str), from which each mutant column's
        reference and alternative base follow (docs/store.md)."""
        name = "effects/sequence"
        if name not in self.h5:
            raise Skip("the store lacks the dataset %s (the window of each region)" % name)
        if region < 0 or region >= self.h5[name].shape[0]:
            raise Skip("%s has no row for region %d" % (name, region))
        return str(text(self.h5[name][region]))

    def min_abs_z_x(self):
        value = config_value(self.config_text, "analysis", "min-abs-z-x")
        try:
            return float(value) if value is not None else 0.0
        except ValueError:
            return 0.0
