#include "deepmr/ism/engine_benchmark.hpp"

#include <sys/resource.h>

#include <chrono>
#include <fstream>

#include "deepmr/common/error.hpp"
#include "deepmr/common/philox.hpp"

namespace deepmr::ism {
namespace {

// Peak resident memory since the last reset_peak_rss(): VmHWM, which Linux lets a process reset
// (clear_refs 5), so that each engine's peak is its own; the process's ru_maxrss where it cannot.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5" << std::flush;
  return static_cast<bool>(clear);
}

double peak_rss_mib(bool resettable) {
  if (resettable) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // kilobytes on Linux
}

// User + system CPU seconds of the process so far: a measure of work that, unlike wall time, does
// not grow while other jobs on the machine hold the cores.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

}  // namespace

EngineRun time_engine(const std::string& engine_name, std::shared_ptr<const model::LayerStack> stack,
                      const std::vector<int>& outputs, const model::Device& device, model::Backend backend,
                      const std::string& window, const IsmOptions& options,
                      const model::IncrementalOptions& incremental) {
  const bool resettable = reset_peak_rss();
  auto network = model::make_network(std::move(stack), outputs, device, backend);
  auto engine = make_engine(engine_name, *network, incremental);
  EngineRun run;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  run.effects = engine->run(window, options);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.cpu_seconds = cpu_seconds() - cpu_start;
  run.evaluations = static_cast<double>(run.effects.mutants.size()) * options.mc_samples;
  run.peak_rss_mib = peak_rss_mib(resettable);
  run.engine = engine->name();
  run.device = network->description();
  run.costs = engine->costs();
  return run;
}

std::string random_window(int length, std::uint64_t seed) {
  PhiloxStream rng(seed, 0xbe9c);
  std::string window(length, 'A');
  for (auto& base : window) base = "ACGT"[rng() % 4];
  return window;
}

}  // namespace deepmr::ism
