// AVX2 + FMA tile kernel: 6 rows x 16 columns in 12 ymm accumulators. Compiled with -mavx2 -mfma;
// called only when the CPU supports both.
#include <immintrin.h>

#include "gemm_kernels.hpp"

namespace deepmr::model::detail {

void tile_avx2(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate) {
  constexpr int mr = kAvx2Mr;
  __m256 acc[mr][2];
  for (int i = 0; i < mr; ++i) {
    acc[i][0] = accumulate ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
    acc[i][1] = accumulate ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
  }
  for (int k = 0; k < kc; ++k, a += mr, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    for (int i = 0; i < mr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < mr; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

void sparse_panel_avx2(int rows, const int* start, const int* index, const float* value, const float* panel,
                       float* c, long ldc, int width) {
  constexpr int nr = kAvx2Nr;
  for (int r = 0; r < rows; ++r) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int e = start[r]; e < start[r + 1]; ++e) {
      const float* b = panel + static_cast<long>(index[e]) * nr;
      const __m256 a = _mm256_set1_ps(value[e]);
      acc0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b), acc0);
      acc1 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 8), acc1);
    }
    float* out = c + r * ldc;
    if (width == nr) {
      _mm256_storeu_ps(out, acc0);
      _mm256_storeu_ps(out + 8, acc1);
    } else {
      alignas(32) float tile[nr];
      _mm256_store_ps(tile, acc0);
      _mm256_store_ps(tile + 8, acc1);
      for (int j = 0; j < width; ++j) out[j] = tile[j];
    }
  }
}

}  // namespace deepmr::model::detail
