#include "deepmr/dist/communicator.hpp"

#include "deepmr/common/leak_check.hpp"
#include "deepmr/dist/mpi_native.hpp"
#include "deepmr/dist/unanswered_failure.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

namespace deepmr::dist {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw InternalError(std::string("MPI call ") + what + " failed: " + std::string(text, length));
}

int source_of(int source) { return source == Communicator::any_source ? MPI_ANY_SOURCE : source; }
int tag_of(int tag) { return tag == Communicator::any_tag ? MPI_ANY_TAG : tag; }

}  // namespace

Communicator::Native::~Native() {
  int finalized = 1;
  MPI_Finalized(&finalized);
  if (owned && !finalized && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
}

Communicator Communicator::world() {
  static const auto world = std::make_shared<const Native>(Native{MPI_COMM_WORLD, false});
  return Communicator(world);
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  // Funneled: only the main thread talks to MPI; compute threads never do.
  {
    LeakCheckPause pause;  // Open MPI's process-lifetime state (common/leak_check.hpp)
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  }
  // Errors come back as codes and become exceptions instead of aborting the job without a message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) {
    LeakCheckPause pause;
    MPI_Finalize();
  }
}

bool MpiSession::initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, length);
  // Open MPI appends a package and a date after a comma; the first part names the library.
  if (auto comma = version.find(','); comma != std::string::npos) version.resize(comma);
  while (!version.empty() && (version.back() == '\n' || version.back() == ' ' || version.back() == '\0'))
    version.pop_back();
  return version;
}

std::string mpi_standard_version() { return std::to_string(MPI_VERSION) + "." + std::to_string(MPI_SUBVERSION); }

int Communicator::rank() const {
  int r = 0;
  check(MPI_Comm_rank(native_->comm, &r), "MPI_Comm_rank");
  return r;
}

int Communicator::size() const {
  int s = 0;
  check(MPI_Comm_size(native_->comm, &s), "MPI_Comm_size");
  return s;
}

void Communicator::barrier() const { check(MPI_Barrier(native_->comm), "MPI_Barrier"); }

std::int64_t Communicator::allreduce_sum(std::int64_t value) const {
  std::int64_t out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_SUM, native_->comm), "MPI_Allreduce");
  return out;
}

std::int64_t Communicator::allreduce_max(std::int64_t value) const {
  std::int64_t out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_MAX, native_->comm), "MPI_Allreduce");
  return out;
}

double Communicator::allreduce_max(double value) const {
  double out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, native_->comm), "MPI_Allreduce");
  return out;
}

std::int64_t Communicator::broadcast(std::int64_t value, int root) const {
  check(MPI_Bcast(&value, 1, MPI_INT64_T, root, native_->comm), "MPI_Bcast");
  return value;
}

double Communicator::broadcast_double(double value, int root) const {
  check(MPI_Bcast(&value, 1, MPI_DOUBLE, root, native_->comm), "MPI_Bcast");
  return value;
}

std::string Communicator::broadcast(const std::string& value, int root) const {
  auto length = broadcast(static_cast<std::int64_t>(value.size()), root);
  std::string out = rank() == root ? value : std::string(static_cast<std::size_t>(length), '\0');
  if (length > 0) check(MPI_Bcast(out.data(), static_cast<int>(length), MPI_CHAR, root, native_->comm), "MPI_Bcast");
  return out;
}

std::vector<std::int64_t> Communicator::allgather(std::int64_t value) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(size()));
  check(MPI_Allgather(&value, 1, MPI_INT64_T, out.data(), 1, MPI_INT64_T, native_->comm), "MPI_Allgather");
  return out;
}

void Communicator::send(const std::string& bytes, int destination, int tag) const {
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, destination, tag, native_->comm), "MPI_Send");
}

Communicator::Message Communicator::receive(int source, int tag) const {
  MPI_Status status;
  check(MPI_Probe(source_of(source), tag_of(tag), native_->comm, &status), "MPI_Probe");
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  Message message;
  message.bytes.resize(static_cast<std::size_t>(count));
  message.source = status.MPI_SOURCE;
  message.tag = status.MPI_TAG;
  check(MPI_Recv(message.bytes.data(), count, MPI_BYTE, message.source, message.tag, native_->comm, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return message;
}

Communicator::Message Communicator::receive_politely(int source, int tag) const {
  int pending = 0;
  MPI_Status status;
  // Spin briefly (dispatch bursts), then back off to at most a millisecond per poll.
  for (int polls = 0;; ++polls) {
    check(MPI_Iprobe(source_of(source), tag_of(tag), native_->comm, &pending, &status), "MPI_Iprobe");
    if (pending) return receive(status.MPI_SOURCE, status.MPI_TAG);
    if (polls > 1000) std::this_thread::sleep_for(std::chrono::microseconds(std::min(1000, (polls - 1000) * 10)));
  }
}

Communicator Communicator::split_node_local() const {
  MPI_Comm local = MPI_COMM_NULL;
  check(MPI_Comm_split_type(native_->comm, MPI_COMM_TYPE_SHARED, rank(), MPI_INFO_NULL, &local),
        "MPI_Comm_split_type");
  auto native = std::make_shared<Native>();
  native->comm = local;
  native->owned = true;
  return Communicator(std::move(native));
}

std::optional<RankFailure> agree_on_failure(const Communicator& comm,
                                            const std::optional<RankFailure>& local) {
  std::optional<FailureWatchdog> watchdog;  // a failing rank never waits forever for the others
  if (local) watchdog.emplace(*local, kUnansweredFailureSeconds);
  const std::int64_t none = std::numeric_limits<std::int64_t>::max();
  std::int64_t mine = local ? comm.rank() : none;
  std::int64_t first = 0;
  check(MPI_Allreduce(&mine, &first, 1, MPI_INT64_T, MPI_MIN, native_handle(comm)), "MPI_Allreduce");
  if (first == none) return std::nullopt;
  const int root = static_cast<int>(first);
  RankFailure failure;
  failure.rank = root;
  failure.code = static_cast<ExitCode>(
      comm.broadcast(local && comm.rank() == root ? static_cast<std::int64_t>(local->code) : 0, root));
  failure.message = comm.broadcast(local && comm.rank() == root ? local->message : std::string(), root);
  return failure;
}

}  // namespace deepmr::dist
