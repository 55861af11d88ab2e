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

// Collective over `world`. The GPU indices a worker computes on: `first_pinned`, first_pinned + 1,
// ... when the user pinned a device (cuda:K; -1: not pinned), else bind_devices().
std::vector<int> worker_gpus(const Communicator& world, int gpus_per_worker, int device_count, int first_pinned);

// Collective over `world`. Compute threads of a rank: the node's cores shared by the node's
// computing ranks (the coordinator of a multi-rank run computes nothing).
int default_threads(const Communicator& world);

}  // namespace deepmr::dist
