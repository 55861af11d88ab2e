#include "deepmr/common/philox_blocks.hpp"

#include <atomic>

#include "deepmr/common/error.hpp"

namespace deepmr {

PhiloxIsa philox_best_isa() {
#if defined(__x86_64__)
  static const PhiloxIsa best = __builtin_cpu_supports("avx512f")  ? PhiloxIsa::avx512
                                : __builtin_cpu_supports("avx2") ? PhiloxIsa::avx2
                                                                  : PhiloxIsa::scalar;
  return best;
#else
  return PhiloxIsa::scalar;
#endif
}

namespace {
std::atomic<int>& active_slot() {
  static std::atomic<int> slot{static_cast<int>(philox_best_isa())};
  return slot;
}
}  // namespace

PhiloxIsa philox_active_isa() { return static_cast<PhiloxIsa>(active_slot().load(std::memory_order_relaxed)); }

void set_philox_active_isa(PhiloxIsa isa) {
  if (!philox_isa_supported(isa)) throw InternalError("philox: " + philox_isa_name(isa) + " is not supported here");
  active_slot().store(static_cast<int>(isa), std::memory_order_relaxed);
}

bool philox_isa_supported(PhiloxIsa isa) {
  const PhiloxIsa best = philox_best_isa();
  switch (isa) {
    case PhiloxIsa::scalar: return true;
    case PhiloxIsa::avx2: return best != PhiloxIsa::scalar;
    case PhiloxIsa::avx512: return best == PhiloxIsa::avx512;
  }
  return false;
}

std::string philox_isa_name(PhiloxIsa isa) {
  switch (isa) {
    case PhiloxIsa::scalar: return "scalar";
    case PhiloxIsa::avx2: return "avx2";
    case PhiloxIsa::avx512: return "avx512";
  }
  return "unknown";
}

void philox_blocks(std::uint64_t first, std::uint32_t c2, std::uint32_t c3, PhiloxKey key, std::size_t count,
                   std::uint32_t* words, PhiloxIsa isa) {
  if (!philox_isa_supported(isa)) throw InternalError("philox: " + philox_isa_name(isa) + " is not supported here");
  std::size_t done = 0;
#if defined(__x86_64__)
  const std::size_t lanes = isa == PhiloxIsa::avx512 ? 16 : isa == PhiloxIsa::avx2 ? 8 : 0;
  if (lanes > 0) {
    std::uint32_t c0[16], c1[16];
    for (; done + lanes <= count; done += lanes) {
      for (std::size_t l = 0; l < lanes; ++l) {
        const std::uint64_t counter = first + done + l;
        c0[l] = static_cast<std::uint32_t>(counter);
        c1[l] = static_cast<std::uint32_t>(counter >> 32);
      }
      if (lanes == 16)
        detail::philox_lanes_avx512(c0, c1, c2, c3, key, words + 4 * done);
      else
        detail::philox_lanes_avx2(c0, c1, c2, c3, key, words + 4 * done);
    }
  }
#endif
  for (; done < count; ++done) {
    const std::uint64_t counter = first + done;
    const PhiloxCounter block =
        philox4x32_10({static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), c2, c3}, key);
    for (std::size_t j = 0; j < 4; ++j) words[4 * done + j] = block[j];
  }
}

void philox_blocks(std::uint64_t first, std::uint32_t c2, std::uint32_t c3, PhiloxKey key, std::size_t count,
                   std::uint32_t* words) {
  philox_blocks(first, c2, c3, key, count, words, philox_active_isa());
}

}  // namespace deepmr
