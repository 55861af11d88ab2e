#pragma once
// The [regions] keys of a config file (options regions.<key>): where a run's regions come from and
// how they are sampled. Shared by `deepmr plan` and `deepmr run`. See docs/config.md.

#include "deepmr/app/options.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/genome/plan.hpp"
#include "deepmr/genome/plan_builder.hpp"
#include "deepmr/model/model_file.hpp"

namespace deepmr::app {

void describe_region_options(po::options_description& options);

// The plan spec the [regions] keys describe; the caller sets seed and window_length. UsageError
// naming the key for a bad value, a missing key or a key that does not fit the source.
// default_exposures stand in for regions.exposures when it is not given (sweep, and sequences
// without labels): e.g. the outputs matching analysis.exposure-pattern.
genome::PlanSpec read_region_options(const po::variables_map& values,
                                     const std::vector<std::string>& default_exposures = {});

// With regions.source = sequences, the length of the file's sequences (the windows the run will
// read), for a model that accepts several input lengths; otherwise none. Opens the file (InputError
// as the run's own reading of it would give).
std::optional<model::DataLength> sequences_length(const po::variables_map& values);

}  // namespace deepmr::app
