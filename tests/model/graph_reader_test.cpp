// The TorchScript graph reader (issue 16, first step): fixtures of tests/model/make_fixtures.py
// --graphs, written into the build tree by the graph_model_fixtures test, read into graphs whose
// float64 evaluation must match PyTorch's float64 evaluation of the same modules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>

#include "deepmr/common/error.hpp"
#include "deepmr/model/graph_torch_evaluator.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/network.hpp"
#include "deepmr/model/torchscript_graph_reader.hpp"
#include "expected_tables.hpp"
#include "test_support.hpp"

namespace deepmr::model {
namespace {

std::string graph_dir() { return test::binary_dir() + "/test-fixtures/graphs"; }
std::string graph_fixture(const std::string& name) { return graph_dir() + "/" + name + ".pt"; }

std::vector<std::vector<std::string>> tab_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(test::split_tabs(line));
  return rows;
}

Graph read(const std::string& name, int length) {
  ModelOverrides overrides;
  overrides.input_length = length;
  return read_torchscript_graph(graph_fixture(name), overrides);
}

std::vector<OpKind> kinds(const Graph& g) {
  std::vector<OpKind> out;
  for (const auto& n : g.nodes) out.push_back(n.kind);
  return out;
}

std::string kind_list(const Graph& g) {
  std::string s;
  for (const auto& n : g.nodes) s += (s.empty() ? "" : " ") + op_name(n.kind);
  return s;
}

// One-hot inputs, batch x 4 x L, in `alphabet`'s channel order; an N is NaN in every channel.
std::vector<double> one_hot(const std::vector<std::string>& seqs, const std::string& alphabet) {
  const std::size_t length = seqs.front().size();
  std::vector<double> x(seqs.size() * 4 * length, 0.0);
  for (std::size_t b = 0; b < seqs.size(); ++b)
    for (std::size_t i = 0; i < length; ++i) {
      if (seqs[b][i] == 'N') {
        for (std::size_t c = 0; c < 4; ++c) x[(b * 4 + c) * length + i] = std::nan("");
        continue;
      }
      x[(b * 4 + alphabet.find(seqs[b][i])) * length + i] = 1.0;
    }
  return x;
}

// |a - b| relative to max(1, |b|); 0 where both are the same NaN or infinity, infinity where only
// one is NaN or they are different infinities.
double difference(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0.0 : HUGE_VAL;
  if (std::isinf(a) || std::isinf(b)) return a == b ? 0.0 : HUGE_VAL;
  return std::abs(a - b) / std::max(1.0, std::abs(b));
}

const GraphNode& only(const Graph& g, OpKind kind) {
  const GraphNode* found = nullptr;
  for (const auto& n : g.nodes)
    if (n.kind == kind) {
      EXPECT_EQ(found, nullptr) << "several " << op_name(kind) << " nodes";
      found = &n;
    }
  if (!found) throw std::runtime_error("no " + op_name(kind) + " node");
  return *found;
}

// Every fixture: the graph's float64 evaluation against PyTorch's float64 outputs.
TEST(GraphReader, EveryFixtureMatchesPyTorchInFloat64) {
  const auto manifest = tab_rows(graph_dir() + "/graphs.tsv");
  ASSERT_EQ(manifest.size(), 21u) << "run the graph_model_fixtures test first";
  std::size_t nans = 0;
  for (const auto& entry : manifest) {
    const std::string name = entry.at(0);
    SCOPED_TRACE(name);
    const int length = std::stoi(entry.at(1));
    const Graph g = read(name, length);
    EXPECT_EQ(g.options.conv2d_layout, entry.at(2) == "conv2d");
    // Expected: per sequence, one row per output tensor.
    std::vector<std::string> seqs;
    std::map<std::string, std::vector<double>> expected;  // output name -> batch x values
    std::vector<std::string> names;
    for (const auto& row : tab_rows(graph_dir() + "/" + name + ".graph_outputs.tsv")) {
      if (seqs.empty() || seqs.back() != row.at(0)) seqs.push_back(row.at(0));
      if (seqs.size() == 1) names.push_back(row.at(1));
      for (std::size_t i = 2; i < row.size(); ++i) expected[row.at(1)].push_back(std::stod(row[i]));
    }
    ASSERT_EQ(seqs.size(), 4u);
    const auto outputs = evaluate_graph_float64(g, one_hot(seqs, "ACGT"), static_cast<int>(seqs.size()));
    ASSERT_EQ(outputs.size(), names.size());
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      EXPECT_EQ(outputs[o].name, names[o]);
      const auto& want = expected.at(names[o]);
      ASSERT_EQ(outputs[o].values.size(), want.size()) << names[o];
      double worst = 0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        worst = std::max(worst, difference(outputs[o].values[i], want[i]));
        nans += std::isnan(want[i]) ? 1 : 0;  // (some outputs never see the N: crops, thresholds)
      }
      EXPECT_LE(worst, 1e-9) << "output '" << names[o] << "'";
    }
  }
  EXPECT_GT(nans, 100u);  // NaN propagated as PyTorch does
}

