#include "deepmr/run/fit_units.hpp"

#include <algorithm>

namespace deepmr::run {

FitUnits::FitUnits(const genome::Plan& plan, const std::vector<int>& exposure_outputs,
                   const std::vector<int>& outcome_outputs) {
  first_.reserve(plan.region_count() + 1);
  for (std::uint64_t r = 0; r < plan.region_count(); ++r) {
    first_.push_back(exposure_.size());
    for (std::uint64_t u = plan.first_unit(r); u < plan.first_unit(r + 1); ++u) {
      const std::uint32_t e = plan.unit_exposure(u);
      for (std::size_t o = 0; o < outcome_outputs.size(); ++o) {
        if (outcome_outputs[o] == exposure_outputs.at(e)) continue;
        exposure_.push_back(e);
        outcome_.push_back(static_cast<std::uint32_t>(o));
      }
    }
  }
  first_.push_back(exposure_.size());
}

std::uint64_t FitUnits::region(std::uint64_t id) const {
  // The region whose range holds id: the last offset <= id (regions without units share offsets).
  const auto it = std::upper_bound(first_.begin(), first_.end(), id);
  return static_cast<std::uint64_t>(it - first_.begin() - 1);
}

FitUnit FitUnits::unit(std::uint64_t id) const {
  return FitUnit{id, exposure_[id], outcome_[id], region(id)};
}

}  // namespace deepmr::run
