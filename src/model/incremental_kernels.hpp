#pragma once
// Internal to the model layer: the incremental network on deepmr's deterministic CPU kernels
// (incremental_kernels.cpp).

#include <vector>

#include "change_reach.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/model/incremental_network.hpp"
#include "kernel_network.hpp"

namespace deepmr::model {

class IncrementalKernels final : public IncrementalNetwork {
 public:
  IncrementalKernels(KernelNetwork& network, const IncrementalOptions& options);
  void set_region(const float* references, int count, std::vector<VariantGroup> groups) override;
  void set_sample(const DropoutMasks* masks) override;
  void reference_outputs(float* out) override;
  void evaluate(float* out) override;
  std::vector<StageCost> costs() const override;
  std::string description() const override;

 private:
  // The activation of a group's variants at one boundary: one row of channels_[b] floats per
  // (variant, column of its window), variants in order, columns ascending ("rows").
  using State = std::vector<float>;
  struct Group {
    VariantGroup variants;
    std::vector<std::vector<detail::Window>> windows;  // [boundary][variant]
    std::vector<std::vector<int>> rows;                // [boundary][variant]: first row; [variants]: total
    State prefix;                                       // the state at boundary first_dropout_
    std::size_t first_output = 0;                       // its first variant's row in evaluate()'s output
  };
  // Scratch of one thread: groups run one per thread, each on a single thread (no barriers inside a
  // group, so a busy core delays only its own groups).
  struct Workspace {
    State state, next, delta, products, sums;
    std::vector<int> members;
    std::vector<int> product_row;  // per delta row: its row of `products`, or -1 when it was zero
    // The rows with few nonzero differences, as sparse rows (model::SparseRows), and who they are
    // (convolution: delta rows; Linear: variants), in order.
    std::vector<int> sparse_start, sparse_index;
    std::vector<float> sparse_value;
    std::vector<int> sparse_members;
    void start_sparse_rows() {
      sparse_start.assign(1, 0);
      sparse_index.clear();
      sparse_value.clear();
      sparse_members.clear();
    }
    std::vector<StageCost> costs;  // per layer
  };
  enum class LinearPacking { none, all_inputs, kept_inputs };

  void reference_pass(const DropoutMasks* masks);
  void run_group(const Group& group, int first_layer, int last_layer, Workspace& work) const;
  void convolution(int layer, const Group& group, Workspace& work) const;
  void pooling(int layer, const Group& group, Workspace& work) const;
  void pointwise(int layer, const Group& group, Workspace& work) const;
  void linear(int layer, const Group& group, Workspace& work) const;
  // Sorts one difference row (`row` of `width` floats, just written at the end of work.delta's
  // dense rows) into zero, sparse or dense (multiply_differences); returns its kind.
  enum class RowKind { zero, sparse, dense };
  RowKind classify_row(int layer, const float* row, int width, Workspace& work, StageCost& cost) const;
  // products = the dense rows (the first `dense` rows of work.delta) and then the sparse rows
  // times `weights`: one product row each.
  void multiply_differences(int dense, int width, const PackedColumns& weights, int n, Workspace& work,
                            StageCost& cost) const;
  void pack_linear(int layer, const std::vector<float>* mask);
  std::vector<Workspace>& workspaces();
  const float* reference_row(int boundary, int reference, int column) const {
    const auto& shape = shapes_[boundary];
    return reference_[boundary].data() +
           (static_cast<std::size_t>(reference) * shape.width + column) * channels_[boundary];
  }

  KernelNetwork& network_;
  Isa isa_;
  std::vector<detail::Boundary> shapes_;       // per boundary
  std::vector<int> channels_;                  // channels computed at each boundary (the head: the outputs)
  std::vector<std::vector<int>> channel_ids_;  // per boundary: model channel of each computed channel
  int first_dropout_ = 0;                      // boundaries before it are the same in every sample
  std::vector<int> dropout_ordinal_;           // per layer, -1 for other layers
  std::vector<int> masked_by_;                 // per Linear: the dropout that zeroes its input rows, or -1
  // Per layer: whether zero difference rows may be skipped (asked for, and every weight finite: a
  // zero times an infinity or a NaN would not be zero).
  std::vector<char> skip_zero_rows_;
  double sparse_row_cost_;
  std::vector<PackedColumns> conv_weights_;    // per conv: in x (taps * out), tap-major columns
  std::vector<std::vector<PackedColumns>> linear_weights_;  // per Linear, per input column: kept inputs x out
  std::vector<std::vector<std::vector<int>>> kept_;          // per Linear, per input column: kept input channels
  std::vector<LinearPacking> packing_;

  int reference_count_ = 0;
  std::vector<float> reference_inputs_;
  std::vector<std::vector<float>> trace_;      // the reference pass as KernelNetwork keeps it
  std::vector<std::vector<float>> reference_;  // per boundary: [reference][column][channel]
  std::vector<float> reference_out_;
  bool masked_ = false;
  DropoutMasks masks_;
  std::vector<std::vector<float>> row_masks_;  // per dropout layer: [column][computed channel]
  std::vector<Group> groups_;
  std::size_t variants_ = 0;

  std::vector<Workspace> workspaces_;
  std::vector<StageCost> stage_costs_;  // the layers' names; then the per-sample stages, with their costs
  int reference_stage_ = 0, packing_stage_ = 0;
};

}  // namespace deepmr::model
