#include "deepmr/model/gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "deepmr/common/error.hpp"
#include "gemm_kernels.hpp"

namespace deepmr::model {
namespace {

// Cache blocking: a kc x nc panel of B (256 x 256 floats = 256 KiB) stays in L2 while every
// A panel streams past it. Blocking changes speed only, never results (see gemm.hpp).
constexpr int kBlockK = 256;
constexpr int kBlockN = 256;

Isa best_supported() {
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx512f")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::scalar;
}

Isa initial_isa() {
  const char* forced = std::getenv("DEEPMR_ISA");
  if (!forced || !*forced) return best_supported();
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (isa_name(isa) == forced) {
      if (!isa_supported(isa))
        throw UsageError(std::string("DEEPMR_ISA=") + forced + ": this CPU does not support it");
      return isa;
    }
  throw UsageError(std::string("DEEPMR_ISA=") + forced + ": unknown (use scalar, avx2 or avx512)");
}

std::atomic<int>& isa_slot() {
  static std::atomic<int> slot{static_cast<int>(initial_isa())};
  return slot;
}

std::atomic<int>& threads_slot() {
  static std::atomic<int> slot{1};
  return slot;
}

detail::TileKernel kernel_for(Isa isa) {
  switch (isa) {
    case Isa::avx512: return detail::tile_avx512;
    case Isa::avx2: return detail::tile_avx2;
    default: return detail::tile_scalar;
  }
}

detail::SparsePanelKernel sparse_kernel_for(Isa isa) {
  switch (isa) {
    case Isa::avx512: return detail::sparse_panel_avx512;
    case Isa::avx2: return detail::sparse_panel_avx2;
    default: return detail::sparse_panel_scalar;
  }
}

float* aligned_floats(std::size_t count) {
  return static_cast<float*>(::operator new[](std::max<std::size_t>(count, 1) * sizeof(float), std::align_val_t(64)));
}

}  // namespace

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return best_supported() != Isa::scalar;
    case Isa::avx512: return best_supported() == Isa::avx512;
  }
  return false;
}

Isa active_isa() { return static_cast<Isa>(isa_slot().load()); }

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) throw UsageError("ISA " + isa_name(isa) + " is not supported by this CPU");
  isa_slot().store(static_cast<int>(isa));
}

std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

TileShape tile_shape(Isa isa) {
  switch (isa) {
    case Isa::avx512: return {detail::kAvx512Mr, detail::kAvx512Nr};
    case Isa::avx2: return {detail::kAvx2Mr, detail::kAvx2Nr};
    default: return {detail::kScalarMr, detail::kScalarNr};
  }
}

void set_compute_threads(int threads) { threads_slot().store(std::max(1, threads)); }
int compute_threads() { return threads_slot().load(); }

void PackedMatrix::Free::operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }

PackedMatrix::PackedMatrix(const float* a, int rows, int cols, std::ptrdiff_t lda, Isa isa)
    : rows_(rows), cols_(cols), mr_(tile_shape(isa).mr), isa_(isa) {
  const int count = panels();
  data_.reset(aligned_floats(static_cast<std::size_t>(count) * cols_ * mr_));
  for (int p = 0; p < count; ++p) {
    float* dest = data_.get() + static_cast<std::size_t>(p) * cols_ * mr_;
    for (int k = 0; k < cols_; ++k)
      for (int i = 0; i < mr_; ++i) {
        const int row = p * mr_ + i;
        dest[static_cast<std::size_t>(k) * mr_ + i] = row < rows_ ? a[row * lda + k] : 0.0f;
      }
  }
}

PackedColumns::PackedColumns(int rows, int cols, Isa isa)
    : rows_(rows), cols_(cols), nr_(tile_shape(isa).nr), isa_(isa) {
  capacity_ = static_cast<std::size_t>((cols_ + nr_ - 1) / nr_) * rows_ * nr_;
  data_.reset(aligned_floats(capacity_));
  std::fill(data_.get(), data_.get() + capacity_, 0.0f);
}

void PackedColumns::reset_rows(int rows) {
  const int panels = (cols_ + nr_ - 1) / nr_;
  const std::size_t count = static_cast<std::size_t>(panels) * rows * nr_;
  if (count > capacity_) {
    data_.reset(aligned_floats(count));
    capacity_ = count;
  }
  rows_ = rows;
  if (cols_ % nr_ != 0)
    for (int k = 0; k < rows_; ++k) std::fill(panel_row(panels - 1, k) + cols_ % nr_, panel_row(panels - 1, k) + nr_, 0.0f);
}

PackedColumns::PackedColumns(const float* b, int rows, int cols, std::ptrdiff_t ldb, Isa isa)
    : PackedColumns(rows, cols, isa) {
  for (int k = 0; k < rows; ++k)
    for (int j0 = 0; j0 < cols_; j0 += nr_)
      std::memcpy(data_.get() + (static_cast<std::size_t>(j0 / nr_) * rows_ + k) * nr_, b + k * ldb + j0,
                  sizeof(float) * std::min(nr_, cols_ - j0));
}

void PackedColumns::Free::operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }

const float* PackedColumns::packed_panel(int k0, int n0, int nr) const {
  if (nr != nr_ || n0 % nr_ != 0) return nullptr;
  return data_.get() + (static_cast<std::size_t>(n0 / nr_) * rows_ + k0) * nr_;
}

