// The journal's cost per region: a record appended and made durable on its own (one fdatasync per
// region) against group commit (one fdatasync for the regions of a work request, as the work loop
// does). Records of the demo's shape (one unit, three methods, no effects) and of a DeepSEA region
// with run.store-effects (3000 mutants, outcome and one exposure). Writes into $TMPDIR (default
// /tmp): run it on the file system the journal will live on (docs/performance.md, "The journal").
// Run: build/benchmarks/store/journal_benchmark [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "deepmr/store/journal.hpp"
#include "deepmr/store/schema.hpp"

namespace {

deepmr::store::RegionResult record(std::uint32_t mutants) {
  deepmr::store::RegionResult r;
  r.region = 7;
  deepmr::store::UnitResult unit;
  for (int m = 0; m < 3; ++m)
    unit.fits.push_back({deepmr::store::FitStatus::ok, "", std::vector<double>(deepmr::store::fit_columns().size(), 0.5)});
  unit.direction = {deepmr::store::FitStatus::ok, "", std::vector<double>(7, 0.25)};
  r.units.push_back(unit);
  if (mutants > 0) {
    r.sequence.assign(mutants / 3, 'A');
    r.mutants = mutants;
    r.outputs = 2;
    r.beta.assign(2 * static_cast<std::size_t>(mutants), 0.125f);
    r.se = r.beta;
  }
  return r;
}

// range(0): regions per commit; range(1): mutants stored per region (0: none).
void append(benchmark::State& state) {
  const char* tmp = std::getenv("TMPDIR");
  const auto dir = std::filesystem::path(tmp ? tmp : "/tmp") / ("deepmr_journal_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    deepmr::store::JournalWriter writer(dir.string(), 0, 1);
    const auto result = record(static_cast<std::uint32_t>(state.range(1)));
    const auto per_commit = state.range(0);
    for (auto _ : state) {
      for (std::int64_t i = 0; i < per_commit; ++i) writer.append(result);
      writer.make_durable();
    }
    state.counters["regions/s"] = benchmark::Counter(static_cast<double>(per_commit), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["us/region"] =
        benchmark::Counter(static_cast<double>(per_commit), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  }
  std::filesystem::remove_all(dir);
}

BENCHMARK(append)->ArgNames({"per_commit", "mutants"})->Args({1, 0})->Args({16, 0})->Args({1, 3000})->Args({16, 3000})
    ->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
