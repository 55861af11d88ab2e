#pragma once
// What a worker computes for one region: the MR fits of each of its units (one per exposure
// sampled there and outcome) and, optionally, the per-mutant effects. A journal record holds exactly one;
// the store is assembled from them.

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/store/schema.hpp"

namespace deepmr::store {

struct FitRow {
  FitStatus status = FitStatus::pending;
  std::string reason;          // not estimable / failed: why
  std::vector<double> values;  // fit_columns().size() values, NaN where missing
};

struct UnitResult {
  std::uint64_t unit = 0;
  std::uint32_t exposure = 0;
  std::uint32_t outcome = 0;  // index into the run's outcomes
  bool failed = false;  // its effects are not finite (the model gave NaN or Inf): no fits
  std::string reason;
  std::vector<FitRow> fits;  // one per MR method, in the run's method order
  FitRow direction;          // the direction test (stats/direction.hpp): direction_columns() values
};

struct RegionResult {
  std::uint64_t run = 0;      // the run it belongs to (Manifest::run_id()): a foreign record is refused
  std::uint64_t region = 0;
  std::int32_t rank = -1;     // the rank that computed it (informational)
  std::uint32_t attempt = 0;  // the run attempt (0: first, 1: first resume, ...)
  double seconds_ism = 0, seconds_mr = 0;
  bool failed = false;  // every unit of the region failed (e.g. the outcome is NaN)
  std::string reason;
  std::vector<UnitResult> units;
  // Optional per-mutant effects: outputs = the run's outcomes first (in outcome order), then each
  // unit's exposure in unit order.
  // The window's bases come along (its mutants' reference and alternative bases follow from it).
  std::string sequence;
  std::uint32_t mutants = 0, outputs = 0;
  std::vector<float> beta, se;  // mutant-major: [mutant * outputs + output]
};

// Binary form of a RegionResult (little-endian host layout, fixed-width fields).
std::string serialize(const RegionResult& result);
// Throws StoreError on malformed bytes.
RegionResult deserialize(const std::string& bytes);

}  // namespace deepmr::store
