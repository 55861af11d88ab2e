// Philox4x32-10 on 16 blocks at once (AVX-512F; compiled with -mavx512f, called only where the CPU
// has it): the AVX2 form (philox_lanes_avx2.cpp) on 512-bit vectors.
// GCC 12's avx512fintrin.h fills the unused pass-through operand of these intrinsics with
// _mm512_undefined_epi32(), a deliberate self-initialisation that -Wuninitialized reports.
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "deepmr/common/philox_blocks.hpp"

namespace deepmr::detail {

namespace {

struct Halves {
  __m512i hi, lo;
};

inline Halves multiply(__m512i a, __m512i m) {
  const __m512i even = _mm512_mul_epu32(a, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  constexpr __mmask16 kOddLanes = 0xAAAA;
  return {_mm512_mask_blend_epi32(kOddLanes, _mm512_srli_epi64(even, 32), odd),
          _mm512_mask_blend_epi32(kOddLanes, even, _mm512_slli_epi64(odd, 32))};
}

}  // namespace

void philox_lanes_avx512(const std::uint32_t* c0_in, const std::uint32_t* c1_in, std::uint32_t c2_in,
                         std::uint32_t c3_in, PhiloxKey key, std::uint32_t* words) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kPhiloxM1));
  __m512i c0 = _mm512_loadu_si512(c0_in);
  __m512i c1 = _mm512_loadu_si512(c1_in);
  __m512i c2 = _mm512_set1_epi32(static_cast<int>(c2_in));
  __m512i c3 = _mm512_set1_epi32(static_cast<int>(c3_in));
  std::uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const Halves p0 = multiply(c0, m0), p1 = multiply(c2, m1);
    const __m512i next0 = _mm512_xor_si512(_mm512_xor_si512(p1.hi, c1), _mm512_set1_epi32(static_cast<int>(k0)));
    const __m512i next2 = _mm512_xor_si512(_mm512_xor_si512(p0.hi, c3), _mm512_set1_epi32(static_cast<int>(k1)));
    c0 = next0;
    c1 = p1.lo;
    c2 = next2;
    c3 = p0.lo;
  }
  alignas(64) std::uint32_t out[4][16];
  _mm512_store_si512(out[0], c0);
  _mm512_store_si512(out[1], c1);
  _mm512_store_si512(out[2], c2);
  _mm512_store_si512(out[3], c3);
  for (int l = 0; l < 16; ++l)
    for (int j = 0; j < 4; ++j) words[4 * l + j] = out[j][l];
}

}  // namespace deepmr::detail
