// The mutagenesis engines on the DeepSEA architecture (random weights, L = 1000, N = 1, two
// outputs), on a slice of the window so that an iteration stays short: mutant evaluations per
// second per engine. `deepmr bench ism` gives the whole-window figures of docs/performance.md.
// Run: build/benchmarks/ism/ism_benchmark [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <memory>
#include <random>

#include "deepmr/ism/engine.hpp"
#include "deepmr/model/architectures.hpp"

namespace {

std::shared_ptr<const deepmr::model::LayerStack> deepsea() {
  static auto stack = std::make_shared<const deepmr::model::LayerStack>(deepmr::model::deepsea_architecture(1));
  return stack;
}

void engine(benchmark::State& state, const std::string& name, int positions) {
  deepmr::model::set_threads(static_cast<int>(state.range(0)));
  auto network = deepmr::model::make_network(deepsea(), {0, 1}, deepmr::model::Device{}, deepmr::model::Backend::kernels);
  auto ism = deepmr::ism::make_engine(name, *network);
  std::mt19937 rng(1);
  std::string window(1000, 'A');
  for (auto& base : window) base = "ACGT"[rng() % 4];
  deepmr::ism::IsmOptions options;
  options.mc_samples = 1;
  for (int p = 0; p < positions; ++p) options.positions.push_back(400 + p);
  for (auto _ : state) benchmark::DoNotOptimize(ism->run(window, options));
  state.counters["mutant_evaluations/s"] =
      benchmark::Counter(3.0 * positions, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(engine, full, std::string("full"), 4)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(engine, incremental, std::string("incremental"), 200)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