TEST(GraphReader, BPNetLikeScriptedAndTracedReadTheSameGraph) {
  for (const std::string name : {"bpnet_scripted", "bpnet_traced"}) {
    SCOPED_TRACE(name);
    const Graph g = read(name, 100);
    const std::vector<OpKind> want = {
        OpKind::input, OpKind::conv, OpKind::relu,           OpKind::conv, OpKind::relu,
        OpKind::add,   OpKind::conv, OpKind::relu,           OpKind::add,  OpKind::conv,
        OpKind::relu,  OpKind::add,  OpKind::conv_transpose, OpKind::mean, OpKind::linear};
    EXPECT_EQ(kinds(g), want) << kind_list(g);
    EXPECT_EQ(g.nodes[1].module_path, "iconv");
    EXPECT_EQ(g.nodes[1].pad_left, 5);
    EXPECT_EQ(g.nodes[1].weight.shape, (std::vector<std::int64_t>{8, 4, 11}));
    EXPECT_FALSE(g.nodes[1].weight.float64);
    for (int i : {0, 1, 2}) {
      const auto& conv = g.nodes[3 + 3 * i];
      EXPECT_EQ(conv.module_path, "rconvs." + std::to_string(i));
      EXPECT_EQ(conv.dilation, 2 << i);
      EXPECT_EQ(conv.pad_left, 2 << i);
      EXPECT_EQ(g.nodes[5 + 3 * i].inputs, (std::vector<int>{2 + 3 * i, 4 + 3 * i}));  // the residual add
    }
    const auto& profile = only(g, OpKind::conv_transpose);
    EXPECT_EQ(profile.module_path, "profile");
    EXPECT_EQ(profile.dims, (std::vector<std::int64_t>{2, 100}));
    EXPECT_EQ(only(g, OpKind::mean).axis, 1);
    EXPECT_EQ(g.output.kind, GraphOutput::Kind::tuple);
    const auto named = g.named_outputs();
    ASSERT_EQ(named.size(), 2u);
    EXPECT_EQ(named[0].name, "0");
    EXPECT_EQ(g.nodes[named[0].node].kind, OpKind::conv_transpose);
    EXPECT_EQ(g.nodes[named[1].node].kind, OpKind::linear);
  }
  const Graph f64 = read("bpnet_float64_scripted", 100);
  EXPECT_TRUE(f64.nodes[1].weight.float64);
  EXPECT_EQ(f64.nodes[1].weight.f64.size(), 8u * 4 * 11);
  EXPECT_TRUE(f64.nodes[1].weight.f32.empty());
}

TEST(GraphReader, BassetLikeKeepsBatchNormStatisticsAndDropout) {
  for (const std::string name : {"basset_scripted", "basset_traced"}) {
    SCOPED_TRACE(name);
    const Graph g = read(name, 120);
    const std::vector<OpKind> block = {OpKind::conv, OpKind::batch_norm, OpKind::relu, OpKind::max_pool};
    std::vector<OpKind> want = {OpKind::input};
    for (int i = 0; i < 3; ++i) want.insert(want.end(), block.begin(), block.end());
    for (OpKind k : {OpKind::flatten, OpKind::linear, OpKind::relu, OpKind::dropout, OpKind::linear, OpKind::sigmoid})
      want.push_back(k);
    EXPECT_EQ(kinds(g), want) << kind_list(g);
    const auto& bn = g.nodes[2];
    EXPECT_EQ(bn.module_path, "body.1");
    EXPECT_EQ(bn.running_mean.shape, (std::vector<std::int64_t>{8}));
    EXPECT_EQ(bn.running_var.f32.size(), 8u);
    EXPECT_EQ(bn.weight.f32.size(), 8u);
    EXPECT_NEAR(bn.eps, 1e-5, 1e-12);
    EXPECT_EQ(g.nodes[4].kernel, 3);
    EXPECT_EQ(g.nodes[4].stride, 3);
    EXPECT_EQ(only(g, OpKind::flatten).dims, (std::vector<std::int64_t>{120}));
    const auto dropouts = g.dropout_nodes();
    ASSERT_EQ(dropouts.size(), 1u);
    EXPECT_NEAR(g.nodes[dropouts[0]].p, 0.3, 1e-12);
    EXPECT_EQ(g.nodes[dropouts[0]].module_path, "head.3");
    EXPECT_EQ(g.output.kind, GraphOutput::Kind::tensor);
    EXPECT_EQ(g.named_outputs().at(0).name, "");
  }
}

