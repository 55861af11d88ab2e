// Graph models on the kernels backend (issue 16, item 2: GraphKernelNetwork): every fixture of
// tests/model/make_fixtures.py --graphs and a hand-made graph of the ops the fixtures do not reach,
// checked against PyTorch's float64 outputs, the float64 graph evaluator and the torch backend's
// graph network; bitwise identical results for any batch, thread count and ISA; MC dropout masks;
// NaN and Inf as PyTorch propagates them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>

#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/ism/mutants.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/incremental_network.hpp"
#include "expected_tables.hpp"
#include "graph_fixtures.hpp"

namespace deepmr {
namespace {

using namespace graph_test;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Every graph fixture (graphs.tsv: name, input length).
std::vector<std::pair<std::string, int>> all_fixtures() {
  std::vector<std::pair<std::string, int>> fixtures;
  for (const auto& row : tab_rows(test::binary_dir() + "/test-fixtures/graphs/graphs.tsv"))
    fixtures.emplace_back(row.at(0), std::stoi(row.at(1)));
  return fixtures;
}

bool squashed(const std::string& name) { return name.rfind("basset", 0) == 0; }  // every output a sigmoid

// The largest |got - want| / max(1, |want|) (absolute where `absolute`); non-finite expected
// values must be matched exactly (NaN by NaN, an infinity by the same infinity).
double worst_error(const std::vector<float>& got, const std::vector<double>& want, bool absolute = false) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!std::isfinite(want[i])) {
      if (std::isnan(want[i]))
        EXPECT_TRUE(std::isnan(got[i])) << "element " << i << ": " << got[i] << ", want NaN";
      else
        EXPECT_EQ(static_cast<double>(got[i]), want[i]) << "element " << i;
      continue;
    }
    worst = std::max(worst, std::abs(got[i] - want[i]) / (absolute ? 1.0 : std::max(1.0, std::abs(want[i]))));
  }
  return worst;
}

std::vector<double> flat(const std::vector<std::vector<double>>& rows) {
  std::vector<double> values;
  for (const auto& row : rows) values.insert(values.end(), row.begin(), row.end());
  return values;
}

std::vector<std::string> random_sequences(int count, int length, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> seqs(static_cast<std::size_t>(count), std::string(static_cast<std::size_t>(length), 'A'));
  for (auto& s : seqs)
    for (auto& c : s) c = "ACGT"[rng() % 4];
  return seqs;
}

