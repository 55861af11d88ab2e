// Model outputs against PyTorch itself: make_fixtures.py ran each fixture's TorchScript forward in
// eval mode on random sequences; both backends must agree with it to 1e-5.
#include "deepmr/model/network.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "deepmr/common/error.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/reverse_complement.hpp"
#include "deepmr/model/model_file.hpp"
#include "expected_tables.hpp"

namespace deepmr::model {
namespace {

struct Case {
  std::string name;
  Backend backend;
  int input_length;  // for the traced fixture
};

// Test names and failure messages show the case's name rather than its bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class NetworkAgainstPyTorch : public ::testing::TestWithParam<Case> {};

TEST_P(NetworkAgainstPyTorch, OutputsMatch) {
  const Case& c = GetParam();
  ModelOverrides overrides;
  if (c.input_length) overrides.input_length = c.input_length;
  auto stack = std::make_shared<LayerStack>(load_model_file(test::models_dir() + "/" + c.name + ".pt", overrides));
  std::vector<int> all(stack->output_count());
  for (int i = 0; i < stack->output_count(); ++i) all[i] = i;
  auto network = make_network(stack, all, Device{}, c.backend);

  auto rows = test::read_rows(test::models_dir() + "/" + c.name + ".outputs.tsv");
  ASSERT_FALSE(rows.empty());
  const int length = stack->options.input_length;
  for (const auto& row : rows) {
    const std::string& sequence = row[0];
    ASSERT_EQ(static_cast<int>(sequence.size()), length);
    ASSERT_EQ(static_cast<int>(row.size()) - 1, stack->output_count());
    // What the model computes: forward strand, plus the reverse complement when it averages strands.
    const auto alphabet = genome::Alphabet::parse(stack->options.alphabet);
    auto x = genome::one_hot(sequence, alphabet);
    std::vector<float> y(all.size()), y_rc(all.size());
    network->forward(x.data(), 1, nullptr, y.data());
    if (stack->options.reverse_complement_average) {
      x = genome::one_hot(genome::reverse_complement(sequence), alphabet);
      network->forward(x.data(), 1, nullptr, y_rc.data());
      for (std::size_t i = 0; i < y.size(); ++i) y[i] = (y[i] + y_rc[i]) / 2.0f;
    }
    for (int o = 0; o < stack->output_count(); ++o)
      EXPECT_NEAR(y[o], std::stod(row[o + 1]), 1e-5) << c.name << " output " << o;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, NetworkAgainstPyTorch,
    ::testing::Values(Case{"conv1d_small", Backend::kernels, 0}, Case{"conv1d_small", Backend::torch, 0},
                      Case{"kipoi_conv2d", Backend::kernels, 0}, Case{"kipoi_conv2d", Backend::torch, 0},
                      Case{"batchnorm_elu", Backend::kernels, 0}, Case{"batchnorm_elu", Backend::torch, 0},
                      Case{"traced_conv1d", Backend::kernels, 60}, Case{"traced_conv1d", Backend::torch, 60}),
    [](const auto& param_info) {
      return param_info.param.name + (param_info.param.backend == Backend::kernels ? "_kernels" : "_torch");
    });

TEST(Network, SelectedOutputsEqualTheSameColumnsOfAllOutputs) {
  auto stack = std::make_shared<LayerStack>(load_model_file(test::models_dir() + "/conv1d_small.pt"));
  auto all = make_network(stack, {0, 1, 2, 3, 4}, Device{}, Backend::kernels);
  auto some = make_network(stack, {4, 1}, Device{}, Backend::kernels);
  std::vector<float> x(4 * 60 * 3, 0.0f);
  for (int b = 0; b < 3; ++b)
    for (int i = 0; i < 60; ++i) x[b * 240 + ((i * 7 + b) % 4) * 60 + i] = 1.0f;
  std::vector<float> y_all(15), y_some(6);
  all->forward(x.data(), 3, nullptr, y_all.data());
  some->forward(x.data(), 3, nullptr, y_some.data());
  for (int b = 0; b < 3; ++b) {
    EXPECT_EQ(y_some[b * 2 + 0], y_all[b * 5 + 4]);  // bitwise: same fma chains
    EXPECT_EQ(y_some[b * 2 + 1], y_all[b * 5 + 1]);
  }
}

// OpenBLAS (LibTorch's BLAS where scripts/install-deps installs it) keeps its own thread pool:
// set_threads must size it too, or every rank of a node would use every core.
TEST(Network, SetThreadsAlsoSizesOpenBlasPool) {
  using GetThreads = int (*)();
  auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (!get) GTEST_SKIP() << "LibTorch's BLAS here is not OpenBLAS";
  set_threads(1);
  EXPECT_EQ(get(), 1);
  set_threads(2);
  EXPECT_EQ(get(), 2);
  set_threads(1);
  EXPECT_EQ(get(), 1);
}

TEST(Network, DeviceParsing) {
  EXPECT_EQ(parse_device("cpu").kind, Device::Kind::cpu);
  EXPECT_THROW(parse_device("gpu"), UsageError);
  EXPECT_THROW(parse_device("cuda:x"), UsageError);
  // Debian's LibTorch is CPU-only: auto falls back to the CPU, an explicit CUDA request is an error.
  EXPECT_EQ(parse_device("auto").kind, Device::Kind::cpu);
  EXPECT_THROW(parse_device("cuda:0"), ModelError);
}

}  // namespace
}  // namespace deepmr::model
