#include "deepmr/ism/effects.hpp"

#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::ism {

void EffectAccumulator::add(const double* differences, int count) {
  if (count != samples_ + 1) throw InternalError("effect samples must be added in order");
  const double inverse = 1.0 / count;
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    const double delta = differences[i] - mean_[i];
    mean_[i] += delta * inverse;
    m2_[i] += delta * (differences[i] - mean_[i]);
  }
  samples_ = count;
}

void EffectAccumulator::finish(std::vector<double>& beta, std::vector<double>& se) const {
  beta = mean_;
  se.resize(m2_.size());
  for (std::size_t i = 0; i < m2_.size(); ++i)
    se[i] = samples_ > 0 ? std::sqrt(std::max(0.0, m2_[i] / samples_)) : 0.0;
}

}  // namespace deepmr::ism
