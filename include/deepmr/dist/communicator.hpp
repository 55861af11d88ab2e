#pragma once
// A thin, typed wrapper over an MPI communicator: the only place deepmr calls MPI directly for
// point-to-point and collective operations on plain data.

#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deepmr/common/error.hpp"

namespace deepmr::dist {

// Owns MPI_Init_thread / MPI_Finalize for the process. Constructed once, in main, by commands that
// run distributed; commands that do not need MPI never initialise it.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  static bool initialized();
};

// The version string of the MPI library this build links (e.g. "Open MPI v4.1.4").
std::string mpi_library_version();

class Communicator {
 public:
  explicit Communicator(MPI_Comm comm) : comm_(comm) {}
  static Communicator world() { return Communicator(MPI_COMM_WORLD); }

  MPI_Comm handle() const { return comm_; }
  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }

  void barrier() const;
  std::int64_t allreduce_sum(std::int64_t value) const;
  std::int64_t allreduce_max(std::int64_t value) const;
  double allreduce_max(double value) const;
  std::int64_t broadcast(std::int64_t value, int root) const;
  double broadcast_double(double value, int root) const;
  std::string broadcast(const std::string& value, int root) const;
  std::vector<std::int64_t> allgather(std::int64_t value) const;

  // Point to point: a message is a byte string with a tag.
  void send(const std::string& bytes, int destination, int tag) const;
  struct Message {
    std::string bytes;
    int source = -1;
    int tag = -1;
  };
  // Blocks until a message from `source` (or MPI_ANY_SOURCE) with `tag` (or MPI_ANY_TAG) arrives.
  Message receive(int source = MPI_ANY_SOURCE, int tag = MPI_ANY_TAG) const;
  // The same, but polls and sleeps (up to 1 ms) while nothing arrives instead of spinning in MPI:
  // a coordinator waiting on its workers leaves its core to them.
  Message receive_politely(int source = MPI_ANY_SOURCE, int tag = MPI_ANY_TAG) const;

  // Ranks that share a node, numbered from 0 (MPI_COMM_TYPE_SHARED): binds GPUs per node.
  Communicator split_node_local() const;

 private:
  MPI_Comm comm_;
};

// What every rank learns when at least one rank failed: the lowest failing rank and its error.
struct RankFailure {
  int rank = -1;
  ExitCode code = ExitCode::internal;
  std::string message;
};

// Collective. Each rank passes its own failure (or nothing); every rank gets the same answer: the
// failure of the lowest failing rank, or nothing when all succeeded. Used to end a job with one
// rank's message on all ranks instead of hanging the others.
std::optional<RankFailure> agree_on_failure(const Communicator& comm,
                                            const std::optional<RankFailure>& local);

}  // namespace deepmr::dist
