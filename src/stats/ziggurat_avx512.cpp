// The ziggurat's fast path 16 words at a time (AVX-512F; compiled with -mavx512f, called only
// where the CPU has it): the tables gathered by layer, the same exact conversions and the same two
// products per draw as the scalar form, (magnitude * W[layer]) * sign, so the same values.
// GCC 12's avx512fintrin.h fills the unused pass-through operand of these intrinsics with
// _mm512_undefined_*(), a deliberate self-initialisation that -Wuninitialized reports.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "ziggurat.hpp"

namespace deepmr::stats::detail {

std::size_t ziggurat_fast_path_avx512(const std::uint32_t* words, std::size_t count, double* out,
                                      std::uint32_t* misses) {
  const __m512i layer_mask = _mm512_set1_epi32(0x7F), two = _mm512_set1_epi32(2), one = _mm512_set1_epi32(1);
  std::size_t missed = 0, j = 0;
  for (; j + 16 <= count; j += 16) {
    const __m512i word = _mm512_loadu_si512(words + j);
    const __m512i layer = _mm512_and_si512(word, layer_mask);
    const __m512i magnitude = _mm512_srli_epi32(word, 8);
    for (unsigned mask = _mm512_cmpge_epu32_mask(magnitude, _mm512_i32gather_epi32(layer, kZigguratK, 4)); mask != 0;
         mask &= mask - 1)
      misses[missed++] = static_cast<std::uint32_t>(j + static_cast<std::size_t>(__builtin_ctz(mask)));
    // sign_of: 1 - (bit 7 of the word, as 0 or 2).
    const __m512i sign = _mm512_sub_epi32(one, _mm512_and_si512(_mm512_srli_epi32(word, 6), two));
    const __m256i layers[2] = {_mm512_castsi512_si256(layer), _mm512_extracti64x4_epi64(layer, 1)};
    const __m256i magnitudes[2] = {_mm512_castsi512_si256(magnitude), _mm512_extracti64x4_epi64(magnitude, 1)};
    const __m256i signs[2] = {_mm512_castsi512_si256(sign), _mm512_extracti64x4_epi64(sign, 1)};
    for (int half = 0; half < 2; ++half) {
      const __m512d width = _mm512_i32gather_pd(layers[half], kZigguratW, 8);
      const __m512d scaled = _mm512_mul_pd(_mm512_cvtepu32_pd(magnitudes[half]), width);
      _mm512_storeu_pd(out + j + 8 * half, _mm512_mul_pd(scaled, _mm512_cvtepi32_pd(signs[half])));
    }
  }
  const std::size_t tail_missed = ziggurat_fast_path_scalar(words + j, count - j, out + j, misses + missed);
  for (std::size_t k = missed; k < missed + tail_missed; ++k) misses[k] += static_cast<std::uint32_t>(j);
  return missed + tail_missed;
}

}  // namespace deepmr::stats::detail
