// BED and narrowPeak readers: the real ENCODE files parse completely (counts and records checked
// against zcat/awk, run by hand while writing this test); every kind of bad line is refused with
// its file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "deepmr/genome/bed_reader.hpp"
#include "genome_test_support.hpp"

namespace deepmr::genome {
namespace {

using namespace testing;

struct FileStats {
  std::uint64_t records = 0, total_length = 0, total_summit = 0;
  std::map<std::string, std::uint64_t> per_chrom;
  std::vector<BedRecord> kept;  // records at the lines asked for, their string views cleared
  std::vector<std::string> kept_chrom;
};

FileStats read_all(const std::string& path, const std::vector<long>& lines = {}, PeakFormat format = PeakFormat::automatic) {
  FileStats s;
  BedReader reader(path, format);
  BedRecord r;
  while (reader.next(r)) {
    ++s.records;
    s.total_length += r.end - r.start;
    s.total_summit += r.summit.value_or(0);
    ++s.per_chrom[std::string(r.chrom)];
    if (std::find(lines.begin(), lines.end(), r.line) != lines.end()) {
      s.kept_chrom.emplace_back(r.chrom);
      s.kept.push_back(r);
      s.kept.back().chrom = s.kept.back().name = {};  // they point into the reader's buffer
    }
  }
  EXPECT_EQ(reader.records(), s.records);
  return s;
}

// Numbers from: zcat FILE | wc -l; awk -F'\t' '{s+=$3-$2; t+=$10} END {print NR, s, t}';
// sed -n '1p;1000p;$p'; grep -c '^chr22\b'.
TEST(EncodeNarrowPeak, Atf3ParsesCompletely) {
  const auto s = read_all(atf3_peaks(), {1, 1000, 3295});
  EXPECT_EQ(s.records, 3295u);
  EXPECT_EQ(s.total_length, 734742u);
  EXPECT_EQ(s.total_summit, 367607u);
  EXPECT_EQ(s.per_chrom.at("chr22"), 84u);
  EXPECT_EQ(s.per_chrom.at("chr2"), 392u);
  EXPECT_EQ(s.per_chrom.size(), 20u);
  ASSERT_EQ(s.kept.size(), 3u);
  // chr6 10747588 10747818 . 614 . 4.79477 -1.00000 0.06457 115
  EXPECT_EQ(s.kept_chrom[0], "chr6");
  EXPECT_EQ(s.kept[0].start, 10747588u);
  EXPECT_EQ(s.kept[0].end, 10747818u);
  EXPECT_EQ(s.kept[0].score, 614);
  EXPECT_EQ(s.kept[0].strand, '.');
  EXPECT_DOUBLE_EQ(s.kept[0].signal_value, 4.79477);
  EXPECT_DOUBLE_EQ(s.kept[0].p_value, -1.0);
  EXPECT_DOUBLE_EQ(s.kept[0].q_value, 0.06457);
  EXPECT_EQ(s.kept[0].summit, 115u);
  EXPECT_EQ(s.kept[0].columns, 10u);
  // chr17 80075702 80075932 . 1000 . 20.91698 -1.00000 1.42695 115
  EXPECT_EQ(s.kept_chrom[1], "chr17");
  EXPECT_EQ(s.kept[1].start, 80075702u);
  EXPECT_DOUBLE_EQ(s.kept[1].signal_value, 20.91698);
  // chr15 72668259 72668482 . 1000 . 391.26569 -1.00000 3.49900 108
  EXPECT_EQ(s.kept_chrom[2], "chr15");
  EXPECT_EQ(s.kept[2].end, 72668482u);
  EXPECT_EQ(s.kept[2].summit, 108u);
  EXPECT_EQ(s.kept[2].line, 3295);
}

TEST(EncodeNarrowPeak, SrfParsesCompletely) {
  const auto s = read_all(srf_peaks(), {1, 5637});
  EXPECT_EQ(s.records, 5637u);
  EXPECT_EQ(s.total_length, 1047401u);
  EXPECT_EQ(s.total_summit, 524150u);
  EXPECT_EQ(s.per_chrom.at("chr22"), 119u);
  EXPECT_EQ(s.per_chrom.at("chrX"), 88u);
  ASSERT_EQ(s.kept.size(), 2u);
  // chr2 42283451 42283641 . 1000 . 4.53086 -1.00000 0.19276 95
  EXPECT_EQ(s.kept_chrom[0], "chr2");
  EXPECT_EQ(s.kept[0].start, 42283451u);
  EXPECT_EQ(s.kept[0].summit, 95u);
  // chr17 43394522 43394772 . 1000 . 455.32194 -1.00000 3.84899 132
  EXPECT_EQ(s.kept[1].start, 43394522u);
  EXPECT_DOUBLE_EQ(s.kept[1].signal_value, 455.32194);
  EXPECT_EQ(s.kept[1].summit, 132u);
}

TEST(EncodeNarrowPeak, PlainAndGzipReadTheSame) {
  test::TempDir dir("bed");
  const std::string plain = dir.file("atf3.narrowPeak");
  // gzip itself decompresses (tee: run() captures stdout).
  ASSERT_EQ(test::run("gzip -dc " + test::quote(atf3_peaks()) + " | tee " + test::quote(plain)).status, 0);
  const auto a = read_all(atf3_peaks()), b = read_all(plain);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.total_length, b.total_length);
  EXPECT_EQ(a.total_summit, b.total_summit);
  // Read as plain BED (format forced) the same lines give the same intervals, no summits.
  const auto bed = read_all(plain, {}, PeakFormat::bed);
  EXPECT_EQ(bed.records, 3295u);
  EXPECT_EQ(bed.total_length, a.total_length);
  EXPECT_EQ(bed.total_summit, 0u);
}

class BedText : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    test::write_text(dir_.file(name), text);
    return dir_.file(name);
  }
  std::string error_of(const std::string& name, const std::string& text, PeakFormat format = PeakFormat::automatic) {
    const std::string path = write(name, text);
    return input_error([&] { read_all(path, {}, format); });
  }
  test::TempDir dir_{"bed"};
};

