#pragma once
// The FASTA index (.fai) as `samtools faidx` writes it: one line per sequence,
// NAME<TAB>LENGTH<TAB>OFFSET<TAB>LINEBASES<TAB>LINEWIDTH, where OFFSET is the byte offset of the first
// base, LINEBASES the bases per line and LINEWIDTH the bytes per line (bases plus "\n" or "\r\n").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace deepmr::genome {

struct FastaRecord {
  std::string name;
  std::uint64_t length = 0;
  std::uint64_t offset = 0;
  std::uint64_t line_bases = 0;
  std::uint64_t line_width = 0;

  // Byte offset in the FASTA of base `position` (0-based) of this sequence.
  std::uint64_t offset_of(std::uint64_t position) const {
    return offset + position / line_bases * line_width + position % line_bases;
  }
};

class FastaIndex {
 public:
  FastaIndex() = default;

  // Scans a FASTA file with samtools faidx's rules: the name is the first word after '>'; every
  // line of a record but the last has the same length; blank lines may only end a record; records
  // without sequence are left out. Stricter than samtools: duplicate names and characters other
  // than A, C, G, T, N (either case) are InputErrors with file and line.
  static FastaIndex build(const std::string& fasta_path);
  // Parses a .fai file; InputError (file:line) when malformed or holding a name twice.
  static FastaIndex read(const std::string& fai_path);

  // The .fai text, byte for byte what samtools faidx writes.
  std::string to_fai() const;
  // Writes the .fai atomically (a temporary file renamed into place); false when it cannot.
  bool write(const std::string& fai_path) const;

  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  const FastaRecord& operator[](std::size_t i) const { return records_[i]; }
  const std::vector<FastaRecord>& records() const { return records_; }
  std::optional<std::uint32_t> find(std::string_view name) const;
  // "chr1, chr2, chr3, chr4, chr5, ... (25 sequences)": for messages about unknown names.
  std::string some_names(std::size_t count = 5) const;

  void add(FastaRecord record);  // throws std::invalid_argument on a duplicate name

 private:
  std::vector<FastaRecord> records_;
  std::unordered_map<std::string, std::uint32_t> by_name_;
};

}  // namespace deepmr::genome
