#pragma once
// Which GPUs a rank uses: decided from its rank among the computing ranks of its node, before any
// CUDA work, so that NCCL and CUDA see every GPU of the node (no CUDA_VISIBLE_DEVICES juggling).

#include <vector>

#include "deepmr/dist/communicator.hpp"

namespace deepmr::dist {

// Collective over `world`. The devices of this rank: gpus_per_worker consecutive indices starting
// at (node-local worker index x gpus_per_worker), modulo device_count. Empty for the coordinator of
// a multi-rank run (it touches no GPU). Throws UsageError when a worker would need more devices
// than the node has.
std::vector<int> bind_devices(const Communicator& world, int gpus_per_worker, int device_count);

}  // namespace deepmr::dist
