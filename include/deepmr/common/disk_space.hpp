#pragma once
// Free space where a file goes: checked before a large write (the store) so that a full disk is
// reported up front with what is needed, and named when a write fails for lack of it.

#include <cstdint>
#include <optional>
#include <string>

namespace deepmr {

// Bytes an unprivileged writer may still use on the file system holding `path` (a file or a
// directory, which need not exist yet: its parent is asked); nullopt when it cannot be told.
std::optional<std::uint64_t> free_bytes(const std::string& path);

// " (No space left on device: DIR has N KiB free)" when the file system of `path` is (nearly)
// full, else "": appended to messages of failed writes whose library hides errno.
std::string full_disk_note(const std::string& path);

// "12.3 MiB": sizes in messages.
std::string byte_size_text(std::uint64_t bytes);

}  // namespace deepmr
