// Plans: deterministic in the seed, independent of the order of exposures, deduplicated, with
// canonical ids; every bad input refused with its file and line.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "deepmr/genome/plan.hpp"
#include "deepmr/genome/plan_builder.hpp"
#include "genome_test_support.hpp"

namespace deepmr::genome {
namespace {

using namespace testing;

constexpr std::uint64_t kLength = 1000;
constexpr std::uint64_t kChr22 = 300000;  // the shipped sequence

struct Peak {
  std::string chrom;
  std::uint64_t start, end;
  std::int64_t summit;  // -1: none
};

std::string narrow_peak(const std::vector<Peak>& peaks) {
  std::string out = "track type=narrowPeak\n";
  for (const auto& p : peaks)
    out += p.chrom + "\t" + std::to_string(p.start) + "\t" + std::to_string(p.end) + "\t.\t0\t.\t1\t-1\t1\t" +
           std::to_string(p.summit) + "\n";
  return out;
}

// Peaks whose windows all fit in the shipped chr22 sequence.
std::vector<Peak> random_peaks(int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Peak> peaks;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t start = kLength + rng() % (kChr22 - 3 * kLength), width = 100 + rng() % 300;
    peaks.push_back({"chr22", start, start + width, static_cast<std::int64_t>(rng() % width)});
  }
  return peaks;
}

std::string bed_of(const Plan& plan) {
  std::ostringstream out;
  write_regions_bed(plan, out);
  return out.str();
}
std::string units_of(const Plan& plan) {
  std::ostringstream out;
  write_units_tsv(plan, out);
  return out.str();
}

class PlanTest : public ::testing::Test {
 protected:
  PlanTest() : fasta_(genome_fasta(), {false}) {}

  std::string write(const std::string& name, const std::string& text) {
    test::write_text(dir_.file(name), text);
    return dir_.file(name);
  }
  PlanSpec spec(std::vector<ExposureInput> exposures, std::uint64_t k = 10, std::uint64_t seed = 1) {
    PlanSpec s;
    s.exposures = std::move(exposures);
    s.fasta = genome_fasta();
    s.window_length = kLength;
    s.per_exposure = k;
    s.seed = seed;
    return s;
  }
  // Three exposures with 200 random peaks each; B repeats 50 of A's peaks.
  std::vector<ExposureInput> three() {
    auto a = random_peaks(200, 1), b = random_peaks(150, 2), c = random_peaks(200, 3);
    b.insert(b.end(), a.begin(), a.begin() + 50);
    return {{"ATF3", write("a.narrowPeak", narrow_peak(a))},
            {"SRF", write("b.narrowPeak", narrow_peak(b))},
            {"CTCF", write("c.narrowPeak", narrow_peak(c))}};
  }

