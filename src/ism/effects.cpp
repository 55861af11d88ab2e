#include "deepmr/ism/effects.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::ism {

namespace {

// Welford's update of one state by one sample of every cell.
void update(BlockState& state, const double* differences, std::size_t cells) {
  state.count += 1;
  const double inverse = 1.0 / state.count;
  for (std::size_t i = 0; i < cells; ++i) {
    const double delta = differences[i] - state.mean[i];
    state.mean[i] += delta * inverse;
    state.m2[i] += delta * (differences[i] - state.mean[i]);
  }
}

// Merges states in the order given (Chan et al.) into beta and se; `keep` says which take part.
template <typename Keep>
void merge_states(const std::vector<BlockState>& states, std::size_t cells, Keep keep, std::vector<double>& beta,
                  std::vector<double>& se) {
  std::vector<double> mean(cells, 0.0), m2(cells, 0.0);
  double count = 0;
  for (const auto& block : states) {
    if (block.count == 0 || !keep(block)) continue;
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

}  // namespace

EffectAccumulator::EffectAccumulator(std::size_t cells, int jackknife_groups, int samples)
    : cells_(cells), groups_(jackknife_groups > 1 ? jackknife_groups : 0), samples_(samples) {
  if (groups_ > 0 && samples_ < groups_)
    throw InternalError("jackknife: " + std::to_string(groups_) + " groups of " + std::to_string(samples_) + " samples");
}

void EffectAccumulator::add(const double* differences, int sample) {
  if (sample <= last_sample_) throw InternalError("effect samples must be added in increasing order");
  last_sample_ = sample;
  const int block = sample / kSampleBlock;
  if (blocks_.empty() || blocks_.back().block != block) {
    blocks_.push_back({block, 0, std::vector<double>(cells_, 0.0), std::vector<double>(cells_, 0.0)});
  }
  update(blocks_.back(), differences, cells_);
  if (groups_ == 0) return;
  if (sample >= samples_) throw InternalError("jackknife: sample " + std::to_string(sample) + " of " + std::to_string(samples_));
  const int group = static_cast<int>(static_cast<long>(sample) * groups_ / samples_);
  if (segments_.empty() || segments_.back().block != block || segments_.back().group != group)
    segments_.push_back({block, 0, std::vector<double>(cells_, 0.0), std::vector<double>(cells_, 0.0), group});
  update(segments_.back(), differences, cells_);
}

void EffectAccumulator::finish(std::vector<double>& beta, std::vector<double>& se) const {
  merge_blocks(blocks_, cells_, beta, se);
}

Jackknife EffectAccumulator::jackknife() const {
  if (groups_ == 0) return {};
  return jackknife_of(segments_, cells_, groups_, samples_);
}

void merge_blocks(std::vector<BlockState> blocks, std::size_t cells, std::vector<double>& beta, std::vector<double>& se) {
  std::sort(blocks.begin(), blocks.end(), [](const BlockState& a, const BlockState& b) { return a.block < b.block; });
  merge_states(blocks, cells, [](const BlockState&) { return true; }, beta, se);
}

Jackknife jackknife_of(std::vector<BlockState> segments, std::size_t cells, int groups, int samples) {
  std::sort(segments.begin(), segments.end(), [](const BlockState& a, const BlockState& b) {
    return a.block != b.block ? a.block < b.block : a.group < b.group;
  });
  Jackknife out;
  out.sizes.assign(static_cast<std::size_t>(groups), 0.0);
  for (const auto& s : segments) {
    if (s.group < 0 || s.group >= groups) throw InternalError("jackknife: a segment of group " + std::to_string(s.group));
    out.sizes[static_cast<std::size_t>(s.group)] += s.count;
  }
  double total = 0;
  for (double m : out.sizes) total += m;
  if (total != samples) throw InternalError("jackknife: segments of " + std::to_string(total) + " samples, not " + std::to_string(samples));
  out.beta.resize(static_cast<std::size_t>(groups));
  out.se.resize(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    merge_states(segments, cells, [g](const BlockState& s) { return s.group != g; }, out.beta[g], out.se[g]);
  return out;
}

Effects merge_sample_groups(std::vector<Effects> parts) {
  if (parts.empty()) throw InternalError("merge_sample_groups: no parts");
  Effects merged = std::move(parts.front());
  std::vector<BlockState> blocks = std::move(merged.blocks);
  for (std::size_t p = 1; p < parts.size(); ++p) {
    if (parts[p].mutants.size() != merged.mutants.size() || parts[p].outputs != merged.outputs)
      throw InternalError("merge_sample_groups: parts of different regions or outputs");
    for (auto& block : parts[p].blocks) blocks.push_back(std::move(block));
    for (auto& segment : parts[p].segments) merged.segments.push_back(std::move(segment));
  }
  const std::size_t cells = merged.mutants.size() * merged.outputs.size();
  merge_blocks(std::move(blocks), cells, merged.beta, merged.se);
  if (merged.jackknife_groups > 1)
    merged.jackknife = jackknife_of(std::move(merged.segments), cells, merged.jackknife_groups, merged.samples);
  merged.blocks.clear();
  merged.segments.clear();
  return merged;
}

}  // namespace deepmr::ism
