#include "deepmr/ism/mutants.hpp"

#include <cctype>

#include "deepmr/common/error.hpp"

namespace deepmr::ism {

std::vector<Mutant> enumerate_mutants(const std::string& sequence) {
  std::vector<Mutant> out;
  out.reserve(sequence.size() * 3);
  for (int p = 0; p < static_cast<int>(sequence.size()); ++p)
    for (char alt : {'A', 'C', 'G', 'T'})
      if (alt != sequence[p]) out.push_back({p, sequence[p], alt});
  return out;
}

std::vector<Mutant> enumerate_mutants(const std::string& sequence, const std::vector<int>& positions) {
  if (positions.empty()) return enumerate_mutants(sequence);
  std::vector<bool> wanted(sequence.size(), false);
  for (int p : positions) {
    if (p < 0 || p >= static_cast<int>(sequence.size()))
      throw UsageError("mutagenesis position " + std::to_string(p) + " is outside the window of " +
                       std::to_string(sequence.size()) + " bases");
    wanted[p] = true;
  }
  std::vector<Mutant> out;
  for (const Mutant& m : enumerate_mutants(sequence))
    if (wanted[m.position]) out.push_back(m);
  return out;
}

std::string checked_sequence(const std::string& sequence, bool allow_n, const std::string& what) {
  std::string out(sequence.size(), 'N');
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(sequence[i])));
    if (c == 'A' || c == 'C' || c == 'G' || c == 'T' || (allow_n && c == 'N')) {
      out[i] = c;
      continue;
    }
    const std::string shown = std::isprint(static_cast<unsigned char>(sequence[i]))
                                  ? std::string("'") + sequence[i] + "'"
                                  : "byte " + std::to_string(static_cast<unsigned char>(sequence[i]));
    throw InputError(what + ": character " + shown + " at position " + std::to_string(i) + " is not " +
                     (allow_n ? "A, C, G, T or N" : "A, C, G or T") +
                     (c == 'N' ? " (windows with N are skipped by default; the N policy 'uniform' encodes N as 0.25)" : ""));
  }
  return out;
}

}  // namespace deepmr::ism
