// deepmr bench: performance measurements that run every variant on the same inputs in one process
// and print the figures (never assertions). `deepmr bench ism` times the mutagenesis engines on one
// region with the same masks and compares their effects (docs/performance.md).

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "deepmr/app/batch_option.hpp"
#include "deepmr/app/bench_dispatch.hpp"
#include "deepmr/app/command.hpp"
#include "deepmr/app/position_range.hpp"
#include "deepmr/app/model_options.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine_benchmark.hpp"
#include "deepmr/model/architectures.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {
namespace {

class BenchCommand : public Command {
 public:
  std::string name() const override { return "bench"; }
  std::string summary() const override {
    return "Benchmarks: 'ism' times the mutagenesis engines on one region; 'dispatch' (under mpirun) the "
           "coordinator's throughput";
  }
  std::string usage() const override {
    return "ism (--model FILE | --architecture deepsea) [options]  |  dispatch [--regions R] [options]";
  }
  void describe(po::options_description& options, po::positional_options_description& positional) const override {
    describe_model_options(options, "");
    options.add_options()
        ("what", po::value<std::string>()->value_name("ism|dispatch"), "what to benchmark")
        ("architecture", po::value<std::string>()->value_name("NAME"),
         "a built-in architecture with random weights instead of --model (deepsea)")
        ("outputs", po::value<std::string>()->default_value("0,1")->value_name("LIST[;LIST...]"),
         "outputs kept; several sets separated by ';' time each engine with each set (e.g. one outcome and "
         "exposures against several outcomes and the same exposures)")
        ("mc-samples", po::value<int>()->default_value(2)->value_name("N"), "Monte Carlo dropout samples")
        ("engines", po::value<std::string>()->default_value("full,incremental")->value_name("LIST"),
         "engines to time, on the same window and masks: full, incremental, auto, incremental-dense (incremental "
         "without skipping zero difference rows); the first is the baseline of "
         "the ratio and the differences")
        ("backends", po::value<std::string>()->value_name("LIST"),
         "backends to time in one process, each with every engine (e.g. kernels,torch: a graph model on both); "
         "default: --backend's. The device column names each row's")
        ("batch", po::value<std::string>()->default_value("auto")->value_name("B"), kBatchHelp)
        ("samples-per-pass", po::value<std::string>()->default_value("auto")->value_name("LIST"),
         "Monte Carlo samples per pass of the incremental engines on the torch backend, one row per value "
         "(e.g. 1,4,8); auto: 1 on CPU, on CUDA as many as fit the pass budget (the kernels backend always "
         "takes one)")
        ("positions", po::value<std::string>()->value_name("FIRST-LAST"),
         "mutate only these window positions (0-based, inclusive; default: all)")
        ("seed", po::value<std::uint64_t>()->default_value(1)->value_name("S"), "seed of weights, window and masks")
        ("stages", po::value<std::string>()->value_name("FILE"),
         "also write each engine's time per stage (layer) to FILE, in the same format")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("tsv|json"), "output format");
    describe_dispatch_benchmark(options);
    positional.add("what", 1);
  }

  bool uses_mpi(const std::vector<std::string>& args) const override { return !args.empty() && args[0] == "dispatch"; }

  int run(const ParsedOptions& parsed, int, char**) override {
    const auto& v = parsed.values;
    if (!v["what"].empty() && v["what"].as<std::string>() == "dispatch") return run_dispatch_benchmark(v);
    if (v["what"].empty() || v["what"].as<std::string>() != "ism")
      throw UsageError("say what to benchmark: deepmr bench ism ... or mpirun ... deepmr bench dispatch ...");
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
      choice.backend = model::parse_backend(v["backend"].empty() ? "" : v["backend"].as<std::string>(), choice.device,
                                            "backend");
    } else {
      choice = load_model_choice(v, "");
      if (!choice.more_members.empty())
        throw UsageError("bench ism times one model: give one --model (an ensemble's members cost what each costs)");
    }
    // One or more output sets ("0,1;0,1,2"): every engine is timed with each, on the same window and masks.
    std::vector<std::vector<int>> output_sets;
    {
      const std::string text = v["outputs"].as<std::string>();
      for (std::size_t start = 0; start <= text.size();) {
        const auto end = std::min(text.find(';', start), text.size());
        output_sets.push_back(resolve_output_list(choice, model::split_list(text.substr(start, end - start))));
        if (output_sets.back().empty()) throw UsageError("option 'outputs': an empty set of outputs in '" + text + "'");
        start = end + 1;
      }
    }
    const auto& stack = *choice.stack;
    const std::string window = ism::random_window(stack.options.input_length, seed);

