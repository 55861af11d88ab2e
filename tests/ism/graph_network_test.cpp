// Graph models on the torch backend's full engine (issue 16, step 2): fixtures of
// tests/model/make_fixtures.py --graphs (written into the build tree by the graph_model_fixtures
// test) loaded by load_model_file as graphs, run by the graph Network and the full engine, and
// checked against PyTorch's float64 outputs and the float64 graph evaluator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/ism/mutants.hpp"
#include "deepmr/model/graph.hpp"
#include "deepmr/model/ensemble_network.hpp"
#include "deepmr/model/graph_torch_evaluator.hpp"
#include "deepmr/model/incremental_network.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/network.hpp"
#include "expected_tables.hpp"
#include "graph_fixtures.hpp"
#include "test_support.hpp"

namespace deepmr {
namespace {

using namespace graph_test;
using model::Backend;
using model::Device;
using model::LayerStack;

TEST(GraphNetwork, ModelsThatAreNotSequentialsLoadAsGraphs) {
  auto bpnet = load("bpnet_scripted", 100);
  ASSERT_TRUE(bpnet->is_graph());
  EXPECT_TRUE(bpnet->layers.empty());
  EXPECT_EQ(bpnet->output_count(), 2 * 100 + 2);  // (profile 2 x 100, counts 2)
  ASSERT_EQ(bpnet->target_names.size(), 202u);
  EXPECT_EQ(bpnet->target_names[0], "0:0");
  EXPECT_EQ(bpnet->target_names[199], "0:199");
  EXPECT_EQ(bpnet->target_names[200], "1:0");
  EXPECT_EQ(bpnet->target_names[201], "1:1");
  auto basset = load("basset_traced", 120);
  ASSERT_TRUE(basset->is_graph());
  EXPECT_EQ(basset->output_count(), 5);
  EXPECT_TRUE(basset->target_names.empty());  // a lone tensor: outputs by index
  EXPECT_EQ(basset->dropout_rates(), std::vector<double>{0.3});
  // The input length from the model's metadata; a Sequential still loads as a layer stack.
  auto dropout = load("bpnet_dropout_scripted");
  EXPECT_EQ(dropout->options.input_length, 64);
  EXPECT_EQ(dropout->dropout_rates(), (std::vector<double>{0.2, 0.3, 0.3}));
  EXPECT_FALSE(model::load_model_file(test::fixture_model("conv1d_small")).is_graph());
  // A graph without a length takes the data's.
  EXPECT_EQ(model::load_model_file(graph_fixture("resnet_scripted"), {}, model::DataLength{60, "--sequence"})
                .options.input_length,
            60);
}

// (a) The graph Network's float32 outputs are PyTorch's float64 outputs within 1e-5 (relative
// to max(1, |value|)), for float32 and float64 files.
TEST(GraphNetwork, OutputsArePyTorchs) {
  std::vector<Fixture> fixtures = kFixtures;
  fixtures.push_back({"bpnet_float64_scripted", 100, false});
  fixtures.push_back({"resnet_float64_scripted", 60, false});
  fixtures.push_back({"dict_heads_scripted", 50, false});
  fixtures.push_back({"bpnet_dropout_scripted", 64, false});
  fixtures.push_back({"bpnet_1000_scripted", 1000, false});
  for (const auto& f : fixtures) {
    SCOPED_TRACE(f.name);
    auto stack = load(f.name, f.length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    const auto expected = expected_outputs(f.name);
    ASSERT_EQ(expected.sequences.size(), 3u);
    const auto out = forward(*network, expected.sequences);
    const std::size_t n = network->outputs().size();
    double worst = 0;
    for (std::size_t b = 0; b < expected.sequences.size(); ++b) {
      ASSERT_EQ(expected.outputs[b].size(), n);
      for (std::size_t o = 0; o < n; ++o) {
        const double want = expected.outputs[b][o];
        worst = std::max(worst, std::abs(out[b * n + o] - want) / std::max(1.0, std::abs(want)));
      }
    }
    EXPECT_LE(worst, 1e-5);
    // A subset of the outputs, in any order, is the same values.
    const std::vector<int> some{static_cast<int>(n) - 1, 0, static_cast<int>(n / 2)};
    auto subset = model::make_network(stack, some, Device{}, Backend::torch);
    const auto sub = forward(*subset, expected.sequences);
    for (std::size_t b = 0; b < expected.sequences.size(); ++b)
      for (std::size_t k = 0; k < some.size(); ++k) EXPECT_EQ(sub[b * some.size() + k], out[b * n + some[k]]);
  }
}

// (b) ism effects without dropout = differences of the float64 evaluator's outputs on the
// reference and mutant one-hots: within 1e-6 on sigmoid outputs, and 1e-5 * max(1, |f(r)|) on
// unsquashed ones (BPNet's profile and counts, ResNet's log-softmax: float32 rounding through the
// tower, relative to the size of the outputs).
TEST(GraphNetwork, IsmEffectsAreDifferencesOfPyTorchOutputs) {
  for (const auto& f : kFixtures) {
    SCOPED_TRACE(f.name);
    auto stack = load(f.name, f.length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    auto engine = ism::make_engine("auto", *network);
    EXPECT_EQ(engine->name(), "incremental");  // auto picks the incremental engine for graphs
    const std::string sequence = expected_outputs(f.name).sequences.front();
    ism::IsmOptions options;
    options.dropout = false;
    const auto effects = engine->run(sequence, options);
    ASSERT_EQ(effects.mutants.size(), 3u * f.length);
    std::vector<std::string> seqs{sequence};
    for (const auto& m : effects.mutants) {
      std::string s = sequence;
      s[static_cast<std::size_t>(m.position)] = m.alt;
      seqs.push_back(s);
    }
    const auto rows = evaluate64(*stack, seqs);
    const std::size_t n = effects.outputs.size();
    double worst = 0;
    for (std::size_t m = 0; m < effects.mutants.size(); ++m)
      for (std::size_t o = 0; o < n; ++o) {
        const double want = rows[m + 1][o] - rows[0][o];
        const double scale = f.squashed ? 1.0 : std::max(1.0, std::abs(rows[0][o]));
        worst = std::max(worst, std::abs(effects.beta_at(static_cast<int>(m), static_cast<int>(o)) - want) / scale);
        EXPECT_EQ(effects.se_at(static_cast<int>(m), static_cast<int>(o)), 0.0);
      }
    EXPECT_LE(worst, f.squashed ? 1e-6 : 1e-5);
    std::cout << f.name << ": largest |effect - float64 difference| (scaled) " << worst << "\n";
  }
}

// MC dropout on a graph: the masks of the graph's dropout sites (seed 7, region 3, samples 0-2)
// applied as PyTorch's dropout: the outputs of make_fixtures.py's float64 forward under the same
// masks (drawn there independently of the C++), within 1e-5.
TEST(GraphNetwork, DropoutMasksOfTheGraphSitesAreAppliedAsPyTorchDoes) {
  auto stack = load("bpnet_dropout_scripted");
  auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
  const auto rows = tab_rows(test::binary_dir() + "/test-fixtures/graphs/bpnet_dropout.masked_outputs.tsv");
  ASSERT_EQ(rows.size(), 6u);
  const std::size_t n = network->outputs().size();
  double worst = 0;
  for (const auto& row : rows) {
    const auto masks = model::draw_dropout_masks(*stack, 7, 3, static_cast<std::uint32_t>(std::stoi(row[0])));
    ASSERT_EQ(masks.layers.size(), 3u);
    EXPECT_EQ(masks.layers[0].size(), 8u * 64);
    const auto out = forward(*network, {row[1]}, &masks);
    ASSERT_EQ(row.size(), n + 2);
    for (std::size_t o = 0; o < n; ++o) {
      const double want = std::stod(row[o + 2]);
      worst = std::max(worst, std::abs(out[o] - want) / std::max(1.0, std::abs(want)));
    }
  }
  EXPECT_LE(worst, 1e-5);
  // Without masks the dropout sites are the identity.
  const auto plain = forward(*network, {rows[0][1]});
  const auto reference = evaluate64(*stack, {rows[0][1]});
  for (std::size_t o = 0; o < n; ++o) EXPECT_NEAR(plain[o], reference[0][o], 1e-5 * std::max(1.0, std::abs(reference[0][o])));
}

// (c) Paired masks: the first conv reads G and T with identical weights, so a G <-> T substitution
// leaves every output unchanged under every mask: exactly zero differences, per sample. Every
// output: bpnet_dropout's profile (through the transposed conv) and counts, basset_dropout's
// classes (a linear layer on differences after a flatten and a dropout site).
TEST(GraphNetwork, PairedMasksGiveExactlyZeroEffectsForIdenticalBases) {
  for (const std::string fixture : {"bpnet_dropout_scripted", "basset_dropout_scripted"}) {
    auto stack = load(fixture);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    EXPECT_EQ(ism::make_engine("auto", *network)->name(), "incremental");  // auto picks it for graphs
    const std::string sequence = expected_outputs(fixture).sequences.front();
    // Both engines. Batch 64: the last mutant alone in its batch (bpnet_dropout); 37: a last batch of 8.
    for (const std::string engine_name : {"full", "incremental"})
      for (int batch : {64, 37}) {
        SCOPED_TRACE(fixture + " " + engine_name + " batch " + std::to_string(batch));
        EXPECT_EQ(expect_exact_zero_gt_effects(engine_name, *network, sequence, batch), engine_name);
      }
  }
}

// (d) Batch invariance: the outputs of a batch are those of its rows one by one (with masks; the
// same bits: the network evaluates fixed chunks), and the effects of any batch size agree within
// 1e-6 (observed: equal).
TEST(GraphNetwork, ResultsDoNotDependOnTheBatch) {
  for (const auto& [name, length] : std::vector<std::pair<std::string, int>>{
           {"bpnet_dropout_scripted", 64}, {"basset_scripted", 120}, {"resnet_scripted", 60}}) {
    SCOPED_TRACE(name);
    auto stack = load(name, length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    const auto masks = model::draw_dropout_masks(*stack, 5, 2, 1);
    const auto seqs = expected_outputs(name).sequences;
    const auto together = forward(*network, seqs, &masks);
    const std::size_t n = network->outputs().size();
    for (std::size_t b = 0; b < seqs.size(); ++b) {
      const auto alone = forward(*network, {seqs[b]}, &masks);
      for (std::size_t o = 0; o < n; ++o) EXPECT_EQ(alone[o], together[b * n + o]);  // fixed chunks: the same bits
    }
    auto engine = ism::make_engine("full", *network);
    ism::IsmOptions options;
    options.mc_samples = 3;
    options.positions = {0, 7, 20, 40};
    options.batch = 1;
    const auto one = engine->run(seqs[0], options);
    options.batch = 64;
    const auto many = engine->run(seqs[0], options);
    ASSERT_EQ(one.beta.size(), many.beta.size());
    for (std::size_t i = 0; i < one.beta.size(); ++i) {
      EXPECT_NEAR(one.beta[i], many.beta[i], 1e-6);
      EXPECT_NEAR(one.se[i], many.se[i], 1e-6);
    }
  }
}

// (e) The kernels backend runs graphs too (graph_kernel_network_test.cpp), on the full engine:
// auto picks it there, while the torch backend's graph network has the incremental engine.
TEST(GraphNetwork, KernelsBackendRunsGraphsOnTheFullEngine) {
  auto stack = load("bpnet_scripted", 100);
  auto network = model::make_network(stack, {0}, Device{}, Backend::kernels);
  EXPECT_EQ(network->backend(), Backend::kernels);
  EXPECT_EQ(ism::make_engine("auto", *network)->name(), "full");
  EXPECT_TRUE(ism::supports_incremental(*stack));
  EXPECT_EQ(model::incremental_unsupported_reason(*stack, Backend::torch), "");
  EXPECT_NE(model::incremental_unsupported_reason(*stack, Backend::kernels), "");
}

// ism effects of the incremental engine on graphs.
ism::Effects run_engine(const std::string& engine_name, model::Network& network, const std::string& sequence,
                        bool dropout, int batch, std::vector<int> positions = {}) {
  auto engine = ism::make_engine(engine_name, network);
  EXPECT_EQ(engine->name(), engine_name);
  ism::IsmOptions options;
  options.dropout = dropout;
  options.mc_samples = dropout ? 3 : 1;
  options.seed = 11;
  options.region_id = 2;
  options.batch = batch;
  options.positions = std::move(positions);
  return engine->run(sequence, options);
}

struct Difference {
  double beta = 0, se = 0;
};

Difference largest_difference(const ism::Effects& a, const ism::Effects& b) {
  EXPECT_EQ(a.beta.size(), b.beta.size());
  EXPECT_EQ(a.se.size(), b.se.size());
  Difference d;
  for (std::size_t i = 0; i < std::min(a.beta.size(), b.beta.size()); ++i) d.beta = std::max(d.beta, std::abs(a.beta[i] - b.beta[i]));
  for (std::size_t i = 0; i < std::min(a.se.size(), b.se.size()); ++i) d.se = std::max(d.se, std::abs(a.se[i] - b.se[i]));
  return d;
}

// The full and the incremental engine on `network` (batch 64): effects are there to compare
// (largest > 1e-4) and agree within 1e-6 in beta and se. Returns the differences.
Difference expect_incremental_equals_full(model::Network& network, const std::string& sequence, bool dropout,
                                          double* largest = nullptr) {
  const auto full = run_engine("full", network, sequence, dropout, 64);
  const auto incremental = run_engine("incremental", network, sequence, dropout, 64);
  const auto d = largest_difference(full, incremental);
  double largest_effect = 0;
  for (double b : full.beta) largest_effect = std::max(largest_effect, std::abs(b));
  EXPECT_GT(largest_effect, 1e-4);
  EXPECT_LE(d.beta, 1e-6);
  EXPECT_LE(d.se, 1e-6);
  if (largest) *largest = largest_effect;
  return d;
}

// (f) The incremental engine (windows of changed columns through the DAG, full evaluation
// downstream of a stop node) gives the full engine's effects within 1e-6 on every graph fixture,
// with MC dropout on and off; the effects are not trivially zero.
TEST(GraphIncremental, EqualsTheFullEngineOnEveryFixture) {
  std::vector<Fixture> fixtures = kFixtures;
  fixtures.push_back({"bpnet_float64_scripted", 100, false});
  fixtures.push_back({"resnet_float64_scripted", 60, false});
  fixtures.push_back({"dict_heads_scripted", 50, false});
  fixtures.push_back({"bpnet_dropout_scripted", 64, false});
  fixtures.push_back({"basset_dropout_scripted", 120, false});  // a dropout site between flatten and linear
  fixtures.push_back({"basset_float64_scripted", 120, false});
  fixtures.push_back({"conv2d_pitfalls_scripted", 40, false});
  fixtures.push_back({"conv2d_pitfalls_traced", 40, false});
  for (const auto& f : fixtures) {
    auto stack = load(f.name, f.length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    const std::string sequence = expected_outputs(f.name).sequences.front();
    for (bool dropout : {false, true}) {
      SCOPED_TRACE(f.name + (dropout ? " (dropout)" : ""));
      double largest_effect = 0;
      const auto d = expect_incremental_equals_full(*network, sequence, dropout, &largest_effect);
      std::cout << f.name << (dropout ? " dropout" : "") << ": |incremental - full| beta " << d.beta << ", se " << d.se
                << " (largest effect " << largest_effect << ")\n";
    }
  }
}

// BPNet's geometry (issue 16, item 8): 1000 bp, 9 dilated residual layers whose last ones reach
// the whole window, the transposed-conv profile head and the global-mean counts head. The
// incremental engine equals the full engine on the counts and on profile positions at both ends
// and in the middle of the window, and the effects are PyTorch's float64 differences (through the
// float64 evaluator of the same graph) for a few mutants.
TEST(GraphIncremental, BPNetGeometryAt1000Bases) {
  auto stack = load("bpnet_1000_scripted", 1000);
  ASSERT_EQ(stack->output_count(), 2 * 1000 + 2);
  const auto& names = stack->target_names;
  const std::vector<int> outputs{2000, 2001, 0, 500, 1999, 1000 + 730};  // counts:0, counts:1, profile
  EXPECT_EQ(names[2000], "1:0");
  auto network = model::make_network(stack, outputs, Device{}, Backend::torch);
  const std::string sequence = expected_outputs("bpnet_1000_scripted").sequences.front();
  const auto full = run_engine("full", *network, sequence, false, 64);
  const auto incremental = run_engine("incremental", *network, sequence, false, 64);
  const auto d = largest_difference(full, incremental);
  // Within 1e-6 relative to the output's size (the counts are about 4: float32 rounding through
  // nine residual layers).
  const std::vector<std::vector<double>> references = evaluate64(*stack, {sequence});
  double relative = 0;
  for (std::size_t i = 0; i < full.beta.size(); ++i)
    relative = std::max(relative, std::abs(full.beta[i] - incremental.beta[i]) /
                                      std::max(1.0, std::abs(references[0][outputs[i % outputs.size()]])));
  EXPECT_LE(relative, 1e-6);
  EXPECT_EQ(d.se, 0);
  // A substitution at position 3 reaches profile position 999 only through the dilated layers.
  const std::size_t n = outputs.size();
  bool far = false;
  for (std::size_t m = 0; m < full.mutants.size(); ++m)
    far = far || (full.mutants[m].position < 10 && full.beta[m * n + 4] != 0);
  EXPECT_TRUE(far);
  std::vector<std::string> seqs{sequence};
  for (std::size_t m : {std::size_t(0), std::size_t(1500), full.mutants.size() - 1}) {
    std::string variant = sequence;
    variant[static_cast<std::size_t>(full.mutants[m].position)] = full.mutants[m].alt;
    seqs.push_back(variant);
  }
  const auto reference = evaluate64(*stack, seqs);
  std::size_t k = 1;
  for (std::size_t m : {std::size_t(0), std::size_t(1500), full.mutants.size() - 1}) {
    for (std::size_t o = 0; o < n; ++o) {
      const double want = reference[k][outputs[o]] - reference[0][outputs[o]];
      EXPECT_NEAR(incremental.beta[m * n + o], want, 1e-5 * std::max(1.0, std::abs(reference[0][outputs[o]])))
          << "mutant " << m << " output " << names[outputs[o]];
    }
    ++k;
  }
  std::cout << "bpnet_1000: |incremental - full| beta " << d.beta << ", relative to max(1, |f(r)|) " << relative
            << "\n";
}

// An infinite reference activation (exp of a large convolution output where the window has an A)
// reaching a linear layer on differences: inf - inf would be NaN where the full evaluation gives
// +inf and, after the sigmoid, an effect of 0, and a variant's result would depend on the other
// variants of its group. The engine evaluates such a sample in full: the full engine's effects bit
// for bit (zeros through the sigmoid, a finite second head), for groups of 1 and 64.
TEST(GraphIncremental, InfiniteReferenceActivationsGiveTheFullEnginesEffects) {
  const std::int64_t L = 30;
  auto graph = std::make_shared<model::Graph>();
  graph->source = "hand-made infinities";
  graph->options.input_length = static_cast<int>(L);
  auto add = [&](model::OpKind kind, std::vector<int> inputs, std::vector<std::int64_t> dims) -> model::GraphNode& {
    model::GraphNode n;
    n.kind = kind;
    n.inputs = std::move(inputs);
    n.dims = std::move(dims);
    graph->nodes.push_back(std::move(n));
    return graph->nodes.back();
  };
  auto last = [&] { return static_cast<int>(graph->nodes.size()) - 1; };
  auto tensor = [](std::vector<std::int64_t> shape, std::vector<float> values) {
    model::GraphTensor t;
    t.shape = std::move(shape);
    t.f32 = std::move(values);
    return t;
  };
  add(model::OpKind::input, {}, {4, L});
  auto& big = add(model::OpKind::conv, {0}, {1, L});  // 100 at an A: exp(100) overflows float32
  big.weight = tensor({1, 4, 1}, {100, 0.5f, -0.25f, 0.125f});
  const int exp_input = last();
  add(model::OpKind::exp, {exp_input}, {1, L});
  add(model::OpKind::flatten, {last()}, {L});
  auto& linear = add(model::OpKind::linear, {last()}, {1});
  std::vector<float> weights;
  for (std::int64_t j = 0; j < L; ++j) weights.push_back(0.01f * static_cast<float>(1 + j % 7));
  linear.weight = tensor({1, L}, weights);
  linear.bias = tensor({1}, {-0.5f});
  add(model::OpKind::sigmoid, {last()}, {1});
  const int head = last();
  auto& small = add(model::OpKind::conv, {0}, {2, L});  // a finite head: its effects are not zero
  small.kernel = 3;
  small.pad_left = small.pad_right = 1;
  std::vector<float> w2;
  for (int k = 0; k < 2 * 4 * 3; ++k) w2.push_back(0.1f * static_cast<float>((k * 7) % 5) - 0.2f);
  small.weight = tensor({2, 4, 3}, w2);
  add(model::OpKind::relu, {last()}, {2, L});
  auto& mean = add(model::OpKind::mean, {last()}, {2});
  mean.axis = 1;
  const int counts = last();
  graph->output.kind = model::GraphOutput::Kind::tuple;
  for (int id : {head, counts}) {
    model::GraphOutput element;
    element.node = id;
    graph->output.elements.push_back(element);
  }
  auto stack = std::make_shared<LayerStack>();
  stack->source = graph->source;
  stack->options = graph->options;
  stack->graph = graph;
  stack->target_names = graph->flat_output_names();
  auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
  const std::string sequence = "CCGTACGGTCCATGCGTTCAGGCTACGTCA";  // A at 4, 12, 18, 24, 29
  ASSERT_EQ(sequence.size(), static_cast<std::size_t>(L));
  const auto full = run_engine("full", *network, sequence, false, 64);
  for (int batch : {1, 64}) {
    SCOPED_TRACE(batch);
    const auto incremental = run_engine("incremental", *network, sequence, false, batch);
    ASSERT_EQ(incremental.beta.size(), full.beta.size());
    for (std::size_t k = 0; k < full.beta.size(); ++k) {
      ASSERT_FALSE(std::isnan(incremental.beta[k])) << k;
      EXPECT_EQ(incremental.beta[k], full.beta[k]) << k;
    }
  }
  double largest = 0;
  for (std::size_t k = 0; k < full.beta.size(); ++k) {
    if (k % 3 == 0) EXPECT_EQ(full.beta[k], 0.0) << k;  // the sigmoid of +inf, before and after
    largest = std::max(largest, std::abs(full.beta[k]));
  }
  EXPECT_GT(largest, 1e-3);
}

// (f2) A deep ensemble of graph members (the BPNet-like fixture and the bpnet_dropout one share
// input and output shapes at length 64): the incremental engine, one incremental graph network per
// member, gives the full engine's effects within 1e-6 with MC dropout.
TEST(GraphIncremental, EnsembleOfGraphsEqualsTheFullEngine) {
  std::vector<std::unique_ptr<model::Network>> members;
  for (const std::string name : {"bpnet_scripted", "bpnet_dropout_scripted"}) {
    auto stack = load(name, 64);
    members.push_back(model::make_network(stack, {0, 5, 128}, Device{}, Backend::torch));  // profile 0:0, 0:5, counts 1:0
  }
  auto network = model::make_ensemble_network(std::move(members), {"a", "b"});
  EXPECT_EQ(ism::make_engine("auto", *network)->name(), "incremental");
  const std::string sequence = expected_outputs("bpnet_dropout_scripted").sequences.front();
  const auto full = run_engine("full", *network, sequence, true, 64);
  const auto incremental = run_engine("incremental", *network, sequence, true, 64);
  const auto d = largest_difference(full, incremental);
  EXPECT_LE(d.beta, 1e-6);
  EXPECT_LE(d.se, 1e-6);
  bool some_se = false;
  for (double se : full.se) some_se = some_se || se > 0;
  EXPECT_TRUE(some_se);  // the members differ
}

// (f3) Strand averaging (--reverse-complement on: two references per region, the reverse strand's
// variants at mirrored columns): incremental = full within 1e-6, dropout on and off.
TEST(GraphIncremental, StrandAveragingEqualsTheFullEngine) {
  for (const auto& [name, length] : std::vector<std::pair<std::string, int>>{
           {"basset_scripted", 120}, {"bpnet_dropout_scripted", 64}, {"resnet_scripted", 60}}) {
    model::ModelOverrides overrides;
    overrides.input_length = length;
    overrides.reverse_complement_average = true;
    auto stack = std::make_shared<const LayerStack>(model::load_model_file(graph_fixture(name), overrides));
    ASSERT_TRUE(stack->options.reverse_complement_average);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    const std::string sequence = expected_outputs(name).sequences.front();
    for (bool dropout : {false, true}) {
      SCOPED_TRACE(name + (dropout ? " (dropout)" : ""));
      const auto d = largest_difference(run_engine("full", *network, sequence, dropout, 64),
                                        run_engine("incremental", *network, sequence, dropout, 64));
      EXPECT_LE(d.beta, 1e-6);
      EXPECT_LE(d.se, 1e-6);
    }
  }
}

// (g) Groups of different sizes (batch 1, 7 and 64 mutants) agree within 1e-6, with masks.
TEST(GraphIncremental, ResultsDoNotDependOnTheGroups) {
  for (const auto& [name, length] : std::vector<std::pair<std::string, int>>{
           {"bpnet_dropout_scripted", 64}, {"basset_scripted", 120}, {"resnet_scripted", 60}}) {
    SCOPED_TRACE(name);
    auto stack = load(name, length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    const std::string sequence = expected_outputs(name).sequences.front();
    const auto many = run_engine("incremental", *network, sequence, true, 64);
    for (int batch : {1, 7}) {
      const auto d = largest_difference(many, run_engine("incremental", *network, sequence, true, batch));
      EXPECT_LE(d.beta, 1e-6) << batch;
      EXPECT_LE(d.se, 1e-6) << batch;
    }
  }
}

// (g2) Only some outputs requested: nodes no requested output reads are not evaluated for the
// variants (a BPNet's profile head when only its counts are asked for, and the other way round);
// the effects are the full engine's within 1e-6, and not trivially zero.
TEST(GraphIncremental, RequestedOutputsOnlyEqualTheFullEngine) {
  for (const auto& [name, length] : std::vector<std::pair<std::string, int>>{
           {"bpnet_dropout_scripted", 64}, {"bpnet_scripted", 100}, {"dict_heads_scripted", 50}}) {
    auto stack = load(name, length);
    const int n = static_cast<int>(all_outputs(*stack).size());
    const std::string sequence = expected_outputs(name).sequences.front();
    // The last output alone (a BPNet's counts), the first alone (a profile position), and both ends.
    for (const std::vector<int>& outputs : std::vector<std::vector<int>>{{n - 1}, {0}, {n - 2, 1}}) {
      SCOPED_TRACE(name + " outputs from " + std::to_string(outputs.front()));
      auto network = model::make_network(stack, outputs, Device{}, Backend::torch);
      for (bool dropout : {false, true}) expect_incremental_equals_full(*network, sequence, dropout);
    }
  }
}

// (h) A node the incremental engine does not follow (a concat along the length) is refused with
// one line naming it; auto then picks the full engine.
TEST(GraphIncremental, UnsupportedNodeIsRefusedWithOneLine) {
  auto graph = std::make_shared<model::Graph>();
  graph->source = "hand-made";
  graph->options.input_length = 10;
  model::GraphNode input;
  input.kind = model::OpKind::input;
  input.dims = {4, 10};
  model::GraphNode concat;
  concat.kind = model::OpKind::concat;
  concat.inputs = {0, 0};
  concat.axis = 1;
  concat.dims = {4, 20};
  concat.torch_op = "aten::cat";
  graph->nodes = {input, concat};
  graph->output.node = 1;
  auto stack = std::make_shared<LayerStack>();
  stack->source = "hand-made";
  stack->options = graph->options;
  stack->graph = graph;
  const std::string reason = model::incremental_unsupported_reason(*stack);
  EXPECT_NE(reason.find("node 1 (concat, aten::cat)"), std::string::npos) << reason;
  EXPECT_FALSE(ism::supports_incremental(*stack));
  auto network = model::make_network(stack, {0, 5}, Device{}, Backend::torch);
  std::string message;
  try {
    ism::make_engine("incremental", *network);
  } catch (const ModelError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("use --engine full"), std::string::npos) << message;
  EXPECT_NE(message.find("concatenates along the length"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(ism::make_engine("auto", *network)->name(), "full");
  // The supported fixtures: no reason.
  EXPECT_EQ(model::incremental_unsupported_reason(*load("resnet_scripted", 60)), "");
}

}  // namespace
}  // namespace deepmr
