#pragma once
// A bigWig file written through libBigWig (UCSC's format: a per-base signal, indexed and zoomed, for
// genome browsers and pyBigWig/rtracklayer). No libBigWig type appears here: bigWig.h stays in
// bigwig_writer.cpp. The app layer owns it because only `deepmr export` writes bigWig, from what
// the store reader returns; the store layer stays about the HDF5 store.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deepmr::app {

struct ChromSize {
  std::string name;
  std::uint32_t length = 0;
};

class BigWigWriter {
 public:
  // A file `path` with these sequences in its header, in this order. It is written as
  // `path`.partial from the first interval on (a track without intervals writes no file), read back
  // at close() and only then renamed to `path` (replacing it); a failed or abandoned writer leaves
  // neither. Error with exit status 2 when it cannot be written (the --out directory, or its free
  // space, is the user's to fix).
  BigWigWriter(const std::string& path, const std::vector<ChromSize>& chroms);
  ~BigWigWriter();  // closes the file if close() was not called (errors then ignored)
  BigWigWriter(const BigWigWriter&) = delete;
  BigWigWriter& operator=(const BigWigWriter&) = delete;

  // One interval [start, end) of `chrom` (an index into the header's sequences) with its value.
  // Intervals must come in header order of their sequences, sorted and disjoint within each.
  void add(std::uint32_t chrom, std::uint32_t start, std::uint32_t end, float value);
  // Writes what is held, the zoom levels and the index, closes the file, checks it and gives it its
  // name; false when no interval was added (no file).
  bool close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepmr::app
