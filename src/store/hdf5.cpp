#include "hdf5.hpp"
#include "deepmr/store/hdf5_version.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

namespace deepmr::store {
namespace detail {

// HDF5 prints its error stack to stderr by default; deepmr reports one line instead.
void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

herr_t collect_message(unsigned n, const H5E_error2_t* error, void* data) {
  auto* text = static_cast<std::string*>(data);
  if (n == 0 && error->desc) *text = error->desc;  // innermost: the most specific reason
  return 0;
}

[[noreturn]] void fail(const std::string& what) {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_message, &reason);
  H5Eclear2(H5E_DEFAULT);
  throw StoreError(what + (reason.empty() ? "" : " (" + reason + ")"));
}

hid_t check_id(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void check_rc(herr_t rc, const std::string& what) {
  if (rc < 0) fail(what);
}

Handle make_plist(hid_t cls) { return Handle(check_id(H5Pcreate(cls), "cannot create property list"), H5Pclose); }

}  // namespace detail

namespace {

using detail::check_id;
using detail::check_rc;
using detail::make_plist;
using detail::silence_hdf5;

Handle transfer_plist(bool parallel, Transfer transfer) {
  Handle plist = make_plist(H5P_DATASET_XFER);
#ifdef H5_HAVE_PARALLEL
  if (parallel)
    H5Pset_dxpl_mpio(plist.id(), transfer == Transfer::collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
#else
  (void)parallel;
  (void)transfer;
#endif
  return plist;
}

bool file_is_parallel(hid_t file) {
  Handle fapl(H5Fget_access_plist(file), H5Pclose);
#ifdef H5_HAVE_PARALLEL
  return fapl.valid() && H5Pget_driver(fapl.id()) == H5FD_MPIO;
#else
  return false;
#endif
}

}  // namespace

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release) +
#ifdef H5_HAVE_PARALLEL
         " (parallel)";
#else
         " (serial)";
#endif
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() { close(); }

herr_t Handle::close() {
  const herr_t rc = id_ >= 0 && close_ ? close_(id_) : 0;
  id_ = -1;
  return rc;
}

template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t native_type<std::int8_t>() { return H5T_NATIVE_INT8; }

Dataset::Dataset(Handle handle, std::string path, std::string file)
    : handle_(std::move(handle)), path_(std::move(path)), file_(std::move(file)) {}

std::vector<hsize_t> Dataset::dims() const {
  Handle space(check_id(H5Dget_space(id()), file_ + ": cannot read the shape of " + path_), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> out(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.id(), out.data(), nullptr);
  return out;
}

void Dataset::transfer_rows(hsize_t first, hsize_t rows, hid_t type, const void* in, void* out,
                            Transfer transfer) const {
  const bool writing = out == nullptr;
  std::vector<hsize_t> shape = dims();
  if (shape.empty() || first + rows > shape[0])
    throw StoreError(file_ + ": rows " + std::to_string(first) + ".." + std::to_string(first + rows) +
                     " are outside dataset " + path_ + " of " +
                     std::to_string(shape.empty() ? 0 : shape[0]) + " rows");
  std::vector<hsize_t> start(shape.size(), 0), count = shape;
  start[0] = first;
  count[0] = rows;
  Handle file_space(check_id(H5Dget_space(id()), file_ + ": " + path_), H5Sclose);
  Handle memory_space(check_id(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                              file_ + ": " + path_), H5Sclose);
  if (rows == 0) {
    // A rank with nothing to write still takes part in a collective transfer.
    H5Sselect_none(file_space.id());
    H5Sselect_none(memory_space.id());
  } else {
    check_rc(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
             file_ + ": " + path_);
  }
  Handle xfer = transfer_plist(file_is_parallel(id()), transfer);
  if (writing) {
    check_rc(H5Dwrite(id(), type, memory_space.id(), file_space.id(), xfer.id(), in),
            file_ + ": cannot write rows of " + path_);
  } else {
    check_rc(H5Dread(id(), type, memory_space.id(), file_space.id(), xfer.id(), out),
            file_ + ": cannot read rows of " + path_);
  }
}

namespace {
hsize_t row_width(const std::vector<hsize_t>& shape) {
  hsize_t width = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) width *= shape[i];
  return width;
}
}  // namespace

template <typename T>
void Dataset::write_rows(hsize_t first, hsize_t rows, const T* data, Transfer transfer) const {
  transfer_rows(first, rows, native_type<T>(), data, nullptr, transfer);
}

template <typename T>
std::vector<T> Dataset::read_rows(hsize_t first, hsize_t rows) const {
  std::vector<T> out(static_cast<std::size_t>(rows * row_width(dims())));
  T dummy{};  // a non-null destination marks a read even when there are no rows
  transfer_rows(first, rows, native_type<T>(), nullptr, out.empty() ? &dummy : out.data(), Transfer::independent);
  return out;
}

#define DEEPMR_INSTANTIATE(T)                                                                   \
  template void Dataset::write_rows<T>(hsize_t, hsize_t, const T*, Transfer) const;             \
  template std::vector<T> Dataset::read_rows<T>(hsize_t, hsize_t) const;                        \
  template Dataset File::create_dataset<T>(const std::string&, const std::vector<hsize_t>&, hsize_t) const; \
  template Dataset File::create_dataset<T>(const std::string&, const std::vector<hsize_t>&, const DatasetOptions&) const;
DEEPMR_INSTANTIATE(double)
DEEPMR_INSTANTIATE(float)
DEEPMR_INSTANTIATE(std::int64_t)
DEEPMR_INSTANTIATE(std::int32_t)
DEEPMR_INSTANTIATE(std::uint8_t)
DEEPMR_INSTANTIATE(std::int8_t)
#undef DEEPMR_INSTANTIATE

void Dataset::write_strings(hsize_t first, const std::vector<std::string>& values, Transfer transfer) const {
  Handle type(H5Dget_type(id()), H5Tclose);
  const std::size_t width = H5Tget_size(type.id());
  std::vector<char> buffer(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() > width)
      throw StoreError(file_ + ": string '" + values[i] + "' is longer than the " + std::to_string(width) +
                       " bytes of " + path_);
    std::memcpy(buffer.data() + i * width, values[i].data(), values[i].size());
  }
  transfer_rows(first, values.size(), type.id(), buffer.data(), nullptr, transfer);
}

