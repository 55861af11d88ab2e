#include "thread_team.hpp"

namespace deepmr::stats::detail {

ThreadTeam::ThreadTeam(std::size_t workers) : errors_(workers == 0 ? 1 : workers) {
  try {
    for (std::size_t w = 1; w < errors_.size(); ++w) threads_.emplace_back([this, w] { serve(w); });
  } catch (...) {
    stop();  // the threads already started
    throw;
  }
}

ThreadTeam::~ThreadTeam() { stop(); }

void ThreadTeam::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

void ThreadTeam::serve(std::size_t worker) {
  std::size_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    start_.wait(lock, [&] { return stopping_ || round_ != seen; });
    if (stopping_) return;
    seen = round_;
    const auto* job = job_;
    lock.unlock();
    try {
      (*job)(worker);
    } catch (...) {
      errors_[worker] = std::current_exception();
    }
    lock.lock();
    if (--running_ == 0) finished_.notify_one();
  }
}

void ThreadTeam::run(const std::function<void(std::size_t)>& job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    running_ = threads_.size();
    ++round_;
  }
  start_.notify_all();
  try {
    job(0);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [&] { return running_ == 0; });
  }
  std::exception_ptr first;
  for (auto& error : errors_) {
    if (error && !first) first = error;
    error = nullptr;
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace deepmr::stats::detail
