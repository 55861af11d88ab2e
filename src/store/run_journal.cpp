#include "deepmr/store/run_journal.hpp"

#include <unistd.h>

#include <filesystem>

#include "deepmr/common/error.hpp"

namespace deepmr::store {
namespace {

namespace fs = std::filesystem;

// What a journal directory holds.
enum class JournalState { absent, empty, orphan_parts, run };

JournalState journal_state(const std::string& journal_dir) {
  std::error_code ec;
  if (!fs::is_directory(journal_dir, ec)) return JournalState::absent;
  if (fs::exists(journal_dir + "/manifest", ec)) return JournalState::run;
  for (const auto& entry : fs::directory_iterator(journal_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) == 0) return JournalState::orphan_parts;
  }
  return JournalState::empty;  // nothing, or what a start killed before its manifest left (a lock)
}

[[noreturn]] void refuse_orphan_parts(const std::string& journal_dir) {
  throw StoreError(journal_dir + " holds journal records but no manifest, so they cannot be checked against any "
                   "run: restore its manifest file to resume that run, or move the journal away to start afresh");
}

// Checks the manifest of the run in the journal against this one; returns the regions it holds.
std::uint32_t resume_journal(const std::string& journal_dir, const Manifest& manifest, std::vector<std::uint8_t>& done) {
  const Manifest before = Manifest::read(journal_dir + "/manifest");
  // Settings first (another seed also changes the planned windows' digest); then an input whose
  // contents changed under the same name.
  std::vector<std::string> differences;
  for (const auto& d : manifest.differences(before))
    if (d.rfind(kContentKeyPrefix, 0) != 0) differences.push_back(d);
  if (!differences.empty()) {
    std::string list;
    for (const auto& d : differences) list += (list.empty() ? "" : "; ") + d;
    throw UsageError("--resume: this config or model differs from the run in " + journal_dir + ": " + list +
                     " (resume with the original config, or start a new run with another run.store)");
  }
  std::string changed;
  for (const auto& [key, value] : manifest.entries())
    if (key.rfind(kContentKeyPrefix, 0) == 0 && before.get(key) != value && !before.get(key).empty())
      changed += (changed.empty() ? "" : ", ") + key.substr(std::string(kContentKeyPrefix).size());
  if (!changed.empty())
    throw UsageError("--resume: the contents of " + changed + " changed since the run in " + journal_dir +
                     " began (same names, other bytes: its results would mix both); resume with the original "
                     "inputs, or start a new run with another run.store");
  const auto stats = read_journal(
      journal_dir, [&](RegionResult&& r) {
        if (r.region < done.size()) done[r.region] = 1;
      },
      false, manifest.run_id());
  return stats.attempts;
}

void check_new_store(const std::string& store_path, JournalState state) {
  std::error_code ec;
  if (state == JournalState::run || fs::exists(store_path, ec))
    throw StoreError(store_path + " or its journal already exists: resume that run with --resume, or "
                     "set another run.store (deepmr never overwrites results)");
  // The store's directory must exist: a mistyped path is not silently created.
  const fs::path parent = fs::absolute(store_path).parent_path();
  if (!fs::is_directory(parent, ec))
    throw StoreError("run.store: the directory " + parent.string() + " does not exist (create it first)");
}

void create_journal_directory(const std::string& journal_dir) {
  std::error_code ec;
  fs::create_directory(journal_dir, ec);
  if (ec || !fs::is_directory(journal_dir))
    throw StoreError(journal_dir + ": cannot create the journal directory (" + ec.message() +
                     "); check that the store's directory is writable");
  if (::access(journal_dir.c_str(), W_OK) != 0) throw StoreError(journal_dir + ": the journal directory is not writable");
}

}  // namespace

JournalStartPlan start_journal(const std::string& store_path, const Manifest& manifest, std::uint64_t region_count,
                               JournalStart start, const std::function<void(const std::string&)>& warn) {
  const std::string journal_dir = journal_directory(store_path);
  JournalState state = journal_state(journal_dir);
  if (state == JournalState::orphan_parts) refuse_orphan_parts(journal_dir);
  const bool resuming = start == JournalStart::resume || (start == JournalStart::auto_resume && state == JournalState::run);
  if (resuming && state != JournalState::run)
    throw UsageError("--resume: " + journal_dir + " holds no run to resume (no manifest and no records); start "
                     "the run without --resume");
  if (!resuming) {
    // A store in use by another job is refused as that, naming the job.
    if (state == JournalState::run) JournalLock probe(journal_dir, store_path, warn);
    check_new_store(store_path, state);
    create_journal_directory(journal_dir);
  }

  // One job per store, from here to the end of the run; the journal is read again under the lock
  // (another job may have started or finished in between).
  JournalStartPlan plan;
  plan.lock = std::make_shared<JournalLock>(journal_dir, store_path, warn);
  state = journal_state(journal_dir);
  if (state == JournalState::orphan_parts) refuse_orphan_parts(journal_dir);
  std::vector<std::uint8_t> done(region_count, 0);
  if (resuming) {
    plan.attempt = resume_journal(journal_dir, manifest, done);
  } else {
    check_new_store(store_path, state);
    manifest.write(journal_dir + "/manifest");
  }
  for (std::uint64_t r = 0; r < region_count; ++r)
    if (!done[r]) plan.todo.push_back(r);
  return plan;
}

}  // namespace deepmr::store
