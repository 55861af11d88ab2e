// Feeds bytes to the FASTA readers. Input whose first byte is even (a FASTA starts with '>') is a
// FASTA file: its index is built (FastaIndex::build through FastaReader, which writes the .fai),
// every record is fetched in pieces, and the FASTA is opened again so that the .fai it wrote is
// read and checked. Input whose first byte is odd (a .fai starts with a name) is a .fai file next
// to a fixed two-record FASTA: FastaIndex::read, the index check and fetches through it.

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "deepmr/genome/fasta_reader.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace deepmr;

// hg38 chr22:32,000,000-32,000,220 (data/genome, from kipoi/kipoiseq tests/data, MIT license),
// as two records of 60-base lines.
constexpr char kFixedFasta[] =
    ">chr22 hg38 excerpt\n"
    "AAGTTCCGGGATACATGTGCTGAACATGCAGGTTTGTTACATAGGTATACATGTGGTATA\n"
    "CATGTTACATAGGTATACATGTTACATAGTTATACCTATGTATACATAGG\n"
    ">chrB second record\n"
    "TATACATGTTACATAGTTATACCTATGTATACATAGGTATACATGTTACATAGTTATACC\n"
    "TATGTATACATAGGTATACATGTTACATAGTTATACCTATGTATACATAG\n";

// A few windows of every sequence, at most 1000 bases each (a .fai may claim any length).
void fetch_some(const genome::FastaReader& reader) {
  std::string bases;
  for (std::uint32_t id = 0; id < reader.index().size(); ++id) {
    const std::uint64_t length = reader.length(id);
    const std::uint64_t span = std::min<std::uint64_t>(length, 1000);
    reader.fetch(id, 0, span, bases);
    reader.fetch(id, length - span, length, bases);
    reader.fetch(id, length / 2, std::min(length, length / 2 + 7), bases);
    reader.sequence_id(reader.name(id));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || data[0] % 2 == 0) {
    const std::string fasta = fuzz::write_file("input.fa", data, size);
    std::filesystem::remove(fasta + ".fai");
    fuzz::expect_clean([&] {
      genome::FastaReader built(fasta);
      fetch_some(built);
      genome::FastaReader reread(fasta);  // reads and checks the .fai the first one wrote
      fetch_some(reread);
    });
  } else {
    const std::string fasta = fuzz::write_file("fixed.fa", kFixedFasta, sizeof kFixedFasta - 1);
    fuzz::write_file("fixed.fa.fai", data, size);
    genome::FastaOptions options;
    options.write_index = false;
    fuzz::expect_clean([&] {
      genome::FastaReader reader(fasta, options);
      fetch_some(reader);
    });
  }
  return 0;
}
