// Deep ensembles (model/ensemble_network.hpp): sample n of a region is member n mod K, paired (the
// reference and every mutant on the same member), with or without MC dropout inside the members.
// Oracles: each member alone through the same engine (tested against PyTorch in
// incremental_engine_test and full_forward_engine_test), combined by the paper's formulas, and a
// first layer that weighs two bases alike in every member (their exchange changes no output of any
// member, under any mask).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "built_stacks.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/ensemble_network.hpp"

namespace deepmr::ism {
namespace {

using model::Backend;

// Three members of one shape and a fourth of another (more channels, average pooling), all on
// 33 bases, strand-averaged, 4 outputs.
model::LayerStack member(int k, bool dropout) {
  test::StackBuilder b(100 + static_cast<unsigned>(k));
  if (k < 3) {
    b.conv(4, 5, 4).relu().pool(3);
    if (dropout) b.dropout(0.3);
    return b.flatten().linear(5 * 10, 4).sigmoid().build("member " + std::to_string(k), 33, true);
  }
  b.conv(4, 7, 3).elu(0.5).pool(2, false);
  if (dropout) b.dropout(0.2);
  return b.conv(7, 3, 5).relu().flatten().linear(3 * 11, 4).sigmoid().build("member 3", 33, true);
}

std::unique_ptr<model::Network> ensemble(const std::vector<model::LayerStack>& stacks, Backend backend) {
  std::vector<std::unique_ptr<model::Network>> members;
  for (const auto& stack : stacks)
    members.push_back(
        model::make_network(std::make_shared<const model::LayerStack>(stack), {0, 2, 3}, model::Device{}, backend));
  return model::make_ensemble_network(std::move(members), {});
}

std::string sequence(unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(33, 'A');
  for (auto& c : s) c = "ACGT"[rng() % 4];
  return s;
}

// Each sample's differences, by sample.
std::map<int, std::vector<double>> differences_by_sample(Engine& engine, const std::string& window, IsmOptions options,
                                                         Effects* effects = nullptr) {
  std::map<int, std::vector<double>> out;
  options.on_sample = [&](int n, const std::vector<double>& d) { out[n] = d; };
  Effects e = engine.run(window, options);
  if (effects) *effects = std::move(e);
  return out;
}

// Without dropout inside the members: K samples, sample k = member k's deterministic effects;
// beta = their mean, se = sqrt(mean of squares - beta^2), the paper's formulas over the members.
TEST(Ensemble, WithoutDropoutBetaAndSeAreTheMembersMeanAndSpread) {
  const std::vector<model::LayerStack> stacks = {member(0, false), member(1, false), member(2, false), member(3, false)};
  const std::string window = sequence(5);
  for (Backend backend : {Backend::kernels, Backend::torch})
    for (const std::string engine_name : {"full", "incremental"}) {
      SCOPED_TRACE(engine_name + (backend == Backend::kernels ? " kernels" : " torch"));
      // Each member alone, dropout off: its deterministic differences.
      std::vector<Effects> alone;
      IsmOptions off;
      off.dropout = false;
      for (const auto& stack : stacks) {
        auto network = model::make_network(std::make_shared<const model::LayerStack>(stack), {0, 2, 3}, model::Device{},
                                           backend);
        alone.push_back(make_engine(engine_name, *network)->run(window, off));
      }
      auto network = ensemble(stacks, backend);
      IsmOptions options;
      options.mc_samples = 4;
      options.member_dropout = false;
      Effects effects;
      const auto samples = differences_by_sample(*make_engine(engine_name, *network), window, options, &effects);
      ASSERT_EQ(samples.size(), 4u);
      EXPECT_EQ(effects.samples, 4);
      double largest_se = 0;
      for (std::size_t i = 0; i < effects.beta.size(); ++i) {
        double sum = 0, squares = 0;
        for (int k = 0; k < 4; ++k) {
          const double d = alone[static_cast<std::size_t>(k)].beta[i];
          ASSERT_EQ(samples.at(k)[i], d) << "sample " << k << " is member " << k << ", paired";
          sum += d;
          squares += d * d;
        }
        const double beta = sum / 4;
        EXPECT_NEAR(effects.beta[i], beta, 1e-15);
        EXPECT_NEAR(effects.se[i], std::sqrt(std::max(0.0, squares / 4 - beta * beta)), 1e-9);
        largest_se = std::max(largest_se, effects.se[i]);
      }
      EXPECT_GT(largest_se, 1e-3);  // the members disagree: the spread is there to see
    }
}

// MC dropout inside each member: sample n is member n mod K under sample n's masks of that member's
// own dropout layers, the same differences as that member alone computes for sample n.
TEST(Ensemble, WithDropoutSampleNIsMemberNModKUnderItsOwnMasks) {
  const std::vector<model::LayerStack> stacks = {member(0, true), member(1, true), member(3, true)};
  const std::string window = sequence(6);
  IsmOptions options;
  options.mc_samples = 7;  // 3 members: 3, 2 and 2 samples
  options.seed = 11;
  options.region_id = 4;
  for (Backend backend : {Backend::kernels, Backend::torch})
    for (const std::string engine_name : {"full", "incremental"}) {
      SCOPED_TRACE(engine_name + (backend == Backend::kernels ? " kernels" : " torch"));
      std::vector<std::map<int, std::vector<double>>> alone;
      for (const auto& stack : stacks) {
        auto network = model::make_network(std::make_shared<const model::LayerStack>(stack), {0, 2, 3}, model::Device{},
                                           backend);
        alone.push_back(differences_by_sample(*make_engine(engine_name, *network), window, options));
      }
      auto network = ensemble(stacks, backend);
      const auto samples = differences_by_sample(*make_engine(engine_name, *network), window, options);
      ASSERT_EQ(samples.size(), 7u);
      for (int n = 0; n < 7; ++n) {
        const auto& expected = alone[static_cast<std::size_t>(n % 3)].at(n);
        EXPECT_EQ(std::memcmp(samples.at(n).data(), expected.data(), expected.size() * sizeof(double)), 0) << n;
        // and not what another member, or the same member under another sample's masks, gives
        EXPECT_NE(samples.at(n), alone[static_cast<std::size_t>((n + 1) % 3)].at(n)) << n;
        if (n + 3 < 7) {
          EXPECT_NE(samples.at(n), alone[static_cast<std::size_t>(n % 3)].at(n + 3)) << n;
        }
      }
    }
}

// The incremental engine on an ensemble equals the full engine (float32 rounding).
TEST(Ensemble, IncrementalEqualsFull) {
  const std::vector<model::LayerStack> stacks = {member(0, true), member(3, true), member(2, false)};
  IsmOptions options;
  options.mc_samples = 9;
  options.seed = 3;
  auto network = ensemble(stacks, Backend::kernels);
  const Effects full = make_engine("full", *network)->run(sequence(7), options);
  const Effects incremental = make_engine("incremental", *network)->run(sequence(7), options);
  ASSERT_EQ(full.beta.size(), incremental.beta.size());
  for (std::size_t i = 0; i < full.beta.size(); ++i) {
    EXPECT_NEAR(full.beta[i], incremental.beta[i], 1e-6);
    EXPECT_NEAR(full.se[i], incremental.se[i], 1e-6);
  }
}

// A first layer that weighs A and C alike, and their complements T and G alike (the members
// average both strands), in every member: exchanging A and C changes no output of any member under
// any mask, so the effects are exactly zero (paired by construction).
TEST(Ensemble, BasesWeighedAlikeInEveryMemberHaveExactlyZeroEffects) {
  std::vector<model::LayerStack> stacks = {member(0, true), member(1, true), member(3, true)};
  for (auto& stack : stacks) {
    auto& first = stack.layers.front();  // out x (4 x kernel): channel c's taps at [c * kernel, ...)
    const int kernel = first.kernel, per_output = 4 * kernel;
    for (std::size_t o = 0; o * per_output < first.weight.size(); ++o)
      for (int t = 0; t < kernel; ++t) {
        first.weight[o * per_output + kernel + t] = first.weight[o * per_output + t];                  // C = A
        first.weight[o * per_output + 2 * kernel + t] = first.weight[o * per_output + 3 * kernel + t];  // G = T
      }
  }
  IsmOptions options;
  options.mc_samples = 6;
  auto network = ensemble(stacks, Backend::kernels);
  for (const std::string engine_name : {"full", "incremental"}) {
    const Effects effects = make_engine(engine_name, *network)->run(sequence(8), options);
    int zero = 0, other = 0;
    for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
      const auto& mutant = effects.mutants[m];
      const bool exchange = (mutant.ref == 'A' && mutant.alt == 'C') || (mutant.ref == 'C' && mutant.alt == 'A');
      for (int o = 0; o < 3; ++o) {
        if (exchange) {
          ASSERT_EQ(effects.beta_at(static_cast<int>(m), o), 0.0) << engine_name;
          ASSERT_EQ(effects.se_at(static_cast<int>(m), o), 0.0) << engine_name;
          ++zero;
        } else {
          other += effects.se_at(static_cast<int>(m), o) > 0;
        }
      }
    }
    EXPECT_GT(zero, 10) << engine_name;
    EXPECT_GT(other, 50) << engine_name;
  }
}

TEST(Ensemble, MembersThatDisagreeAreRefusedNamingBoth) {
  auto make = [](const model::LayerStack& stack) {
    return model::make_network(std::make_shared<const model::LayerStack>(stack), {0}, model::Device{}, Backend::kernels);
  };
  const model::LayerStack longer =
      test::StackBuilder(9).conv(4, 5, 4).relu().pool(3).flatten().linear(5 * 11, 4).sigmoid().build("longer", 36, true);
  const model::LayerStack single_strand =
      test::StackBuilder(9).conv(4, 5, 4).relu().pool(3).flatten().linear(5 * 10, 4).sigmoid().build("one", 33, false);
  for (const auto& [other, what] : {std::pair{longer, std::string("input length 36")},
                                    std::pair{single_strand, std::string("strand averaging off")}}) {
    std::vector<std::unique_ptr<model::Network>> members;
    members.push_back(make(member(0, false)));
    members.push_back(make(other));
    try {
      model::make_ensemble_network(std::move(members), {"a.pt", "b.pt"});
      ADD_FAILURE() << "accepted " << what;
    } catch (const ModelError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("member 2 (b.pt) has " + what), std::string::npos) << message;
      EXPECT_NE(message.find("member 1 (a.pt)"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace deepmr::ism
