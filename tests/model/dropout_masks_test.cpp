#include "deepmr/model/dropout_masks.hpp"

#include <gtest/gtest.h>

#include "deepmr/model/model_file.hpp"
#include "expected_tables.hpp"

namespace deepmr::model {
namespace {

TEST(DropoutMasks, OneMaskPerDropoutLayerShapedLikeItsInput) {
  auto stack = load_model_file(test::models_dir() + "/kipoi_conv2d.pt");
  auto masks = draw_dropout_masks(stack, 7, 3, 0);
  ASSERT_EQ(masks.layers.size(), 3u);
  EXPECT_EQ(masks.layers[0].size(), 6u * 28);
  EXPECT_EQ(masks.layers[1].size(), 8u * 5);
  EXPECT_EQ(masks.layers[2].size(), 10u * 3);
  for (float v : masks.layers[0]) EXPECT_TRUE(v == 0.0f || v == 1.25f) << v;
  for (float v : masks.layers[2]) EXPECT_TRUE(v == 0.0f || v == 2.0f) << v;
}

TEST(DropoutMasks, KeepRateIsOneMinusP) {
  LayerStack stack;
  Layer dropout;
  dropout.kind = LayerKind::dropout;
  dropout.p = 0.3;
  dropout.in = dropout.out = {1000, 100};
  stack.layers = {dropout};
  auto masks = draw_dropout_masks(stack, 1, 0, 0);
  double kept = 0;
  for (float v : masks.layers[0]) kept += v != 0.0f;
  EXPECT_NEAR(kept / 100000.0, 0.7, 0.005);
}

TEST(DropoutMasks, PureFunctionOfSeedRegionSampleAndLayer) {
  auto stack = load_model_file(test::models_dir() + "/conv1d_small.pt");
  auto base = draw_dropout_masks(stack, 5, 10, 2);
  EXPECT_EQ(base.layers, draw_dropout_masks(stack, 5, 10, 2).layers);
  EXPECT_NE(base.layers, draw_dropout_masks(stack, 6, 10, 2).layers);
  EXPECT_NE(base.layers, draw_dropout_masks(stack, 5, 11, 2).layers);
  EXPECT_NE(base.layers, draw_dropout_masks(stack, 5, 10, 3).layers);
  // Different layers get different streams, not the same bits reused.
  EXPECT_NE(std::vector<float>(base.layers[0].begin(), base.layers[0].begin() + 32),
            std::vector<float>(base.layers[1].begin(), base.layers[1].begin() + 32));
}

}  // namespace
}  // namespace deepmr::model
