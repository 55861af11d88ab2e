#pragma once
// The end of a run: the HDF5 store assembled from the journal by every rank together, with the
// random-effects meta-analysis of each exposure's regions per MR method (docs/store.md).

#include <cstdint>
#include <map>
#include <string>

#include "deepmr/dist/communicator.hpp"
#include "deepmr/run/run_setup.hpp"

namespace deepmr::run {

struct AssemblyOutcome {
  std::uint64_t units_done = 0, units_failed = 0, duplicate_records = 0, torn_parts = 0;  // rank 0
};

// Collective. Writes `setup.config.store` from its journal; `text_attributes` and
// `int_attributes` are added to the root (identical on every rank).
AssemblyOutcome assemble_store(const dist::Communicator& comm, const RunSetup& setup,
                               const std::map<std::string, std::string>& text_attributes,
                               const std::map<std::string, std::int64_t>& int_attributes,
                               const std::map<std::string, double>& double_attributes = {});

}  // namespace deepmr::run
