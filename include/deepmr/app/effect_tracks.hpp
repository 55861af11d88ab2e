#pragma once
// Per-base tracks of per-mutant effects (deepmr export --format bedgraph|bigwig, docs/export.md):
// from one row of a store's effects (a region's outcome effects or a unit's exposure effects), the
// value at each window position of one statistic (beta, se, z = beta / se) for one alternative base,
// or the mean or the largest in magnitude over the position's 3 alternatives.

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/store/effects_reader.hpp"

namespace deepmr::app {

enum class EffectStat { beta, se, z };
enum class AltChoice { A, C, G, T, mean, maxabs };

const std::vector<EffectStat>& all_effect_stats();
const std::vector<AltChoice>& all_alt_choices();
std::string to_string(EffectStat stat);  // "beta", "se", "z"
std::string to_string(AltChoice alt);    // "A", "C", "G", "T", "mean", "maxabs"
// Comma-separated lists of those names; UsageError naming `option` for an unknown one.
std::vector<EffectStat> parse_effect_stats(const std::string& text, const std::string& option);
std::vector<AltChoice> parse_alt_choices(const std::string& text, const std::string& option);

struct TrackChoice {
  EffectStat stat;
  AltChoice alt;
};

// values[t][p]: track choices[t] at window position p, for p in [0, sequence length). NaN where the
// position has no such value: the reference base for a per-base track, a se of 0 for z, a value
// that was not computed. mean: of the finite values of the 3 alternatives; maxabs: the value of
// largest magnitude, its sign kept (ties: the first in A, C, G, T order). Computed in double,
// rounded once to float (what bigWig stores). StoreError for a window base other than A, C, G, T.
std::vector<std::vector<float>> track_values(const store::EffectsRow& row, const std::vector<std::int32_t>& positions,
                                             const std::string& sequence, const std::vector<TrackChoice>& choices);

// A window of one sequence and the part of it a track shows.
struct Span {
  std::uint64_t start = 0, end = 0;
};
// Windows of one sequence, sorted by start: where consecutive ones overlap, they are cut at the
// midpoint between their centres, so that every position shows the window it is most central in
// (a track holds one value per base). Returns, per window, its visible part (possibly empty).
std::vector<Span> visible_spans(const std::vector<Span>& windows);

}  // namespace deepmr::app
