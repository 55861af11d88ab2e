#pragma once
// A worker that owns several GPUs splits a region's Monte Carlo samples across them (blocks of
// samples, ism/effects.hpp); each device's share of the per-mutant sums then has to meet the
// others'. DeviceGather is that step: all-gather over NCCL between the GPUs of a worker, or, in
// the CPU build (sample groups on host threads), a plain host gather through the same interface.

#include <memory>
#include <string>
#include <vector>

namespace deepmr::dist {

class DeviceGather {
 public:
  virtual ~DeviceGather() = default;
  virtual std::string name() const = 0;
  // per_device[d] is device d's share (any lengths); returns every share, in device order.
  virtual std::vector<std::vector<double>> gather(const std::vector<std::vector<double>>& per_device) = 0;
};

// Shares already in host memory (CPU sample groups): returned as they are.
std::unique_ptr<DeviceGather> make_host_gather();

// NCCL all-gather among `devices` (CUDA device indices of this process). Throws UsageError when
// this build has no NCCL.
std::unique_ptr<DeviceGather> make_nccl_gather(const std::vector<int>& devices);

bool nccl_compiled_in();

}  // namespace deepmr::dist
