#pragma once
// Random access to the sequences of a plain-text FASTA through its .fai index. Fetching a window
// reads only that window's bytes (one pread): O(window), never the whole file, and safe to call
// from several threads at once (workers fetch their regions themselves).

#include <cstdint>
#include <string>
#include <string_view>

#include "deepmr/genome/fasta_index.hpp"
#include "deepmr/genome/window.hpp"

namespace deepmr::genome {

struct FastaOptions {
  // When <fasta>.fai is absent, build the index and write it there (atomically); when the
  // directory is not writable the index stays in memory.
  bool write_index = true;
};

enum class IndexSource { read, built_and_written, built_in_memory };

class FastaReader {
 public:
  // Opens the FASTA and reads <path>.fai, checking it against the FASTA (each sequence's header,
  // first and last base, and that no sequence follows the last one it lists); builds the index when
  // the .fai is absent. InputError (file, line where known) on a missing, unreadable or
  // gzip-compressed FASTA, a bad FASTA or a .fai that does not match it (a stale one included).
  explicit FastaReader(const std::string& path, FastaOptions options = {});
  ~FastaReader();
  FastaReader(FastaReader&& other) noexcept;
  FastaReader& operator=(FastaReader&& other) noexcept;
  FastaReader(const FastaReader&) = delete;
  FastaReader& operator=(const FastaReader&) = delete;

  const std::string& path() const { return path_; }
  const FastaIndex& index() const { return index_; }
  IndexSource index_source() const { return source_; }

  // Index of a sequence by name; InputError naming it and a few that exist when absent.
  std::uint32_t sequence_id(std::string_view name) const;
  std::uint64_t length(std::uint32_t sequence) const { return index_[sequence].length; }
  const std::string& name(std::uint32_t sequence) const { return index_[sequence].name; }

  // Bases [start, end) (0-based, half-open) of a sequence, upper-cased (soft-masked lowercase
  // reads as upper case), into `out` (its capacity is reused). InputError when the window leaves
  // the sequence, when a byte is not A, C, G, T or N (with its line), or when the bytes do not
  // match the index. Thread-safe.
  void fetch(std::uint32_t sequence, std::uint64_t start, std::uint64_t end, std::string& out) const;
  std::string fetch(std::uint32_t sequence, std::uint64_t start, std::uint64_t end) const;
  std::string fetch(std::string_view name, std::uint64_t start, std::uint64_t end) const;
  std::string fetch(const Window& window) const { return fetch(window.chrom, window.start, window.end); }

 private:
  void open_index(const FastaOptions& options);  // the checks and the index of the constructor
  void check_index() const;
  void check_index_covers_file() const;  // a record appended after the .fai was written: mismatch
  void read_exactly(std::uint64_t offset, std::size_t size, char* out) const;  // short read: mismatch
  std::size_t read_some(std::uint64_t offset, std::size_t size, char* out) const;
  long line_of(std::uint64_t offset) const;  // 1-based line of a byte: for error messages only
  [[noreturn]] void mismatch(const std::string& what) const;

  std::string path_;
  int fd_ = -1;
  std::uint64_t file_size_ = 0;
  FastaIndex index_;
  IndexSource source_ = IndexSource::read;
};

}  // namespace deepmr::genome
