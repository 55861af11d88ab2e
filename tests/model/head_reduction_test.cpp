// A profile head reduced to one output per task (head_reduction.hpp): on the BPNet-like fixture
// (outputs "0": profile 2 x 100, "1": counts 2), each reduction equals the same sum, mean or
// logsumexp taken in double over the unreduced profile's positions; the model loaded with the
// reduction names its outputs 0:0, 0:1 (per task); malformed texts and impossible reductions are
// refused naming the head.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "deepmr/common/error.hpp"
#include "deepmr/model/graph_torch_evaluator.hpp"
#include "deepmr/model/head_reduction.hpp"
#include "deepmr/model/model_choice.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/torchscript_graph_reader.hpp"
#include "test_support.hpp"

namespace deepmr::model {
namespace {

std::string bpnet() { return test::binary_dir() + "/test-fixtures/graphs/bpnet_scripted.pt"; }
ModelOverrides length_100() {  // the fixture's length (the file has no metadata)
  ModelOverrides overrides;
  overrides.input_length = 100;
  return overrides;
}

std::vector<double> random_one_hot(int batch, int length, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<double> x(static_cast<std::size_t>(batch) * 4 * length, 0.0);
  for (int b = 0; b < batch; ++b)
    for (int p = 0; p < length; ++p) x[(static_cast<std::size_t>(b) * 4 + rng() % 4) * length + p] = 1;
  return x;
}

TEST(HeadReduction, EqualsTheReductionOfTheUnreducedProfile) {
  const Graph plain = read_torchscript_graph(bpnet(), length_100());
  ASSERT_EQ(plain.named_outputs().at(0).name, "0");
  const int length = plain.options.input_length, batch = 3;
  const auto x = random_one_hot(batch, length, 7);
  const auto profile = evaluate_graph_float64(plain, x, batch).at(0);  // batch x (2 x length)
  ASSERT_EQ(profile.dims, (std::vector<std::int64_t>{2, length}));
  struct Case {
    std::string text;
    int first, last;
  };
  for (const Case& c : {Case{"0=sum:10-29", 10, 29}, Case{"0=mean", 0, length - 1}, Case{"0=logsumexp:40-40", 40, 40},
                       Case{"0=sum", 0, length - 1}}) {
    SCOPED_TRACE(c.text);
    Graph graph = plain;
    reduce_head(graph, parse_head_reduction(c.text, "test"));
    EXPECT_EQ(graph.flat_output_count(), 4);
    EXPECT_EQ(graph.flat_output_names(), (std::vector<std::string>{"0:0", "0:1", "1:0", "1:1"}));
    const auto outputs = evaluate_graph_float64(graph, x, batch);
    ASSERT_EQ(outputs.at(0).dims, (std::vector<std::int64_t>{2}));
    for (int b = 0; b < batch; ++b)
      for (int t = 0; t < 2; ++t) {
        double sum = 0, largest = -INFINITY, exps = 0;
        const double* row = profile.values.data() + (static_cast<std::size_t>(b) * 2 + t) * length;
        for (int p = c.first; p <= c.last; ++p) {
          sum += row[p];
          largest = std::max(largest, row[p]);
        }
        for (int p = c.first; p <= c.last; ++p) exps += std::exp(row[p] - largest);
        const double width = c.last - c.first + 1;
        const double expected = c.text.find("logsumexp") != std::string::npos ? largest + std::log(exps)
                                : c.text.find("mean") != std::string::npos  ? sum / width
                                                                            : sum;
        EXPECT_NEAR(outputs[0].values[static_cast<std::size_t>(b) * 2 + t], expected, 1e-9 * (1 + std::fabs(expected)));
      }
    // The counts head is untouched.
    EXPECT_EQ(outputs.at(1).values, evaluate_graph_float64(plain, x, batch).at(1).values);
  }
}

TEST(HeadReduction, ALoadedModelTakesTheUsersReductionsOverItsOwn) {
  ModelOverrides overrides = length_100();
  overrides.head_reductions = std::vector<std::string>{"0=sum:50-99"};
  const LayerStack stack = load_model_file(bpnet(), overrides);
  ASSERT_TRUE(stack.graph);
  EXPECT_EQ(stack.output_count(), 4);
  EXPECT_EQ(stack.target_names, (std::vector<std::string>{"0:0", "0:1", "1:0", "1:1"}));
}

TEST(HeadReduction, MalformedOrImpossibleReductionsAreRefusedNamingTheHead) {
  for (const char* text : {"0", "0=median", "0=sum:5", "0=sum:9-3", "0=sum:a-b", "0=sum:-3-4"})
    EXPECT_THROW(parse_head_reduction(text, "option 'reduce'"), UsageError) << text;
  const Graph plain = read_torchscript_graph(bpnet(), length_100());
  const auto message = [&](const std::string& text) {
    return test::error_message<ModelError>([&] {
      Graph graph = plain;
      reduce_head(graph, parse_head_reduction(text, "test"));
      reduce_head(graph, parse_head_reduction(text, "test"));  // twice, for the last case
    });
  };
  EXPECT_NE(message("profile=sum").find("no output tensor named 'profile' to reduce (the model's: 0, 1)"),
            std::string::npos);
  EXPECT_NE(message("=sum").find("no output tensor named '' to reduce"), std::string::npos);  // not a lone tensor
  EXPECT_NE(message("1=sum").find("output '1' is not channels x length"), std::string::npos);
  EXPECT_NE(message("0=sum:90-100").find("has 100 positions; the reduction's window 90-100 ends past them"),
            std::string::npos);
  EXPECT_NE(message("0=mean").find("output '0' is reduced twice"), std::string::npos);
}

// Strand averaging reads the reverse strand's profile position l as the forward strand's
// L - 1 - l: a reduction window must be centred, and an unreduced profile position is refused (the
// model choice's check, before any network is built); per-sequence outputs pass.
TEST(HeadReduction, StrandAveragingNeedsACentredWindowAndRefusesProfilePositions) {
  ModelOverrides overrides = length_100();
  overrides.reverse_complement_average = true;
  overrides.head_reductions = std::vector<std::string>{"0=sum:40-59"};  // 40 + 59 = 99: centred
  EXPECT_EQ(load_model_file(bpnet(), overrides).output_count(), 4);
  overrides.head_reductions = std::vector<std::string>{"0=sum"};
  EXPECT_EQ(load_model_file(bpnet(), overrides).output_count(), 4);
  overrides.head_reductions = std::vector<std::string>{"0=sum:40-60"};
  try {
    load_model_file(bpnet(), overrides);
    FAIL() << "an off-centre window was taken";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("positions 40-60, which the reverse-complement strand sees as 39-59"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("FROM + TO = 99"), std::string::npos) << e.what();
  }
  overrides.reverse_complement_average = false;
  EXPECT_EQ(load_model_file(bpnet(), overrides).output_count(), 4);  // one strand: any window

  overrides.reverse_complement_average = true;
  overrides.head_reductions.reset();
  const LayerStack stack = load_model_file(bpnet(), overrides);
  EXPECT_EQ(strand_averaging_refusal(stack, {200, 201}), "");  // counts 1:0, 1:1
  const std::string refusal = strand_averaging_refusal(stack, {200, 17});
  EXPECT_NE(refusal.find("output 0:17 is one position of the profile '0'"), std::string::npos) << refusal;
  ModelChoice choice;
  choice.stack = std::make_shared<const LayerStack>(stack);
  choice.backend = Backend::torch;
  EXPECT_THROW(make_choice_network(choice, {17}, Device{}), ModelError);
  EXPECT_NE(make_choice_network(choice, {201}, Device{}), nullptr);
  overrides.reverse_complement_average = false;
  EXPECT_EQ(strand_averaging_refusal(load_model_file(bpnet(), overrides), {17}), "");
  // The middle of an odd length (a length of 1 included) is its own mirror image: not refused.
  for (std::int64_t length : {99, 1}) {
    auto odd = stack;
    auto graph = std::make_shared<Graph>(*stack.graph);
    graph->nodes.at(static_cast<std::size_t>(graph->named_outputs().at(0).node)).dims = {2, length};
    odd.graph = graph;
    const int middle = static_cast<int>(length / 2);
    EXPECT_EQ(strand_averaging_refusal(odd, {middle, static_cast<int>(length) + middle}), "") << length;
    if (length > 1) EXPECT_NE(strand_averaging_refusal(odd, {middle + 1}), "");
  }
}

}  // namespace
}  // namespace deepmr::model
