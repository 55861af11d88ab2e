#include "deepmr/dist/device_binding.hpp"

#include <algorithm>
#include <thread>

#include "deepmr/common/error.hpp"

namespace deepmr::dist {

std::vector<int> bind_devices(const Communicator& world, int gpus_per_worker, int device_count) {
  const Communicator node = world.split_node_local();
  const bool computes = world.size() == 1 || !world.is_root();
  // This rank's index among the node's computing ranks: count the computing ranks below it.
  const auto computing = node.allgather(computes ? 1 : 0);
  int index = 0;
  for (int r = 0; r < node.rank(); ++r) index += static_cast<int>(computing[r]);
  if (!computes) return {};
  if (gpus_per_worker > device_count)
    throw UsageError("run.gpus-per-worker is " + std::to_string(gpus_per_worker) + " but the node has " +
                     std::to_string(device_count) + " GPUs");
  std::vector<int> devices;
  for (int g = 0; g < gpus_per_worker; ++g) devices.push_back((index * gpus_per_worker + g) % device_count);
  return devices;
}

std::vector<int> worker_gpus(const Communicator& world, int gpus_per_worker, int device_count, int first_pinned) {
  const auto bound = bind_devices(world, gpus_per_worker, device_count);
  std::vector<int> devices;
  for (int g = 0; g < gpus_per_worker; ++g) {
    if (first_pinned >= 0) devices.push_back(first_pinned + g);
    else if (!bound.empty()) devices.push_back(bound[g]);
    else devices.push_back(0);  // the coordinator: never used
  }
  return devices;
}

int default_threads(const Communicator& world) {
  const Communicator node = world.split_node_local();
  const std::int64_t computing = node.allreduce_sum(world.size() == 1 || !world.is_root() ? 1 : 0);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<std::int64_t>(1, cores / std::max<std::int64_t>(1, computing)));
}

}  // namespace deepmr::dist
