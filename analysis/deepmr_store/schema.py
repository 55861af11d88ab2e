"""The store's schema, loaded from schema.json beside this file (the one Python-side definition).

  FORMAT, FORMAT_VERSION  the root attributes format and format_version a store carries
  STATUS                  {"pending": 0, "ok": 1, "not_estimable": 2, "failed": 3}: the numbers of
                          every status dataset (a done unit or region has STATUS["ok"])
  FIT_COLUMNS             the float columns of fits/<method>/, in the writer's order
  META_COLUMNS            the float columns of meta/<method>/, in the writer's order
  ATTRIBUTES              {root attribute: type}
  OPTIONAL_ATTRIBUTES     those only some runs write (ensemble_members)
  DATASETS                the dataset templates: Dataset(path, type, rows); a path may hold
                          {method}, {fit_column} and {meta_column}

A type is a numpy dtype name (float64, float32, int64, int32, int8) or text (fixed-length strings).
rows names the row space (exposures, regions, units, mutants, or "A x B" for a 2-d table).
"""
import collections
import json
import os

import numpy as np

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")
with open(SCHEMA_FILE, encoding="utf-8") as _f:
    SCHEMA = json.load(_f)

Dataset = collections.namedtuple("Dataset", "path type rows")

FORMAT = SCHEMA["format"]
FORMAT_VERSION = SCHEMA["format_version"]
STATUS = dict(SCHEMA["statuses"])
FIT_COLUMNS = tuple(c["name"] for c in SCHEMA["fit_columns"])
META_COLUMNS = tuple(c["name"] for c in SCHEMA["meta_columns"])
DIRECTION_COLUMNS = tuple(c["name"] for c in SCHEMA.get("direction_columns", []))
ATTRIBUTES = {a["name"]: a["type"] for a in SCHEMA["attributes"]}
# Attributes only some runs write (ensemble_members: a deep ensemble's store).
OPTIONAL_ATTRIBUTES = frozenset(a["name"] for a in SCHEMA["attributes"] if a.get("optional"))
DATASETS = tuple(Dataset(d["path"], d["type"], d["rows"]) for d in SCHEMA["datasets"])

# deepmr writes the effects/ group only with run.store-effects = true (schema.json has no marker
# for optional datasets; this is the one group that is).
EFFECTS_GROUP = "effects"

_COLUMNS = {"{fit_column}": FIT_COLUMNS, "{meta_column}": META_COLUMNS, "{direction_column}": DIRECTION_COLUMNS}


def expand_template(template, methods):
    """The paths one template stands for in a store with these methods."""
    paths = [template]
    if "{method}" in template:
        paths = [p.replace("{method}", m) for p in paths for m in methods]
    for placeholder, columns in _COLUMNS.items():
        if placeholder in template:
            paths = [p.replace(placeholder, c) for p in paths for c in columns]
    return paths


def expand(methods, effects=True):
    """{path: Dataset} of every dataset a complete store with these methods holds (the effects/
    group only with `effects`), in schema order."""
    out = {}
    for template in DATASETS:
        if not effects and template.path.split("/", 1)[0] == EFFECTS_GROUP:
            continue
        for path in expand_template(template.path, methods):
            out[path] = Dataset(path, template.type, template.rows)
    return out


def _path_in(group, method, column):
    for template in DATASETS:
        if template.path.split("/", 1)[0] != group:
            continue
        for path in expand_template(template.path, [method]):
            if path.rsplit("/", 1)[1] == column:
                return path
    raise KeyError("the store schema has no dataset %s/%s/%s" % (group, method, column))


def fit_path(method, column):
    """The dataset of one fits column of a method (a FIT_COLUMNS name, status or reason)."""
    return _path_in("fits", method, column)


def meta_path(method, column):
    """The dataset of one meta-analysis column of a method (a META_COLUMNS name, status or reason)."""
    return _path_in("meta", method, column)


def type_of(value):
    """The schema type of an h5py dataset, dtype, attribute value or numpy array: text for strings."""
    dtype = value if isinstance(value, np.dtype) else getattr(value, "dtype", None)
    if dtype is None:
        if isinstance(value, (bytes, str)):
            return "text"
        dtype = np.asarray(value).dtype
    dtype = np.dtype(dtype)
    if dtype.kind in "SU" or (dtype.kind == "O" and _is_string_dtype(dtype)):
        return "text"
    return dtype.name


def _is_string_dtype(dtype):
    import h5py  # only for h5py's variable-length string dtype
    return h5py.check_string_dtype(dtype) is not None
