#pragma once
// One job per store: the coordinator of a run holds a POSIX record lock (fcntl) on
// <store>.journal/lock for as long as the run lives, and writes its host and pid into it. A
// second job on the same store is refused at start, naming them. The kernel (or, on NFS, the
// lock server when the client's lease ends) drops the lock of a killed job, so a stale lock
// never blocks a resume. File systems without record locks (some Lustre mounts without
// -o flock) get a warning and no protection (docs/reliability.md).

#include <functional>
#include <memory>
#include <string>

namespace deepmr::store {

class JournalLock {
 public:
  // Takes the lock of `journal_dir` (which must exist), or throws StoreError naming the store
  // and, as written in the lock, the other job's host and pid. `warn` receives one line when
  // the file system cannot lock.
  JournalLock(const std::string& journal_dir, const std::string& store_path, const std::function<void(const std::string&)>& warn);
  ~JournalLock();
  JournalLock(const JournalLock&) = delete;
  JournalLock& operator=(const JournalLock&) = delete;

  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// "host <name>, pid <n>": who this process is, as written into the lock.
std::string lock_owner_text();

}  // namespace deepmr::store
