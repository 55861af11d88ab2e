#include "deepmr/genome/region_sampling.hpp"

#include <algorithm>
#include <numeric>

namespace deepmr::genome {

std::uint64_t sampling_stream_id(std::string_view exposure) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a offset basis
  auto mix = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 0x100000001b3ull;  // FNV prime
    }
  };
  mix("regions/");
  mix(exposure);
  return h;
}

std::uint64_t uniform_below(PhiloxStream& rng, std::uint64_t bound) {
  // Values below 2^64 mod bound would make the low residues more likely: draw again.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t x = rng();
    if (x >= threshold) return x % bound;
  }
}

std::vector<std::size_t> sample_usable(std::size_t n, std::size_t wanted, PhiloxStream& rng,
                                       const std::function<bool(std::size_t)>& usable, SamplingCounts& counts) {
  std::vector<std::size_t> kept;
  if (wanted == 0) {
    for (std::size_t i = 0; i < n; ++i) {
      ++counts.examined;
      if (usable(i)) kept.push_back(i);
      else ++counts.rejected;
    }
    return kept;
  }
  kept.reserve(std::min(wanted, n));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = 0; i < n && kept.size() < wanted; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(uniform_below(rng, n - i));
    std::swap(order[i], order[j]);
    ++counts.examined;
    if (usable(order[i])) kept.push_back(order[i]);
    else ++counts.rejected;
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace deepmr::genome
