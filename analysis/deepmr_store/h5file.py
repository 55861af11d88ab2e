"""The HDF5 file under a store, as stored: the one place h5py opens a store, its datasets and its root
attributes without interpretation (store.py reads them for the report; compare.py compares them)."""
import h5py
import numpy as np

from .schema import ATTRIBUTES


def open_h5(path, mode="r"):
    """The store's h5py.File, read-only. Only tests that write a synthetic store or damage a copy
    of one give another mode ("w", "r+")."""
    return h5py.File(path, mode)


def is_hdf5(path):
    return h5py.is_hdf5(path)


def all_datasets(h5):
    """{path: h5py.Dataset} of every dataset in the file (paths without the leading /)."""
    out = {}
    h5.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def root_attributes(h5):
    """{name: value} of the root attributes exactly as h5py gives them (numpy scalars, bytes for text)."""
    return {key: h5.attrs[key] for key in h5.attrs.keys()}


def write_attributes(h5, values):
    """Writes root attributes with the schema's types (text as fixed-length UTF-8 bytes, as deepmr
    writes it; int64; float64). A name the schema does not list is written as text when it is a
    str and as given otherwise. For tests that write synthetic or damaged stores."""
    for name, value in values.items():
        kind = ATTRIBUTES.get(name, "text" if isinstance(value, str) else None)
        if kind == "text":
            h5.attrs[name] = np.bytes_(value.encode("utf-8") if isinstance(value, str) else value)
        elif kind is None:
            h5.attrs[name] = value
        else:
            h5.attrs[name] = np.dtype(kind).type(value)
