// The run layer without mpirun (one process, MPI initialised as a singleton): the region pipeline
// against the ism and stats layers called directly, and the store assembly from a journal written
// here, read back by the store reader and checked against the stats layer's meta-analysis.

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "deepmr/common/error.hpp"
#include "deepmr/dist/collective_step.hpp"
#include "deepmr/dist/communicator.hpp"
#include "deepmr/ism/engine.hpp"
#include "deepmr/model/model_file.hpp"
#include "deepmr/run/plan_run.hpp"
#include "deepmr/run/region_pipeline.hpp"
#include "deepmr/run/store_assembly.hpp"
#include "deepmr/stats/direction.hpp"
#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/normal_stream.hpp"
#include "deepmr/stats/result_columns.hpp"
#include "deepmr/store/journal.hpp"
#include "deepmr/store/run_journal.hpp"
#include "deepmr/store/store_reader.hpp"
#include "test_support.hpp"

namespace deepmr::run {
namespace {

namespace fs = std::filesystem;

// configs/test_tiny.ini as plain values: a 60-bp model with 5 outputs, three exposures with peaks
// on the shipped chr22 excerpt.
RunSetup tiny_setup(const std::string& store, bool store_effects,
                    std::vector<std::string> outcomes = {"conv1d_small|out0"}, bool network = false) {
  const std::string src = test::source_dir() + "/";
  RunSetup setup;
  auto& c = setup.config;
  c.outcomes = std::move(outcomes);
  c.network = network;
  c.seed = 7;
  c.mc_samples = 4;
  c.batch = 16;
  c.methods = stats::parse_mr_methods("egger,ivw,median-weighted");
  c.mr.bootstrap_draws = 100;
  c.store = store;
  c.store_effects = store_effects;
  c.exposure_outputs = {{"TFA", "conv1d_small|out1"}, {"TFB", "conv1d_small|out2"}, {"TFC", "conv1d_small|out3"}};
  auto stack = std::make_shared<model::LayerStack>(model::load_model_file(src + "tests/data/models/conv1d_small.pt"));
  setup.model.target_names = stack->target_names;
  setup.model.stack = stack;
  setup.outcome_outputs = model::resolve_output_list(setup.model, c.outcomes);
  auto& spec = setup.plan_spec;
  spec.fasta = src + "data/genome/hg38_chr22_32000000_32300000.fa";
  for (const char* tf : {"TFA", "TFB", "TFC"}) {
    std::string lower = tf;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
    spec.exposures.push_back({tf, src + "tests/data/run/" + lower + ".bed", -1});
  }
  spec.per_exposure = 4;
  spec.seed = c.seed;
  spec.window_length = static_cast<std::uint64_t>(stack->options.input_length);
  setup.provenance.config_text = "(test)";
  plan_run(setup);
  return setup;
}

std::string temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("deepmr_run_layer_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::string window_of(const RunSetup& setup, std::uint64_t region) {
  const auto& r = setup.plan.region(region);
  genome::FastaReader fasta(setup.plan_spec.fasta);
  std::string window;
  fasta.fetch(r.chrom, r.start, r.end, window);
  return window;
}

// The full engine over a network of just (exposure, outcome): a different output layout from the
// pipeline's, so a mix-up of columns there cannot go unnoticed.
struct PairEngine {
  std::unique_ptr<model::Network> network;
  std::unique_ptr<ism::Engine> engine;
  PairEngine(const RunSetup& setup, int exposure)
      : network(model::make_network(setup.model.stack, {setup.exposure_outputs[exposure], setup.outcome_outputs.front()},
                                    model::Device{}, model::Backend::kernels)),
        engine(ism::make_engine("full", *network)) {}
};

// The instruments of an engine over (exposure, outcome): output 0 the exposure, 1 the outcome.
stats::Instruments pair_instruments(const ism::Effects& effects) {
  stats::Instruments in;
  for (std::size_t m = 0; m < effects.mutants.size(); ++m)
    in.push_back(effects.beta_at(static_cast<int>(m), 0), effects.se_at(static_cast<int>(m), 0),
                 effects.beta_at(static_cast<int>(m), 1), effects.se_at(static_cast<int>(m), 1));
  return in;
}

// The pipeline's mutagenesis options for a region: its samples, seed and region id.
ism::IsmOptions region_options(const RunSetup& setup, std::uint64_t region) {
  ism::IsmOptions options;
  options.mc_samples = setup.config.mc_samples;
  options.seed = setup.config.seed;
  options.region_id = region;
  return options;
}

TEST(RegionPipeline, FitsEachUnitFromItsExposureAndTheOutcome) {
  const auto dir = temp_dir("pipeline");
  RunSetup setup = tiny_setup(dir + "/s.h5", true);
  setup.config.engine = "full";  // the same engine as the check below: the same bits
  ASSERT_GT(setup.plan.region_count(), 2u);
  store::JournalWriter journal(dir, 0, 0);
  RegionPipeline pipeline(setup, journal, 0, 0, {model::Device{}});

  for (std::uint64_t region : {std::uint64_t{0}, setup.plan.region_count() - 1}) {
    double seconds_ism = 0, seconds_mr = 0;
    const store::RegionResult result = pipeline.result_of(region, seconds_ism, seconds_mr);
    ASSERT_EQ(result.region, region);
    ASSERT_EQ(result.units.size(), setup.plan.first_unit(region + 1) - setup.plan.first_unit(region));
    EXPECT_FALSE(result.failed);

    const std::string window = window_of(setup, region);
    ASSERT_EQ(result.sequence, window);
    ASSERT_EQ(result.outputs, result.units.size() + 1);
    ASSERT_EQ(result.mutants, 3 * window.size());
    for (std::size_t i = 0; i < result.units.size(); ++i) {
      const auto& unit = result.units[i];
      EXPECT_EQ(unit.exposure, setup.plan.unit_exposure(unit.unit));
      PairEngine pair(setup, unit.exposure);
      const ism::IsmOptions options = region_options(setup, region);
      const auto effects = pair.engine->run(window, options);
      const stats::Instruments in = pair_instruments(effects);
      // Stored effects, float32: per mutant the outcome, then each unit's exposure.
      for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
        EXPECT_EQ(result.beta[m * result.outputs], static_cast<float>(in.by[m]));
        EXPECT_EQ(result.se[m * result.outputs + 1 + i], static_cast<float>(in.bxse[m]));
      }
      stats::MrOptions mr = setup.config.mr;
      mr.seed = stats::unit_seed(setup.config.seed, unit.exposure, region);
      const auto fits = stats::fit_all(setup.config.methods, in, mr);
      ASSERT_EQ(unit.fits.size(), fits.size());
      // The jackknife: min(10, N = 4) groups, i.e. delete-1; each left-out sample's effects refitted
      // without bootstrap, the SE sqrt((G - 1) / G sum_g (theta_-g - mean)^2) of equal groups, times sqrt(N).
      ism::IsmOptions jackknife = options;
      jackknife.jackknife_groups = std::min(setup.config.jackknife_groups, setup.config.mc_samples);
      ASSERT_EQ(jackknife.jackknife_groups, 4);
      const auto leave_out = pair.engine->run(window, jackknife).jackknife;
      ASSERT_EQ(leave_out.beta.size(), 4u);
      std::vector<std::vector<double>> estimates(fits.size());
      for (std::size_t g = 0; g < leave_out.beta.size(); ++g) {
        stats::Instruments part;
        for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
          part.bx.push_back(leave_out.beta[g][2 * m]);
          part.bxse.push_back(leave_out.se[g][2 * m]);
          part.by.push_back(leave_out.beta[g][2 * m + 1]);
          part.byse.push_back(leave_out.se[g][2 * m + 1]);
        }
        stats::MrOptions no_bootstrap = mr;
        no_bootstrap.bootstrap_draws = 0;
        const auto refits = stats::fit_all(setup.config.methods, part, no_bootstrap);
        for (std::size_t f = 0; f < fits.size(); ++f) estimates[f].push_back(refits[f].estimate.value_or(NAN));
      }
      const std::size_t se_jackknife = store::fit_column_index("se_jackknife");
      for (std::size_t f = 0; f < fits.size(); ++f) {
        const auto expected = stats::column_values(fits[f]);
        ASSERT_EQ(unit.fits[f].values.size(), expected.size());
        EXPECT_EQ(unit.fits[f].status, fits[f].estimable ? store::FitStatus::ok : store::FitStatus::not_estimable);
        // Each output is its own chain of products: keeping other outputs changes no bit.
        for (std::size_t c = 0; c < expected.size(); ++c) {
          if (stats::needs_samples(stats::mr_columns()[c])) continue;  // checked below
          EXPECT_TRUE(same_bits(unit.fits[f].values[c], expected[c]))
              << stats::mr_columns()[c].name << " of " << stats::mr_method_name(fits[f].method) << ": "
              << unit.fits[f].values[c] << " vs " << expected[c];
        }
        double mean = 0, ss = 0;
        for (double e : estimates[f]) mean += e / 4;
        for (double e : estimates[f]) ss += (e - mean) * (e - mean);
        const double se = 2 * std::sqrt(0.75 * ss), stored = unit.fits[f].values[se_jackknife];  // x sqrt(N = 4)
        if (!fits[f].estimable || !std::isfinite(se)) {
          EXPECT_TRUE(std::isnan(stored)) << stats::mr_method_name(fits[f].method);
          continue;
        }
        EXPECT_NEAR(stored, se, 1e-12 * std::max(1.0, se)) << stats::mr_method_name(fits[f].method);
        EXPECT_NEAR(unit.fits[f].values[store::fit_column_index("ci_low_jackknife")],
                    *fits[f].estimate - 1.959963984540054 * se, 1e-10);
      }
    }
  }
  fs::remove_all(dir);
}

