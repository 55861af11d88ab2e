#pragma once
// Reading a store back, serially: what `deepmr summarize` and the tests need. This half of the store
// layer (target deepmr_store_reader) links neither MPI nor dist, so a login-node tool can use it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deepmr/store/schema.hpp"

namespace deepmr::store {

// A store read back: its root attributes (those of the schema present in the file) and its tables.
struct StoreContents {
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, std::int64_t> int_attributes;
  std::map<std::string, double> double_attributes;
  std::vector<std::string> methods, exposures;
  std::vector<std::int64_t> exposure_outputs;
  // The outcomes (the first is the primary one) and their model outputs; a version-1 store has one,
  // its `outcome` attribute.
  std::vector<std::string> outcomes;
  std::vector<std::int64_t> outcome_outputs;
  // Regions: chrom, start, end as stored (a sequence file's rows: chrom "row", row >= 0), status,
  // and the peak each was centred on. A store written before regions/name and regions/summit
  // existed reads with empty names and summits of -1.
  std::vector<std::string> region_chrom, region_name;
  std::vector<std::int64_t> region_start, region_end, region_row, region_summit;
  std::vector<std::int8_t> region_status;
  std::vector<std::int32_t> unit_exposure, unit_outcome;
  std::vector<std::int64_t> unit_region;
  std::vector<std::int8_t> unit_status;  // FitStatus of the unit (pending, ok = done, failed)
  std::vector<std::string> unit_reason;
  // fits[method][column][unit], fit_status[method][unit]
  std::vector<std::vector<std::vector<double>>> fits;
  std::vector<std::vector<std::int8_t>> fit_status;
  // meta[method][column][pair], meta_status[method][pair]: pair = exposure * outcomes + outcome
  // (pair_row())
  std::vector<std::vector<std::vector<double>>> meta;
  std::vector<std::vector<std::int8_t>> meta_status;
  std::vector<std::vector<std::string>> meta_reason;
  // The direction test (stats/direction.hpp): direction[column][unit] (direction_columns()) and
  // direction_meta[column][pair] (meta_columns()). A version-1 store has none: empty.
  std::vector<std::vector<double>> direction, direction_meta;
  std::vector<std::int8_t> direction_status, direction_meta_status;
  std::vector<std::string> direction_meta_reason;
};

// The meta row of (exposure, outcome).
inline std::size_t pair_row(const StoreContents& store, std::size_t exposure, std::size_t outcome) {
  return exposure * store.outcomes.size() + outcome;
}

StoreContents read_store(const std::string& path);

}  // namespace deepmr::store
