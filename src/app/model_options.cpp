#include "deepmr/app/model_options.hpp"

#include <thread>

#include "deepmr/common/error.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {

void describe_model_options(po::options_description& options, const std::string& prefix) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  options.add_options()
      ((prefix + "model").c_str(), po::value<std::string>()->value_name("FILE"),
       "TorchScript model (scripts/export_model.py writes one)")
      ((prefix + "targets").c_str(), po::value<std::string>()->value_name("FILE"),
       "output names, one per line (default: the names stored in the model, if any)")
      ((prefix + "device").c_str(), po::value<std::string>()->default_value("auto")->value_name("D"),
       "cpu, cuda, cuda:K or auto")
      ((prefix + "backend").c_str(), po::value<std::string>()->value_name("B"),
       "kernels (deterministic CPU kernels; CPU default) or torch (LibTorch operators; CUDA default)")
      ((prefix + "threads").c_str(), po::value<int>()->default_value(static_cast<int>(cores))->value_name("T"),
       "compute threads (per rank under MPI); results never depend on it")
      ((prefix + "alphabet").c_str(), po::value<std::string>()->value_name("ORDER"),
       "input channel order, e.g. ACGT or AGCT (default: from the model file, else ACGT)")
      ((prefix + "reverse-complement").c_str(), po::value<std::string>()->value_name("on|off"),
       "average forward and reverse-complement outputs (default: from the model file, else off)")
      ((prefix + "input-length").c_str(), po::value<int>()->value_name("L"),
       "input length (default: from the model file or its layers)");
}

ModelChoice load_model_choice(const po::variables_map& values, const std::string& prefix) {
  auto get = [&](const std::string& key) -> const po::variable_value& { return values[prefix + key]; };
  if (get("model").empty()) throw UsageError("missing required option '" + prefix + "model'");
  const int threads = get("threads").as<int>();
  if (threads < 1) throw UsageError("option '" + prefix + "threads' must be at least 1");
  model::ModelOverrides overrides;
  if (!get("alphabet").empty()) overrides.alphabet = get("alphabet").as<std::string>();
  if (!get("input-length").empty()) {
    overrides.input_length = get("input-length").as<int>();
    if (*overrides.input_length < 1) throw UsageError("option '" + prefix + "input-length' must be positive");
  }
  if (!get("reverse-complement").empty()) {
    const auto& text = get("reverse-complement").as<std::string>();
    if (text != "on" && text != "off")
      throw UsageError("option '" + prefix + "reverse-complement': use on or off, not '" + text + "'");
    overrides.reverse_complement_average = text == "on";
  }

  ModelChoice choice;
  model::set_threads(threads);
  choice.device = model::parse_device(get("device").as<std::string>());
  choice.backend = model::default_backend(choice.device);
  if (!get("backend").empty()) {
    const auto& text = get("backend").as<std::string>();
    if (text == "kernels") choice.backend = model::Backend::kernels;
    else if (text == "torch") choice.backend = model::Backend::torch;
    else throw UsageError("option '" + prefix + "backend': use kernels or torch, not '" + text + "'");
  }
  auto stack = std::make_shared<model::LayerStack>(model::load_model_file(get("model").as<std::string>(), overrides));
  choice.target_names = get("targets").empty() ? stack->target_names
                                               : model::read_targets_file(get("targets").as<std::string>());
  if (!choice.target_names.empty() && static_cast<int>(choice.target_names.size()) != stack->output_count())
    throw ModelError((get("targets").empty() ? stack->source : get("targets").as<std::string>()) + ": names " +
                     std::to_string(choice.target_names.size()) + " outputs but the model has " +
                     std::to_string(stack->output_count()));
  choice.stack = std::move(stack);
  return choice;
}

std::vector<int> resolve_output_list(const ModelChoice& choice, const std::vector<std::string>& requested) {
  if (requested.empty()) throw UsageError("no outputs given (e.g. --outputs 'HepG2|DNase|None,295')");
  return model::resolve_outputs(requested, choice.target_names, choice.stack->output_count());
}

std::string output_label(const ModelChoice& choice, int output) {
  return choice.target_names.empty() ? std::to_string(output) : choice.target_names[output];
}

}  // namespace deepmr::app
