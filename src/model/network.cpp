#include "deepmr/model/network.hpp"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "deepmr/common/error.hpp"
#include "deepmr/model/gemm.hpp"
#include "graph_kernel_network.hpp"
#include "graph_torch_network.hpp"
#include "kernel_network.hpp"
#include "torch_network.hpp"

namespace deepmr::model {

std::string Device::name() const { return kind == Kind::cpu ? "cpu" : "cuda:" + std::to_string(index); }

std::string libtorch_version() { return TORCH_VERSION; }

int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

Device parse_device(const std::string& text) {
  Device device;
  if (text == "cpu") return device;
  const bool available = torch::cuda::is_available();
  if (text == "auto") {
    if (available) device.kind = Device::Kind::cuda;
    return device;
  }
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    device.kind = Device::Kind::cuda;
    if (text.size() > 5) {
      const std::string index = text.substr(5);
      if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
        throw UsageError("device '" + text + "': the GPU index must be a number (cuda:0, cuda:1, ...)");
      device.index = std::stoi(index);
    }
    if (!available)
      throw ModelError("device '" + text + "' requested but LibTorch sees no CUDA GPU (this LibTorch build: " +
                       std::string(torch::cuda::is_available() ? "CUDA" : "CPU only") + "); use --device cpu");
    if (device.index >= static_cast<int>(torch::cuda::device_count()))
      throw ModelError("device '" + text + "': only " + std::to_string(torch::cuda::device_count()) + " GPUs visible");
    return device;
  }
  throw UsageError("unknown device '" + text + "' (use cpu, cuda, cuda:K or auto)");
}

DropoutMasks Network::sample_masks(std::uint64_t seed, std::uint64_t region_id, std::uint32_t sample,
                                   bool dropout) const {
  return dropout ? draw_dropout_masks(*stack_, seed, region_id, sample) : DropoutMasks{};
}

Backend default_backend(const Device& device) {
  return device.kind == Device::Kind::cpu ? Backend::kernels : Backend::torch;
}

std::unique_ptr<Network> make_network(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs,
                                      const Device& device, Backend backend) {
  for (int o : outputs)
    if (o < 0 || o >= stack->output_count())
      throw ModelError("output index " + std::to_string(o) + " is out of range for " + stack->source);
  if (backend == Backend::kernels) {
    if (device.kind != Device::Kind::cpu) throw UsageError("the kernels backend runs on the CPU only");
    if (stack->graph) return std::make_unique<GraphKernelNetwork>(std::move(stack), std::move(outputs));
    return std::make_unique<KernelNetwork>(std::move(stack), std::move(outputs));
  }
  if (stack->graph) return std::make_unique<GraphTorchNetwork>(std::move(stack), std::move(outputs), device);
  return std::make_unique<TorchNetwork>(std::move(stack), std::move(outputs), device);
}

void set_threads(int threads) {
  threads = std::max(1, threads);
  set_compute_threads(threads);
  at::set_num_threads(threads);
  // LibTorch's products call the system BLAS; OpenBLAS's pthreads build (scripts/install-deps) keeps
  // its own pool, one thread per core whatever LibTorch is told: under MPI with several ranks per
  // node every rank would use every core. Looked up at run time: another BLAS has no such call.
  using SetBlasThreads = void (*)(int);
  if (auto set_blas_threads = reinterpret_cast<SetBlasThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas_threads(threads);
}

}  // namespace deepmr::model
