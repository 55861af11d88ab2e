#pragma once
// Standard normal draws for the bootstraps, as a pure function of (seed, stream): the bits are
// those of deepmr::PhiloxStream(seed, stream) and become normals by a ziggurat (Marsaglia and Tsang
// 2000, 128 layers) whose tables are constants, so a draw never depends on rank, thread, batch or
// scheduling. One 32-bit word makes one normal on the fast path (about 99% of draws).
//
// Seeds. Each bootstrap of an MR method draws from the stream bootstrap_stream(method) under the
// fit's seed (MrOptions::seed). A caller that fits many units derives one seed per unit from its
// run seed and the unit's identity, e.g. unit_seed(run_seed, exposure_index, region_index), and
// passes it as MrOptions::seed: the unit's results are then the same wherever and whenever it runs.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "deepmr/common/philox.hpp"

namespace deepmr::stats {

class NormalStream {
 public:
  NormalStream(std::uint64_t seed, std::uint64_t stream)
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        stream_lo_(static_cast<std::uint32_t>(stream)),
        stream_hi_(static_cast<std::uint32_t>(stream >> 32)) {}

  double operator()();
  // Fills out[0..n) with the next n draws (the same values as n calls of operator()).
  void fill(double* out, std::size_t n);

  // The same draws in parallel (bootstrap_draws.cpp): any thread converts any range of draws by
  // the fast path, then one thread finishes the few that leave it, in increasing position, on a
  // stream that drew nothing else. Draw p (counted from the stream's start) is the p-th value
  // fill() would give.
  struct Miss {
    std::uint64_t position;
    std::uint32_t word;
  };
  // out[j] = draw first + j by the fast path, for j < n; the draws that leave it are appended to
  // `misses` in increasing position (their out[j] is to be replaced by finish_miss). Thread-safe.
  void fast_draws(std::uint64_t first, std::size_t n, double* out, std::vector<Miss>& misses) const;
  // The value of a draw that left the fast path. Call it for every miss, in increasing position.
  double finish_miss(const Miss& miss) { return slow_path(miss.word); }

 private:
  // Draw i uses word i of PhiloxStream(seed, stream) (its 64-bit outputs split high half first:
  // the four words of Philox block 0, then of block 1, ...). The rare draws that leave the
  // ziggurat's fast path take their extra words from block 2^63 on, so that every other draw
  // stays a function of its own word and a batch converts without branches.
  static constexpr std::size_t kBlocks = 64;
  static constexpr std::size_t kWords = 4 * kBlocks;
  void refill();
  std::uint32_t next_extra_word();
  // A uniform in (0, 1), never 0 or 1 (the tail and wedge need logarithms of it).
  double extra_uniform() { return (static_cast<double>(next_extra_word()) + 0.5) * 0x1.0p-32; }
  double slow_path(std::uint32_t word);

  PhiloxKey key_;
  std::uint32_t stream_lo_, stream_hi_;
  std::uint64_t next_block_ = 0;
  std::uint32_t words_[kWords] = {};
  std::size_t position_ = kWords;
  // The extra words, 16 blocks at a time (the same words as block by block).
  static constexpr std::size_t kExtraBlocks = 16;
  static constexpr std::size_t kExtraWords = 4 * kExtraBlocks;
  std::uint64_t next_extra_block_ = std::uint64_t{1} << 63;
  std::uint32_t extra_[kExtraWords] = {};
  std::size_t extra_position_ = kExtraWords;
};

// A 64-bit seed for one unit of work (e.g. exposure and region indices) under a run seed: one
// Philox4x32-10 block keyed by the run seed, so distinct units get unrelated seeds.
std::uint64_t unit_seed(std::uint64_t run_seed, std::uint64_t first_index, std::uint64_t second_index);

}  // namespace deepmr::stats
