#pragma once
// The Deep MR pipeline of one region, on a worker: fetch its window, run mutagenesis once for the
// outcomes and every exposure (the region's MC samples split across the worker's devices), turn the
// mutants into instruments, fit MR for each of its units, append the result to the journal
// (made durable a batch at a time), and report. The unit of computation is the region; its units
// share its effect sizes.

#include <functional>
#include <memory>

#include "deepmr/dist/device_gather.hpp"
#include "deepmr/dist/work_loop.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/store/journal.hpp"
#include "deepmr/run/run_setup.hpp"
#include "deepmr/store/sequence_file.hpp"

namespace deepmr::run {

class RegionPipeline {
 public:
  // devices: where this worker computes; several (run.gpus-per-worker) split every region's samples
  // among them (on the CPU, among host threads). should_stop: polled between samples, so that a
  // stop signal need not wait for the region (the engine then throws StoppedEarly).
  RegionPipeline(const RunSetup& setup, store::JournalWriter& journal, int rank, std::uint32_t attempt,
                 const std::vector<model::Device>& devices, std::function<bool()> should_stop = {});
  ~RegionPipeline();

  // Computes a region and appends its record to the journal (not yet durable).
  dist::RegionReport compute(std::uint64_t region);
  // Makes the records appended so far durable (one fdatasync: group commit); its seconds.
  double make_durable();

  // The computation without the journal: what compute() appends (tests use it).
  store::RegionResult result_of(std::uint64_t region, double& seconds_ism, double& seconds_mr);

 private:
  std::string window_of(const genome::Region& region);
  ism::Effects effects_of(const std::string& window, const ism::IsmOptions& options);

  const RunSetup& setup_;
  store::JournalWriter& journal_;
  int rank_;
  std::uint32_t attempt_;
  std::function<bool()> should_stop_;
  std::unique_ptr<genome::FastaReader> fasta_;
  std::unique_ptr<store::SequenceFile> sequences_;
  std::vector<std::unique_ptr<model::Network>> networks_;  // one per device
  std::vector<std::unique_ptr<ism::Engine>> engines_;
  std::unique_ptr<dist::DeviceGather> gather_;
  // The effects' column of each plan exposure (outcome o is column o).
  std::vector<std::size_t> exposure_columns_;
};

}  // namespace deepmr::run