// Several outcomes from one mutagenesis (analysis.outcome twice, analysis.network): the units of
// every plan unit are its exposure on each outcome but its own output, in outcome order; each is
// the MR fit of its own exposure and outcome columns (checked against an engine over just that
// pair), with the bootstrap stream of (exposure, outcome); the primary outcome's units are those
// of a one-outcome run bit for bit; the stored effects hold every outcome, then each unit's exposure.
TEST(RegionPipeline, FitsEveryPairOfANetworkFromOneMutagenesis) {
  const auto dir = temp_dir("network");
  RunSetup one = tiny_setup(dir + "/one.h5", true);
  RunSetup setup = tiny_setup(dir + "/s.h5", true, {"conv1d_small|out0", "conv1d_small|out4"}, true);
  one.config.engine = setup.config.engine = "full";
  // out0, out4, then the exposures' out1, out2, out3.
  ASSERT_EQ(setup.outcome_outputs, (std::vector<int>{0, 4, 1, 2, 3}));
  ASSERT_EQ(setup.exposure_outputs, (std::vector<int>{1, 2, 3}));
  ASSERT_EQ(setup.units.count(), 4 * setup.plan.unit_count());
  for (std::uint64_t r = 0; r < setup.plan.region_count(); ++r) {
    std::uint64_t id = setup.units.first(r);
    for (std::uint64_t p = setup.plan.first_unit(r); p < setup.plan.first_unit(r + 1); ++p)
      for (std::uint32_t o = 0; o < 5; ++o) {
        if (setup.outcome_outputs[o] == setup.exposure_outputs[setup.plan.unit_exposure(p)]) continue;
        const auto unit = setup.units.unit(id++);
        EXPECT_EQ(unit.region, r);
        EXPECT_EQ(unit.exposure, setup.plan.unit_exposure(p));  // plan unit p's fit units, in order
        EXPECT_EQ(unit.outcome, o);
      }
    EXPECT_EQ(id, setup.units.first(r + 1));
  }
  ASSERT_EQ(setup.store_layout().outcomes.size(), 5u);

  store::JournalWriter journal(dir, 0, 0);
  RegionPipeline pipeline(setup, journal, 0, 0, {model::Device{}}), single(one, journal, 0, 0, {model::Device{}});
  const std::uint64_t region = 0;
  double seconds_ism = 0, seconds_mr = 0;
  const auto result = pipeline.result_of(region, seconds_ism, seconds_mr);
  const auto primary = single.result_of(region, seconds_ism, seconds_mr);
  ASSERT_EQ(result.units.size(), setup.units.first(region + 1) - setup.units.first(region));
  ASSERT_EQ(result.outputs, 5 + result.units.size());
  const std::string window = window_of(setup, region);
  std::size_t primary_units = 0;
  for (std::size_t i = 0; i < result.units.size(); ++i) {
    const auto& unit = result.units[i];
    EXPECT_EQ(unit.unit, setup.units.first(region) + i);
    EXPECT_EQ(unit.outcome, setup.units.outcome(unit.unit));
    const int x = setup.exposure_outputs[unit.exposure], y = setup.outcome_outputs[unit.outcome];
    ASSERT_NE(x, y);
    auto network = model::make_network(setup.model.stack, {x, y}, model::Device{}, model::Backend::kernels);
    const auto effects = ism::make_engine("full", *network)->run(window, region_options(setup, region));
    const stats::Instruments in = pair_instruments(effects);
    for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
      EXPECT_EQ(result.beta[m * result.outputs + unit.outcome], static_cast<float>(in.by[m]));
      EXPECT_EQ(result.se[m * result.outputs + 5 + i], static_cast<float>(in.bxse[m]));
    }
    stats::MrOptions mr = setup.config.mr;
    mr.seed = stats::unit_seed(setup.config.seed, unit.exposure | std::uint64_t{unit.outcome} << 32, region);
    const auto fits = stats::fit_all(setup.config.methods, in, mr);
    ASSERT_EQ(unit.fits.size(), fits.size());
    for (std::size_t f = 0; f < fits.size(); ++f) {
      const auto expected = stats::column_values(fits[f]);
      for (std::size_t c = 0; c < expected.size(); ++c) {
        if (stats::needs_samples(stats::mr_columns()[c])) continue;
        EXPECT_TRUE(same_bits(unit.fits[f].values[c], expected[c]))
            << stats::mr_columns()[c].name << " of " << stats::mr_method_name(fits[f].method) << ", exposure "
            << unit.exposure << " on outcome " << unit.outcome;
      }
    }
    // The direction test of the pair, its SE from the pair's own leave-group-out effects.
    auto direction = stats::direction_test(in, setup.config.mr.min_abs_z_x);
    ism::IsmOptions jackknife = region_options(setup, region);
    jackknife.jackknife_groups = std::min(setup.config.jackknife_groups, setup.config.mc_samples);
    const auto leave_out = ism::make_engine("full", *network)->run(window, jackknife).jackknife;
    std::vector<stats::DirectionResult> leave_out_directions;
    for (std::size_t g = 0; g < leave_out.beta.size(); ++g) {
      stats::Instruments part;
      for (std::size_t m = 0; m < effects.mutants.size(); ++m)
        part.push_back(leave_out.beta[g][2 * m], leave_out.se[g][2 * m], leave_out.beta[g][2 * m + 1],
                       leave_out.se[g][2 * m + 1]);
      leave_out_directions.push_back(stats::direction_test(part, setup.config.mr.min_abs_z_x));
    }
    stats::add_direction_jackknife(direction, leave_out_directions, leave_out.sizes);
    ASSERT_TRUE(direction.se);
    EXPECT_EQ(unit.direction.status, store::FitStatus::ok);
    const auto expected_direction = stats::column_values(direction);
    ASSERT_EQ(unit.direction.values.size(), expected_direction.size());
    for (std::size_t c = 0; c < expected_direction.size(); ++c)
      EXPECT_TRUE(same_bits(unit.direction.values[c], expected_direction[c])) << stats::direction_columns()[c];
    if (unit.outcome != 0) continue;
    // The primary outcome: the one-outcome run's unit of this exposure, bit for bit.
    const auto& same = primary.units.at(primary_units++);
    ASSERT_EQ(same.exposure, unit.exposure);
    for (std::size_t f = 0; f < fits.size(); ++f)
      for (std::size_t c = 0; c < same.fits[f].values.size(); ++c)
        EXPECT_TRUE(same_bits(unit.fits[f].values[c], same.fits[f].values[c])) << stats::mr_columns()[c].name;
  }
  EXPECT_EQ(primary_units, primary.units.size());
  fs::remove_all(dir);
}

