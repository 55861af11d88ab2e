#pragma once
// Parallel HDF5 files that could not be closed (their last flush failed, e.g. on a full disk).
// HDF5 keeps such a file open and tries again when MPI is finalized, where HDF5 1.10 crashes
// (SIGSEGV in H5F__close_cb). A process that has one must therefore end without MPI_Finalize,
// after it has reported its error (app/main.cpp).

namespace deepmr::store {

bool parallel_files_left_open();

}  // namespace deepmr::store