std::vector<std::string> Dataset::read_strings() const { return read_strings(0, dims().at(0)); }

std::vector<std::string> Dataset::read_strings(hsize_t first, hsize_t rows) const {
  Handle type(H5Dget_type(id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING || H5Tis_variable_str(type.id()) > 0)
    throw StoreError(file_ + ": " + path_ + " is not a fixed-length string dataset");
  const std::size_t width = H5Tget_size(type.id());
  std::vector<char> buffer(rows * width + 1, '\0');
  transfer_rows(first, rows, type.id(), nullptr, buffer.data(), Transfer::independent);
  std::vector<std::string> out(rows);
  for (hsize_t i = 0; i < rows; ++i) {
    const char* s = buffer.data() + i * width;
    out[i] = std::string(s, strnlen(s, width));
  }
  return out;
}

File File::open_serial(const std::string& path, bool writable) {
  silence_hdf5();
  hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  return File(Handle(check_id(id, path + ": cannot open the HDF5 file"), H5Fclose), path, false);
}

File File::create_serial(const std::string& path) {
  silence_hdf5();
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  return File(Handle(check_id(id, path + ": cannot create the HDF5 file"), H5Fclose), path, false);
}

void File::create_group(const std::string& group) const {
  Handle lcpl = make_plist(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  Handle g(check_id(H5Gcreate2(id(), group.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
                   path_ + ": cannot create group " + group),
           H5Gclose);
}

bool File::exists(const std::string& object) const {
  // Walk the path one link at a time: H5Lexists fails on a missing intermediate group.
  std::string partial;
  std::size_t pos = 0;
  while (pos < object.size()) {
    std::size_t next = object.find('/', pos + 1);
    partial = object.substr(0, next);
    if (!partial.empty() && partial != "/" && H5Lexists(id(), partial.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) break;
    pos = next;
  }
  return true;
}

Dataset File::create_dataset_of(const std::string& object, hid_t type, const std::vector<hsize_t>& dims,
                                const DatasetOptions& options) const {
  std::vector<hsize_t> max_dims = dims;
  Handle dcpl = make_plist(H5P_DATASET_CREATE);
  if (options.chunk_rows > 0) {
    max_dims[0] = H5S_UNLIMITED;
    std::vector<hsize_t> chunk = dims;
    chunk[0] = options.chunk_rows;
    H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data());
  }
  if (options.fill == DatasetOptions::Fill::nan) {
    const double nan_double = std::numeric_limits<double>::quiet_NaN();
    const float nan_float = std::numeric_limits<float>::quiet_NaN();
    if (H5Tequal(type, H5T_NATIVE_DOUBLE) > 0) H5Pset_fill_value(dcpl.id(), H5T_NATIVE_DOUBLE, &nan_double);
    else if (H5Tequal(type, H5T_NATIVE_FLOAT) > 0) H5Pset_fill_value(dcpl.id(), H5T_NATIVE_FLOAT, &nan_float);
  } else if (options.fill == DatasetOptions::Fill::none) {
    H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER);
  }
  // Parallel HDF5 needs every byte of the file allocated when the dataset is created.
  if (parallel_) H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY);
  Handle space(check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()),
                       path_ + ": bad shape for " + object),
               H5Sclose);
  Handle lcpl = make_plist(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  hid_t ds = H5Dcreate2(id(), object.c_str(), type, space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT);
  return Dataset(Handle(check_id(ds, path_ + ": cannot create dataset " + object), H5Dclose), object, path_);
}