// analysis.ivw-weights = delta: each mutant's psi is the correlation over the samples of its paired
// exposure and outcome differences (the engine's Effects::correlation, itself checked against a
// two-pass Pearson in ism_effects_test); the run's IVW fits are the stats layer's delta fits with
// those psi, the other methods' fits are unchanged, and the delta and simple IVW estimates differ.
TEST(RegionPipeline, DeltaWeightsTakeEachMutantsPsiFromTheSamples) {
  const auto dir = temp_dir("delta");
  RunSetup setup = tiny_setup(dir + "/s.h5", false);
  setup.config.engine = "full";
  setup.config.jackknife_groups = 0;
  setup.config.mr.ivw_weights = stats::IvwWeights::delta;
  store::JournalWriter journal(dir, 0, 0);
  RegionPipeline pipeline(setup, journal, 0, 0, {model::Device{}});
  const std::uint64_t region = 1;
  double seconds_ism = 0, seconds_mr = 0;
  const store::RegionResult result = pipeline.result_of(region, seconds_ism, seconds_mr);
  ASSERT_FALSE(result.units.empty());

  const auto& unit = result.units.front();
  PairEngine pair(setup, unit.exposure);
  ism::IsmOptions options = region_options(setup, region);
  options.correlations = true;
  const auto effects = pair.engine->run(window_of(setup, region), options);
  ASSERT_EQ(effects.correlation.size(), 2 * effects.mutants.size());
  stats::Instruments in;
  std::size_t strongly_correlated = 0;
  for (std::size_t m = 0; m < effects.mutants.size(); ++m) {
    in.push_back(effects.beta[2 * m], effects.se[2 * m], effects.beta[2 * m + 1], effects.se[2 * m + 1],
                 effects.correlation[2 * m + 1]);
    strongly_correlated += std::fabs(effects.correlation[2 * m + 1]) > 0.5;
  }
  EXPECT_GT(strongly_correlated, 0u) << "shared masks should correlate some mutants' exposure and outcome";

  stats::MrOptions mr = setup.config.mr;
  mr.seed = stats::unit_seed(setup.config.seed, unit.exposure, region);
  const auto fits = stats::fit_all(setup.config.methods, in, mr);
  stats::MrOptions simple = mr;
  simple.ivw_weights = stats::IvwWeights::simple;
  const auto simple_fits = stats::fit_all(setup.config.methods, in, simple);
  ASSERT_EQ(unit.fits.size(), fits.size());
  const std::size_t estimate = store::fit_column_index("estimate"), se = store::fit_column_index("se");
  bool saw_ivw = false;
  for (std::size_t f = 0; f < fits.size(); ++f) {
    ASSERT_TRUE(fits[f].estimable) << fits[f].reason;
    EXPECT_TRUE(same_bits(unit.fits[f].values[estimate], *fits[f].estimate)) << stats::mr_method_name(fits[f].method);
    EXPECT_TRUE(same_bits(unit.fits[f].values[se], *fits[f].se)) << stats::mr_method_name(fits[f].method);
    if (fits[f].method == stats::MrMethod::ivw) {
      saw_ivw = true;
      EXPECT_NE(*fits[f].estimate, *simple_fits[f].estimate);
    } else {
      EXPECT_EQ(*fits[f].estimate, *simple_fits[f].estimate) << stats::mr_method_name(fits[f].method);
    }
  }
  EXPECT_TRUE(saw_ivw);
  fs::remove_all(dir);
}

