#pragma once
// The batch options (analysis.batch, ism and bench --batch): a positive count, or "auto" (0 in
// ism::IsmOptions::batch: chosen for the device by ism::batch_for).

#include <string>

namespace deepmr::app {

inline constexpr const char* kBatchHelp =
    "sequences per forward pass (full engine) or mutants per group (incremental), or auto: 64 on the CPU, "
    "the whole window per group on a GPU (memory and speed only; never results)";

// "auto" -> 0; "B" -> B >= 1. UsageError naming `option` otherwise.
int parse_batch(const std::string& text, const std::string& option);
// The same for other counts that take "auto" (run.mr-threads).
inline int parse_count_or_auto(const std::string& text, const std::string& option) { return parse_batch(text, option); }

}  // namespace deepmr::app
