#pragma once
// The version of the HDF5 library the store layer was built with (for `deepmr --version`).

#include <string>

namespace deepmr::store {

std::string hdf5_version();

}  // namespace deepmr::store
