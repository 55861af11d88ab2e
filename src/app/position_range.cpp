#include "deepmr/app/position_range.hpp"

#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

std::pair<int, int> bounds(const std::string& text, const std::string& option) {
  const auto dash = text.find('-');
  const UsageError bad("option '" + option + "': '" + text + "' is not FIRST-LAST (0-based, inclusive)");
  if (dash == std::string::npos || text.find_first_not_of("0123456789-") != std::string::npos) throw bad;
  const std::string a = text.substr(0, dash), b = text.substr(dash + 1);
  if (a.empty() || b.empty() || a.size() > 9 || b.size() > 9 || b.find('-') != std::string::npos) throw bad;
  const int first = std::stoi(a), last = std::stoi(b);
  if (first > last) throw UsageError("option '" + option + "': " + text + " ends before it starts (FIRST-LAST, inclusive)");
  return {first, last};
}

}  // namespace

void check_position_range_syntax(const std::string& text, const std::string& option) { bounds(text, option); }

std::vector<int> parse_position_range(const std::string& text, int length, const std::string& option) {
  const auto [first, last] = bounds(text, option);
  if (last >= length)
    throw UsageError("option '" + option + "': " + text + " is not within the window of " + std::to_string(length) +
                     " bases (positions 0-" + std::to_string(length - 1) + ")");
  std::vector<int> positions;
  for (int p = first; p <= last; ++p) positions.push_back(p);
  return positions;
}

}  // namespace deepmr::app
