// Feeds bytes to the journal reader. First byte even: the rest is a whole part file
// (part-0-0.jrn in a journal directory), framing and all, read by read_journal: torn and corrupt
// records must be skipped. First byte odd: the rest is one record's payload, framed with a valid
// magic, length and CRC, so that read_journal hands it to deserialize.

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "deepmr/store/journal.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace deepmr;
  if (size == 0) return 0;
  const std::string directory = fuzz::scratch() + "/run.h5.journal";
  std::filesystem::create_directories(directory);
  std::string part(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 1) {
    // The frame of journal.cpp: [magic u32][payload bytes u64][crc32 u32][payload].
    const std::uint32_t magic = 0x4a524d44;  // "DMRJ", kMagic of journal.cpp
    const std::uint64_t length = part.size();
    const std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(part.size())));
    char header[16];
    std::memcpy(header, &magic, 4);
    std::memcpy(header + 4, &length, 8);
    std::memcpy(header + 12, &crc, 4);
    part.insert(0, header, sizeof header);
  }
  fuzz::write_file("run.h5.journal/part-0-0.jrn", part.data(), part.size());
  fuzz::expect_clean([&] {
    store::read_journal(directory, [](store::RegionResult&&) {});
  });
  return 0;
}
