#pragma once
// Helpers shared by the graph network tests (graph_network_test.cpp: the torch backend,
// graph_kernel_network_test.cpp: the kernels backend): the fixtures of tests/model/make_fixtures.py
// --graphs (written into the build tree by the graph_model_fixtures test), their PyTorch float64
// outputs, one-hot inputs and the float64 graph evaluator's outputs.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "deepmr/ism/engine.hpp"
#include "deepmr/ism/mutants.hpp"
#include "deepmr/model/graph.hpp"
#include "deepmr/model/graph_torch_evaluator.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/model/network.hpp"
#include "test_support.hpp"

namespace deepmr::graph_test {

using model::Backend;
using model::Device;
using model::LayerStack;

inline std::string graph_fixture(const std::string& name) { return test::binary_dir() + "/test-fixtures/graphs/" + name + ".pt"; }

inline std::vector<std::vector<std::string>> tab_rows(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(test::split_tabs(line));
  return rows;
}

// The fixture's sequences without an N and their PyTorch float64 outputs, flattened and
// concatenated over the output tensors (the graph's flattened outputs).
struct Expected {
  std::vector<std::string> sequences;
  std::vector<std::vector<double>> outputs;
};

inline Expected expected_outputs(const std::string& name) {
  Expected e;
  for (const auto& row : tab_rows(test::binary_dir() + "/test-fixtures/graphs/" + name + ".graph_outputs.tsv")) {
    if (row[0].find('N') != std::string::npos) continue;
    if (e.sequences.empty() || e.sequences.back() != row[0]) {
      e.sequences.push_back(row[0]);
      e.outputs.emplace_back();
    }
    for (std::size_t i = 2; i < row.size(); ++i) e.outputs.back().push_back(std::stod(row[i]));
  }
  return e;
}

inline std::shared_ptr<const LayerStack> load(const std::string& name, int length = 0) {
  model::ModelOverrides overrides;
  if (length > 0) overrides.input_length = length;
  return std::make_shared<const LayerStack>(model::load_model_file(graph_fixture(name), overrides));
}

inline std::vector<int> all_outputs(const LayerStack& stack) {
  std::vector<int> outputs(static_cast<std::size_t>(stack.output_count()));
  for (std::size_t i = 0; i < outputs.size(); ++i) outputs[i] = static_cast<int>(i);
  return outputs;
}

template <typename T>
std::vector<T> one_hot(const std::vector<std::string>& seqs, const std::string& alphabet = "ACGT") {
  const std::size_t length = seqs.front().size();
  std::vector<T> x(seqs.size() * 4 * length, T(0));
  for (std::size_t b = 0; b < seqs.size(); ++b)
    for (std::size_t i = 0; i < length; ++i) x[(b * 4 + alphabet.find(seqs[b][i])) * length + i] = T(1);
  return x;
}

inline std::vector<float> forward(model::Network& network, const std::vector<std::string>& seqs,
                           const model::DropoutMasks* masks = nullptr) {
  auto x = one_hot<float>(seqs);
  std::vector<float> out(seqs.size() * network.outputs().size());
  network.forward(x.data(), static_cast<int>(seqs.size()), masks, out.data());
  return out;
}

// The float64 evaluator's flattened outputs, batch x outputs.
inline std::vector<std::vector<double>> evaluate64(const LayerStack& stack, const std::vector<std::string>& seqs) {
  auto values = model::evaluate_graph_float64(*stack.graph, one_hot<double>(seqs), static_cast<int>(seqs.size()));
  std::vector<std::vector<double>> rows(seqs.size());
  for (const auto& head : values) {
    const std::size_t size = head.values.size() / seqs.size();
    for (std::size_t b = 0; b < seqs.size(); ++b)
      rows[b].insert(rows[b].end(), head.values.begin() + b * size, head.values.begin() + (b + 1) * size);
  }
  return rows;
}

struct Fixture {
  std::string name;
  int length;
  bool squashed;  // every output through a sigmoid
};

inline const std::vector<Fixture> kFixtures = {
    {"bpnet_scripted", 100, false}, {"bpnet_traced", 100, false},   {"basset_scripted", 120, true},
    {"basset_traced", 120, true},   {"resnet_scripted", 60, false}, {"resnet_traced", 60, false},
};

// Paired masks: a model whose first layer reads G and T alike (bpnet_dropout, basset_dropout) gives
// every G <-> T substitution an effect of exactly zero in every sample (6 samples, the given
// batch), while other substitutions do change outputs and the samples differ (se > 0). Returns the
// name of the engine `engine_name` made.
inline std::string expect_exact_zero_gt_effects(const std::string& engine_name, model::Network& network,
                                                const std::string& sequence, int batch) {
  const auto mutants = ism::enumerate_mutants(sequence);
  auto engine = ism::make_engine(engine_name, network);
  ism::IsmOptions options;
  options.mc_samples = 6;
  options.seed = 99;
  options.region_id = 4;
  options.batch = batch;
  int zero_cells = 0, samples = 0;
  bool other_nonzero = false;
  options.on_sample = [&](int, const std::vector<double>& d) {
    ++samples;
    const std::size_t n = network.outputs().size();
    for (std::size_t m = 0; m < mutants.size(); ++m) {
      const bool gt =
          (mutants[m].ref == 'G' && mutants[m].alt == 'T') || (mutants[m].ref == 'T' && mutants[m].alt == 'G');
      for (std::size_t o = 0; o < n; ++o) {
        if (gt) {
          EXPECT_EQ(d[m * n + o], 0.0) << "mutant " << m << " output " << o;
          ++zero_cells;
        } else if (d[m * n + o] != 0.0) {
          other_nonzero = true;
        }
      }
    }
  };
  const auto effects = engine->run(sequence, options);
  EXPECT_EQ(samples, 6);
  EXPECT_GT(zero_cells, 0);
  EXPECT_TRUE(other_nonzero);
  bool some_se = false;
  for (double se : effects.se) some_se = some_se || se > 0;
  EXPECT_TRUE(some_se);  // the masks differ between samples
  return engine->name();
}

}  // namespace deepmr::graph_test
