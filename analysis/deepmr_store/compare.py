"""Two stores compared byte for byte: every dataset and root attribute (tests/run/compare_stores.py)."""
import numpy as np

from .h5file import all_datasets, open_h5, root_attributes


def same(a, b):
    """Equal shape, dtype and bytes."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _compare(kind, a, b, ignored, value, detail):
    """Lines for the names (datasets or attributes) of `a` and `b` that are in one only or differ."""
    problems = []
    for name in sorted(set(a) | set(b)):
        if name in ignored:
            continue
        if name not in a or name not in b:
            problems.append(f"{kind} {name} only in {'first' if name in a else 'second'}")
        elif not same(value(a[name]), value(b[name])):
            problems.append(f"{kind} {name} differs" + detail(a[name], b[name]))
    return problems


def differences(path_a, path_b, ignored_datasets=(), ignored_attributes=()):
    """(problems, datasets compared, attributes compared) of two stores: a line per dataset or root
    attribute that is in one store only or differs, the ignored ones left out; the counts are of
    the first store's. Equal stores give no problems."""
    ignored_datasets, ignored_attributes = set(ignored_datasets), set(ignored_attributes)
    with open_h5(path_a) as a, open_h5(path_b) as b:
        da, db = all_datasets(a), all_datasets(b)
        aa, ab = root_attributes(a), root_attributes(b)
        problems = _compare("dataset", da, db, ignored_datasets, lambda d: d[()], lambda x, y: "")
        problems += _compare("attribute", aa, ab, ignored_attributes, lambda v: v, lambda x, y: f": {x!r} vs {y!r}")
    return problems, len(set(da) - ignored_datasets), len(set(aa) - ignored_attributes)
