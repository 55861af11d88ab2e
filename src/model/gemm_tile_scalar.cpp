// Portable tile kernel: std::fma is exactly rounded like the SIMD fma instructions, so this
// kernel gives the same bits as the AVX2 and AVX-512 kernels.
#include <cmath>

#include "gemm_kernels.hpp"

namespace deepmr::model::detail {

void tile_scalar(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate) {
  constexpr int mr = kScalarMr, nr = kScalarNr;
  float acc[mr][nr];
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
  for (int k = 0; k < kc; ++k, a += mr, b += nr)
    for (int i = 0; i < mr; ++i)
      for (int j = 0; j < nr; ++j) acc[i][j] = std::fma(a[i], b[j], acc[i][j]);
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) c[i * ldc + j] = acc[i][j];
}

void sparse_panel_scalar(int rows, const int* start, const int* index, const float* value, const float* panel,
                         float* c, long ldc, int width) {
  constexpr int nr = kScalarNr;
  for (int r = 0; r < rows; ++r) {
    float acc[nr] = {};
    for (int e = start[r]; e < start[r + 1]; ++e) {
      const float* b = panel + static_cast<long>(index[e]) * nr;
      for (int j = 0; j < nr; ++j) acc[j] = std::fma(value[e], b[j], acc[j]);
    }
    for (int j = 0; j < width; ++j) c[r * ldc + j] = acc[j];
  }
}

}  // namespace deepmr::model::detail
