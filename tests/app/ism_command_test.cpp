// deepmr ism through the real binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "expected_tables.hpp"
#include "stats_command_support.hpp"
#include "test_support.hpp"

namespace deepmr {
namespace {

using test::quote;
using test::run;
using test::fixture_model;
using test::fixture_window;
std::string ism() { return test::deepmr_binary() + " ism --threads 1"; }

// ism's rows (dropout off) against the fixture's PyTorch effects (make_fixtures.py: NAME.effects.tsv);
// an output is labelled label_prefix + its index.
void expect_rows_equal_pytorch(const test::RunResult& r, const std::string& model, const std::string& label_prefix,
                               std::size_t rows) {
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto lines = test::read_rows(test::models_dir() + "/" + model + ".effects.tsv");
  std::istringstream out(r.out);
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "position\tref\talt\toutput\tbeta\tse");
  std::size_t i = 0;
  for (; std::getline(out, line); ++i) {
    ASSERT_LT(i, lines.size());
    std::istringstream fields(line);
    std::string position, ref, alt, output, beta, se;
    std::getline(fields, position, '\t');
    std::getline(fields, ref, '\t');
    std::getline(fields, alt, '\t');
    std::getline(fields, output, '\t');
    std::getline(fields, beta, '\t');
    std::getline(fields, se, '\t');
    EXPECT_EQ(position, lines[i][0]);
    EXPECT_EQ(ref, lines[i][1]);
    EXPECT_EQ(alt, lines[i][2]);
    EXPECT_EQ(output, label_prefix + lines[i][3]);
    EXPECT_NEAR(std::stod(beta), std::stod(lines[i][4]), 1e-6);
    EXPECT_EQ(se, "0");
  }
  EXPECT_EQ(i, rows);
}

TEST(IsmCommand, DropoutOffRowsEqualPyTorchEffects) {
  auto r = run(ism() + " --model " + quote(fixture_model("kipoi_conv2d")) + " --sequence " + fixture_window("kipoi_conv2d") +
               " --outputs 1,kipoi_conv2d\\|out6 --dropout off");
  expect_rows_equal_pytorch(r, "kipoi_conv2d", "kipoi_conv2d|out", 120u * 3 * 2);
}

TEST(IsmCommand, InputLengthComesFromTheSequenceWhenTheModelAcceptsSeveral) {
  // The traced fixture has no metadata and its pooling floors accept lengths 58 to 60: the
  // sequence's own length is the input length, with no --input-length.
  const std::string model = " --model " + quote(fixture_model("traced_conv1d")) + " --outputs 0,3 --dropout off";
  auto r = run(ism() + model + " --sequence " + fixture_window("traced_conv1d"));
  expect_rows_equal_pytorch(r, "traced_conv1d", "", 60u * 3 * 2);
  auto explicit_length = run(ism() + model + " --input-length 60 --sequence " + fixture_window("traced_conv1d"));
  EXPECT_EQ(explicit_length.out, r.out);
  auto shorter = run(ism() + model + " --sequence " + fixture_window("traced_conv1d").substr(0, 58));
  ASSERT_EQ(shorter.status, 0) << shorter.err;
  EXPECT_EQ(test::line_count(shorter.out), 1 + 58 * 3 * 2);
  auto shorter_explicit = run(ism() + model + " --input-length 58 --sequence " + fixture_window("traced_conv1d").substr(0, 58));
  EXPECT_EQ(shorter_explicit.out, shorter.out);
}

TEST(IsmCommand, FastaRegionGivesTheSameRowsAsTheSequence) {
  test::TempDir dir;
  const std::string seq = fixture_window("conv1d_small");
  // The window sits at 1-based 11..70 of a two-line, soft-masked record.
  std::string lower = "acgtacgtac" + seq + "GGGGG";
  for (std::size_t i = 10; i < 40; ++i) lower[i] = static_cast<char>(std::tolower(lower[i]));
  test::write_text(dir.file("g.fa"), ">other\nAC\n>chrT\n" + lower.substr(0, 40) + "\n" + lower.substr(40) + "\n");
  const std::string common = ism() + " --model " + quote(fixture_model("conv1d_small")) + " --outputs 0,3 --mc-samples 2";
  auto a = run(common + " --sequence " + seq);
  auto b = run(common + " --fasta " + quote(dir.file("g.fa")) + " --region chrT:11-70");
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
}

TEST(IsmCommand, PositionsMutateASubWindowWithTheRestAsContext) {
  // The rows of --positions 10-19 are the whole window's rows at those positions, exactly: the
  // same masks, the same context (both engines).
  const std::string common = ism() + " --model " + quote(fixture_model("conv1d_small")) + " --sequence " +
                             fixture_window("conv1d_small") + " --outputs 0,3 --mc-samples 3";
  for (const std::string engine : {"full", "incremental"}) {
    auto whole = run(common + " --engine " + engine);
    auto part = run(common + " --engine " + engine + " --positions 10-19");
    ASSERT_EQ(whole.status, 0) << whole.err;
    ASSERT_EQ(part.status, 0) << part.err;
    std::istringstream lines(whole.out);
    std::string line, expected;
    std::getline(lines, line);
    expected = line + "\n";
    while (std::getline(lines, line)) {
      const int position = std::stoi(line.substr(0, line.find('\t')));
      if (position >= 10 && position <= 19) expected += line + "\n";
    }
    EXPECT_EQ(part.out, expected) << engine;
    EXPECT_EQ(test::line_count(part.out), 1 + 10 * 3 * 2);
  }
}

TEST(IsmCommand, JsonHasTheSameFields) {
  auto r = run(ism() + " --model " + quote(fixture_model("conv1d_small")) + " --sequence " + fixture_window("conv1d_small") +
               " --outputs 4 --mc-samples 1 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 3), "[\n ");
  EXPECT_NE(r.out.find("{\"position\": 0, \"ref\": "), std::string::npos) << r.out.substr(0, 200);
  EXPECT_NE(r.out.find("\"output\": \"conv1d_small|out4\", \"beta\": "), std::string::npos);
  EXPECT_NE(r.out.find("\"se\": 0}"), std::string::npos);  // N = 1: se is exactly 0
}

// A deep ensemble (--model repeated): without MC dropout, sample k is member k in inference mode,
// so beta and se are the mean and spread of the members' deterministic effects, each as that
// member alone prints it (conv1d_small's are PyTorch's: DropoutOffRowsEqualPyTorchEffects). The
// members name their outputs differently (the fixture's name in each), so a targets file names
// them all.
TEST(IsmCommand, AnEnsembleGivesTheMeanAndSpreadOfItsMembers) {
  test::TempDir dir;
  test::write_text(dir.file("targets.txt"), "t0\nt1\nt2\nt3\nt4\n");
  const std::vector<std::string> members = {"conv1d_small", "identical_bases", "traced_conv1d"};
  const std::string common = " --sequence " + fixture_window("conv1d_small") + " --outputs 0,3 --dropout off" +
                             " --targets " + quote(dir.file("targets.txt"));
  std::vector<std::vector<test::TsvRow>> alone;
  std::string models;
  for (const auto& member : members) {
    auto r = run(ism() + " --model " + quote(fixture_model(member)) + common);
    ASSERT_EQ(r.status, 0) << r.err;
    alone.push_back(test::parse_tsv(r.out));
    models += " --model " + quote(fixture_model(member));
  }
  auto r = run(ism() + models + common);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = test::parse_tsv(r.out);
  ASSERT_EQ(rows.size(), alone[0].size());
  double largest_se = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double sum = 0, squares = 0;
    for (const auto& member : alone) {
      const double d = std::stod(member[i].at("beta"));
      sum += d;
      squares += d * d;
    }
    const double beta = sum / 3, se = std::sqrt(std::max(0.0, squares / 3 - beta * beta));
    EXPECT_EQ(rows[i].at("position"), alone[0][i].at("position"));
    EXPECT_EQ(rows[i].at("alt"), alone[0][i].at("alt"));
    EXPECT_EQ(rows[i].at("output"), alone[0][i].at("output"));
    EXPECT_NEAR(std::stod(rows[i].at("beta")), beta, 1e-9 + 1e-9 * std::fabs(beta));
    EXPECT_NEAR(std::stod(rows[i].at("se")), se, 1e-7 + 1e-7 * se);
    largest_se = std::max(largest_se, std::stod(rows[i].at("se")));
  }
  EXPECT_GT(largest_se, 1e-3);

  // MC dropout inside the members: 3 x 2 samples; the same rows whatever the batch.
  const std::string sampled = models + " --targets " + quote(dir.file("targets.txt")) + " --sequence " +
                              fixture_window("conv1d_small") + " --outputs 0,3 --mc-samples 2";
  auto dropout = run(ism() + sampled);
  auto batched = run(ism() + sampled + " --batch 7");
  // Without the targets file the members' names disagree: refused naming both.
  auto names = run(ism() + models + " --sequence " + fixture_window("conv1d_small") + " --outputs 0 --dropout off");
  EXPECT_EQ(names.status, 4) << names.err;
  EXPECT_NE(names.err.find("output 0 named 'identical_bases|out0' where member 1"), std::string::npos) << names.err;
  ASSERT_EQ(dropout.status, 0) << dropout.err;
  EXPECT_EQ(dropout.out, batched.out);
  EXPECT_NE(dropout.out, r.out);
}

// Members must agree on alphabet, input length, strand averaging and outputs: one line, exit 4.
TEST(IsmCommand, EnsembleMembersThatDisagreeAreRefused) {
  auto r = run(ism() + " --model " + quote(fixture_model("conv1d_small")) + " --model " +
               quote(fixture_model("kipoi_conv2d")) + " --sequence " + fixture_window("conv1d_small") + " --outputs 0");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("ensemble member 2 ("), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(IsmCommand, OneSampleWarnsThatSesNeedTwo) {
  const std::string common = ism() + " --model " + quote(fixture_model("conv1d_small")) + " --sequence " +
                             fixture_window("conv1d_small") + " --outputs 0";
  auto one = run(common + " --mc-samples 1");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(one.err, "deepmr ism: warning: --mc-samples 1: every se is 0 because an SE needs at least 2 samples\n");
  auto two = run(common + " --mc-samples 2");
  ASSERT_EQ(two.status, 0) << two.err;
  EXPECT_TRUE(two.err.empty()) << two.err;
  auto off = run(common + " --mc-samples 1 --dropout off");  // deterministic: se = 0 is exact
  ASSERT_EQ(off.status, 0) << off.err;
  EXPECT_TRUE(off.err.empty()) << off.err;
}

TEST(IsmCommand, NonFiniteOutputIsNamedOnStderrWithItsMutantCount) {
  // Output 2 of this model is NaN for every input: one warning line for it, none for the others.
  auto r = run(ism() + " --model " + quote(test::source_dir() + "/tests/data/robustness/nan_exposure.pt") +
               " --sequence " + std::string(60, 'A') + " --outputs 1,2,3 --mc-samples 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err,
            "deepmr ism: warning: output out2: 180 of 180 mutants have a non-finite effect (the model gave NaN or Inf "
            "on the reference or the mutant), printed as empty fields\n");
  EXPECT_EQ(r.out.find("\tout2\t\t0\n"), std::string::npos);  // no se of 0 beside an empty beta
  EXPECT_NE(r.out.find("\tout2\t\t\n"), std::string::npos);
}

// A graph model (issue 16: tests/model/make_fixtures.py --graphs, BPNet-like with three dropout
// sites, written by the graph_model_fixtures test) runs on the torch backend by default, its
// outputs named by the flattened heads ("1:0": element 0 of the tuple's second tensor). Its first
// conv reads G and T alike: G <-> T rows are exactly 0 under MC dropout's paired masks.
TEST(IsmCommand, GraphModelRunsOnTheTorchBackendWithFlattenedOutputNames) {
  const std::string model = test::binary_dir() + "/test-fixtures/graphs/bpnet_dropout_scripted.pt";
  const auto rows = test::read_rows(test::binary_dir() + "/test-fixtures/graphs/bpnet_dropout_scripted.graph_outputs.tsv");
  const std::string sequence = rows.at(0).at(0);
  const std::string common = ism() + " --model " + quote(model) + " --sequence " + sequence + " --outputs 1:1,0:5 --mc-samples 3";
  auto r = run(common);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto torch = run(common + " --backend torch");
  ASSERT_EQ(torch.status, 0) << torch.err;
  EXPECT_EQ(torch.out, r.out);
  // The default engine on a graph is the incremental one: the full engine's effects within 1e-6.
  auto full = run(common + " --engine full");
  ASSERT_EQ(full.status, 0) << full.err;
  {
    std::istringstream a(r.out), b(full.out);
    std::string la, lb;
    std::size_t lines = 0;
    while (std::getline(a, la) && std::getline(b, lb)) {
      const auto fa = test::split_tabs(la), fb = test::split_tabs(lb);
      ASSERT_EQ(fa.size(), fb.size()) << la;
      if (lines++ == 0) continue;
      for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(fa[i], fb[i]) << la;
      for (std::size_t i = 4; i < 6; ++i) EXPECT_NEAR(std::stod(fa[i]), std::stod(fb[i]), 1e-6) << la << " / " << lb;
    }
    EXPECT_EQ(lines, 64u * 3 * 2 + 1);
  }
  std::istringstream out(r.out);
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "position\tref\talt\toutput\tbeta\tse");
  std::size_t count = 0, zero_rows = 0;
  bool nonzero = false;
  while (std::getline(out, line)) {
    const auto f = test::split_tabs(line);
    ASSERT_EQ(f.size(), 6u) << line;
    EXPECT_EQ(f[3], count % 2 == 0 ? "1:1" : "0:5");
    ++count;
    if ((f[1] == "G" && f[2] == "T") || (f[1] == "T" && f[2] == "G")) {
      EXPECT_EQ(f[4], "0") << line;
      EXPECT_EQ(f[5], "0") << line;
      ++zero_rows;
    } else {
      nonzero = nonzero || f[4] != "0";
    }
  }
  EXPECT_EQ(count, 64u * 3 * 2);
  EXPECT_GT(zero_rows, 0u);
  EXPECT_TRUE(nonzero);
}

// The same graph model on the kernels backend (--backend kernels: deepmr's own kernels, the full
// engine, which auto picks there): the torch backend's effects within float32 rounding, G <-> T rows
// exactly 0 under paired masks; --threads 2 gives the same bytes.
TEST(IsmCommand, GraphModelRunsOnTheKernelsBackend) {
  const std::string model = test::binary_dir() + "/test-fixtures/graphs/bpnet_dropout_scripted.pt";
  const auto rows = test::read_rows(test::binary_dir() + "/test-fixtures/graphs/bpnet_dropout_scripted.graph_outputs.tsv");
  const std::string sequence = rows.at(0).at(0);
  const std::string arguments = " --model " + quote(model) + " --sequence " + sequence + " --outputs 1:1,0:5 --mc-samples 3";
  const std::string common = ism() + arguments;  // one thread
  auto kernels = run(common + " --backend kernels");
  ASSERT_EQ(kernels.status, 0) << kernels.err;
  EXPECT_TRUE(kernels.err.empty()) << kernels.err;
  auto two = run(test::deepmr_binary() + " ism --threads 2" + arguments + " --backend kernels --engine full");
  ASSERT_EQ(two.status, 0) << two.err;
  EXPECT_EQ(two.out, kernels.out);
  auto torch = run(common + " --backend torch --engine full");
  ASSERT_EQ(torch.status, 0) << torch.err;
  std::istringstream a(kernels.out), b(torch.out);
  std::string la, lb;
  std::size_t lines = 0, zero_rows = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    const auto fa = test::split_tabs(la), fb = test::split_tabs(lb);
    ASSERT_EQ(fa.size(), 6u) << la;
    ASSERT_EQ(fa.size(), fb.size()) << la;
    if (lines++ == 0) {
      EXPECT_EQ(la, lb);
      continue;
    }
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(fa[i], fb[i]) << la;
    for (std::size_t i = 4; i < 6; ++i) EXPECT_NEAR(std::stod(fa[i]), std::stod(fb[i]), 1e-5) << la << " / " << lb;
    if ((fa[1] == "G" && fa[2] == "T") || (fa[1] == "T" && fa[2] == "G")) {
      EXPECT_EQ(fa[4], "0") << la;
      EXPECT_EQ(fa[5], "0") << la;
      ++zero_rows;
    }
  }
  EXPECT_EQ(lines, 64u * 3 * 2 + 1);
  EXPECT_GT(zero_rows, 0u);
}

struct BadCase {
  std::string name;
  std::string arguments;
  int status;
  std::string message;
};

// Test names and failure messages show the case's name rather than its bytes.
void PrintTo(const BadCase& c, std::ostream* out) { *out << c.name; }

class IsmBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(IsmBadInput, OneLineAndTheDocumentedExitCode) {
  const auto& c = GetParam();
  auto r = run(ism() + " " + c.arguments);
  EXPECT_EQ(r.status, c.status) << r.err;
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 200);
}

