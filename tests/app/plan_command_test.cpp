// `deepmr plan` end to end through the real binary: files written, summary printed, the same plan
// for the same seed whatever the order of exposures, and exit status 2 or 3 with one stderr line
// for each kind of bad config or input.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "test_support.hpp"

namespace deepmr {
namespace {

using test::quote;
using test::run;

const std::string kFasta = test::source_dir() + "/data/genome/hg38_chr22_32000000_32300000.fa";
const std::string kAtf3 = test::source_dir() + "/data/peaks/ChIPseq.HepG2.ATF3.conservative.train.narrowPeak.gz";

// narrowPeak lines inside the shipped 300 kb of chr22.
std::string peaks(int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < n; ++i) {
    const unsigned start = 2000 + rng() % 290000, width = 100 + rng() % 200;
    out += "chr22\t" + std::to_string(start) + "\t" + std::to_string(start + width) + "\t.\t0\t.\t1\t-1\t1\t" +
           std::to_string(rng() % width) + "\n";
  }
  return out;
}

class PlanCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_text(dir_.file("srf.narrowPeak"), peaks(60, 1));
    test::write_text(dir_.file("atf3.narrowPeak"), peaks(40, 2));
    ASSERT_EQ(run("gzip -f " + quote(dir_.file("atf3.narrowPeak"))).status, 0);  // read through zlib
  }
  // A config with the [regions] lines given (and the usual [analysis] and [model]).
  std::string config(const std::string& name, const std::string& regions, const std::string& extra = "") {
    const std::string path = dir_.file(name);
    test::write_text(path, "[analysis]\nseed = 7\n[model]\ninput-length = 1000\n" + extra + "[regions]\n" + regions);
    return path;
  }
  std::string peak_regions(bool atf3_first = false) {
    const std::string srf = "peaks = SRF=" + dir_.file("srf.narrowPeak") + "\n";
    const std::string atf3 = "peaks = ATF3=" + dir_.file("atf3.narrowPeak.gz") + "\n";
    return "fasta = " + kFasta + "\n" + (atf3_first ? atf3 + srf : srf + atf3) + "per-exposure = 12\n";
  }
  test::RunResult plan(const std::string& config_path, const std::string& out, const std::string& args = "") {
    return run(test::deepmr_binary() + " plan --config " + quote(config_path) + " --out " + quote(out) + " " + args);
  }
  // Exit status, one stderr line holding `part`, nothing on stdout.
  void expect_failure(const test::RunResult& r, int status, const std::string& part) {
    EXPECT_EQ(r.status, status) << r.err;
    EXPECT_EQ(test::line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("deepmr plan: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << "'" << part << "' not in: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  test::TempDir dir_{"plan-cmd"};
};

TEST_F(PlanCommand, WritesRegionsUnitsAndASummary) {
  const auto r = plan(config("a.ini", peak_regions()), dir_.file("out"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const std::string bed = test::read_text(dir_.file("out/regions.bed"));
  const std::string units = test::read_text(dir_.file("out/units.tsv"));
  EXPECT_EQ(bed.rfind("#chrom\tstart\tend\tregion\texposures\tname\tsummit\nchr22\t", 0), 0u) << bed;
  EXPECT_EQ(units.rfind("unit\texposure\tregion\tchrom\tstart\tend\tname\tsummit\n0\t", 0), 0u) << units;
  EXPECT_EQ(test::line_count(units), 1 + 24);
  const int regions = test::line_count(bed) - 1;
  EXPECT_GE(regions, 12);
  EXPECT_LE(regions, 24);
  // Summary: header, ATF3, SRF, (all) with the distinct regions.
  EXPECT_EQ(test::line_count(r.out), 4) << r.out;
  EXPECT_EQ(r.out.rfind("exposure\tinput\trecords\tother_chromosome\tpast_end\tduplicate\tcandidates\texamined\twith_n\t"
                        "units\tregions\tshared\tfit_units\n",
                        0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("\nATF3\t" + dir_.file("atf3.narrowPeak.gz") + "\t40\t0\t0\t0\t40\t12\t0\t12\t12\t"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\n(all)\t\t\t\t\t\t\t\t\t24\t" + std::to_string(regions) + "\t\t\n"), std::string::npos) << r.out;
  // No temporary files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.file("out")), {}), 2);
}

TEST_F(PlanCommand, SameSeedSamePlanInAnyExposureOrderAnotherSeedAnother) {
  ASSERT_EQ(plan(config("a.ini", peak_regions(false)), dir_.file("a")).status, 0);
  ASSERT_EQ(plan(config("b.ini", peak_regions(true)), dir_.file("b")).status, 0);
  const auto c = plan(config("a.ini", peak_regions(false)), dir_.file("c"), "--analysis.seed 8");
  ASSERT_EQ(c.status, 0) << c.err;
  for (const char* f : {"/regions.bed", "/units.tsv"})
    EXPECT_EQ(test::read_text(dir_.file("a") + f), test::read_text(dir_.file("b") + f)) << f;
  EXPECT_NE(test::read_text(dir_.file("a/regions.bed")), test::read_text(dir_.file("c/regions.bed")));
}

TEST_F(PlanCommand, JsonSummary) {
  const auto r = plan(config("a.ini", peak_regions()), dir_.file("out"), "--format json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.front(), '[');
  EXPECT_NE(r.out.find("\"exposure\": \"SRF\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"units\": 24"), std::string::npos) << r.out;
}

TEST_F(PlanCommand, SweepSource) {
  std::string bed;
  for (int s = 0; s + 1000 <= 300000; s += 5000) bed += "chr22\t" + std::to_string(s) + "\t" + std::to_string(s + 1000) + "\n";
  test::write_text(dir_.file("tiles.bed"), bed);
  const auto r = plan(config("s.ini", "source = sweep\nfasta = " + kFasta + "\nsweep = " + dir_.file("tiles.bed") +
                                         "\nexposures = B, A\n"),
                      dir_.file("out"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(test::line_count(test::read_text(dir_.file("out/regions.bed"))), 1 + 60);
  EXPECT_EQ(test::line_count(test::read_text(dir_.file("out/units.tsv"))), 1 + 120);
  EXPECT_NE(test::read_text(dir_.file("out/regions.bed")).find("chr22\t0\t1000\t0\tA,B\t.\t-1\n"), std::string::npos);
}

TEST_F(PlanCommand, SequencesSource) {
  // 20 rows of L = 1000; labels: column 0 bound on even rows, column 1 on rows divisible by 3;
  // row 6 holds an N (a zero column).
  test::write_text(dir_.file("make.py"),
                   "import sys, h5py, numpy as np\n"
                   "x = np.zeros((20, 4, 1000), dtype=np.uint8)\n"
                   "for r in range(20):\n"
                   "    x[r, (np.arange(1000) + r) % 4, np.arange(1000)] = 1\n"
                   "x[6, :, 500] = 0\n"
                   "y = np.array([[r % 2 == 0, r % 3 == 0] for r in range(20)], dtype=np.uint8)\n"
                   "with h5py.File(sys.argv[1], 'w') as f:\n"
                   "    f['testxdata'] = x\n"
                   "    f['testdata'] = y\n");
  ASSERT_EQ(run(test::python() + " " + quote(dir_.file("make.py")) + " " + quote(dir_.file("s.h5"))).status, 0);
  const std::string regions = "source = sequences\nsequences = " + dir_.file("s.h5") +
                              "\nsequences-dataset = testxdata\nlabels-dataset = testdata\nlabel = EVEN=0\n"
                              "label = THIRD=1\nper-exposure = 0\nsequences-alphabet = AGCT\n";
  const auto r = plan(config("q.ini", regions), dir_.file("out"));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string units = test::read_text(dir_.file("out/units.tsv"));
  // EVEN: rows 0..18 even but 6 (N): 9; THIRD: 0, 3, 9, 12, 15, 18: 6.
  EXPECT_EQ(test::line_count(units), 1 + 15);
  const std::string bed = test::read_text(dir_.file("out/regions.bed"));
  EXPECT_NE(bed.find("row\t0\t1\t0\tEVEN,THIRD\t.\t-1\n"), std::string::npos) << bed;
  EXPECT_EQ(bed.find("row\t6\t"), std::string::npos) << bed;
  // The model's input length must match the stored sequences.
  expect_failure(plan(config("l.ini", regions), dir_.file("out"), "--model.input-length 500"), 3,
                 "its sequences are 1000 bases long but the model takes 500");
  expect_failure(plan(config("c.ini", "source = sequences\nsequences = " + dir_.file("s.h5") +
                                          "\nsequences-dataset = testxdata\nlabels-dataset = testdata\nlabel = X=5\n"),
                      dir_.file("out")),
                 3, "label column 5 is past the 2 columns");
}

TEST_F(PlanCommand, UsageErrorsExitWith2) {
  const std::string good = peak_regions();
  test::write_text(dir_.file("nolen.ini"), "[regions]\n" + good);
  expect_failure(plan(dir_.file("nolen.ini"), dir_.file("o")), 2, "missing option 'model.file' (or 'model.input-length')");
  expect_failure(plan(config("k.ini", good + "per-exposur = 3\n"), dir_.file("o")), 2, "unknown key 'regions.per-exposur'");
  expect_failure(plan(config("n.ini", good + "n-policy = zero\n"), dir_.file("o")), 2, "unknown N policy 'zero'");
  expect_failure(plan(config("e.ini", good + "peaks = " + dir_.file("x.bed") + "\n"), dir_.file("o")), 2,
                 "should be NAME=FILE");
  expect_failure(plan(config("w.ini", good + "sweep = x.bed\n"), dir_.file("o")), 2,
                 "option 'regions.sweep' does not apply to regions.source = peaks");
  expect_failure(plan(config("f.ini", good), dir_.file("o"), "--format xml"), 2, "unknown format 'xml'");
  expect_failure(plan(config("g.ini", good + "per-exposure = -2\n"), dir_.file("o")), 2, "regions.per-exposure");
  expect_failure(plan(config("d.ini", good + "peaks = SRF=" + dir_.file("srf.narrowPeak") + "\n"), dir_.file("o")), 2,
                 "exposure 'SRF' is listed twice");
  expect_failure(plan(config("h.ini", "fasta = " + kFasta + "\n"), dir_.file("o")), 2, "missing option 'regions.peaks'");
  expect_failure(plan(config("t.ini", good + "per-exposure = 50\n"), dir_.file("o")), 2,
                 "key 'regions.per-exposure' is set twice");
  test::write_text(dir_.file("file"), "x");
  expect_failure(plan(config("o.ini", good), dir_.file("file")), 2, "--out: cannot create the directory");
}

TEST_F(PlanCommand, InputErrorsExitWith3) {
  expect_failure(plan(config("m.ini", "fasta = " + kFasta + "\npeaks = X=" + dir_.file("missing.bed") + "\n"),
                      dir_.file("o")),
                 3, dir_.file("missing.bed") + ": cannot read the file");
  expect_failure(plan(config("fa.ini", "fasta = " + dir_.file("none.fa") + "\npeaks = X=" + dir_.file("srf.narrowPeak") + "\n"),
                      dir_.file("o")),
                 3, dir_.file("none.fa") + ": cannot read the FASTA");
  expect_failure(plan(config("k.ini", "fasta = " + kFasta + "\npeaks = SRF=" + dir_.file("srf.narrowPeak") +
                                          "\nper-exposure = 61\n"),
                      dir_.file("o")),
                 3, "exposure 'SRF': 61 regions wanted (regions.per-exposure) but only 60 usable");
  expect_failure(plan(config("r.ini", "fasta = " + kFasta + "\npeaks = ATF3=" + kAtf3 + "\n"), dir_.file("o")), 3,
                 kAtf3 + ":1: chromosome 'chr6' is not in the FASTA");
  const std::string bytes = test::read_text(kAtf3);
  test::write_text(dir_.file("bad.narrowPeak.gz"), bytes.substr(0, bytes.size() / 3));
  expect_failure(plan(config("z.ini", "fasta = " + kFasta + "\nchromosomes = chr22\npeaks = A=" +
                                          dir_.file("bad.narrowPeak.gz") + "\n"),
                      dir_.file("o")),
                 3, "the gzip stream is corrupt or truncated");
  test::write_text(dir_.file("cols.bed"), "chr22\t100\n");
  expect_failure(plan(config("c.ini", "fasta = " + kFasta + "\npeaks = A=" + dir_.file("cols.bed") + "\n"), dir_.file("o")),
                 3, dir_.file("cols.bed") + ":1: found 2 columns");
  // Nothing half-written on failure.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("o/regions.bed")));
}

TEST_F(PlanCommand, HelpListsTheRegionKeys) {
  const auto r = run(test::deepmr_binary() + " plan --help");
  ASSERT_EQ(r.status, 0);
  for (const char* key : {"--regions.per-exposure", "--regions.n-policy", "--regions.chromosomes", "--model.input-length",
                          "--analysis.seed", "--out"})
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
}

}  // namespace
}  // namespace deepmr