// A graph of the ops and options the fixtures do not reach: a transposed convolution with stride,
// groups, dilation and output padding, grouped convolutions with asymmetric padding and stride,
// padded and dilated max pooling, padded average pooling (with and without the padding counted),
// gelu (tanh), softplus and elu with parameters, sub, constants, softmax over the channels,
// reductions over either axis (keepdim or not), concat along the length and of features, batch norm
// of features, threshold to -inf and a logsumexp of all -inf, a dropout site. Outputs: a tuple.
std::shared_ptr<LayerStack> hand_made_graph(int length = 24) {
  auto graph = std::make_shared<model::Graph>();
  graph->source = "hand-made";
  graph->options.input_length = length;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  auto tensor = [&](std::vector<std::int64_t> shape, float offset = 0.0f) {
    model::GraphTensor t;
    t.shape = shape;
    std::int64_t count = 1;
    for (auto d : shape) count *= d;
    for (std::int64_t i = 0; i < count; ++i) t.f32.push_back(normal(rng) + offset);
    return t;
  };
  auto add = [&](model::GraphNode node) {
    graph->nodes.push_back(std::move(node));
    return static_cast<int>(graph->nodes.size()) - 1;
  };
  auto node = [&](model::OpKind kind, std::vector<int> inputs, std::vector<std::int64_t> dims) {
    model::GraphNode n;
    n.kind = kind;
    n.inputs = std::move(inputs);
    n.dims = std::move(dims);
    n.torch_op = "hand-made";
    return n;
  };
  using model::OpKind;
  const std::int64_t L = length;
  const int input = add(node(OpKind::input, {}, {4, L}));
  auto conv = node(OpKind::conv, {input}, {8, L});
  conv.kernel = 5;
  conv.pad_left = conv.pad_right = 2;
  conv.weight = tensor({8, 4, 5});
  conv.bias = tensor({8});
  const int c1 = add(conv);
  auto gelu = node(OpKind::gelu, {c1}, {8, L});
  gelu.approximate_tanh = true;
  const int g1 = add(gelu);
  auto drop = node(OpKind::dropout, {g1}, {8, L});
  drop.p = 0.25;
  const int d1 = add(drop);
  const std::int64_t lt = (L - 1) * 2 - 2 * 1 + 2 * (4 - 1) + 1 + 1;
  auto transposed = node(OpKind::conv_transpose, {d1}, {6, lt});
  transposed.kernel = 4;
  transposed.stride = 2;
  transposed.pad_left = transposed.pad_right = 1;
  transposed.output_padding = 1;
  transposed.groups = 2;
  transposed.dilation = 2;
  transposed.weight = tensor({8, 3, 4});
  transposed.bias = tensor({6});
  const int t1 = add(transposed);
  auto softplus = node(OpKind::softplus, {t1}, {6, lt});
  softplus.beta = 2;
  softplus.threshold = 1;
  const int s1 = add(softplus);
  const std::int64_t lm = (lt + 2 - 2 * (3 - 1) - 1) / 2 + 1;
  auto max_pool = node(OpKind::max_pool, {s1}, {6, lm});
  max_pool.kernel = 3;
  max_pool.stride = 2;
  max_pool.pad_left = max_pool.pad_right = 1;
  max_pool.dilation = 2;
  const int m1 = add(max_pool);
  auto elu = node(OpKind::elu, {add(node(OpKind::sub_constant, {m1}, {6, lm}))}, {6, lm});
  graph->nodes.back().constant = 1.5;
  graph->nodes.back().alpha = 0.5;
  elu.alpha = 0.7;
  elu.scale = 1.2;
  elu.input_scale = 0.9;
  const int e1 = add(elu);
  const std::int64_t la = (lm + 2 - 3) / 2 + 1;
  auto avg = node(OpKind::avg_pool, {e1}, {6, la});
  avg.kernel = 3;
  avg.stride = 2;
  avg.pad_left = avg.pad_right = 1;
  avg.count_include_pad = false;
  const int a1 = add(avg);
  avg.count_include_pad = true;
  const int a2 = add(avg);
  auto sub = node(OpKind::sub, {a1, a2}, {6, la});
  sub.alpha = 0.5;
  const int u1 = add(sub);
  const std::int64_t lg = (la + 3 - 3) / 2 + 1;
  auto grouped = node(OpKind::conv, {u1}, {6, lg});
  grouped.kernel = 3;
  grouped.stride = 2;
  grouped.pad_left = 1;
  grouped.pad_right = 2;
  grouped.groups = 3;
  grouped.weight = tensor({6, 2, 3});
  grouped.bias = tensor({6});
  const int c2 = add(grouped);
  const int h1 = add(node(OpKind::tanh, {c2}, {6, lg}));
  auto softmax = node(OpKind::softmax, {h1}, {6, lg});
  softmax.axis = 0;
  const int sm = add(softmax);
  auto log_softmax = node(OpKind::log_softmax, {c2}, {6, lg});
  log_softmax.axis = 1;
  const int ls = add(log_softmax);
  auto mean = node(OpKind::mean, {ls}, {lg});
  mean.axis = 0;
  const int r1 = add(mean);
  auto lse = node(OpKind::logsumexp, {sm}, {1, lg});
  lse.axis = 0;
  lse.keepdim = true;
  const int r2 = add(lse);
  auto cat = node(OpKind::concat, {sm, ls}, {6, 2 * lg});
  cat.axis = 1;
  const int k1 = add(cat);
  auto max = node(OpKind::max, {k1}, {6});
  max.axis = 1;
  const int r3 = add(max);
  auto flatten = node(OpKind::flatten, {add(node(OpKind::exp, {r2}, {1, lg}))}, {lg});
  const int f1 = add(flatten);
  // All -inf: threshold everything below 100 to -inf, then a logsumexp over the length: -inf.
  auto threshold = node(OpKind::threshold, {c2}, {6, lg});
  threshold.threshold = 100;
  threshold.value = -kInf;
  auto minus_inf = node(OpKind::logsumexp, {add(threshold)}, {6});
  minus_inf.axis = 1;
  const int r4 = add(minus_inf);
  auto cat2 = node(OpKind::concat, {r1, f1, r3}, {lg + lg + 6});
  cat2.axis = 0;
  const int k2 = add(cat2);
  const std::int64_t features = lg + lg + 6;
  auto bn = node(OpKind::batch_norm, {k2}, {features});
  bn.eps = 1e-3;
  bn.weight = tensor({features}, 1.0f);
  bn.bias = tensor({features});
  bn.running_mean = tensor({features});
  bn.running_var = tensor({features}, 2.0f);
  for (auto& v : bn.running_var.f32) v = std::abs(v);
  const int b1 = add(bn);
  auto linear = node(OpKind::linear, {b1}, {5});
  linear.weight = tensor({5, features});
  linear.bias = tensor({5});
  const int l1 = add(linear);
  auto scaled = node(OpKind::div_constant, {add(node(OpKind::relu, {l1}, {5}))}, {5});
  scaled.constant = 3;
  const int q1 = add(scaled);
  auto mul = node(OpKind::mul_constant, {q1}, {5});
  mul.constant = -2;
  auto plus = node(OpKind::add_constant, {add(mul)}, {5});
  plus.constant = 0.25;
  plus.alpha = 2;
  const int out1 = add(node(OpKind::sigmoid, {add(plus)}, {5}));
  auto crop = node(OpKind::crop, {k1}, {6, 5});
  crop.start = 3;
  crop.end = 8;
  const int out2 = add(crop);
  graph->output.kind = model::GraphOutput::Kind::tuple;
  for (int id : {out1, out2, r4, l1}) {
    model::GraphOutput element;
    element.node = id;
    graph->output.elements.push_back(element);
  }
  auto stack = std::make_shared<LayerStack>();
  stack->source = "hand-made";
  stack->options = graph->options;
  stack->graph = graph;
  stack->target_names = graph->flat_output_names();
  return stack;
}

