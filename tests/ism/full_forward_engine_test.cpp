// The full-forward engine against PyTorch (make_fixtures.py) and against the paired-mask contract.
#include <gtest/gtest.h>

#include <cmath>

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/model_file.hpp"
#include "expected_tables.hpp"
#include "test_support.hpp"

namespace deepmr::ism {
namespace {

using model::Backend;

struct Loaded {
  std::shared_ptr<model::LayerStack> stack;
  std::unique_ptr<model::Network> network;
  std::string reference;
};

Loaded load(const std::string& name, std::vector<int> outputs, Backend backend = Backend::kernels,
            int input_length = 0) {
  model::ModelOverrides overrides;
  if (input_length) overrides.input_length = input_length;
  Loaded l;
  l.stack = std::make_shared<model::LayerStack>(model::load_model_file(test::fixture_model(name), overrides));
  l.network = model::make_network(l.stack, std::move(outputs), model::Device{}, backend);
  l.reference = test::fixture_window(name);
  return l;
}

// Expected rows: position ref alt output value [value2]; effects are in mutant order, outputs inner.
void expect_matches(const Effects& effects, const std::string& table, bool with_se, double tolerance) {
  auto rows = test::read_rows(table);
  const std::size_t n_outputs = effects.outputs.size();
  ASSERT_EQ(rows.size(), effects.mutants.size() * n_outputs);
  double worst = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& mutant = effects.mutants[i / n_outputs];
    ASSERT_EQ(std::stoi(rows[i][0]), mutant.position);
    ASSERT_EQ(rows[i][1][0], mutant.ref);
    ASSERT_EQ(rows[i][2][0], mutant.alt);
    ASSERT_EQ(std::stoi(rows[i][3]), effects.outputs[i % n_outputs]);
    worst = std::max(worst, std::abs(effects.beta[i] - std::stod(rows[i][4])));
    if (with_se) worst = std::max(worst, std::abs(effects.se[i] - std::stod(rows[i][5])));
  }
  EXPECT_LT(worst, tolerance) << table;
}

struct FixtureCase {
  std::string name;
  std::vector<int> outputs;
  int input_length;
};

// Test names and failure messages show the case's name rather than its bytes.
void PrintTo(const FixtureCase& c, std::ostream* out) { *out << c.name; }

class AgainstPyTorch : public ::testing::TestWithParam<std::tuple<FixtureCase, Backend>> {};

TEST_P(AgainstPyTorch, DropoutOffGivesFmMinusFrAndZeroSe) {
  const auto& [c, backend] = GetParam();
  auto l = load(c.name, c.outputs, backend, c.input_length);
  IsmOptions options;
  options.dropout = false;
  auto effects = make_full_forward_engine(*l.network)->run(l.reference, options);
  EXPECT_EQ(effects.samples, 0);
  expect_matches(effects, test::models_dir() + "/" + c.name + ".effects.tsv", false, 1e-6);
  for (double se : effects.se) ASSERT_EQ(se, 0.0);
}

// make_fixtures.py drew deepmr's masks (Philox, written in numpy) and applied them inside PyTorch.
TEST_P(AgainstPyTorch, PairedMaskMonteCarloDropout) {
  const auto& [c, backend] = GetParam();
  auto l = load(c.name, c.outputs, backend, c.input_length);
  IsmOptions options;
  options.mc_samples = 3;
  options.seed = 7;
  options.region_id = 3;
  auto effects = make_full_forward_engine(*l.network)->run(l.reference, options);
  EXPECT_EQ(effects.samples, 3);
  expect_matches(effects, test::models_dir() + "/" + c.name + ".mc.tsv", true, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, AgainstPyTorch,
    ::testing::Combine(::testing::Values(FixtureCase{"conv1d_small", {0, 3}, 0}, FixtureCase{"kipoi_conv2d", {1, 6}, 0},
                                         FixtureCase{"batchnorm_elu", {0, 2}, 0},
                                         FixtureCase{"traced_conv1d", {0, 3}, 60}),
                       ::testing::Values(Backend::kernels, Backend::torch)),
    [](const auto& param_info) {
      return std::get<0>(param_info.param).name +
             (std::get<1>(param_info.param) == Backend::kernels ? "_kernels" : "_torch");
    });

TEST(FullForwardEngine, OneSampleHasZeroSeExactly) {
  auto l = load("kipoi_conv2d", {1, 6});
  IsmOptions options;
  options.mc_samples = 1;
  auto effects = make_full_forward_engine(*l.network)->run(l.reference, options);
  for (double se : effects.se) ASSERT_EQ(se, 0.0);
  bool any_effect = false;
  for (double b : effects.beta) any_effect = any_effect || b != 0.0;
  EXPECT_TRUE(any_effect);
}

// The fixture's first layer weighs A and C identically: under paired masks, an A<->C substitution
// changes nothing, in every sample.
TEST(FullForwardEngine, IdenticalBasesGiveExactlyZeroEffects) {
  auto l = load("identical_bases", {0, 4});
  IsmOptions options;
  options.mc_samples = 5;
  options.seed = 99;
  auto effects = make_full_forward_engine(*l.network)->run(l.reference, options);
  int checked = 0;
  for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
    const auto& mutant = effects.mutants[m];
    const bool silent = (mutant.ref == 'A' && mutant.alt == 'C') || (mutant.ref == 'C' && mutant.alt == 'A');
    for (int o = 0; o < 2; ++o) {
      if (silent) {
        ASSERT_EQ(effects.beta_at(static_cast<int>(m), o), 0.0);
        ASSERT_EQ(effects.se_at(static_cast<int>(m), o), 0.0);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20);
  double spread = 0;
  for (double se : effects.se) spread = std::max(spread, se);
  EXPECT_GT(spread, 0.0);  // other substitutions do vary across samples
}

TEST(FullForwardEngine, TwoSamplesGiveHalfTheDifference) {
  auto l = load("kipoi_conv2d", {1, 6});
  IsmOptions options;
  options.mc_samples = 2;
  std::vector<std::vector<double>> per_sample;
  options.on_sample = [&](int, const std::vector<double>& d) { per_sample.push_back(d); };
  auto effects = make_full_forward_engine(*l.network)->run(l.reference, options);
  ASSERT_EQ(per_sample.size(), 2u);
  for (std::size_t i = 0; i < effects.se.size(); ++i) {
    const double expected = std::abs(per_sample[0][i] - per_sample[1][i]) / 2;
    ASSERT_NEAR(effects.se[i], expected, 1e-15 + 1e-12 * expected);
    ASSERT_NEAR(effects.beta[i], (per_sample[0][i] + per_sample[1][i]) / 2, 1e-15);
  }
}

TEST(FullForwardEngine, BitwiseIdenticalForAnyBatchSizeThreadCountAndIsa) {
  auto l = load("kipoi_conv2d", {0, 1, 6});
  IsmOptions options;
  options.mc_samples = 3;
  options.seed = 12345;
  options.region_id = 77;
  options.batch = 1;
  model::set_threads(1);
  const auto reference = make_full_forward_engine(*l.network)->run(l.reference, options);
  for (int batch : {7, 512}) {
    for (int threads : {1, 2}) {
      model::set_threads(threads);
      options.batch = batch;
      auto effects = make_full_forward_engine(*l.network)->run(l.reference, options);
      EXPECT_TRUE(test::bitwise_equal(effects.beta, reference.beta)) << "batch " << batch << " threads " << threads;
      EXPECT_TRUE(test::bitwise_equal(effects.se, reference.se)) << "batch " << batch << " threads " << threads;
    }
  }
  // Every instruction set gives the same bits (each output is the same chain of exact fmas).
  const auto saved = model::active_isa();
  for (auto isa : {model::Isa::scalar, model::Isa::avx2, model::Isa::avx512}) {
    if (!model::isa_supported(isa)) continue;
    model::set_active_isa(isa);
    auto network = model::make_network(l.stack, {0, 1, 6}, model::Device{}, Backend::kernels);
    auto effects = make_full_forward_engine(*network)->run(l.reference, options);
    EXPECT_TRUE(test::bitwise_equal(effects.beta, reference.beta)) << model::isa_name(isa);
    EXPECT_TRUE(test::bitwise_equal(effects.se, reference.se)) << model::isa_name(isa);
  }
  model::set_active_isa(saved);
  model::set_threads(1);
}

TEST(FullForwardEngine, WindowOfTheWrongLengthIsAnInputError) {
  auto l = load("conv1d_small", {0});
  IsmOptions options;
  try {
    make_full_forward_engine(*l.network)->run(l.reference.substr(1), options);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the window has 59 bases but the model takes 60"), std::string::npos);
  }
}

}  // namespace
}  // namespace deepmr::ism
