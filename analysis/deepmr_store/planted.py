"""Planted (true) effects of a simulated store: from a TSV or the store's planted_effects attribute
(analysis/README.md, "Planted effects")."""
import math
import os

from .store import UnusableInput

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
