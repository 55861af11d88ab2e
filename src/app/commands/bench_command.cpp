// deepmr bench: performance measurements that run every variant on the same inputs in one process
// and print the figures (never assertions). `deepmr bench ism` times the mutagenesis engines on one
// region (docs/performance.md).

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <iostream>

#include "deepmr/app/command.hpp"
#include "deepmr/app/model_options.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/common/philox.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/architectures.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {
namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // kilobytes on Linux
}

std::string random_window(int length, std::uint64_t seed) {
  PhiloxStream rng(seed, 0xbe9c);
  std::string window(length, 'A');
  for (auto& base : window) base = "ACGT"[rng() % 4];
  return window;
}

class BenchCommand : public Command {
 public:
  std::string name() const override { return "bench"; }
  std::string summary() const override {
    return "Benchmarks: 'ism' times the mutagenesis engines on one region (mutant evaluations per second)";
  }
  std::string usage() const override { return "ism (--model FILE | --architecture deepsea) [options]"; }
  void describe(po::options_description& options, po::positional_options_description& positional) const override {
    describe_model_options(options, "");
    options.add_options()
        ("what", po::value<std::string>()->value_name("ism"), "what to benchmark")
        ("architecture", po::value<std::string>()->value_name("NAME"),
         "a built-in architecture with random weights instead of --model (deepsea)")
        ("outputs", po::value<std::string>()->default_value("0,1")->value_name("LIST"), "outputs kept")
        ("mc-samples", po::value<int>()->default_value(2)->value_name("N"), "Monte Carlo dropout samples")
        ("engines", po::value<std::string>()->default_value("full")->value_name("LIST"), "engines to time: full")
        ("batch", po::value<int>()->default_value(64)->value_name("B"), "sequences per forward pass")
        ("seed", po::value<std::uint64_t>()->default_value(1)->value_name("S"), "seed of weights, window and masks")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("tsv|json"), "output format");
    positional.add("what", 1);
  }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& v = parsed.values;
    if (v["what"].empty() || v["what"].as<std::string>() != "ism")
      throw UsageError("say what to benchmark: deepmr bench ism ...");
    const auto format = parse_table_format(v["format"].as<std::string>());
    const std::uint64_t seed = v["seed"].as<std::uint64_t>();

    ModelChoice choice;
    if (!v["architecture"].empty()) {
      if (!v["model"].empty()) throw UsageError("give --model or --architecture, not both");
      const int threads = v["threads"].as<int>();
      if (threads < 1) throw UsageError("option 'threads' must be at least 1");
      model::set_threads(threads);
      choice.stack = std::make_shared<model::LayerStack>(model::architecture(v["architecture"].as<std::string>(), seed));
      choice.device = model::parse_device(v["device"].as<std::string>());
      choice.backend = model::default_backend(choice.device);
    } else {
      choice = load_model_choice(v, "");
    }
    const auto outputs = resolve_output_list(choice, model::split_list(v["outputs"].as<std::string>()));
    const auto& stack = *choice.stack;
    const std::string window = random_window(stack.options.input_length, seed);

    ism::IsmOptions options;
    options.mc_samples = v["mc-samples"].as<int>();
    options.batch = v["batch"].as<int>();
    options.seed = seed;
    if (options.mc_samples < 1) throw UsageError("option 'mc-samples' must be at least 1");

    Table table({"engine", "device", "threads", "model", "length", "mutants", "samples", "seconds",
                 "mutant_evaluations_per_second", "effective_gmac_per_second", "peak_rss_mib"});
    for (const auto& engine_name : model::split_list(v["engines"].as<std::string>())) {
      auto network = model::make_network(choice.stack, outputs, choice.device, choice.backend);
      std::unique_ptr<ism::Engine> engine;
      if (engine_name == "full") engine = ism::make_full_forward_engine(*network);
      else throw UsageError("option 'engines': unknown engine '" + engine_name + "' (available: full)");
      const auto start = std::chrono::steady_clock::now();
      const auto effects = engine->run(window, options);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double evaluations = static_cast<double>(effects.mutants.size()) * options.mc_samples;
      // Work a full forward pass per mutant and strand would cost, per second.
      const double strands = stack.options.reverse_complement_average ? 2 : 1;
      table.add_row();
      table.set("engine", engine->name());
      table.set("device", network->description());
      table.set("threads", model::compute_threads());
      table.set("model", stack.source);
      table.set("length", stack.options.input_length);
      table.set("mutants", effects.mutants.size());
      table.set("samples", options.mc_samples);
      table.set("seconds", seconds);
      table.set("mutant_evaluations_per_second", evaluations / seconds);
      table.set("effective_gmac_per_second", evaluations * strands * stack.forward_macs() / seconds / 1e9);
      table.set("peak_rss_mib", peak_rss_mib());
    }
    table.write(std::cout, format);
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_bench_command() { return std::make_unique<BenchCommand>(); }

}  // namespace deepmr::app
