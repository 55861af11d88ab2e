// The GPU check of docs/performance.md (run by scripts/device-check.sh): on the DeepSEA
// architecture (random weights, L = 1000, two outputs), the CPU incremental engine (deterministic
// kernels; equal to the full engine to 1e-6, tests/ism) is the reference; the full and the
// incremental engines then run through LibTorch on the device, on the same window and masks.
// Prints one TSV row per engine: device, seconds, mutant evaluations per second, and the largest
// differences of beta and se from the CPU reference. The incremental engine runs twice on the
// device: one Monte Carlo sample per pass (a few dozen operator launches per sample) and the
// automatic samples per pass (the same launches for S samples); their ratio is what batching the
// samples saves of the launch overhead.
//
// device_check [--device cuda|cuda:K|cpu] [--samples N] [--batch B] [--threads T] [--positions P]
//              [--full-positions P]
// --positions limits every engine, the reference included, to the window's first P positions (a CPU
// dry run of the torch path at large N); --full-positions limits the full engine further (it is the
// slow one).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/architectures.hpp"
#include "deepmr/model/gemm.hpp"

namespace {

using namespace deepmr;

struct Run {
  ism::Effects effects;
  double seconds = 0;
};

Run run(const std::string& engine, std::shared_ptr<const model::LayerStack> stack, const model::Device& device,
        model::Backend backend, const std::string& window, const ism::IsmOptions& options,
        int samples_per_pass = 0) {
  auto network = model::make_network(std::move(stack), {0, 1}, device, backend);
  model::IncrementalOptions incremental;
  incremental.samples_per_pass = samples_per_pass;
  auto ism = ism::make_engine(engine, *network, incremental);
  if (device.kind == model::Device::Kind::cuda) ism->run(window, [&] {  // warm-up: CUDA context, cuDNN plans
    auto o = options;
    o.mc_samples = 1;
    o.positions = {0, 500};
    return o;
  }());
  const auto start = std::chrono::steady_clock::now();
  Run r{ism->run(window, options), 0};
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// Largest |a - b| of beta and se over the mutants of `a` (a's positions are a prefix of b's).
std::pair<double, double> difference(const ism::Effects& a, const ism::Effects& b) {
  double beta = 0, se = 0;
  for (std::size_t i = 0; i < a.beta.size(); ++i) {
    beta = std::max(beta, std::abs(a.beta[i] - b.beta[i]));
    se = std::max(se, std::abs(a.se[i] - b.se[i]));
  }
  return {beta, se};
}

}  // namespace

int main(int argc, char** argv) try {
  std::string device_name = "cuda";
  int samples = 2, batch = 256, threads = 0, positions = 1000, full_positions = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--device") device_name = value;
    else if (key == "--samples") samples = std::stoi(value);
    else if (key == "--batch") batch = std::stoi(value);
    else if (key == "--threads") threads = std::stoi(value);
    else if (key == "--positions") positions = std::stoi(value);
    else if (key == "--full-positions") full_positions = std::stoi(value);
    else throw UsageError("unknown option " + key);
  }
  if (threads > 0) model::set_threads(threads);
  const auto device = model::parse_device(device_name);
  auto stack = std::make_shared<const model::LayerStack>(model::deepsea_architecture(1));
  std::mt19937 rng(1);
  std::string window(1000, 'A');
  for (auto& base : window) base = "ACGT"[rng() % 4];
  ism::IsmOptions options;
  options.mc_samples = samples;
  options.seed = 1;
  options.region_id = 7;
  options.batch = batch;
  if (positions < 1000)
    for (int p = 0; p < positions; ++p) options.positions.push_back(p);

  const auto cpu = run("incremental", stack, model::Device{}, model::Backend::kernels, window, options);
  std::printf("engine\tdevice\tmutants\tsamples\tseconds\tmutant_evaluations_per_second\tmax_abs_diff_beta\tmax_abs_diff_se\n");
  auto row = [&](const std::string& engine, const std::string& where, const Run& r) {
    const auto [beta, se] = difference(r.effects, cpu.effects);
    std::printf("%s\t%s\t%zu\t%d\t%.3f\t%.1f\t%.3g\t%.3g\n", engine.c_str(), where.c_str(), r.effects.mutants.size(),
                samples, r.seconds, r.effects.mutants.size() * static_cast<double>(samples) / r.seconds, beta, se);
    std::fflush(stdout);
  };
  row("incremental", "cpu kernels (" + model::isa_name(model::active_isa()) + ", " +
                         std::to_string(model::compute_threads()) + " threads; the reference)", cpu);
  const auto one_per_pass = run("incremental", stack, device, model::Backend::torch, window, options, 1);
  row("incremental", device.name() + " LibTorch, 1 sample per pass", one_per_pass);
  const auto incremental = run("incremental", stack, device, model::Backend::torch, window, options);
  row("incremental", device.name() + " LibTorch, automatic samples per pass", incremental);
  std::printf("# automatic samples per pass against 1 on %s: %.2fx\n", device.name().c_str(),
              one_per_pass.seconds / incremental.seconds);
  options.positions.clear();
  for (int p = 0; p < std::min({full_positions, positions, 1000}); ++p) options.positions.push_back(p);
  const auto full = run("full", stack, device, model::Backend::torch, window, options);
  row("full", device.name() + " LibTorch", full);
  std::printf("# speed-up of the incremental engine on %s: %.1fx\n", device.name().c_str(),
              (incremental.effects.mutants.size() / incremental.seconds) / (full.effects.mutants.size() / full.seconds));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "device_check: %s\n", e.what());
  return 1;
}
