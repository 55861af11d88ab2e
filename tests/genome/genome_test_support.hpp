#pragma once
// Helpers of the genome tests: shipped data, synthetic FASTA files, samtools, error checks.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "deepmr/common/error.hpp"
#include "test_support.hpp"

namespace deepmr::genome::testing {

// Shipped real data (data/README.md): read from the project tree, never from ../shared.
inline std::string genome_fasta() { return test::source_dir() + "/data/genome/hg38_chr22_32000000_32300000.fa"; }
inline std::string atf3_peaks() {
  return test::source_dir() + "/data/peaks/ChIPseq.HepG2.ATF3.conservative.train.narrowPeak.gz";
}
inline std::string srf_peaks() {
  return test::source_dir() + "/data/peaks/ChIPseq.HepG2.SRF.conservative.train.narrowPeak.gz";
}

inline std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The message of the InputError `f` throws; fails the test when it throws nothing or another type.
inline std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an InputError, nothing was thrown";
  return "";
}

inline std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a UsageError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected a UsageError, nothing was thrown";
  return "";
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "'" << (part) << "' not in: " << (text)

// One record of a synthetic FASTA: its bases (mixed case) and how it is laid out.
struct SyntheticRecord {
  std::string header;  // the text after '>' (name, then an optional description)
  std::string bases;
  std::size_t width;   // bases per line
};

// Random bases with soft-masked (lowercase) stretches and runs of N, seeded for reproducibility.
inline std::string random_bases(std::size_t n, std::uint32_t seed, bool with_n = false) {
  std::mt19937 rng(seed);
  std::string s(n, 'A');
  bool masked = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 97 == 0) masked = !masked;
    char c = "ACGT"[rng() % 4];
    if (with_n && i % 500 >= 200 && i % 500 < 210) c = 'N';
    s[i] = masked ? static_cast<char>(std::tolower(c)) : c;
  }
  return s;
}

// The text of a FASTA with these records; newline "\n" or "\r\n"; a blank line after record
// `blank_after` (-1: none).
inline std::string fasta_text(const std::vector<SyntheticRecord>& records, const std::string& newline,
                              int blank_after = -1) {
  std::string out;
  for (std::size_t r = 0; r < records.size(); ++r) {
    out += ">" + records[r].header + newline;
    for (std::size_t i = 0; i < records[r].bases.size(); i += records[r].width)
      out += records[r].bases.substr(i, records[r].width) + newline;
    if (static_cast<int>(r) == blank_after) out += newline;
  }
  return out;
}

// Records of varied widths, lengths (a multiple of the width, one base, one line), masking and N.
inline std::vector<SyntheticRecord> synthetic_records() {
  return {
      {"chrA first record, described", random_bases(1000, 1), 60},
      {"chrB", random_bases(600, 2), 60},  // exactly 10 full lines
      {"chrC\tone base", "g", 80},
      {"chrD", random_bases(12345, 4, true), 70},
      {"chrE", random_bases(250, 5), 250},  // one line
      {"chrF  spaces", random_bases(3001, 6), 61},
      {"chrG", random_bases(77, 7), 7},
  };
}

inline bool have_samtools() { return test::run("samtools --version").status == 0; }

// samtools faidx's sequences for 1-based inclusive regions "name:from-to" (one output per region).
inline std::vector<std::string> samtools_fetch(const std::string& fasta, const std::vector<std::string>& regions,
                                               const std::string& scratch_dir) {
  std::string list;
  for (const auto& r : regions) list += r + "\n";
  test::write_text(scratch_dir + "/regions.txt", list);
  auto r = test::run("samtools faidx " + test::quote(fasta) + " -r " + test::quote(scratch_dir + "/regions.txt"));
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    std::size_t eol = r.out.find('\n', pos);
    if (eol == std::string::npos) eol = r.out.size();
    const std::string line = r.out.substr(pos, eol - pos);
    if (!line.empty() && line[0] == '>') out.emplace_back();
    else if (!out.empty()) out.back() += line;
    pos = eol + 1;
  }
  return out;
}

}  // namespace deepmr::genome::testing
