#include "deepmr/dist/scheduler.hpp"

#include <gtest/gtest.h>

#include <set>

#include "deepmr/common/error.hpp"

namespace deepmr::dist {
namespace {

TEST(Scheduler, HandsOutEveryRegionOnceInIdOrderWithShrinkingBatches) {
  std::vector<std::uint32_t> units(1000, 2);
  std::vector<std::uint64_t> todo;
  for (std::uint64_t r = 0; r < 1000; ++r) todo.push_back(999 - r);
  Scheduler s(todo, units, 4, 64);
  EXPECT_EQ(s.units_total(), 2000u);
  EXPECT_EQ(s.units_done(), 0u);
  std::vector<std::uint64_t> order;
  std::vector<std::size_t> sizes;
  for (auto batch = s.next_batch(); !batch.empty(); batch = s.next_batch()) {
    sizes.push_back(batch.size());
    order.insert(order.end(), batch.begin(), batch.end());
  }
  ASSERT_EQ(order.size(), 1000u);
  for (std::uint64_t r = 0; r < 1000; ++r) ASSERT_EQ(order[r], r);
  EXPECT_EQ(sizes.front(), 64u);  // capped
  EXPECT_EQ(sizes.back(), 1u);    // the tail comes one region at a time
  for (std::size_t i = 1; i < sizes.size(); ++i) EXPECT_LE(sizes[i], sizes[i - 1]);
  EXPECT_FALSE(s.finished());
  for (auto r : order) s.complete(r, r % 10 == 0);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.units_done(), 2000u);
  EXPECT_EQ(s.units_failed(), 200u);
}

TEST(Scheduler, ResumedRunsCountEarlierUnitsAsDone) {
  Scheduler s({4, 2}, {1, 2, 3, 4, 5}, 1, 10);
  EXPECT_EQ(s.units_total(), 15u);
  EXPECT_EQ(s.units_done(), 15u - 3u - 5u);
  EXPECT_EQ(s.regions_done(), 3u);
  EXPECT_EQ(s.next_batch(), (std::vector<std::uint64_t>{2}));  // remaining 2 / (2 x 1) = 1
}

TEST(Scheduler, StopEndsTheHandOut) {
  Scheduler s({0, 1, 2, 3}, {1, 1, 1, 1}, 1, 1);
  EXPECT_EQ(s.next_batch().size(), 1u);
  s.stop();
  EXPECT_TRUE(s.next_batch().empty());
  EXPECT_EQ(s.regions_pending(), 3u);
}

TEST(Scheduler, CompletingARegionNotHandedOutIsABug) {
  Scheduler s({0}, {1}, 1, 1);
  EXPECT_THROW(s.complete(0, false), InternalError);
  EXPECT_THROW(Scheduler({5}, {1}, 1, 1), InternalError);
}

}  // namespace
}  // namespace deepmr::dist
