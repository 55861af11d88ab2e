// The distributed loop at 1, 2 and 3 ranks with a stand-in compute: every region computed exactly
// once, failures and stop requests reach every rank, nothing hangs.
#include "deepmr/dist/work_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace deepmr::dist {
namespace {

std::vector<std::uint32_t> units(std::size_t regions) { return std::vector<std::uint32_t>(regions, 3); }

std::vector<std::uint64_t> all(std::size_t regions) {
  std::vector<std::uint64_t> v(regions);
  for (std::size_t i = 0; i < regions; ++i) v[i] = i;
  return v;
}

// Gathers every rank's computed regions on rank 0.
std::vector<std::uint64_t> gather_regions(const Communicator& comm, const std::vector<std::uint64_t>& mine) {
  std::vector<std::uint64_t> everything = mine;
  if (comm.is_root()) {
    for (int r = 1; r < comm.size(); ++r) {
      auto message = comm.receive(r, 99);
      for (std::size_t i = 0; i + 8 <= message.bytes.size(); i += 8) {
        std::uint64_t v;
        std::memcpy(&v, message.bytes.data() + i, 8);
        everything.push_back(v);
      }
    }
  } else {
    comm.send(std::string(reinterpret_cast<const char*>(mine.data()), mine.size() * 8), 0, 99);
  }
  std::sort(everything.begin(), everything.end());
  return everything;
}

TEST(WorkLoop, EveryRegionIsComputedExactlyOnce) {
  auto comm = Communicator::world();
  const std::size_t regions = 97;
  Scheduler scheduler(all(regions), units(regions), std::max(1, comm.size() - 1), 8);
  std::vector<std::uint64_t> mine;
  WorkLoopHooks hooks;
  hooks.compute = [&](std::uint64_t region) {
    mine.push_back(region);
    RegionReport report;
    report.region = region;
    report.failed = region % 13 == 0;
    report.seconds_ism = 0.001;
    return report;
  };
  hooks.stop_requested = [] { return false; };
  auto outcome = run_work_loop(comm, scheduler, hooks);
  EXPECT_FALSE(outcome.failure.has_value());
  EXPECT_FALSE(outcome.stopped_early);
  if (comm.size() > 1 && comm.is_root()) {
    EXPECT_TRUE(mine.empty()) << "the coordinator computes nothing";
  }
  auto everything = gather_regions(comm, mine);
  if (comm.is_root()) {
    EXPECT_EQ(everything, all(regions));
    EXPECT_EQ(outcome.units_done, regions * 3);
    EXPECT_EQ(outcome.units_failed, 8u * 3);  // 0, 13, ..., 91
    EXPECT_EQ(outcome.timings.size(), static_cast<std::size_t>(std::max(1, comm.size() - 1)));
    std::uint64_t counted = 0;
    for (const auto& t : outcome.timings) counted += t.regions;
    EXPECT_EQ(counted, regions);
  }
}

// Group commit: a worker makes its computed regions durable once per request, before the
// coordinator counts them, so every counted region was made durable, with fewer commits than regions.
TEST(WorkLoop, RegionsAreMadeDurableOncePerBatchBeforeTheyAreCounted) {
  auto comm = Communicator::world();
  const std::size_t regions = 97;
  Scheduler scheduler(all(regions), units(regions), std::max(1, comm.size() - 1), 8);
  std::uint64_t computed = 0, durable = 0, commits = 0;
  bool counted_before_durable = false;
  WorkLoopHooks hooks;
  hooks.compute = [&](std::uint64_t region) {
    ++computed;
    return RegionReport{region, false, 0, 0, 0};
  };
  hooks.make_durable = [&] {
    durable = computed;
    ++commits;
    return 0.25;
  };
  hooks.stop_requested = [] { return false; };
  hooks.progress_seconds = 0;  // every chance to see the counts
  hooks.progress = [&](const Scheduler& s, double) {
    if (comm.size() == 1 && s.units_done() > 3 * durable) counted_before_durable = true;
  };
  auto outcome = run_work_loop(comm, scheduler, hooks);
  EXPECT_FALSE(outcome.failure.has_value());
  EXPECT_FALSE(counted_before_durable);
  EXPECT_EQ(durable, computed);
  if (computed > 0) {
    EXPECT_GE(commits, 1u);
    EXPECT_LT(commits, computed);  // batches of up to 8 regions share a commit
  }
  if (comm.is_root()) {
    EXPECT_EQ(outcome.units_done, regions * 3);
    double io = 0;
    for (const auto& t : outcome.timings) io += t.seconds_io;
    EXPECT_GT(io, 0.2);  // the commits' seconds are journal I/O
  }
}

TEST(WorkLoop, AJournalThatCannotBeMadeDurableFailsTheRunAndCountsNothing) {
  auto comm = Communicator::world();
  const std::size_t regions = 30;
  Scheduler scheduler(all(regions), units(regions), std::max(1, comm.size() - 1), 4);
  WorkLoopHooks hooks;
  hooks.compute = [&](std::uint64_t region) { return RegionReport{region, false, 0, 0, 0}; };
  hooks.make_durable = []() -> double { throw StoreError("part-0-1.jrn: cannot make the journal durable (EIO)"); };
  hooks.stop_requested = [] { return false; };
  auto outcome = run_work_loop(comm, scheduler, hooks);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->code, ExitCode::store);
  EXPECT_NE(outcome.failure->message.find("cannot make the journal durable"), std::string::npos);
  if (comm.is_root()) {
    EXPECT_EQ(outcome.units_done, 0u);
  }
}

