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

// Sparse rows times one panel of B (rows x nr, k-major, as PackedColumns keeps it): for each row r,
// c[r * ldc + j] = the fma chain over its nonzeros e in [start[r], start[r + 1]) of value[e] *
// panel[index[e] * nr + j], in increasing index, from zero; only the first `width` columns of the
// panel are written (the last panel of a matrix may be partial).
using SparsePanelKernel = void (*)(int rows, const int* start, const int* index, const float* value,
                                   const float* panel, float* c, long ldc, int width);

void sparse_panel_scalar(int rows, const int* start, const int* index, const float* value, const float* panel,
                         float* c, long ldc, int width);
void sparse_panel_avx2(int rows, const int* start, const int* index, const float* value, const float* panel,
                       float* c, long ldc, int width);
void sparse_panel_avx512(int rows, const int* start, const int* index, const float* value, const float* panel,
                         float* c, long ldc, int width);

inline constexpr int kScalarMr = 4, kScalarNr = 4;
inline constexpr int kAvx2Mr = 6, kAvx2Nr = 16;
inline constexpr int kAvx512Mr = 8, kAvx512Nr = 32;

}  // namespace deepmr::model::detail
