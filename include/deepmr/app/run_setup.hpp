#pragma once
// Everything a run needs before its main loop, built the same way on every rank from the config:
// the model, the resolved outcome and exposures, and the plan (regions and units).

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/app/model_options.hpp"
#include "deepmr/app/run_config.hpp"
#include "deepmr/genome/plan.hpp"
#include "deepmr/store/journal.hpp"
#include "deepmr/store/run_store.hpp"

namespace deepmr::app {

struct RunSetup {
  ParsedOptions options;
  RunConfig config;
  ModelChoice model;
  genome::PlanSpec plan_spec;
  genome::Plan plan;
  int outcome_output = -1;
  std::vector<int> exposure_outputs;  // model output of each plan exposure (plan order)
  std::string model_sha256;
  std::string plan_digest;  // SHA-256 of the plan's regions.bed and units.tsv

  std::string output_name(int output) const { return output_label(model, output); }
  // What a resume must match (journal manifest).
  store::Manifest manifest() const;
  // The store's shape and provenance.
  store::StoreLayout store_layout() const;
};

// Reads the config, loads the model (with `threads` compute threads; 0: leave as configured),
// resolves outputs and builds the plan. Deterministic: every rank gets the same setup.
RunSetup prepare_run(const ParsedOptions& options);

// The plan's regions.bed and units.tsv, concatenated: what plan_digest hashes.
std::string plan_text(const genome::Plan& plan);

}  // namespace deepmr::app
