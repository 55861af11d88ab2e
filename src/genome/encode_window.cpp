#include "deepmr/genome/encode_window.hpp"

#include <string>

namespace deepmr::genome {

bool encode_window(const FastaReader& fasta, const Window& window, const Alphabet& alphabet, NPolicy policy,
                   float* out) {
  thread_local std::string bases;  // reused: no allocation per region
  fasta.fetch(window.chrom, window.start, window.end, bases);
  return encode_one_hot(bases, alphabet, policy, out);
}

}  // namespace deepmr::genome
