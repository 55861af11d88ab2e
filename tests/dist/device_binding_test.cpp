// Runs under mpirun at 1, 2 and 3 ranks (all on one node).
#include "deepmr/dist/device_binding.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"

namespace deepmr::dist {
namespace {

TEST(DeviceBinding, WorkersTakeConsecutiveGpusAndTheCoordinatorNone) {
  auto world = Communicator::world();
  auto one = bind_devices(world, 1, 4);
  auto two = bind_devices(world, 2, 8);
  if (world.size() == 1) {
    EXPECT_EQ(one, (std::vector<int>{0}));
    EXPECT_EQ(two, (std::vector<int>{0, 1}));
  } else if (world.is_root()) {
    EXPECT_TRUE(one.empty());
    EXPECT_TRUE(two.empty());
  } else {
    const int worker = world.rank() - 1;  // one node: worker ranks 1..P-1 in order
    EXPECT_EQ(one, (std::vector<int>{worker % 4}));
    EXPECT_EQ(two, (std::vector<int>{2 * worker, 2 * worker + 1}));
  }
  // More workers than GPUs share them round robin.
  auto shared = bind_devices(world, 1, 1);
  if (!shared.empty()) {
    EXPECT_EQ(shared, (std::vector<int>{0}));
  }
}

TEST(DeviceBinding, AskingForMoreGpusThanTheNodeHasIsAUsageError) {
  auto world = Communicator::world();
  bool threw = false;
  try {
    bind_devices(world, 3, 2);
  } catch (const UsageError&) {
    threw = true;
  }
  EXPECT_EQ(threw, world.size() == 1 || !world.is_root());
}

}  // namespace
}  // namespace deepmr::dist
