#pragma once
// The tables `deepmr run` and `deepmr summarize` print from a store (docs/cli.md).

#include <cstddef>
#include <string>

#include "deepmr/app/table.hpp"
#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {

// The per-exposure table of a store for one method: exposure, method, regions, estimate, se,
// ci_low, ci_high, pvalue, tau2, tau, i2, failed, status.
Table summary_table(const store::StoreContents& store, std::size_t method);
// Every unit's fits, one row per unit and method.
Table units_table(const store::StoreContents& store);
// "850 of 900 units done (12 failed); the run is complete" and the like.
std::string completeness(const store::StoreContents& store);

}  // namespace deepmr::app