TEST(GraphReader, ResNetLikeConcatenatesCropsAndViews) {
  for (const std::string name : {"resnet_scripted", "resnet_traced"}) {
    SCOPED_TRACE(name);
    const Graph g = read(name, 60);
    const auto& cat = only(g, OpKind::concat);
    ASSERT_EQ(cat.inputs.size(), 2u);
    EXPECT_EQ(g.nodes[cat.inputs[0]].kind, OpKind::conv);
    EXPECT_EQ(g.nodes[cat.inputs[1]].kind, OpKind::elu);
    EXPECT_EQ(cat.dims, (std::vector<std::int64_t>{16, 60}));
    EXPECT_EQ(g.nodes[1].pad_left, 2);  // padding='same', kernel 5
    EXPECT_EQ(g.nodes[1].pad_right, 2);
    bool grouped = false;
    for (const auto& n : g.nodes) grouped = grouped || (n.kind == OpKind::conv && n.groups == 4);
    EXPECT_TRUE(grouped);
    const auto& crop = only(g, OpKind::crop);
    EXPECT_EQ(crop.start, 4);
    EXPECT_EQ(crop.end, 56);
    EXPECT_EQ(only(g, OpKind::flatten).dims, (std::vector<std::int64_t>{8 * 26}));
    EXPECT_EQ(only(g, OpKind::log_softmax).axis, 0);
    EXPECT_EQ(only(g, OpKind::add).inputs.size(), 2u);
    only(g, OpKind::gelu);
    only(g, OpKind::batch_norm);
    only(g, OpKind::avg_pool);
  }
}

TEST(GraphReader, DictOutputsReductionsAndConstants) {
  for (const std::string name : {"dict_heads_scripted", "dict_heads_traced"}) {
    SCOPED_TRACE(name);
    const Graph g = read(name, 50);
    EXPECT_EQ(g.output.kind, GraphOutput::Kind::dict);
    EXPECT_EQ(g.output.keys, (std::vector<std::string>{"prob", "soft", "tanh"}));
    const auto& conv = g.nodes[1];
    EXPECT_EQ(conv.stride, 2);
    EXPECT_EQ(conv.dims, (std::vector<std::int64_t>{8, 22}));
    EXPECT_EQ(only(g, OpKind::max).axis, 1);
    EXPECT_FALSE(only(g, OpKind::max).keepdim);
    EXPECT_EQ(only(g, OpKind::logsumexp).dims, (std::vector<std::int64_t>{8}));
    EXPECT_NEAR(only(g, OpKind::softplus).beta, 1.0, 0);
    EXPECT_EQ(only(g, OpKind::sub_constant).constant, 1.0);
    EXPECT_EQ(only(g, OpKind::div_constant).constant, 3.0);
    std::vector<double> products;
    for (const auto& n : g.nodes)
      if (n.kind == OpKind::mul_constant) products.push_back(n.constant);
    std::sort(products.begin(), products.end());
    EXPECT_EQ(products, (std::vector<double>{-1.0, 2.0}));  // -h and * 2.0
    EXPECT_EQ(only(g, OpKind::crop).dims, (std::vector<std::int64_t>{8, 4}));
    EXPECT_EQ(only(g, OpKind::softmax).axis, 0);
    only(g, OpKind::dropout);
    only(g, OpKind::exp);
    only(g, OpKind::tanh);
  }
}

