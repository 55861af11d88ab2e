#pragma once
// SHA-256 digests (OpenSSL) for provenance: the model file of a run, the plan it covers.

#include <string>
#include <string_view>

namespace deepmr {

// Lower-case hex digest of some bytes.
std::string sha256_hex(std::string_view bytes);
// Lower-case hex digest of a file's contents; throws InputError when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace deepmr
