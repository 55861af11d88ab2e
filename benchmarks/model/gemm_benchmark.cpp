// The deterministic GEMM on the shapes deepmr's engines run (DeepSEA), one thread, per ISA:
// the per-core rate behind docs/performance.md. Run: build/benchmarks/model/gemm_benchmark
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "deepmr/model/gemm.hpp"

namespace {

using deepmr::model::Isa;

std::vector<float> random_matrix(std::size_t count) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> m(count);
  for (auto& v : m) v = u(rng);
  return m;
}

// C (m x n) = A (m x k, packed) * B (k x n), B copied panel by panel (the full engine: weights x im2col).
void copied_b(benchmark::State& state, Isa isa, int m, int n, int k) {
  if (!deepmr::model::isa_supported(isa)) return state.SkipWithError("ISA not supported here");
  deepmr::model::set_compute_threads(1);
  const auto a = random_matrix(static_cast<std::size_t>(m) * k), b = random_matrix(static_cast<std::size_t>(k) * n);
  std::vector<float> c(static_cast<std::size_t>(m) * n);
  const deepmr::model::PackedMatrix packed(a.data(), m, k, k, isa);
  for (auto _ : state) {
    deepmr::model::gemm(packed, deepmr::model::DenseSource(b.data(), k, n, n), n, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(m) * n * k / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// C = X (m x k: deltas, packed per product) * W (k x n, packed once and read in place): the
// incremental engine.
void packed_b(benchmark::State& state, Isa isa, int m, int n, int k) {
  if (!deepmr::model::isa_supported(isa)) return state.SkipWithError("ISA not supported here");
  deepmr::model::set_compute_threads(1);
  const auto a = random_matrix(static_cast<std::size_t>(m) * k), b = random_matrix(static_cast<std::size_t>(k) * n);
  std::vector<float> c(static_cast<std::size_t>(m) * n);
  const deepmr::model::PackedColumns weights(b.data(), k, n, n, isa);
  for (auto _ : state) {
    deepmr::model::gemm(deepmr::model::PackedMatrix(a.data(), m, k, k, isa), weights, n, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(m) * n * k / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// Full engine, DeepSEA conv3 for 8 sequences: 960 x (53 * 8) x 3840.
BENCHMARK_CAPTURE(copied_b, full_conv3_avx512, Isa::avx512, 960, 424, 3840)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(copied_b, full_conv3_avx2, Isa::avx2, 960, 424, 3840)->Unit(benchmark::kMillisecond);
// Incremental engine, a group of 128 variants: conv2 (2.75 changed columns each, 8 taps x 480),
// conv3 (3.4 columns, 8 taps x 960), fc1 (one input column: 128 variants x 480 kept channels x 925).
BENCHMARK_CAPTURE(packed_b, delta_conv2_avx512, Isa::avx512, 352, 3840, 320)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(packed_b, delta_conv3_avx512, Isa::avx512, 435, 7680, 480)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(packed_b, delta_fc1_avx512, Isa::avx512, 128, 925, 480)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(packed_b, delta_conv3_avx2, Isa::avx2, 435, 7680, 480)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