TEST_F(BedText, HeadersBlankLinesCrlfAndSpaces) {
  const std::string path = write("h.bed",
                                 "track name=x description=\"y\"\r\nbrowser position chr1:1-100\n# comment\n\n"
                                 "chr1\t10\t20\r\nchr1 30 45 name 0 +\n  \nchr2\t5\t5\tzero-length\n");
  BedReader reader(path);
  EXPECT_EQ(reader.format(), PeakFormat::bed);
  BedRecord r;
  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.chrom, "chr1");
  EXPECT_EQ(r.start, 10u);
  EXPECT_EQ(r.end, 20u);
  EXPECT_EQ(r.line, 5);
  EXPECT_FALSE(r.summit);
  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.end, 45u);
  EXPECT_EQ(r.name, "name");
  EXPECT_EQ(r.columns, 6u);
  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.chrom, "chr2");
  EXPECT_EQ(r.line, 8);
  EXPECT_FALSE(reader.next(r));
  EXPECT_EQ(reader.records(), 3u);
}

TEST_F(BedText, NarrowPeakSummitMinusOneMeansNone) {
  const std::string path = write("p.narrowPeak", "chr1\t100\t200\t.\t0\t.\t1\t-1\t-1\t-1\nchr1\t100\t200\tp\t5\t+\t1.5\t2\t3\t0\n");
  BedReader reader(path);
  EXPECT_EQ(reader.format(), PeakFormat::narrow_peak);
  BedRecord r;
  ASSERT_TRUE(reader.next(r));
  EXPECT_FALSE(r.summit);
  ASSERT_TRUE(reader.next(r));
  EXPECT_EQ(r.summit, 0u);
  EXPECT_EQ(r.strand, '+');
}

