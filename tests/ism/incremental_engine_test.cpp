// The incremental engine against the full-forward engine (itself checked against PyTorch), against
// PyTorch directly, and against the contracts: bitwise reproducibility for any group size, thread
// count and ISA; exact zeros where a substitution cannot matter; the torch (GPU) path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "built_stacks.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/architectures.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/model_file.hpp"
#include "expected_tables.hpp"
#include "test_support.hpp"

namespace deepmr::ism {
namespace {

using model::Backend;

// Beta and se agree with the full engine to this (absolute; docs/performance.md says why float32
// allows it).
constexpr double kTolerance = 1e-6;

std::shared_ptr<model::LayerStack> fixture(const std::string& name, int input_length = 0) {
  model::ModelOverrides overrides;
  if (input_length) overrides.input_length = input_length;
  return std::make_shared<model::LayerStack>(model::load_model_file(test::fixture_model(name), overrides));
}

std::string random_sequence(int length, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(length, 'A');
  for (auto& c : s) c = "ACGT"[rng() % 4];
  return s;
}

Effects run_engine(const std::string& engine, std::shared_ptr<const model::LayerStack> stack, std::vector<int> outputs,
                   const std::string& sequence, const IsmOptions& options, Backend backend = Backend::kernels) {
  auto network = model::make_network(std::move(stack), std::move(outputs), model::Device{}, backend);
  return make_engine(engine, *network)->run(sequence, options);
}

struct Difference {
  double beta = 0, se = 0;
};

Difference max_difference(const Effects& a, const Effects& b) {
  EXPECT_EQ(a.mutants.size(), b.mutants.size());
  EXPECT_EQ(a.beta.size(), b.beta.size());
  EXPECT_EQ(a.samples, b.samples);
  Difference d;
  for (std::size_t i = 0; i < std::min(a.beta.size(), b.beta.size()); ++i) {
    d.beta = std::max(d.beta, std::abs(a.beta[i] - b.beta[i]));
    d.se = std::max(d.se, std::abs(a.se[i] - b.se[i]));
  }
  return d;
}

// The option sets every comparison runs: dropout off, and paired-mask MC dropout for several
// seeds, regions and N.
std::vector<IsmOptions> option_sets() {
  std::vector<IsmOptions> sets(4);
  sets[0].dropout = false;
  sets[1].mc_samples = 1;
  sets[1].seed = 3;
  sets[2].mc_samples = 2;
  sets[2].seed = 7;
  sets[2].region_id = 3;
  sets[3].mc_samples = 5;
  sets[3].seed = 0x5eed5eed5eedull;
  sets[3].region_id = 9;
  sets[3].batch = 13;
  return sets;
}

std::string describe(const IsmOptions& o) {
  return o.dropout ? "N=" + std::to_string(o.mc_samples) + " seed=" + std::to_string(o.seed) : "dropout off";
}

void expect_equal_to_full(std::shared_ptr<const model::LayerStack> stack, std::vector<int> outputs,
                          const std::string& sequence, const IsmOptions& options,
                          const std::vector<Backend>& backends = {Backend::kernels, Backend::torch}) {
  const auto full = run_engine("full", stack, outputs, sequence, options);
  for (Backend backend : backends) {
    const auto incremental = run_engine("incremental", stack, outputs, sequence, options, backend);
    const auto d = max_difference(full, incremental);
    const std::string where = stack->source + ", " + describe(options) +
                              (backend == Backend::kernels ? ", kernels" : ", torch");
    EXPECT_LT(d.beta, kTolerance) << where;
    EXPECT_LT(d.se, kTolerance) << where;
    if (!options.dropout) {
      for (double se : incremental.se) ASSERT_EQ(se, 0.0) << where;
    }
  }
}

struct FixtureCase {
  std::string name;
  std::vector<int> outputs;
  int input_length;
};

// Test names and failure messages show the case's name rather than its bytes.
void PrintTo(const FixtureCase& c, std::ostream* out) { *out << c.name; }

class OnFixtures : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(OnFixtures, EqualsTheFullEngine) {
  const auto& c = GetParam();
  const auto stack = fixture(c.name, c.input_length);
  for (const auto& options : option_sets()) expect_equal_to_full(stack, c.outputs, test::fixture_window(c.name), options);
}

// make_fixtures.py applied deepmr's masks inside PyTorch's own forward (seed 7, region 3, N = 3).
TEST_P(OnFixtures, MatchesPyTorchsMonteCarloEffects) {
  const auto& c = GetParam();
  IsmOptions options;
  options.mc_samples = 3;
  options.seed = 7;
  options.region_id = 3;
  const auto effects = run_engine("incremental", fixture(c.name, c.input_length), c.outputs, test::fixture_window(c.name), options);
  const auto rows = test::read_rows(test::models_dir() + "/" + c.name + ".mc.tsv");
  ASSERT_EQ(rows.size(), effects.beta.size());
  double worst = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& mutant = effects.mutants[i / c.outputs.size()];
    ASSERT_EQ(std::stoi(rows[i][0]), mutant.position);
    ASSERT_EQ(rows[i][2][0], mutant.alt);
    worst = std::max({worst, std::abs(effects.beta[i] - std::stod(rows[i][4])), std::abs(effects.se[i] - std::stod(rows[i][5]))});
  }
  EXPECT_LT(worst, kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Models, OnFixtures,
                         ::testing::Values(FixtureCase{"conv1d_small", {0, 3}, 0}, FixtureCase{"kipoi_conv2d", {1, 6}, 0},
                                           FixtureCase{"batchnorm_elu", {0, 2}, 0},
                                           FixtureCase{"traced_conv1d", {0, 3}, 60},
                                           FixtureCase{"identical_bases", {0, 4}, 0}),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(IncrementalEngine, EqualsTheFullEngineOnStridedPaddedDilatedLayers) {
  for (bool rc : {false, true}) {
    auto stack = std::make_shared<model::LayerStack>(test::strided_stack(rc));
    for (const auto& options : option_sets()) expect_equal_to_full(stack, {0, 2}, random_sequence(61, 5), options);
  }
}

TEST(IncrementalEngine, EqualsTheFullEngineOnAFullyConvolutionalHead) {
  for (bool rc : {false, true}) {
    auto stack = std::make_shared<model::LayerStack>(test::fully_convolutional_stack(rc));
    // outputs 3 x 4: channel o / 4, column o % 4
    for (const auto& options : option_sets()) expect_equal_to_full(stack, {0, 5, 11}, random_sequence(40, 6), options);
  }
}

TEST(IncrementalEngine, EqualsTheFullEngineWithoutDropoutLayers) {
  auto stack = std::make_shared<model::LayerStack>(test::no_dropout_stack());
  for (const auto& options : option_sets()) expect_equal_to_full(stack, {1, 3}, random_sequence(33, 7), options);
}

// N in the window: encoded as 0.25 in every channel, all four bases substituted.
TEST(IncrementalEngine, EqualsTheFullEngineWithNInTheWindow) {
  auto stack = fixture("kipoi_conv2d");
  std::string sequence = test::fixture_window("kipoi_conv2d");
  sequence[10] = sequence[57] = 'N';
  IsmOptions options;
  options.mc_samples = 2;
  expect_equal_to_full(stack, {1, 6}, sequence, options);
}

// A whole 1000-base window with DeepSEA's geometry: every position, both strands, the edges and
// the unreachable positions.
TEST(IncrementalEngine, EqualsTheFullEngineOnAWholeNarrowDeepSeaWindow) {
  auto stack = std::make_shared<model::LayerStack>(test::narrow_deepsea_stack(true));
  IsmOptions options;
  options.mc_samples = 2;
  options.seed = 17;
  options.region_id = 4;
  options.batch = 100;
  expect_equal_to_full(stack, {0, 8}, random_sequence(1000, 8), options, {Backend::kernels});
}

// The DeepSEA architecture itself (random weights). Its full engine takes minutes for a whole
// window, so the check runs at positions that cover every case of the geometry: both edges, the
// unreachable 995..999, and every alignment of a position to the pooling blocks (p mod 16).
TEST(IncrementalEngine, EqualsTheFullEngineOnDeepSea) {
  auto stack = std::make_shared<model::LayerStack>(model::deepsea_architecture(2));
  model::set_threads(2);
  std::vector<int> positions = {0, 1, 2, 7, 8, 9, 500, 994, 995, 997, 999};
  for (int p = 0; p < 16; ++p) positions.push_back(301 + p);
  const std::string sequence = random_sequence(1000, 9);
  for (auto [samples, seed] : {std::pair<int, std::uint64_t>{2, 1}, {3, 77}}) {
    IsmOptions options;
    options.mc_samples = samples;
    options.seed = seed;
    options.region_id = 12;
    options.positions = positions;
    expect_equal_to_full(stack, {56, 300}, sequence, options, {Backend::kernels});
  }
  model::set_threads(1);
}

TEST(IncrementalEngine, BitwiseIdenticalForAnyGroupSizeThreadCountAndIsa) {
  for (auto stack : {fixture("kipoi_conv2d"), std::make_shared<model::LayerStack>(test::strided_stack(true))}) {
    const std::string sequence = random_sequence(stack->options.input_length, 10);
    IsmOptions options;
    options.mc_samples = 3;
    options.seed = 12345;
    options.region_id = 77;
    options.batch = 1;
    model::set_threads(1);
    const auto reference = run_engine("incremental", stack, {0, 1, 2}, sequence, options);
    for (int batch : {7, 512}) {
      for (int threads : {1, 2}) {
        model::set_threads(threads);
        options.batch = batch;
        auto effects = run_engine("incremental", stack, {0, 1, 2}, sequence, options);
        EXPECT_TRUE(test::bitwise_equal(effects.beta, reference.beta)) << stack->source << " batch " << batch << " threads " << threads;
        EXPECT_TRUE(test::bitwise_equal(effects.se, reference.se)) << stack->source << " batch " << batch << " threads " << threads;
      }
    }
    const auto saved = model::active_isa();
    for (auto isa : {model::Isa::scalar, model::Isa::avx2, model::Isa::avx512}) {
      if (!model::isa_supported(isa)) continue;
      model::set_active_isa(isa);
      auto effects = run_engine("incremental", stack, {0, 1, 2}, sequence, options);
      EXPECT_TRUE(test::bitwise_equal(effects.beta, reference.beta)) << stack->source << " " << model::isa_name(isa);
      EXPECT_TRUE(test::bitwise_equal(effects.se, reference.se)) << stack->source << " " << model::isa_name(isa);
    }
    model::set_active_isa(saved);
    model::set_threads(1);
  }
}

// Skipping what zeros in the differences make zero changes no bit: every nonzero row multiplied
// sparse (cost 0), none (a huge cost), the default, and nothing skipped, on a trained model (the
// demo's: its activations are mostly at the floor) and on random-weight stacks, under MC dropout.
// The costs show that rows were skipped and went sparse, so the comparison is not vacuous.
TEST(IncrementalEngine, SkippingZeroDifferencesChangesNoBit) {
  const auto demo = std::make_shared<model::LayerStack>(
      model::load_model_file(test::source_dir() + "/demo/model/demo.pt", model::ModelOverrides{}));
  for (auto stack : {demo, fixture("kipoi_conv2d"), std::make_shared<model::LayerStack>(test::strided_stack(true))}) {
    const std::string sequence = random_sequence(stack->options.input_length, 11);
    IsmOptions options;
    options.mc_samples = 3;
    options.seed = 99;
    options.region_id = 5;
    options.batch = 16;
    auto network = model::make_network(stack, {0, 1, 2}, model::Device{}, Backend::kernels);
    model::IncrementalOptions dense;
    dense.skip_zero_deltas = false;
    const auto reference = make_incremental_engine(*network, dense)->run(sequence, options);
    for (double cost : {0.0, 4.0, 1e9}) {
      model::IncrementalOptions skipping;
      skipping.sparse_row_cost = cost;
      auto engine = make_incremental_engine(*network, skipping);
      const auto effects = engine->run(sequence, options);
      EXPECT_TRUE(test::bitwise_equal(effects.beta, reference.beta)) << stack->source << " cost " << cost;
      EXPECT_TRUE(test::bitwise_equal(effects.se, reference.se)) << stack->source << " cost " << cost;
      double zero_rows = 0, skipped = 0;
      for (const auto& stage : engine->costs()) {
        zero_rows += stage.zero_rows;
        skipped += stage.skipped_macs;
      }
      if (stack == demo) {
        EXPECT_GT(zero_rows, 0) << "no zero row: the test would not test skipping";
      }
      if (cost == 0.0) {
        EXPECT_GT(skipped, 0) << stack->source << ": no sparse row";
      }
    }
  }
}

// A mutant's result does not depend on which other mutants are evaluated: restricting the
// positions gives the same bits at those positions.
TEST(IncrementalEngine, APositionSubsetGivesTheSameBits) {
  auto stack = fixture("kipoi_conv2d");
  const std::string sequence = test::fixture_window("kipoi_conv2d");
  IsmOptions options;
  options.mc_samples = 2;
  const auto all = run_engine("incremental", stack, {1, 6}, sequence, options);
  options.positions = {119, 3, 60};
  const auto some = run_engine("incremental", stack, {1, 6}, sequence, options);
  ASSERT_EQ(some.mutants.size(), 9u);
  for (std::size_t m = 0; m < some.mutants.size(); ++m) {
    std::size_t k = 0;
    while (all.mutants[k].position != some.mutants[m].position || all.mutants[k].alt != some.mutants[m].alt) ++k;
    for (int o = 0; o < 2; ++o) {
      EXPECT_EQ(std::memcmp(&some.beta[m * 2 + o], &all.beta[k * 2 + o], sizeof(double)), 0);
      EXPECT_EQ(std::memcmp(&some.se[m * 2 + o], &all.se[k * 2 + o], sizeof(double)), 0);
    }
  }
}

// A first layer that weighs A and C identically: an A<->C substitution changes nothing, in every
// sample, and the deltas carry that exactly.
TEST(IncrementalEngine, IdenticalBasesGiveExactlyZeroEffects) {
  IsmOptions options;
  options.mc_samples = 5;
  options.seed = 99;
  const auto effects = run_engine("incremental", fixture("identical_bases"), {0, 4}, test::fixture_window("identical_bases"), options);
  int checked = 0;
  for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
    const auto& mutant = effects.mutants[m];
    if (!((mutant.ref == 'A' && mutant.alt == 'C') || (mutant.ref == 'C' && mutant.alt == 'A'))) continue;
    for (int o = 0; o < 2; ++o) {
      ASSERT_EQ(effects.beta_at(static_cast<int>(m), o), 0.0);
      ASSERT_EQ(effects.se_at(static_cast<int>(m), o), 0.0);
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

// Without strand averaging, DeepSEA's positions 995..999 feed only columns its poolings drop.
TEST(IncrementalEngine, UnreachablePositionsHaveExactlyZeroEffects) {
  auto stack = std::make_shared<model::LayerStack>(test::narrow_deepsea_stack(false));
  EXPECT_EQ(stack->live_input_positions(), (std::pair<int, int>{0, 994}));
  IsmOptions options;
  options.mc_samples = 3;
  options.positions = {993, 994, 995, 996, 997, 998, 999};
  const auto effects = run_engine("incremental", stack, {0, 3}, random_sequence(1000, 11), options);
  for (std::size_t m = 0; m < effects.mutants.size(); ++m)
    for (int o = 0; o < 2; ++o) {
      const bool dead = effects.mutants[m].position >= 995;
      if (dead) {
        ASSERT_EQ(effects.beta_at(static_cast<int>(m), o), 0.0);
        ASSERT_EQ(effects.se_at(static_cast<int>(m), o), 0.0);
      } else {
        EXPECT_NE(effects.se_at(static_cast<int>(m), o), 0.0) << effects.mutants[m].position;
      }
    }
}

TEST(IncrementalEngine, OneSampleHasZeroSeAndTwoSamplesHalfTheDifference) {
  auto stack = fixture("kipoi_conv2d");
  const std::string sequence = test::fixture_window("kipoi_conv2d");
  IsmOptions options;
  options.mc_samples = 1;
  for (double se : run_engine("incremental", stack, {1, 6}, sequence, options).se) ASSERT_EQ(se, 0.0);
  options.mc_samples = 2;
  std::vector<std::vector<double>> per_sample;
  options.on_sample = [&](int, const std::vector<double>& d) { per_sample.push_back(d); };
  const auto effects = run_engine("incremental", stack, {1, 6}, sequence, options);
  ASSERT_EQ(per_sample.size(), 2u);
  double spread = 0;
  for (std::size_t i = 0; i < effects.se.size(); ++i) {
    const double expected = std::abs(per_sample[0][i] - per_sample[1][i]) / 2;
    ASSERT_NEAR(effects.se[i], expected, 1e-15 + 1e-12 * expected);
    ASSERT_NEAR(effects.beta[i], (per_sample[0][i] + per_sample[1][i]) / 2, 1e-15);
    spread = std::max(spread, effects.se[i]);
  }
  EXPECT_GT(spread, 0.0);
}

// The torch implementation evaluating several Monte Carlo samples per pass: every sample's paired
// differences (on_sample, in sample order) and the effects agree with the kernels engine, which
// computes one sample at a time, to the torch tests' tolerance; with N not a multiple of the pass
// and N below it; with dropout off; on sliced and unsliced heads, strands averaged or not, and a
// stack without dropout layers. Different samples' differences differ by far more than the
// tolerance (checked), so a sample evaluated under another's masks would fail.
TEST(IncrementalEngine, TorchSeveralSamplesPerPassEqualsTheKernels) {
  struct Case {
    std::shared_ptr<const model::LayerStack> stack;
    std::vector<int> outputs;
    std::string sequence;
  };
  std::vector<Case> cases;
  for (const auto& [name, outputs] : std::vector<std::pair<std::string, std::vector<int>>>{
           {"conv1d_small", {0, 3}}, {"kipoi_conv2d", {1, 6}}, {"batchnorm_elu", {0, 2}}})
    cases.push_back({fixture(name), outputs, test::fixture_window(name)});
  cases.push_back({std::make_shared<model::LayerStack>(test::fully_convolutional_stack(true)), {0, 5, 11},
                   random_sequence(40, 6)});
  cases.push_back({std::make_shared<model::LayerStack>(test::strided_stack(true)), {0, 2}, random_sequence(61, 5)});
  cases.push_back({std::make_shared<model::LayerStack>(test::no_dropout_stack()), {1, 3}, random_sequence(33, 7)});
  struct Sampled {
    Effects effects;
    std::vector<int> order;
    std::vector<std::vector<double>> differences;
  };
  const auto run = [](const Case& c, IsmOptions options, Backend backend, int per_pass) {
    Sampled out;
    options.on_sample = [&](int n, const std::vector<double>& d) {
      out.order.push_back(n);
      out.differences.push_back(d);
    };
    auto network = model::make_network(c.stack, c.outputs, model::Device{}, backend);
    model::IncrementalOptions incremental;
    incremental.samples_per_pass = per_pass;
    out.effects = make_incremental_engine(*network, incremental)->run(c.sequence, options);
    return out;
  };
  for (const auto& c : cases) {
    // N = 7 (no pass size but 1 divides it), 2 (below most), dropout off (one sample), and the
    // second of two sample groups of N = 21 (samples 8..15: not starting at 0).
    for (const auto& [samples, dropout, group] :
         std::vector<std::tuple<int, bool, int>>{{7, true, 0}, {2, true, 0}, {4, false, 0}, {21, true, 1}}) {
      IsmOptions options;
      options.mc_samples = samples;
      options.dropout = dropout;
      if (group) {
        options.sample_groups = 2;
        options.sample_group = group;
      }
      options.seed = 31;
      options.region_id = 6;
      options.batch = 9;  // several groups
      const auto kernels = run(c, options, Backend::kernels, 0);
      ASSERT_EQ(kernels.order.size(), !dropout ? 1u : group ? 8u : static_cast<std::size_t>(samples));
      if (dropout && !c.stack->dropout_layers().empty()) {
        double spread = 0;
        for (std::size_t i = 0; i < kernels.differences[0].size(); ++i)
          spread = std::max(spread, std::abs(kernels.differences[0][i] - kernels.differences[1][i]));
        EXPECT_GT(spread, 100 * kTolerance) << c.stack->source << ": the samples do not differ";
      }
      for (int per_pass : {1, 2, 3, 5}) {
        const std::string where = c.stack->source + ", " + describe(options) + ", " + std::to_string(per_pass) + " per pass";
        const auto torch = run(c, options, Backend::torch, per_pass);
        ASSERT_EQ(torch.order, kernels.order) << where;
        double worst = 0;
        for (std::size_t n = 0; n < torch.differences.size(); ++n)
          for (std::size_t i = 0; i < torch.differences[n].size(); ++i)
            worst = std::max(worst, std::abs(torch.differences[n][i] - kernels.differences[n][i]));
        EXPECT_LT(worst, kTolerance) << where;
        if (group) continue;  // a part of a split run: blocks, no effects
        const auto d = max_difference(torch.effects, kernels.effects);
        EXPECT_LT(d.beta, kTolerance) << where;
        EXPECT_LT(d.se, kTolerance) << where;
      }
    }
  }
}

TEST(MakeEngine, ChoosesByName) {
  auto stack = fixture("conv1d_small");
  auto network = model::make_network(stack, {0}, model::Device{}, Backend::kernels);
  EXPECT_EQ(make_engine("full", *network)->name(), "full");
  EXPECT_EQ(make_engine("incremental", *network)->name(), "incremental");
  EXPECT_EQ(make_engine("auto", *network)->name(), "incremental");
  EXPECT_TRUE(supports_incremental(*stack));
  EXPECT_THROW(make_engine("fast", *network), UsageError);
}

TEST(MakeEngine, AutoFallsBackToFullWhenTheStackHasNoIncrementalForm) {
  auto stack = std::make_shared<model::LayerStack>(test::no_dropout_stack());
  stack->layers[2].kernel = 0;  // a pooling of zero columns: no geometry to follow
  auto network = model::make_network(stack, {0}, model::Device{}, Backend::kernels);
  std::string reason;
  EXPECT_FALSE(supports_incremental(*stack, &reason));
  EXPECT_NE(reason.find("pools fewer than one column"), std::string::npos) << reason;
  EXPECT_EQ(make_engine("auto", *network)->name(), "full");
  EXPECT_THROW(make_engine("incremental", *network), ModelError);
}

TEST(IncrementalEngine, WindowOfTheWrongLengthIsAnInputError) {
  auto network = model::make_network(fixture("conv1d_small"), {0}, model::Device{}, Backend::kernels);
  EXPECT_THROW(make_incremental_engine(*network)->run(test::fixture_window("conv1d_small").substr(1), IsmOptions{}), InputError);
}

}  // namespace
}  // namespace deepmr::ism

namespace deepmr::ism {
namespace {

// A worker with several devices splits the samples into groups of blocks, one engine per device;
// merged, the groups give the bits of one engine computing every sample, for both engines.
TEST(SampleGroups, SplitRunsMergeToTheBitsOfOneEngine) {
  auto stack = fixture("kipoi_conv2d");
  const std::string sequence = test::fixture_window("kipoi_conv2d");
  IsmOptions options;
  options.mc_samples = 21;  // three blocks, the last one short
  options.seed = 5;
  options.region_id = 2;
  for (const std::string engine : {"full", "incremental"}) {
    const Effects whole = run_engine(engine, stack, {1, 6}, sequence, options);
    for (int groups : {2, 3}) {
      std::vector<Effects> parts;
      for (int g = 0; g < groups; ++g) {
        IsmOptions part = options;
        part.sample_group = g;
        part.sample_groups = groups;
        parts.push_back(run_engine(engine, stack, {1, 6}, sequence, part));
        EXPECT_TRUE(parts.back().beta.empty());
      }
      const Effects merged = merge_sample_groups(std::move(parts));
      EXPECT_EQ(merged.beta, whole.beta) << engine << " " << groups;
      EXPECT_EQ(merged.se, whole.se) << engine << " " << groups;
    }
  }
}

// The jackknife's leave-group-out effects: the same from both engines (to float rounding) and from
// split runs (bitwise), beta and se unchanged by it, and with G = N each one the mean of the other
// samples' differences.
TEST(SampleGroups, JackknifeEffectsAgreeAcrossEnginesAndSplits) {
  auto stack = fixture("kipoi_conv2d");
  const std::string sequence = test::fixture_window("kipoi_conv2d");
  IsmOptions options;
  options.mc_samples = 21;
  options.seed = 5;
  options.region_id = 2;
  options.jackknife_groups = 4;
  const Effects full = run_engine("full", stack, {1, 6}, sequence, options);
  ASSERT_EQ(full.jackknife.beta.size(), 4u);
  EXPECT_EQ(full.jackknife.sizes, (std::vector<double>{6, 5, 5, 5}));
  IsmOptions plain = options;
  plain.jackknife_groups = 0;
  const Effects without = run_engine("full", stack, {1, 6}, sequence, plain);
  EXPECT_EQ(without.beta, full.beta);  // the jackknife does not change the effects' bits
  EXPECT_EQ(without.se, full.se);
  EXPECT_TRUE(without.jackknife.beta.empty());
  const Effects incremental = run_engine("incremental", stack, {1, 6}, sequence, options);
  for (std::size_t g = 0; g < 4; ++g)
    for (std::size_t i = 0; i < full.beta.size(); ++i) {
      EXPECT_NEAR(incremental.jackknife.beta[g][i], full.jackknife.beta[g][i], 1e-6) << g << " " << i;
      EXPECT_NEAR(incremental.jackknife.se[g][i], full.jackknife.se[g][i], 1e-6) << g << " " << i;
    }
  std::vector<Effects> parts;
  for (int g = 0; g < 3; ++g) {
    IsmOptions part = options;
    part.sample_group = g;
    part.sample_groups = 3;
    parts.push_back(run_engine("full", stack, {1, 6}, sequence, part));
  }
  const Effects merged = merge_sample_groups(std::move(parts));
  EXPECT_EQ(merged.jackknife.beta, full.jackknife.beta);
  EXPECT_EQ(merged.jackknife.se, full.jackknife.se);
  // Delete-1 with the samples' own differences (on_sample): each leave-out mean is the mean of the rest.
  IsmOptions each = options;
  each.mc_samples = 5;
  each.jackknife_groups = 5;
  std::vector<std::vector<double>> seen;
  each.on_sample = [&](int, const std::vector<double>& d) { seen.push_back(d); };
  const Effects one = run_engine("full", stack, {1, 6}, sequence, each);
  ASSERT_EQ(seen.size(), 5u);
  for (std::size_t g = 0; g < 5; ++g)
    for (std::size_t i = 0; i < one.beta.size(); ++i) {
      double mean = 0;
      for (std::size_t n = 0; n < 5; ++n)
        if (n != g) mean += seen[n][i] / 4;
      EXPECT_NEAR(one.jackknife.beta[g][i], mean, 1e-12) << g << " " << i;
    }
  IsmOptions too_many = options;
  too_many.jackknife_groups = 22;
  EXPECT_THROW(run_engine("full", stack, {1, 6}, sequence, too_many), UsageError);
}

TEST(SampleGroups, AStopRequestInterruptsARegionBetweenSamples) {
  auto stack = fixture("conv1d_small");
  IsmOptions options;
  options.mc_samples = 10;
  int calls = 0;
  options.should_stop = [&] { return ++calls > 3; };
  for (const std::string engine : {"full", "incremental"}) {
    calls = 0;
    EXPECT_THROW(run_engine(engine, stack, {0}, test::fixture_window("conv1d_small"), options), StoppedEarly) << engine;
    EXPECT_EQ(calls, 4) << engine;
  }
}

}  // namespace
}  // namespace deepmr::ism
