/* A full disk on demand, for the corpus (LD_PRELOAD): writes to files whose name ends in
 * $DEEPMR_TEST_ENOSPC_SUFFIX fail with ENOSPC once $DEEPMR_TEST_ENOSPC_AFTER bytes (default 0)
 * have gone to them in this process. It reaches what a small tmpfs cannot: a disk that fills
 * after the store's space check passed, in the middle of HDF5's writes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long long written_so_far = 0;

static int fails(int fd, size_t size) {
  const char* suffix = getenv("DEEPMR_TEST_ENOSPC_SUFFIX");
  if (!suffix || !*suffix) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  const size_t length = strlen(suffix);
  if ((size_t)n < length || strcmp(path + n - length, suffix) != 0) return 0;
  const char* after = getenv("DEEPMR_TEST_ENOSPC_AFTER");
  const long long allowed = after ? atoll(after) : 0;
  if (written_so_far + (long long)size <= allowed) {
    written_so_far += (long long)size;
    return 0;
  }
  errno = ENOSPC;
  return 1;
}

static size_t total(const struct iovec* iov, int count) {
  size_t sum = 0;
  for (int i = 0; i < count; ++i) sum += iov[i].iov_len;
  return sum;
}

ssize_t write(int fd, const void* data, size_t size) {
  static ssize_t (*real)(int, const void*, size_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
  return fails(fd, size) ? -1 : real(fd, data, size);
}

ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t);
  if (!real) real = (ssize_t(*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  return fails(fd, size) ? -1 : real(fd, data, size, offset);
}

ssize_t pwrite64(int fd, const void* data, size_t size, off_t offset) { return pwrite(fd, data, size, offset); }

ssize_t writev(int fd, const struct iovec* iov, int count) {
  static ssize_t (*real)(int, const struct iovec*, int);
  if (!real) real = (ssize_t(*)(int, const struct iovec*, int))dlsym(RTLD_NEXT, "writev");
  return fails(fd, total(iov, count)) ? -1 : real(fd, iov, count);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  static ssize_t (*real)(int, const struct iovec*, int, off_t);
  if (!real) real = (ssize_t(*)(int, const struct iovec*, int, off_t))dlsym(RTLD_NEXT, "pwritev");
  return fails(fd, total(iov, count)) ? -1 : real(fd, iov, count, offset);
}

ssize_t pwritev64(int fd, const struct iovec* iov, int count, off_t offset) { return pwritev(fd, iov, count, offset); }
