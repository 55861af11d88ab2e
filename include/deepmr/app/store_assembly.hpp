#pragma once
// The end of a run: the HDF5 store assembled from the journal by every rank together, with the
// random-effects meta-analysis of each exposure's regions per MR method (docs/store.md).

#include <cstdint>
#include <map>
#include <string>

#include "deepmr/app/run_setup.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/dist/communicator.hpp"
#include "deepmr/store/run_store.hpp"

namespace deepmr::app {

struct AssemblyOutcome {
  std::uint64_t units_done = 0, units_failed = 0, duplicate_records = 0, torn_parts = 0;  // rank 0
};

// Collective. Writes `setup.config.store` from its journal; `text_attributes` and
// `int_attributes` are added to the root (identical on every rank).
AssemblyOutcome assemble_store(const dist::Communicator& comm, const RunSetup& setup,
                               const std::map<std::string, std::string>& text_attributes,
                               const std::map<std::string, std::int64_t>& int_attributes,
                               const std::map<std::string, double>& double_attributes = {});

// The per-exposure table of a store for one method: exposure, output, regions, estimate, se,
// ci_low, ci_high, pvalue, tau2, tau, i2, status.
Table summary_table(const store::StoreContents& store, std::size_t method);
// Every unit's fits, one row per unit and method.
Table units_table(const store::StoreContents& store);
// "850 of 900 units done (12 failed); the run is complete" and the like.
std::string completeness(const store::StoreContents& store);

}  // namespace deepmr::app
