// Per-base effect tracks (app/effect_tracks.hpp): which alternative each column is, beta/se/z, the
// mean and the largest magnitude over alternatives, and how overlapping windows share the track.
#include <gtest/gtest.h>

#include <cmath>

#include "deepmr/app/effect_tracks.hpp"
#include "deepmr/app/estimates_bed.hpp"
#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

// A window "AC": position 0 (ref A) has C, G, T; position 1 (ref C) has A, G, T.
store::EffectsRow two_positions() {
  store::EffectsRow row;
  row.beta = {1, -4, 2, 0.5f, 3, -3};
  row.se = {2, 1, 0, 1, 1, 2};
  return row;
}
const std::vector<std::int32_t> kPositions = {0, 0, 0, 1, 1, 1};

TEST(EffectTracks, PerBaseValuesFollowTheReference) {
  const auto values = track_values(two_positions(), kPositions, "AC",
                                   {{EffectStat::beta, AltChoice::A}, {EffectStat::beta, AltChoice::G},
                                    {EffectStat::se, AltChoice::T}});
  EXPECT_TRUE(std::isnan(values[0][0]));  // A is position 0's reference
  EXPECT_EQ(values[0][1], 0.5f);
  EXPECT_EQ(values[1][0], -4.0f);
  EXPECT_EQ(values[1][1], 3.0f);
  EXPECT_EQ(values[2][0], 0.0f);
  EXPECT_EQ(values[2][1], 2.0f);
}

TEST(EffectTracks, ZMeanAndLargestMagnitude) {
  const auto values = track_values(two_positions(), kPositions, "AC",
                                   {{EffectStat::z, AltChoice::T}, {EffectStat::z, AltChoice::mean},
                                    {EffectStat::beta, AltChoice::maxabs}, {EffectStat::z, AltChoice::maxabs},
                                    {EffectStat::beta, AltChoice::mean}});
  EXPECT_TRUE(std::isnan(values[0][0]));                // se 0: no z
  EXPECT_EQ(values[0][1], -1.5f);                        // -3 / 2
  EXPECT_EQ(values[1][0], static_cast<float>((0.5 - 4.0) / 2));  // the finite z of position 0 only
  EXPECT_EQ(values[1][1], static_cast<float>((0.5 + 3 - 1.5) / 3));
  EXPECT_EQ(values[2][0], -4.0f);  // sign kept
  EXPECT_EQ(values[2][1], 3.0f);   // |3| = |-3|: the first in A, C, G, T order (G before T)
  EXPECT_EQ(values[3][0], -4.0f);
  EXPECT_EQ(values[4][0], static_cast<float>((1.0 - 4.0 + 2.0) / 3));
}

TEST(EffectTracks, AnUnknownBaseIsAStoreError) {
  EXPECT_THROW(track_values(two_positions(), kPositions, "NC", {{EffectStat::beta, AltChoice::A}}), StoreError);
}

TEST(EffectTracks, ParsesListsAndRefusesUnknownNames) {
  EXPECT_EQ(parse_effect_stats("z,beta,z", "stat"), (std::vector<EffectStat>{EffectStat::z, EffectStat::beta}));
  EXPECT_EQ(parse_alt_choices("maxabs,A", "alt"), (std::vector<AltChoice>{AltChoice::maxabs, AltChoice::A}));
  EXPECT_THROW(parse_effect_stats("p", "stat"), UsageError);
  EXPECT_THROW(parse_alt_choices("N", "alt"), UsageError);
}

TEST(VisibleSpans, OverlapsAreCutBetweenTheCentres) {
  // Centres 50 and 70: cut at 60; a window apart keeps all of itself.
  const auto spans = visible_spans({{0, 100}, {20, 120}, {500, 600}});
  EXPECT_EQ(spans[0].start, 0u);
  EXPECT_EQ(spans[0].end, 60u);
  EXPECT_EQ(spans[1].start, 60u);
  EXPECT_EQ(spans[1].end, 120u);
  EXPECT_EQ(spans[2].start, 500u);
  EXPECT_EQ(spans[2].end, 600u);
  // Three in a row: each keeps the part nearest its centre, and the parts tile the union.
  const auto three = visible_spans({{0, 100}, {10, 110}, {20, 120}});
  EXPECT_EQ(three[0].end, 55u);
  EXPECT_EQ(three[1].start, 55u);
  EXPECT_EQ(three[1].end, 65u);
  EXPECT_EQ(three[2].start, 65u);
}

TEST(EstimatesBed, ScoreFromThePValue) {
  EXPECT_EQ(bed_score(1), 0);
  EXPECT_EQ(bed_score(0.01), 20);
  EXPECT_EQ(bed_score(1e-200), 1000);
  EXPECT_EQ(bed_score(0), 1000);
  EXPECT_EQ(bed_score(std::nan("")), 0);
}

}  // namespace
}  // namespace deepmr::app
