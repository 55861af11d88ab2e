#include "deepmr/genome/fasta_index.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include "deepmr/common/error.hpp"
#include "deepmr/genome/text_reader.hpp"

namespace deepmr::genome {
namespace {

std::string describe_byte(unsigned char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  if (c == ' ') return "a space";
  if (c == '\t') return "a tab";
  if (c == '\r') return "a carriage return not followed by a line feed";
  return "byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
}

// Bytes a sequence line may hold (either case of A, C, G, T, N).
constexpr std::array<bool, 256> base_table() {
  std::array<bool, 256> t{};
  for (char c : std::string_view("ACGTNacgtn")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kIsBase = base_table();

// The scanner of FastaIndex::build: fed the file's bytes in order, it follows one line at a time
// without ever holding a whole line (a chromosome may be one line of 250 million bases).
class Scanner {
 public:
  explicit Scanner(std::string path) : path_(std::move(path)) {}

  void feed(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size;) {
      if (line_bytes_ == 0) start_line(static_cast<unsigned char>(data[i]));
      if (in_header_) {
        // Header lines are short: keep the first word after '>' and skip the rest.
        const void* nl = std::memchr(data + i, '\n', size - i);
        const std::size_t stop = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) : size;
        header_.append(data + i, stop - i);
        line_bytes_ += stop - i;
        offset_ += stop - i;
        i = stop;
        if (nl) {
          ++offset_;  // the '\n'
          ++line_bytes_;
          ++i;
          end_line();
        }
        continue;
      }
      // A sequence (or blank) line: validate byte by byte until its '\n'.
      const unsigned char c = static_cast<unsigned char>(data[i]);
      ++i;
      ++offset_;
      ++line_bytes_;
      if (c == '\n') {
        end_line();
        continue;
      }
      if (pending_cr_) fail(line_, "holds " + describe_byte('\r'));
      if (c == '\r') {
        pending_cr_ = true;
      } else if (kIsBase[c]) {
        ++line_bases_;
      } else {
        fail(line_, "holds " + describe_byte(c) + " in sequence '" + current_.name +
                        "', which is not A, C, G, T or N (replace ambiguity codes with N)");
      }
    }
  }

  FastaIndex finish() {
    if (line_bytes_ > 0) {
      // A last line without '\n' counts as if it had one (as samtools does).
      ++line_bytes_;
      ++offset_;
      end_line();
    }
    if (in_record_ && has_sequence_) index_.add(current_);
    if (index_.empty())
      throw InputError(at(path_) + "holds no sequence (is it a FASTA file? records start with '>name')");
    return std::move(index_);
  }

 private:
  [[noreturn]] void fail(long line, const std::string& what) const { throw InputError(at(path_, line) + what); }

  void start_line(unsigned char first) {
    ++line_;
    line_bases_ = 0;
    pending_cr_ = false;
    in_header_ = first == '>';
    header_.clear();
  }

  void end_line() {
    if (in_header_) {
      begin_record();
    } else if (line_bases_ == 0) {
      // A blank line ("\n" or "\r\n") ends the sequence of a record.
      if (in_record_) ended_ = true;
    } else {
      sequence_line();
    }
    line_bytes_ = 0;
    in_header_ = false;
  }

  void begin_record() {
    if (in_record_ && has_sequence_) index_.add(current_);
    std::size_t from = 1;  // after '>'
    while (from < header_.size() && std::isspace(static_cast<unsigned char>(header_[from]))) ++from;
    std::size_t stop = from;
    while (stop < header_.size() && !std::isspace(static_cast<unsigned char>(header_[stop]))) ++stop;
    if (stop == from) fail(line_, "a header line with no sequence name after '>'");
    current_ = FastaRecord{};
    current_.name = header_.substr(from, stop - from);
    current_.offset = offset_;
    auto [first, fresh] = header_lines_.emplace(current_.name, line_);
    if (!fresh)
      fail(line_, "sequence name '" + current_.name + "' appears twice (first on line " +
                      std::to_string(first->second) + "); names must be unique");
    in_record_ = true;
    has_sequence_ = false;
    ended_ = false;
  }

  void sequence_line() {
    if (!in_record_) fail(line_, "sequence before the first '>name' header line (is this a FASTA file?)");
    if (ended_)
      fail(line_, "sequence '" + current_.name +
                      "' continues after a shorter line or a blank line; every line of a record but the last "
                      "must have the same length (reformat it, e.g. with samtools faidx --length)");
    if (!has_sequence_) {
      current_.line_width = line_bytes_;
      current_.line_bases = line_bases_;
      has_sequence_ = true;
    } else if (line_bytes_ > current_.line_width) {
      fail(line_, "line of " + std::to_string(line_bases_) + " bases is longer than the first line (" +
                      std::to_string(current_.line_bases) + ") of sequence '" + current_.name +
                      "'; every line of a record but the last must have the same length");
    } else if (line_bytes_ < current_.line_width) {
      ended_ = true;  // the last, shorter line
    }
    current_.length += line_bases_;
  }

  std::string path_;
  FastaIndex index_;
  FastaRecord current_;
  std::unordered_map<std::string, long> header_lines_;
  std::string header_;
  std::uint64_t offset_ = 0;      // bytes consumed so far
  std::uint64_t line_bytes_ = 0;  // bytes of the current line so far, '\n' included once seen
  std::uint64_t line_bases_ = 0;
  long line_ = 0;
  bool in_header_ = false, in_record_ = false, has_sequence_ = false, ended_ = false, pending_cr_ = false;
};

std::uint64_t parse_field(std::string_view text, const std::string& path, long line, const char* what) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    throw InputError(at(path, line) + what + " '" + std::string(text) +
                     "' is not a whole number; delete the .fai and deepmr rebuilds it");
  return value;
}

}  // namespace

