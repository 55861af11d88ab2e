// The per-region statistics workload of a Deep MR run: MR fits of one (exposure, region) unit with
// 3,000 instruments (the 3L mutants of a 1,000 bp window), and the per-exposure meta-analysis,
// here over 1,000,000 estimates. Run by hand: build-*/benchmarks/stats/stats_benchmark.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "deepmr/common/philox_blocks.hpp"
#include "deepmr/stats/density_mode.hpp"
#include "deepmr/stats/kernel_density.hpp"
#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/mr.hpp"
#include "deepmr/stats/normal_stream.hpp"

namespace {

using namespace deepmr::stats;

// Mutant-like instruments: mostly tiny effects with a heavy tail, effect sizes from float
// predictions (converted to double), a causal effect of 1.4 and some pleiotropy.
Instruments region(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> heavy(3);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.5, 2);
  Instruments in;
  for (std::size_t i = 0; i < n; ++i) {
    const auto bx = static_cast<float>(0.004 * heavy(rng));
    const auto bxse = static_cast<float>(0.002 * uniform(rng));
    const auto byse = static_cast<float>(0.003 * uniform(rng));
    const auto by = static_cast<float>(1.4 * bx + 0.001 * normal(rng) + byse * normal(rng));
    in.push_back(bx, bxse, by, byse);
  }
  return in;
}

void fit(benchmark::State& state, std::vector<MrMethod> methods) {
  const Instruments in = region(static_cast<std::size_t>(state.range(0)), 42);
  MrOptions options;
  options.bootstrap_draws = static_cast<std::size_t>(state.range(1));
  options.threads = static_cast<std::size_t>(state.range(2));  // the same fits on any count
  std::uint64_t unit = 0;
  for (auto _ : state) {
    options.seed = unit_seed(1, 0, unit++);
    auto results = fit_all(methods, in, options);
    benchmark::DoNotOptimize(results);
  }
  state.SetLabel(std::to_string(state.range(0)) + " instruments, " + std::to_string(state.range(1)) + " draws, " +
                 std::to_string(state.range(2)) + (state.range(2) == 1 ? " thread" : " threads"));
}

void BM_DefaultMethods(benchmark::State& state) { fit(state, default_mr_methods()); }
void BM_EggerIvwWeightedMedian(benchmark::State& state) {
  fit(state, {MrMethod::egger, MrMethod::ivw, MrMethod::median_weighted});
}
void BM_Ivw(benchmark::State& state) { fit(state, {MrMethod::ivw}); }
void BM_Egger(benchmark::State& state) { fit(state, {MrMethod::egger}); }
void BM_WeightedMedian(benchmark::State& state) { fit(state, {MrMethod::median_weighted}); }
void BM_Mode(benchmark::State& state) { fit(state, {MrMethod::mode_weighted}); }

