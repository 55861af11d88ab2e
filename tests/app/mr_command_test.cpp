// `deepmr mr` end to end through the real binary: the published numbers on the lipid data, TSV and
// CSV input in any column order, JSON output, degenerate data as "not estimable" rows, and exit
// status 3 (malformed input, with its line) or 2 (bad options) with one line on stderr.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "stats_command_support.hpp"
#include "test_support.hpp"

namespace deepmr {
namespace {

using test::field_number;
using test::near_relative;
using test::parse_tsv;
using test::quote;
using test::run;

const std::string kLipids = test::source_dir() + "/tests/data/validation/mr/lipids_ldl_chd.tsv";

std::string mr(const std::string& arguments) { return test::deepmr_binary() + " mr " + arguments; }

std::vector<test::TsvRow> lipid_rows(const std::string& extra = "") {
  auto r = run(mr("--input " + quote(kLipids) + " --bootstrap 500 " + extra));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  return parse_tsv(r.out);
}

TEST(MrCommand, PrintsTheContractColumnsOneRowPerDefaultMethod) {
  auto r = run(mr("--input " + quote(kLipids) + " --bootstrap 500"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> header;
  const auto rows = parse_tsv(r.out, &header);
  EXPECT_EQ(header, (std::vector<std::string>{"method", "estimate", "se", "ci_low", "ci_high", "pvalue", "intercept",
                                              "intercept_se", "intercept_pvalue", "q", "q_df", "q_pvalue", "i2",
                                              "i2_gx", "f_mean", "residual_se", "n_used", "status"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].at("method"), "ivw");
  EXPECT_EQ(rows[1].at("method"), "egger");
  EXPECT_EQ(rows[2].at("method"), "median-weighted");
  EXPECT_EQ(rows[3].at("method"), "mode-weighted");
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("status"), "ok");
    EXPECT_EQ(row.at("n_used"), "28");
  }
  EXPECT_TRUE(near_relative(field_number(rows[0], "estimate"), 2.83421393887889, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[0], "se"), 0.52979948855643, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[0], "q"), 99.5304255484988, 1e-8));
  EXPECT_EQ(rows[0].at("q_df"), "27");
  EXPECT_TRUE(near_relative(field_number(rows[0], "f_mean"), 28.0093110220279, 1e-8));
  EXPECT_TRUE(rows[0].at("intercept").empty());  // does not apply to IVW
  EXPECT_TRUE(near_relative(field_number(rows[1], "estimate"), 3.25289013194081, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[1], "intercept_pvalue"), 0.450506451283992, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[1], "i2_gx"), 0.91936538831957, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[1], "residual_se"), 1.93547355640077, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[2], "estimate"), 2.68288346489811, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[3], "estimate"), 2.94630057209513, 1e-8));
}

TEST(MrCommand, TDistributionAndMethodList) {
  const auto rows = lipid_rows("--methods egger,ivw --distribution t");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("method"), "egger");
  EXPECT_TRUE(near_relative(field_number(rows[0], "ci_low"), 1.66986696913813, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[0], "pvalue"), 0.000260252917148041, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[1], "ci_high"), 3.92127269711462, 1e-8));
}

