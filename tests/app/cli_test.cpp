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