// Instruments, draws, bootstrap threads (MrOptions::threads): wall time, so the 2-thread rows show
// the bootstraps' parallel speed-up on the same inputs.
BENCHMARK(BM_DefaultMethods)->Args({3000, 1000, 1})->Args({3000, 1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EggerIvwWeightedMedian)->Args({3000, 1000, 1})->Args({3000, 1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Ivw)->Args({3000, 0, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Egger)->Args({3000, 0, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WeightedMedian)->Args({3000, 1000, 1})->Args({3000, 1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Mode)->Args({3000, 1000, 1})->Args({3000, 1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

// The pieces of one mode bootstrap draw: R's density of 3,000 weighted values on its 512-point
// grid (binning, the direct convolution, the interpolation), and the density mode of the
// benchmark region's ratio estimates, whose far-out ratios send it to the central-mass grid (its
// two tail quantiles and the density over that grid).
void BM_KernelDensity(benchmark::State& state) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.5, 2);
  std::vector<double> values(static_cast<std::size_t>(state.range(0))), weights(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = normal(rng);
    weights[i] = uniform(rng);
  }
  KernelDensity density;
  for (auto _ : state) benchmark::DoNotOptimize(density.estimate(values, weights, 0.05).y.data());
  state.SetLabel(std::to_string(values.size()) + " values, 512 points");
}
BENCHMARK(BM_KernelDensity)->Arg(3000)->Unit(benchmark::kMicrosecond);

void BM_DensityMode(benchmark::State& state) {
  const Instruments in = region(static_cast<std::size_t>(state.range(0)), 42);
  std::vector<double> ratios(in.size()), weights(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    ratios[i] = in.by[i] / in.bx[i];
    const double se2 = in.byse[i] * in.byse[i] / (in.bx[i] * in.bx[i]) +
                       in.by[i] * in.by[i] * in.bxse[i] * in.bxse[i] / std::pow(in.bx[i], 4);
    weights[i] = 1 / se2;
  }
  // Hartwig's bandwidth, 0.9 min(sd, mad) / n^(1/5), as the mode fit takes it.
  const auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];  // odd n here
  };
  double mean = 0, squares = 0;
  for (double r : ratios) mean += r / static_cast<double>(ratios.size());
  for (double r : ratios) squares += (r - mean) * (r - mean);
  std::vector<double> deviations(ratios.size());
  const double center = median(ratios);
  for (std::size_t i = 0; i < ratios.size(); ++i) deviations[i] = std::fabs(ratios[i] - center);
  const double spread = std::min(std::sqrt(squares / static_cast<double>(ratios.size() - 1)), 1.4826 * median(deviations));
  const double h = 0.9 * spread / std::pow(static_cast<double>(ratios.size()), 0.2);
  DensityModeFinder finder;
  ModeGrid grid = ModeGrid::r;
  for (auto _ : state) {
    const DensityMode mode = finder.find(ratios, weights, h);
    grid = mode.grid;
    benchmark::DoNotOptimize(mode.x);
  }
  state.SetLabel(std::to_string(in.size()) + " ratios, " + (grid == ModeGrid::central_mass ? "central" : "R's") + " grid");
}
BENCHMARK(BM_DensityMode)->Arg(3001)->Unit(benchmark::kMicrosecond);

// The random numbers alone behind a 1,000-draw median bootstrap of 3,000 instruments: 6,000,000
// normals (Philox4x32-10 bits and the ziggurat), the floor under BM_WeightedMedian. Second
// argument: the Philox form (0 scalar, 1 AVX2, 2 AVX-512; the same words), so the forms are
// compared in one process; also for the weighted median.
// Makes `isa` the Philox form for one benchmark (false, and the benchmark skipped, where the CPU
// lacks it); the widest form again when it goes out of scope.
class PhiloxForm {
 public:
  PhiloxForm(benchmark::State& state, deepmr::PhiloxIsa isa) : supported_(deepmr::philox_isa_supported(isa)) {
    if (supported_)
      deepmr::set_philox_active_isa(isa);
    else
      state.SkipWithError("this CPU lacks the instruction set");
  }
  ~PhiloxForm() { deepmr::set_philox_active_isa(deepmr::philox_best_isa()); }
  explicit operator bool() const { return supported_; }

 private:
  bool supported_;
};

void BM_NormalDraws(benchmark::State& state) {
  const auto isa = static_cast<deepmr::PhiloxIsa>(state.range(1));
  const PhiloxForm form(state, isa);
  if (!form) return;
  std::vector<double> out(static_cast<std::size_t>(state.range(0)));
  std::uint64_t unit = 0;
  for (auto _ : state) {
    NormalStream normals(unit++, 1);
    for (std::size_t d = 0; d < 2000; ++d) normals.fill(out.data(), out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel("2000 x " + std::to_string(state.range(0)) + " normals, Philox " + deepmr::philox_isa_name(isa));
}
BENCHMARK(BM_NormalDraws)->Args({3000, 0})->Args({3000, 1})->Args({3000, 2})->Unit(benchmark::kMillisecond);

void BM_WeightedMedianByPhiloxForm(benchmark::State& state) {
  const auto isa = static_cast<deepmr::PhiloxIsa>(state.range(0));
  const PhiloxForm form(state, isa);
  if (!form) return;
  const Instruments in = region(3000, 42);
  MrOptions options;
  options.bootstrap_draws = 1000;
  std::uint64_t unit = 0;
  for (auto _ : state) {
    options.seed = unit_seed(1, 0, unit++);
    auto results = fit_all({MrMethod::median_weighted}, in, options);
    benchmark::DoNotOptimize(results);
  }
  state.SetLabel("3000 instruments, 1000 draws, Philox " + deepmr::philox_isa_name(isa));
}
BENCHMARK(BM_WeightedMedianByPhiloxForm)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_MetaAnalysis(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.05, 0.5);
  std::vector<double> y(static_cast<std::size_t>(state.range(0))), se(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    se[i] = uniform(rng);
    y[i] = 1.2 + 0.3 * normal(rng) + se[i] * normal(rng);
  }
  MetaOptions options;
  options.tau2_method = static_cast<Tau2Method>(state.range(1));
  for (auto _ : state) {
    auto result = meta_analysis(y, se, options);
    benchmark::DoNotOptimize(result);
  }
  state.SetLabel(std::to_string(y.size()) + " estimates, " + tau2_method_name(options.tau2_method));
}
BENCHMARK(BM_MetaAnalysis)
    ->Args({1000000, static_cast<long>(Tau2Method::dl)})
    ->Args({1000000, static_cast<long>(Tau2Method::reml)})
    ->Args({1000000, static_cast<long>(Tau2Method::pm)})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