  test::TempDir dir_{"plan"};
  FastaReader fasta_;
};

TEST_F(PlanTest, SameSeedSamePlanAnotherSeedAnother) {
  const auto exposures = three();
  const Plan a = build_peak_plan(spec(exposures, 10, 42), fasta_);
  const Plan b = build_peak_plan(spec(exposures, 10, 42), fasta_);
  const Plan c = build_peak_plan(spec(exposures, 10, 43), fasta_);
  EXPECT_EQ(bed_of(a), bed_of(b));
  EXPECT_EQ(units_of(a), units_of(b));
  EXPECT_NE(bed_of(a), bed_of(c));
  EXPECT_EQ(a.unit_count(), 30u);
  EXPECT_EQ(c.unit_count(), 30u);
}

TEST_F(PlanTest, OrderOfExposuresDoesNotMatter) {
  auto exposures = three();
  const Plan forward = build_peak_plan(spec(exposures, 7, 5), fasta_);
  std::reverse(exposures.begin(), exposures.end());
  const Plan reversed = build_peak_plan(spec(exposures, 7, 5), fasta_);
  std::rotate(exposures.begin(), exposures.begin() + 1, exposures.end());
  const Plan rotated = build_peak_plan(spec(exposures, 7, 5), fasta_);
  EXPECT_EQ(bed_of(forward), bed_of(reversed));
  EXPECT_EQ(units_of(forward), units_of(reversed));
  EXPECT_EQ(units_of(forward), units_of(rotated));
  EXPECT_EQ(forward.exposures(), (std::vector<std::string>{"ATF3", "CTCF", "SRF"}));
}

TEST_F(PlanTest, AnExposureSampleDependsOnItsOwnNameAndSeedOnly) {
  const auto exposures = three();
  const Plan all = build_peak_plan(spec(exposures, 10, 9), fasta_);
  const Plan alone = build_peak_plan(spec({exposures[0]}, 10, 9), fasta_);
  std::set<std::string> in_all, in_alone;
  for (std::uint64_t u = 0; u < all.unit_count(); ++u) {
    const Unit unit = all.unit(u);
    if (all.exposures()[unit.exposure] == "ATF3") in_all.insert(std::to_string(all.region(unit.region).start));
  }
  for (const Region& r : alone.regions()) in_alone.insert(std::to_string(r.start));
  EXPECT_EQ(in_all, in_alone);
}

TEST_F(PlanTest, IdenticalWindowsOfSeveralExposuresBecomeOneRegion) {
  const auto peaks = random_peaks(40, 11);
  const std::string path = write("same.narrowPeak", narrow_peak(peaks));
  const Plan plan = build_peak_plan(spec({{"B", path}, {"A", path}}, 0), fasta_);
  EXPECT_EQ(plan.region_count(), 40u);
  EXPECT_EQ(plan.unit_count(), 80u);
  for (const Region& r : plan.regions()) {
    ASSERT_EQ(plan.first_unit(r.id + 1) - plan.first_unit(r.id), 2u);
    EXPECT_EQ(plan.unit(plan.first_unit(r.id)).exposure, 0u);  // A
    EXPECT_EQ(plan.unit(plan.first_unit(r.id) + 1).exposure, 1u);  // B
  }
  for (const auto& s : plan.summary()) {
    EXPECT_EQ(s.units, 40u);
    EXPECT_EQ(s.shared, 40u);
  }
  EXPECT_HAS(bed_of(plan), "\tA,B\t.\t");
}

// The peak of each region: its name (column 4) and summit (start + column 10) beside the
// coordinates; a window of several peaks names them all, in exposure order.
TEST_F(PlanTest, RegionsCarryTheNameAndSummitOfTheirPeaks) {
  const std::string a = write("a.narrowPeak",
                              "chr22\t5000\t5400\tpeakA1\t0\t.\t1\t-1\t1\t100\n"
                              "chr22\t9000\t9300\t.\t0\t.\t1\t-1\t1\t-1\n");
  const std::string b = write("b.narrowPeak", "chr22\t5050\t5250\tpeakB1\t0\t.\t1\t-1\t1\t50\n");
  const Plan plan = build_peak_plan(spec({{"B", b}, {"A", a}}, 0), fasta_);
  ASSERT_EQ(plan.region_count(), 2u);
  EXPECT_EQ(plan.region(0).start, 5100u - kLength / 2);  // both summits at 5100: one window
  EXPECT_EQ(plan.label(0).name, "peakA1,peakB1");
  EXPECT_EQ(plan.label(0).summit, 5100);
  EXPECT_EQ(plan.label(1).name, "");  // "." is no name
  EXPECT_EQ(plan.label(1).summit, PeakLabel::kNoSummit);
  EXPECT_HAS(bed_of(plan), "\t0\tA,B\tpeakA1,peakB1\t5100\n");
  EXPECT_HAS(bed_of(plan), "\t1\tA\t.\t-1\n");
  EXPECT_HAS(units_of(plan), "0\tA\t0\tchr22\t4600\t5600\tpeakA1,peakB1\t5100\n1\tB\t0\tchr22\t4600\t5600\tpeakA1,peakB1\t5100\n");
  EXPECT_HAS(units_of(plan), "2\tA\t1\tchr22\t8650\t9650\t\t\n");
}

TEST_F(PlanTest, SweepRegionsCarryTheBedName) {
  const std::string bed = write("sweep.bed", "chr22\t2000\t3000\ttileB\nchr22\t1000\t2000\ttileA\nchr22\t1000\t2000\ttileA2\n");
  auto s = spec({{"E", ""}}, 0);
  s.source = RegionSource::sweep;
  s.sweep = bed;
  const Plan plan = build_sweep_plan(s, fasta_);
  ASSERT_EQ(plan.region_count(), 2u);
  EXPECT_EQ(plan.label(0).name, "tileA,tileA2");  // a duplicate window names both lines, in file order
  EXPECT_EQ(plan.label(1).name, "tileB");
  EXPECT_EQ(plan.label(1).summit, PeakLabel::kNoSummit);
}

TEST(PeakLabel, MergeKeepsDistinctNamesInOrderAndTheFirstSummit) {
  PeakLabel label = peak_label("x", PeakLabel::kNoSummit);
  merge_label(label, peak_label("y", 7));
  merge_label(label, peak_label("x", 9));
  merge_label(label, peak_label(".", 11));
  EXPECT_EQ(label.name, "x,y");
  EXPECT_EQ(label.summit, 7);
  PeakLabel none = peak_label(".", PeakLabel::kNoSummit);
  EXPECT_FALSE(none.known());
}

TEST_F(PlanTest, IdsAreCanonical) {
  const Plan plan = build_peak_plan(spec(three(), 20, 3), fasta_);
  ASSERT_GT(plan.region_count(), 20u);
  std::set<std::pair<std::uint64_t, std::uint32_t>> seen;
  for (std::uint64_t r = 0; r < plan.region_count(); ++r) {
    EXPECT_EQ(plan.region(r).id, r);
    EXPECT_TRUE(plan.region(r).is_window());
    EXPECT_EQ(plan.region(r).end - plan.region(r).start, kLength);
    if (r > 0) {
      EXPECT_TRUE(region_less(plan.region(r - 1), plan.region(r)));
    }
  }
  for (std::uint64_t u = 0; u < plan.unit_count(); ++u) {
    const Unit unit = plan.unit(u);
    EXPECT_EQ(unit.id, u);
    EXPECT_GE(u, plan.first_unit(unit.region));
    EXPECT_LT(u, plan.first_unit(unit.region + 1));
    if (u > 0) {
      const Unit before = plan.unit(u - 1);
      EXPECT_TRUE(before.region < unit.region || (before.region == unit.region && before.exposure < unit.exposure));
    }
    EXPECT_TRUE(seen.insert({unit.region, unit.exposure}).second);
  }
  EXPECT_EQ(plan.unit_count(), 60u);
  // A region with k > 1 units counts as shared for each of its k exposures.
  std::uint64_t shared_units = 0, shared_in_summary = 0;
  for (std::uint64_t r = 0; r < plan.region_count(); ++r) {
    const std::uint64_t k = plan.first_unit(r + 1) - plan.first_unit(r);
    ASSERT_GE(k, 1u);
    if (k > 1) shared_units += k;
  }
  for (const auto& s : plan.summary()) shared_in_summary += s.shared;
  EXPECT_EQ(shared_units, shared_in_summary);
}

TEST_F(PlanTest, WindowsAreCentredOnSummitsOrMiddles) {
  const std::string path = write("one.narrowPeak", narrow_peak({{"chr22", 10000, 10300, 37}, {"chr22", 20000, 20301, -1}}));
  const Plan plan = build_peak_plan(spec({{"X", path}}, 0), fasta_);
  ASSERT_EQ(plan.region_count(), 2u);
  EXPECT_EQ(plan.region(0).start, 10037u - 500);
  EXPECT_EQ(plan.region(0).end, 10037u + 500);
  EXPECT_EQ(plan.region(1).start, 20150u - 500);
  const std::string bed = write("one.bed", "chr22\t5000\t5003\n");
  const Plan odd = build_peak_plan(spec({{"X", bed}}, 0), fasta_);
  EXPECT_EQ(odd.region(0).start, 5001u - 500);  // middle base 5001 at index L/2
}

TEST_F(PlanTest, SummaryCountsWhatWasLeftOutAndWhy) {
  std::vector<Peak> peaks = random_peaks(30, 21);
  peaks.push_back({"chr22", 100, 200, 50});                       // past the start
  peaks.push_back({"chr22", kChr22 - 300, kChr22 - 100, 100});    // past the end
  peaks.push_back({"chr22", kChr22 - 600, kChr22 - 400, 100});    // fits exactly: [299000, 300000)
  peaks.push_back(peaks[0]);                                      // duplicate line
  peaks.push_back({"chr22", peaks[1].start - 5, peaks[1].end, peaks[1].summit + 5});  // same centre
  const Plan plan = build_peak_plan(spec({{"X", write("x.narrowPeak", narrow_peak(peaks))}}, 0), fasta_);
  const auto& s = plan.summary().at(0);
  EXPECT_EQ(s.records, 35u);
  EXPECT_EQ(s.past_end, 2u);
  EXPECT_EQ(s.duplicate, 2u);
  EXPECT_EQ(s.candidates, 31u);
  EXPECT_EQ(s.examined, 31u);
  EXPECT_EQ(s.with_n, 0u);
  EXPECT_EQ(s.units, 31u);
  EXPECT_EQ(plan.region(plan.region_count() - 1).end, kChr22);
}

TEST_F(PlanTest, KLargerThanAvailableIsAnErrorUnlessAllowed) {
  const std::string path = write("few.narrowPeak", narrow_peak(random_peaks(6, 4)));
  const auto message = input_error([&] { build_peak_plan(spec({{"FEW", path}}, 25), fasta_); });
  EXPECT_HAS(message, path + ": exposure 'FEW': 25 regions wanted (regions.per-exposure) but only 6 usable");
  EXPECT_HAS(message, "set regions.allow-fewer = true to take the 6");
  auto allowed = spec({{"FEW", path}}, 25);
  allowed.allow_fewer = true;
  EXPECT_EQ(build_peak_plan(allowed, fasta_).unit_count(), 6u);
}

TEST_F(PlanTest, ChromosomesAbsentFromTheFastaAndTheFilter) {
  std::vector<Peak> peaks = random_peaks(5, 8);
  peaks.push_back({"chr1", 5000, 5200, 10});
  const std::string path = write("chr1.narrowPeak", narrow_peak(peaks));
  EXPECT_HAS(input_error([&] { build_peak_plan(spec({{"X", path}}, 0), fasta_); }),
             path + ":7: chromosome 'chr1' is not in the FASTA " + genome_fasta() + " (it has chr22 (1 sequence))");
  auto filtered = spec({{"X", path}}, 0);
  filtered.chromosomes = {"chr22"};
  const Plan plan = build_peak_plan(filtered, fasta_);
  EXPECT_EQ(plan.summary()[0].other_chromosome, 1u);
  EXPECT_EQ(plan.unit_count(), 5u);
  filtered.chromosomes = {"chr8", "chr9"};
  EXPECT_HAS(input_error([&] { build_peak_plan(filtered, fasta_); }),
             "the chromosome filter names 'chr8', which this FASTA lacks (it has chr22 (1 sequence))");
}

TEST_F(PlanTest, OutOfBoundsPolicyError) {
  auto s = spec({{"X", write("edge.narrowPeak", narrow_peak({{"chr22", 5000, 5100, 1}, {"chr22", 100, 200, 50}}))}}, 0);
  s.out_of_bounds = BoundsPolicy::error;
  EXPECT_HAS(input_error([&] { build_peak_plan(s, fasta_); }),
             "edge.narrowPeak:3: the 1000-base window chr22:-350-650 around this peak extends past the start of chr22");
}

TEST_F(PlanTest, EmptyPeakFileAndMissingPeakFile) {
  EXPECT_HAS(input_error([&] { build_peak_plan(spec({{"X", write("e.narrowPeak", "track x\n")}}), fasta_); }),
             "e.narrowPeak: holds no peaks");
  EXPECT_HAS(input_error([&] { build_peak_plan(spec({{"X", dir_.file("none.bed")}}), fasta_); }),
             dir_.file("none.bed") + ": cannot read the file");
}

TEST_F(PlanTest, BadSpecsAreUsageErrors) {
  EXPECT_HAS(usage_error([&] { build_peak_plan(spec({}), fasta_); }), "no exposures");
  const std::string p = write("p.bed", "chr22\t5000\t5100\n");
  EXPECT_HAS(usage_error([&] { build_peak_plan(spec({{"X", p}, {"X", p}}), fasta_); }), "exposure 'X' is listed twice");
}

TEST_F(PlanTest, RealEncodePeaksAgainstTheShippedSequence) {
  // hg19 peaks, and 300 kb of chr22: every chr22 peak lies past the end of the shipped sequence.
  auto s = spec({{"ATF3", atf3_peaks()}}, 25);
  EXPECT_HAS(input_error([&] { build_peak_plan(s, fasta_); }),
             atf3_peaks() + ":1: chromosome 'chr6' is not in the FASTA");
  s.chromosomes = {"chr22"};
  EXPECT_HAS(input_error([&] { build_peak_plan(s, fasta_); }),
             "only 0 usable (3295 peaks: 3211 on other chromosomes, 84 past a sequence end, 0 duplicates, 0 with N)");
  s.allow_fewer = true;
  const Plan plan = build_peak_plan(s, fasta_);
  EXPECT_EQ(plan.unit_count(), 0u);
  EXPECT_EQ(plan.summary()[0].past_end, 84u);
}

// A FASTA with N runs at 200-209 of every 500 bases of chrD (genome_test_support's random_bases).
class PlanWithN : public PlanTest {
 protected:
  void SetUp() override {
    test::write_text(dir_.file("n.fa"), fasta_text({{"chrD", random_bases(20000, 4, true), 60}}, "\n"));
    n_fasta_ = std::make_unique<FastaReader>(dir_.file("n.fa"), FastaOptions{false});
  }
  std::unique_ptr<FastaReader> n_fasta_;
};

TEST_F(PlanWithN, WindowsWithNAreSkippedAndCountedOrEncodedAsQuarter) {
  // 100-base windows centred every 100 bases: those touching [k*500+200, k*500+210) hold N.
  std::string bed;
  for (std::uint64_t c = 50; c + 50 <= 20000; c += 100) bed += "chrD\t" + std::to_string(c) + "\t" + std::to_string(c + 1) + "\n";
  auto s = spec({{"X", write("tiles.bed", bed)}}, 0);
  s.window_length = 100;
  const Plan skip = build_peak_plan(s, *n_fasta_);
  EXPECT_EQ(skip.summary()[0].candidates, 200u);
  EXPECT_EQ(skip.summary()[0].with_n, 40u);  // [200, 300) of every 500 bases
  EXPECT_EQ(skip.unit_count(), 160u);
  s.n_policy = NPolicy::quarter;
  EXPECT_EQ(build_peak_plan(s, *n_fasta_).unit_count(), 200u);
}

TEST_F(PlanWithN, SweepMakesEveryUsableWindowAUnitOfEveryExposure) {
  std::string bed;
  for (std::uint64_t s = 0; s + 100 <= 20000; s += 100) bed += "chrD\t" + std::to_string(s) + "\t" + std::to_string(s + 100) + "\n";
  bed += "chrD\t0\t100\n";  // a duplicate
  auto s = spec({{"B", ""}, {"A", ""}, {"C", ""}}, 0);
  s.source = RegionSource::sweep;
  s.sweep = write("sweep.bed", bed);
  s.window_length = 100;
  const Plan plan = build_sweep_plan(s, *n_fasta_);
  EXPECT_EQ(plan.region_count(), 160u);
  EXPECT_EQ(plan.unit_count(), 480u);
  EXPECT_EQ(plan.summary()[0].duplicate, 1u);
  EXPECT_EQ(plan.summary()[0].with_n, 40u);
  for (std::uint64_t u = 0; u < plan.unit_count(); ++u) {
    EXPECT_EQ(plan.unit(u).region, u / 3);
    EXPECT_EQ(plan.unit(u).exposure, u % 3);
  }
  EXPECT_EQ(plan.exposures(), (std::vector<std::string>{"A", "B", "C"}));
  const std::string units = units_of(plan);
  EXPECT_EQ(test::line_count(units), 481);
  EXPECT_HAS(units, "unit\texposure\tregion\tchrom\tstart\tend\tname\tsummit\n0\tA\t0\tchrD\t0\t100\t\t\n"
                    "1\tB\t0\tchrD\t0\t100\t\t\n2\tC\t0\tchrD\t0\t100\t\t\n3\tA\t1\t");
  EXPECT_HAS(bed_of(plan), "#chrom\tstart\tend\tregion\texposures\tname\tsummit\nchrD\t0\t100\t0\tA,B,C\t.\t-1\n");
}

TEST_F(PlanWithN, LargeSweepsAreCheckedOnThreadsWithTheSameResult) {
  // 19,901 windows of 100 bases, one per start: enough for several threads (chunks of >= 4096).
  const std::string bases = upper(random_bases(20000, 4, true));
  std::string bed;
  std::uint64_t expected_n = 0;
  for (std::uint64_t s = 0; s + 100 <= 20000; ++s) {
    bed += "chrD\t" + std::to_string(s) + "\t" + std::to_string(s + 100) + "\n";
    expected_n += bases.substr(s, 100).find('N') != std::string::npos;
  }
  auto s = spec({{"A", ""}}, 0);
  s.source = RegionSource::sweep;
  s.sweep = write("all.bed", bed);
  s.window_length = 100;
  const Plan plan = build_sweep_plan(s, *n_fasta_);
  EXPECT_EQ(plan.summary()[0].with_n, expected_n);
  EXPECT_EQ(plan.region_count(), 19901u - expected_n);
  for (const Region& r : plan.regions()) ASSERT_EQ(bases.substr(r.start, 100).find('N'), std::string::npos);

  // Two bad bytes far apart (samtools indexes them; deepmr refuses their windows): the error is
  // the first window's, whichever thread meets its byte first.
  std::string with_r = bases;
  with_r[5000] = 'R';
  with_r[15000] = 'R';
  test::write_text(dir_.file("r.fa"), fasta_text({{"chrD", with_r, 60}}, "\n"));
  ASSERT_EQ(test::run("samtools faidx " + test::quote(dir_.file("r.fa"))).status, 0);
  const FastaReader r_fasta(dir_.file("r.fa"));
  for (int repeat = 0; repeat < 3; ++repeat)
    EXPECT_HAS(input_error([&] { build_sweep_plan(s, r_fasta); }), "'R' at chrD:5001 is not A, C, G, T or N");
}

TEST(RowPlan, BoundRowsSampledPerExposureDeterministicallyAndOrderFree) {
  // 1000 rows; exposure e is bound on rows with row % (e + 2) == 0; rows % 7 == 3 hold N.
  const std::vector<std::string> names = {"E0", "E1", "E2"};
  auto make = [&](const std::vector<std::size_t>& order, std::uint64_t seed) {
    PlanSpec s;
    s.source = RegionSource::sequences;
    s.window_length = 1000;
    s.per_exposure = 30;
    s.seed = seed;
    RowCandidates rows;
    rows.input = "test.h5";
    rows.rows = 1000;
    for (std::size_t e : order) s.exposures.push_back({names[e], "", static_cast<std::int64_t>(e)});
    for (std::uint64_t r = 0; r < 1000; ++r)
      for (std::size_t e : order) rows.bound.push_back(r % (e + 2) == 0);
    rows.has_n = [](std::uint64_t r) { return r % 7 == 3; };
    return build_row_plan(s, rows);
  };
  const Plan a = make({0, 1, 2}, 1), b = make({2, 0, 1}, 1), c = make({0, 1, 2}, 2);
  EXPECT_EQ(bed_of(a), bed_of(b));
  EXPECT_EQ(units_of(a), units_of(b));
  EXPECT_NE(units_of(a), units_of(c));
  EXPECT_EQ(a.unit_count(), 90u);
  for (std::uint64_t u = 0; u < a.unit_count(); ++u) {
    const Unit unit = a.unit(u);
    const Region& r = a.region(unit.region);
    EXPECT_TRUE(r.is_row());
    EXPECT_EQ(r.row % (unit.exposure + 2), 0u);
    EXPECT_NE(r.row % 7, 3u);
  }
  EXPECT_HAS(bed_of(a), "\nrow\t");
  EXPECT_EQ(a.summary()[0].records, 500u);
}

TEST(RowPlan, TooFewBoundRows) {
  PlanSpec s;
  s.source = RegionSource::sequences;
  s.window_length = 10;
  s.per_exposure = 5;
  s.exposures = {{"E", "", 0}};
  RowCandidates rows{"few.h5", 10, {1, 0, 0, 0, 1, 0, 0, 0, 0, 0}, [](std::uint64_t) { return false; }};
  EXPECT_HAS(input_error([&] { build_row_plan(s, rows); }), "few.h5: exposure 'E': 5 regions wanted");
  s.allow_fewer = true;
  EXPECT_EQ(build_row_plan(s, rows).unit_count(), 2u);
}

TEST(PlanMemory, ProportionalToThePlan) {
  std::vector<Region> regions;
  for (std::uint64_t i = 0; i < 200000; ++i) regions.push_back(Region::of_window({0, i, i + 1000}));
  const Plan plan = Plan::all_pairs(RegionSource::sweep, 1000, {"chr1"}, {"A", "B", "C", "D"}, std::move(regions), {});
  const std::size_t per_region = sizeof(Region) + sizeof(std::uint64_t) + 4 * sizeof(std::uint32_t);
  EXPECT_LE(plan.memory_bytes(), 200000 * per_region + 4096);
  EXPECT_GE(plan.memory_bytes(), 200000 * per_region);
  EXPECT_EQ(plan.unit(799999).region, 199999u);
  EXPECT_EQ(plan.unit(799999).exposure, 3u);
}

}  // namespace
}  // namespace deepmr::genome
