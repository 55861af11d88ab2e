#include "deepmr/model/ensemble_network.hpp"

#include "deepmr/common/error.hpp"

namespace deepmr::model {
namespace {

class EnsembleNetwork final : public Network {
 public:
  EnsembleNetwork(std::vector<std::unique_ptr<Network>> members, std::vector<std::string> names)
      : Network(members.front()->shared_stack(), members.front()->outputs()),
        members_(std::move(members)),
        names_(std::move(names)) {}

  void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) override {
    Network& member = *members_.at(static_cast<std::size_t>(masks ? masks->member : 0));
    // A member without MC dropout (or a sample drawn without it) runs in inference mode.
    member.forward(inputs, batch, masks && !masks->layers.empty() ? masks : nullptr, out);
  }
  std::string description() const override {
    return "ensemble of " + std::to_string(members_.size()) + " members, " + members_.front()->description();
  }
  Backend backend() const override { return members_.front()->backend(); }
  Device device() const override { return members_.front()->device(); }
  int members() const override { return static_cast<int>(members_.size()); }
  std::vector<const LayerStack*> member_stacks() const override {
    std::vector<const LayerStack*> stacks;
    for (const auto& member : members_) stacks.push_back(&member->stack());
    return stacks;
  }
  DropoutMasks sample_masks(std::uint64_t seed, std::uint64_t region_id, std::uint32_t sample,
                            bool dropout) const override {
    const auto member = sample % static_cast<std::uint32_t>(members_.size());
    DropoutMasks masks = members_[member]->sample_masks(seed, region_id, sample, dropout);
    masks.member = static_cast<int>(member);
    return masks;
  }
  std::vector<Network*> member_networks() {
    std::vector<Network*> out;
    for (auto& member : members_) out.push_back(member.get());
    return out;
  }

 private:
  std::vector<std::unique_ptr<Network>> members_;
  std::vector<std::string> names_;
};

// "member 2 (b.pt) has input length 1001 where member 1 (a.pt) has 1000".
void check_agree(const std::string& what, const std::string& value, const std::string& first_value,
                 std::size_t member, const std::vector<std::string>& names) {
  if (value == first_value) return;
  throw ModelError("ensemble member " + std::to_string(member + 1) + " (" + names[member] + ") has " + what + " " +
                   value + " where member 1 (" + names[0] + ") has " + first_value +
                   ": the members of an ensemble must agree on alphabet, input channels and length, strand "
                   "averaging and outputs");
}

}  // namespace

void check_ensemble_members(const std::vector<const LayerStack*>& members, const std::vector<std::string>& given) {
  std::vector<std::string> names = given;
  names.resize(members.size());
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k].empty()) names[k] = members[k]->label();
  const LayerStack& first = *members.front();
  for (std::size_t k = 1; k < members.size(); ++k) {
    const LayerStack& stack = *members[k];
    check_agree("alphabet", stack.options.alphabet, first.options.alphabet, k, names);
    check_agree("input channels", std::to_string(stack.input_channels()), std::to_string(first.input_channels()), k,
                names);
    check_agree("input length", std::to_string(stack.options.input_length), std::to_string(first.options.input_length),
                k, names);
    check_agree("strand averaging", stack.options.reverse_complement_average ? "on" : "off",
                first.options.reverse_complement_average ? "on" : "off", k, names);
    check_agree("outputs", std::to_string(stack.output_count()), std::to_string(first.output_count()), k, names);
    // The same outputs in the same order: members that name theirs must name them alike.
    if (!stack.target_names.empty() && !first.target_names.empty())
      for (std::size_t o = 0; o < stack.target_names.size() && o < first.target_names.size(); ++o)
        check_agree("output " + std::to_string(o) + " named", "'" + stack.target_names[o] + "'",
                    "'" + first.target_names[o] + "'", k, names);
  }
}

std::unique_ptr<Network> make_ensemble_network(std::vector<std::unique_ptr<Network>> members,
                                               std::vector<std::string> names) {
  if (members.size() < 2) throw InternalError("an ensemble needs at least 2 members");
  std::vector<const LayerStack*> stacks;
  for (const auto& member : members) stacks.push_back(&member->stack());
  check_ensemble_members(stacks, names);
  names.resize(members.size());
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k].empty()) names[k] = members[k]->stack().label();
  for (std::size_t k = 1; k < members.size(); ++k) {
    const Network& member = *members[k];
    if (member.outputs() != members.front()->outputs() || member.backend() != members.front()->backend() ||
        member.device().kind != members.front()->device().kind || member.device().index != members.front()->device().index)
      throw InternalError("ensemble members built for different outputs, backends or devices");
  }
  return std::make_unique<EnsembleNetwork>(std::move(members), std::move(names));
}

std::vector<Network*> ensemble_members(Network& network) {
  if (auto* ensemble = dynamic_cast<EnsembleNetwork*>(&network)) return ensemble->member_networks();
  return {};
}

}  // namespace deepmr::model
