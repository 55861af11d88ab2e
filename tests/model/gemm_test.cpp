// The kernels' contract: every element is one fma chain in increasing k, whatever the ISA, the
// tiling or the thread count. Checked bit for bit against the definition written out naively.
#include "deepmr/model/gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "test_support.hpp"

namespace deepmr::model {
namespace {

std::vector<float> random_matrix(int rows, int cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> m(static_cast<std::size_t>(rows) * cols);
  for (auto& v : m) v = normal(rng);
  return m;
}

std::vector<float> chain_reference(const std::vector<float>& a, const std::vector<float>& b, int m, int n, int k) {
  std::vector<float> c(static_cast<std::size_t>(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int q = 0; q < k; ++q) acc = std::fma(a[i * k + q], b[q * n + j], acc);
      c[i * n + j] = acc;
    }
  return c;
}

class Gemm : public ::testing::TestWithParam<Isa> {};

TEST_P(Gemm, EveryElementIsTheFmaChainInOrder) {
  if (!isa_supported(GetParam())) GTEST_SKIP() << isa_name(GetParam()) << " not supported here";
  std::mt19937 rng(3);
  // Shapes around the tile and block sizes, and K beyond one cache block (256).
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{
           {1, 1, 1}, {7, 5, 3}, {8, 32, 16}, {13, 37, 300}, {33, 257, 520}, {64, 70, 2560}, {925, 3, 600}}) {
    auto a = random_matrix(m, k, rng), b = random_matrix(k, n, rng);
    const auto expected = chain_reference(a, b, m, n, k);
    PackedMatrix packed(a.data(), m, k, k, GetParam());
    for (int threads : {1, 2, 3}) {
      set_compute_threads(threads);
      std::vector<float> c(static_cast<std::size_t>(m) * n, -7.0f);
      gemm(packed, DenseSource(b.data(), k, n, n), n, c.data(), n);
      EXPECT_TRUE(test::bitwise_equal(c, expected)) << isa_name(GetParam()) << " m=" << m << " n=" << n << " k=" << k
                                              << " threads=" << threads;
    }
  }
  set_compute_threads(1);
}

TEST_P(Gemm, RespectsLeadingDimensions) {
  if (!isa_supported(GetParam())) GTEST_SKIP();
  std::mt19937 rng(4);
  const int m = 10, n = 20, k = 30, lda = 33, ldb = 25, ldc = 22;
  auto a = random_matrix(m, lda, rng), b = random_matrix(k, ldb, rng);
  std::vector<float> a_tight(m * k), b_tight(k * n);
  for (int i = 0; i < m; ++i) std::memcpy(&a_tight[i * k], &a[i * lda], k * sizeof(float));
  for (int q = 0; q < k; ++q) std::memcpy(&b_tight[q * n], &b[q * ldb], n * sizeof(float));
  const auto expected = chain_reference(a_tight, b_tight, m, n, k);
  std::vector<float> c(m * ldc, 99.0f);
  gemm(PackedMatrix(a.data(), m, k, lda, GetParam()), DenseSource(b.data(), k, n, ldb), n, c.data(), ldc);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) ASSERT_EQ(c[i * ldc + j], expected[i * n + j]);
    for (int j = n; j < ldc; ++j) ASSERT_EQ(c[i * ldc + j], 99.0f) << "wrote outside the matrix";
  }
}

// Weights packed once on the right (PackedColumns, read in place by gemm): the same chains.
TEST_P(Gemm, PackedColumnsGiveTheSameChains) {
  if (!isa_supported(GetParam())) GTEST_SKIP();
  std::mt19937 rng(5);
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {9, 33, 7}, {130, 925, 480}, {40, 2560, 4}, {17, 70, 600}}) {
    auto a = random_matrix(m, k, rng), b = random_matrix(k, n, rng);
    const auto expected = chain_reference(a, b, m, n, k);
    PackedMatrix packed_a(a.data(), m, k, k, GetParam());
    PackedColumns packed_b(b.data(), k, n, n, GetParam());
    for (int threads : {1, 2}) {
      set_compute_threads(threads);
      std::vector<float> c(static_cast<std::size_t>(m) * n, -7.0f);
      gemm(packed_a, packed_b, n, c.data(), n);
      EXPECT_TRUE(test::bitwise_equal(c, expected)) << isa_name(GetParam()) << " m=" << m << " n=" << n << " k=" << k;
    }
    // Copied panels (a B packed for another ISA's panel width) give the same bits too.
    const Isa other = GetParam() == Isa::scalar ? Isa::avx2 : Isa::scalar;
    if (isa_supported(other)) {
      std::vector<float> c(static_cast<std::size_t>(m) * n);
      gemm(packed_a, PackedColumns(b.data(), k, n, n, other), n, c.data(), n);
      EXPECT_TRUE(test::bitwise_equal(c, expected)) << "copied panels, m=" << m << " n=" << n << " k=" << k;
    }
  }
  set_compute_threads(1);
}