const std::string small = "--model " + fixture_model("conv1d_small") + " --outputs 0 ";
const std::string seq60 = std::string(60, 'A');

INSTANTIATE_TEST_SUITE_P(
    Cases, IsmBadInput,
    ::testing::Values(
        BadCase{"graph_incremental_on_kernels", "--model " + fixture_model("unsupported_layer") +
                " --backend kernels --engine incremental --outputs 0 --sequence ACGTACGTAC", 4,
                "graphs run incrementally on the torch backend only"},
        BadCase{"wrong_input_channels", "--model " + fixture_model("six_channels") + " --outputs 0 --sequence ACGTACGTAC", 4,
                "takes 6 input channels"},
        BadCase{"not_a_stack", "--model " + fixture_model("two_branches") + " --outputs 0 --sequence ACGTACGTAC", 4,
                "unsupported op aten::sum"},
        BadCase{"missing_model", "--model /nonexistent.pt --outputs 0 --sequence " + seq60, 4, "cannot read the model file"},
        BadCase{"unknown_output", "--model " + fixture_model("conv1d_small") + " --sequence " + seq60 +
                " --outputs 'HepG2|FOXA9|None'", 4, "unknown output 'HepG2|FOXA9|None'"},
        BadCase{"output_out_of_range", "--model " + fixture_model("conv1d_small") + " --sequence " + seq60 + " --outputs 5", 4,
                "out of range"},
        BadCase{"wrong_length", small + "--sequence ACGTACGT", 3, "the window has 8 bases but the model takes 60"},
        BadCase{"length_outside_model_range", "--model " + fixture_model("traced_conv1d") + " --outputs 0 --sequence " +
                    std::string(61, 'A'), 4, "accepts input lengths 58 to 60, but --sequence has 61 bases"},
        BadCase{"bad_character", small + "--sequence ACGTXCGT", 3, "character 'X' at position 4"},
        BadCase{"n_in_sequence", small + "--sequence ACGTNCGT", 3, "character 'N' at position 4"},
        BadCase{"bad_region_syntax", small + "--fasta x.fa --region chr1:100", 2, "is not CHR:START-END"},
        BadCase{"missing_sequence", small, 2, "give either --sequence or --fasta"},
        BadCase{"positions_past_the_window", small + "--sequence " + seq60 + " --positions 50-60", 2,
                "option 'positions': 50-60 is not within the window of 60 bases"},
        BadCase{"positions_not_a_range", small + "--sequence " + seq60 + " --positions 7", 2,
                "option 'positions': '7' is not FIRST-LAST"},
        BadCase{"positions_with_two_dashes", small + "--sequence " + seq60 + " --positions 5-3-2", 2,
                "option 'positions': '5-3-2' is not FIRST-LAST"},
        BadCase{"positions_reversed", small + "--sequence " + seq60 + " --positions 9-3", 2,
                "option 'positions': 9-3 ends before it starts"},
        BadCase{"bad_dropout", small + "--sequence " + seq60 + " --dropout maybe", 2, "option 'dropout'"},
        BadCase{"negative_samples", small + "--sequence " + seq60 + " --mc-samples -1", 2, "mc-samples"},
        BadCase{"negative_region_id", small + "--sequence " + seq60 + " --region-id -1", 2,
                "option 'region-id': expected an integer from 0 to 4294967295, got '-1'"},
        BadCase{"region_id_past_32_bits", small + "--sequence " + seq60 + " --region-id 4294967296", 2,
                "option 'region-id'"},
        BadCase{"negative_seed", small + "--sequence " + seq60 + " --seed -1", 2,
                "option 'seed': expected a non-negative integer"},
        BadCase{"bad_device", small + "--sequence " + seq60 + " --device gpu7", 2, "unknown device 'gpu7'"},
        BadCase{"cuda_unavailable", small + "--sequence " + seq60 + " --device cuda:0", 4, "sees no CUDA GPU"},
        BadCase{"unknown_option", small + "--sequence " + seq60 + " --mc-sample 3", 2, "mc-sample"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(IsmCommand, HelpDescribesTheContract) {
  auto r = run(test::deepmr_binary() + " ism --help");
  ASSERT_EQ(r.status, 0);
  for (const char* option : {"--model", "--targets", "--sequence", "--fasta", "--region", "--outputs", "--mc-samples",
                             "--seed", "--dropout", "--batch", "--device", "--format"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

}  // namespace
}  // namespace deepmr
