#pragma once
// Pre-encoded sequences in an HDF5 file (a region source of a run, e.g. a DeepSEA-style test set):
// a dataset of N x 4 x L one-hot sequences (uint8 or float, channel-major, in some alphabet order)
// and an optional label matrix N x T (bound = value > 0.5). Rows are read one at a time, so a
// worker's memory does not grow with the file.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace deepmr::store {

class File;     // hdf5.hpp (private to the store layer)
class Dataset;

class SequenceFile {
 public:
  // Opens the file read-only (serial HDF5, no MPI needed). labels_dataset may be empty (no
  // labels). InputError naming the file and dataset when it cannot be opened, a dataset is
  // missing, or a shape is wrong (sequences not N x 4 x L, labels not N x T with the same N).
  SequenceFile(const std::string& path, const std::string& sequences_dataset = "sequences",
               const std::string& labels_dataset = "labels");
  ~SequenceFile();
  SequenceFile(SequenceFile&&) noexcept;
  SequenceFile& operator=(SequenceFile&&) noexcept;

  const std::string& path() const { return path_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t length() const { return length_; }  // L
  bool has_labels() const { return labels_ != nullptr; }
  std::uint64_t label_count() const { return label_count_; }  // T (0 without labels)

  // Row `row` as 4 x L floats, channel-major, in the file's channel order. Safe from several
  // threads (calls are serialised: HDF5 is not thread-safe). InputError when row >= rows().
  void read_row(std::uint64_t row, float* out) const;
  std::vector<float> read_row(std::uint64_t row) const;

  // rows() x columns.size() flags, row-major: 1 where labels[row, column] > 0.5. Reads the label
  // matrix in blocks of rows; InputError for a column >= label_count() or a file without labels.
  std::vector<std::uint8_t> bound(const std::vector<std::uint64_t>& columns) const;

 private:
  void open_datasets();
  std::string path_;
  std::string sequences_name_, labels_name_;
  std::unique_ptr<File> file_;
  std::unique_ptr<Dataset> sequences_;
  std::unique_ptr<Dataset> labels_;
  std::uint64_t rows_ = 0, length_ = 0, label_count_ = 0;
  mutable std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
};

}  // namespace deepmr::store
