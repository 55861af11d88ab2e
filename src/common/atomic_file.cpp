#include "deepmr/common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace deepmr {

void sync_directory(const std::string& directory) {
  int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           const std::string& what, ExitCode code, Durability durability) {
  const std::string temporary = path + ".tmp";
  auto fail = [&](const std::string& file, const std::string& reason) {
    std::remove(temporary.c_str());
    throw Error(code, what + ": cannot write " + file + " (" + reason + ")");
  };
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(temporary, std::strerror(errno));
    write(out);
    out.flush();
    if (!out) fail(temporary, "disk full?");
  }
  if (durability == Durability::synced) {
    int fd = ::open(temporary.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) fail(path, std::strerror(errno));
  if (durability == Durability::synced) sync_directory(std::filesystem::path(path).parent_path().string());
}

}  // namespace deepmr
