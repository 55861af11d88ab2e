#include "deepmr/dist/device_gather.hpp"

#include <algorithm>

#include "deepmr/common/error.hpp"

#ifdef DEEPMR_HAVE_NCCL
#include <cuda_runtime_api.h>
#include <nccl.h>
#endif

namespace deepmr::dist {
namespace {

class HostGather : public DeviceGather {
 public:
  std::string name() const override { return "host"; }
  std::vector<std::vector<double>> gather(const std::vector<std::vector<double>>& per_device) override {
    return per_device;
  }
};

#ifdef DEEPMR_HAVE_NCCL
void cuda_check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) throw InternalError(std::string("CUDA call ") + what + " failed: " + cudaGetErrorString(rc));
}
void nccl_check(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) throw InternalError(std::string("NCCL call ") + what + " failed: " + ncclGetErrorString(rc));
}

// Each device's share travels in a slot of equal length (NCCL all-gather needs equal counts): the
// share's length first, then the share, zero-padded.
class NcclGather : public DeviceGather {
 public:
  explicit NcclGather(std::vector<int> devices) : devices_(std::move(devices)), comms_(devices_.size()) {
    nccl_check(ncclCommInitAll(comms_.data(), static_cast<int>(devices_.size()), devices_.data()), "ncclCommInitAll");
    for (int device : devices_) {
      cuda_check(cudaSetDevice(device), "cudaSetDevice");
      cudaStream_t stream;
      cuda_check(cudaStreamCreate(&stream), "cudaStreamCreate");
      streams_.push_back(stream);
    }
  }
  ~NcclGather() override {
    for (std::size_t d = 0; d < devices_.size(); ++d) {
      cudaSetDevice(devices_[d]);
      cudaStreamDestroy(streams_[d]);
      ncclCommDestroy(comms_[d]);
    }
  }
  std::string name() const override { return "nccl"; }

  std::vector<std::vector<double>> gather(const std::vector<std::vector<double>>& per_device) override {
    const std::size_t n = devices_.size();
    if (per_device.size() != n) throw InternalError("nccl gather: one share per device expected");
    std::size_t slot = 1;
    for (const auto& share : per_device) slot = std::max(slot, share.size() + 1);
    std::vector<double*> send(n), receive(n);
    for (std::size_t d = 0; d < n; ++d) {
      std::vector<double> padded(slot, 0.0);
      padded[0] = static_cast<double>(per_device[d].size());
      std::copy(per_device[d].begin(), per_device[d].end(), padded.begin() + 1);
      cuda_check(cudaSetDevice(devices_[d]), "cudaSetDevice");
      cuda_check(cudaMalloc(&send[d], slot * sizeof(double)), "cudaMalloc");
      cuda_check(cudaMalloc(&receive[d], n * slot * sizeof(double)), "cudaMalloc");
      cuda_check(cudaMemcpy(send[d], padded.data(), slot * sizeof(double), cudaMemcpyHostToDevice), "cudaMemcpy");
    }
    nccl_check(ncclGroupStart(), "ncclGroupStart");
    for (std::size_t d = 0; d < n; ++d)
      nccl_check(ncclAllGather(send[d], receive[d], slot, ncclDouble, comms_[d], streams_[d]), "ncclAllGather");
    nccl_check(ncclGroupEnd(), "ncclGroupEnd");
    for (std::size_t d = 0; d < n; ++d) {
      cuda_check(cudaSetDevice(devices_[d]), "cudaSetDevice");
      cuda_check(cudaStreamSynchronize(streams_[d]), "cudaStreamSynchronize");
    }
    std::vector<double> all(n * slot);
    cuda_check(cudaSetDevice(devices_[0]), "cudaSetDevice");
    cuda_check(cudaMemcpy(all.data(), receive[0], n * slot * sizeof(double), cudaMemcpyDeviceToHost), "cudaMemcpy");
    for (std::size_t d = 0; d < n; ++d) {
      cudaSetDevice(devices_[d]);
      cudaFree(send[d]);
      cudaFree(receive[d]);
    }
    std::vector<std::vector<double>> shares(n);
    for (std::size_t d = 0; d < n; ++d) {
      const double* at = all.data() + d * slot;
      shares[d].assign(at + 1, at + 1 + static_cast<std::size_t>(at[0]));
    }
    return shares;
  }

 private:
  std::vector<int> devices_;
  std::vector<ncclComm_t> comms_;
  std::vector<cudaStream_t> streams_;
};
#endif

}  // namespace

std::unique_ptr<DeviceGather> make_host_gather() { return std::make_unique<HostGather>(); }

bool nccl_compiled_in() {
#ifdef DEEPMR_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<DeviceGather> make_nccl_gather(const std::vector<int>& devices) {
#ifdef DEEPMR_HAVE_NCCL
  return std::make_unique<NcclGather>(devices);
#else
  (void)devices;
  throw UsageError("this deepmr was built without NCCL: several GPUs per worker need it (see DEEPMR_ENABLE_NCCL)");
#endif
}

}  // namespace deepmr::dist
