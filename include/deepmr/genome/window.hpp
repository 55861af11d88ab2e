#pragma once
// Windows of the model's input length L around peaks. Coordinates are 0-based, half-open.
//
// Centre of a peak [start, end): start + summit when a summit is given (narrowPeak column 10),
// else start + (end - start) / 2 (the middle base; for an even length the right one of the two).
// The window of length L on centre c is [c - L/2, c - L/2 + L) (integer division): c sits at index
// L/2 of the window, the exact middle for odd L, the right of the two middle bases for even L.

#include <cstdint>
#include <optional>

namespace deepmr::genome {

// A window on one sequence of a FASTA: chrom is the sequence's index in the FASTA (.fai order).
struct Window {
  std::uint32_t chrom = 0;
  std::uint64_t start = 0;
  std::uint64_t end = 0;

  std::uint64_t length() const { return end - start; }
  friend bool operator==(const Window& a, const Window& b) {
    return a.chrom == b.chrom && a.start == b.start && a.end == b.end;
  }
  friend bool operator!=(const Window& a, const Window& b) { return !(a == b); }
  // Genomic order: by sequence (FASTA order), then start, then end.
  friend bool operator<(const Window& a, const Window& b) {
    if (a.chrom != b.chrom) return a.chrom < b.chrom;
    if (a.start != b.start) return a.start < b.start;
    return a.end < b.end;
  }
};

// The centre base of a peak (see above); summit is an offset from start.
std::uint64_t peak_centre(std::uint64_t start, std::uint64_t end, std::optional<std::uint64_t> summit);

// The window of `length` bases with `centre` at index length / 2. Signed: it may start before 0.
struct Placement {
  std::int64_t start = 0;
  std::int64_t end = 0;
};
Placement centred_window(std::uint64_t centre, std::uint64_t length);

// True when the placement lies inside a sequence of `sequence_length` bases.
inline bool fits(const Placement& p, std::uint64_t sequence_length) {
  return p.start >= 0 && p.end >= p.start && static_cast<std::uint64_t>(p.end) <= sequence_length;
}

}  // namespace deepmr::genome
