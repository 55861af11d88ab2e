#include "deepmr/store/run_journal.hpp"

#include <unistd.h>

#include <filesystem>

#include "deepmr/common/error.hpp"

namespace deepmr::store {
namespace {

namespace fs = std::filesystem;

// Checks the manifest of the run in the journal against this one; returns the regions it holds.
std::uint32_t resume_journal(const std::string& journal_dir, const Manifest& manifest, std::vector<std::uint8_t>& done) {
  const std::string manifest_path = journal_dir + "/manifest";
  if (!fs::exists(manifest_path))
    throw UsageError("--resume: " + journal_dir + " holds no run to resume (no manifest); start it without --resume");
  const auto differences = manifest.differences(Manifest::read(manifest_path));
  if (!differences.empty()) {
    std::string list;
    for (const auto& d : differences) list += (list.empty() ? "" : "; ") + d;
    throw UsageError("--resume: this config or model differs from the run in " + journal_dir + ": " + list +
                     " (resume with the original config, or start a new run with another run.store)");
  }
  const auto stats = read_journal(
      journal_dir, [&](RegionResult&& r) {
        if (r.region < done.size()) done[r.region] = 1;
      },
      false);
  return stats.attempts;
}

void create_journal(const std::string& store_path, const std::string& journal_dir, const Manifest& manifest) {
  std::error_code ec;
  const bool journal_exists = fs::exists(journal_dir, ec) && !fs::is_empty(journal_dir, ec);
  if (journal_exists || fs::exists(store_path, ec))
    throw StoreError(store_path + " or its journal already exists: resume that run with --resume, or "
                     "set another run.store (deepmr never overwrites results)");
  // The store's directory must exist: a mistyped path is not silently created.
  const fs::path parent = fs::absolute(store_path).parent_path();
  if (!fs::is_directory(parent, ec))
    throw StoreError("run.store: the directory " + parent.string() + " does not exist (create it first)");
  fs::create_directory(journal_dir, ec);
  if (ec || !fs::is_directory(journal_dir))
    throw StoreError(journal_dir + ": cannot create the journal directory (" + ec.message() +
                     "); check that the store's directory is writable");
  if (::access(journal_dir.c_str(), W_OK) != 0) throw StoreError(journal_dir + ": the journal directory is not writable");
  manifest.write(journal_dir + "/manifest");
}

}  // namespace

JournalStartPlan start_journal(const std::string& store_path, const Manifest& manifest, std::uint64_t region_count,
                               JournalStart start) {
  const std::string journal_dir = journal_directory(store_path);
  const bool resuming =
      start == JournalStart::resume || (start == JournalStart::auto_resume && fs::exists(journal_dir + "/manifest"));
  JournalStartPlan plan;
  std::vector<std::uint8_t> done(region_count, 0);
  if (resuming) plan.attempt = resume_journal(journal_dir, manifest, done);
  else create_journal(store_path, journal_dir, manifest);
  for (std::uint64_t r = 0; r < region_count; ++r)
    if (!done[r]) plan.todo.push_back(r);
  return plan;
}

}  // namespace deepmr::store