// Delta weights with several outcomes: each pair's IVW fit takes the psi of its own outcome (the
// correlation of the exposure's and that outcome's paired differences), and the primary outcome's
// units are the one-outcome run's bit for bit.
TEST(RegionPipeline, DeltaWeightsOfEachOutcomeTakeThatOutcomesPsi) {
  const auto dir = temp_dir("delta_network");
  RunSetup one = tiny_setup(dir + "/one.h5", false);
  RunSetup setup = tiny_setup(dir + "/s.h5", false, {"conv1d_small|out0", "conv1d_small|out4"});
  for (RunSetup* s : {&one, &setup}) {
    s->config.engine = "full";
    s->config.jackknife_groups = 0;
    s->config.mr.ivw_weights = stats::IvwWeights::delta;
  }
  store::JournalWriter journal(dir, 0, 0);
  RegionPipeline pipeline(setup, journal, 0, 0, {model::Device{}}), single(one, journal, 0, 0, {model::Device{}});
  const std::uint64_t region = 1;
  double seconds_ism = 0, seconds_mr = 0;
  const auto result = pipeline.result_of(region, seconds_ism, seconds_mr);
  const auto primary = single.result_of(region, seconds_ism, seconds_mr);
  std::size_t checked = 0, primary_units = 0;
  const std::size_t estimate = store::fit_column_index("estimate"), se = store::fit_column_index("se");
  for (const auto& unit : result.units) {
    const int x = setup.exposure_outputs[unit.exposure], y = setup.outcome_outputs[unit.outcome];
    auto network = model::make_network(setup.model.stack, {x, y}, model::Device{}, model::Backend::kernels);
    ism::IsmOptions options = region_options(setup, region);
    options.correlations = true;
    const auto effects = ism::make_engine("full", *network)->run(window_of(setup, region), options);
    stats::Instruments in;
    for (std::size_t m = 0; m < effects.mutants.size(); ++m)
      in.push_back(effects.beta[2 * m], effects.se[2 * m], effects.beta[2 * m + 1], effects.se[2 * m + 1],
                   effects.correlation[2 * m + 1]);
    stats::MrOptions mr = setup.config.mr;
    mr.seed = stats::unit_seed(setup.config.seed, unit.exposure | std::uint64_t{unit.outcome} << 32, region);
    const auto fits = stats::fit_all(setup.config.methods, in, mr);
    for (std::size_t f = 0; f < fits.size(); ++f) {
      if (fits[f].method != stats::MrMethod::ivw) continue;
      // psi from the pair's own engine (anchored on the exposure) against the pipeline's (anchored
      // on the outcome): the same correlation, rounded in another order.
      EXPECT_NEAR(unit.fits[f].values[estimate], *fits[f].estimate, 1e-9 * std::fabs(*fits[f].estimate));
      EXPECT_NEAR(unit.fits[f].values[se], *fits[f].se, 1e-9 * *fits[f].se);
      ++checked;
    }
    if (unit.outcome != 0) continue;
    const auto& same = primary.units.at(primary_units++);
    for (std::size_t f = 0; f < same.fits.size(); ++f)
      for (std::size_t c = 0; c < same.fits[f].values.size(); ++c)
        EXPECT_TRUE(same_bits(unit.fits[f].values[c], same.fits[f].values[c])) << stats::mr_columns()[c].name;
  }
  EXPECT_EQ(checked, result.units.size());
  EXPECT_EQ(primary_units, primary.units.size());
  fs::remove_all(dir);
}

