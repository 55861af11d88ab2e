#pragma once
// A file written whole or not at all: into <path>.tmp, then renamed over <path>. Readers never see
// a half-written plan or manifest, whatever kills the writer.

#include <functional>
#include <iosfwd>
#include <string>

#include "deepmr/common/error.hpp"

namespace deepmr {

enum class Durability {
  renamed,  // the rename is atomic; the data may still be in the page cache
  synced,   // the file and its directory are fsync'ed before returning (survives a power cut)
};

// Calls write(stream) on the temporary file and renames it into place. On failure throws
// Error(code, "<what>: cannot write <file> (<reason>)") and leaves <path> as it was.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           const std::string& what, ExitCode code, Durability durability);

// fsync of a directory (a rename or a new file in it survives a crash); errors are ignored.
void sync_directory(const std::string& directory);

}  // namespace deepmr
