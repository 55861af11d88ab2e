"""deepmr_store: reading a deepmr store (docs/store.md) from Python; the one module that opens a
store with h5py. Its schema comes from schema.json beside it (schema.py).

  from deepmr_store import Store, STATUS, FIT_COLUMNS
  with Store("deepmr.h5") as store:
      ok = store.unit_status == STATUS["ok"]
      fits = store.fits(store.methods[0])        # {column: values over units}
      meta = store.meta(store.methods[0])        # {column: values over exposures}

Modules: schema (the schema and dataset paths), h5file (opening the file, its datasets and root
attributes as stored), store (Store, UnusableInput, Skip), planted (planted effects), compare
(two stores byte for byte).
"""
from .compare import differences, same
from .h5file import all_datasets, open_h5, root_attributes, write_attributes
from .planted import PLANTED_ATTRIBUTE, parse_planted_attribute, planted_effects, read_planted_tsv
from .schema import (ATTRIBUTES, DATASETS, DIRECTION_COLUMNS, EFFECTS_GROUP, FIT_COLUMNS, FORMAT, FORMAT_VERSION,
                     META_COLUMNS, OPTIONAL_ATTRIBUTES, SCHEMA, STATUS, Dataset, expand, expand_template, fit_path, meta_path, type_of)
from .store import Skip, Store, UnusableInput, config_value, strings, text

__all__ = ["ATTRIBUTES", "DATASETS", "DIRECTION_COLUMNS", "EFFECTS_GROUP", "FIT_COLUMNS", "FORMAT", "FORMAT_VERSION", "META_COLUMNS",
           "OPTIONAL_ATTRIBUTES",
           "PLANTED_ATTRIBUTE", "SCHEMA", "STATUS", "Dataset", "Skip", "Store", "UnusableInput", "all_datasets",
           "config_value", "differences", "expand", "expand_template", "fit_path", "meta_path", "open_h5",
           "parse_planted_attribute", "planted_effects", "read_planted_tsv", "root_attributes", "same", "strings",
           "text", "type_of", "write_attributes"]
