// Runs under mpirun at 1, 2 and 3 ranks.
#include "deepmr/dist/communicator.hpp"

#include <gtest/gtest.h>

namespace deepmr::dist {
namespace {

TEST(Communicator, CollectivesAgreeOnEveryRank) {
  auto world = Communicator::world();
  const int p = world.size();
  EXPECT_EQ(world.allreduce_sum(world.rank() + 1), static_cast<std::int64_t>(p) * (p + 1) / 2);
  EXPECT_EQ(world.allreduce_max(static_cast<std::int64_t>(world.rank())), p - 1);
  EXPECT_EQ(world.broadcast(world.is_root() ? std::string("hello from the coordinator") : std::string("x"), 0),
            "hello from the coordinator");
  auto ranks = world.allgather(10 * world.rank());
  ASSERT_EQ(static_cast<int>(ranks.size()), p);
  for (int r = 0; r < p; ++r) EXPECT_EQ(ranks[r], 10 * r);
}

// Rank 0 sends a distinct payload to every other rank, which echoes it back reversed.
TEST(Communicator, PointToPointRoundTrip) {
  auto world = Communicator::world();
  const int tag = 7;
  if (world.is_root()) {
    for (int r = 1; r < world.size(); ++r) world.send("payload-" + std::to_string(r) + std::string(1000 * r, 'z'), r, tag);
    for (int i = 1; i < world.size(); ++i) {
      auto reply = world.receive(Communicator::any_source, tag + 1);
      std::string expected = "payload-" + std::to_string(reply.source) + std::string(1000 * reply.source, 'z');
      EXPECT_EQ(reply.bytes, std::string(expected.rbegin(), expected.rend()));
    }
  } else {
    auto message = world.receive(0, tag);
    EXPECT_EQ(message.source, 0);
    EXPECT_EQ(message.tag, tag);
    world.send(std::string(message.bytes.rbegin(), message.bytes.rend()), 0, tag + 1);
  }
  world.barrier();
}

TEST(Communicator, NoFailureWhenAllRanksSucceed) {
  EXPECT_FALSE(agree_on_failure(Communicator::world(), std::nullopt).has_value());
}

// The lowest failing rank's error reaches every rank, code and message intact.
TEST(Communicator, EveryRankLearnsTheFirstFailure) {
  auto world = Communicator::world();
  const int failing = world.size() - 1;
  std::optional<RankFailure> local;
  if (world.rank() >= failing) local = RankFailure{world.rank(), ExitCode::input, "peaks.bed:12: bad start on rank " + std::to_string(world.rank())};
  auto agreed = agree_on_failure(world, local);
  ASSERT_TRUE(agreed.has_value());
  EXPECT_EQ(agreed->rank, failing);
  EXPECT_EQ(agreed->code, ExitCode::input);
  EXPECT_EQ(agreed->message, "peaks.bed:12: bad start on rank " + std::to_string(failing));
}

TEST(Communicator, NodeLocalRanksCoverTheNode) {
  auto world = Communicator::world();
  auto local = world.split_node_local();
  // All test ranks run on one machine.
  EXPECT_EQ(local.size(), world.size());
  EXPECT_EQ(local.allreduce_sum(1), world.size());
}

}  // namespace
}  // namespace deepmr::dist
