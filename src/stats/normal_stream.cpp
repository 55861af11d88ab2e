#include "deepmr/stats/normal_stream.hpp"

#include <algorithm>
#include <cmath>

#include "deepmr/common/philox_blocks.hpp"
#include "ziggurat.hpp"

namespace deepmr::stats {

namespace detail {

std::size_t ziggurat_fast_path_scalar(const std::uint32_t* words, std::size_t count, double* out,
                                      std::uint32_t* misses) {
  std::size_t missed = 0;
  for (std::size_t j = 0; j < count; ++j) {
    const std::uint32_t word = words[j];
    const std::uint32_t layer = word & 0x7Fu;
    const std::uint32_t magnitude = word >> 8;
    out[j] = magnitude * kZigguratW[layer] * sign_of(word);
    misses[missed] = static_cast<std::uint32_t>(j);
    missed += magnitude >= kZigguratK[layer];
  }
  return missed;
}

std::size_t ziggurat_fast_path(const std::uint32_t* words, std::size_t count, double* out, std::uint32_t* misses) {
#if defined(__x86_64__)
  // The Philox form in use decides (philox_blocks.hpp): one CPU check for both, and tests that
  // switch the form run this path's scalar and AVX-512 forms on the same machine.
  if (philox_active_isa() == PhiloxIsa::avx512) return ziggurat_fast_path_avx512(words, count, out, misses);
#endif
  return ziggurat_fast_path_scalar(words, count, out, misses);
}

}  // namespace detail

using namespace detail;

void NormalStream::refill() {
  philox_blocks(next_block_, stream_lo_, stream_hi_, key_, kBlocks, words_);
  next_block_ += kBlocks;
  position_ = 0;
}

std::uint32_t NormalStream::next_extra_word() {
  if (extra_position_ == kExtraWords) {
    philox_blocks(next_extra_block_, stream_lo_, stream_hi_, key_, kExtraBlocks, extra_);
    next_extra_block_ += kExtraBlocks;
    extra_position_ = 0;
  }
  return extra_[extra_position_++];
}

double NormalStream::slow_path(std::uint32_t word) {
  for (;;) {
    const std::uint32_t layer = word & 0x7Fu;
    const double x = (word >> 8) * kZigguratW[layer];
    if (layer == 0) {
      // The tail beyond r (Marsaglia 1964).
      double tail, y;
      do {
        tail = -std::log(extra_uniform()) / kTailStart;
        y = -std::log(extra_uniform());
      } while (y + y < tail * tail);
      return sign_of(word) * (kTailStart + tail);
    }
    if (kZigguratF[layer] + extra_uniform() * (kZigguratF[layer - 1] - kZigguratF[layer]) < std::exp(-0.5 * x * x))
      return sign_of(word) * x;
    // Rejected in the wedge: start again with a fresh word.
    word = next_extra_word();
    const std::uint32_t next_layer = word & 0x7Fu;
    const std::uint32_t magnitude = word >> 8;
    if (magnitude < kZigguratK[next_layer]) return magnitude * kZigguratW[next_layer] * sign_of(word);
  }
}

double NormalStream::operator()() {
  if (position_ == kWords) refill();
  const std::uint32_t word = words_[position_++];
  const std::uint32_t magnitude = word >> 8;
  if (magnitude < kZigguratK[word & 0x7Fu]) return magnitude * kZigguratW[word & 0x7Fu] * sign_of(word);
  return slow_path(word);
}

void NormalStream::fill(double* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    if (position_ == kWords) refill();
    const std::size_t count = std::min(n - done, kWords - position_);
    const std::uint32_t* words = words_ + position_;
    double* batch = out + done;
    // Every draw by its fast path; then the few that leave it, in order (they take extra words).
    std::uint32_t misses[kWords];
    const std::size_t missed = ziggurat_fast_path(words, count, batch, misses);
    for (std::size_t k = 0; k < missed; ++k) batch[misses[k]] = slow_path(words[misses[k]]);
    position_ += count;
    done += count;
  }
}

void NormalStream::fast_draws(std::uint64_t first, std::size_t n, double* out, std::vector<Miss>& misses) const {
  // Word p is word p % 4 of Philox block p / 4: whole blocks are generated, kBlocks at a time, and
  // the words before `first` in its block skipped.
  std::uint32_t words[kWords];
  std::uint32_t missed_at[kWords];
  std::uint64_t position = first;
  const std::uint64_t end = first + n;
  while (position < end) {
    const std::uint64_t block = position / 4;
    const std::size_t skip = static_cast<std::size_t>(position % 4);
    const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(end - position, kWords - skip));
    const std::size_t blocks = (skip + count + 3) / 4;
    philox_blocks(block, stream_lo_, stream_hi_, key_, blocks, words);
    double* batch = out + (position - first);
    const std::size_t missed = ziggurat_fast_path(words + skip, count, batch, missed_at);
    for (std::size_t k = 0; k < missed; ++k) misses.push_back({position + missed_at[k], words[skip + missed_at[k]]});
    position += count;
  }
}

std::uint64_t unit_seed(std::uint64_t run_seed, std::uint64_t first_index, std::uint64_t second_index) {
  const PhiloxCounter counter{static_cast<std::uint32_t>(first_index), static_cast<std::uint32_t>(first_index >> 32),
                              static_cast<std::uint32_t>(second_index), static_cast<std::uint32_t>(second_index >> 32)};
  const PhiloxKey key{static_cast<std::uint32_t>(run_seed), static_cast<std::uint32_t>(run_seed >> 32)};
  const PhiloxCounter block = philox4x32_10(counter, key);
  return static_cast<std::uint64_t>(block[0]) << 32 | block[1];
}

}  // namespace deepmr::stats
