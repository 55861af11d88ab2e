#pragma once
// Everything a run needs before its main loop, the same on every rank: the configuration, the model
// and its resolved outcome and exposures, the plan (regions and units) and the provenance that goes
// into the journal's manifest and the store. Plain values: app/prepare_run.hpp builds it from the
// command line and config files.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deepmr/genome/plan.hpp"
#include "deepmr/genome/plan_builder.hpp"
#include "deepmr/model/model_choice.hpp"
#include "deepmr/run/fit_units.hpp"
#include "deepmr/run/run_config.hpp"
#include "deepmr/store/journal.hpp"
#include "deepmr/store/store_writer.hpp"

namespace deepmr::run {

// Where a run's settings came from (the store's provenance attributes and the resume check).
struct RunProvenance {
  std::string config_text;  // the config file verbatim
  std::string config_path;  // empty without --config
  std::string versions;     // `deepmr --version`
  // Every key that shapes the results with its effective value (what a resume must match).
  std::map<std::string, std::string> result_keys;
};

struct RunSetup {
  RunConfig config;
  model::ModelChoice model;
  genome::PlanSpec plan_spec;
  genome::Plan plan;
  std::vector<int> outcome_outputs;   // model output of each outcome (the first is the primary)
  std::vector<int> exposure_outputs;  // model output of each plan exposure (plan order)
  FitUnits units;                     // (exposure, outcome, region): what is fitted and stored
  std::string model_sha256;
  std::string plan_digest;  // SHA-256 of the plan's regions.bed and units.tsv
  RunProvenance provenance;

  std::string output_name(int output) const { return model::output_label(model, output); }
  // The model outputs a region's mutagenesis computes, each once: the outcomes, then the exposures'
  // outputs that are not outcomes, in exposure order.
  std::vector<int> network_outputs() const;
  std::uint64_t run_id = 0;  // the journal's Manifest::run_id(), set by run_deep_mr on every rank

  // What a resume must match (journal manifest): result keys, inputs by content
  // (run/input_digests.hpp: reads every planned window, so one rank calls it), plan digest.
  store::Manifest manifest() const;
  // The store's shape and provenance.
  store::StoreLayout store_layout() const;
};

// The plan's regions.bed and units.tsv, concatenated: what plan_digest hashes.
std::string plan_text(const genome::Plan& plan);

}  // namespace deepmr::run