TEST(MrCommand, ReadsCsvInAnyColumnOrderWithCommentsAndExtraColumns) {
  test::TempDir dir;
  const auto tsv = test::read_tsv_fields(kLipids);
  std::string csv = "# LDL-c and CHD, reordered\r\n\"snp\",\"byse\",\"by\",\"bxse\",\"bx\"\r\n";
  for (std::size_t i = 0; i < tsv.size(); ++i)
    csv += "rs" + std::to_string(i) + "," + tsv[i][3] + "," + tsv[i][2] + "," + tsv[i][1] + "," + tsv[i][0] + "\r\n";
  test::write_text(dir.file("lipids.csv"), csv);
  auto r = run(mr("--input " + quote(dir.file("lipids.csv")) + " --bootstrap 500"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, run(mr("--input " + quote(kLipids) + " --bootstrap 500")).out);
}

TEST(MrCommand, JsonHasTheSameFields) {
  auto r = run(mr("--input " + quote(kLipids) + " --bootstrap 200 --format json"));
  ASSERT_EQ(r.status, 0) << r.err;
  test::TempDir dir;
  test::write_text(dir.file("out.json"), r.out);
  test::write_text(dir.file("check.py"),
                   "import json, sys\n"
                   "d = json.load(open(sys.argv[1]))\n"
                   "assert [x['method'] for x in d] == ['ivw', 'egger', 'median-weighted', 'mode-weighted']\n"
                   "assert len(d[0]) == 18 and d[0]['intercept'] is None and d[0]['q_df'] == 27\n"
                   "assert abs(d[1]['estimate'] - 3.25289013194081) < 1e-12 and d[2]['status'] == 'ok'\n");
  auto check = run(test::python() + " " + quote(dir.file("check.py")) + " " + quote(dir.file("out.json")));
  EXPECT_EQ(check.status, 0) << check.err << r.out;
}

TEST(MrCommand, SameSeedSameOutputOtherSeedOtherBootstrap) {
  const std::string base = mr("--input " + quote(kLipids) + " --methods median-weighted --bootstrap 300");
  const auto a = run(base + " --seed 7"), b = run(base + " --seed 7"), c = run(base + " --seed 8");
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_EQ(parse_tsv(a.out)[0].at("estimate"), parse_tsv(c.out)[0].at("estimate"));
}

// The bootstraps on several threads print the same table (stats: BootstrapThreads).
TEST(MrCommand, ThreadsChangeNoDigit) {
  const std::string base = mr("--input " + quote(kLipids) + " --methods median-weighted,mode-weighted --bootstrap 500");
  const auto one = run(base), three = run(base + " --threads 3"), any = run(base + " --threads auto");
  EXPECT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(one.out, three.out);
  EXPECT_EQ(one.out, any.out);
}

TEST(MrCommand, StrengthFilterAndNoInformationRowsChangeInstrumentsUsed) {
  test::TempDir dir;
  std::string text = test::read_text(kLipids) + "0\t0\t0\t0\n0\t0\t0\t0\n";
  test::write_text(dir.file("padded.tsv"), text);
  auto r = run(mr("--input " + quote(dir.file("padded.tsv")) + " --methods ivw --min-abs-z-x 2"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = parse_tsv(r.out);
  EXPECT_EQ(rows[0].at("n_used"), "19");  // 28 lipid variants, 9 of them with |bx / bxse| < 2
}

TEST(MrCommand, DegenerateDataGivesNotEstimableRowsNotAnError) {
  test::TempDir dir;
  test::write_text(dir.file("two.tsv"), "bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.05\n0.2\t0.01\t0.3\t0.0\n");
  auto r = run(mr("--input " + quote(dir.file("two.tsv")) + " --methods ivw-fixed,egger,median-simple"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = parse_tsv(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("status").rfind("not estimable: 1 of 2 instruments have byse = 0", 0), 0u) << rows[0].at("status");
  EXPECT_EQ(rows[1].at("status").rfind("not estimable: too few instruments (2", 0), 0u) << rows[1].at("status");
  EXPECT_EQ(rows[2].at("status").rfind("not estimable: too few instruments (2", 0), 0u);
  EXPECT_TRUE(rows[1].at("estimate").empty());
  EXPECT_EQ(r.out.find("nan"), std::string::npos);
}

// Issue 15, item 8: a UTF-8 byte-order mark hid the first column ("no column 'bx'"), and an
// empty last field in a column mr does not read was "4 fields, but the header (line 1) has 5".
TEST(MrCommand, ByteOrderMarkAndAnEmptyIgnoredLastFieldAreAccepted) {
  test::TempDir dir;
  std::string text = "\xEF\xBB\xBF";
  std::istringstream lipids(test::read_text(kLipids));
  int line = 0;
  for (std::string row; std::getline(lipids, row);)
    text += row + (++line == 1 ? "\tnote\n" : line == 3 ? "\tkept\n" : "\t\n");
  test::write_text(dir.file("bom.tsv"), text);
  const auto expected = run(mr("--input " + quote(kLipids)));
  const auto r = run(mr("--input " + quote(dir.file("bom.tsv"))));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out, expected.out);
}

struct BadInput {
  std::string name, text, message;
};

TEST(MrCommand, MalformedInputIsExitStatus3WithTheLine) {
  const std::vector<BadInput> cases{
      {"not a number", "bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.05\n# note\n0.2\tNA\t0.3\t0.05\n",
       ":4: column 'bxse': 'NA' is not a number"},
      {"negative se", "bx,bxse,by,byse\n0.1,0.01,0.2,-0.05\n", ":2: column 'byse' is negative"},
      {"infinite", "bx\tbxse\tby\tbyse\n0.1\t0.01\tinf\t0.05\n", ":2: column 'by': 'inf' is not a finite number"},
      {"missing column", "bx\tse_x\tby\tbyse\n0.1\t0.01\t0.2\t0.05\n", ":1: no column 'bxse' in the header"},
      {"short row", "bx\tbxse\tby\tbyse\n\n0.1\t0.01\t0.2\n", ":3: 3 fields, but the header (line 1) has 4"},
      {"empty", "# nothing here\n", "no header line"},
      {"psi beyond a correlation", "bx\tbxse\tby\tbyse\tpsi\n0.1\t0.01\t0.2\t0.05\t0.5\n0.2\t0.01\t0.3\t0.05\t-1.2\n",
       ":3: column 'psi' is -1.2: a correlation must lie in [-1, 1]"}};
  test::TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::write_text(dir.file("in.tsv"), c.text);
    auto r = run(mr("--input " + quote(dir.file("in.tsv"))));
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(test::line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  auto missing = run(mr("--input /nonexistent/file.tsv"));
  EXPECT_EQ(missing.status, 3);
  EXPECT_EQ(test::line_count(missing.err), 1);
}

TEST(MrCommand, BadOptionsAreExitStatus2) {
  for (const char* options : {"--methods egger,lasso", "--distribution cauchy", "--bootstrap -5", "--bootstrap 1",
                                     "--seed x", "--format xml", "--min-abs-z-x -1", "--methods ivw,ivw",
                                     "--presso-distributions 0", "--presso-distributions -3",
                                     "--ivw-weights second-order", "--ivw-weights delta --psi 1.5",
                                     "--psi 0.3", "--methods egger --ivw-weights delta", "--threads 0",
                                     "--threads many"}) {
    SCOPED_TRACE(options);
    auto r = run(mr("--input " + quote(kLipids) + " " + options));
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(test::line_count(r.err), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  auto r = run(mr("--methods ivw"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("missing required option 'input'"), std::string::npos) << r.err;
}

// Extreme but finite effects: a row per method, finite or "not estimable" with the reason, exit 0
// (this input ended in SIGSEGV in IVW and in an internal error of the weighted median).
TEST(MrCommand, ExtremeButFiniteEffectsGiveRowsNotACrash) {
  test::TempDir dir("mr-extreme");
  for (const char* row : {"0.2\t0.01\t0.35\t1e-160", "0.2\t0.01\t1e300\t1e-300"}) {
    test::write_text(dir.file("x.tsv"), std::string("bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.02\n") + row +
                                            "\n0.3\t0.02\t0.7\t0.03\n0.4\t0.02\t0.9\t0.03\n");
    auto r = run(mr("--input " + quote(dir.file("x.tsv")) + " --bootstrap 100 --methods "
                    "ivw,ivw-fixed,ivw-random,egger,median-weighted,median-simple,mode-weighted"));
    EXPECT_EQ(r.status, 0) << row << ": " << r.err;
    const auto rows = parse_tsv(r.out);
    EXPECT_EQ(rows.size(), 7u) << r.out;
    for (const auto& fields : rows) {
      const std::string& status = fields.at("status");
      EXPECT_TRUE(status == "ok" || status.rfind("not estimable: ", 0) == 0) << status;
      EXPECT_EQ(status.find("same |bx|"), std::string::npos) << status;
    }
  }
}

// The robust and weak-instrument methods through the command (values: tests/stats/
// mr_robust_validation_test.cpp, the package's vignette): their rows and columns, conmix's interval
// without an SE, and its union-of-ranges warning on stderr.
TEST(MrCommand, RobustMethodsGiveRowsWithTheSameColumns) {
  auto rows = lipid_rows("--methods divw,ivw-penalized,egger-penalized,median-penalized,conmix");
  ASSERT_EQ(rows.size(), 5u);
  const char* names[] = {"divw", "ivw-penalized", "egger-penalized", "median-penalized", "conmix"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(rows[i].at("method"), names[i]);
    EXPECT_EQ(rows[i].at("status"), "ok");
    EXPECT_EQ(rows[i].at("n_used"), "28");
  }
  EXPECT_TRUE(near_relative(field_number(rows[0], "estimate"), 2.93964590233106, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[1], "estimate"), 2.56091425111616, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[2], "intercept"), -0.0215523965466782, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[3], "estimate"), 2.68092938635309, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[4], "estimate"), 2.73, 1e-12));
  EXPECT_TRUE(near_relative(field_number(rows[4], "ci_low"), 2.00, 1e-12));
  EXPECT_TRUE(near_relative(field_number(rows[4], "ci_high"), 3.43, 1e-12));
  EXPECT_TRUE(rows[4].at("se").empty());
  auto robust = lipid_rows("--methods ivw-robust,egger-robust");
  ASSERT_EQ(robust.size(), 2u);
  EXPECT_EQ(robust[0].at("status"), "ok");
  EXPECT_TRUE(near_relative(field_number(robust[0], "estimate"), 2.79698521972855, 1e-6));
  EXPECT_TRUE(near_relative(field_number(robust[1], "intercept"), -0.0146804243723302, 1e-6));

  test::TempDir dir("mr-conmix");
  test::write_text(dir.file("crp.tsv"),
                   "bx\tbxse\tby\tbyse\n0.160\t0.006\t0.0237903\t0.0149064\n0.236\t0.009\t-0.1121942\t0.0303084\n"
                   "0.149\t0.006\t-0.0711906\t0.0150552\n0.09\t0.005\t-0.030848\t0.0148339\n"
                   "0.079\t0.005\t0.0479207\t0.0143077\n0.072\t0.005\t0.0238895\t0.0145478\n"
                   "0.047\t0.006\t0.005528\t0.0160765\n0.069\t0.011\t0.0214852\t0.0255237\n");
  auto r = run(mr("--input " + quote(dir.file("crp.tsv")) + " --methods conmix"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.rfind("deepmr mr: warning: conmix: the confidence set is a union of 3 ranges: [-0.58225, -0.31225]", 0),
            0u)
      << r.err;
}

// Far-out ratio estimates make R's 512-point density grid too coarse for the mode (issue 15: 10.99
// for a true 0.5). Two far, weak instruments: the mode is found over the central mass, with a
// warning that this is not R's grid. Weight spread thinly over a wide range: no grid resolves the
// mode, and the warning says so. The fit stays "ok" either way.
TEST(MrCommand, ModeWarnsWhereItsDensityGridCannotResolveTheMode) {
  test::TempDir dir("mr-mode-grid");
  std::string far = "bx\tbxse\tby\tbyse\n";
  for (int i = 0; i < 200; ++i) far += "1\t0.01\t" + std::to_string(0.5 + 0.001 * (i % 20 - 10)) + "\t0.01\n";
  far += "0.001\t0.01\t100\t1\n0.001\t0.01\t-70\t1\n";  // ratios 1e5 and -7e4, almost no weight (R's grid: -137)
  test::write_text(dir.file("far.tsv"), far);
  auto r = run(mr("--input " + quote(dir.file("far.tsv")) + " --methods mode-weighted --bootstrap 0"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto rows = parse_tsv(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_NEAR(field_number(rows[0], "estimate"), 0.5, 0.005);
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("deepmr mr: warning: mode-weighted: R's density grid is too coarse (", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("mode found over the central 99.8% of the weight"), std::string::npos) << r.err;

  std::string flat = "bx\tbxse\tby\tbyse\n";
  for (int i = 0; i < 900; ++i) flat += "1\t0\t" + std::to_string(0.001 * (i % 10)) + "\t100\n";
  for (int i = 0; i < 100; ++i) flat += "1\t0\t" + std::to_string(-1000 + 20 * i) + "\t1\n";
  test::write_text(dir.file("flat.tsv"), flat);
  r = run(mr("--input " + quote(dir.file("flat.tsv")) + " --methods mode-weighted --bootstrap 0"));
  ASSERT_EQ(r.status, 0) << r.err;
  rows = parse_tsv(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("deepmr mr: warning: mode-weighted: the mode is not resolved: its density grid's spacing is ", 0),
            0u)
      << r.err;
}

// IVW as MendelianRandomization fits it from 4 instruments on (random effects: the fixed-effect SE
// times max(1, residual SE)), by its closed form, on the lipid rows without row `left_out`.
struct IvwFit {
  double estimate, se;
};
IvwFit ivw_without(const std::vector<std::vector<std::string>>& rows, std::size_t left_out) {
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (i != left_out) {
      const double bx = std::stod(rows[i][0]), by = std::stod(rows[i][2]), w = 1 / std::pow(std::stod(rows[i][3]), 2);
      sxy += w * bx * by;
      sxx += w * bx * bx;
    }
  const double estimate = sxy / sxx;
  double q = 0;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (i != left_out) {
      const double e = (std::stod(rows[i][2]) - estimate * std::stod(rows[i][0])) / std::stod(rows[i][3]);
      q += e * e;
    }
  const double rse = std::sqrt(q / static_cast<double>(rows.size() - 2));
  return {estimate, std::max(1.0, rse) / std::sqrt(sxx)};
}

// --leave-one-out: one row per instrument (its data row) and method, the fit without it. IVW against
// its closed form on every reduced data set and, for three rows, R (lm(by ~ bx - 1, weights =
// 1/byse^2, data = d[-i, ]), se / min(1, sigma): MendelianRandomization's mr_ivw, as mr_loo runs it;
// R 4.2.2); mr-presso on the reduced data is that of the plain command on a file without the row.
TEST(MrCommand, LeaveOneOutPrintsTheFitWithoutEachInstrument) {
  auto r = run(mr("--input " + quote(kLipids) + " --methods ivw,mr-presso --presso-distributions 300 --leave-one-out"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> header;
  const auto rows = parse_tsv(r.out, &header);
  EXPECT_EQ(header, (std::vector<std::string>{"instrument", "method", "estimate", "se", "ci_low", "ci_high", "pvalue",
                                              "intercept", "intercept_se", "intercept_pvalue", "q", "q_df", "q_pvalue",
                                              "i2", "i2_gx", "f_mean", "residual_se", "n_used", "status"}));
  const auto lipids = test::read_tsv_fields(kLipids);
  ASSERT_EQ(lipids.size(), 28u);
  ASSERT_EQ(rows.size(), 56u);
  for (std::size_t i = 0; i < 28; ++i) {
    const auto& ivw = rows[2 * i];
    const auto& presso = rows[2 * i + 1];
    EXPECT_EQ(ivw.at("instrument"), std::to_string(i + 1));
    EXPECT_EQ(presso.at("instrument"), std::to_string(i + 1));
    EXPECT_EQ(ivw.at("method"), "ivw");
    EXPECT_EQ(presso.at("method"), "mr-presso");
    EXPECT_EQ(ivw.at("status"), "ok");
    EXPECT_EQ(ivw.at("n_used"), "27");
    EXPECT_EQ(ivw.at("q_df"), "26");
    const IvwFit expected = ivw_without(lipids, i);
    EXPECT_TRUE(near_relative(field_number(ivw, "estimate"), expected.estimate, 1e-12)) << i;
    EXPECT_TRUE(near_relative(field_number(ivw, "se"), expected.se, 1e-12)) << i;
    EXPECT_EQ(presso.at("status"), "ok");
    EXPECT_LE(std::stoi(presso.at("n_used")), 27);
  }
  const struct {
    std::size_t row;
    double estimate, se, ci_low, pvalue;
  } from_r[] = {{1, 2.84968408800386, 0.557594114074711, 1.75681970642591, 3.21004348058184e-07},
                {12, 2.88032433202213, 0.471228256224887, 1.95673392132374, 9.81585104785201e-10},
                {28, 2.91591839548385, 0.536310376284496, 1.86476937343111, 5.41857732577647e-08}};
  for (const auto& e : from_r) {
    const auto& row = rows[2 * (e.row - 1)];
    EXPECT_TRUE(near_relative(field_number(row, "estimate"), e.estimate, 1e-12)) << e.row;
    EXPECT_TRUE(near_relative(field_number(row, "se"), e.se, 1e-12)) << e.row;
    EXPECT_TRUE(near_relative(field_number(row, "ci_low"), e.ci_low, 1e-12)) << e.row;
    EXPECT_TRUE(near_relative(field_number(row, "pvalue"), e.pvalue, 1e-9)) << e.row;
  }

  // Row 5 of the file left out: the plain command on the file without it gives the same numbers.
  test::TempDir dir("mr-loo");
  const std::string text = test::read_text(kLipids);
  std::istringstream in(text);
  std::string line, reduced;
  for (int k = 0; std::getline(in, line); ++k)
    if (k != 5) reduced += line + "\n";  // line 0 is the header
  test::write_text(dir.file("without5.tsv"), reduced);
  auto plain = run(mr("--input " + quote(dir.file("without5.tsv")) + " --methods ivw,mr-presso --presso-distributions 300"));
  ASSERT_EQ(plain.status, 0) << plain.err;
  const auto fits = parse_tsv(plain.out);
  ASSERT_EQ(fits.size(), 2u);
  for (std::size_t m = 0; m < 2; ++m)
    for (const auto& [column, value] : fits[m]) EXPECT_EQ(rows[2 * 4 + m].at(column), value) << column;
}

TEST(MrCommand, LeaveOneOutNumbersTheFilesDataRowsAndHasJson) {
  // Reversed rows, a comment and a blank line: instrument k of this file is row 29 - k of the original.
  const auto lipids = test::read_tsv_fields(kLipids);
  std::string text = "# reversed\nbx\tbxse\tby\tbyse\n\n";
  for (std::size_t i = lipids.size(); i-- > 0;)
    text += lipids[i][0] + "\t" + lipids[i][1] + "\t" + lipids[i][2] + "\t" + lipids[i][3] + "\n";
  test::TempDir dir("mr-loo-order");
  test::write_text(dir.file("reversed.tsv"), text);
  auto original = parse_tsv(run(mr("--input " + quote(kLipids) + " --methods ivw-fixed --leave-one-out")).out);
  auto reversed = parse_tsv(run(mr("--input " + quote(dir.file("reversed.tsv")) + " --methods ivw-fixed --leave-one-out")).out);
  ASSERT_EQ(original.size(), 28u);
  ASSERT_EQ(reversed.size(), 28u);
  for (std::size_t k = 0; k < 28; ++k)
    EXPECT_TRUE(near_relative(field_number(reversed[k], "estimate"), field_number(original[27 - k], "estimate"), 1e-13)) << k;

  auto r = run(mr("--input " + quote(kLipids) + " --methods ivw --leave-one-out --format json"));
  ASSERT_EQ(r.status, 0) << r.err;
  test::write_text(dir.file("out.json"), r.out);
  test::write_text(dir.file("check.py"),
                   "import json, sys\n"
                   "d = json.load(open(sys.argv[1]))\n"
                   "assert len(d) == 28 and [x['instrument'] for x in d] == list(range(1, 29))\n"
                   "assert len(d[0]) == 19 and d[0]['method'] == 'ivw' and d[0]['intercept'] is None\n"
                   "assert abs(d[11]['estimate'] - 2.88032433202213) < 1e-12 and d[0]['n_used'] == 27\n");
  auto check = run(test::python() + " " + quote(dir.file("check.py")) + " " + quote(dir.file("out.json")));
  EXPECT_EQ(check.status, 0) << check.err << r.out;
}

// mr-presso through the command (values: tests/stats/fixtures/mr_presso_reference.txt, MRPRESSO 1.0):
// the lipids' outliers (variants 12 and 14) removed, RSSobs as q, the global p as q_pvalue.
TEST(MrCommand, MrPressoGivesTheOutlierCorrectedEstimate) {
  const double kPressoLipidsCorrected = 2.6708955303332127, kPressoLipidsRss = 102.71578972529463;
  const auto rows = lipid_rows("--methods mr-presso");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(rows[0].at("n_used"), "26");
  EXPECT_TRUE(near_relative(field_number(rows[0], "estimate"), kPressoLipidsCorrected, 1e-10));
  EXPECT_TRUE(near_relative(field_number(rows[0], "q"), kPressoLipidsRss, 1e-10));
  EXPECT_EQ(field_number(rows[0], "q_pvalue"), 0);
  EXPECT_TRUE(rows[0].at("q_df").empty());
  // The number of data sets changes the draws, not the observed statistic.
  const auto more = lipid_rows("--methods mr-presso --presso-distributions 2000");
  EXPECT_EQ(more[0].at("q"), rows[0].at("q"));
}

}  // namespace
}  // namespace deepmr

namespace deepmr {
namespace {

// --ivw-weights delta: mr_ivw's second-order weights, the R values of
// tests/stats/fixtures/mr_ivw_delta_reference.txt (psi 0.5; and a psi column, one per instrument);
// other methods unchanged; --psi together with a psi column is refused.
TEST(MrCommand, DeltaWeightsWithOnePsiOrAPsiColumn) {
  const auto simple = lipid_rows("--methods ivw,egger");
  const auto delta = lipid_rows("--methods ivw,egger --ivw-weights delta --psi 0.5");
  ASSERT_EQ(delta.size(), 2u);
  EXPECT_TRUE(near_relative(field_number(delta[0], "estimate"), 2.9300548257245, 1e-9));
  EXPECT_TRUE(near_relative(field_number(delta[0], "se"), 0.315160069669248, 1e-9));
  EXPECT_TRUE(near_relative(field_number(delta[0], "q"), 43.1216949295252, 1e-9));
  EXPECT_EQ(delta[1].at("estimate"), simple[1].at("estimate"));

  // The lipids table with the fixture's psi vector as a column.
  std::ifstream in(kLipids);
  std::string line, text;
  const double first = -0.6, step = 1.4 / 27;
  int row = -1;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      text += line + "\n";
      continue;
    }
    std::ostringstream psi;
    psi.precision(17);
    if (row < 0)
      text += line + "\tpsi\n";
    else {
      psi << first + step * row;
      text += line + "\t" + psi.str() + "\n";
    }
    ++row;
  }
  ASSERT_EQ(row, 28);
  test::TempDir dir("mr-psi");
  test::write_text(dir.file("psi.tsv"), text);
  auto r = run(mr("--input " + quote(dir.file("psi.tsv")) + " --methods ivw --ivw-weights delta"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = parse_tsv(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(near_relative(field_number(rows[0], "estimate"), 2.79347284080596, 1e-9));
  EXPECT_TRUE(near_relative(field_number(rows[0], "se"), 0.380839225493122, 1e-9));

  auto both = run(mr("--input " + quote(dir.file("psi.tsv")) + " --ivw-weights delta --psi 0.2"));
  EXPECT_EQ(both.status, 2);
  EXPECT_EQ(test::line_count(both.err), 1) << both.err;
  EXPECT_NE(both.err.find("psi column"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace deepmr
