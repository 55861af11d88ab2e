#pragma once
// SHA-256 digests (OpenSSL) for provenance: the model file of a run, the plan it covers.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace deepmr {

// A digest fed piece by piece (e.g. every planned window of a run).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  std::string hex();  // lower-case hex; ends the digest

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Lower-case hex digest of some bytes.
std::string sha256_hex(std::string_view bytes);
// Lower-case hex digest of a file's contents; throws InputError when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace deepmr
