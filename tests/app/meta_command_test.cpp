// `deepmr meta` end to end through the real binary: metafor's numbers on the BCG trials, groups
// (including a group of one), se or variance input, JSON output, and exit status 3 or 2 with one
// line on stderr for malformed input or bad options.
#include <gtest/gtest.h>

#include "stats_command_support.hpp"
#include "test_support.hpp"

namespace deepmr {
namespace {

using test::field_number;
using test::near_relative;
using test::parse_tsv;
using test::quote;
using test::run;

const std::string kValidation = test::source_dir() + "/tests/data/validation/meta/";

std::string meta(const std::string& arguments) { return test::deepmr_binary() + " meta " + arguments; }

TEST(MetaCommand, DerSimonianLairdByDefault) {
  auto r = run(meta("--input " + quote(kValidation + "bcg_log_rr.tsv")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty());
  std::vector<std::string> header;
  const auto rows = parse_tsv(r.out, &header);
  EXPECT_EQ(header, (std::vector<std::string>{"group", "k", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2",
                                              "tau", "i2", "h2", "q", "q_df", "q_pvalue", "pi_low", "pi_high"}));
  ASSERT_EQ(rows.size(), 1u);
  const auto& row = rows[0];
  EXPECT_EQ(row.at("group"), "");
  EXPECT_EQ(row.at("k"), "13");
  EXPECT_TRUE(near_relative(field_number(row, "tau2"), 0.308760262862, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "estimate"), -0.714117222073, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "se"), 0.178742089535, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "ci_low"), -1.06444528008, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "pi_high"), 0.429919308586, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "i2"), 92.1173468546, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "h2"), 12.6860840069, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "q"), 152.233008082, 1e-8));
  EXPECT_EQ(row.at("q_df"), "12");
}

