#pragma once
// What a worker does with a region descriptor it is handed: fetch the window's bases from its own
// FASTA reader and one-hot encode them (4 x L, channel-major) for the model.

#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/window.hpp"

namespace deepmr::genome {

// Writes 4 * window.length() floats to `out`. False (out unspecified) when the window holds N and
// the policy is skip. Thread-safe; InputError as FastaReader::fetch.
bool encode_window(const FastaReader& fasta, const Window& window, const Alphabet& alphabet, NPolicy policy,
                   float* out);

}  // namespace deepmr::genome
