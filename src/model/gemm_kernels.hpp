#pragma once
// Register-tile kernels of gemm.cpp, one per ISA, each in its own translation unit compiled for
// that ISA. Internal to the model layer.

namespace deepmr::model::detail {

// c (mr x nr tile, row stride ldc) = [c +] sum over k < kc of a[k][i] * b[k][j], as fma chains in
// increasing k; starts from the values in c when accumulate is true, else from zero.
using TileKernel = void (*)(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate);

void tile_scalar(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate);
void tile_avx2(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate);
void tile_avx512(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate);

inline constexpr int kScalarMr = 4, kScalarNr = 4;
inline constexpr int kAvx2Mr = 6, kAvx2Nr = 16;
inline constexpr int kAvx512Mr = 8, kAvx512Nr = 32;

}  // namespace deepmr::model::detail
