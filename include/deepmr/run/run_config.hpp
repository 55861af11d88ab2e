#pragma once
// The configuration of a Deep MR run, as plain values: the [analysis] and [run] keys of a run config
// (docs/config.md; app/run_config.hpp reads them from options and files).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/mr.hpp"

namespace deepmr::run {

struct RunConfig {
  // [analysis]
  // analysis.outcome (repeatable: the first is the run's primary outcome) and analysis.network
  // (every exposure is an outcome too: every ordered pair of them is fitted).
  std::vector<std::string> outcomes;                            // output names or indices
  bool network = false;
  std::vector<std::pair<std::string, std::string>> exposure_outputs;  // exposure name -> output (name or index)
  std::string exposure_pattern;                                 // regex over output names (sweep, sequences)
  std::uint64_t seed = 1;
  int mc_samples = 50;
  std::string engine = "auto";
  int batch = 0;  // analysis.batch; 0 (auto): chosen for the device (ism::batch_for)
  std::vector<stats::MrMethod> methods;
  stats::MrOptions mr;
  stats::MetaOptions meta;
  // analysis.jackknife-groups: G of the grouped jackknife over the samples, min(G, N) applied
  // (0: none); analysis.meta-se: the SE each region enters the meta-analysis with.
  int jackknife_groups = 10;
  // A deep ensemble of K models (model.file repeated): mc_samples becomes K x N, or K where no
  // member has dropout layers (app::prepare_run), and member_dropout says which.
  bool member_dropout = true;
  bool meta_uses_jackknife = false;
  // analysis.positions: mutate only these window positions (0-based; empty: all 3L mutants). The
  // text as given, and the positions once the window length is known (app::prepare_run).
  std::string positions_text;
  std::vector<int> positions;
  // [regions] (window_length and exposures from the pattern are filled in by the run)
  // [run]
  std::string store = "deepmr.h5";
  bool store_effects = false;
  int gpus_per_worker = 1;
  std::uint64_t dispatch_batch = 16;
  bool overlap_mr = true;  // a region's MR fits run while the next region's mutagenesis does
  // run.mr-threads: threads of a region's median and mode bootstraps (speed only); 0: auto, the
  // rank's compute threads when its device is a GPU (its cores are otherwise idle), else 1.
  int mr_threads = 0;
  double progress_seconds = 30;
};

}  // namespace deepmr::run
