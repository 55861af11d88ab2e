// GoogleTest main for tests run under mpirun. Every rank runs every test; the job passes only if
// every rank passes, and all ranks return the same status, so one failing rank fails the test.
// Rank 0 prints the usual report; other ranks print only their failures, prefixed by their rank.
// A test that hangs (a rank stuck in a collective) is ended by CTest's TIMEOUT.

#include <gtest/gtest.h>

#include "deepmr/common/leak_check.hpp"
#include <mpi.h>

#include <iostream>

namespace {

class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (result.failed())
      std::cerr << "[rank " << rank_ << "] " << (result.file_name() ? result.file_name() : "?") << ":"
                << result.line_number() << ": " << result.summary() << std::endl;
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  {
    deepmr::LeakCheckPause pause;  // Open MPI's process-lifetime state (common/leak_check.hpp)
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  int local = RUN_ALL_TESTS() == 0 ? 0 : 1;
  int failed = 0;
  MPI_Allreduce(&local, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && failed && !local) std::cerr << "[rank 0] passed, but another rank failed" << std::endl;
  {
    deepmr::LeakCheckPause pause;
    MPI_Finalize();
  }
  return failed;
}
