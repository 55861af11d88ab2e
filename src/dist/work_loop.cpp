#include "deepmr/dist/work_loop.hpp"

#include <chrono>

#include "deepmr/common/bytes.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/dist/collective_step.hpp"

namespace deepmr::dist {
namespace {

enum Tag : int { kRequest = 11, kBatch = 12, kFailure = 13 };

using Clock = std::chrono::steady_clock;
double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Worker -> coordinator: the regions made durable since the last request, whether this worker
// wants the run to stop, and (in its last request) its timing.
struct Request {
  bool stop = false;
  bool last = false;
  std::vector<std::uint64_t> done;
  std::vector<std::uint8_t> failed;
  RankTiming timing;
};

std::string encode(const Request& r) {
  ByteWriter w;
  w.put(static_cast<std::uint8_t>(r.stop));
  w.put(static_cast<std::uint8_t>(r.last));
  w.put_array(r.done);
  w.put_array(r.failed);
  w.put(r.timing);
  return w.take();
}

Request decode_request(const std::string& bytes) {
  ByteReader<> in(bytes, "work request");
  Request r;
  r.stop = in.get<std::uint8_t>() != 0;
  r.last = in.get<std::uint8_t>() != 0;
  r.done = in.get_array<std::uint64_t>();
  r.failed = in.get_array<std::uint8_t>();
  r.timing = in.get<RankTiming>();
  return r;
}

std::string encode_batch(const std::vector<std::uint64_t>& regions) {
  ByteWriter w;
  w.put_array(regions);
  return w.take();
}

std::vector<std::uint64_t> decode_batch(const std::string& bytes) {
  ByteReader<> in(bytes, "work batch");
  return in.get_array<std::uint64_t>();
}

std::string encode_failure(const RankFailure& f) {
  ByteWriter w;
  w.put(static_cast<std::int32_t>(f.code));
  w.put_string(f.message);
  return w.take();
}

RankFailure decode_failure(const std::string& bytes, int rank) {
  ByteReader<> in(bytes, "failure report");
  RankFailure f;
  f.rank = rank;
  f.code = static_cast<ExitCode>(in.get<std::int32_t>());
  f.message = in.get_string();
  return f;
}


// Computes one region into the timing; returns false when a stop request interrupted it.
bool compute_one(const WorkLoopHooks& hooks, std::uint64_t region, RankTiming& timing, RegionReport& report) {
  try {
    report = hooks.compute(region);
  } catch (const StoppedEarly&) {
    return false;
  }
  ++timing.regions;
  timing.seconds_ism += report.seconds_ism;
  timing.seconds_mr += report.seconds_mr;
  timing.seconds_io += report.seconds_io;
  return true;
}

// The group commit before regions are reported (counted) done.
void make_durable(const WorkLoopHooks& hooks, RankTiming& timing) {
  if (hooks.finish) timing.seconds_mr += hooks.finish();
  if (hooks.make_durable) timing.seconds_io += hooks.make_durable();
}

// P = 1: the coordinator works too.
void single_process(Scheduler& scheduler, const WorkLoopHooks& hooks, WorkLoopOutcome& outcome,
                    std::optional<RankFailure>& failure) {
  const auto start = Clock::now();
  auto last_progress = start;
  RankTiming timing;
  try {
    for (auto batch = scheduler.next_batch(); !batch.empty(); batch = scheduler.next_batch()) {
      // A batch is computed, made durable at once, then counted done.
      std::vector<std::pair<std::uint64_t, bool>> computed;
      for (std::uint64_t region : batch) {
        RegionReport report;
        if (hooks.stop_requested() || !compute_one(hooks, region, timing, report)) {
          scheduler.stop();
          break;
        }
        computed.emplace_back(region, report.failed);
      }
      make_durable(hooks, timing);
      for (const auto& [region, failed] : computed) scheduler.complete(region, failed);
      if (hooks.progress && since(last_progress) >= hooks.progress_seconds) {
        hooks.progress(scheduler, since(start));
        last_progress = Clock::now();
      }
      if (scheduler.stopping()) break;
    }
  } catch (...) {
    failure = rank_failure(0, std::current_exception());
  }
  timing.seconds_total = since(start);
  outcome.timings.push_back(timing);
}

void coordinate(const Communicator& comm, Scheduler& scheduler, const WorkLoopHooks& hooks, WorkLoopOutcome& outcome,
                std::optional<RankFailure>& failure) {
  const auto start = Clock::now();
  auto last_progress = start;
  int active = comm.size() - 1;
  while (active > 0) {
    auto message = comm.receive_politely(Communicator::any_source, Communicator::any_tag);
    // A failure here (or reported by a worker) stops the hand-out, but the coordinator keeps
    // answering until every worker has sent its last request: no rank is left waiting.
    bool last = false;
    try {
      if (hooks.stop_requested()) scheduler.stop();
      if (message.tag == kFailure) {
        if (!failure) failure = decode_failure(message.bytes, message.source);
        scheduler.stop();
      } else if (message.tag == kRequest) {
        Request request = decode_request(message.bytes);
        last = request.last;
        if (last) {
          request.timing.rank = message.source;
          outcome.timings.push_back(request.timing);
        }
        if (request.stop) scheduler.stop();
        for (std::size_t i = 0; i < request.done.size(); ++i) scheduler.complete(request.done[i], request.failed[i] != 0);
        if (hooks.progress && since(last_progress) >= hooks.progress_seconds) {
          hooks.progress(scheduler, since(start));
          last_progress = Clock::now();
        }
      } else {
        throw InternalError("coordinator: unexpected message tag " + std::to_string(message.tag));
      }
    } catch (...) {
      if (!failure) failure = rank_failure(0, std::current_exception());
      scheduler.stop();
    }
    if (last) --active;
    else if (message.tag == kRequest) comm.send(encode_batch(scheduler.next_batch()), message.source, kBatch);
  }
}

void work(const Communicator& comm, const WorkLoopHooks& hooks, bool& stopped) {
  const auto start = Clock::now();
  RankTiming timing;
  timing.rank = comm.rank();
  Request request;
  bool failed = false;
  auto report_failure = [&] {
    if (!failed) comm.send(encode_failure(rank_failure(comm.rank(), std::current_exception())), 0, kFailure);
    failed = true;
  };
  // The regions of a request are made durable before the coordinator counts them; when that fails
  // they are not reported (they stay pending: a resume computes them again).
  auto commit = [&] {
    if (request.done.empty()) return;
    try {
      make_durable(hooks, timing);
    } catch (...) {
      report_failure();
      request.done.clear();
      request.failed.clear();
    }
  };
  for (;;) {
    request.stop = stopped || hooks.stop_requested();
    commit();
    const auto wait_start = Clock::now();
    comm.send(encode(request), 0, kRequest);
    const auto batch = decode_batch(comm.receive(0, kBatch).bytes);
    timing.seconds_wait += since(wait_start);
    request.done.clear();
    request.failed.clear();
    if (batch.empty()) break;
    for (std::uint64_t region : batch) {
      if (failed || stopped || hooks.stop_requested()) {
        stopped = stopped || !failed;
        break;  // the rest of the batch stays pending
      }
      RegionReport report;
      try {
        if (!compute_one(hooks, region, timing, report)) {
          stopped = true;
          break;
        }
      } catch (...) {
        // The batch's regions are not reported: with fits still running when compute() failed,
        // a region reported done might have no record. The run fails; a resume redoes them.
        report_failure();
        request.done.clear();
        request.failed.clear();
        break;
      }
      request.done.push_back(region);
      request.failed.push_back(report.failed);
    }
  }
  commit();
  timing.seconds_total = since(start);
  request.last = true;
  request.timing = timing;
  comm.send(encode(request), 0, kRequest);
}

}  // namespace

WorkLoopOutcome run_work_loop(const Communicator& comm, Scheduler& scheduler, const WorkLoopHooks& hooks) {
  WorkLoopOutcome outcome;
  std::optional<RankFailure> failure;  // this rank's view: rank 0 learns workers' failures by message
  bool stopped = false;
  if (comm.size() == 1) {
    single_process(scheduler, hooks, outcome, failure);
    stopped = scheduler.stopping() && !failure;
  } else if (comm.is_root()) {
    coordinate(comm, scheduler, hooks, outcome, failure);
    stopped = scheduler.stopping() && !failure;
  } else {
    work(comm, hooks, stopped);
  }
  outcome.failure = agree_on_failure(comm, comm.is_root() ? failure : std::nullopt);
  outcome.stopped_early = !outcome.failure && comm.allreduce_max(static_cast<std::int64_t>(stopped)) != 0;
  if (comm.is_root()) {
    outcome.units_done = scheduler.units_done();
    outcome.units_failed = scheduler.units_failed();
    outcome.units_total = scheduler.units_total();
  }
  return outcome;
}

}  // namespace deepmr::dist
