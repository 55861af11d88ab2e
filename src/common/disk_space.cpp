#include "deepmr/common/disk_space.hpp"

#include <sys/statvfs.h>

#include <cstdio>
#include <filesystem>

namespace deepmr {

std::optional<std::uint64_t> free_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path probe = fs::absolute(path, ec);
  if (ec) return std::nullopt;
  while (!probe.empty() && !fs::exists(probe, ec)) probe = probe.parent_path();
  struct statvfs info {};
  if (probe.empty() || ::statvfs(probe.c_str(), &info) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

std::string full_disk_note(const std::string& path) {
  constexpr std::uint64_t kNearlyFull = 1 << 20;  // less than a store's metadata needs
  const auto left = free_bytes(path);
  if (!left || *left >= kNearlyFull) return "";
  const auto directory = std::filesystem::absolute(path).parent_path().string();
  return " (No space left on device: " + directory + " has " + byte_size_text(*left) + " free)";
}

std::string byte_size_text(std::uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

}  // namespace deepmr