void FastaIndex::add(FastaRecord record) {
  auto [it, fresh] = by_name_.emplace(record.name, static_cast<std::uint32_t>(records_.size()));
  if (!fresh) throw std::invalid_argument("duplicate sequence name " + record.name);
  records_.push_back(std::move(record));
}

std::optional<std::uint32_t> FastaIndex::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::string FastaIndex::some_names(std::size_t count) const {
  std::string out;
  for (std::size_t i = 0; i < records_.size() && i < count; ++i) out += (i ? ", " : "") + records_[i].name;
  if (records_.size() > count) out += ", ...";
  out += " (" + std::to_string(records_.size()) + " sequence" + (records_.size() == 1 ? "" : "s") + ")";
  return out;
}

FastaIndex FastaIndex::build(const std::string& fasta_path) {
  const int fd = ::open(fasta_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(at(fasta_path) + "cannot read the FASTA (" + std::strerror(errno) + "); check the path");
  Scanner scanner(fasta_path);
  std::vector<char> buffer(1 << 20);
  try {
    for (;;) {
      const ssize_t got = ::read(fd, buffer.data(), buffer.size());
      if (got < 0) {
        if (errno == EINTR) continue;
        throw InputError(at(fasta_path) + "read error (" + std::strerror(errno) + ")");
      }
      if (got == 0) break;
      scanner.feed(buffer.data(), static_cast<std::size_t>(got));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return scanner.finish();
}

FastaIndex FastaIndex::read(const std::string& fai_path) {
  TextReader reader(fai_path);
  FastaIndex index;
  std::string_view line;
  while (reader.next(line)) {
    const long n = reader.line_number();
    std::vector<std::string_view> fields;
    std::size_t from = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', from);
      fields.push_back(line.substr(from, tab == std::string_view::npos ? std::string_view::npos : tab - from));
      if (tab == std::string_view::npos) break;
      from = tab + 1;
    }
    if (fields.size() == 6)
      throw InputError(at(fai_path, n) + "is a FASTQ index (6 columns); deepmr reads FASTA only");
    if (fields.size() != 5 || fields[0].empty())
      throw InputError(at(fai_path, n) + "expected NAME, LENGTH, OFFSET, LINEBASES, LINEWIDTH separated by tabs; "
                       "delete the .fai and deepmr rebuilds it");
    FastaRecord r;
    r.name = std::string(fields[0]);
    r.length = parse_field(fields[1], fai_path, n, "LENGTH");
    r.offset = parse_field(fields[2], fai_path, n, "OFFSET");
    r.line_bases = parse_field(fields[3], fai_path, n, "LINEBASES");
    r.line_width = parse_field(fields[4], fai_path, n, "LINEWIDTH");
    if (r.length > 0 && (r.line_bases == 0 || r.line_width <= r.line_bases || r.line_width > r.line_bases + 2))
      throw InputError(at(fai_path, n) + "LINEWIDTH " + std::to_string(r.line_width) + " does not fit LINEBASES " +
                       std::to_string(r.line_bases) + " (a line is its bases plus \\n or \\r\\n); delete the .fai "
                       "and deepmr rebuilds it");
    if (index.find(r.name))
      throw InputError(at(fai_path, n) + "sequence name '" + r.name + "' appears twice; names must be unique");
    index.add(std::move(r));
  }
  if (index.empty()) throw InputError(at(fai_path) + "the index is empty; delete it and deepmr rebuilds it");
  return index;
}

std::string FastaIndex::to_fai() const {
  std::string out;
  for (const auto& r : records_) {
    out += r.name;
    for (std::uint64_t v : {r.length, r.offset, r.line_bases, r.line_width}) {
      out += '\t';
      out += std::to_string(v);
    }
    out += '\n';
  }
  return out;
}

bool FastaIndex::write(const std::string& fai_path) const {
  // A unique temporary name in the same directory, renamed into place: concurrent writers (several
  // ranks opening the same FASTA) each install a complete file.
  std::random_device rd;
  const std::string temporary = fai_path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    const std::string text = to_fai();
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), fai_path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace deepmr::genome
