#pragma once
// Reverse complement of DNA as text and as a 4 x L one-hot (what strand averaging feeds a model).

#include <cstddef>
#include <string>
#include <string_view>

#include "deepmr/genome/one_hot.hpp"

namespace deepmr::genome {

// A<->T, C<->G, N<->N, case kept; throws InputError on any other character.
std::string reverse_complement(std::string_view sequence);

// The reverse complement of a 4 x L one-hot in `alphabet`'s channel order: position i of the
// result is the complement of position L - 1 - i. Equals the encoding of reverse_complement(s).
// `in` and `out` must not overlap.
void reverse_complement_one_hot(const float* in, std::size_t length, const Alphabet& alphabet, float* out);

}  // namespace deepmr::genome
