#pragma once
// Seeded, deterministic sampling of K usable regions out of an exposure's candidates.
//
// Each exposure draws from its own Philox stream, keyed by (seed, sampling_stream_id(name)), so its
// sample depends on the seed and its name only: not on the other exposures, their order in the
// config or the number of ranks. Candidates are visited in the order of a Fisher-Yates shuffle
// drawn lazily (step i swaps position i with a uniform position in [i, n)); each visited candidate
// is tested (e.g. for N) and kept if usable, until K are kept or none is left.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "deepmr/common/philox.hpp"

namespace deepmr::genome {

// Stream id of an exposure's sampling: FNV-1a (64 bit) of "regions/" followed by the name.
std::uint64_t sampling_stream_id(std::string_view exposure);

// A uniform integer in [0, bound) (bound > 0), without modulo bias (rejection of the low remainder).
// Portable, unlike std::uniform_int_distribution, whose algorithm each library picks.
std::uint64_t uniform_below(PhiloxStream& rng, std::uint64_t bound);

struct SamplingCounts {
  std::uint64_t examined = 0;  // candidates tested
  std::uint64_t rejected = 0;  // of those, not usable
};

// Indices of up to `wanted` usable candidates out of [0, n), sorted ascending. wanted == 0 keeps
// every usable candidate (each is tested once, in order; no randomness).
std::vector<std::size_t> sample_usable(std::size_t n, std::size_t wanted, PhiloxStream& rng,
                                       const std::function<bool(std::size_t)>& usable, SamplingCounts& counts);

}  // namespace deepmr::genome