void PackedColumns::pack(int k0, int kc, int n0, int nr, float* dest) const {
  for (int k = 0; k < kc; ++k)
    for (int j = 0; j < nr; ++j) {
      const int col = n0 + j;
      dest[static_cast<std::size_t>(k) * nr + j] =
          col < cols_ ? data_[(static_cast<std::size_t>(col / nr_) * rows_ + k0 + k) * nr_ + col % nr_] : 0.0f;
    }
}

void DenseSource::pack(int k0, int kc, int n0, int nr, float* dest) const {
  const int valid = std::clamp(n_ - n0, 0, nr);
  for (int k = 0; k < kc; ++k) {
    const float* row = b_ + (k0 + k) * ldb_ + n0;
    float* out = dest + static_cast<std::size_t>(k) * nr;
    std::memcpy(out, row, sizeof(float) * valid);
    std::fill(out + valid, out + nr, 0.0f);
  }
}

void gemm(const PackedMatrix& a, const PanelSource& b, int n, float* c, std::ptrdiff_t ldc) {
  const int m = a.rows(), k_total = a.cols();
  if (m == 0 || n == 0) return;
  if (k_total == 0) {
    for (int i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const TileShape tile = tile_shape(a.isa());
  const detail::TileKernel kernel = kernel_for(a.isa());
  const int mr = tile.mr, nr = tile.nr;
  const int n_blocks = (n + kBlockN - 1) / kBlockN;
  // Inside a parallel region (the incremental engine runs one group per thread) the product stays
  // on the calling thread.
  const int threads = omp_in_parallel() ? 1 : compute_threads();
  // Enough jobs for every thread: split rows too when there are few column blocks.
  int m_split = 1;
  while (n_blocks * m_split < 2 * threads && (m_split * 2) * mr * 2 <= m) m_split *= 2;
  const int rows_per_job = ((a.panels() + m_split - 1) / m_split) * mr;
  const int jobs = n_blocks * m_split;

  // Small products run on fewer threads: a parallel region waiting for idle threads costs more
  // than it saves (results never depend on it).
#pragma omp parallel num_threads(std::min(threads, jobs))
  {
    float* panel_buffer = aligned_floats(static_cast<std::size_t>(kBlockK) * kBlockN);
    alignas(64) float edge[16 * 64];
    const float* panels[kBlockN];  // B panels of the current block: packed here, or in place
#pragma omp for schedule(dynamic, 1)
    for (int job = 0; job < jobs; ++job) {
      const int n0 = (job / m_split) * kBlockN;
      const int nc = std::min(kBlockN, n - n0);
      const int row0 = (job % m_split) * rows_per_job;
      const int row1 = std::min(m, row0 + rows_per_job);
      const int n_panels = (nc + nr - 1) / nr;
      for (int k0 = 0; k0 < k_total; k0 += kBlockK) {
        const int kc = std::min(kBlockK, k_total - k0);
        const bool accumulate = k0 > 0;
        for (int p = 0; p < n_panels; ++p) {
          const float* in_place = b.packed_panel(k0, n0 + p * nr, nr);
          if (in_place) {
            panels[p] = in_place;
          } else {
            panels[p] = panel_buffer + static_cast<std::size_t>(p) * kc * nr;
            b.pack(k0, kc, n0 + p * nr, nr, panel_buffer + static_cast<std::size_t>(p) * kc * nr);
          }
        }
        for (int row = row0; row < row1; row += mr) {
          const float* a_panel = a.panel(row / mr) + static_cast<std::size_t>(k0) * mr;
          const int rows_valid = std::min(mr, m - row);
          for (int p = 0; p < n_panels; ++p) {
            const int col = n0 + p * nr;
            const int cols_valid = std::min(nr, n - col);
            const float* b_panel = panels[p];
            float* c_tile = c + row * ldc + col;
            if (rows_valid == mr && cols_valid == nr) {
              kernel(kc, a_panel, b_panel, c_tile, ldc, accumulate);
              continue;
            }
            // Edge tile: run the full tile on a scratch copy, keep the valid part.
            for (int i = 0; i < mr; ++i)
              for (int j = 0; j < nr; ++j)
                edge[i * nr + j] = accumulate && i < rows_valid && j < cols_valid ? c_tile[i * ldc + j] : 0.0f;
            kernel(kc, a_panel, b_panel, edge, nr, accumulate);
            for (int i = 0; i < rows_valid; ++i)
              std::memcpy(c_tile + i * ldc, edge + i * nr, sizeof(float) * cols_valid);
          }
        }
      }
    }
    ::operator delete[](panel_buffer, std::align_val_t(64));
  }
}

void sparse_gemm(const SparseRows& a, const PackedColumns& b, int n, float* c, std::ptrdiff_t ldc) {
  if (a.rows == 0 || n == 0) return;
  const detail::SparsePanelKernel kernel = sparse_kernel_for(b.isa());
  const int nr = b.panel_width();
  // Panel by panel (one panel of B, rows x nr, stays in cache while every row reads it).
  for (int n0 = 0; n0 < n; n0 += nr)
    kernel(a.rows, a.start, a.index, a.value, b.packed_panel(0, n0, nr), c + n0, static_cast<long>(ldc),
           std::min(nr, n - n0));
}

}  // namespace deepmr::model
