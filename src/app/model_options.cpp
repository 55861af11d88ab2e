#include "deepmr/app/model_options.hpp"

#include <thread>

#include "deepmr/common/error.hpp"
#include "deepmr/model/ensemble_network.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/targets.hpp"

namespace deepmr::app {

ModelKeys ModelKeys::command_line() {
  return {"model", "targets", "alphabet", "reverse-complement", "input-length", "reduce", "device", "backend", "threads"};
}

ModelKeys ModelKeys::run_config() {
  return {"model.file", "model.targets", "model.alphabet", "model.reverse-complement", "model.input-length",
          "model.reduce", "run.device", "run.backend", "run.threads"};
}

void describe_model_options(po::options_description& options, const ModelKeys& keys) {
  // One process on the command line takes every core; a run shares them among a node's ranks.
  auto threads = po::value<int>()->value_name("T");
  if (keys.threads == ModelKeys::command_line().threads)
    threads->default_value(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  options.add_options()
      (keys.file.c_str(), po::value<std::vector<std::string>>()->composing()->value_name("FILE"),
       "TorchScript model (scripts/export_model.py writes one); repeated: the members of a deep ensemble (sample n "
       "runs member n mod K)")
      (keys.targets.c_str(), po::value<std::string>()->value_name("FILE"),
       "output names, one per line (default: the names stored in the model, if any)")
      (keys.alphabet.c_str(), po::value<std::string>()->value_name("ORDER"),
       "input channel order, e.g. ACGT or AGCT (default: from the model file, else ACGT)")
      (keys.reverse_complement.c_str(), po::value<std::string>()->value_name("on|off"),
       "average forward and reverse-complement outputs (default: from the model file, else off)")
      (keys.input_length.c_str(), po::value<int>()->value_name("L"),
       "input length (default: from the model file or its layers)")
      (keys.reduce.c_str(), po::value<std::vector<std::string>>()->composing()->value_name("HEAD=KIND[:FROM-TO]"),
       "a graph model's profile head reduced to one output per task over positions FROM-TO (0-based, inclusive; "
       "default all) by sum, mean or logsumexp, e.g. profile=sum:400-599; repeatable; replaces the model's own "
       "(deepmr_reduce)")
      (keys.device.c_str(), po::value<std::string>()->default_value("auto")->value_name("D"),
       "cpu, cuda, cuda:K or auto (a run binds GPUs per node-local rank)")
      (keys.backend.c_str(), po::value<std::string>()->value_name("B"),
       "kernels (deterministic CPU kernels; CPU default for layer stacks; graph models: the full engine) or torch "
       "(LibTorch operators; CUDA default, and graph models' default)")
      (keys.threads.c_str(), threads,
       "compute threads (per rank under MPI; default: the cores, shared among a node's ranks); results never depend on it");
}

void describe_model_options(po::options_description& options, const std::string& prefix) {
  if (!prefix.empty()) throw InternalError("describe_model_options: use ModelKeys for prefixed options");
  describe_model_options(options, ModelKeys::command_line());
}

ModelChoice load_model_choice(const po::variables_map& values, const ModelKeys& keys,
                              const std::optional<model::DataLength>& data_length) {
  auto get = [&](const std::string& key) -> const po::variable_value& { return values[key]; };
  if (get(keys.file).empty()) throw UsageError("missing required option '" + keys.file + "'");
  ModelChoice choice;
  choice.threads = get(keys.threads).empty() ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                                             : get(keys.threads).as<int>();
  if (choice.threads < 1) throw UsageError("option '" + keys.threads + "' must be at least 1");
  model::ModelOverrides overrides;
  if (!get(keys.alphabet).empty()) overrides.alphabet = get(keys.alphabet).as<std::string>();
  if (!get(keys.input_length).empty()) {
    overrides.input_length = get(keys.input_length).as<int>();
    if (*overrides.input_length < 1) throw UsageError("option '" + keys.input_length + "' must be positive");
  }
  if (!get(keys.reverse_complement).empty()) {
    const auto& text = get(keys.reverse_complement).as<std::string>();
    if (text != "on" && text != "off")
      throw UsageError("option '" + keys.reverse_complement + "': use on or off, not '" + text + "'");
    overrides.reverse_complement_average = text == "on";
  }
  model::set_threads(choice.threads);
  choice.device = model::parse_device(get(keys.device).as<std::string>());
  const std::string backend_text = get(keys.backend).empty() ? "" : get(keys.backend).as<std::string>();
  choice.backend = model::parse_backend(backend_text, choice.device, keys.backend);
  if (!get(keys.reduce).empty()) overrides.head_reductions = get(keys.reduce).as<std::vector<std::string>>();
  const auto& files = get(keys.file).as<std::vector<std::string>>();
  std::vector<const model::LayerStack*> members;
  const bool targets_given = !get(keys.targets).empty();
  for (const auto& file : files)
    for (auto& loaded : model::load_model_members(file, overrides, data_length)) {  // an ensemble file: each member
      auto stack = std::make_shared<model::LayerStack>(std::move(loaded));
      // A targets file names every member's outputs: the members' own names no longer need to agree.
      if (targets_given && (files.size() > 1 || !stack->member.empty())) stack->target_names.clear();
      if (overrides.head_reductions && !stack->graph)
        throw UsageError("option '" + keys.reduce + "' reduces a graph model's profile heads, and " + file +
                         " is a layer stack (nn.Sequential), whose outputs are one value per task already");
      // A graph model's default backend is torch everywhere, the backend of its incremental engine;
      // --backend kernels runs it on the full engine (docs/models.md, "Graphs").
      if (stack->graph && backend_text.empty()) choice.backend = model::Backend::torch;
      members.push_back(stack.get());
      if (!choice.stack)
        choice.stack = std::move(stack);
      else
        choice.more_members.push_back(std::move(stack));
    }
  if (members.size() > 1) model::check_ensemble_members(members, {});  // named by their labels
  choice.target_names =
      model::output_names(*choice.stack, get(keys.targets).empty() ? "" : get(keys.targets).as<std::string>());
  return choice;
}

ModelChoice load_model_choice(const po::variables_map& values, const std::string& prefix,
                              const std::optional<model::DataLength>& data_length) {
  if (!prefix.empty()) throw InternalError("load_model_choice: use ModelKeys for prefixed options");
  return load_model_choice(values, ModelKeys::command_line(), data_length);
}

}  // namespace deepmr::app
