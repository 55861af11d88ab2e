// The geometry of the incremental path, through its public face: which input columns can change
// an output. (The values themselves are checked against full passes in tests/ism.)
#include "deepmr/model/incremental_network.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"
#include "deepmr/model/architectures.hpp"

namespace deepmr::model {
namespace {

// DeepSEA's last five positions feed only conv1 columns that pool1 drops (deep-mr-notes.md); the
// live range of the layer stack says the same.
TEST(ChangeReachesOutput, DeepSeasLastFivePositionsCannot) {
  const auto stack = deepsea_architecture(1);
  for (int p = 0; p < 1000; ++p)
    EXPECT_EQ(change_reaches_output(stack, p), p <= 994) << p;
  EXPECT_EQ(stack.live_input_positions(), (std::pair<int, int>{0, 994}));
}

// A strided convolution (kernel 1, stride 3) reads every third column only: the others cannot
// reach the output although they lie inside the live range's hull.
TEST(ChangeReachesOutput, StrideGapsCannot) {
  LayerStack stack;
  stack.source = "strided";
  Layer conv;
  conv.kind = LayerKind::conv;
  conv.path = "0";
  conv.kernel = 1;
  conv.stride = 3;
  conv.weight = {1, 1, 1, 1};
  conv.bias = {0};
  Layer flatten;
  flatten.kind = LayerKind::flatten;
  Layer linear;
  linear.kind = LayerKind::linear;
  linear.weight = {1, 1, 1, 1};
  linear.bias = {0};
  stack.layers = {conv, flatten, linear};
  infer_shapes(stack, 4, 12);
  for (int p = 0; p < 12; ++p) EXPECT_EQ(change_reaches_output(stack, p), p % 3 == 0) << p;
}

TEST(IncrementalSupport, EveryAcceptedLayerHasAnIncrementalForm) {
  EXPECT_EQ(incremental_unsupported_reason(deepsea_architecture(1)), "");
  LayerStack empty;
  EXPECT_NE(incremental_unsupported_reason(empty), "");
}

}  // namespace
}  // namespace deepmr::model
