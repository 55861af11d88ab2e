#pragma once
// How a run starts on its journal: a fresh run creates <store>.journal/ and its manifest; a resume
// checks the manifest and finds the regions the journal lacks (journal.hpp). The policy lives here,
// once, for every command and job script (docs/cli.md: --resume, --auto-resume).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "deepmr/store/journal.hpp"
#include "deepmr/store/journal_lock.hpp"

namespace deepmr::store {

enum class JournalStart {
  fresh,        // a new run: refused when the store or its journal exists (deepmr never overwrites)
  resume,       // continue the run in the journal: refused when it holds none or another run
  auto_resume,  // resume when the journal holds a run, else start one (job scripts that requeue)
};

struct JournalStartPlan {
  std::uint32_t attempt = 0;          // 0: a fresh run; n: the n-th resume
  std::vector<std::uint64_t> todo;    // regions the journal does not hold, ascending
  std::shared_ptr<JournalLock> lock;  // this job's hold on the store: keep it until the run ends
};

// One process (rank 0). `manifest` describes this run; region_count is the plan's. UsageError or
// StoreError naming the store, the journal and what to do: another job on the store (its host
// and pid), another run in the journal (what differs), records of another run, records without
// a manifest. `warn` gets one line when the store's file system cannot lock.
JournalStartPlan start_journal(const std::string& store_path, const Manifest& manifest, std::uint64_t region_count,
                               JournalStart start, const std::function<void(const std::string&)>& warn = {});

}  // namespace deepmr::store