// Filled element by element (set, panel_row) and reshaped with reset_rows: a product with fewer
// rows than the allocation reads only those.
TEST_P(Gemm, PackedColumnsFilledInPlaceAndReshaped) {
  if (!isa_supported(GetParam())) GTEST_SKIP();
  std::mt19937 rng(6);
  const int m = 11, n = 45;
  PackedColumns packed(0, n, GetParam());
  for (int k : {50, 20, 64}) {
    auto a = random_matrix(m, k, rng), b = random_matrix(k, n, rng);
    packed.reset_rows(k);
    for (int q = 0; q < k; ++q)
      for (int j = 0; j < n; ++j) packed.set(q, j, b[q * n + j]);
    std::vector<float> c(static_cast<std::size_t>(m) * n);
    gemm(PackedMatrix(a.data(), m, k, k, GetParam()), packed, n, c.data(), n);
    EXPECT_TRUE(test::bitwise_equal(c, chain_reference(a, b, m, n, k))) << "k=" << k;
  }
}

// Sparse rows (differences mostly zero after an activation): the chains over the nonzeros alone
// are bit for bit gemm's over the dense rows, zeros (+0 and -0) included, for every density, for
// weights of both signs and for a partial last panel; nothing is written past n.
TEST_P(Gemm, SparseRowsGiveTheDenseRowsBits) {
  if (!isa_supported(GetParam())) GTEST_SKIP();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {12, 33, 7}, {40, 925, 480}, {9, 70, 64}}) {
    auto a = random_matrix(m, k, rng), b = random_matrix(k, n, rng);
    // Row i keeps a share i / (m - 1) of its entries (row 0: none; the last: all); the dropped
    // entries are zeros of either sign, as a difference x - x or -0 - +0 gives them.
    std::vector<int> start{0}, index;
    std::vector<float> value;
    for (int i = 0; i < m; ++i) {
      const float keep = m > 1 ? static_cast<float>(i) / static_cast<float>(m - 1) : 1.0f;
      for (int q = 0; q < k; ++q) {
        float& x = a[i * k + q];
        if (uniform(rng) >= keep) x = uniform(rng) < 0.5f ? 0.0f : -0.0f;
        if (x != 0.0f) {
          index.push_back(q);
          value.push_back(x);
        }
      }
      start.push_back(static_cast<int>(index.size()));
    }
    const PackedColumns packed(b.data(), k, n, n, GetParam());
    std::vector<float> dense(static_cast<std::size_t>(m) * n);
    gemm(PackedMatrix(a.data(), m, k, k, GetParam()), packed, n, dense.data(), n);
    ASSERT_TRUE(test::bitwise_equal(dense, chain_reference(a, b, m, n, k)));
    const int ldc = n + 5;
    std::vector<float> sparse(static_cast<std::size_t>(m) * ldc, 99.0f);
    sparse_gemm({m, start.data(), index.data(), value.data()}, packed, n, sparse.data(), ldc);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j)
        ASSERT_EQ(std::memcmp(&sparse[i * ldc + j], &dense[i * n + j], sizeof(float)), 0)
            << isa_name(GetParam()) << " m=" << m << " n=" << n << " k=" << k << " row " << i << " column " << j;
      for (int j = n; j < ldc; ++j) ASSERT_EQ(sparse[i * ldc + j], 99.0f) << "wrote outside the matrix";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, Gemm, ::testing::Values(Isa::scalar, Isa::avx2, Isa::avx512),
                         [](const auto& param_info) { return isa_name(param_info.param); });

TEST(GemmIsa, ForcedIsaMustBeSupported) {
  EXPECT_TRUE(isa_supported(Isa::scalar));
  EXPECT_TRUE(isa_supported(active_isa()));
}

}  // namespace
}  // namespace deepmr::model
