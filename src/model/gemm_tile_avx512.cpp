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

void sparse_panel_avx512(int rows, const int* start, const int* index, const float* value, const float* panel,
                         float* c, long ldc, int width) {
  constexpr int nr = kAvx512Nr;
  // Lanes past `width` are not stored (masked stores), so a partial last panel needs no copy.
  const __mmask16 mask0 = width >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << width) - 1);
  const __mmask16 mask1 = width >= 32 ? 0xFFFF : width <= 16 ? 0 : static_cast<__mmask16>((1u << (width - 16)) - 1);
  for (int r = 0; r < rows; ++r) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int e = start[r]; e < start[r + 1]; ++e) {
      const float* b = panel + static_cast<long>(index[e]) * nr;
      const __m512 a = _mm512_set1_ps(value[e]);
      acc0 = _mm512_fmadd_ps(a, _mm512_loadu_ps(b), acc0);
      acc1 = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 16), acc1);
    }
    _mm512_mask_storeu_ps(c + r * ldc, mask0, acc0);
    _mm512_mask_storeu_ps(c + r * ldc + 16, mask1, acc1);
  }
}

}  // namespace deepmr::model::detail
