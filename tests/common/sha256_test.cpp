#include "deepmr/common/sha256.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"
#include "test_support.hpp"

namespace deepmr {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, KnownDigests) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  test::TempDir dir;
  test::write_text(dir.file("abc"), "abc");
  EXPECT_EQ(sha256_file(dir.file("abc")), sha256_hex("abc"));
  EXPECT_THROW(sha256_file(dir.file("absent")), InputError);
}

}  // namespace
}  // namespace deepmr
