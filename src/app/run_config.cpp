#include "deepmr/app/batch_option.hpp"
#include "deepmr/app/run_config.hpp"

#include <algorithm>
#include <boost/any.hpp>
#include <filesystem>
#include <set>
#include <sstream>

#include "deepmr/app/position_range.hpp"
#include "deepmr/app/region_options.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

// Keys that never change a result: how fast, where and with what resources the run goes.
const std::set<std::string>& operational_keys() {
  static const std::set<std::string> keys = {"run.store",   "run.device",          "run.backend",
                                             "run.threads", "run.gpus-per-worker", "run.dispatch-batch", "run.overlap-mr", "run.mr-threads",
                                             "run.progress-interval", "analysis.batch"};
  return keys;
}

// Keys naming files: compared on resume by canonical path (their contents by run/input_digests).
const std::set<std::string>& path_keys() {
  static const std::set<std::string> keys = {"model.file", "model.targets", "regions.fasta", "regions.peaks",
                                             "regions.sweep", "regions.sequences"};
  return keys;
}

// The same file by any spelling (relative, absolute, through links) gives the same text.
std::string canonical_path(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return ec ? path : canonical.string();
}

std::string value_text(const boost::any& value) {
  if (value.empty()) return "";
  if (auto* s = boost::any_cast<std::string>(&value)) return *s;
  if (auto* i = boost::any_cast<int>(&value)) return std::to_string(*i);
  if (auto* i = boost::any_cast<std::int64_t>(&value)) return std::to_string(*i);
  if (auto* u = boost::any_cast<std::uint64_t>(&value)) return std::to_string(*u);
  if (auto* d = boost::any_cast<double>(&value)) return format_number(*d);
  if (auto* b = boost::any_cast<bool>(&value)) return *b ? "true" : "false";
  if (auto* v = boost::any_cast<std::vector<std::string>>(&value)) {
    std::string out;
    for (const auto& item : *v) out += (out.empty() ? "" : " ; ") + item;
    return out;
  }
  return "?";
}

}  // namespace

void describe_run_options(po::options_description& options) {
  describe_model_options(options, ModelKeys::run_config());
  options.add_options()
      ("analysis.outcome", po::value<std::vector<std::string>>()->composing()->value_name("OUTPUT"),
       "an outcome output (e.g. HepG2|DNase|None): a name from the targets or a 0-based index; repeat for several "
       "outcomes from one mutagenesis (the first is the primary one)")
      ("analysis.network", po::value<bool>()->default_value(false)->implicit_value(true)->value_name("BOOL"),
       "every exposure is also an outcome: fit every ordered pair of exposures (and each exposure on each outcome)")
      ("analysis.exposure", po::value<std::vector<std::string>>()->composing()->value_name("NAME=OUTPUT"),
       "the model output of an exposure when its name in [regions] is not itself an output name or index; repeat")
      ("analysis.exposure-pattern", po::value<std::string>()->value_name("REGEX"),
       "sweep or sequences sources: every output whose name matches (e.g. HepG2\\|.*) is an exposure, the outcome "
       "excepted, unless regions.exposures lists them")
      ("analysis.seed", po::value<std::string>()->default_value("1")->value_name("S"),
       "seed of the region sampling, the dropout masks and the bootstraps")
      ("analysis.mc-samples", po::value<int>()->default_value(50)->value_name("N"),
       "Monte Carlo dropout samples (at least 2: the SEs of the effects are their spread)")
      ("analysis.engine", po::value<std::string>()->default_value("auto")->value_name("E"),
       "mutagenesis engine: full, incremental or auto")
      ("analysis.batch", po::value<std::string>()->default_value("auto")->value_name("B"), kBatchHelp)
      ("analysis.mr-methods", po::value<std::string>()->default_value("egger,ivw,median-weighted,mode-weighted")
                                  ->value_name("LIST"),
       "MR methods per unit; the first is the one the summary table reports")
      ("analysis.distribution", po::value<std::string>()->default_value("normal")->value_name("D"),
       "normal or t, for MR intervals and p-values")
      ("analysis.bootstrap", po::value<std::int64_t>()->default_value(1000)->value_name("N"),
       "bootstrap draws for the SEs of the medians and the mode")
      ("analysis.presso-distributions", po::value<std::int64_t>()->default_value(1000)->value_name("N"),
       "simulated data sets of mr-presso's global and outlier tests (MRPRESSO's NbDistribution)")
      ("analysis.min-abs-z-x", po::value<double>()->default_value(0)->value_name("Z"),
       "use only instruments with |bx / bxse| >= Z (0: all 3L mutants)")
      ("analysis.ivw-weights", po::value<std::string>()->default_value("simple")->value_name("simple|delta"),
       "weights of ivw, ivw-fixed and ivw-random: simple (1 / byse^2) or delta (second-order, with each mutant's "
       "correlation of its paired exposure and outcome differences over the samples as psi)")
      ("analysis.jackknife-groups", po::value<int>()->default_value(10)->value_name("G"),
       "groups of the jackknife over the Monte Carlo samples, whose SE of every fit accounts for the masks "
       "shared by all mutants and both outputs (min(G, mc-samples) are used; 0: none)")
      ("analysis.meta-se", po::value<std::string>()->default_value("standard")->value_name("standard|jackknife"),
       "the per-region SE the meta-analysis weights by: the method's standard one or the jackknife's")
      ("analysis.positions", po::value<std::string>()->value_name("FIRST-LAST"),
       "mutate only these window positions (0-based, inclusive; default: all), the others kept as context")
      ("analysis.tau2", po::value<std::string>()->default_value("DL")->value_name("METHOD"),
       "tau^2 estimator of the meta-analysis: DL, REML, ML, PM, HE, SJ, EB or FE")
      ("analysis.knha", po::value<bool>()->default_value(false)->implicit_value(true)->value_name("BOOL"),
       "Knapp-Hartung adjustment of the meta-analysis")
      ("run.store", po::value<std::string>()->default_value("deepmr.h5")->value_name("FILE"),
       "the HDF5 store; its journal is FILE.journal/")
      ("run.store-effects", po::value<bool>()->default_value(false)->implicit_value(true)->value_name("BOOL"),
       "also store every mutant's beta and se (float32; 3L x (1 + exposures) per region)")
      ("run.gpus-per-worker", po::value<int>()->default_value(1)->value_name("G"),
       "GPUs (or, on the CPU, sample groups) per worker rank: its MC samples are split across them")
      ("run.dispatch-batch", po::value<std::int64_t>()->default_value(16)->value_name("R"),
       "most regions per work message (batches shrink near the end)")
      ("run.overlap-mr", po::value<bool>()->default_value(true)->implicit_value(true)->value_name("BOOL"),
       "fit a region's MR on its own thread while the next region's mutagenesis runs (results unchanged)")
      ("run.mr-threads", po::value<std::string>()->default_value("auto")->value_name("T"),
       "threads of a region's median and mode bootstraps (results unchanged); auto: the rank's threads on a GPU, "
       "else 1")
      ("run.progress-interval", po::value<double>()->default_value(30)->value_name("SECONDS"),
       "seconds between progress lines on stderr (0: none)");
  describe_region_options(options);
}