TEST(MetaCommand, RemlWithKnappHartung) {
  auto r = run(meta("--input " + quote(kValidation + "bcg_log_rr.tsv") + " --tau2 REML --knha"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto row = parse_tsv(r.out).at(0);
  EXPECT_TRUE(near_relative(field_number(row, "tau2"), 0.313243325981, 1e-8));
  EXPECT_TRUE(near_relative(field_number(row, "se"), 0.180791745519, 1e-8));
}

TEST(MetaCommand, OneMetaAnalysisPerGroupInOrderOfAppearance) {
  test::TempDir dir;
  std::string text = "# two data sets and a lone study\nexposure\testimate\tse\n";
  for (const auto& f : test::read_tsv_fields(kValidation + "clasp.tsv")) text += "CLASP\t" + f[0] + "\t" + f[1] + "\n";
  for (const auto& f : test::read_tsv_fields(kValidation + "bcg_log_rr.tsv")) text += "BCG\t" + f[0] + "\t" + f[1] + "\n";
  text += "lone\t0.4\t0.2\n";
  test::write_text(dir.file("groups.tsv"), text);
  auto r = run(meta("--input " + quote(dir.file("groups.tsv")) + " --group exposure --tau2 REML"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = parse_tsv(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("group"), "CLASP");
  EXPECT_EQ(rows[0].at("k"), "6");
  EXPECT_TRUE(near_relative(field_number(rows[0], "tau2"), 0.0339592788875, 1e-8));
  EXPECT_TRUE(near_relative(field_number(rows[0], "estimate"), -0.298037802457, 1e-8));
  EXPECT_EQ(rows[1].at("group"), "BCG");
  EXPECT_TRUE(near_relative(field_number(rows[1], "tau2"), 0.313243325981, 1e-8));
  EXPECT_EQ(rows[2].at("group"), "lone");
  EXPECT_EQ(rows[2].at("k"), "1");
  EXPECT_EQ(rows[2].at("estimate"), "0.4");
  EXPECT_EQ(rows[2].at("q_df"), "0");
  EXPECT_TRUE(rows[2].at("tau2").empty());   // one study says nothing about heterogeneity
  EXPECT_TRUE(rows[2].at("pi_low").empty());
}

TEST(MetaCommand, VarianceColumnWorksLikeSe) {
  test::TempDir dir;
  std::string text = "variance,estimate\n";
  for (const auto& f : test::read_tsv_fields(kValidation + "bcg_log_rr.tsv")) text += f[2] + "," + f[0] + "\n";
  test::write_text(dir.file("v.csv"), text);
  auto r = run(meta("--input " + quote(dir.file("v.csv")) + " --tau2 ML"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(near_relative(field_number(parse_tsv(r.out).at(0), "tau2"), 0.28002817105, 1e-8));
}

TEST(MetaCommand, JsonOutput) {
  auto r = run(meta("--input " + quote(kValidation + "raudenbush1985.tsv") + " --format json"));
  ASSERT_EQ(r.status, 0) << r.err;
  test::TempDir dir;
  test::write_text(dir.file("out.json"), r.out);
  test::write_text(dir.file("check.py"),
                   "import json, sys\n"
                   "d = json.load(open(sys.argv[1]))\n"
                   "assert len(d) == 1 and len(d[0]) == 16 and d[0]['group'] is None and d[0]['k'] == 19\n"
                   "assert abs(d[0]['tau2'] - 0.0259036722998) < 1e-12\n");
  auto check = run(test::python() + " " + quote(dir.file("check.py")) + " " + quote(dir.file("out.json")));
  EXPECT_EQ(check.status, 0) << check.err << r.out;
}

// The diagnostics options; expected values from metafor 3.8-1 (tests/stats/fixtures/metafor_diagnostics.tsv;
// the Q-profile bounds from confint() with tol = 1e-13).
TEST(MetaCommand, DiagnosticsAddTheTau2IntervalAndEggersTest) {
  auto r = run(meta("--input " + quote(kValidation + "bcg_log_rr.tsv") + " --diagnostics"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  std::vector<std::string> header;
  const auto row = parse_tsv(r.out, &header).at(0);
  ASSERT_EQ(header.size(), 16u + 14u);
  EXPECT_EQ(header[16], "tau2_ci_low");
  EXPECT_EQ(header.back(), "egger_limit_ci_high");
  EXPECT_TRUE(near_relative(field_number(row, "tau2"), 0.308760262862, 1e-8));  // the fit is unchanged
  EXPECT_TRUE(near_relative(field_number(row, "tau2_ci_low"), 0.119718361141055, 1e-9));
  EXPECT_TRUE(near_relative(field_number(row, "tau2_ci_high"), 1.11147908405981, 1e-9));
  EXPECT_TRUE(near_relative(field_number(row, "i2_ci_low"), 81.9205745585657, 1e-9));
  EXPECT_TRUE(near_relative(field_number(row, "egger_statistic"), -0.837908440484228, 1e-9));
  EXPECT_TRUE(near_relative(field_number(row, "egger_pvalue"), 0.402082127973119, 1e-9));
  EXPECT_TRUE(near_relative(field_number(row, "egger_limit"), -0.506349038745142, 1e-9));
  EXPECT_TRUE(row.at("egger_df").empty());  // a z test
}

TEST(MetaCommand, DiagnosticsOfAGroupOfTwoWarnOnStderr) {
  test::TempDir dir;
  test::write_text(dir.file("two.tsv"), "estimate\tse\n-0.88931133392\t0.5706003548929847\n-1.5853886572\t0.4411135017180952\n");
  auto r = run(meta("--input " + quote(dir.file("two.tsv")) + " --diagnostics"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto row = parse_tsv(r.out).at(0);
  EXPECT_EQ(field_number(row, "tau2_ci_low"), 0);  // metafor: 0
  EXPECT_TRUE(row.at("tau2_ci_high").empty());     // metafor: "> 100", the end of its search
  EXPECT_TRUE(row.at("egger_statistic").empty());  // needs k >= 3
  EXPECT_EQ(test::line_count(r.err), 2) << r.err;  // one warning for each
}

TEST(MetaCommand, LeaveOneOutPrintsOneFitPerStudy) {
  auto r = run(meta("--input " + quote(kValidation + "clasp.tsv") + " --leave-one-out"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> header;
  const auto rows = parse_tsv(r.out, &header);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(header[0], "group");
  EXPECT_EQ(header[1], "study");
  EXPECT_EQ(rows[0].at("study"), "1");
  EXPECT_EQ(rows[0].at("k"), "5");
  EXPECT_TRUE(near_relative(field_number(rows[0], "estimate"), -0.240376577642327, 1e-9));
  EXPECT_TRUE(near_relative(field_number(rows[0], "tau2"), 0.0260265107587031, 1e-9));
  EXPECT_TRUE(near_relative(field_number(rows[5], "estimate"), -0.479196575573002, 1e-9));
  EXPECT_TRUE(near_relative(field_number(rows[5], "tau2"), 0.109438298143289, 1e-9));
}

TEST(MetaCommand, InfluencePrintsMetaforsDiagnosticsPerStudy) {
  auto r = run(meta("--input " + quote(kValidation + "bcg_log_rr.tsv") + " --tau2 REML --influence"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> header;
  const auto rows = parse_tsv(r.out, &header);
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(header, (std::vector<std::string>{"group", "study", "rstudent", "dffits", "cook_d", "cov_r", "tau2_del",
                                              "qe_del", "hat", "weight", "dfbetas", "influential"}));
  // REML's Fisher scoring stops on a step <= 1e-5 in both: 1e-5 relative on deletion differences.
  EXPECT_TRUE(near_relative(field_number(rows[0], "rstudent"), -0.218142474344744, 1e-5));
  EXPECT_TRUE(near_relative(field_number(rows[6], "rstudent"), -1.30372705919525, 1e-5));
  EXPECT_TRUE(near_relative(field_number(rows[6], "dffits"), -0.33615753082124, 1e-5));
  EXPECT_TRUE(near_relative(field_number(rows[6], "weight"), 6.02718170294346, 1e-5));
  EXPECT_EQ(rows[6].at("influential"), "0");
  auto json = run(meta("--input " + quote(kValidation + "bcg_log_rr.tsv") + " --influence --format json"));
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out.rfind("[", 0), 0u) << json.out;
}

TEST(MetaCommand, PerStudyTablesAreOneAtATime) {
  auto r = run(meta("--input " + quote(kValidation + "clasp.tsv") + " --leave-one-out --influence"));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("deepmr meta: error: options '--diagnostics', '--leave-one-out' and '--influence'"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(MetaCommand, MalformedInputIsExitStatus3WithTheLine) {
  struct Case {
    std::string name, text, options, message;
  };
  const std::vector<Case> cases{
      {"zero se", "estimate\tse\n0.1\t0.2\n0.3\t0\n", "", ":3: column 'se' must be positive"},
      {"not a number", "estimate\tse\n0.1\t0.2\nabc\t0.1\n", "", ":3: column 'estimate': 'abc' is not a number"},
      {"no se or variance", "estimate\tstderr\n0.1\t0.2\n", "", ":1: no column 'se' in the header"},
      {"no group column", "estimate\tse\n0.1\t0.2\n", "--group tf", ":1: no column 'tf'"}};
  test::TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::write_text(dir.file("in.tsv"), c.text);
    auto r = run(meta("--input " + quote(dir.file("in.tsv")) + " " + c.options));
    EXPECT_EQ(r.status, 3);
    EXPECT_EQ(test::line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(MetaCommand, BadOptionsAreExitStatus2) {
  for (const char* options : {"--tau2 GENQ", "--format yaml", "--knha=maybe"}) {
    SCOPED_TRACE(options);
    auto r = run(meta("--input " + quote(kValidation + "clasp.tsv") + " " + options));
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace deepmr
