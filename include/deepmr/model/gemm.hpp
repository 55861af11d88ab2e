#pragma once
// Deterministic single-precision matrix products for the CPU path.
//
// Every output element is ONE fused multiply-add chain over k in increasing order, starting
// from zero:  c = fma(a[i][K-1], b[K-1][j], ... fma(a[i][1], b[1][j], fma(a[i][0], b[0][j], 0))).
// SIMD lanes, register tiles, cache blocks and threads only decide which elements are computed
// together, never the order of one element's chain; and fma rounds once on every ISA. So a
// result does not depend on the batch it was computed in, the number of threads, or whether the
// scalar, AVX2 or AVX-512 kernel ran: the basis of deepmr's bitwise determinism (docs/performance.md).

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace deepmr::model {

enum class Isa { scalar, avx2, avx512 };

// The ISA the kernels use: the best the CPU supports, unless DEEPMR_ISA (scalar|avx2|avx512)
// names another (tests use it to compare ISAs bit for bit).
Isa active_isa();
// Switches the ISA for matrices packed afterwards (PackedMatrix records its own).
void set_active_isa(Isa isa);
bool isa_supported(Isa isa);
std::string isa_name(Isa isa);

struct TileShape {
  int mr;  // rows of A per register tile
  int nr;  // columns of B per register tile (a multiple of the SIMD width)
};
TileShape tile_shape(Isa isa);

// The A operand (rows x cols, e.g. weights: output channels x inputs), packed once into panels
// of mr rows, each stored k-major (cols x mr), rows past `rows` zero.
class PackedMatrix {
 public:
  PackedMatrix() = default;
  PackedMatrix(const float* a, int rows, int cols, std::ptrdiff_t lda, Isa isa = active_isa());

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  Isa isa() const { return isa_; }
  const float* panel(int index) const { return data_.get() + static_cast<std::size_t>(index) * cols_ * mr_; }
  int panels() const { return (rows_ + mr_ - 1) / mr_; }
  int mr() const { return mr_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  int rows_ = 0, cols_ = 0, mr_ = 1;
  Isa isa_ = Isa::scalar;
  std::unique_ptr<float[], Free> data_;
};

// The B operand (K x N), produced one panel at a time so that it never exists whole: an im2col
// view of a convolution's input, a flattened activation, or a plain matrix.
class PanelSource {
 public:
  virtual ~PanelSource() = default;
  // Writes rows [k0, k0 + kc) of columns [n0, n0 + nr) into dest (kc rows of nr floats, k-major);
  // columns at or past the source's N must be written as zeros.
  virtual void pack(int k0, int kc, int n0, int nr, float* dest) const = 0;
  // The same panel already in memory, when the source keeps it packed (PackedColumns): gemm then
  // reads it in place instead of copying. nullptr (the default): gemm calls pack().
  virtual const float* packed_panel(int k0, int n0, int nr) const {
    (void)k0, (void)n0, (void)nr;
    return nullptr;
  }
};

// A row-major K x N matrix with leading dimension ldb.
class DenseSource : public PanelSource {
 public:
  DenseSource(const float* b, int k, int n, std::ptrdiff_t ldb) : b_(b), k_(k), n_(n), ldb_(ldb) {}
  void pack(int k0, int kc, int n0, int nr, float* dest) const override;

 private:
  const float* b_;
  int k_, n_;
  std::ptrdiff_t ldb_;
};

// A B operand that is fixed across many products (weights on the right, C = X W), packed once
// into panels of the ISA's nr columns, each stored k-major (rows x nr), columns past `cols` zero.
// gemm reads its panels in place (PanelSource::packed_panel): no per-product copy of the weights.
class PackedColumns : public PanelSource {
 public:
  PackedColumns() = default;
  // rows x cols of zeros, to be filled with set().
  PackedColumns(int rows, int cols, Isa isa = active_isa());
  // b: rows x cols, row-major with leading dimension ldb.
  PackedColumns(const float* b, int rows, int cols, std::ptrdiff_t ldb, Isa isa = active_isa());

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  Isa isa() const { return isa_; }
  void set(int row, int col, float value) { panel_row(col / nr_, row)[col % nr_] = value; }
  // Columns per panel (the ISA's nr) and row `row` of panel `panel`: nr floats, columns
  // panel * nr .. panel * nr + nr - 1; for filling without a division per element.
  int panel_width() const { return nr_; }
  float* panel_row(int panel, int row) { return data_.get() + (static_cast<std::size_t>(panel) * rows_ + row) * nr_; }
  // Changes the number of rows, keeping the memory when it is large enough: every element must
  // then be written again (the padding columns past cols() are zero).
  void reset_rows(int rows);
  void pack(int k0, int kc, int n0, int nr, float* dest) const override;
  const float* packed_panel(int k0, int n0, int nr) const override;

 private:
  struct Free {
    void operator()(float* p) const;
  };
  int rows_ = 0, cols_ = 0, nr_ = 1;
  Isa isa_ = Isa::scalar;
  std::size_t capacity_ = 0;
  std::unique_ptr<float[], Free> data_;
};

// C (a.rows() x n, row-major, leading dimension ldc) = A * B, each element one fma chain (above).
// Parallel over tiles with OpenMP, using the threads set by set_compute_threads().
void gemm(const PackedMatrix& a, const PanelSource& b, int n, float* c, std::ptrdiff_t ldc);

// A sparse A operand, row by row (CSR): row r's nonzeros are entries [start[r], start[r + 1]) of
// `index` (columns of A, increasing) and `value`.
struct SparseRows {
  int rows = 0;
  const int* start = nullptr;
  const int* index = nullptr;
  const float* value = nullptr;
};

// C (a.rows x n, row-major, leading dimension ldc) = A * B over A's listed entries only, on this
// thread: each element the fma chain over the listed k in increasing order, from zero. For finite B
// this is bit for bit what gemm gives for the dense row holding zeros elsewhere: fma(0, b, acc) is
// acc unless acc is -0, and a chain that starts from +0 never holds -0. So rows with few nonzeros
// (differences that mostly did not get through an activation) can skip the zeros exactly.
void sparse_gemm(const SparseRows& a, const PackedColumns& b, int n, float* c, std::ptrdiff_t ldc);

// Threads used by gemm (and the rest of the CPU network). Results never depend on it.
void set_compute_threads(int threads);
int compute_threads();

}  // namespace deepmr::model
