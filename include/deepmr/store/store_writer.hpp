#pragma once
// Writing the HDF5 store of a run (schema: store/schema.hpp, docs/store.md). It is assembled,
// collectively, from the journal: every rank creates the file and its datasets together, writes the
// rows of the journal records it is given (independent I/O, contiguous rows coalesced), rank 0
// writes the meta-analysis, and the file is closed and renamed into place, so that a store that
// exists is always complete as far as its units' status says.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deepmr/dist/communicator.hpp"
#include "deepmr/store/region_result.hpp"
#include "deepmr/store/schema.hpp"

namespace deepmr::store {

// The shape of a store, from the plan and the config.
struct StoreLayout {
  std::vector<std::string> methods;             // MR methods, in fit order
  std::vector<std::string> outcomes;            // outcome output names (or indices); the first is the primary
  std::vector<std::int64_t> outcome_outputs;    // their model output indices
  std::vector<std::string> exposures;           // plan exposure names (sorted)
  std::vector<std::int64_t> exposure_outputs;   // their model output indices
  // Regions: window (chrom name, start, end) or row of a sequence file (row >= 0).
  std::vector<std::string> region_chrom;
  std::vector<std::int64_t> region_start, region_end, region_row;
  // The peak each region was centred on: name (empty when unknown) and summit (-1 when unknown).
  std::vector<std::string> region_name;
  std::vector<std::int64_t> region_summit;
  // Units: (exposure index, outcome index, region id), by unit id.
  std::vector<std::int32_t> unit_exposure, unit_outcome;
  std::vector<std::int64_t> unit_region;
  // Per-mutant effects: stored when mutants > 0 (3L columns; column 3p + k is position p, k-th of
  // the bases other than the region's reference base in A, C, G, T order).
  std::uint32_t mutants = 0;
  std::uint32_t window_length = 0;
  std::vector<std::int32_t> mutant_position;
  // Root attributes (identical on every rank; each must be listed in store/schema.cpp).
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, std::int64_t> int_attributes;
  std::map<std::string, double> double_attributes;
};

struct MetaRow {
  FitStatus status = FitStatus::pending;  // ok or not_estimable
  std::string reason;
  std::vector<double> values;  // meta_columns().size() values, NaN where missing
};

class RunStoreWriter {
 public:
  // Collective over comm: checks that the file system has room for the store, creates
  // <path>.assembling and every dataset; rank 0 writes the plan's region and unit tables. Every
  // collective step agrees on failure first (dist::AgreedFailure on every rank, the cause named,
  // a full disk as "No space left on device"). A writer destroyed unfinished removes its file;
  // destruction is collective too, so a caller calls write() and write_pending() inside
  // dist::collectively steps.
  RunStoreWriter(const std::string& path, const dist::Communicator& comm, const StoreLayout& layout);
  ~RunStoreWriter();
  RunStoreWriter(const RunStoreWriter&) = delete;
  RunStoreWriter& operator=(const RunStoreWriter&) = delete;

  // Any rank, independently: the rows of one computed region (coalesced with its neighbours;
  // write_pending() writes what is held back).
  void write(const RegionResult& result);
  void write_pending();
  // Rank 0 (others may call with nothing): meta[method][pair], pair = exposure * outcomes + outcome.
  void write_meta(const std::vector<std::vector<MetaRow>>& meta);
  // Rank 0: the pooled direction test of each pair (same rows as meta).
  void write_direction_meta(const std::vector<MetaRow>& rows);
  // Collective: flushes, writes the final attributes, closes, and (rank 0) renames the file to
  // `path`, replacing an older store.
  void finish(const std::map<std::string, std::int64_t>& final_int_attributes,
              const std::map<std::string, std::string>& final_text_attributes,
              const std::map<std::string, double>& final_double_attributes = {});

 private:
  void create(const StoreLayout& layout);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bytes the store of this layout takes on disk, metadata included (an upper estimate).
std::uint64_t estimated_store_bytes(const StoreLayout& layout);

}  // namespace deepmr::store
