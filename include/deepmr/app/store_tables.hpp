#pragma once
// The tables `deepmr run` and `deepmr summarize` print from a store (docs/cli.md).

#include <cstddef>
#include <optional>
#include <string>

#include "deepmr/app/table.hpp"
#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {

// Whether the run that wrote the store finished (root attribute `complete` = 1); a run stopped
// early or killed leaves a partial store.
bool is_complete(const store::StoreContents& store);
// "complete" or "partial": the last column of both tables, so that a table printed from a partial
// store says so on every row, in TSV and JSON alike.
std::string run_state(const store::StoreContents& store);

// The index of a named outcome (nullopt for an empty name); UsageError naming the store's outcomes.
std::optional<std::size_t> outcome_index(const store::StoreContents& store, const std::string& name);
// The per-pair table of a store for one method, one row per (exposure, outcome) fitted (only those
// of one outcome when given): exposure, outcome, method, regions, estimate, se, ci_low, ci_high,
// pvalue, tau2, tau, i2, direction, direction_pvalue (the pooled direction test), reverse_estimate
// (the outcome's estimate on the exposure, where the run fitted it), failed, status, run.
Table summary_table(const store::StoreContents& store, std::size_t method,
                    std::optional<std::size_t> only_outcome = std::nullopt);
// One meta-analysis column as a matrix: a row per exposure, a column per outcome (missing where
// the exposure is the outcome's own output), then run. UsageError for an unknown column.
Table matrix_table(const store::StoreContents& store, std::size_t method, const std::string& column);
// Every unit's fits, one row per unit and method (unit, exposure, outcome, region, chrom, start,
// end, name, summit, method, the fit columns, status, run).
Table units_table(const store::StoreContents& store);
// The region columns of a table row (chrom, start, end: 0-based half-open; name and summit of the
// region's peak, empty when unknown).
void set_region_columns(Table& table, const store::StoreContents& store, std::int64_t region);
// "850 of 900 units done (12 failed); the run is complete" and the like.
std::string completeness(const store::StoreContents& store);

}  // namespace deepmr::app
