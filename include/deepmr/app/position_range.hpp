#pragma once
// Sub-window mutagenesis: the window positions to mutate, written FIRST-LAST (0-based, inclusive),
// the other positions kept as context (bench, ism --positions, a run's analysis.positions).

#include <string>
#include <vector>

namespace deepmr::app {

// "FIRST-LAST" -> FIRST, FIRST + 1, ..., LAST. UsageError naming `option` when the text is not of
// that form or the range does not lie within a window of `length` bases.
std::vector<int> parse_position_range(const std::string& text, int length, const std::string& option);
// Only the form (checked before a model loads, when the window length is not known yet).
void check_position_range_syntax(const std::string& text, const std::string& option);

}  // namespace deepmr::app