RunConfig read_run_config(const po::variables_map& values) {
  RunConfig c;
  if (values["analysis.outcome"].empty()) throw UsageError("missing required option 'analysis.outcome'");
  c.outcomes = values["analysis.outcome"].as<std::vector<std::string>>();
  for (std::size_t i = 0; i < c.outcomes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (c.outcomes[i] == c.outcomes[j])
        throw UsageError("option 'analysis.outcome' lists '" + c.outcomes[i] + "' twice");
  c.network = values["analysis.network"].as<bool>();
  if (values.count("analysis.exposure"))
    for (const auto& entry : values["analysis.exposure"].as<std::vector<std::string>>()) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
        throw UsageError("option 'analysis.exposure': '" + entry + "' should be NAME=OUTPUT");
      c.exposure_outputs.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
  if (!values["analysis.exposure-pattern"].empty()) c.exposure_pattern = values["analysis.exposure-pattern"].as<std::string>();
  c.seed = unsigned_option(values, "analysis.seed");
  c.mc_samples = values["analysis.mc-samples"].as<int>();
  if (c.mc_samples < 2)
    throw UsageError("option 'analysis.mc-samples' must be at least 2, not " + std::to_string(c.mc_samples) +
                     ": the standard errors of the effects are the spread of paired samples (deterministic "
                     "effects: deepmr ism --dropout off)");

  c.engine = values["analysis.engine"].as<std::string>();
  if (c.engine != "full" && c.engine != "incremental" && c.engine != "auto")
    throw UsageError("option 'analysis.engine': use full, incremental or auto, not '" + c.engine + "'");
  c.batch = parse_batch(values["analysis.batch"].as<std::string>(), "analysis.batch");
  c.methods = stats::parse_mr_methods(values["analysis.mr-methods"].as<std::string>(), "analysis.mr-methods");
  c.mr.distribution = stats::parse_distribution(values["analysis.distribution"].as<std::string>(), "analysis.distribution");
  const auto bootstrap = values["analysis.bootstrap"].as<std::int64_t>();
  if (bootstrap < 0) throw UsageError("option 'analysis.bootstrap' must be 0 or more draws");
  if (bootstrap == 1)
    throw UsageError("option 'analysis.bootstrap': 1 draw gives no standard error (use 0 for none, or at least 2)");
  c.mr.bootstrap_draws = static_cast<std::size_t>(bootstrap);
  const auto presso = values["analysis.presso-distributions"].as<std::int64_t>();
  if (presso < 1) throw UsageError("option 'analysis.presso-distributions' must be at least 1");
  c.mr.presso_distributions = static_cast<std::size_t>(presso);
  c.mr.min_abs_z_x = values["analysis.min-abs-z-x"].as<double>();
  if (!(c.mr.min_abs_z_x >= 0)) throw UsageError("option 'analysis.min-abs-z-x' must be 0 or more");
  c.mr.ivw_weights = stats::parse_ivw_weights(values["analysis.ivw-weights"].as<std::string>(), "analysis.ivw-weights");
  if (c.mr.ivw_weights == stats::IvwWeights::delta && !stats::weighs_ivw(c.methods))
    throw UsageError("option 'analysis.ivw-weights': delta weighs only ivw, ivw-fixed and ivw-random, and "
                     "analysis.mr-methods has none of them");
  const int groups = values["analysis.jackknife-groups"].as<int>();
  if (groups < 0 || groups == 1)
    throw UsageError("option 'analysis.jackknife-groups' must be 0 (none) or at least 2 groups, not " +
                     std::to_string(groups));
  c.jackknife_groups = std::min(groups, c.mc_samples);
  const auto& meta_se = values["analysis.meta-se"].as<std::string>();
  if (meta_se != "standard" && meta_se != "jackknife")
    throw UsageError("option 'analysis.meta-se': '" + meta_se + "' is neither standard nor jackknife");
  c.meta_uses_jackknife = meta_se == "jackknife";
  if (c.meta_uses_jackknife && c.jackknife_groups == 0)
    throw UsageError("option 'analysis.meta-se' is jackknife but analysis.jackknife-groups is 0: give at least 2 groups");
  if (!values["analysis.positions"].empty()) {
    c.positions_text = values["analysis.positions"].as<std::string>();
    check_position_range_syntax(c.positions_text, "analysis.positions");
  }
  c.meta.tau2_method = stats::parse_tau2_method(values["analysis.tau2"].as<std::string>(), "analysis.tau2");
  c.meta.knha = values["analysis.knha"].as<bool>();
  c.store = values["run.store"].as<std::string>();
  if (c.store.empty()) throw UsageError("option 'run.store' must name a file");
  c.store_effects = values["run.store-effects"].as<bool>();
  c.gpus_per_worker = values["run.gpus-per-worker"].as<int>();
  if (c.gpus_per_worker < 1) throw UsageError("option 'run.gpus-per-worker' must be at least 1");
  const auto dispatch = values["run.dispatch-batch"].as<std::int64_t>();
  if (dispatch < 1) throw UsageError("option 'run.dispatch-batch' must be at least 1");
  c.dispatch_batch = static_cast<std::uint64_t>(dispatch);
  c.overlap_mr = values["run.overlap-mr"].as<bool>();
  c.mr_threads = parse_count_or_auto(values["run.mr-threads"].as<std::string>(), "run.mr-threads");
  c.progress_seconds = values["run.progress-interval"].as<double>();
  if (!(c.progress_seconds >= 0)) throw UsageError("option 'run.progress-interval' must be 0 or more seconds");
  return c;
}

std::map<std::string, std::string> result_keys(const po::variables_map& values) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : values) {
    const bool config_key = key.rfind("model.", 0) == 0 || key.rfind("analysis.", 0) == 0 ||
                            key.rfind("regions.", 0) == 0 || key.rfind("run.", 0) == 0;
    if (!config_key || operational_keys().count(key)) continue;
    out[key] = value_text(value.value());
    if (!path_keys().count(key)) continue;
    if (key == "regions.peaks") {
      std::string canonical;
      for (const auto& entry : value.as<std::vector<std::string>>()) {
        const auto eq = entry.find('=');
        canonical += (canonical.empty() ? "" : " ; ") +
                     (eq == std::string::npos ? canonical_path(entry)
                                              : entry.substr(0, eq + 1) + canonical_path(entry.substr(eq + 1)));
      }
      out[key] = canonical;
    } else if (const auto* files = boost::any_cast<std::vector<std::string>>(&value.value())) {
      std::string canonical;  // model.file: an ensemble's members, each canonical, in order
      for (const auto& file : *files) canonical += (canonical.empty() ? "" : " ; ") + canonical_path(file);
      out[key] = canonical;
    } else {
      out[key] = canonical_path(out[key]);
    }
  }
  return out;
}

}  // namespace deepmr::app
