// The median and mode bootstraps on several threads (bootstrap_draws.hpp): every column of every
// fit the same bit for bit as on one thread, for thread counts that do and do not divide the
// draws, more threads than draws, and blocks of draws smaller than the bootstrap; a statistic
// that throws on some worker reaches the caller, with no thread left behind.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>

#include "bootstrap_draws.hpp"
#include "deepmr/stats/mr.hpp"
#include "deepmr/stats/normal_stream.hpp"

namespace deepmr::stats {
namespace {

Instruments instruments(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> heavy(3);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform(0.5, 2);
  Instruments in;
  for (std::size_t i = 0; i < n; ++i) {
    const double bx = 0.004 * heavy(rng), bxse = 0.002 * uniform(rng), byse = 0.003 * uniform(rng);
    in.push_back(bx, bxse, 1.4 * bx + 0.001 * normal(rng) + byse * normal(rng), byse);
  }
  return in;
}

bool same(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || std::memcmp(&*a, &*b, sizeof(double)) == 0);
}

void expect_same(const MrResult& one, const MrResult& many, const std::string& what) {
  EXPECT_EQ(one.estimable, many.estimable) << what;
  EXPECT_EQ(one.reason, many.reason) << what;
  EXPECT_TRUE(same(one.estimate, many.estimate)) << what;
  EXPECT_TRUE(same(one.se, many.se)) << what;
  EXPECT_TRUE(same(one.ci_low, many.ci_low)) << what;
  EXPECT_TRUE(same(one.ci_high, many.ci_high)) << what;
  EXPECT_TRUE(same(one.pvalue, many.pvalue)) << what;
  EXPECT_EQ(one.bootstrap_draws, many.bootstrap_draws) << what;
}

TEST(BootstrapThreads, EveryThreadCountGivesTheSameFits) {
  const std::vector<MrMethod> methods = {MrMethod::median_weighted, MrMethod::median_simple, MrMethod::median_penalized,
                                         MrMethod::mode_weighted};
  struct Case {
    std::size_t instruments, draws;
  };
  // 3000 instruments x 300 draws spans several blocks of the median's 6000 normals per draw.
  for (const Case c : {Case{3000, 300}, Case{40, 1000}, Case{5, 7}, Case{4, 2}}) {
    const Instruments in = instruments(c.instruments, c.instruments + c.draws);
    MrOptions options;
    options.bootstrap_draws = c.draws;
    options.seed = unit_seed(9, c.instruments, c.draws);
    const auto reference = fit_all(methods, in, options);
    std::size_t with_se = 0;
    for (const auto& r : reference) with_se += r.se.has_value();
    EXPECT_EQ(with_se, methods.size()) << c.instruments;
    for (std::size_t threads : {2, 3, 8}) {
      options.threads = threads;
      const auto fits = fit_all(methods, in, options);
      ASSERT_EQ(fits.size(), reference.size());
      for (std::size_t m = 0; m < fits.size(); ++m)
        expect_same(reference[m], fits[m],
                    mr_method_name(methods[m]) + ", " + std::to_string(c.instruments) + " instruments, " +
                        std::to_string(c.draws) + " draws, " + std::to_string(threads) + " threads");
    }
  }
}

// The draws the statistic sees are the stream's, in their slots, whatever the thread count.
TEST(BootstrapThreads, EachDrawSeesItsOwnNormals) {
  constexpr std::size_t per_draw = 5001, draws = 250;  // blocks of 104 draws, odd offsets
  std::vector<double> expected(per_draw * draws);
  NormalStream(3, 4).fill(expected.data(), expected.size());
  for (std::size_t threads : {1, 2, 5}) {
    std::vector<double> seen(expected.size(), -1);
    detail::for_each_bootstrap_draw(3, 4, per_draw, draws, threads, [&](std::size_t w, std::size_t d, const double* z) {
      EXPECT_LT(w, threads);
      std::memcpy(seen.data() + d * per_draw, z, per_draw * sizeof(double));
    });
    EXPECT_EQ(std::memcmp(seen.data(), expected.data(), expected.size() * sizeof(double)), 0) << threads;
  }
}

TEST(BootstrapThreads, AFailingDrawReachesTheCaller) {
  for (std::size_t threads : {1, 2, 4})
    EXPECT_THROW(detail::for_each_bootstrap_draw(1, 2, 10, 100, threads,
                                                 [](std::size_t, std::size_t d, const double*) {
                                                   if (d == 77) throw std::runtime_error("draw 77");
                                                 }),
                 std::runtime_error)
        << threads;
}

}  // namespace
}  // namespace deepmr::stats