std::shared_ptr<LayerStack> copy_stack(const LayerStack& stack) {
  auto copy = std::make_shared<LayerStack>(stack);
  copy->graph = std::make_shared<model::Graph>(*stack.graph);
  return copy;
}

model::Graph& graph_of(LayerStack& stack) { return const_cast<model::Graph&>(*stack.graph); }

// (1) Every fixture's outputs are PyTorch's float64 outputs: within 1e-6 on sigmoid outputs,
// 1e-5 * max(1, |value|) otherwise (float32 rounding through the tower); a subset of the outputs in
// any order is the same bits.
TEST(GraphKernels, OutputsArePyTorchs) {
  const auto fixtures = all_fixtures();
  ASSERT_GE(fixtures.size(), 17u);
  for (const auto& [name, length] : fixtures) {
    SCOPED_TRACE(name);
    auto stack = load(name, length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
    EXPECT_EQ(network->backend(), Backend::kernels);
    EXPECT_NE(network->description().find("graph"), std::string::npos);
    const auto expected = expected_outputs(name);
    ASSERT_EQ(expected.sequences.size(), 3u);
    const auto out = forward(*network, expected.sequences);
    const double worst = worst_error(out, flat(expected.outputs), squashed(name));
    EXPECT_LE(worst, squashed(name) ? 1e-6 : 1e-5);
    std::cout << name << ": largest |kernels - PyTorch float64| (scaled) " << worst << "\n";
    const std::size_t n = network->outputs().size();
    const std::vector<int> some{static_cast<int>(n) - 1, 0, static_cast<int>(n / 2)};
    auto subset = model::make_network(stack, some, Device{}, Backend::kernels);
    const auto sub = forward(*subset, expected.sequences);
    for (std::size_t b = 0; b < expected.sequences.size(); ++b)
      for (std::size_t k = 0; k < some.size(); ++k) EXPECT_EQ(sub[b * some.size() + k], out[b * n + some[k]]);
  }
}

// (1b) The hand-made graph (ops and options the fixtures do not reach) equals the float64
// evaluator within 1e-5 * max(1, |value|), -inf where PyTorch gives -inf, with and without masks
// (the torch backend under the same masks).
TEST(GraphKernels, HandMadeGraphOfTheRemainingOpsIsPyTorchs) {
  auto stack = hand_made_graph();
  auto kernels = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
  auto torch = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
  const auto seqs = random_sequences(5, 24, 3);
  const auto out = forward(*kernels, seqs);
  const auto reference = flat(evaluate64(*stack, seqs));
  const double worst = worst_error(out, reference);
  EXPECT_LE(worst, 1e-5);
  std::size_t minus_inf = 0;
  for (double v : reference) minus_inf += v == -kInf;
  EXPECT_EQ(minus_inf, 5u * 6);  // the logsumexp of all -inf
  std::cout << "hand-made: largest |kernels - float64| (scaled) " << worst << "\n";
  const auto masks = model::draw_dropout_masks(*stack, 3, 1, 2);
  ASSERT_EQ(masks.layers.size(), 1u);
  const auto masked = forward(*kernels, seqs, &masks);
  const auto torch_masked = forward(*torch, seqs, &masks);
  EXPECT_LE(worst_error(masked, std::vector<double>(torch_masked.begin(), torch_masked.end())), 1e-5);
  EXPECT_NE(masked, out);
}

// (2) ism effects (the full engine: auto picks it for a graph on the kernels backend) are
// differences of the float64 evaluator's outputs within the torch backend's tolerances.
TEST(GraphKernels, IsmEffectsAreDifferencesOfPyTorchOutputs) {
  std::vector<Fixture> fixtures = kFixtures;
  fixtures.push_back({"bpnet_float64_scripted", 100, false});
  fixtures.push_back({"dict_heads_scripted", 50, false});
  fixtures.push_back({"conv2d_pitfalls_traced", 40, false});
  for (const auto& f : fixtures) {
    SCOPED_TRACE(f.name);
    auto stack = load(f.name, f.length);
    auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
    auto engine = ism::make_engine("auto", *network);
    EXPECT_EQ(engine->name(), "full");
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
    double worst = 0, largest = 0;
    for (std::size_t m = 0; m < effects.mutants.size(); ++m)
      for (std::size_t o = 0; o < n; ++o) {
        const double want = rows[m + 1][o] - rows[0][o];
        const double scale = f.squashed ? 1.0 : std::max(1.0, std::abs(rows[0][o]));
        worst = std::max(worst, std::abs(effects.beta_at(static_cast<int>(m), static_cast<int>(o)) - want) / scale);
        largest = std::max(largest, std::abs(want));
        EXPECT_EQ(effects.se_at(static_cast<int>(m), static_cast<int>(o)), 0.0);
      }
    EXPECT_GT(largest, 1e-4);
    EXPECT_LE(worst, f.squashed ? 1e-6 : 1e-5);
    std::cout << f.name << ": largest |kernels effect - float64 difference| (scaled) " << worst << "\n";
  }
}

// (2b) The incremental engine runs graphs on the torch backend only: on the kernels backend it is
// refused with one line naming what to use instead; auto runs the full engine.
TEST(GraphKernels, IncrementalEngineIsRefusedWithOneLine) {
  auto stack = load("bpnet_scripted", 100);
  auto network = model::make_network(stack, {0, 200}, Device{}, Backend::kernels);
  const std::string message = test::error_message<ModelError>([&] { ism::make_engine("incremental", *network); });
  EXPECT_NE(message.find("torch backend only"), std::string::npos) << message;
  EXPECT_NE(message.find("use --engine full"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  const std::string direct =
      test::error_message<ModelError>([&] { model::make_incremental_network(*network); });
  EXPECT_NE(direct.find("torch backend only"), std::string::npos) << direct;
  EXPECT_EQ(ism::make_engine("auto", *network)->name(), "full");
  // CUDA with the kernels backend stays refused as for layer stacks.
  EXPECT_THROW(model::make_network(stack, {0}, Device{Device::Kind::cuda, 0}, Backend::kernels), UsageError);
}

// (3) Bitwise: 64 rows (with the N row: NaN in every channel) in one batch, in batches of 1 and of
// 5, on 1 and 2 threads and on every ISA the CPU has give the same bits, with and without masks.
TEST(GraphKernels, BitwiseIdenticalForAnyBatchThreadsAndIsa) {
  std::vector<std::pair<std::string, std::shared_ptr<const LayerStack>>> models;
  for (const auto& [name, length] : std::vector<std::pair<std::string, int>>{{"bpnet_dropout_scripted", 64},
                                                                            {"basset_scripted", 120},
                                                                            {"resnet_float64_scripted", 60},
                                                                            {"dict_heads_traced", 50},
                                                                            {"conv2d_pitfalls_scripted", 40},
                                                                            {"bpnet_traced", 100}})
    models.emplace_back(name, load(name, length));
  models.emplace_back("hand-made", hand_made_graph());
  {  // an infinite weight in the transposed convolution: its direct evaluation (padding skipped)
    auto poisoned = copy_stack(*load("bpnet_scripted", 100));
    for (auto& n : graph_of(*poisoned).nodes)
      if (n.kind == model::OpKind::conv_transpose) n.weight.f32[5] = INFINITY;
    models.emplace_back("bpnet with an Inf weight", poisoned);
  }
  const model::Isa original = model::active_isa();
  for (const auto& [name, stack] : models) {
    SCOPED_TRACE(name);
    const int length = stack->options.input_length;
    auto seqs = random_sequences(63, length, 7);
    seqs.push_back(std::string(static_cast<std::size_t>(length / 2), 'A') + "A" +
                   std::string(static_cast<std::size_t>(length - length / 2 - 1), 'C'));
    const auto masks = model::draw_dropout_masks(*stack, 5, 9, 1);
    for (const model::DropoutMasks* m : {static_cast<const model::DropoutMasks*>(nullptr), &masks}) {
      model::set_active_isa(original);
      model::set_threads(1);
      auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
      const std::size_t n = network->outputs().size();
      auto x = one_hot<float>(seqs);
      for (int c = 0; c < 4; ++c)  // row 63 has an N: NaN in every channel
        x[(static_cast<std::size_t>(63) * 4 + c) * length + 3] = kNaN;
      std::vector<float> reference(seqs.size() * n);
      network->forward(x.data(), 64, m, reference.data());
      bool some_nan = false;
      for (std::size_t o = 0; o < n; ++o) some_nan = some_nan || std::isnan(reference[63 * n + o]);
      EXPECT_TRUE(some_nan);
      auto same = [&](const std::vector<float>& got, const std::string& what) {
        EXPECT_EQ(std::memcmp(got.data(), reference.data(), sizeof(float) * reference.size()), 0) << what;
      };
      for (int batch : {1, 5}) {
        std::vector<float> out(reference.size());
        for (int first = 0; first < 64; first += batch) {
          const int rows = std::min(batch, 64 - first);
          network->forward(x.data() + static_cast<std::size_t>(first) * 4 * length, rows, m,
                           out.data() + static_cast<std::size_t>(first) * n);
        }
        same(out, "batch " + std::to_string(batch));
      }
      model::set_threads(2);
      std::vector<float> out(reference.size());
      network->forward(x.data(), 64, m, out.data());
      same(out, "2 threads");
      for (model::Isa isa : {model::Isa::scalar, model::Isa::avx2, model::Isa::avx512}) {
        if (!model::isa_supported(isa)) continue;
        model::set_active_isa(isa);
        auto other = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
        EXPECT_NE(other->description().find(model::isa_name(isa)), std::string::npos);
        other->forward(x.data(), 64, m, out.data());
        same(out, model::isa_name(isa) + ", 2 threads");
      }
    }
  }
  model::set_active_isa(original);
  model::set_threads(1);
}

// (4) MC dropout: the masks of the graph's dropout sites applied as PyTorch's dropout: the float64
// forward of make_fixtures.py under the same masks within 1e-5, the torch backend's graph network
// under the same masks within 1e-5; without masks the sites are the identity.
TEST(GraphKernels, DropoutMasksAreAppliedAsPyTorchDoes) {
  auto stack = load("bpnet_dropout_scripted");
  auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
  auto torch = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
  const auto rows = tab_rows(test::binary_dir() + "/test-fixtures/graphs/bpnet_dropout.masked_outputs.tsv");
  ASSERT_EQ(rows.size(), 6u);
  const std::size_t n = network->outputs().size();
  double worst = 0, worst_torch = 0;
  for (const auto& row : rows) {
    const auto masks = model::draw_dropout_masks(*stack, 7, 3, static_cast<std::uint32_t>(std::stoi(row[0])));
    const auto out = forward(*network, {row[1]}, &masks);
    ASSERT_EQ(row.size(), n + 2);
    std::vector<double> want;
    for (std::size_t o = 0; o < n; ++o) want.push_back(std::stod(row[o + 2]));
    worst = std::max(worst, worst_error(out, want));
    const auto by_torch = forward(*torch, {row[1]}, &masks);
    worst_torch = std::max(worst_torch, worst_error(out, std::vector<double>(by_torch.begin(), by_torch.end())));
  }
  EXPECT_LE(worst, 1e-5);
  EXPECT_LE(worst_torch, 1e-5);
  const auto plain = forward(*network, {rows[0][1]});
  EXPECT_LE(worst_error(plain, evaluate64(*stack, {rows[0][1]}).front()), 1e-5);
}

// (4b) Paired masks on the kernels backend: G and T read alike by the first conv, so a G <-> T
// substitution has an effect of exactly zero under every mask, whatever the batch.
TEST(GraphKernels, PairedMasksGiveExactlyZeroEffectsForIdenticalBases) {
  auto stack = load("bpnet_dropout_scripted");
  auto network = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
  const std::string sequence = expected_outputs("bpnet_dropout_scripted").sequences.front();
  for (int batch : {64, 37}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    EXPECT_EQ(expect_exact_zero_gt_effects("auto", *network, sequence, batch), "full");
  }
}

// (5) NaN and Inf propagate as PyTorch: the N row of every fixture (NaN in every channel), and
// graphs with one NaN, +Inf or -Inf weight (first convolution, a later one, a linear layer), give
// NaN and infinities at the torch backend's positions.
TEST(GraphKernels, NanAndInfPropagateAsPyTorch) {
  auto classes = [](const std::vector<float>& v) {
    std::vector<int> c;
    for (float x : v) c.push_back(std::isnan(x) ? 1 : x == INFINITY ? 2 : x == -INFINITY ? 3 : 0);
    return c;
  };
  auto compare = [&](const std::shared_ptr<const LayerStack>& stack, const std::vector<std::vector<float>>& inputs,
                     const std::string& what, bool expect_non_finite) {
    SCOPED_TRACE(what);
    auto kernels = model::make_network(stack, all_outputs(*stack), Device{}, Backend::kernels);
    auto torch = model::make_network(stack, all_outputs(*stack), Device{}, Backend::torch);
    for (const auto& x : inputs) {
      std::vector<float> a(kernels->outputs().size()), b(a.size());
      kernels->forward(x.data(), 1, nullptr, a.data());
      torch->forward(x.data(), 1, nullptr, b.data());
      const auto ca = classes(a), cb = classes(b);
      EXPECT_EQ(ca, cb);
      bool non_finite = false;
      for (int c : cb) non_finite = non_finite || c != 0;
      if (expect_non_finite) {
        EXPECT_TRUE(non_finite);
      }
      std::vector<double> want(b.begin(), b.end());
      for (std::size_t i = 0; i < want.size(); ++i)
        if (ca[i] != 0 || cb[i] != 0) want[i] = a[i] = 0;  // the finite ones: within float32 rounding
      EXPECT_LE(worst_error(a, want), 1e-5);
    }
  };
  for (const auto& [name, length] : all_fixtures()) {
    auto stack = load(name, length);
    std::vector<std::vector<float>> inputs;
    for (const auto& row : tab_rows(test::binary_dir() + "/test-fixtures/graphs/" + name + ".graph_outputs.tsv")) {
      if (row[0].find('N') == std::string::npos) continue;
      std::string s = row[0];
      const std::size_t at = s.find('N');
      s[at] = 'A';
      auto x = one_hot<float>({s});
      for (int c = 0; c < 4; ++c) x[static_cast<std::size_t>(c) * length + at] = kNaN;
      inputs.push_back(x);
      break;
    }
    ASSERT_EQ(inputs.size(), 1u) << name;
    // (conv2d_pitfalls keeps the first 10 columns only, which the N does not reach)
    compare(stack, inputs, name + ": the N row", name.rfind("conv2d_pitfalls", 0) != 0);
  }
  // Each op on its own, on an input with NaN in every channel of one column, +Inf and -Inf in
  // others: NaN wins a max pool and a maximum, passes ReLU and threshold, and so on, as PyTorch.
  {
    auto graph = std::make_shared<model::Graph>();
    graph->source = "ops on NaN and Inf";
    graph->options.input_length = 16;
    model::GraphNode input;
    input.kind = model::OpKind::input;
    input.dims = {4, 16};
    graph->nodes.push_back(input);
    graph->output.kind = model::GraphOutput::Kind::tuple;
    auto output = [&](model::GraphNode n) {
      n.inputs = {0};
      n.torch_op = "hand-made";
      graph->nodes.push_back(n);
      model::GraphOutput element;
      element.node = static_cast<int>(graph->nodes.size()) - 1;
      graph->output.elements.push_back(element);
    };
    using model::OpKind;
    for (OpKind kind : {OpKind::relu, OpKind::elu, OpKind::gelu, OpKind::softplus, OpKind::sigmoid, OpKind::tanh,
                        OpKind::exp, OpKind::threshold}) {
      model::GraphNode n;
      n.kind = kind;
      n.dims = {4, 16};
      n.threshold = kind == OpKind::softplus ? 20 : 0.1;
      n.value = 0.5;
      output(n);
    }
    for (OpKind kind : {OpKind::max_pool, OpKind::avg_pool}) {
      model::GraphNode n;
      n.kind = kind;
      n.kernel = 3;
      n.stride = 2;
      n.pad_left = n.pad_right = 1;
      n.dims = {4, 8};
      output(n);
    }
    for (OpKind kind : {OpKind::max, OpKind::logsumexp, OpKind::mean, OpKind::softmax, OpKind::log_softmax}) {
      for (int axis : {0, 1}) {
        model::GraphNode n;
        n.kind = kind;
        n.axis = axis;
        n.dims = kind == OpKind::softmax || kind == OpKind::log_softmax ? std::vector<std::int64_t>{4, 16}
                 : axis == 0                                            ? std::vector<std::int64_t>{16}
                                                                        : std::vector<std::int64_t>{4};
        output(n);
      }
    }
    auto stack = std::make_shared<LayerStack>();
    stack->source = graph->source;
    stack->options = graph->options;
    stack->graph = graph;
    auto x = one_hot<float>(random_sequences(1, 16, 2));
    for (int c = 0; c < 4; ++c) x[static_cast<std::size_t>(c) * 16 + 3] = kNaN;
    x[7] = kInf;            // channel 0
    x[16 + 12] = -kInf;     // channel 1
    x[2 * 16 + 12] = -kInf;  // channel 2
    compare(stack, {x}, "ops on NaN and Inf", true);
  }
  // Poisoned weights: NaN, +Inf and -Inf in one weight of the first conv, of a later conv, of a
  // transposed conv and of a linear layer.
  const std::vector<std::pair<std::string, int>> poisoned{{"bpnet_scripted", 100}, {"basset_scripted", 120},
                                                          {"resnet_scripted", 60}, {"dict_heads_scripted", 50}};
  for (const auto& [name, length] : poisoned) {
    auto base = load(name, length);
    const auto seqs = random_sequences(2, length, 11);
    std::vector<std::vector<float>> inputs{one_hot<float>({seqs[0]}), one_hot<float>({seqs[1]})};
    int weighted = 0;
    for (std::size_t i = 0; i < base->graph->nodes.size(); ++i) {
      const auto& n = base->graph->nodes[i];
      if (n.weight.empty() || n.kind == model::OpKind::batch_norm) continue;
      for (double poison : {kNaN, kInf, -kInf}) {
        auto stack = copy_stack(*base);
        auto& w = graph_of(*stack).nodes[i].weight;
        if (w.float64)
          w.f64[w.f64.size() / 3] = poison;
        else
          w.f32[w.f32.size() / 3] = static_cast<float>(poison);
        compare(stack, inputs, name + " node " + std::to_string(i) + " weight " + std::to_string(poison), false);
      }
      ++weighted;
    }
    EXPECT_GE(weighted, 2) << name;
  }
}

// (6) Layer stacks keep their kernels network (the graph kernels network is for graphs only).
TEST(GraphKernels, LayerStacksKeepTheirKernelsNetwork) {
  auto stack = std::make_shared<const LayerStack>(model::load_model_file(test::fixture_model("conv1d_small")));
  ASSERT_FALSE(stack->is_graph());
  auto network = model::make_network(stack, {0}, Device{}, Backend::kernels);
  EXPECT_EQ(network->description().find("graph"), std::string::npos) << network->description();
  EXPECT_EQ(ism::make_engine("auto", *network)->name(), "incremental");
}

}  // namespace
}  // namespace deepmr
