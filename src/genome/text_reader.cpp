#include "deepmr/genome/text_reader.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "deepmr/common/error.hpp"

namespace deepmr::genome {
namespace {

constexpr std::size_t kChunk = 1 << 18;

// Editors on Windows may start a UTF-8 file with a byte-order mark; it is not part of the text.
void skip_byte_order_mark(std::string_view& line) {
  if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
}

}  // namespace

TextReader::TextReader(const std::string& path) : path_(path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(at(path) + "is a directory, not a file (check the path)");
  // Probe with a plain open first: gzopen's errors do not say why a file cannot be read.
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe)
      throw InputError(at(path) + "cannot read the file (" + std::strerror(errno) + "); check the path");
  }
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) throw InputError(at(path) + "cannot open the file (" + std::strerror(errno) + ")");
  gzbuffer(file_, kChunk);
  buffer_.resize(kChunk);
}

TextReader::~TextReader() { close(); }

TextReader::TextReader(TextReader&& other) noexcept
    : path_(std::move(other.path_)), file_(other.file_), buffer_(std::move(other.buffer_)),
      begin_(other.begin_), end_(other.end_), eof_(other.eof_), line_(other.line_),
      stream_error_(std::move(other.stream_error_)) {
  other.file_ = nullptr;
}

TextReader& TextReader::operator=(TextReader&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    file_ = other.file_;
    other.file_ = nullptr;
    buffer_ = std::move(other.buffer_);
    begin_ = other.begin_;
    end_ = other.end_;
    eof_ = other.eof_;
    line_ = other.line_;
    stream_error_ = std::move(other.stream_error_);
  }
  return *this;
}

void TextReader::close() {
  if (file_) gzclose(file_);
  file_ = nullptr;
}

bool TextReader::fill() {
  if (eof_) return false;
  // Keep the unread tail at the front; grow when one line fills the whole buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  const unsigned want = static_cast<unsigned>(std::min<std::size_t>(buffer_.size() - end_, 1u << 30));
  // A damaged stream still hands over what it decoded before the damage: those lines are read
  // first, and the error is raised when they run out, with the number of the line it broke in.
  if (!stream_error_.empty()) {
    throw InputError(at(path_, line_ + 1) + "the gzip stream is corrupt or truncated (" + stream_error_ +
                     "); the file is damaged from this line on: recompress or download it again");
  }
  const int got = gzread(file_, buffer_.data() + end_, want);
  int code = Z_OK;
  const char* message = gzerror(file_, &code);
  // A truncated stream reads as a short count with Z_BUF_ERROR; a corrupt one as -1 (or a short
  // count with Z_DATA_ERROR).
  if (got < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    stream_error_ = message && *message ? message : "zlib error";
    if (got <= 0) return fill();  // nothing decoded before the damage: raise it now
  }
  if (got == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(got);
  return true;
}

bool TextReader::next(std::string_view& line) {
  std::size_t scanned = begin_;
  for (;;) {
    const void* newline = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    if (newline) {
      const std::size_t stop = static_cast<std::size_t>(static_cast<const char*>(newline) - buffer_.data());
      std::size_t length = stop - begin_;
      if (length > 0 && buffer_[stop - 1] == '\r') --length;
      line = std::string_view(buffer_.data() + begin_, length);
      begin_ = stop + 1;
      if (++line_ == 1) skip_byte_order_mark(line);
      return true;
    }
    const std::size_t seen = end_ - begin_;
    if (!fill()) break;
    scanned = begin_ + seen;  // fill() moved the unread bytes to the front
  }
  if (begin_ == end_) return false;
  // A last line without '\n'.
  std::size_t length = end_ - begin_;
  if (buffer_[end_ - 1] == '\r') --length;
  line = std::string_view(buffer_.data() + begin_, length);
  begin_ = end_;
  if (++line_ == 1) skip_byte_order_mark(line);
  return true;
}

}  // namespace deepmr::genome
