#pragma once
// A fixed team of threads for one parallel computation (private to the stats layer): run(job)
// calls job(worker) for every worker 0 .. size() - 1 at once, worker 0 on the calling thread, and
// returns when all have finished. An exception thrown by a job is rethrown by run (the first
// worker's), after every worker has finished, so no thread is left behind.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace deepmr::stats::detail {

class ThreadTeam {
 public:
  explicit ThreadTeam(std::size_t workers);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  std::size_t size() const { return errors_.size(); }
  void run(const std::function<void(std::size_t worker)>& job);

 private:
  void serve(std::size_t worker);
  void stop();

  std::mutex mutex_;
  std::condition_variable start_, finished_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t round_ = 0, running_ = 0;
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> threads_;
};

}  // namespace deepmr::stats::detail