TEST(WorkLoop, AFailureOnAnyRankReachesEveryRankWithoutHanging) {
  auto comm = Communicator::world();
  const std::size_t regions = 40;
  Scheduler scheduler(all(regions), units(regions), std::max(1, comm.size() - 1), 2);
  WorkLoopHooks hooks;
  hooks.compute = [&](std::uint64_t region) -> RegionReport {
    if (region == 17) throw InputError("genome.fa:3: region 17 is broken");
    return RegionReport{region, false, 0, 0, 0};
  };
  hooks.stop_requested = [] { return false; };
  auto outcome = run_work_loop(comm, scheduler, hooks);
  ASSERT_TRUE(outcome.failure.has_value());
  EXPECT_EQ(outcome.failure->code, ExitCode::input);
  EXPECT_EQ(outcome.failure->message, "genome.fa:3: region 17 is broken");
  EXPECT_FALSE(outcome.stopped_early);
}

TEST(WorkLoop, AStopRequestOnAWorkerStopsEveryRankWithWorkLeft) {
  auto comm = Communicator::world();
  const std::size_t regions = 200;
  Scheduler scheduler(all(regions), units(regions), std::max(1, comm.size() - 1), 4);
  int computed = 0;
  WorkLoopHooks hooks;
  const int stopping_rank = comm.size() - 1;
  hooks.compute = [&](std::uint64_t region) {
    ++computed;
    return RegionReport{region, false, 0, 0, 0};
  };
  hooks.stop_requested = [&] { return comm.rank() == stopping_rank && computed >= 3; };
  auto outcome = run_work_loop(comm, scheduler, hooks);
  EXPECT_TRUE(outcome.stopped_early);
  EXPECT_FALSE(outcome.failure.has_value());
  if (comm.is_root()) {
    EXPECT_LT(outcome.units_done, regions * 3);
    EXPECT_GE(outcome.units_done, 3u * 3);
  }
}

TEST(WorkLoop, AnInterruptedRegionStaysPending) {
  auto comm = Communicator::world();
  const std::size_t regions = 10;
  Scheduler scheduler(all(regions), units(regions), std::max(1, comm.size() - 1), 1);
  WorkLoopHooks hooks;
  hooks.compute = [&](std::uint64_t region) -> RegionReport {
    if (region == 4) throw StoppedEarly("interrupted");
    return RegionReport{region, false, 0, 0, 0};
  };
  hooks.stop_requested = [] { return false; };
  auto outcome = run_work_loop(comm, scheduler, hooks);
  EXPECT_TRUE(outcome.stopped_early);
  if (comm.is_root()) {
    EXPECT_LT(outcome.units_done, regions * 3);
  }
}

}  // namespace
}  // namespace deepmr::dist
