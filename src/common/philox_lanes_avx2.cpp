// Philox4x32-10 on 8 blocks at once (AVX2; compiled with -mavx2, called only where the CPU has it).
// Lane l of each vector holds word j of block l. _mm256_mul_epu32 multiplies the even 32-bit lanes
// into 64-bit products, so the odd lanes are shifted down and multiplied separately; the high and
// low halves are blended back into lane order.
#include <immintrin.h>

#include "deepmr/common/philox_blocks.hpp"

namespace deepmr::detail {

namespace {

struct Halves {
  __m256i hi, lo;
};

inline Halves multiply(__m256i a, __m256i m) {
  const __m256i even = _mm256_mul_epu32(a, m);                          // lanes 0, 2, 4, 6 as 64 bits
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);   // lanes 1, 3, 5, 7
  return {_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA),
          _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA)};
}

}  // namespace

void philox_lanes_avx2(const std::uint32_t* c0_in, const std::uint32_t* c1_in, std::uint32_t c2_in,
                       std::uint32_t c3_in, PhiloxKey key, std::uint32_t* words) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
  __m256i c0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c0_in));
  __m256i c1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c1_in));
  __m256i c2 = _mm256_set1_epi32(static_cast<int>(c2_in));
  __m256i c3 = _mm256_set1_epi32(static_cast<int>(c3_in));
  std::uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const Halves p0 = multiply(c0, m0), p1 = multiply(c2, m1);
    const __m256i next0 = _mm256_xor_si256(_mm256_xor_si256(p1.hi, c1), _mm256_set1_epi32(static_cast<int>(k0)));
    const __m256i next2 = _mm256_xor_si256(_mm256_xor_si256(p0.hi, c3), _mm256_set1_epi32(static_cast<int>(k1)));
    c0 = next0;
    c1 = p1.lo;
    c2 = next2;
    c3 = p0.lo;
  }
  alignas(32) std::uint32_t out[4][8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[0]), c0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[1]), c1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[2]), c2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out[3]), c3);
  for (int l = 0; l < 8; ++l)
    for (int j = 0; j < 4; ++j) words[4 * l + j] = out[j][l];
}

}  // namespace deepmr::detail
