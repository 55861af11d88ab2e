// Window centring and resizing: the exact rules docs/genome.md states.
#include <gtest/gtest.h>

#include "deepmr/genome/window.hpp"

namespace deepmr::genome {
namespace {

TEST(Window, CentreIsTheSummitWhenGivenElseTheMiddleBase) {
  EXPECT_EQ(peak_centre(100, 200, 37), 137u);
  EXPECT_EQ(peak_centre(100, 200, 0), 100u);
  EXPECT_EQ(peak_centre(100, 200, std::nullopt), 150u);  // even length: the right of 149, 150
  EXPECT_EQ(peak_centre(100, 201, std::nullopt), 150u);  // odd length: the middle base
  EXPECT_EQ(peak_centre(100, 101, std::nullopt), 100u);
  EXPECT_EQ(peak_centre(100, 100, std::nullopt), 100u);  // zero-length interval
}

TEST(Window, CentreSitsAtIndexHalfLOfTheWindow) {
  auto even = centred_window(1000, 4);
  EXPECT_EQ(even.start, 998);
  EXPECT_EQ(even.end, 1002);  // bases 998 999 [1000] 1001: index 2 = L/2
  auto odd = centred_window(1000, 5);
  EXPECT_EQ(odd.start, 998);
  EXPECT_EQ(odd.end, 1003);  // 998 999 [1000] 1001 1002: the exact middle
  auto deepsea = centred_window(150, 1000);
  EXPECT_EQ(deepsea.start, -350);
  EXPECT_EQ(deepsea.end, 650);
  for (std::uint64_t length : {1u, 2u, 3u, 1000u, 1001u}) {
    auto p = centred_window(5000, length);
    EXPECT_EQ(p.end - p.start, static_cast<std::int64_t>(length));
    EXPECT_EQ(5000 - p.start, static_cast<std::int64_t>(length / 2));
  }
}

TEST(Window, FitsInsideTheSequenceOnly) {
  EXPECT_TRUE(fits({0, 1000}, 1000));
  EXPECT_FALSE(fits({-1, 999}, 1000));
  EXPECT_FALSE(fits({1, 1001}, 1000));
  EXPECT_TRUE(fits({999, 1000}, 1000));
}

TEST(Window, GenomicOrder) {
  EXPECT_LT((Window{0, 5, 10}), (Window{1, 0, 1}));
  EXPECT_LT((Window{1, 0, 10}), (Window{1, 1, 2}));
  EXPECT_LT((Window{1, 0, 10}), (Window{1, 0, 11}));
  EXPECT_EQ((Window{1, 0, 10}), (Window{1, 0, 10}));
}

}  // namespace
}  // namespace deepmr::genome
