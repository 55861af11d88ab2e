#include "deepmr/model/dropout_masks.hpp"

#include "deepmr/common/error.hpp"
#include "deepmr/common/philox.hpp"

namespace deepmr::model {

DropoutMasks draw_dropout_masks(const LayerStack& stack, std::uint64_t seed, std::uint64_t region_id,
                                std::uint32_t sample) {
  if (region_id > 0xffffffffull) throw InternalError("region id " + std::to_string(region_id) + " exceeds 2^32 - 1");
  const PhiloxKey key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  DropoutMasks masks;
  std::uint32_t ordinal = 0;
  for (int index : stack.dropout_layers()) {
    const Layer& layer = stack.layers[index];
    const float keep_scale = 1.0f / static_cast<float>(1.0 - layer.p);
    const float p = static_cast<float>(layer.p);
    std::vector<float> mask(static_cast<std::size_t>(layer.in.size()));
    for (std::size_t block = 0; block * 4 < mask.size(); ++block) {
      const auto words = philox4x32_10(
          {static_cast<std::uint32_t>(block), sample, ordinal, static_cast<std::uint32_t>(region_id)}, key);
      for (std::size_t j = 0; j < 4 && block * 4 + j < mask.size(); ++j)
        mask[block * 4 + j] = unit_float(words[j]) >= p ? keep_scale : 0.0f;
    }
    masks.layers.push_back(std::move(mask));
    ++ordinal;
  }
  return masks;
}

}  // namespace deepmr::model
