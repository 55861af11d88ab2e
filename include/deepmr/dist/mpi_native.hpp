#pragma once
// The raw MPI communicator behind a dist::Communicator, for the few places that must hand it to
// another library (the store's HDF5 MPI-IO driver). Everything else talks through Communicator.

#include <mpi.h>

#include "deepmr/dist/communicator.hpp"

namespace deepmr::dist {

struct Communicator::Native {
  MPI_Comm comm = MPI_COMM_NULL;
  bool owned = false;  // freed with the last Communicator that shares it (split communicators)
  ~Native();
};

inline MPI_Comm native_handle(const Communicator& comm) { return comm.native().comm; }

}  // namespace deepmr::dist