// Fitted on its own thread while the next region computes (run.overlap-mr) or not, the records
// reach the journal in region order, with the bits of the synchronous computation; fits still
// running are journaled by finish_pending().
TEST(RegionPipeline, IsDeterministicAndJournalsWhatItComputes) {
  for (bool overlap : {true, false}) {
    const auto dir = temp_dir(overlap ? "journal-overlap" : "journal");
    RunSetup setup = tiny_setup(dir + "/s.h5", false);
    setup.config.overlap_mr = overlap;
    store::RegionResult first;
    {
      store::JournalWriter journal(dir, 0, 0);
      RegionPipeline pipeline(setup, journal, 0, 0, {model::Device{}, model::Device{}});  // two sample groups
      double a = 0, b = 0;
      first = pipeline.result_of(1, a, b);
      pipeline.compute(1);
      pipeline.compute(2);
      pipeline.finish_pending();
      pipeline.make_durable();
    }
    std::vector<store::RegionResult> journaled;
    store::read_journal(dir, [&](store::RegionResult&& r) { journaled.push_back(std::move(r)); });
    ASSERT_EQ(journaled.size(), 2u) << "overlap " << overlap;
    EXPECT_EQ(journaled[0].region, 1u);
    EXPECT_EQ(journaled[1].region, 2u);
    ASSERT_EQ(journaled[0].units.size(), first.units.size());
    for (std::size_t u = 0; u < first.units.size(); ++u)
      for (std::size_t f = 0; f < first.units[u].fits.size(); ++f)
        for (std::size_t c = 0; c < first.units[u].fits[f].values.size(); ++c)
          EXPECT_TRUE(same_bits(journaled[0].units[u].fits[f].values[c], first.units[u].fits[f].values[c]));
    EXPECT_TRUE(journaled[0].beta.empty());  // run.store-effects off
    fs::remove_all(dir);
  }
}

