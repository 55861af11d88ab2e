#include "deepmr/store/sequence_file.hpp"

#include "hdf5.hpp"

#include <algorithm>
#include <filesystem>

#include "deepmr/common/error.hpp"

namespace deepmr::store {

SequenceFile::~SequenceFile() = default;
SequenceFile::SequenceFile(SequenceFile&&) noexcept = default;
SequenceFile& SequenceFile::operator=(SequenceFile&&) noexcept = default;
namespace {

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string out;
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? " x " : "") + std::to_string(dims[i]);
  return out.empty() ? "a scalar" : out;
}

}  // namespace

SequenceFile::SequenceFile(const std::string& path, const std::string& sequences_dataset,
                           const std::string& labels_dataset)
    : path_(path), sequences_name_(sequences_dataset), labels_name_(labels_dataset) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(at(path) + "no such sequence file (check regions.sequences)");
  // The HDF5 wrapper reports StoreErrors; for a region source they are input errors.
  try {
    file_ = std::make_unique<File>(File::open_serial(path, false));
  } catch (const StoreError& e) {
    throw InputError(at(path) + "cannot open it as an HDF5 file (" + e.what() + ")");
  }
  try {
    open_datasets();
  } catch (const StoreError& e) {
    throw InputError(e.what());  // the wrapper names the file
  }
}

void SequenceFile::open_datasets() {
  const std::string& path = path_;
  const std::string& sequences_dataset = sequences_name_;
  const std::string& labels_dataset = labels_name_;
  if (!file_->exists(sequences_dataset))
    throw InputError(at(path) + "has no dataset '" + sequences_dataset + "' (set regions.sequences-dataset)");
  sequences_ = std::make_unique<Dataset>(file_->open_dataset(sequences_dataset));
  const auto dims = sequences_->dims();
  if (dims.size() != 3 || dims[1] != 4 || dims[2] == 0)
    throw InputError(at(path) + "dataset '" + sequences_dataset + "' is " + shape_text(dims) +
                     "; sequences must be N x 4 x L one-hot (channel-major)");
  rows_ = dims[0];
  length_ = dims[2];
  if (!labels_dataset.empty() && file_->exists(labels_dataset)) {
    labels_ = std::make_unique<Dataset>(file_->open_dataset(labels_dataset));
    const auto ldims = labels_->dims();
    if (ldims.size() != 2 || ldims[0] != rows_)
      throw InputError(at(path) + "dataset '" + labels_dataset + "' is " + shape_text(ldims) +
                       "; labels must be N x T with the N = " + std::to_string(rows_) + " rows of '" +
                       sequences_dataset + "'");
    label_count_ = ldims[1];
  }
}

void SequenceFile::read_row(std::uint64_t row, float* out) const {
  if (row >= rows_)
    throw InputError(at(path_) + "row " + std::to_string(row) + " is past the " + std::to_string(rows_) + " rows of '" +
                     sequences_name_ + "'");
  std::lock_guard<std::mutex> lock(*mutex_);
  try {
    // HDF5 converts uint8 (or any numeric type) to float on the way.
    const auto values = sequences_->read_rows<float>(row, 1);
    std::copy(values.begin(), values.end(), out);
  } catch (const StoreError& e) {
    throw InputError(e.what());  // the wrapper names the file
  }
}

std::vector<float> SequenceFile::read_row(std::uint64_t row) const {
  std::vector<float> out(static_cast<std::size_t>(4 * length_));
  read_row(row, out.data());
  return out;
}

std::vector<std::uint8_t> SequenceFile::bound(const std::vector<std::uint64_t>& columns) const {
  if (!labels_)
    throw InputError(at(path_) + "has no label dataset '" + labels_name_ +
                     "' to sample bound rows from (set regions.labels-dataset, or list exposures without columns)");
  for (std::uint64_t c : columns)
    if (c >= label_count_)
      throw InputError(at(path_) + "label column " + std::to_string(c) + " is past the " +
                       std::to_string(label_count_) + " columns of '" + labels_name_ + "' (columns count from 0)");
  std::lock_guard<std::mutex> lock(*mutex_);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(rows_ * columns.size()));
  // Blocks of rows keep memory bounded for a large matrix (e.g. 455,024 x 919).
  const std::uint64_t block = std::max<std::uint64_t>(1, (std::uint64_t{16} << 20) / (4 * std::max<std::uint64_t>(label_count_, 1)));
  for (std::uint64_t first = 0; first < rows_; first += block) {
    const std::uint64_t n = std::min(block, rows_ - first);
    std::vector<float> values;
    try {
      values = labels_->read_rows<float>(first, n);
    } catch (const StoreError& e) {
      throw InputError(e.what());  // the wrapper names the file
    }
    for (std::uint64_t r = 0; r < n; ++r)
      for (std::size_t k = 0; k < columns.size(); ++k) {
        const float label = values[r * label_count_ + columns[k]];
        // NaN would read as "unbound" and silently shrink the sampling pool.
        if (label != label)
          throw InputError(at(path_) + "'" + labels_name_ + "' holds NaN at row " + std::to_string(first + r) +
                           ", column " + std::to_string(columns[k]) + " (rows and columns count from 0): labels "
                           "must be 0 or 1");
        out[(first + r) * columns.size() + k] = label > 0.5f ? 1 : 0;
      }
  }
  return out;
}

}  // namespace deepmr::store
