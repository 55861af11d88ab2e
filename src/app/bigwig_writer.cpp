#include "deepmr/app/bigwig_writer.hpp"

extern "C" {
#include <bigWig.h>
}

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "deepmr/common/disk_space.hpp"
#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

constexpr int kZoomLevels = 10;             // UCSC's default for bedGraphToBigWig
constexpr std::size_t kBatch = 1u << 16;    // intervals handed to libBigWig at a time
constexpr std::size_t kReadBuffer = 1u << 17;

// libBigWig's global set-up (curl's, for remote files), once per process.
void initialise_libbigwig() {
  static std::once_flag once;
  static int status = 0;
  std::call_once(once, [] { status = bwInit(kReadBuffer); });
  if (status != 0) throw InternalError("libBigWig could not be initialised (bwInit failed)");
}

}  // namespace

struct BigWigWriter::Impl {
  std::string path;
  std::string partial;  // written here, renamed to path once read back whole
  bigWigFile_t* file = nullptr;
  std::uint64_t bases = 0;  // covered by the intervals added: what the header must say
  std::vector<ChromSize> chroms;
  std::vector<const char*> chrom_names;
  // Intervals of the current sequence not yet handed over.
  std::int64_t chrom = -1;
  bool chrom_started = false;
  std::vector<std::uint32_t> starts, ends;
  std::vector<float> values;
  std::uint32_t last_end = 0;  // of the current sequence's last interval

  void fail(const std::string& what) const {
    throw Error(ExitCode::usage, "--out: cannot write the bigWig file " + path + " (" + what + ")" + full_disk_note(path));
  }

  void open();

  void hand_over() {
    if (starts.empty()) return;
    const auto n = static_cast<std::uint32_t>(starts.size());
    int rc = 0;
    if (!chrom_started) {
      // bwAddIntervals starts a block of a sequence; bwAppendIntervals continues it.
      std::vector<const char*> names(n, chrom_names[static_cast<std::size_t>(chrom)]);
      rc = bwAddIntervals(file, names.data(), starts.data(), ends.data(), values.data(), n);
      chrom_started = true;
    } else {
      rc = bwAppendIntervals(file, starts.data(), ends.data(), values.data(), n);
    }
    if (rc != 0) fail("libBigWig refused intervals of " + chroms[static_cast<std::size_t>(chrom)].name);
    starts.clear();
    ends.clear();
    values.clear();
  }
};

BigWigWriter::BigWigWriter(const std::string& path, const std::vector<ChromSize>& chroms)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->partial = path + ".partial";
  impl_->chroms = chroms;
  for (const auto& c : impl_->chroms) impl_->chrom_names.push_back(c.name.c_str());
}

void BigWigWriter::Impl::open() {
  initialise_libbigwig();
  if (chroms.empty()) fail("no sequences for its header");
  std::vector<std::uint32_t> lengths;
  for (const auto& c : chroms) lengths.push_back(c.length);
  file = bwOpen(partial.c_str(), nullptr, "w");
  if (!file) fail("it cannot be created");
  if (bwCreateHdr(file, kZoomLevels) != 0) fail("bwCreateHdr failed");
  file->cl = bwCreateChromList(chrom_names.data(), lengths.data(), static_cast<std::int64_t>(chroms.size()));
  if (!file->cl) fail("bwCreateChromList failed");
  if (bwWriteHdr(file) != 0) fail("bwWriteHdr failed");
}

BigWigWriter::~BigWigWriter() {
  if (!impl_->file) return;
  bwClose(impl_->file);  // an export that failed on the way leaves no file behind
  std::remove(impl_->partial.c_str());
}

void BigWigWriter::add(std::uint32_t chrom, std::uint32_t start, std::uint32_t end, float value) {
  auto& m = *impl_;
  if (!m.file) m.open();  // on the first interval: a track without any is never a file
  if (chrom >= m.chroms.size() || start >= end || end > m.chroms[chrom].length)
    throw InternalError("bigWig interval outside its sequence: " + std::to_string(chrom) + ":" + std::to_string(start) +
                        "-" + std::to_string(end));
  if (static_cast<std::int64_t>(chrom) != m.chrom) {
    if (static_cast<std::int64_t>(chrom) < m.chrom) throw InternalError("bigWig intervals out of sequence order");
    m.hand_over();
    m.chrom = chrom;
    m.chrom_started = false;
    m.last_end = 0;
  } else if (start < m.last_end) {
    throw InternalError("bigWig intervals overlap or are unsorted at " + m.chroms[chrom].name + ":" + std::to_string(start));
  }
  m.last_end = end;
  m.bases += end - start;
  m.starts.push_back(start);
  m.ends.push_back(end);
  m.values.push_back(value);
  if (m.starts.size() >= kBatch) m.hand_over();
}

bool BigWigWriter::close() {
  auto& m = *impl_;
  if (!m.file) return false;
  m.hand_over();
  // bwClose writes the last block, the zoom levels, the index and the header's summary, and reports
  // no write error: the file is read back (header, sequences, index) and its count of covered bases
  // compared before it takes its name, so that a full disk never leaves a file that looks whole.
  bwClose(m.file);
  m.file = nullptr;
  bigWigFile_t* back = bwOpen(m.partial.c_str(), nullptr, "r");
  const bool whole = back && back->cl && back->cl->nKeys == static_cast<std::int64_t>(m.chroms.size()) && back->hdr &&
                     back->hdr->nBasesCovered == m.bases;
  if (back) bwClose(back);
  std::error_code error;
  if (whole) std::filesystem::rename(m.partial, m.path, error);
  if (!whole || error) {
    std::remove(m.partial.c_str());
    m.fail(whole ? "cannot move it into place: " + error.message() : "it did not read back whole after writing");
  }
  return true;
}

}  // namespace deepmr::app
