// Feeds bytes to the BED / narrowPeak reader as a peak file, read once as BED and once as
// narrowPeak. Bytes that start with gzip's magic are a .gz file as given (corrupt and truncated
// streams); any other bytes are read as plain text and then once more gzip-compressed by the
// harness, so that line numbers and records through zlib are checked against the plain reading.

#include <zlib.h>

#include <cstdint>
#include <vector>

#include "deepmr/genome/bed_reader.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace deepmr;

// What a record says, owning its text (a BedRecord's views point into the reader's buffer).
struct Record {
  std::string chrom;
  std::uint64_t start, end;
  long line;
  bool operator==(const Record& o) const { return chrom == o.chrom && start == o.start && end == o.end && line == o.line; }
};

std::vector<Record> read_all(const std::string& path, genome::PeakFormat format) {
  std::vector<Record> records;
  genome::BedReader reader(path, format);
  genome::BedRecord r;
  while (reader.next(r)) records.push_back({std::string(r.chrom), r.start, r.end, r.line});
  return records;
}

std::string gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: a gzip header
  std::string out(deflateBound(&z, size) + 32, '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const std::string path = fuzz::write_file(gzipped ? "peaks.bed.gz" : "peaks.bed", data, size);
  for (auto format : {genome::PeakFormat::bed, genome::PeakFormat::narrow_peak}) {
    std::vector<Record> plain;
    bool read = false;
    fuzz::expect_clean([&] {
      plain = read_all(path, format);
      read = true;
    });
    if (gzipped || !read) continue;
    const std::string packed = gzip(data, size);
    const std::string packed_path = fuzz::write_file("peaks.bed.gz", packed.data(), packed.size());
    fuzz::expect_clean([&] {
      if (plain != read_all(packed_path, format)) fuzz::finding("gzip", "records differ from the plain file's");
    });
  }
  return 0;
}
