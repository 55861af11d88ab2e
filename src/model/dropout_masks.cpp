#include "deepmr/model/dropout_masks.hpp"

#include "deepmr/common/error.hpp"
#include "deepmr/common/philox.hpp"
#include "deepmr/model/graph.hpp"

namespace deepmr::model {

namespace {

// Site `ordinal`'s mask of `size` elements: element e keeps when the 24-bit uniform of word e % 4
// of Philox(counter (e / 4, sample, ordinal, region id), key seed) is >= p.
std::vector<float> draw_site(std::size_t size, double rate, const PhiloxKey& key, std::uint32_t region,
                             std::uint32_t sample, std::uint32_t ordinal) {
  const float keep_scale = 1.0f / static_cast<float>(1.0 - rate);
  const float p = static_cast<float>(rate);
  std::vector<float> mask(size);
  for (std::size_t block = 0; block * 4 < mask.size(); ++block) {
    const auto words = philox4x32_10({static_cast<std::uint32_t>(block), sample, ordinal, region}, key);
    for (std::size_t j = 0; j < 4 && block * 4 + j < mask.size(); ++j)
      mask[block * 4 + j] = unit_float(words[j]) >= p ? keep_scale : 0.0f;
  }
  return mask;
}

}  // namespace

DropoutMasks draw_dropout_masks(const LayerStack& stack, std::uint64_t seed, std::uint64_t region_id,
                                std::uint32_t sample) {
  if (region_id > 0xffffffffull) throw InternalError("region id " + std::to_string(region_id) + " exceeds 2^32 - 1");
  const PhiloxKey key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  const auto region = static_cast<std::uint32_t>(region_id);
  DropoutMasks masks;
  std::uint32_t ordinal = 0;
  if (stack.graph) {
    // A graph's dropout sites in node order; a site's mask has the shape of its input per example.
    for (int id : stack.graph->dropout_nodes()) {
      const GraphNode& node = stack.graph->nodes[static_cast<std::size_t>(id)];
      std::size_t size = 1;
      for (auto d : node.dims) size *= static_cast<std::size_t>(d);
      masks.layers.push_back(draw_site(size, node.p, key, region, sample, ordinal++));
    }
    return masks;
  }
  for (int index : stack.dropout_layers()) {
    const Layer& layer = stack.layers[index];
    masks.layers.push_back(draw_site(static_cast<std::size_t>(layer.in.size()), layer.p, key, region, sample, ordinal++));
  }
  return masks;
}

}  // namespace deepmr::model
