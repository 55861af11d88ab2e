// Genome-layer micro-benchmarks (results and machine in docs/genome.md):
//   BM_FetchOneHot   random 1 kb windows of the shipped 300 kb hg38 sequence, fetched (pread) and
//                    one-hot encoded: windows per second, one and two threads sharing one reader;
//   BM_SweepPlan     plan of a 1,000,000-window sweep (4 exposures) on a synthetic 10 Mb genome:
//                    BED parsing, N check of every window, plan assembly; time and memory.

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "deepmr/genome/encode_window.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/plan_builder.hpp"

namespace {

using namespace deepmr::genome;

constexpr std::size_t kWindows = 100000;
constexpr std::uint64_t kLength = 1000;

const std::string kFasta = std::string(DEEPMR_SOURCE_DIR) + "/data/genome/hg38_chr22_32000000_32300000.fa";

std::vector<std::uint64_t> random_starts(std::uint64_t sequence_length, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> starts(kWindows);
  for (auto& s : starts) s = rng() % (sequence_length - kLength + 1);
  return starts;
}

void BM_FetchOneHot(benchmark::State& state) {
  static const FastaReader reader(kFasta, {false});
  const auto starts = random_starts(reader.length(0), 17 + static_cast<std::uint32_t>(state.thread_index()));
  const Alphabet alphabet = Alphabet::acgt();
  std::vector<float> x(4 * kLength);
  for (auto _ : state) {
    for (std::uint64_t start : starts) {
      encode_window(reader, {0, start, start + kLength}, alphabet, NPolicy::skip, x.data());
      benchmark::DoNotOptimize(x.data());
    }
    benchmark::ClobberMemory();
  }
  state.counters["windows_per_s"] =
      benchmark::Counter(static_cast<double>(kWindows), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FetchOneHot)->Unit(benchmark::kMillisecond)->Threads(1)->Threads(2)->UseRealTime();

void BM_FetchOnly(benchmark::State& state) {
  static const FastaReader reader(kFasta, {false});
  const auto starts = random_starts(reader.length(0), 23);
  std::string bases;
  for (auto _ : state) {
    for (std::uint64_t start : starts) {
      reader.fetch(0, start, start + kLength, bases);
      benchmark::DoNotOptimize(bases.data());
    }
  }
  state.counters["windows_per_s"] =
      benchmark::Counter(static_cast<double>(kWindows), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FetchOnly)->Unit(benchmark::kMillisecond);

// A synthetic genome (10 sequences of 1,001,000 random bases, 60 per line) and a BED of 1,000,000
// windows (every 10 bases), written once to a temporary directory.
struct SweepFiles {
  std::filesystem::path dir;
  SweepFiles() {
    dir = std::filesystem::temp_directory_path() / ("deepmr-bench-genome-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::mt19937 rng(1);
    std::ofstream fasta(dir / "genome.fa"), bed(dir / "sweep.bed");
    for (int c = 0; c < 10; ++c) {
      const std::string name = "chr" + std::to_string(c + 1);
      fasta << '>' << name << '\n';
      std::string line;
      for (std::uint64_t i = 0; i < 1001000; ++i) {
        line += "ACGT"[rng() % 4];
        if (line.size() == 60) {
          fasta << line << '\n';
          line.clear();
        }
      }
      if (!line.empty()) fasta << line << '\n';
      for (std::uint64_t s = 0; s < 1000000; s += 10) bed << name << '\t' << s << '\t' << s + kLength << '\n';
    }
  }
  ~SweepFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

void BM_SweepPlan(benchmark::State& state) {
  static const SweepFiles files;
  PlanSpec spec;
  spec.source = RegionSource::sweep;
  spec.fasta = (files.dir / "genome.fa").string();
  spec.sweep = (files.dir / "sweep.bed").string();
  spec.exposures = {{"ATF3", "", -1}, {"CTCF", "", -1}, {"FOXA1", "", -1}, {"SRF", "", -1}};
  spec.window_length = kLength;
  spec.per_exposure = 0;
  const double rss_before = peak_rss_mb();
  std::size_t plan_bytes = 0, regions = 0, units = 0;
  for (auto _ : state) {
    FastaReader fasta(spec.fasta);  // reads (after the first run, builds and writes) the .fai
    const Plan plan = build_sweep_plan(spec, fasta);
    plan_bytes = plan.memory_bytes();
    regions = plan.region_count();
    units = plan.unit_count();
  }
  state.counters["regions"] = static_cast<double>(regions);
  state.counters["units"] = static_cast<double>(units);
  state.counters["plan_MB"] = static_cast<double>(plan_bytes) / 1e6;
  state.counters["peak_rss_MB"] = peak_rss_mb();
  state.counters["rss_before_MB"] = rss_before;
}
BENCHMARK(BM_SweepPlan)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
