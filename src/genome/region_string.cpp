#include "deepmr/genome/region_string.hpp"

#include "deepmr/common/error.hpp"

namespace deepmr::genome {

RegionString parse_region_string(const std::string& text, const std::string& option) {
  const auto colon = text.rfind(':');
  const auto dash = colon == std::string::npos ? std::string::npos : text.find('-', colon);
  auto bad = [&]() {
    return UsageError("option '" + option + "': '" + text + "' is not CHR:START-END (1-based, inclusive, e.g. chr22:1001-2000)");
  };
  if (colon == std::string::npos || dash == std::string::npos || colon == 0) throw bad();
  auto number = [&](const std::string& s) -> std::uint64_t {
    std::string digits;
    for (char c : s)
      if (c != ',') digits += c;
    if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) throw bad();
    return std::stoull(digits);
  };
  RegionString region;
  region.chrom = text.substr(0, colon);
  const std::uint64_t first = number(text.substr(colon + 1, dash - colon - 1));
  const std::uint64_t last = number(text.substr(dash + 1));
  if (first < 1 || last < first) throw bad();
  region.start = first - 1;
  region.end = last;
  return region;
}

}  // namespace deepmr::genome
