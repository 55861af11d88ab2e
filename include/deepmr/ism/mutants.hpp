#pragma once
// Saturation mutagenesis: every single-base substitution of a window, in deepmr's fixed order:
// position-major, then the alternative bases A, C, G, T skipping the reference base (3L mutants;
// a position holding N gets all four bases).

#include <string>
#include <vector>

namespace deepmr::ism {

struct Mutant {
  int position = 0;  // 0-based within the window
  char ref = 'A';
  char alt = 'A';
};

std::vector<Mutant> enumerate_mutants(const std::string& sequence);
// Only the mutants at `positions` (0-based window positions, any order; empty: all of them), in
// the same fixed order. Throws UsageError for a position outside the window.
std::vector<Mutant> enumerate_mutants(const std::string& sequence, const std::vector<int>& positions);

// Upper-cases and checks a window: only A, C, G, T (and N when allow_n). Throws InputError naming
// the first bad character and its 0-based position; `what` names the sequence in the message.
std::string checked_sequence(const std::string& sequence, bool allow_n, const std::string& what);

}  // namespace deepmr::ism