// A journal record for every unit of a region, with hand-made fits.
store::RegionResult record(const RunSetup& setup, std::uint64_t region, double estimate, double se,
                           bool estimable = true) {
  store::RegionResult r;
  r.region = region;
  for (std::uint64_t u = setup.plan.first_unit(region); u < setup.plan.first_unit(region + 1); ++u) {
    store::UnitResult unit;
    unit.unit = u;
    unit.exposure = setup.plan.unit_exposure(u);
    for (std::size_t m = 0; m < setup.config.methods.size(); ++m) {
      stats::MrResult fit;
      fit.estimable = estimable;
      if (estimable) {
        fit.estimate = estimate + 0.01 * static_cast<double>(u) + 0.1 * static_cast<double>(m);
        fit.se = se;
      } else {
        fit.reason = "made up";
      }
      fit.n_used = 7;
      unit.fits.push_back({estimable ? store::FitStatus::ok : store::FitStatus::not_estimable, fit.reason,
                           stats::column_values(fit)});
    }
    r.units.push_back(std::move(unit));
  }
  return r;
}

TEST(StoreAssembly, WritesEveryJournalledUnitAndTheMetaAnalysisOfTheEstimableOnes) {
  const auto dir = temp_dir("assembly");
  const std::string store_path = dir + "/s.h5";
  RunSetup setup = tiny_setup(store_path, false);
  const auto world = dist::Communicator::world();
  const auto plan = store::start_journal(store_path, setup.manifest(), setup.plan.region_count(), store::JournalStart::fresh);
  ASSERT_EQ(plan.todo.size(), setup.plan.region_count());
  const std::string journal_dir = store::journal_directory(store_path);

  // Every region but the last; region 0 twice (a duplicate is kept once); exposure of region 1's
  // units not estimable.
  const std::uint64_t regions = setup.plan.region_count();
  {
    store::JournalWriter journal(journal_dir, 0, 0);
    for (std::uint64_t r = 0; r + 1 < regions; ++r) journal.append(record(setup, r, 0.5 + 0.1 * r, 0.2, r != 1));
    journal.append(record(setup, 0, 0.5, 0.2));
  }
  const auto outcome = assemble_store(world, setup, {{"started", "t0"}, {"finished", "t1"}}, {{"attempts", 1}, {"ranks", 1}});
  const std::uint64_t units_last = setup.plan.first_unit(regions) - setup.plan.first_unit(regions - 1);
  EXPECT_EQ(outcome.units_done, setup.plan.unit_count() - units_last);
  EXPECT_EQ(outcome.duplicate_records, 1u);

  const auto s = store::read_store(store_path);
  EXPECT_EQ(s.int_attributes.at("complete"), 0);
  EXPECT_EQ(s.int_attributes.at("units_done"), static_cast<std::int64_t>(outcome.units_done));
  EXPECT_EQ(s.text_attributes.at("finished"), "t1");
  ASSERT_EQ(s.methods.size(), setup.config.methods.size());
  const std::size_t estimate = store::fit_column_index("estimate");
  std::vector<std::vector<std::vector<double>>> estimates(s.methods.size(), std::vector<std::vector<double>>(s.exposures.size()));
  auto ses = estimates;
  for (std::uint64_t u = 0; u < setup.plan.unit_count(); ++u) {
    const std::uint64_t region = static_cast<std::uint64_t>(s.unit_region[u]);
    const auto status = static_cast<store::FitStatus>(s.unit_status[u]);
    EXPECT_EQ(status, region + 1 < regions ? store::FitStatus::ok : store::FitStatus::pending) << "unit " << u;
    for (std::size_t m = 0; m < s.methods.size(); ++m) {
      const auto fit = static_cast<store::FitStatus>(s.fit_status[m][u]);
      if (region + 1 == regions) {
        EXPECT_EQ(fit, store::FitStatus::pending);
        EXPECT_TRUE(std::isnan(s.fits[m][estimate][u]));
        continue;
      }
      if (region == 1) {
        EXPECT_EQ(fit, store::FitStatus::not_estimable);
        continue;
      }
      const double expected = 0.5 + 0.1 * region + 0.01 * u + 0.1 * m;
      EXPECT_EQ(fit, store::FitStatus::ok);
      EXPECT_TRUE(same_bits(s.fits[m][estimate][u], expected));
      EXPECT_EQ(s.fits[m][store::fit_column_index("n_used")][u], 7.0);
      estimates[m][s.unit_exposure[u]].push_back(expected);
      ses[m][s.unit_exposure[u]].push_back(0.2);
    }
  }
  // The meta-analysis per method and exposure, column by column, as the stats layer computes it.
  for (std::size_t m = 0; m < s.methods.size(); ++m)
    for (std::size_t e = 0; e < s.exposures.size(); ++e) {
      const auto status = static_cast<store::FitStatus>(s.meta_status[m][e]);
      if (estimates[m][e].empty()) {
        EXPECT_EQ(status, store::FitStatus::not_estimable);
        const auto k = std::find(store::meta_columns().begin(), store::meta_columns().end(), "k");
        EXPECT_EQ(s.meta[m][static_cast<std::size_t>(k - store::meta_columns().begin())][e], 0.0);
        continue;
      }
      const auto expected = stats::column_values(stats::meta_analysis(estimates[m][e], ses[m][e], setup.config.meta));
      EXPECT_EQ(status, store::FitStatus::ok);
      for (std::size_t c = 0; c < expected.size(); ++c)
        EXPECT_TRUE(same_bits(s.meta[m][c][e], expected[c]) || (std::isnan(expected[c]) && std::isnan(s.meta[m][c][e])))
            << store::meta_columns()[c] << " of " << s.exposures[e];
    }
  fs::remove_all(dir);
}