TEST(GraphReader, Conv2dLayoutInPlaceOpsAndStaticBranches) {
  for (const std::string name : {"conv2d_pitfalls_scripted", "conv2d_pitfalls_traced"}) {
    SCOPED_TRACE(name);
    const Graph g = read(name, 40);
    EXPECT_TRUE(g.options.conv2d_layout);
    const std::vector<OpKind> want = {OpKind::input, OpKind::conv,   OpKind::relu, OpKind::threshold,
                                      OpKind::conv,  OpKind::add,    OpKind::relu, OpKind::mul_constant,
                                      OpKind::crop,  OpKind::flatten};
    EXPECT_EQ(kinds(g), want) << kind_list(g);
    EXPECT_EQ(g.nodes[1].weight.shape, (std::vector<std::int64_t>{8, 4, 5}));  // the height axis dropped
    EXPECT_EQ(g.nodes[4].pad_left, 1);  // 'same' with kernel 4: 3 = 1 left + 2 right, as PyTorch
    EXPECT_EQ(g.nodes[4].pad_right, 2);
    EXPECT_EQ(g.nodes[7].constant, 0.5);
    EXPECT_EQ(g.nodes[8].end, 10);
    EXPECT_EQ(g.nodes[9].dims, (std::vector<std::int64_t>{80}));
  }
}

// The refused fixtures name the op, the submodule and the user's source line.
TEST(GraphReader, RefusesUnsupportedOpsNamingOpSubmoduleAndLine) {
  const auto rows = tab_rows(graph_dir() + "/refusals.tsv");
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    SCOPED_TRACE(row.at(0));
    ExitCode code = ExitCode::success;
    std::string message;
    try {
      read(row.at(0), 20);
    } catch (const ModelError& e) {
      message = e.what();
      code = e.code();
    }
    EXPECT_EQ(code, ExitCode::model);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find("unsupported op " + row.at(1)), std::string::npos) << message;
    EXPECT_NE(message.find("in submodule '" + row.at(2) + "' of type " + row.at(3)), std::string::npos) << message;
    EXPECT_NE(message.find("(" + row.at(4) + ")"), std::string::npos) << message;
    EXPECT_NE(message.find("docs/models.md"), std::string::npos) << message;
  }
}

// The layer-stack reader's refused fixtures: a sum over the length is no graph op yet, six input
// channels are not one-hot DNA, and GELU, refused in a layer stack, is a graph op.
TEST(GraphReader, TheLayerStackRefusalFixtures) {
  ModelOverrides overrides;
  overrides.input_length = 10;
  const auto sum =
      test::error_message<ModelError>([&] { read_torchscript_graph(test::fixture_model("two_branches"), overrides); });
  EXPECT_NE(sum.find("unsupported op aten::sum in submodule '(top)' (make_fixtures.py:"), std::string::npos) << sum;
  const auto six =
      test::error_message<ModelError>([&] { read_torchscript_graph(test::fixture_model("six_channels"), overrides); });
  EXPECT_NE(six.find("op aten::conv1d in submodule '0' of type Conv1d"), std::string::npos) << six;
  EXPECT_NE(six.find("expects 6 input channels but gets 4"), std::string::npos) << six;
  const Graph gelu = read_torchscript_graph(test::fixture_model("unsupported_layer"), overrides);
  EXPECT_EQ(kinds(gelu),
            (std::vector<OpKind>{OpKind::input, OpKind::conv, OpKind::gelu, OpKind::flatten, OpKind::linear}));
}

TEST(GraphReader, RefusesAModelWithoutAnInputLengthAndAMissingFile) {
  const auto no_length =
      test::error_message<ModelError>([] { read_torchscript_graph(graph_fixture("bpnet_scripted")); });
  EXPECT_NE(no_length.find("--input-length"), std::string::npos) << no_length;
  const auto missing = test::error_message<ModelError>([] { read_torchscript_graph(graph_fixture("no_such_model")); });
  EXPECT_NE(missing.find("cannot read the model file"), std::string::npos) << missing;
  // An input too short for the model: the crop x[:, :, 4:-4] of 8 positions leaves none.
  const auto short_input = test::error_message<ModelError>([] { read("resnet_scripted", 8); });
  EXPECT_NE(short_input.find("aten::"), std::string::npos) << short_input;
}

// The Sequential fixtures of the layer-stack reader read as graphs too, with the same layers, and
// evaluate as the existing network does (the kernels backend, float32).
OpKind op_of(LayerKind kind) {
  switch (kind) {
    case LayerKind::conv: return OpKind::conv;
    case LayerKind::max_pool: return OpKind::max_pool;
    case LayerKind::avg_pool: return OpKind::avg_pool;
    case LayerKind::relu: return OpKind::relu;
    case LayerKind::threshold: return OpKind::threshold;
    case LayerKind::elu: return OpKind::elu;
    case LayerKind::batch_norm: return OpKind::batch_norm;
    case LayerKind::dropout: return OpKind::dropout;
    case LayerKind::flatten: return OpKind::flatten;
    case LayerKind::linear: return OpKind::linear;
    case LayerKind::sigmoid: return OpKind::sigmoid;
  }
  return OpKind::input;
}

