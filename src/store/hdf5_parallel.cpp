// The parallel (MPI-IO) half of the HDF5 wrapper: the only store code that sees an MPI
// communicator, which it takes from the dist seam.
#include <atomic>

#include "deepmr/dist/mpi_native.hpp"
#include "deepmr/store/unclosed_files.hpp"
#include "hdf5.hpp"

namespace deepmr::store {
namespace {

std::atomic<bool> left_open{false};

// H5Fclose of a parallel file, remembering a failure (the file then stays open inside HDF5).
herr_t close_parallel_file(hid_t id) {
  const herr_t rc = H5Fclose(id);
  if (rc < 0 && H5Iis_valid(id) > 0) left_open = true;
  return rc;
}

}  // namespace

bool parallel_files_left_open() { return left_open; }

using detail::check_id;
using detail::check_rc;
using detail::make_plist;
using detail::silence_hdf5;

File File::create_parallel(const std::string& path, const dist::Communicator& comm) {
  silence_hdf5();
  Handle fapl = make_plist(H5P_FILE_ACCESS);
  check_rc(H5Pset_fapl_mpio(fapl.id(), dist::native_handle(comm), MPI_INFO_NULL), "cannot set the MPI-IO driver");
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
  return File(Handle(check_id(id, path + ": cannot create the HDF5 file"), close_parallel_file), path, true);
}

File File::open_parallel(const std::string& path, const dist::Communicator& comm, bool writable) {
  silence_hdf5();
  Handle fapl = make_plist(H5P_FILE_ACCESS);
  check_rc(H5Pset_fapl_mpio(fapl.id(), dist::native_handle(comm), MPI_INFO_NULL), "cannot set the MPI-IO driver");
  hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id());
  return File(Handle(check_id(id, path + ": cannot open the HDF5 file"), close_parallel_file), path, true);
}

}  // namespace deepmr::store
