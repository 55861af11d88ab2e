#pragma once
// Many Philox4x32-10 blocks at once: the blocks of counters {first + b (64 bits, low word first),
// c2, c3} for b = 0 .. count - 1 under one key, written as 4 words per block in block order. The
// words are those of philox4x32_10 (philox.hpp), bit for bit, on every instruction set: the SIMD
// forms compute the same 32 x 32 -> 64-bit products and exclusive-ors lane by lane (tested).

#include <cstddef>
#include <cstdint>
#include <string>

#include "deepmr/common/philox.hpp"

namespace deepmr {

enum class PhiloxIsa { scalar, avx2, avx512 };

// The widest form this CPU runs.
PhiloxIsa philox_best_isa();
// The form the overload without `isa` uses: the widest, unless set (benchmarks compare forms in one
// process; the words are the same either way).
PhiloxIsa philox_active_isa();
void set_philox_active_isa(PhiloxIsa isa);
bool philox_isa_supported(PhiloxIsa isa);
std::string philox_isa_name(PhiloxIsa isa);

// words[0 .. 4 count) = the blocks, by `isa` (which this CPU must support) or by the active form.
void philox_blocks(std::uint64_t first, std::uint32_t c2, std::uint32_t c3, PhiloxKey key, std::size_t count,
                   std::uint32_t* words, PhiloxIsa isa);
void philox_blocks(std::uint64_t first, std::uint32_t c2, std::uint32_t c3, PhiloxKey key, std::size_t count,
                   std::uint32_t* words);

namespace detail {
// The SIMD forms, on groups of 8 (avx2) or 16 (avx512) blocks whose counters' first two words are
// given in c0, c1; the rest of a call goes through the scalar form.
void philox_lanes_avx2(const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2, std::uint32_t c3,
                       PhiloxKey key, std::uint32_t* words);
void philox_lanes_avx512(const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2, std::uint32_t c3,
                         PhiloxKey key, std::uint32_t* words);
}  // namespace detail

}  // namespace deepmr
