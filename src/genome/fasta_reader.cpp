#include "deepmr/genome/fasta_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "deepmr/common/error.hpp"

namespace deepmr::genome {
namespace {

// Upper-case letter of a base byte; 0 for anything that is not A, C, G, T or N in either case.
constexpr std::array<char, 256> upper_table() {
  std::array<char, 256> t{};
  for (char c : std::string_view("ACGTN")) {
    t[static_cast<unsigned char>(c)] = c;
    t[static_cast<unsigned char>(c - 'A' + 'a')] = c;
  }
  return t;
}
constexpr auto kUpper = upper_table();

bool is_break(char c) { return c == '\n' || c == '\r'; }

std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  return "byte " + std::to_string(u);
}

}  // namespace

FastaReader::FastaReader(const std::string& path, FastaOptions options) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(at(path) + "cannot read the FASTA (" + std::strerror(errno) + "); check the path");
  // A refused FASTA or .fai throws out of the constructor, where no destructor closes the file.
  try {
    open_index(options);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

void FastaReader::open_index(const FastaOptions& options) {
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || S_ISDIR(info.st_mode))
    throw InputError(at(path_) + "is not a regular file; give the path of a FASTA file");
  file_size_ = static_cast<std::uint64_t>(info.st_size);
  unsigned char magic[2] = {0, 0};
  if (read_some(0, 2, reinterpret_cast<char*>(magic)) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    throw InputError(at(path_) + "is gzip-compressed; random access needs a plain-text FASTA (gunzip it)");

  const std::string fai = path_ + ".fai";
  if (::access(fai.c_str(), F_OK) == 0) {
    index_ = FastaIndex::read(fai);
    source_ = IndexSource::read;
    check_index();
  } else {
    index_ = FastaIndex::build(path_);
    source_ = options.write_index && index_.write(fai) ? IndexSource::built_and_written : IndexSource::built_in_memory;
  }
}

FastaReader::~FastaReader() {
  if (fd_ >= 0) ::close(fd_);
}

FastaReader::FastaReader(FastaReader&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), file_size_(other.file_size_),
      index_(std::move(other.index_)), source_(other.source_) {
  other.fd_ = -1;
}

FastaReader& FastaReader::operator=(FastaReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
    file_size_ = other.file_size_;
    index_ = std::move(other.index_);
    source_ = other.source_;
  }
  return *this;
}

std::size_t FastaReader::read_some(std::uint64_t offset, std::size_t size, char* out) const {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw InputError(at(path_) + "read error (" + std::strerror(errno) + ")");
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

void FastaReader::read_exactly(std::uint64_t offset, std::size_t size, char* out) const {
  if (read_some(offset, size, out) != size) mismatch("it ends before byte " + std::to_string(offset + size));
}

void FastaReader::mismatch(const std::string& what) const {
  throw InputError(at(path_ + ".fai") + "the index does not match the FASTA " + path_ + " (" + what +
                   "); delete the .fai and deepmr rebuilds it");
}

long FastaReader::line_of(std::uint64_t offset) const {
  long line = 1;
  std::vector<char> chunk(1 << 20);
  for (std::uint64_t at_byte = 0; at_byte < offset;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), offset - at_byte));
    const std::size_t got = read_some(at_byte, want, chunk.data());
    if (got == 0) break;
    line += static_cast<long>(std::count(chunk.data(), chunk.data() + got, '\n'));
    at_byte += got;
  }
  return line;
}

void FastaReader::check_index() const {
  std::string header;
  for (const FastaRecord& r : index_.records()) {
    const std::string where = "sequence '" + r.name + "'";
    if (r.offset == 0 || r.offset > file_size_) mismatch(where + " starts outside the file");
    // The header line that ends just before the first base must be ">name ...".
    std::size_t back = 256;
    for (;;) {
      const std::uint64_t from = r.offset > back ? r.offset - back : 0;
      header.resize(static_cast<std::size_t>(r.offset - from));
      read_exactly(from, header.size(), header.data());
      if (header.back() != '\n') mismatch(where + " does not start right after a header line");
      const std::size_t previous = header.find_last_of('\n', header.size() - 2);
      if (previous == std::string::npos && from > 0) {
        back *= 4;  // a long header line: look further back
        continue;
      }
      const std::size_t begin = previous == std::string::npos ? 0 : previous + 1;
      std::string_view line(header.data() + begin, header.size() - 1 - begin);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      std::size_t name_begin = 1;
      while (name_begin < line.size() && (line[name_begin] == ' ' || line[name_begin] == '\t')) ++name_begin;
      const std::size_t name_end = std::min(line.find_first_of(" \t", name_begin), line.size());
      if (line.empty() || line[0] != '>' || line.substr(name_begin, name_end - name_begin) != r.name)
        mismatch(where + " is not preceded by its header line '>" + r.name + "'");
      break;
    }
    if (r.length == 0) continue;
    // The last base, its line break, then a header, a blank line or the end of the file.
    const std::uint64_t last = r.offset_of(r.length - 1);
    const std::size_t breaks = static_cast<std::size_t>(r.line_width - r.line_bases);
    std::array<char, 4> tail{};
    const std::size_t got = read_some(last, 2 + breaks, tail.data());
    if (got == 0 || !kUpper[static_cast<unsigned char>(tail[0])])
      mismatch(where + " of " + std::to_string(r.length) + " bases does not end with a base where the index says");
    const bool ended = got == 1 || (got >= 1 + breaks && std::all_of(tail.begin() + 1, tail.begin() + 1 + static_cast<long>(breaks), is_break) &&
                                    (got == 1 + breaks || tail[1 + breaks] == '>' || is_break(tail[1 + breaks])));
    if (!ended) mismatch(where + " goes on past the " + std::to_string(r.length) + " bases the index gives");
  }
  check_index_covers_file();
}

