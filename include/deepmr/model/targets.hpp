#pragma once
// Names of a model's outputs and the resolution of user-given output names or indices.

#include <string>
#include <vector>

namespace deepmr::model {

// Reads a targets file: one output name per line (line i = output i - 1), e.g. DeepSEA's
// predictor_names.txt. Trailing whitespace and CR are dropped; blank lines are errors.
std::vector<std::string> read_targets_file(const std::string& path);

// Resolves each of `requested` (an output name, or a 0-based index) to an output index in
// [0, output_count). Names need `names`; a name that occurs several times is ambiguous and must be
// given as an index. A graph model's head name without ":i" ("counts") stands for the head's
// element when it has one ("counts:0"); a head of several is refused naming them. Throws
// ModelError naming the offending entry.
std::vector<int> resolve_outputs(const std::vector<std::string>& requested, const std::vector<std::string>& names,
                                 int output_count);

// Splits "a,b,c" (a name may itself contain '|', as DeepSEA's do).
std::vector<std::string> split_list(const std::string& text);

// The output names that match a regular expression (ECMAScript, whole name), the outcomes' indices
// excepted (analysis.exposure-pattern). UsageError naming `key` for a bad pattern, no names or no
// match.
std::vector<std::string> outputs_matching(const std::string& pattern, const std::vector<std::string>& names,
                                          const std::vector<int>& outcomes, const std::string& key);

}  // namespace deepmr::model
