#pragma once
// The units a run fits: (exposure, outcome, region) triples. The plan samples (exposure, region)
// pairs (genome/plan.hpp); each is fitted against every outcome of the run except the exposure's
// own output (its slope on itself would be exactly 1). One mutagenesis per region serves all of
// its units. Ids are dense: by region, then the plan's unit order (exposure name), then outcome
// order, so a run with one outcome has the plan's unit ids.

#include <cstdint>
#include <vector>

#include "deepmr/genome/plan.hpp"

namespace deepmr::run {

struct FitUnit {
  std::uint64_t id = 0;
  std::uint32_t exposure = 0;   // index into Plan::exposures()
  std::uint32_t outcome = 0;    // index into the run's outcomes
  std::uint64_t region = 0;
};

class FitUnits {
 public:
  FitUnits() = default;
  // exposure_outputs[e]: model output of plan exposure e; outcome_outputs[o]: of outcome o.
  FitUnits(const genome::Plan& plan, const std::vector<int>& exposure_outputs, const std::vector<int>& outcome_outputs);

  std::uint64_t count() const { return exposure_.size(); }
  // The units of region r are the ids [first(r), first(r + 1)).
  std::uint64_t first(std::uint64_t region) const { return first_[region]; }
  FitUnit unit(std::uint64_t id) const;
  std::uint32_t exposure(std::uint64_t id) const { return exposure_[id]; }
  std::uint32_t outcome(std::uint64_t id) const { return outcome_[id]; }
  std::uint64_t region(std::uint64_t id) const;  // O(log regions)

 private:
  std::vector<std::uint64_t> first_;       // region_count() + 1 offsets
  std::vector<std::uint32_t> exposure_, outcome_;
};

}  // namespace deepmr::run
