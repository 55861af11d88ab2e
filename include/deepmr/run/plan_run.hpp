#pragma once
// The plan of a run: its regions and units from the [regions] spec, each plan exposure mapped to a
// model output, and the digests a resume compares (docs/genome.md, docs/config.md).

#include "deepmr/genome/plan.hpp"
#include "deepmr/genome/plan_builder.hpp"
#include "deepmr/run/run_setup.hpp"

namespace deepmr::run {

// Builds the plan: opens the FASTA (peaks, sweep; its .fai is written next to it when absent) or
// the sequence file (sequences, through the store layer). InputError naming the file.
genome::Plan make_plan(const genome::PlanSpec& spec);

// Completes a setup whose config, model, plan_spec and listed outcome_outputs are set: the plan,
// the exposures' model outputs (analysis.exposure maps a name, else the name is an output), the
// network's outcomes (analysis.network), the fit units, the model's SHA-256 and the plan digest. ModelError or UsageError naming the exposure or the key.
void plan_run(RunSetup& setup);

// The part of plan_run after the plan is made (setup.plan set): exposure outputs, the network's
// outcomes, the fit units.
void resolve_units(RunSetup& setup);

}  // namespace deepmr::run
