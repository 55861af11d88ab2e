#include "deepmr/store/journal_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "deepmr/common/error.hpp"

namespace deepmr::store {
namespace {

bool locks_unsupported(int error) { return error == ENOLCK || error == ENOSYS || error == EOPNOTSUPP || error == EINVAL; }

std::string contents_of(int fd) {
  char buffer[512];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

std::string lock_owner_text() {
  char host[256] = "unknown";
  ::gethostname(host, sizeof host - 1);
  return std::string("host ") + host + ", pid " + std::to_string(::getpid());
}

JournalLock::JournalLock(const std::string& journal_dir, const std::string& store_path,
                         const std::function<void(const std::string&)>& warn) {
  const std::string path = journal_dir + "/lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw StoreError(path + ": cannot open the journal's lock file (" + std::strerror(errno) + ")");
  struct flock request {};
  request.l_type = F_WRLCK;
  request.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &request) != 0) {
    const int error = errno;
    if (locks_unsupported(error)) {
      ::close(fd);
      if (warn)
        warn("the file system of " + journal_dir + " cannot lock files (" + std::strerror(error) +
             "): nothing keeps a second job off this store; run one job per store");
      return;
    }
    const std::string owner = contents_of(fd);
    ::close(fd);
    if (error == EACCES || error == EAGAIN)
      throw StoreError(store_path + ": another job is running on this store (" +
                       (owner.empty() ? std::string("owner unknown") : owner) +
                       "); wait for it to end, or give this job another run.store");
    throw StoreError(path + ": cannot lock the journal (" + std::strerror(error) + ")");
  }
  const std::time_t now = std::time(nullptr);
  char started[32];
  std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string owner = lock_owner_text() + ", since " + started + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, owner.data(), owner.size(), 0) != static_cast<ssize_t>(owner.size())) {
    // The lock holds without the note; only the message to a second job would lack the owner.
  }
  fd_ = fd;
}

JournalLock::~JournalLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace deepmr::store
