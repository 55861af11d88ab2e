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

// Several Monte Carlo samples per pass (the torch implementation, samples_per_pass > 1): each
// sample's reference and variant outputs equal those of a pass of that sample alone.
#include <cmath>
#include <cstring>
#include <iostream>
#include <random>

#include "deepmr/model/model_file.hpp"
#include "expected_tables.hpp"

namespace deepmr::model {
namespace {

// The outputs of one sample: references (count x outputs), variants (variants x outputs).
struct SampleOutputs {
  std::vector<float> references, variants;
};

struct Region {
  std::vector<float> references;
  int count = 0;
  std::vector<VariantGroup> groups;
  int variants = 0;
};

// `count` random one-hot references and, for every column that reaches the output, one
// substitution, in three groups of unequal sizes.
Region random_region(const LayerStack& stack, int count, unsigned seed) {
  Region region;
  const int length = stack.options.input_length, channels = stack.input_channels();
  std::mt19937 rng(seed);
  region.count = count;
  region.references.assign(static_cast<std::size_t>(count) * channels * length, 0.0f);
  for (int r = 0; r < count; ++r)
    for (int w = 0; w < length; ++w)
      region.references[(static_cast<std::size_t>(r) * channels + rng() % channels) * length + w] = 1.0f;
  std::vector<int> columns;
  for (int w = 0; w < length; ++w)
    if (change_reaches_output(stack, w)) columns.push_back(w);
  const std::size_t cuts[] = {0, columns.size() / 3, columns.size() * 3 / 4, columns.size()};
  for (int g = 0; g < 3; ++g) {
    VariantGroup group;
    for (std::size_t i = cuts[g]; i < cuts[g + 1]; ++i) {
      group.reference.push_back(static_cast<int>(i % count));
      group.column.push_back(columns[i]);
      const int base = static_cast<int>(rng() % channels);
      for (int c = 0; c < channels; ++c) group.values.push_back(c == base ? 1.0f : 0.0f);
    }
    region.variants += group.size();
    region.groups.push_back(std::move(group));
  }
  return region;
}

// Samples 0 .. n - 1 (dropout masks of seed 7, region 3; none when `dropout` is off) in passes of
// `per_pass`, as sample-major blocks split per sample.
std::vector<SampleOutputs> run_samples(Network& network, const Region& region, int n, int per_pass, bool dropout) {
  IncrementalOptions options;
  options.samples_per_pass = per_pass;
  auto incremental = make_incremental_network(network, options);
  incremental->set_region(region.references.data(), region.count, region.groups);
  EXPECT_EQ(incremental->samples_per_pass(), per_pass);
  const std::size_t outputs = network.outputs().size();
  const std::size_t reference_size = region.count * outputs, variant_size = region.variants * outputs;
  std::vector<SampleOutputs> result;
  for (int first = 0; first < n; first += per_pass) {
    const int pass = std::min(per_pass, n - first);
    std::vector<DropoutMasks> masks(pass);
    std::vector<const DropoutMasks*> pointers(pass, nullptr);
    for (int s = 0; s < pass && dropout; ++s) {
      masks[s] = draw_dropout_masks(network.stack(), 7, 3, static_cast<std::uint32_t>(first + s));
      pointers[s] = &masks[s];
    }
    incremental->set_samples(pointers);
    std::vector<float> references(pass * reference_size), variants(pass * variant_size);
    incremental->reference_outputs(references.data());
    incremental->evaluate(variants.data());
    for (int s = 0; s < pass; ++s)
      result.push_back({{references.begin() + s * reference_size, references.begin() + (s + 1) * reference_size},
                        {variants.begin() + s * variant_size, variants.begin() + (s + 1) * variant_size}});
  }
  return result;
}

double max_difference(const SampleOutputs& a, const SampleOutputs& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.references.size(); ++i) d = std::max(d, std::abs(double(a.references[i]) - b.references[i]));
  for (std::size_t i = 0; i < a.variants.size(); ++i) d = std::max(d, std::abs(double(a.variants[i]) - b.variants[i]));
  return d;
}

bool bitwise_equal(const SampleOutputs& a, const SampleOutputs& b) {
  return a.references.size() == b.references.size() && a.variants.size() == b.variants.size() &&
         std::memcmp(a.references.data(), b.references.data(), a.references.size() * sizeof(float)) == 0 &&
         std::memcmp(a.variants.data(), b.variants.data(), a.variants.size() * sizeof(float)) == 0;
}

// Each sample's outputs from a pass of several agree with its pass alone to this (absolute; the
// outputs are probabilities): LibTorch's products pick their own reduction order by shape, so the
// bits may differ (measured: docs/performance.md).
constexpr double kPassTolerance = 1e-6;

struct PassCase {
  std::string name;  // a fixture model, or "deepsea" (the architecture, random weights)
  std::vector<int> outputs;
  int count;  // references
  bool quick = false;  // DeepSEA on the CPU's LibTorch is slow: one pass size (3), 4 samples, dropout on
};

void PrintTo(const PassCase& c, std::ostream* out) { *out << c.name; }

class SamplesPerPass : public ::testing::TestWithParam<PassCase> {};

TEST_P(SamplesPerPass, EachSampleEqualsItsPassAlone) {
  const auto& c = GetParam();
  std::shared_ptr<LayerStack> stack;
  if (c.name == "deepsea") {
    stack = std::make_shared<LayerStack>(deepsea_architecture(3));
  } else {
    stack = std::make_shared<LayerStack>(load_model_file(test::fixture_model(c.name), ModelOverrides{}));
  }
  ASSERT_FALSE(stack->dropout_layers().empty()) << c.name;
  auto network = make_network(stack, c.outputs, Device{}, Backend::torch);
  Region region = random_region(*stack, c.count, 21);
  if (c.name == "deepsea") {  // a few columns: the whole window takes long on the CPU's LibTorch
    for (auto& group : region.groups) {
      group.reference.resize(std::min(group.size(), 6));
      group.column.resize(group.reference.size());
      group.values.resize(group.reference.size() * stack->input_channels());
    }
    region.variants = 0;
    for (auto& group : region.groups) region.variants += group.size();
  }
  double worst = 0, worst_reference = 0;
  int bitwise = 0, compared = 0;
  for (bool dropout : {true, false}) {
    if (c.quick && !dropout) continue;
    const int n = c.quick ? 4 : 7;
    const auto alone = run_samples(*network, region, n, 1, dropout);
    ASSERT_EQ(alone.size(), static_cast<std::size_t>(n));
    // Different samples' outputs differ by far more than the tolerance, so a sample paired with
    // another's masks (or references, or variant rows) would fail the comparison below.
    const double spread = max_difference(alone[0], alone[1]);
    if (dropout) {
      EXPECT_GT(spread, 1e-3) << c.name;
    } else {
      EXPECT_EQ(spread, 0.0) << c.name;
    }
    for (int per_pass : c.quick ? std::vector<int>{3} : std::vector<int>{2, 3, 5, 8}) {  // 8: more than the samples
      for (int samples : c.quick ? std::vector<int>{n} : std::vector<int>{n, 2}) {
        const auto together = run_samples(*network, region, samples, per_pass, dropout);
        ASSERT_EQ(together.size(), static_cast<std::size_t>(samples));
        for (int s = 0; s < samples; ++s) {
          const double d = max_difference(together[s], alone[s]);
          worst = std::max(worst, d);
          bitwise += bitwise_equal(together[s], alone[s]);
          compared += 1;
          SampleOutputs refs_a{together[s].references, {}}, refs_b{alone[s].references, {}};
          worst_reference = std::max(worst_reference, max_difference(refs_a, refs_b));
          EXPECT_LT(d, kPassTolerance) << c.name << (dropout ? "" : ", dropout off") << ": " << per_pass
                                       << " per pass, sample " << s << " of " << samples;
        }
      }
    }
  }
  std::cout << c.name << ": " << bitwise << " of " << compared << " samples bitwise equal; max |diff| " << worst
            << " (references " << worst_reference << ")\n";
}

INSTANTIATE_TEST_SUITE_P(Models, SamplesPerPass,
                         ::testing::Values(PassCase{"conv1d_small", {0, 3}, 1}, PassCase{"kipoi_conv2d", {1, 6}, 2},
                                           PassCase{"batchnorm_elu", {0, 2}, 2}, PassCase{"deepsea", {5, 300}, 2, true}),
                         [](const auto& param_info) { return param_info.param.name; });

// Without an explicit choice the torch implementation takes one sample per pass on the CPU; the
// kernels implementation always takes one and refuses more.
TEST(SamplesPerPass, OneOnTheCpuAndForTheKernels) {
  auto stack = std::make_shared<LayerStack>(load_model_file(test::fixture_model("conv1d_small"), ModelOverrides{}));
  const Region region = random_region(*stack, 1, 5);
  for (Backend backend : {Backend::torch, Backend::kernels}) {
    auto network = make_network(stack, {0}, Device{}, backend);
    IncrementalOptions options;
    if (backend == Backend::kernels) options.samples_per_pass = 4;  // ignored
    auto incremental = make_incremental_network(*network, options);
    incremental->set_region(region.references.data(), region.count, region.groups);
    EXPECT_EQ(incremental->samples_per_pass(), 1);
    const DropoutMasks masks = draw_dropout_masks(*stack, 1, 2, 3);
    EXPECT_THROW(incremental->set_samples({&masks, &masks}), InternalError);
  }
}

}  // namespace
}  // namespace deepmr::model
