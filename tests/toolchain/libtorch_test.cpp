// LibTorch is linked and computes: a matrix product and a convolution against closed forms.
#include <gtest/gtest.h>
#include <torch/torch.h>

TEST(LibTorch, MatmulMatchesClosedForm) {
  auto a = torch::arange(6, torch::kFloat64).reshape({2, 3});  // [[0 1 2] [3 4 5]]
  auto b = torch::ones({3, 2}, torch::kFloat64);
  auto c = torch::matmul(a, b);
  EXPECT_DOUBLE_EQ(c[0][0].item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(c[1][1].item<double>(), 12.0);
}

TEST(LibTorch, Conv1dOfOneHotPicksWeights) {
  // A one-hot 'A' at position 2 through a width-1 convolution returns the A-column of the weights.
  auto x = torch::zeros({1, 4, 5});
  x[0][0][2] = 1.0;
  auto w = torch::arange(8, torch::kFloat32).reshape({2, 4, 1});
  auto y = torch::conv1d(x, w);
  EXPECT_FLOAT_EQ(y[0][0][2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(y[0][1][2].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(y.sum().item<float>(), 4.0f);
}
