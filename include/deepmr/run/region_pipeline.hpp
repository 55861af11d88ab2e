#pragma once
// The Deep MR pipeline of one region, on a worker: fetch its window, run mutagenesis once for the
// outcomes and every exposure (the region's MC samples split across the worker's devices), turn the
// mutants into instruments, fit MR for each of its units, append the result to the journal
// (made durable a batch at a time), and report. The unit of computation is the region; its units
// share its effect sizes.
//
// With run.overlap-mr (the default) a region's MR fits run on their own thread while the next
// region's mutagenesis runs (on a GPU worker the host is otherwise idle then; on the CPU the fits
// fill the cores that the serial parts of the mutagenesis leave). The fits are pure functions of
// the effects, so the results are the same bits either way; records are journaled in region order.

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

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

  // Computes a region's mutagenesis, journals the previous region's fits (the record is appended,
  // not yet durable) and starts this region's fits (or, without overlap, fits and journals this
  // region). Its report's seconds_mr is the time spent waiting for fits.
  dist::RegionReport compute(std::uint64_t region);
  // Waits for the fits compute() left running, journals them; the seconds waited.
  double finish_pending();
  // Makes the records appended so far durable (one fdatasync: group commit); its seconds. Call
  // finish_pending() first.
  double make_durable();

  // The computation without the journal: what compute() appends (tests use it).
  store::RegionResult result_of(std::uint64_t region, double& seconds_ism, double& seconds_mr);

 private:
  struct Mutagenesis {
    std::uint64_t region = 0;
    std::string window;
    ism::Effects effects;
    std::vector<std::string> broken;  // per effects column: why its units fail (broken_outputs)
    double seconds_ism = 0;
  };
  struct Finished {
    double seconds_mr = 0, seconds_io = 0;
  };
  std::string window_of(const genome::Region& region);
  ism::Effects effects_of(const std::string& window, const ism::IsmOptions& options);
  Mutagenesis mutagenesis(std::uint64_t region);
  // The MR fits and direction tests of a region's units: a pure function of the effects (const, so
  // that it can run on another thread).
  store::RegionResult fits(const Mutagenesis& computed) const;
  // Per effects column: why its units fail (a non-finite effect), or "". Once per region.
  std::vector<std::string> broken_outputs(const ism::Effects& effects) const;
  std::string unit_failure(const std::vector<std::string>& broken, std::uint64_t unit) const;
  bool every_unit_fails(const Mutagenesis& computed) const;
  // Journals the pending fits, if any.
  Finished finish();

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
  bool overlap_mr_ = true;
  // The fits running while the next region's mutagenesis does. Declared last: destroyed (waited
  // for) before the members the fits read.
  std::future<store::RegionResult> pending_;
};

}  // namespace deepmr::run
