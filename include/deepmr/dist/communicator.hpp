#pragma once
// A thin, typed wrapper over an MPI communicator: the seam behind which deepmr uses MPI. No MPI
// type appears here, so the layers above include this without <mpi.h>; the one code that must hand
// the raw communicator to a library (the store's MPI-IO) gets it from dist/mpi_native.hpp.

#include <cstdint>
#include <memory>
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
// The MPI standard version the headers declare (e.g. "3.1").
std::string mpi_standard_version();

class Communicator {
 public:
  static constexpr int any_source = -1;  // MPI_ANY_SOURCE
  static constexpr int any_tag = -1;     // MPI_ANY_TAG

  static Communicator world();

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
  // Blocks until a message from `source` (or any_source) with `tag` (or any_tag) arrives.
  Message receive(int source = any_source, int tag = any_tag) const;
  // The same, but polls and sleeps (up to 1 ms) while nothing arrives instead of spinning in MPI:
  // a coordinator waiting on its workers leaves its core to them.
  Message receive_politely(int source = any_source, int tag = any_tag) const;

  // Ranks that share a node, numbered from 0 (MPI_COMM_TYPE_SHARED): binds GPUs per node.
  Communicator split_node_local() const;

  struct Native;  // the MPI communicator (dist/mpi_native.hpp)
  const Native& native() const { return *native_; }

 private:
  explicit Communicator(std::shared_ptr<const Native> native) : native_(std::move(native)) {}
  std::shared_ptr<const Native> native_;
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