template <typename T>
Dataset File::create_dataset(const std::string& object, const std::vector<hsize_t>& dims,
                             hsize_t chunk_rows) const {
  DatasetOptions options;
  options.chunk_rows = chunk_rows;
  return create_dataset_of(object, native_type<T>(), dims, options);
}

template <typename T>
Dataset File::create_dataset(const std::string& object, const std::vector<hsize_t>& dims,
                             const DatasetOptions& options) const {
  return create_dataset_of(object, native_type<T>(), dims, options);
}

Dataset File::create_string_dataset(const std::string& object, hsize_t rows, std::size_t width) const {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), std::max<std::size_t>(width, 1));
  H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
  return create_dataset_of(object, type.id(), {rows}, DatasetOptions{});
}

Dataset File::open_dataset(const std::string& object) const {
  if (!exists(object)) throw StoreError(path_ + ": the store has no dataset " + object);
  hid_t ds = H5Dopen2(id(), object.c_str(), H5P_DEFAULT);
  return Dataset(Handle(check_id(ds, path_ + ": cannot open dataset " + object), H5Dclose), object, path_);
}

namespace {

Handle open_object(hid_t file, const std::string& object, const std::string& file_path) {
  return Handle(check_id(H5Oopen(file, object.c_str(), H5P_DEFAULT), file_path + ": no object " + object),
                H5Oclose);
}

void write_attribute(hid_t file, const std::string& file_path, const std::string& object,
                     const std::string& name, hid_t type, const void* value) {
  Handle target = open_object(file, object, file_path);
  if (H5Aexists(target.id(), name.c_str()) > 0) H5Adelete(target.id(), name.c_str());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(check_id(H5Acreate2(target.id(), name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                           file_path + ": cannot create attribute " + name),
                   H5Aclose);
  check_rc(H5Awrite(attribute.id(), type, value), file_path + ": cannot write attribute " + name);
}

Handle read_attribute(hid_t file, const std::string& file_path, const std::string& object, const std::string& name) {
  Handle target = open_object(file, object, file_path);
  return Handle(check_id(H5Aopen(target.id(), name.c_str(), H5P_DEFAULT),
                        file_path + ": " + object + " has no attribute " + name),
                H5Aclose);
}

}  // namespace

void File::set_attribute(const std::string& object, const std::string& name, const std::string& value) const {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), std::max<std::size_t>(value.size(), 1));
  H5Tset_strpad(type.id(), H5T_STR_NULLPAD);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  write_attribute(id(), path_, object, name, type.id(), padded.data());
}

void File::set_attribute(const std::string& object, const std::string& name, std::int64_t value) const {
  write_attribute(id(), path_, object, name, H5T_NATIVE_INT64, &value);
}

void File::set_attribute(const std::string& object, const std::string& name, double value) const {
  write_attribute(id(), path_, object, name, H5T_NATIVE_DOUBLE, &value);
}

std::string File::string_attribute(const std::string& object, const std::string& name) const {
  Handle attribute = read_attribute(id(), path_, object, name);
  Handle type(H5Aget_type(attribute.id()), H5Tclose);
  if (H5Tget_class(type.id()) != H5T_STRING) throw StoreError(path_ + ": attribute " + name + " is not a string");
  if (H5Tis_variable_str(type.id()) > 0) {
    char* text = nullptr;
    Handle memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memtype.id(), H5T_VARIABLE);
    check_rc(H5Aread(attribute.id(), memtype.id(), &text), path_ + ": cannot read attribute " + name);
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  const std::size_t width = H5Tget_size(type.id());
  std::string buffer(width, '\0');
  check_rc(H5Aread(attribute.id(), type.id(), buffer.data()), path_ + ": cannot read attribute " + name);
  buffer.resize(strnlen(buffer.data(), width));
  return buffer;
}

std::int64_t File::int_attribute(const std::string& object, const std::string& name) const {
  Handle attribute = read_attribute(id(), path_, object, name);
  std::int64_t value = 0;
  check_rc(H5Aread(attribute.id(), H5T_NATIVE_INT64, &value), path_ + ": cannot read attribute " + name);
  return value;
}

double File::double_attribute(const std::string& object, const std::string& name) const {
  Handle attribute = read_attribute(id(), path_, object, name);
  double value = 0;
  check_rc(H5Aread(attribute.id(), H5T_NATIVE_DOUBLE, &value), path_ + ": cannot read attribute " + name);
  return value;
}

bool File::has_attribute(const std::string& object, const std::string& name) const {
  Handle target = open_object(id(), object, path_);
  return H5Aexists(target.id(), name.c_str()) > 0;
}

void File::flush() const {
  check_rc(H5Fflush(id(), H5F_SCOPE_GLOBAL), path_ + ": cannot flush the HDF5 file");
}

void File::close() { check_rc(handle_.close(), path_ + ": cannot close the HDF5 file"); }

}  // namespace deepmr::store
