#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
// counter-based generator. The output is a pure function of (counter, key), so a random number
// drawn for (seed, region, sample, layer, element) is the same on any rank, in any batch and in
// any order: the basis of deepmr's bitwise determinism.

#include <array>
#include <cstdint>
#include <limits>

namespace deepmr {

using PhiloxCounter = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

// The round multipliers and the key's Weyl increments (the SIMD blocks in philox_blocks.hpp use
// the same).
inline constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

constexpr PhiloxCounter philox4x32_10(PhiloxCounter c, PhiloxKey k) {
  constexpr std::uint32_t m0 = kPhiloxM0, m1 = kPhiloxM1;
  constexpr std::uint32_t w0 = kPhiloxW0, w1 = kPhiloxW1;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += w0;
      k[1] += w1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
  }
  return c;
}

// A uniform double in [0, 1) from 53 random bits.
constexpr double unit_double(std::uint32_t hi, std::uint32_t lo) {
  return static_cast<double>(((static_cast<std::uint64_t>(hi) << 32 | lo) >> 11)) * 0x1.0p-53;
}

// A uniform float in [0, 1) from 24 random bits.
constexpr float unit_float(std::uint32_t bits) { return static_cast<float>(bits >> 8) * 0x1.0p-24f; }

// A stream of 64-bit random words for one purpose, addressed by (seed, stream id): the i-th word
// is a pure function of (seed, stream, i). Satisfies UniformRandomBitGenerator, so Boost.Random
// distributions can draw from it.
class PhiloxStream {
 public:
  using result_type = std::uint64_t;
  PhiloxStream(std::uint64_t seed, std::uint64_t stream)
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        stream_lo_(static_cast<std::uint32_t>(stream)),
        stream_hi_(static_cast<std::uint32_t>(stream >> 32)) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    if (buffered_ == 0) {
      block_ = philox4x32_10({static_cast<std::uint32_t>(index_), static_cast<std::uint32_t>(index_ >> 32),
                              stream_lo_, stream_hi_},
                             key_);
      ++index_;
      buffered_ = 2;
    }
    const int at = 2 - buffered_--;
    return static_cast<std::uint64_t>(block_[2 * at]) << 32 | block_[2 * at + 1];
  }

  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

 private:
  PhiloxKey key_;
  std::uint32_t stream_lo_, stream_hi_;
  std::uint64_t index_ = 0;
  PhiloxCounter block_{};
  int buffered_ = 0;
};

}  // namespace deepmr
