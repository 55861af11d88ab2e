#include "deepmr/dist/unanswered_failure.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace deepmr::dist {
namespace {

std::mutex handler_mutex;
std::function<void(const RankFailure&)> handler;

void default_handler(const RankFailure& failure) {
  std::fprintf(stderr, "deepmr: error: %s\n", failure.message.c_str());
  std::fflush(stderr);
  std::_Exit(static_cast<int>(failure.code));
}

}  // namespace

void set_unanswered_failure_handler(std::function<void(const RankFailure&)> h) {
  std::lock_guard<std::mutex> lock(handler_mutex);
  handler = std::move(h);
}

struct FailureWatchdog::State {
  std::mutex mutex;
  std::condition_variable disarmed_signal;
  bool disarmed = false;
  std::thread thread;
};

FailureWatchdog::FailureWatchdog(RankFailure failure, double seconds) : state_(std::make_shared<State>()) {
  state_->thread = std::thread([state = state_, failure = std::move(failure), seconds] {
    std::unique_lock<std::mutex> lock(state->mutex);
    if (state->disarmed_signal.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return state->disarmed; }))
      return;
    std::function<void(const RankFailure&)> h;
    {
      std::lock_guard<std::mutex> guard(handler_mutex);
      h = handler;
    }
    RankFailure unanswered = failure;
    unanswered.message += " (rank " + std::to_string(failure.rank) + "; the other ranks did not answer for " +
                          std::to_string(static_cast<int>(seconds)) + " s, so this rank ends the job)";
    (h ? h : default_handler)(unanswered);
    default_handler(unanswered);  // a handler must not return
  });
}

FailureWatchdog::~FailureWatchdog() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->disarmed = true;
  }
  state_->disarmed_signal.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace deepmr::dist