TEST(StoreAssembly, ResumePolicyFindsWhatTheJournalLacks) {
  const auto dir = temp_dir("resume");
  const std::string store_path = dir + "/s.h5";
  RunSetup setup = tiny_setup(store_path, false);
  EXPECT_THROW(store::start_journal(store_path, setup.manifest(), 5, store::JournalStart::resume), UsageError);
  store::start_journal(store_path, setup.manifest(), setup.plan.region_count(), store::JournalStart::fresh);
  EXPECT_THROW(store::start_journal(store_path, setup.manifest(), 5, store::JournalStart::fresh), StoreError);
  const std::uint64_t run_id = setup.manifest().run_id();
  {
    store::JournalWriter journal(store::journal_directory(store_path), 0, 0);
    auto result = record(setup, 2, 0.5, 0.2);
    result.run = run_id;
    journal.append(result);
  }
  const auto resumed = store::start_journal(store_path, setup.manifest(), setup.plan.region_count(), store::JournalStart::auto_resume);
  EXPECT_EQ(resumed.attempt, 1u);
  EXPECT_EQ(resumed.todo.size(), setup.plan.region_count() - 1);
  EXPECT_EQ(std::count(resumed.todo.begin(), resumed.todo.end(), 2u), 0);
  RunSetup other = setup;
  other.config.mc_samples = 5;
  other.provenance.result_keys["analysis.mc-samples"] = "5";
  EXPECT_THROW(store::start_journal(store_path, other.manifest(), 5, store::JournalStart::resume), UsageError);

  // A part copied in from another run (its records carry another run id) is refused by name.
  {
    store::JournalWriter journal(store::journal_directory(store_path), 7, 3);
    auto foreign = record(setup, 3, 0.5, 0.2);
    foreign.run = run_id + 1;
    journal.append(foreign);
  }
  const auto foreign_part = test::error_message<StoreError>([&] {
    store::start_journal(store_path, setup.manifest(), setup.plan.region_count(), store::JournalStart::resume);
  });
  EXPECT_NE(foreign_part.find("part-7-3.jrn: holds records of another run"), std::string::npos) << foreign_part;
  fs::remove_all(dir);
}

