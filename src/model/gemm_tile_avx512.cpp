// AVX-512 tile kernel: 8 rows x 32 columns in 16 zmm accumulators. Compiled with -mavx512f;
// called only when the CPU supports it.
#include <immintrin.h>

#include "gemm_kernels.hpp"

namespace deepmr::model::detail {

void tile_avx512(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate) {
  constexpr int mr = kAvx512Mr;
  __m512 acc[mr][2];
  for (int i = 0; i < mr; ++i) {
    acc[i][0] = accumulate ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    acc[i][1] = accumulate ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
  }
  for (int k = 0; k < kc; ++k, a += mr, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    for (int i = 0; i < mr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < mr; ++i) {
    _mm512_storeu_ps(c + i * ldc, acc[i][0]);
    _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
  }
}

}  // namespace deepmr::model::detail
