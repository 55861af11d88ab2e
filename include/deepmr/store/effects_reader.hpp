#pragma once
// The per-mutant effects of a store written with run.store-effects (docs/store.md, effects/), read
// one region's or one unit's row at a time: exporting a large store holds one row in memory.
// Part of the store's reader half (serial HDF5, no MPI).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace deepmr::store {

// One row of effects: beta and se of each mutant column, as stored (float32; NaN where not computed).
struct EffectsRow {
  std::vector<float> beta, se;
};

class EffectsReader {
 public:
  // Opens the store read-only; StoreError when the file cannot be opened.
  explicit EffectsReader(const std::string& path);
  ~EffectsReader();
  EffectsReader(const EffectsReader&) = delete;
  EffectsReader& operator=(const EffectsReader&) = delete;

  // Whether the store holds effects/ (a run with run.store-effects = true).
  bool present() const;
  // Mutant columns (3L) and the window position of each (effects/position).
  std::uint32_t mutants() const;
  const std::vector<std::int32_t>& positions() const;
  // A region's window (effects/sequence), from which each column's reference and alternative follow.
  std::string sequence(std::uint64_t region) const;
  // Outcome `outcome` (index into outcomes/name; 0 the primary) at a region.
  EffectsRow outcome(std::uint64_t region, std::uint32_t outcome = 0) const;
  EffectsRow exposure(std::uint64_t unit) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepmr::store
