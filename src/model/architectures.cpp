#include "deepmr/model/architectures.hpp"

#include <cmath>

#include "deepmr/common/error.hpp"
#include "deepmr/common/philox.hpp"

namespace deepmr::model {
namespace {

Layer weighted(LayerKind kind, const std::string& path, const std::string& type, int out, int in, int kernel,
               PhiloxStream& rng) {
  Layer layer;
  layer.kind = kind;
  layer.path = path;
  layer.type = type;
  layer.kernel = kernel;
  const double bound = 1.0 / std::sqrt(static_cast<double>(in) * kernel);
  layer.weight.resize(static_cast<std::size_t>(out) * in * kernel);
  for (auto& w : layer.weight) w = static_cast<float>((2 * rng.uniform() - 1) * bound);
  layer.bias.resize(out);
  for (auto& b : layer.bias) b = static_cast<float>((2 * rng.uniform() - 1) * bound);
  return layer;
}

Layer simple(LayerKind kind, const std::string& path, const std::string& type) {
  Layer layer;
  layer.kind = kind;
  layer.path = path;
  layer.type = type;
  return layer;
}

Layer threshold(const std::string& path) {
  Layer layer = simple(LayerKind::threshold, path, "Threshold");
  layer.threshold = 0.0;
  layer.value = 1e-6;
  return layer;
}

Layer pool(const std::string& path) {
  Layer layer = simple(LayerKind::max_pool, path, "MaxPool2d");
  layer.kernel = layer.stride = 4;
  return layer;
}

Layer dropout(const std::string& path, double p) {
  Layer layer = simple(LayerKind::dropout, path, "Dropout");
  layer.p = p;
  return layer;
}

}  // namespace

LayerStack deepsea_architecture(std::uint64_t seed) {
  PhiloxStream rng(seed, 0xdee95ea);
  LayerStack stack;
  stack.source = "deepsea architecture (random weights, seed " + std::to_string(seed) + ")";
  stack.options.alphabet = "AGCT";
  stack.options.reverse_complement_average = true;
  stack.options.input_length = 1000;
  stack.options.conv2d_layout = true;
  stack.layers = {
      weighted(LayerKind::conv, "net.0", "Conv2d", 320, 4, 8, rng),   threshold("net.1"), pool("net.2"),
      dropout("net.3", 0.2),
      weighted(LayerKind::conv, "net.4", "Conv2d", 480, 320, 8, rng), threshold("net.5"), pool("net.6"),
      dropout("net.7", 0.2),
      weighted(LayerKind::conv, "net.8", "Conv2d", 960, 480, 8, rng), threshold("net.9"), dropout("net.10", 0.5),
      simple(LayerKind::flatten, "net.11", "Flatten"),
      weighted(LayerKind::linear, "net.12", "Linear", 925, 50880, 1, rng), threshold("net.13"),
      weighted(LayerKind::linear, "net.14", "Linear", 919, 925, 1, rng),
      simple(LayerKind::sigmoid, "net.15", "Sigmoid")};
  infer_shapes(stack, 4, 1000);
  return stack;
}

LayerStack architecture(const std::string& name, std::uint64_t seed) {
  if (name == "deepsea") return deepsea_architecture(seed);
  throw UsageError("unknown architecture '" + name + "' (known: deepsea)");
}

}  // namespace deepmr::model
