#pragma once
// RAII over the HDF5 C API, serial or parallel (MPI-IO). Every failed call becomes a StoreError
// naming the file and object; HDF5's own error-stack printing is switched off. Private to the store
// layer: no public header includes <hdf5.h> (whose parallel build includes <mpi.h>). The serial part
// is hdf5.cpp (the reader's target); the parallel one, hdf5_parallel.cpp, takes the dist seam's
// Communicator.
//
// Parallel rules this wrapper does not hide (see docs/store.md): opening, creating datasets and
// attributes, extending and flushing are collective; row writes may be independent unless the
// dataset is filtered.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/common/error.hpp"

namespace deepmr::dist {
class Communicator;
}

namespace deepmr::store {

// One HDF5 identifier and the function that closes it.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), close_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Closes now and returns the closing function's status (reset() ignores it).
  herr_t close();

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

enum class Transfer { independent, collective };

// Element types the store writes; fixed-length strings (parallel HDF5 cannot write variable-length
// data) use a width chosen at creation.
template <typename T> hid_t native_type();

// How a dataset is laid out and what unwritten elements read as.
struct DatasetOptions {
  hsize_t chunk_rows = 0;  // > 0: chunked (extendable) in blocks of this many rows
  enum class Fill { zero, nan, none } fill = Fill::zero;  // none: never written at creation (large arrays)
};

class Dataset {
 public:
  Dataset() = default;
  Dataset(Handle handle, std::string path, std::string file);

  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.id(); }
  std::vector<hsize_t> dims() const;

  // Rows [first, first + rows) of a 1-D or 2-D dataset (2-D: rows x all columns), row-major.
  template <typename T>
  void write_rows(hsize_t first, hsize_t rows, const T* data, Transfer transfer) const;
  template <typename T>
  std::vector<T> read_rows(hsize_t first, hsize_t rows) const;
  template <typename T>
  std::vector<T> read_all() const { return read_rows<T>(0, dims().at(0)); }

  // Fixed-length strings (1-D): each element padded with NULs to the dataset's width.
  void write_strings(hsize_t first, const std::vector<std::string>& values, Transfer transfer) const;
  std::vector<std::string> read_strings() const;
  std::vector<std::string> read_strings(hsize_t first, hsize_t rows) const;

 private:
  // Writes `in` when `out` is null, else reads into `out`.
  void transfer_rows(hsize_t first, hsize_t rows, hid_t type, const void* in, void* out,
                     Transfer transfer) const;
  Handle handle_;
  std::string path_;
  std::string file_;
};

namespace detail {
// The error handling every HDF5 call of the store goes through (hdf5.cpp).
void silence_hdf5();
[[noreturn]] void fail(const std::string& what);
hid_t check_id(hid_t id, const std::string& what);
void check_rc(herr_t rc, const std::string& what);
Handle make_plist(hid_t cls);
}  // namespace detail

class File {
 public:
  // Collective over comm: creates (truncating) a file every rank of comm can write.
  static File create_parallel(const std::string& path, const dist::Communicator& comm);
  // Collective over comm.
  static File open_parallel(const std::string& path, const dist::Communicator& comm, bool writable);
  // One process, no MPI: for readers such as `deepmr summarize`.
  static File open_serial(const std::string& path, bool writable);
  static File create_serial(const std::string& path);

  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.id(); }
  bool parallel() const { return parallel_; }

  void create_group(const std::string& path) const;
  bool exists(const std::string& path) const;

  // Collective in parallel mode. chunk_rows > 0 makes the dataset chunked (needed to extend it).
  template <typename T>
  Dataset create_dataset(const std::string& path, const std::vector<hsize_t>& dims,
                         hsize_t chunk_rows = 0) const;
  template <typename T>
  Dataset create_dataset(const std::string& path, const std::vector<hsize_t>& dims, const DatasetOptions& options) const;
  Dataset create_string_dataset(const std::string& path, hsize_t rows, std::size_t width) const;
  Dataset open_dataset(const std::string& path) const;

  // Attributes on the root group (path "/") or any object; collective in parallel mode.
  void set_attribute(const std::string& object, const std::string& name, const std::string& value) const;
  void set_attribute(const std::string& object, const std::string& name, std::int64_t value) const;
  void set_attribute(const std::string& object, const std::string& name, double value) const;
  std::string string_attribute(const std::string& object, const std::string& name) const;
  std::int64_t int_attribute(const std::string& object, const std::string& name) const;
  double double_attribute(const std::string& object, const std::string& name) const;
  bool has_attribute(const std::string& object, const std::string& name) const;

  void flush() const;  // collective in parallel mode
  // Collective in parallel mode; throws StoreError when HDF5 could not write what it held.
  void close();

 private:
  File(Handle handle, std::string path, bool parallel)
      : handle_(std::move(handle)), path_(std::move(path)), parallel_(parallel) {}
  Dataset create_dataset_of(const std::string& path, hid_t type, const std::vector<hsize_t>& dims,
                            const DatasetOptions& options) const;
  Handle handle_;
  std::string path_;
  bool parallel_ = false;
};

}  // namespace deepmr::store