    ism::IsmOptions options;
    options.mc_samples = v["mc-samples"].as<int>();
    options.batch = parse_batch(v["batch"].as<std::string>(), "batch");
    options.seed = seed;
    if (options.mc_samples < 1) throw UsageError("option 'mc-samples' must be at least 1");
    if (!v["positions"].empty()) options.positions = parse_position_range(v["positions"].as<std::string>(), stack.options.input_length, "positions");
    const auto engine_names = model::split_list(v["engines"].as<std::string>());
    if (engine_names.empty()) throw UsageError("option 'engines': name at least one engine");
    for (const auto& engine_name : engine_names) ism::check_engine_name(engine_name, "engines", true);
    // Samples per pass (0: auto), each timed with every incremental engine; the full engine once.
    std::vector<int> per_pass_values;
    for (const auto& item : model::split_list(v["samples-per-pass"].as<std::string>())) {
      if (item == "auto") {
        per_pass_values.push_back(0);
        continue;
      }
      std::size_t used = 0;
      int value = 0;
      try {
        value = std::stoi(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size() || value < 1)
        throw UsageError("option 'samples-per-pass': '" + item + "' is neither auto nor a whole number of at least 1");
      per_pass_values.push_back(value);
    }
    if (per_pass_values.empty()) throw UsageError("option 'samples-per-pass': give auto or at least one number");
    std::vector<model::Backend> backends{choice.backend};
    if (!v["backends"].empty()) {
      if (!v["backend"].empty()) throw UsageError("give --backend or --backends, not both");
      backends.clear();
      for (const auto& item : model::split_list(v["backends"].as<std::string>()))
        backends.push_back(model::parse_backend(item, choice.device, "backends"));
      if (backends.empty()) throw UsageError("option 'backends': name at least one backend");
    }
    struct Timed {
      std::string engine;
      int samples_per_pass;  // -1: not an incremental engine
      model::Backend backend;
    };
    std::vector<Timed> timed;
    for (model::Backend backend : backends)
      for (const auto& engine_name : engine_names) {
        if (engine_name == "full") {
          timed.push_back({engine_name, -1, backend});
          continue;
        }
        for (int per_pass : per_pass_values) timed.push_back({engine_name, per_pass, backend});
      }

    Table table({"engine", "outputs", "device", "threads", "model", "length", "mutants", "samples", "batch",
                 "samples_per_pass", "seconds",
                 "mutant_evaluations_per_second", "ratio", "cpu_seconds", "mutant_evaluations_per_cpu_second",
                 "cpu_ratio", "max_abs_diff_beta", "max_abs_diff_se", "bitwise_equal", "effective_gmac_per_second",
                 "gmac_per_mutant_strand", "peak_rss_mib"});
    Table stages({"engine", "stage", "thread_seconds", "share", "gmac", "gmac_per_thread_second",
                  "zero_delta_entries", "zero_delta_rows", "skipped_gmac", "samples_per_pass"});
    ism::Effects baseline;
    double baseline_rate = 0, baseline_cpu_rate = 0;
    const double strands = stack.options.reverse_complement_average ? 2 : 1;
    for (std::size_t row = 0; row < timed.size() * output_sets.size(); ++row) {
      const Timed& what = timed[row / output_sets.size()];
      const auto& outputs = output_sets[row % output_sets.size()];
      model::IncrementalOptions incremental;
      incremental.samples_per_pass = std::max(0, what.samples_per_pass);
      const std::string per_pass = what.samples_per_pass < 0    ? std::string("-")
                                   : what.samples_per_pass == 0 ? std::string("auto")
                                                                : std::to_string(what.samples_per_pass);
      auto run = ism::time_engine(what.engine, choice.stack, outputs, choice.device, what.backend, window, options,
                                  incremental);
      auto& effects = run.effects;
      const auto& costs = run.costs;
      const double rate = run.evaluations / run.seconds, cpu_rate = run.evaluations / run.cpu_seconds;
      table.add_row();
      table.set("engine", run.engine);
      table.set("outputs", outputs.size());
      table.set("device", run.device);
      table.set("threads", model::compute_threads());
      table.set("model", stack.source);
      table.set("length", stack.options.input_length);
      table.set("mutants", effects.mutants.size());
      table.set("samples", options.mc_samples);
      table.set("batch", options.batch > 0 ? std::to_string(options.batch) : std::string("auto"));
      table.set("samples_per_pass", per_pass);
      table.set("seconds", run.seconds);
      table.set("mutant_evaluations_per_second", rate);
      table.set("cpu_seconds", run.cpu_seconds);
      table.set("mutant_evaluations_per_cpu_second", cpu_rate);
      // Work a full forward pass per mutant and strand would cost, per second.
      table.set("effective_gmac_per_second", run.evaluations * strands * stack.forward_macs() / run.seconds / 1e9);
      double macs = 0;
      for (const auto& cost : costs) macs += cost.macs;
      // Work actually done per mutant and strand (reference passes included); a full pass without costs.
      table.set("gmac_per_mutant_strand",
                costs.empty() ? stack.forward_macs() / 1e9 : macs / (run.evaluations * strands) / 1e9);
      table.set("peak_rss_mib", run.peak_rss_mib);
      if (row == 0) {
        baseline = std::move(effects);
        baseline_rate = rate;
        baseline_cpu_rate = cpu_rate;
        table.set("ratio", 1.0);
        table.set("cpu_ratio", 1.0);
        table.set("max_abs_diff_beta", 0.0);
        table.set("max_abs_diff_se", 0.0);
        table.set("bitwise_equal", "yes");
      } else {
        // Over the baseline's outputs that this row kept too.
        double beta = 0, se = 0;
        const std::size_t nb = baseline.outputs.size(), n = effects.outputs.size();
        for (std::size_t k = 0; k < nb; ++k) {
          const auto at = std::find(effects.outputs.begin(), effects.outputs.end(), baseline.outputs[k]);
          if (at == effects.outputs.end()) continue;
          const auto j = static_cast<std::size_t>(at - effects.outputs.begin());
          for (std::size_t m = 0; m < baseline.mutants.size(); ++m) {
            beta = std::max(beta, std::abs(effects.beta[m * n + j] - baseline.beta[m * nb + k]));
            se = std::max(se, std::abs(effects.se[m * n + j] - baseline.se[m * nb + k]));
          }
        }
        table.set("ratio", rate / baseline_rate);
        table.set("cpu_ratio", cpu_rate / baseline_cpu_rate);
        table.set("max_abs_diff_beta", beta);
        table.set("max_abs_diff_se", se);
        // Every beta and se the same bits as the baseline's (same outputs only).
        const bool same_outputs = effects.outputs == baseline.outputs;
        const auto same_bits = [](const std::vector<double>& a, const std::vector<double>& b) {
          return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
        };
        table.set("bitwise_equal", !same_outputs ? "-"
                                   : same_bits(effects.beta, baseline.beta) && same_bits(effects.se, baseline.se) ? "yes"
                                                                                                                  : "no");
      }
      // Stage seconds are thread-seconds (groups run in parallel): shares are of their sum.
      double stage_seconds = 0;
      for (const auto& cost : costs) stage_seconds += cost.seconds;
      for (const auto& cost : costs) {
        stages.add_row();
        stages.set("engine", run.engine);
        stages.set("samples_per_pass", per_pass);
        stages.set("stage", cost.stage);
        stages.set("thread_seconds", cost.seconds);
        stages.set("share", stage_seconds > 0 ? cost.seconds / stage_seconds : 0.0);
        stages.set("gmac", cost.macs / 1e9);
        stages.set("gmac_per_thread_second", cost.seconds > 0 ? cost.macs / cost.seconds / 1e9 : 0.0);
        // Of the differences the layer received: the fraction exactly zero, by entry and by row.
        stages.set("zero_delta_entries", cost.delta_entries > 0 ? cost.zero_entries / cost.delta_entries : 0.0);
        stages.set("zero_delta_rows", cost.delta_rows > 0 ? cost.zero_rows / cost.delta_rows : 0.0);
        stages.set("skipped_gmac", cost.skipped_macs / 1e9);
      }
    }
    table.write(std::cout, format);
    if (!v["stages"].empty()) {
      std::ofstream out(v["stages"].as<std::string>());
      stages.write(out, format);
      if (!out) throw InputError("cannot write " + v["stages"].as<std::string>());
    }
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_bench_command() { return std::make_unique<BenchCommand>(); }

}  // namespace deepmr::app
