// The real deepmr binary: help, version and the usage-error contract.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace deepmr {
namespace {

using test::deepmr_binary;
using test::run;

TEST(Cli, VersionNamesEveryLibrary) {
  auto r = run(deepmr_binary() + " --version");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* expected : {"deepmr 0.", "LibTorch 1.", "MPI ", "Open MPI", "HDF5     1.", "(parallel)", "Boost    1.",
                               "Eigen    3.", "zlib", "CUDA", "NCCL"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << r.out;
}

TEST(Cli, HelpListsCommandsAndExitCodes) {
  auto r = run(deepmr_binary() + " --help");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Usage: deepmr <command>"), std::string::npos);
  EXPECT_NE(r.out.find("75 stopped early"), std::string::npos);
}

TEST(Cli, NoArgumentsIsAUsageError) {
  auto r = run(deepmr_binary());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("Usage:"), std::string::npos);
}

TEST(Cli, UnknownCommandIsOneLineAndExitCode2) {
  auto r = run(deepmr_binary() + " frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace deepmr

namespace deepmr {
namespace {

// Config files through the real binary: the command line wins, and a bad key or value is a usage
// error (exit status 2) naming the key, the file and the line.
class CliConfig : public ::testing::Test {
 protected:
  std::string input() {
    test::write_text(dir.file("in.tsv"), "bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.02\n0.2\t0.01\t0.41\t0.02\n"
                                         "0.3\t0.01\t0.59\t0.02\n0.4\t0.01\t0.8\t0.02\n");
    return dir.file("in.tsv");
  }
  test::TempDir dir;
};

TEST_F(CliConfig, CommandLineWinsOverTheFile) {
  test::write_text(dir.file("c.ini"), "input = " + input() + "\nformat = json\nmethods = ivw\n");
  auto from_file = test::run(test::deepmr_binary() + " mr --config " + test::quote(dir.file("c.ini")));
  ASSERT_EQ(from_file.status, 0) << from_file.err;
  EXPECT_EQ(from_file.out.substr(0, 2), "[\n");
  auto overridden = test::run(test::deepmr_binary() + " mr --config " + test::quote(dir.file("c.ini")) + " --format tsv");
  ASSERT_EQ(overridden.status, 0) << overridden.err;
  EXPECT_EQ(overridden.out.substr(0, 7), "method\t");
}

TEST_F(CliConfig, UnknownKeyIsExit2WithKeyFileAndLine) {
  test::write_text(dir.file("c.ini"), "input = " + input() + "\n# comment\nmethodz = ivw\n");
  auto r = test::run(test::deepmr_binary() + " mr --config " + test::quote(dir.file("c.ini")));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(dir.file("c.ini") + ":3: unknown key 'methodz'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(CliConfig, WrongTypeIsExit2WithKeyFileAndLine) {
  test::write_text(dir.file("c.ini"), "input = " + input() + "\nmethods = ivw\nbootstrap = many\n");
  auto r = test::run(test::deepmr_binary() + " mr --config " + test::quote(dir.file("c.ini")));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(test::line_count(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("bootstrap"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("many"), std::string::npos) << r.err;
}

TEST_F(CliConfig, WrongTypeForATypedOptionNamesTheFileLine) {
  test::write_text(dir.file("c.ini"), "model = x.pt\nmc-samples = lots\n");
  auto r = test::run(test::deepmr_binary() + " ism --config " + test::quote(dir.file("c.ini")));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dir.file("c.ini") + ":2: key 'mc-samples'"), std::string::npos) << r.err;
}

TEST_F(CliConfig, EveryCommandHasHelp) {
  for (const char* command : {"mr", "meta", "plan", "ism", "bench"}) {
    auto r = test::run(test::deepmr_binary() + " " + command + " --help");
    EXPECT_EQ(r.status, 0) << command;
    EXPECT_NE(r.out.find(std::string("Usage: deepmr ") + command), std::string::npos) << command;
    EXPECT_NE(r.out.find("--config"), std::string::npos) << command;
  }
}

}  // namespace
}  // namespace deepmr
