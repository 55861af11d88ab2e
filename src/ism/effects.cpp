#include "deepmr/ism/effects.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/error.hpp"

namespace deepmr::ism {

namespace {

// The anchors a state's co-moments are kept for (BlockState::cross holds anchors x cells).
std::size_t anchors_of(const BlockState& state, std::size_t cells) { return cells > 0 ? state.cross.size() / cells : 0; }

// Welford's update of one state by one sample of every cell. The co-moments first, from the
// deviations from the old means: C_n = C_(n-1) + (n - 1) / n dx dy (the same as Welford's
// (x - mean_x,old)(y - mean_y,new)); anchor a's co-moments of a mutant are with its output a.
void update(BlockState& state, const double* differences, std::size_t cells, int outputs) {
  state.count += 1;
  const double inverse = 1.0 / state.count;
  if (outputs > 0) {
    const double scale = (state.count - 1) * inverse;
    const auto stride = static_cast<std::size_t>(outputs);
    const std::size_t anchors = anchors_of(state, cells);
    for (std::size_t a = 0; a < anchors; ++a) {
      double* cross = state.cross.data() + a * cells;
      for (std::size_t row = 0; row < cells; row += stride) {
        const double anchor = differences[row + a] - state.mean[row + a];
        for (std::size_t i = row; i < row + stride; ++i) cross[i] += scale * anchor * (differences[i] - state.mean[i]);
      }
    }
  }
  for (std::size_t i = 0; i < cells; ++i) {
    const double delta = differences[i] - state.mean[i];
    state.mean[i] += delta * inverse;
    state.m2[i] += delta * (differences[i] - state.mean[i]);
  }
}

BlockState empty_state(int block, std::size_t cells, int group, int outputs, int anchors) {
  return {block, 0, std::vector<double>(cells, 0.0), std::vector<double>(cells, 0.0), group,
          std::vector<double>(outputs > 0 ? static_cast<std::size_t>(anchors) * cells : 0, 0.0)};
}

// The correlation of every cell with each anchor output a of its mutant, [a * cells + cell], from
// the merged moments: 0 where either spread is zero (the term it weighs then vanishes), clamped to
// [-1, 1] against rounding.
std::vector<double> correlations(const std::vector<double>& m2, const std::vector<double>& cross, std::size_t cells,
                                 int outputs) {
  std::vector<double> out(cross.size(), 0.0);
  const auto stride = static_cast<std::size_t>(outputs);
  for (std::size_t a = 0; a * cells < cross.size(); ++a)
    for (std::size_t i = 0; i < cells; ++i) {
      const double spread = m2[i] * m2[i - i % stride + a];
      out[a * cells + i] = spread > 0 ? std::clamp(cross[a * cells + i] / std::sqrt(spread), -1.0, 1.0) : 0.0;
    }
  return out;
}

}  // namespace

Moments::Moments(std::size_t cells, std::size_t anchors)
    : mean(cells, 0.0), m2(cells, 0.0), cross(anchors * cells, 0.0) {}

// One step of the merge in order (Chan et al.): `block` merged into the states merged so far, or
// copied when it is the first.
void Moments::merge(const BlockState& block, std::size_t cells, int outputs) {
  if (block.count == 0) return;
  const std::size_t anchors = cells > 0 ? cross.size() / cells : 0;
  if (outputs > 0 && (anchors == 0 || block.cross.size() != anchors * cells))
    throw InternalError("effects: a block without co-moments");
  if (count == 0) {
    mean = block.mean;
    m2 = block.m2;
    if (outputs > 0) cross = block.cross;
    count = block.count;
    return;
  }
  const double total = count + block.count;
  const double weight = block.count / total, between = count * block.count / total;
  if (outputs > 0) {
    const auto stride = static_cast<std::size_t>(outputs);
    for (std::size_t a = 0; a < anchors; ++a)
      for (std::size_t row = 0; row < cells; row += stride) {
        const double anchor = block.mean[row + a] - mean[row + a];
        for (std::size_t i = row; i < row + stride; ++i)
          cross[a * cells + i] += block.cross[a * cells + i] + anchor * (block.mean[i] - mean[i]) * between;
      }
  }
  for (std::size_t i = 0; i < cells; ++i) {
    const double delta = block.mean[i] - mean[i];
    mean[i] += delta * weight;
    m2[i] += block.m2[i] + delta * delta * between;
  }
  count = total;
}

// beta, se and (with outputs > 0) the correlations of the merged states.
void Moments::finish(std::size_t cells, int outputs, std::vector<double>& beta, std::vector<double>& se,
                     std::vector<double>* correlation) const {
  if (outputs > 0 && correlation) *correlation = correlations(m2, cross, cells, outputs);
  beta = mean;
  se.resize(cells);
  for (std::size_t i = 0; i < cells; ++i) se[i] = count > 0 ? std::sqrt(std::max(0.0, m2[i] / count)) : 0.0;
}

namespace {

// Merges states in the order given into beta and se, and with outputs > 0 the correlations; `keep`
// says which take part.
template <typename Keep>
void merge_states(const std::vector<BlockState>& states, std::size_t cells, Keep keep, std::vector<double>& beta,
                  std::vector<double>& se, int outputs, std::vector<double>* correlation) {
  const std::size_t anchors = outputs > 0 && !states.empty() ? anchors_of(states.front(), cells) : 0;
  Moments merged(cells, anchors);
  for (const auto& block : states)
    if (keep(block)) merged.merge(block, cells, outputs);
  merged.finish(cells, outputs, beta, se, correlation);
}

}  // namespace

EffectAccumulator::EffectAccumulator(std::size_t cells, int jackknife_groups, int samples, int correlation_outputs,
                                     int anchors, bool keep_blocks)
    : cells_(cells), groups_(jackknife_groups > 1 ? jackknife_groups : 0), samples_(samples),
      outputs_(correlation_outputs > 0 ? correlation_outputs : 0), anchors_(outputs_ > 0 ? anchors : 0),
      keep_blocks_(keep_blocks) {
  if (!keep_blocks_) {
    merged_ = Moments(cells_, static_cast<std::size_t>(anchors_));
    leave_out_.assign(static_cast<std::size_t>(groups_), merged_);
    group_sizes_.assign(static_cast<std::size_t>(groups_), 0.0);
  }
  if (outputs_ > 0 && (anchors_ < 1 || anchors_ > outputs_))
    throw InternalError("effects: " + std::to_string(anchors) + " anchor outputs of " + std::to_string(outputs_));
  if (groups_ > 0 && samples_ < groups_)
    throw InternalError("jackknife: " + std::to_string(groups_) + " groups of " + std::to_string(samples_) + " samples");
  if (outputs_ > 0 && cells_ % static_cast<std::size_t>(outputs_) != 0)
    throw InternalError("effects: " + std::to_string(cells_) + " cells are not rows of " + std::to_string(outputs_) + " outputs");
}

void EffectAccumulator::add(const double* differences, int sample) {
  if (sample <= last_sample_) throw InternalError("effect samples must be added in increasing order");
  last_sample_ = sample;
  const int block = sample / kSampleBlock;
  if (blocks_.empty() || blocks_.back().block != block) {
    if (!keep_blocks_ && !blocks_.empty()) {  // the previous block is complete: merge it now
      merged_.merge(blocks_.back(), cells_, outputs_);
      blocks_.clear();
    }
    blocks_.push_back(empty_state(block, cells_, 0, outputs_, anchors_));
  }
  update(blocks_.back(), differences, cells_, outputs_);
  if (groups_ == 0) return;
  if (sample >= samples_) throw InternalError("jackknife: sample " + std::to_string(sample) + " of " + std::to_string(samples_));
  const int group = static_cast<int>(static_cast<long>(sample) * groups_ / samples_);
  if (segments_.empty() || segments_.back().block != block || segments_.back().group != group) {
    if (!keep_blocks_ && !segments_.empty()) {  // complete: into every other group's leave-out merge
      for (int g = 0; g < groups_; ++g)
        if (g != segments_.back().group) leave_out_[static_cast<std::size_t>(g)].merge(segments_.back(), cells_, outputs_);
      segments_.clear();
    }
    segments_.push_back(empty_state(block, cells_, group, outputs_, anchors_));
  }
  update(segments_.back(), differences, cells_, outputs_);
  if (!keep_blocks_) group_sizes_[static_cast<std::size_t>(group)] += 1;
}

Moments EffectAccumulator::all_merged() const {
  Moments all = merged_;
  if (!blocks_.empty()) all.merge(blocks_.back(), cells_, outputs_);  // the block still open
  return all;
}

void EffectAccumulator::finish(std::vector<double>& beta, std::vector<double>& se) const {
  if (keep_blocks_) merge_blocks(blocks_, cells_, beta, se);
  else all_merged().finish(cells_, 0, beta, se, nullptr);
}

void EffectAccumulator::finish(std::vector<double>& beta, std::vector<double>& se, std::vector<double>& correlation) const {
  if (keep_blocks_) merge_blocks(blocks_, cells_, beta, se, outputs_, &correlation);
  else all_merged().finish(cells_, outputs_, beta, se, &correlation);
}

Jackknife EffectAccumulator::jackknife() const {
  if (groups_ == 0) return {};
  if (keep_blocks_) return jackknife_of(segments_, cells_, groups_, samples_, outputs_);
  Jackknife out;
  out.sizes = group_sizes_;
  double total = 0;
  for (double m : out.sizes) total += m;
  if (total != samples_)
    throw InternalError("jackknife: segments of " + std::to_string(total) + " samples, not " + std::to_string(samples_));
  out.beta.resize(static_cast<std::size_t>(groups_));
  out.se.resize(static_cast<std::size_t>(groups_));
  if (outputs_ > 0) out.correlation.resize(static_cast<std::size_t>(groups_));
  for (int g = 0; g < groups_; ++g) {
    const auto index = static_cast<std::size_t>(g);
    Moments leave_out = leave_out_[index];
    if (!segments_.empty() && segments_.back().group != g) leave_out.merge(segments_.back(), cells_, outputs_);
    leave_out.finish(cells_, outputs_, out.beta[index], out.se[index], outputs_ > 0 ? &out.correlation[index] : nullptr);
  }
  return out;
}

void merge_blocks(std::vector<BlockState> blocks, std::size_t cells, std::vector<double>& beta, std::vector<double>& se,
                  int correlation_outputs, std::vector<double>* correlation) {
  std::sort(blocks.begin(), blocks.end(), [](const BlockState& a, const BlockState& b) { return a.block < b.block; });
  merge_states(blocks, cells, [](const BlockState&) { return true; }, beta, se, correlation_outputs, correlation);
}

Jackknife jackknife_of(std::vector<BlockState> segments, std::size_t cells, int groups, int samples,
                       int correlation_outputs) {
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
  if (correlation_outputs > 0) out.correlation.resize(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    merge_states(segments, cells, [g](const BlockState& s) { return s.group != g; }, out.beta[g], out.se[g],
                 correlation_outputs, correlation_outputs > 0 ? &out.correlation[g] : nullptr);
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
  // The parts kept co-moments when their engines were asked for correlations.
  const int outputs = !blocks.empty() && !blocks.front().cross.empty() ? static_cast<int>(merged.outputs.size()) : 0;
  merge_blocks(std::move(blocks), cells, merged.beta, merged.se, outputs, &merged.correlation);
  if (merged.jackknife_groups > 1)
    merged.jackknife = jackknife_of(std::move(merged.segments), cells, merged.jackknife_groups, merged.samples, outputs);
  merged.blocks.clear();
  merged.segments.clear();
  return merged;
}

}  // namespace deepmr::ism