TEST_F(BedText, TooFewColumns) {
  EXPECT_HAS(error_of("a.bed", "chr1\t1\t5\nchr1\t7\n"), "a.bed:2: found 2 columns, a BED line needs at least 3");
  EXPECT_HAS(error_of("a.narrowPeak", "chr1\t1\t5\t.\t0\t.\t1\t1\t1\n"),
             "a.narrowPeak:1: found 9 columns, a narrowPeak line needs 10");
  EXPECT_HAS(error_of("b.narrowPeak", "chr1\t1\t5\t.\t0\t.\t1\t1\t1\t2\textra\n"), "b.narrowPeak:1: found 11 columns");
}

TEST_F(BedText, BadCoordinates) {
  EXPECT_HAS(error_of("n.bed", "chr1\t1\t5\nchr1\tabc\t9\n"), "n.bed:2: start coordinate 'abc' is not a whole number");
  EXPECT_HAS(error_of("f.bed", "chr1\t1.5\t9\n"), "f.bed:1: start coordinate '1.5' is not a whole number");
  EXPECT_HAS(error_of("neg.bed", "# h\nchr1\t-10\t9\n"), "neg.bed:2: start coordinate '-10' is negative");
  EXPECT_HAS(error_of("nege.bed", "chr1\t0\t-9\n"), "nege.bed:1: end coordinate '-9' is negative");
  EXPECT_HAS(error_of("big.bed", "chr1\t0\t99999999999999999999999\n"), "big.bed:1: end coordinate");
  EXPECT_HAS(error_of("order.bed", "chr1\t10\t9\n"), "order.bed:1: start 10 is after end 9");
  EXPECT_HAS(error_of("s.narrowPeak", "chr1\t100\t200\t.\t0\t.\t1\t1\t1\t100\n"),
             "s.narrowPeak:1: summit offset 100 lies outside the peak of length 100");
  EXPECT_HAS(error_of("t.narrowPeak", "chr1\t100\t200\t.\t0\t.\tx\t1\t1\t5\n"), "column 7 (signalValue) 'x' is not a number");
  EXPECT_HAS(error_of("u.narrowPeak", "chr1\t100\t200\t.\t0\t*\t1\t1\t1\t5\n"), "column 6 (strand) is '*'");
}

TEST_F(BedText, MissingAndDirectory) {
  EXPECT_HAS(input_error([&] { BedReader r(dir_.file("absent.bed")); }), dir_.file("absent.bed") + ": cannot read");
  EXPECT_HAS(input_error([&] { BedReader r(dir_.path()); }), "is a directory");
}

