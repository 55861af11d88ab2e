#pragma once
// One-hot encoding of DNA as the models take it: 4 x L floats, channel-major (element [c][i] at
// c * L + i), the channels in a configurable alphabet order (ACGT by default; AGCT is DeepSEA's
// native layout).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace deepmr::genome {

class Alphabet {
 public:
  Alphabet() : Alphabet("ACGT") {}
  // A permutation of A, C, G, T (upper or lower case); throws UsageError naming `option` otherwise.
  static Alphabet parse(std::string_view letters, const std::string& option = "alphabet");
  static Alphabet acgt() { return Alphabet("ACGT"); }
  static Alphabet agct() { return Alphabet("AGCT"); }

  const std::string& letters() const { return letters_; }
  // Channel of a base (either case): 0..3; kN for N or n; kInvalid for anything else.
  static constexpr int kN = -1, kInvalid = -2;
  int channel(char base) const { return table_[static_cast<unsigned char>(base)]; }
  // Channel of the complement of the base in channel c.
  int complement(int c) const { return complement_[static_cast<std::size_t>(c)]; }

  friend bool operator==(const Alphabet& a, const Alphabet& b) { return a.letters_ == b.letters_; }
  friend bool operator!=(const Alphabet& a, const Alphabet& b) { return !(a == b); }

 private:
  explicit Alphabet(std::string_view upper_letters);
  std::string letters_;
  std::array<std::int8_t, 256> table_{};
  std::array<int, 4> complement_{};
};

// What to do with N: skip the window (the model never saw N; the default), or encode it as 0.25
// in every channel (Kipoi's convention).
enum class NPolicy { skip, quarter };

// "skip" or "quarter"; throws UsageError naming `option` otherwise.
NPolicy parse_n_policy(std::string_view text, const std::string& option = "n-policy");
std::string to_string(NPolicy policy);

// Encodes `sequence` (A, C, G, T, N in either case) into out[0 .. 4 * L). Returns false, leaving
// `out` unspecified, when the sequence holds N and the policy is skip. Throws InputError on any
// other character.
bool encode_one_hot(std::string_view sequence, const Alphabet& alphabet, NPolicy policy, float* out);
// The same into a new vector; empty when skipped.
std::vector<float> one_hot(std::string_view sequence, const Alphabet& alphabet = {}, NPolicy policy = NPolicy::quarter);

// True when the sequence holds N or n.
bool contains_n(std::string_view sequence);

// Reorders the channels of a 4 x L one-hot from one alphabet to another (e.g. a stored AGCT array
// for an ACGT model). `in` and `out` must not overlap.
void convert_alphabet(const float* in, std::size_t length, const Alphabet& from, const Alphabet& to, float* out);

// Checks a 4 x L array column by column: a column of one 1 and three 0 is a base; a column of
// zeros or of four 0.25 is N; anything else is invalid.
struct OneHotCheck {
  std::size_t n_positions = 0;
  std::int64_t first_invalid = -1;  // position of the first invalid column, -1 when none
};
OneHotCheck check_one_hot(const float* in, std::size_t length);

// Writes 0.25 into every channel of the N columns (all zero or all 0.25) of a valid 4 x L array.
void fill_n_quarter(float* data, std::size_t length);

// Back to letters (N for N columns); throws InputError for an invalid column.
std::string decode_one_hot(const float* in, std::size_t length, const Alphabet& alphabet = {});

}  // namespace deepmr::genome
