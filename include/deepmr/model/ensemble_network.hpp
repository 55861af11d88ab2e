#pragma once
// A deep ensemble as one network (Lakshminarayanan et al. 2017; the Deep MR authors took BPNet's
// uncertainty from a 5-model ensemble): K member models trained apart, read as K networks. Monte
// Carlo sample n of a region is member n mod K, the reference and every mutant evaluated by the
// same member (paired by construction, as masks pair them under MC dropout); with MC dropout
// inside the members, sample n also carries its own masks of that member's dropout layers. So K
// members at N samples each are K x N samples and the paper's beta and se formulas apply
// unchanged over them.

#include <memory>
#include <string>
#include <vector>

#include "deepmr/model/network.hpp"

namespace deepmr::model {

// The ensemble of `members` (at least 2, built for the same outputs, device and backend), named by
// `names` (their files) in messages. Throws ModelError naming both members when they disagree on
// the alphabet, the input channels or length, strand averaging, the number of outputs, or (where
// both name them) the outputs' names in order.
std::unique_ptr<Network> make_ensemble_network(std::vector<std::unique_ptr<Network>> members,
                                               std::vector<std::string> names);

// The same check on the members' stacks alone (at load time, before any network is built).
void check_ensemble_members(const std::vector<const LayerStack*>& members, const std::vector<std::string>& names);

// The member networks of an ensemble (empty for any other network): the incremental engine runs
// one incremental network per member.
std::vector<Network*> ensemble_members(Network& network);

}  // namespace deepmr::model
