// The full DeepSEA architecture (919 outputs, L = 1000) with random weights: import, shapes, cost
// and outputs against PyTorch. make_fixtures.py --deepsea writes the 211 MB model into the build
// tree (CTest fixture deepsea_model).
#include <gtest/gtest.h>

#include <cmath>

#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/reverse_complement.hpp"
#include "deepmr/model/architectures.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/network.hpp"
#include "expected_tables.hpp"
#include "test_support.hpp"

namespace deepmr::model {
namespace {

std::string fixture_dir() { return test::binary_dir() + "/test-fixtures"; }

TEST(DeepSea, ImportedStackHasKipoisLayout) {
  auto stack = load_model_file(fixture_dir() + "/deepsea.pt");
  EXPECT_EQ(stack.options.alphabet, "AGCT");
  EXPECT_TRUE(stack.options.reverse_complement_average);
  EXPECT_TRUE(stack.options.conv2d_layout);
  EXPECT_EQ(stack.options.input_length, 1000);
  EXPECT_EQ(stack.output_count(), 919);
  ASSERT_EQ(stack.layers.size(), 16u);
  EXPECT_EQ(stack.layers[8].out.width, 53);
  EXPECT_EQ(stack.layers[12].in.channels, 50880);
  std::size_t parameters = 0;
  for (const auto& layer : stack.layers) parameters += layer.kind == LayerKind::batch_norm ? 0 : layer.weight.size() + layer.bias.size();
  EXPECT_EQ(parameters, 52843119u);  // deep-mr-notes.md
  // 0.55 GMAC per forward pass: conv1 10.2 M, conv2 296.1 M, conv3 195.4 M, fc1 47.1 M, fc2 0.85 M.
  EXPECT_EQ(stack.forward_macs(), 993.0 * 320 * 32 + 241.0 * 480 * 2560 + 53.0 * 960 * 3840 + 925.0 * 50880 + 919.0 * 925);
  EXPECT_NEAR(stack.forward_macs(), 0.5496e9, 0.0001e9);
  // Input positions 995..999 only feed columns the poolings drop.
  EXPECT_EQ(stack.live_input_positions(), (std::pair<int, int>{0, 994}));
}

TEST(DeepSea, InMemoryArchitectureMatchesTheExportedOne) {
  auto built = deepsea_architecture(3);
  auto imported = load_model_file(fixture_dir() + "/deepsea.pt");
  ASSERT_EQ(built.layers.size(), imported.layers.size());
  for (std::size_t i = 0; i < built.layers.size(); ++i) {
    EXPECT_EQ(built.layers[i].kind, imported.layers[i].kind) << i;
    EXPECT_EQ(built.layers[i].out.channels, imported.layers[i].out.channels) << i;
    EXPECT_EQ(built.layers[i].out.width, imported.layers[i].out.width) << i;
    EXPECT_EQ(built.layers[i].weight.size(), imported.layers[i].weight.size()) << i;
    EXPECT_EQ(built.layers[i].p, imported.layers[i].p) << i;
  }
}

TEST(DeepSea, OutputsMatchPyTorch) {
  auto stack = std::make_shared<LayerStack>(load_model_file(fixture_dir() + "/deepsea.pt"));
  std::vector<int> all(919);
  for (int i = 0; i < 919; ++i) all[i] = i;
  auto network = make_network(stack, all, Device{}, Backend::kernels);
  set_threads(2);
  for (const auto& row : test::read_rows(fixture_dir() + "/deepsea.outputs.tsv")) {
    const std::string& sequence = row[0];
    auto x = genome::one_hot(sequence, genome::Alphabet::agct());
    const auto x_rc = genome::one_hot(genome::reverse_complement(sequence), genome::Alphabet::agct());
    x.insert(x.end(), x_rc.begin(), x_rc.end());
    std::vector<float> y(2 * 919);
    network->forward(x.data(), 2, nullptr, y.data());
    double worst = 0;
    for (int o = 0; o < 919; ++o) worst = std::max(worst, std::abs((y[o] + y[919 + o]) / 2.0f - std::stod(row[o + 1])));
    EXPECT_LT(worst, 1e-5);
  }
  set_threads(1);
}

}  // namespace
}  // namespace deepmr::model
