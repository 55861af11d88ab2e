#pragma once
// A model ready to run: forward passes of batches of one-hot sequences under optional dropout
// masks, keeping only the requested outputs.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "deepmr/model/dropout_masks.hpp"
#include "deepmr/model/layer_stack.hpp"

namespace deepmr::model {

struct Device {
  enum class Kind { cpu, cuda } kind = Kind::cpu;
  int index = 0;
  std::string name() const;
};

// "cpu", "cuda", "cuda:K" or "auto" (CUDA when LibTorch sees a GPU, else CPU). Throws UsageError
// for other text and ModelError when CUDA is asked for but unavailable.
Device parse_device(const std::string& text);

// GPUs LibTorch sees on this node (0 without CUDA): the one CUDA query outside the model layer's
// own sources is this function.
int cuda_device_count();
// The LibTorch version this build links (e.g. "1.13.1").
std::string libtorch_version();

enum class Backend {
  kernels,  // deepmr's deterministic CPU kernels (gemm.hpp): bitwise reproducible; the CPU default
  torch     // LibTorch operators, on CPU or CUDA: the GPU path
};

class Network {
 public:
  virtual ~Network() = default;
  // inputs: batch x channels x length one-hot values (row-major). masks: the sample's dropout
  // masks, or nullptr for inference (dropout off). out: batch x outputs().size(), row-major.
  virtual void forward(const float* inputs, int batch, const DropoutMasks* masks, float* out) = 0;
  virtual std::string description() const = 0;
  virtual Backend backend() const = 0;
  virtual Device device() const = 0;
  // A deep ensemble (ensemble_network.hpp) has K members, each a network of its own; one model: 1.
  virtual int members() const { return 1; }
  // The stacks of the members (one model: its stack). stack() is the first member's.
  virtual std::vector<const LayerStack*> member_stacks() const { return {stack_.get()}; }
  // What Monte Carlo sample `sample` of a region runs under: its member and, with `dropout`, the
  // member's dropout masks (draw_dropout_masks). Pass it to forward when dropout is on or the
  // network has several members; otherwise forward takes nullptr.
  virtual DropoutMasks sample_masks(std::uint64_t seed, std::uint64_t region_id, std::uint32_t sample,
                                    bool dropout) const;
  const std::vector<int>& outputs() const { return outputs_; }
  const LayerStack& stack() const { return *stack_; }
  const std::shared_ptr<const LayerStack>& shared_stack() const { return stack_; }

 protected:
  Network(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs)
      : stack_(std::move(stack)), outputs_(std::move(outputs)) {}
  std::shared_ptr<const LayerStack> stack_;
  std::vector<int> outputs_;
};

// Builds the network for `outputs` (indices into the model's outputs). The kernels backend runs on
// the CPU only (UsageError for CUDA), layer stacks and graph models (LayerStack::graph) alike.
std::unique_ptr<Network> make_network(std::shared_ptr<const LayerStack> stack, std::vector<int> outputs,
                                      const Device& device, Backend backend);

// The default backend for a device: kernels on CPU, torch on CUDA. A graph model's default is
// torch on every device (load_model_choice, src/app/model_options.cpp): its incremental engine
// runs on the torch backend only.
Backend default_backend(const Device& device);

// Threads for intra-op parallelism (kernels and LibTorch); call once, early.
void set_threads(int threads);

}  // namespace deepmr::model
