#pragma once
// The durable journal of a run: the truth from which the HDF5 store is assembled, and from which a
// killed run resumes. It lives in the directory <store>.journal/:
//
//   manifest       what the run is (config keys that shape results, model hash, plan digest):
//                  a resume with anything different is refused, naming what differs
//   part-A-R.jrn   append-only records written by rank R in attempt A (0: the first run, then one
//                  per resume); each record is one computed region (region_result.hpp), framed as
//                  [magic u32][payload bytes u64][crc32 u32][payload], and made durable (fdatasync)
//                  before the coordinator counts its units as done
//
// A process killed mid-write leaves at most a torn last record, which readers detect (length or
// CRC) and skip; its region is simply computed again on resume. Damage inside a part (a flipped
// bit) ends that part the same way: its later records are computed again. Nothing else is ever
// rewritten.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "deepmr/store/region_result.hpp"

namespace deepmr::store {

std::string journal_directory(const std::string& store_path);

// Manifest keys of inputs identified by content ("content.regions.fasta" = a SHA-256).
inline constexpr const char* kContentKeyPrefix = "content.";

// Key-value description of a run, compared on resume.
class Manifest {
 public:
  void set(const std::string& key, const std::string& value) { entries_[key] = value; }
  const std::map<std::string, std::string>& entries() const { return entries_; }
  std::string get(const std::string& key) const;

  // Written to a temporary file, synced and renamed: never half written.
  void write(const std::string& path) const;
  static Manifest read(const std::string& path);

  // One line per key that differs, e.g. "analysis.mc-samples: 20 here, 50 in the run"; empty
  // when the two describe the same run.
  std::vector<std::string> differences(const Manifest& run) const;

  // 64 bits of the SHA-256 of every entry: the id every record of the run carries.
  std::uint64_t run_id() const;

 private:
  std::map<std::string, std::string> entries_;
};

class JournalWriter {
 public:
  // Creates (or appends to) part-<attempt>-<rank>.jrn in `directory`, which must exist.
  JournalWriter(const std::string& directory, std::uint32_t attempt, int rank);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Appends one record (written, not yet durable). Throws StoreError (e.g. disk full): the record
  // may then be torn, which readers skip.
  void append(const RegionResult& result);
  // Makes every record appended so far durable (one fdatasync for all of them: group commit); a
  // region may be reported done only after this. Nothing to do when nothing was appended since.
  void make_durable();
  const std::string& path() const { return path_; }
  std::uint64_t syncs() const { return syncs_; }  // fdatasync calls so far (tests, benchmarks)

 private:
  std::string path_;
  int fd_ = -1;
  bool pending_ = false;  // records appended since the last make_durable()
  std::uint64_t syncs_ = 0;
};

struct JournalStats {
  std::uint64_t parts = 0;
  std::uint64_t records = 0;           // valid records
  std::uint64_t duplicate_records = 0; // records of a region already seen (should stay 0)
  std::uint64_t torn_parts = 0;        // parts ending in a torn or corrupt record
  std::uint32_t attempts = 0;          // 1 + the highest attempt number seen (0: empty journal)
};

// Calls visit(record) for every valid record of every part, parts in name order, records in file
// order; stops a part at its first torn or corrupt record. When `with_effects` is false, the
// effects arrays are dropped while reading (cheap scans).
// With `run`, a record of another run (another run id) is refused: StoreError naming its part.
JournalStats read_journal(const std::string& directory, const std::function<void(RegionResult&&)>& visit,
                          bool with_effects = true, std::optional<std::uint64_t> run = std::nullopt);
// The same for the parts whose position in name order satisfies `take(position)` (a rank's share).
JournalStats read_journal_parts(const std::string& directory, const std::function<bool(std::size_t)>& take,
                                const std::function<void(RegionResult&&)>& visit, bool with_effects = true,
                                std::optional<std::uint64_t> run = std::nullopt);

}  // namespace deepmr::store