TEST_F(BedText, CorruptAndTruncatedGzip) {
  const std::string bytes = test::read_text(atf3_peaks());
  // Bytes flipped in the middle of the deflate stream.
  std::string corrupt = bytes;
  for (std::size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  test::write_text(dir_.file("corrupt.narrowPeak.gz"), corrupt);
  EXPECT_HAS(input_error([&] { read_all(dir_.file("corrupt.narrowPeak.gz")); }), "the gzip stream is corrupt or truncated");
  // The file cut in half.
  test::write_text(dir_.file("cut.narrowPeak.gz"), bytes.substr(0, bytes.size() / 2));
  const auto cut = input_error([&] { read_all(dir_.file("cut.narrowPeak.gz")); });
  EXPECT_HAS(cut, "cut.narrowPeak.gz:");
  EXPECT_HAS(cut, "the gzip stream is corrupt or truncated");
  // Only the CRC at the end wrong.
  std::string crc = bytes;
  crc[crc.size() - 6] = static_cast<char>(crc[crc.size() - 6] ^ 1);
  test::write_text(dir_.file("crc.narrowPeak.gz"), crc);
  EXPECT_HAS(input_error([&] { read_all(dir_.file("crc.narrowPeak.gz")); }), "the gzip stream is corrupt or truncated");
}

// Issue 15, item 8: the records before the damage are read, and the error names the line the
// damage falls in (it named line 1).
TEST_F(BedText, TruncatedGzipNamesTheLineItBrokeIn) {
  const std::string bytes = test::read_text(atf3_peaks());
  test::write_text(dir_.file("cut.narrowPeak.gz"), bytes.substr(0, bytes.size() / 2));
  BedReader reader(dir_.file("cut.narrowPeak.gz"));
  BedRecord r;
  long last = 0;
  const auto message = input_error([&] {
    while (reader.next(r)) last = r.line;
  });
  EXPECT_GT(last, 1000);
  EXPECT_HAS(message, "cut.narrowPeak.gz:" + std::to_string(last + 1) + ": the gzip stream is corrupt or truncated");
}

// Issue 15, item 8: a UTF-8 byte-order mark became part of the first chromosome's name.
TEST_F(BedText, ByteOrderMarkIsSkipped) {
  for (const std::string name : {"bom.bed", "bom.bed.gz"}) {
    std::string path = write("bom.bed", "\xEF\xBB\xBF" "chr1\t10\t20\nchr2\t5\t9\n");
    if (name == "bom.bed.gz") {
      ASSERT_EQ(test::run("gzip -f " + test::quote(path)).status, 0);
      path += ".gz";
    }
    BedReader reader(path);
    BedRecord record;
    ASSERT_TRUE(reader.next(record));
    EXPECT_EQ(record.chrom, "chr1") << name;
    EXPECT_EQ(record.line, 1);
  }
  // A mark anywhere else is not skipped.
  EXPECT_HAS(error_of("mid.bed", "chr1\t1\t2\n\xEF\xBB\xBF#x\t1\n"), "mid.bed:2: found 2 columns");
}

// Issue 15, item 8: a line ending in a tab was refused for its empty, ignored last field.
TEST_F(BedText, EmptyTrailingFieldsAreIgnored) {
  const std::string path = write("t.narrowPeak", "chr1\t100\t200\t.\t0\t.\t1\t1\t1\t5\t\nchr1\t1\t9\tp\t0\t+\t1\t1\t1\t-1\t\t\n");
  const auto s = read_all(path, {1});
  EXPECT_EQ(s.records, 2u);
  ASSERT_EQ(s.kept.size(), 1u);
  EXPECT_EQ(s.kept[0].summit, 5u);
  EXPECT_EQ(s.kept[0].columns, 10u);
  const auto bed = read_all(write("t.bed", "chr1\t10\t20\t\n"), {1});
  ASSERT_EQ(bed.kept.size(), 1u);
  EXPECT_EQ(bed.kept[0].columns, 3u);
  // An empty field among the columns read is still an error.
  EXPECT_HAS(error_of("e.narrowPeak", "chr1\t100\t200\t.\t0\t.\t1\t1\t1\t\n"), "e.narrowPeak:1: summit (column 10)");
}

TEST_F(BedText, EmptyFileHasNoRecords) {
  // The reader sees no record; the plan refuses an empty peak file (plan_test).
  const auto s = read_all(write("e.bed", "track name=empty\n# nothing\n"));
  EXPECT_EQ(s.records, 0u);
}

TEST(PeakFormat, ParseAndResolve) {
  EXPECT_EQ(parse_peak_format("auto"), PeakFormat::automatic);
  EXPECT_EQ(parse_peak_format("narrowpeak"), PeakFormat::narrow_peak);
  EXPECT_EQ(resolve_peak_format(PeakFormat::automatic, "x.narrowPeak.gz"), PeakFormat::narrow_peak);
  EXPECT_EQ(resolve_peak_format(PeakFormat::automatic, "x.bed.gz"), PeakFormat::bed);
  EXPECT_EQ(resolve_peak_format(PeakFormat::bed, "x.narrowPeak"), PeakFormat::bed);
  EXPECT_HAS(usage_error([] { parse_peak_format("gff", "regions.format"); }), "option 'regions.format'");
}

}  // namespace
}  // namespace deepmr::genome