TEST(StoreAssembly, ResumeRefusesAChangedInputNamingIt) {
  const auto dir = temp_dir("content");
  const std::string store_path = dir + "/s.h5";
  RunSetup setup = tiny_setup(store_path, false);
  store::start_journal(store_path, setup.manifest(), setup.plan.region_count(), store::JournalStart::fresh);
  RunSetup changed = setup;
  changed.model_sha256 = std::string(64, '0');  // same model path, other bytes
  const auto message = test::error_message<UsageError>([&] {
    store::start_journal(store_path, changed.manifest(), setup.plan.region_count(), store::JournalStart::resume);
  });
  EXPECT_NE(message.find("the contents of model.file changed"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(StoreAssembly, JournalRecordsWithoutAManifestGetOneAdviceForEveryStart) {
  const auto dir = temp_dir("orphan");
  const std::string store_path = dir + "/s.h5";
  RunSetup setup = tiny_setup(store_path, false);
  fs::create_directory(store::journal_directory(store_path));
  { store::JournalWriter(store::journal_directory(store_path), 0, 1).append(record(setup, 2, 0.5, 0.2)); }
  for (auto start : {store::JournalStart::fresh, store::JournalStart::resume, store::JournalStart::auto_resume}) {
    const auto message = test::error_message<Error>(
        [&] { store::start_journal(store_path, setup.manifest(), setup.plan.region_count(), start); });
    EXPECT_NE(message.find("holds journal records but no manifest"), std::string::npos) << message;
    EXPECT_EQ(message.find("--resume"), std::string::npos) << "circular advice: " << message;
  }
  fs::remove_all(dir);
}

TEST(StoreWriter, RefusesAnAttributeTheSchemaDoesNotList) {
  const auto dir = temp_dir("writer");
  RunSetup setup = tiny_setup(dir + "/s.h5", false);
  auto layout = setup.store_layout();
  // The writer's steps agree on failure: every rank gets the same AgreedFailure, an internal error.
  auto internal_error = [&] {
    try {
      store::RunStoreWriter(dir + "/s.h5", dist::Communicator::world(), layout);
    } catch (const dist::AgreedFailure& e) {
      return e.failure.code == ExitCode::internal;
    }
    return false;
  };
  layout.text_attributes["store_state"] = "done";
  EXPECT_TRUE(internal_error());
  layout = setup.store_layout();
  layout.int_attributes["model_sha256"] = 1;  // listed as text
  EXPECT_TRUE(internal_error());
  EXPECT_FALSE(fs::exists(dir + "/s.h5.assembling")) << "a store that failed is removed";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace deepmr::run
