#include "deepmr/genome/window.hpp"

namespace deepmr::genome {

std::uint64_t peak_centre(std::uint64_t start, std::uint64_t end, std::optional<std::uint64_t> summit) {
  if (summit) return start + *summit;
  return start + (end - start) / 2;
}

Placement centred_window(std::uint64_t centre, std::uint64_t length) {
  // Coordinates are capped at 2^50 by the readers, so the signed arithmetic cannot overflow.
  const auto begin = static_cast<std::int64_t>(centre) - static_cast<std::int64_t>(length / 2);
  return {begin, begin + static_cast<std::int64_t>(length)};
}

}  // namespace deepmr::genome
