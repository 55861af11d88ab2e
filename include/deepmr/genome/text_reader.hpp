#pragma once
// Line-by-line reading of a text file that may be gzip-compressed. zlib's gz* API reads gzip
// (including multi-member files such as bgzip output) and, transparently, plain files. A UTF-8
// byte-order mark at the start of the file is skipped.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

struct gzFile_s;  // zlib's handle type; keeps <zlib.h> out of this header

namespace deepmr::genome {

class TextReader {
 public:
  // Throws InputError naming the file when it is missing, a directory or unreadable.
  explicit TextReader(const std::string& path);
  ~TextReader();
  TextReader(TextReader&& other) noexcept;
  TextReader& operator=(TextReader&& other) noexcept;
  TextReader(const TextReader&) = delete;
  TextReader& operator=(const TextReader&) = delete;

  // The next line without its '\n' or "\r\n"; valid until the next call. False at the end of the
  // file. Throws InputError on a corrupt or truncated gzip stream, after the lines decoded before
  // the damage, with the number of the line it broke in.
  bool next(std::string_view& line);

  // 1-based number of the line last returned (0 before the first).
  long line_number() const { return line_; }
  const std::string& path() const { return path_; }

 private:
  bool fill();  // reads more bytes into the buffer; false at the end of the stream
  void close();

  std::string path_;
  gzFile_s* file_ = nullptr;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes are buffer_[begin_, end_)
  bool eof_ = false;
  long line_ = 0;
  std::string stream_error_;  // zlib's message once the stream broke; raised when its data run out
};

}  // namespace deepmr::genome
