#include "deepmr/ism/effects.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::ism {

void EffectAccumulator::add(const double* differences, int sample) {
  if (sample <= last_sample_) throw InternalError("effect samples must be added in increasing order");
  last_sample_ = sample;
  const int block = sample / kSampleBlock;
  if (blocks_.empty() || blocks_.back().block != block) {
    blocks_.push_back({block, 0, std::vector<double>(cells_, 0.0), std::vector<double>(cells_, 0.0)});
  }
  BlockState& state = blocks_.back();
  state.count += 1;
  const double inverse = 1.0 / state.count;
  for (std::size_t i = 0; i < cells_; ++i) {
    const double delta = differences[i] - state.mean[i];
    state.mean[i] += delta * inverse;
    state.m2[i] += delta * (differences[i] - state.mean[i]);
  }
}

void EffectAccumulator::finish(std::vector<double>& beta, std::vector<double>& se) const {
  merge_blocks(blocks_, cells_, beta, se);
}

void merge_blocks(std::vector<BlockState> blocks, std::size_t cells, std::vector<double>& beta, std::vector<double>& se) {
  std::sort(blocks.begin(), blocks.end(), [](const BlockState& a, const BlockState& b) { return a.block < b.block; });
  std::vector<double> mean(cells, 0.0), m2(cells, 0.0);
  double count = 0;
  for (const auto& block : blocks) {
    if (block.count == 0) continue;
    if (count == 0) {
      mean = block.mean;
      m2 = block.m2;
      count = block.count;
      continue;
    }
    const double total = count + block.count;
    const double weight = block.count / total, cross = count * block.count / total;
    for (std::size_t i = 0; i < cells; ++i) {
      const double delta = block.mean[i] - mean[i];
      mean[i] += delta * weight;
      m2[i] += block.m2[i] + delta * delta * cross;
    }
    count = total;
  }
  beta = std::move(mean);
  se.resize(cells);
  for (std::size_t i = 0; i < cells; ++i) se[i] = count > 0 ? std::sqrt(std::max(0.0, m2[i] / count)) : 0.0;
}

Effects merge_sample_groups(std::vector<Effects> parts) {
  if (parts.empty()) throw InternalError("merge_sample_groups: no parts");
  Effects merged = std::move(parts.front());
  std::vector<BlockState> blocks = std::move(merged.blocks);
  for (std::size_t p = 1; p < parts.size(); ++p) {
    if (parts[p].mutants.size() != merged.mutants.size() || parts[p].outputs != merged.outputs)
      throw InternalError("merge_sample_groups: parts of different regions or outputs");
    for (auto& block : parts[p].blocks) blocks.push_back(std::move(block));
  }
  merge_blocks(std::move(blocks), merged.mutants.size() * merged.outputs.size(), merged.beta, merged.se);
  merged.blocks.clear();
  return merged;
}

}  // namespace deepmr::ism
