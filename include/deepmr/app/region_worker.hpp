#pragma once
// One worker's computation of a region: fetch its window, run mutagenesis once for the outcome
// and every exposure, fit MR for each of its units, append the result to the journal (durably),
// and report. The unit of computation is the region; its units share the same effect sizes.

#include <memory>

#include "deepmr/app/run_setup.hpp"
#include "deepmr/dist/device_gather.hpp"
#include "deepmr/dist/work_loop.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/store/journal.hpp"
#include "deepmr/store/sequence_file.hpp"

namespace deepmr::app {

class RegionWorker {
 public:
  // devices: where this worker computes; several (run.gpus-per-worker) split every region's samples
  // among them (on the CPU, among host threads).
  RegionWorker(const RunSetup& setup, store::JournalWriter& journal, int rank, std::uint32_t attempt,
               const std::vector<model::Device>& devices);
  ~RegionWorker();

  dist::RegionReport compute(std::uint64_t region);

  // The computation without the journal: what compute() appends (tests use it).
  store::RegionResult result_of(std::uint64_t region, double& seconds_ism, double& seconds_mr);

 private:
  std::string window_of(const genome::Region& region);
  ism::Effects effects_of(const std::string& window, const ism::IsmOptions& options);

  const RunSetup& setup_;
  store::JournalWriter& journal_;
  int rank_;
  std::uint32_t attempt_;
  std::unique_ptr<genome::FastaReader> fasta_;
  std::unique_ptr<store::SequenceFile> sequences_;
  std::vector<std::unique_ptr<model::Network>> networks_;  // one per device
  std::vector<std::unique_ptr<ism::Engine>> engines_;
  std::unique_ptr<dist::DeviceGather> gather_;
};

}  // namespace deepmr::app