void FastaReader::check_index_covers_file() const {
  // The index ends where its last sequence does; past that the file may hold only headers of
  // records without sequence (samtools leaves those out) and blank lines. A sequence line there
  // is a record added to the FASTA after the .fai was written.
  std::uint64_t covered = 0;
  for (const FastaRecord& r : index_.records())
    covered = std::max(covered, r.length == 0 ? r.offset : r.offset_of(r.length - 1) + 1);
  std::string line, name;
  std::uint64_t line_start = covered;
  auto sequence_line = [&] {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return false;
    if (line[0] != '>') return true;
    const std::size_t begin = std::min(line.find_first_not_of(" \t", 1), line.size());
    name = line.substr(begin, line.find_first_of(" \t", begin) - begin);
    return false;
  };
  auto stale = [&] {
    mismatch("the FASTA has " + (name.empty() ? std::string("sequence") : "sequence '" + name + "'") +
             " on line " + std::to_string(line_of(line_start)) +
             ", past the sequences the index lists: it was written before the FASTA changed");
  };
  std::vector<char> chunk(1 << 16);
  for (std::uint64_t at_byte = covered; at_byte < file_size_;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), file_size_ - at_byte));
    const std::size_t got = read_some(at_byte, want, chunk.data());
    if (got == 0) break;
    for (std::size_t i = 0; i < got; ++i) {
      if (chunk[i] != '\n') {
        if (line.size() < 256) line += chunk[i];  // enough of a header for its name
        continue;
      }
      if (sequence_line()) stale();
      line.clear();
      line_start = at_byte + i + 1;
    }
    at_byte += got;
  }
  if (sequence_line()) stale();
}

std::uint32_t FastaReader::sequence_id(std::string_view name) const {
  if (auto id = index_.find(name)) return *id;
  throw InputError(at(path_) + "has no sequence '" + std::string(name) + "' (it has " + index_.some_names() +
                   "); check that the FASTA and the regions use the same assembly and chromosome names");
}

void FastaReader::fetch(std::uint32_t sequence, std::uint64_t start, std::uint64_t end, std::string& out) const {
  if (sequence >= index_.size())
    throw InputError(at(path_) + "no sequence number " + std::to_string(sequence) + " (the FASTA has " +
                     std::to_string(index_.size()) + ")");
  const FastaRecord& r = index_[sequence];
  if (start > end || end > r.length)
    throw InputError(at(path_) + "window " + r.name + ":" + std::to_string(start) + "-" + std::to_string(end) +
                     " lies outside sequence '" + r.name + "' of " + std::to_string(r.length) + " bases");
  out.resize(static_cast<std::size_t>(end - start));
  if (start == end) return;

  const std::uint64_t first = r.offset_of(start);
  const std::size_t span = static_cast<std::size_t>(r.offset_of(end - 1) - first + 1);
  thread_local std::vector<char> raw;  // one pread buffer per thread: fetches run concurrently
  raw.resize(span);
  if (read_some(first, span, raw.data()) != span)
    mismatch("sequence '" + r.name + "' ends before the " + std::to_string(r.length) + " bases the index gives");

  const std::size_t breaks = static_cast<std::size_t>(r.line_width - r.line_bases);
  std::size_t b = 0, o = 0;
  for (std::uint64_t pos = start; pos < end;) {
    const auto n = static_cast<std::size_t>(std::min(r.line_bases - pos % r.line_bases, end - pos));
    // Branch-free copy; a bad byte (table value 0) is looked for only when one was seen.
    bool bad = false;
    for (std::size_t k = 0; k < n; ++k) {
      const char u = kUpper[static_cast<unsigned char>(raw[b + k])];
      bad |= u == 0;
      out[o + k] = u;
    }
    if (bad) {
      std::size_t k = 0;
      while (kUpper[static_cast<unsigned char>(raw[b + k])]) ++k;
      const char c = raw[b + k];
      if (is_break(c) || c == '>')
        mismatch("sequence '" + r.name + "' position " + std::to_string(pos + k) + " falls on " + describe(c));
      throw InputError(at(path_, line_of(first + b + k)) + describe(c) + " at " + r.name + ":" +
                       std::to_string(pos + k + 1) + " is not A, C, G, T or N (replace ambiguity codes with N)");
    }
    b += n;
    o += n;
    pos += n;
    if (pos < end) {
      for (std::size_t k = 0; k < breaks; ++k)
        if (!is_break(raw[b + k]))
          mismatch("sequence '" + r.name + "' has no line break after position " + std::to_string(pos) +
                   " where the line width says");
      b += breaks;
    }
  }
}

std::string FastaReader::fetch(std::uint32_t sequence, std::uint64_t start, std::uint64_t end) const {
  std::string out;
  fetch(sequence, start, end, out);
  return out;
}

std::string FastaReader::fetch(std::string_view name, std::uint64_t start, std::uint64_t end) const {
  return fetch(sequence_id(name), start, end);
}

}  // namespace deepmr::genome