TEST(GraphReader, SequentialFixturesReadAsGraphsAndEvaluateAsTheNetwork) {
  const char* complement = "TGCA";  // of ACGT
  for (const std::string name : {"conv1d_small", "kipoi_conv2d", "batchnorm_elu", "identical_bases", "traced_conv1d"}) {
    SCOPED_TRACE(name);
    ModelOverrides overrides;
    if (name == "traced_conv1d") overrides.input_length = 60;
    const Graph g = read_torchscript_graph(test::fixture_model(name), overrides);
    auto stack = std::make_shared<LayerStack>(load_model_file(test::fixture_model(name), overrides));
    EXPECT_EQ(g.options.alphabet, stack->options.alphabet);
    EXPECT_EQ(g.options.reverse_complement_average, stack->options.reverse_complement_average);
    EXPECT_EQ(g.options.conv2d_layout, stack->options.conv2d_layout);
    EXPECT_EQ(g.options.input_length, stack->options.input_length);
    EXPECT_EQ(g.target_names, stack->target_names);
    ASSERT_EQ(g.nodes.size(), stack->layers.size() + 1) << kind_list(g);
    for (std::size_t i = 0; i < stack->layers.size(); ++i) {
      const auto& layer = stack->layers[i];
      const auto& node = g.nodes[i + 1];
      EXPECT_EQ(node.kind, op_of(layer.kind)) << i;
      if (node.dims.size() == 2) {
        EXPECT_EQ(node.dims, (std::vector<std::int64_t>{layer.out.channels, layer.out.width})) << i;
      } else {
        EXPECT_EQ(node.dims, (std::vector<std::int64_t>{layer.out.channels})) << i;
        EXPECT_EQ(layer.out.width, 1) << i;
      }
      if (name != "traced_conv1d") {
        EXPECT_EQ(node.module_path, layer.path) << i;
      }
      if (layer.kind == LayerKind::dropout) {
        EXPECT_NEAR(node.p, layer.p, 1e-12) << i;
      }
    }

    // The fixture's own windows: the network (f(x), in float32 kernels) and PyTorch's outputs of the
    // whole model (strand-averaged where the model says so, float32) against the graph's float64.
    std::vector<std::string> seqs;
    std::vector<double> pytorch;
    for (const auto& row : test::read_rows(test::models_dir() + "/" + name + ".outputs.tsv")) {
      seqs.push_back(row.at(0));
      for (std::size_t i = 1; i < row.size(); ++i) pytorch.push_back(std::stod(row[i]));
    }
    const int batch = static_cast<int>(seqs.size());
    const std::string& alphabet = g.options.alphabet;
    const auto y = evaluate_graph_float64(g, one_hot(seqs, alphabet), batch).at(0).values;
    const int outputs = stack->output_count();
    std::vector<int> all(static_cast<std::size_t>(outputs));
    for (int o = 0; o < outputs; ++o) all[static_cast<std::size_t>(o)] = o;
    auto network = make_network(stack, all, Device{}, Backend::kernels);
    std::vector<float> x32;
    for (double v : one_hot(seqs, alphabet)) x32.push_back(static_cast<float>(v));
    std::vector<float> out(static_cast<std::size_t>(batch * outputs));
    network->forward(x32.data(), batch, nullptr, out.data());
    ASSERT_EQ(y.size(), out.size());
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(y[i], out[i], 1e-5 * std::max(1.0, std::abs(y[i]))) << i;

    std::vector<double> averaged = y;
    if (g.options.reverse_complement_average) {
      std::vector<std::string> rc = seqs;
      for (auto& s : rc) {
        std::reverse(s.begin(), s.end());
        for (auto& c : s) c = complement[std::string("ACGT").find(c)];
      }
      const auto y_rc = evaluate_graph_float64(g, one_hot(rc, alphabet), batch).at(0).values;
      for (std::size_t i = 0; i < y.size(); ++i) averaged[i] = (y[i] + y_rc[i]) / 2;
    }
    ASSERT_EQ(averaged.size(), pytorch.size());
    for (std::size_t i = 0; i < pytorch.size(); ++i)
      EXPECT_NEAR(averaged[i], pytorch[i], 1e-5 * std::max(1.0, std::abs(pytorch[i]))) << i;
  }
}

}  // namespace
}  // namespace deepmr::model
