// FASTA index and random access, checked against the real client: Debian's samtools faidx must
// write the same .fai bytes and fetch the same windows, for real hg38 sequence and for synthetic
// multi-record, multi-line, soft-masked, LF and CRLF files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "deepmr/genome/fasta_index.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "genome_test_support.hpp"

namespace deepmr::genome {
namespace {

using namespace testing;

struct Region1 {
  std::uint32_t seq;
  std::uint64_t start, end;  // 0-based, half-open
};

// Random windows plus the edges: first and last base, whole sequences, windows across line breaks.
std::vector<Region1> windows_for(const FastaIndex& index, std::uint32_t seed, int per_sequence) {
  std::mt19937_64 rng(seed);
  std::vector<Region1> out;
  for (std::uint32_t s = 0; s < index.size(); ++s) {
    const std::uint64_t n = index[s].length, w = index[s].line_bases;
    out.push_back({s, 0, 1});
    out.push_back({s, n - 1, n});
    out.push_back({s, 0, n});
    if (n > w + 1) out.push_back({s, w - 1, w + 1});  // across the first line break
    for (int k = 0; k < per_sequence; ++k) {
      const std::uint64_t a = rng() % n, b = rng() % n;
      out.push_back({s, std::min(a, b), std::max(a, b) + 1});
    }
  }
  return out;
}

// Every window fetched by deepmr equals samtools faidx's, upper-cased.
void expect_same_windows_as_samtools(const std::string& fasta, const std::string& scratch, std::uint32_t seed) {
  FastaReader reader(fasta, {false});
  const auto windows = windows_for(reader.index(), seed, 60);
  std::vector<std::string> regions;
  for (const auto& w : windows)
    regions.push_back(reader.name(w.seq) + ":" + std::to_string(w.start + 1) + "-" + std::to_string(w.end));
  const auto expected = samtools_fetch(fasta, regions, scratch);
  ASSERT_EQ(expected.size(), windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const std::string got = reader.fetch(windows[i].seq, windows[i].start, windows[i].end);
    ASSERT_EQ(got, upper(expected[i])) << regions[i];
    ASSERT_EQ(got.size(), windows[i].end - windows[i].start);
  }
}

class FastaTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(have_samtools()) << "samtools is a test dependency (scripts/install-deps)"; }
  // samtools faidx's .fai for a copy of `text`, and the copy's path.
  std::string samtools_fai(const std::string& name, const std::string& text) {
    const std::string path = dir_.file(name);
    test::write_text(path, text);
    auto r = test::run("samtools faidx " + test::quote(path));
    EXPECT_EQ(r.status, 0) << r.err;
    const std::string fai = test::read_text(path + ".fai");
    std::filesystem::remove(path + ".fai");
    return fai;
  }
  test::TempDir dir_{"fasta"};
};

TEST_F(FastaTest, RealGenomeIndexIsByteIdenticalToSamtools) {
  const std::string copy = dir_.file("hg38.fa");
  std::filesystem::copy_file(genome_fasta(), copy);
  auto r = test::run("samtools faidx " + test::quote(copy));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string expected = test::read_text(copy + ".fai");
  EXPECT_EQ(expected, "chr22\t300000\t7\t300000\t300001\n");
  EXPECT_EQ(FastaIndex::build(genome_fasta()).to_fai(), expected);
  // The shipped .fai is samtools' too.
  EXPECT_EQ(test::read_text(genome_fasta() + ".fai"), expected);

  // Without a .fai, FastaReader builds one and writes the same bytes next to the FASTA.
  std::filesystem::remove(copy + ".fai");
  FastaReader built(copy);
  EXPECT_EQ(built.index_source(), IndexSource::built_and_written);
  EXPECT_EQ(test::read_text(copy + ".fai"), expected);
  FastaReader read(copy);
  EXPECT_EQ(read.index_source(), IndexSource::read);
}

TEST_F(FastaTest, RealGenomeWindowsMatchSamtools) { expect_same_windows_as_samtools(genome_fasta(), dir_.path(), 11); }

TEST_F(FastaTest, SyntheticFilesIndexLikeSamtools) {
  const auto records = synthetic_records();
  for (const std::string newline : {"\n", "\r\n"}) {
    for (int blank_after : {-1, 2}) {
      const std::string text = fasta_text(records, newline, blank_after);
      const std::string name = std::string(newline == "\n" ? "lf" : "crlf") + std::to_string(blank_after) + ".fa";
      const std::string expected = samtools_fai(name, text);
      const FastaIndex ours = FastaIndex::build(dir_.file(name));
      EXPECT_EQ(ours.to_fai(), expected) << name;
      ASSERT_EQ(ours.size(), records.size());
      for (std::size_t i = 0; i < records.size(); ++i) EXPECT_EQ(ours[i].length, records[i].bases.size());
      EXPECT_EQ(ours[0].name, "chrA");
      EXPECT_EQ(ours[2].name, "chrC");
      EXPECT_EQ(ours[3].line_width, 70u + newline.size());
    }
  }
  // A last line without a newline, and an empty record (samtools leaves it out).
  const std::string odd = ">x\nACGT\nAC\n>empty\n>y desc\nacgtacgt\nAC";
  const std::string expected = samtools_fai("odd.fa", odd);
  EXPECT_EQ(expected, "x\t6\t3\t4\t5\ny\t10\t26\t8\t9\n");
  EXPECT_EQ(FastaIndex::build(dir_.file("odd.fa")).to_fai(), expected);
}

TEST_F(FastaTest, SyntheticWindowsMatchSamtoolsForLfAndCrlf) {
  const auto records = synthetic_records();
  test::write_text(dir_.file("lf.fa"), fasta_text(records, "\n", 1));
  test::write_text(dir_.file("crlf.fa"), fasta_text(records, "\r\n", 3));
  expect_same_windows_as_samtools(dir_.file("lf.fa"), dir_.path(), 21);
  expect_same_windows_as_samtools(dir_.file("crlf.fa"), dir_.path(), 22);
  // Soft-masked bases read as upper case; N stays N.
  FastaReader reader(dir_.file("crlf.fa"), {false});
  EXPECT_EQ(reader.fetch("chrD", 0, 12345), upper(records[3].bases));
  EXPECT_EQ(reader.fetch("chrC", 0, 1), "G");
  EXPECT_EQ(reader.fetch("chrD", 200, 210), "NNNNNNNNNN");
}

TEST_F(FastaTest, ReadsAnIndexWrittenBySamtools) {
  const auto records = synthetic_records();
  test::write_text(dir_.file("s.fa"), fasta_text(records, "\r\n"));
  ASSERT_EQ(test::run("samtools faidx " + test::quote(dir_.file("s.fa"))).status, 0);
  FastaReader reader(dir_.file("s.fa"));
  EXPECT_EQ(reader.index_source(), IndexSource::read);
  EXPECT_EQ(reader.fetch("chrF", 100, 400), upper(records[5].bases.substr(100, 300)));
}

TEST_F(FastaTest, ConcurrentFetchesAgreeWithSerialOnes) {
  FastaReader reader(genome_fasta());
  std::vector<Region1> windows;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 4000; ++i) {
    const std::uint64_t start = rng() % (300000 - 1000);
    windows.push_back({0, start, start + 1 + rng() % 1000});
  }
  std::vector<std::string> serial;
  for (const auto& w : windows) serial.push_back(reader.fetch(w.seq, w.start, w.end));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::string out;
      for (std::size_t i = static_cast<std::size_t>(t); i < windows.size(); i += 2) {
        reader.fetch(windows[i].seq, windows[i].start, windows[i].end, out);
        mismatches[static_cast<std::size_t>(t)] += out != serial[i];
      }
    });
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST_F(FastaTest, UnwritableDirectoryKeepsTheIndexInMemory) {
  const std::string sub = dir_.file("ro");
  std::filesystem::create_directory(sub);
  test::write_text(sub + "/g.fa", ">a\nACGT\nAC\n");
  FastaReader no_write(sub + "/g.fa", {false});
  EXPECT_EQ(no_write.index_source(), IndexSource::built_in_memory);
  EXPECT_FALSE(std::filesystem::exists(sub + "/g.fa.fai"));
  std::filesystem::permissions(sub, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  if (::access(sub.c_str(), W_OK) == 0) {  // root ignores permissions: nothing more to check
    std::filesystem::permissions(sub, std::filesystem::perms::owner_all);
    return;
  }
  FastaReader reader(sub + "/g.fa");
  EXPECT_EQ(reader.index_source(), IndexSource::built_in_memory);
  EXPECT_EQ(reader.fetch("a", 2, 6), "GTAC");
  std::filesystem::permissions(sub, std::filesystem::perms::owner_all);
}

// ---- bad input: each an InputError with the file (and line where there is one) ----

class FastaErrors : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    test::write_text(dir_.file(name), text);
    return dir_.file(name);
  }
  test::TempDir dir_{"fasta-errors"};
};

TEST_F(FastaErrors, MissingDirectoryOrCompressedFasta) {
  EXPECT_HAS(input_error([&] { FastaReader r(dir_.file("absent.fa")); }), dir_.file("absent.fa") + ": cannot read");
  EXPECT_HAS(input_error([&] { FastaReader r(dir_.path()); }), "is not a regular file");
  const std::string gz = write("g.fa", ">a\nACGT\n");
  ASSERT_EQ(test::run("gzip -f " + test::quote(gz)).status, 0);
  EXPECT_HAS(input_error([&] { FastaReader r(gz + ".gz"); }), "gzip-compressed");
}

TEST_F(FastaErrors, DuplicateNamesNameBothLines) {
  const std::string f = write("dup.fa", ">a\nACGT\n>b\nAA\n>a other\nCC\n");
  const auto message = input_error([&] { FastaIndex::build(f); });
  EXPECT_HAS(message, f + ":5: sequence name 'a' appears twice (first on line 1)");
  const std::string fai = write("dupfai.fa.fai", "a\t4\t3\t4\t5\na\t2\t14\t2\t3\n");
  EXPECT_HAS(input_error([&] { FastaIndex::read(fai); }), fai + ":2: sequence name 'a' appears twice");
}

TEST_F(FastaErrors, NonAcgtnCharactersAtBuildAndAtFetch) {
  const std::string f = write("iupac.fa", ">a\nACGT\nACRT\nAC\n");
  EXPECT_HAS(input_error([&] { FastaIndex::build(f); }), f + ":3: holds 'R' in sequence 'a'");
  const std::string space = write("space.fa", ">a\nAC GT\n");
  EXPECT_HAS(input_error([&] { FastaIndex::build(space); }), space + ":2: holds a space");
  // samtools indexes such a file; deepmr then refuses the window that holds the character.
  ASSERT_EQ(test::run("samtools faidx " + test::quote(f)).status, 0);
  FastaReader reader(f);
  EXPECT_EQ(reader.fetch("a", 0, 6), "ACGTAC");
  EXPECT_HAS(input_error([&] { reader.fetch("a", 4, 8); }), f + ":3: 'R' at a:7 is not A, C, G, T or N");
}

TEST_F(FastaErrors, RaggedLinesAreRefusedWithTheirLine) {
  const std::string longer = write("long.fa", ">a\nACGT\nACGTA\n");
  EXPECT_HAS(input_error([&] { FastaIndex::build(longer); }), longer + ":3: line of 5 bases is longer than the first");
  const std::string after_short = write("short.fa", ">a\nACGT\nAC\nACGT\n");
  EXPECT_HAS(input_error([&] { FastaIndex::build(after_short); }), after_short + ":4: sequence 'a' continues after");
  const std::string blank = write("blank.fa", ">a\nACGT\n\nACGT\n");
  EXPECT_HAS(input_error([&] { FastaIndex::build(blank); }), blank + ":4:");
  // samtools refuses the same files.
  for (const auto& f : {longer, after_short, blank}) EXPECT_NE(test::run("samtools faidx " + test::quote(f)).status, 0);
}

TEST_F(FastaErrors, NotAFasta) {
  EXPECT_HAS(input_error([&] { FastaIndex::build(write("empty.fa", "")); }), "holds no sequence");
  EXPECT_HAS(input_error([&] { FastaIndex::build(write("seq.fa", "ACGT\n")); }), ":1: sequence before the first");
  EXPECT_HAS(input_error([&] { FastaIndex::build(write("noname.fa", ">\nACGT\n")); }), ":1: a header line with no");
  EXPECT_HAS(input_error([&] { FastaIndex::build(write("cr.fa", ">a\nAC\rGT\n")); }), ":2: holds a carriage return");
}

TEST_F(FastaErrors, MalformedFai) {
  write("m.fa", ">a\nACGT\n");
  write("m.fa.fai", "a\t4\t3\tfour\t5\n");
  EXPECT_HAS(input_error([&] { FastaReader r(dir_.file("m.fa")); }), "m.fa.fai:1: LINEBASES 'four' is not a whole number");
  write("m.fa.fai", "a\t4\t3\t4\n");
  EXPECT_HAS(input_error([&] { FastaReader r(dir_.file("m.fa")); }), "m.fa.fai:1: expected NAME, LENGTH");
  write("m.fa.fai", "a\t4\t3\t4\t9\n");
  EXPECT_HAS(input_error([&] { FastaReader r(dir_.file("m.fa")); }), "LINEWIDTH 9 does not fit LINEBASES 4");
  write("m.fa.fai", "");
  EXPECT_HAS(input_error([&] { FastaReader r(dir_.file("m.fa")); }), "the index is empty");
}

TEST_F(FastaErrors, FaiThatDoesNotMatchItsFasta) {
  const auto records = synthetic_records();
  const std::string f = write("x.fa", fasta_text(records, "\n"));
  const std::string good = FastaIndex::build(f).to_fai();
  auto with_fai = [&](const std::string& fai) {
    write("x.fa.fai", fai);
    return input_error([&] { FastaReader r(f); });
  };
  auto replace = [&](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  // Another FASTA's index (the real genome's), a wrong name, wrong lengths, a wrong offset.
  EXPECT_HAS(with_fai("chr22\t300000\t7\t300000\t300001\n"), "the index does not match the FASTA");
  EXPECT_HAS(with_fai(replace(good, "chrB\t", "chrZ\t")), "sequence 'chrZ' is not preceded by its header line");
  EXPECT_HAS(with_fai(replace(good, "chrA\t1000\t", "chrA\t999\t")), "goes on past the 999 bases");
  EXPECT_HAS(with_fai(replace(good, "chrA\t1000\t", "chrA\t1005\t")), "does not end with a base where the index says");
  EXPECT_HAS(with_fai(replace(good, "chrE\t250\t", "chrE\t9000\t")), "sequence 'chrE'");
  // A wrong line width passes the open-time checks of first and last base; the fetch catches it.
  write("y.fa", ">a\nACGTACGTAC\nACGTACGTAC\nACGTACGTAC\nACGTACGTAC\nACG\n");
  write("y.fa.fai", "a\t43\t3\t10\t11\n");
  FastaReader ok(dir_.file("y.fa"));
  EXPECT_EQ(ok.fetch("a", 5, 25), "CGTACACGTACGTACACGTA");
  write("y.fa.fai", "a\t43\t3\t9\t10\n");
  const auto message = input_error([&] {
    FastaReader r(dir_.file("y.fa"));
    r.fetch("a", 0, 43);
  });
  EXPECT_HAS(message, "y.fa.fai: the index does not match the FASTA");
  EXPECT_HAS(message, "delete the .fai and deepmr rebuilds it");
}

// Issue 15, item 8: a record appended after the .fai was written was reported as "has no sequence".
TEST_F(FastaErrors, StaleFaiAfterARecordWasAppended) {
  const std::string f = write("s.fa", ">a\nACGTACGT\nACG\n>empty\n");
  { FastaReader first(f); }  // writes s.fa.fai
  ASSERT_TRUE(std::filesystem::exists(f + ".fai"));
  // Headers without sequence past the index are what samtools leaves out: the index still fits.
  FastaReader same(f);
  EXPECT_EQ(same.index().size(), 1u);
  test::write_text(f, test::read_text(f) + ">added more words\nACGTTT\n");
  const auto message = input_error([&] { FastaReader r(f); });
  EXPECT_HAS(message, "s.fa.fai: the index does not match the FASTA " + f);
  EXPECT_HAS(message, "the FASTA has sequence 'added' on line 6, past the sequences the index lists");
  EXPECT_HAS(message, "delete the .fai and deepmr rebuilds it");
  std::filesystem::remove(f + ".fai");
  FastaReader rebuilt(f);
  EXPECT_EQ(rebuilt.fetch("added", 0, 6), "ACGTTT");
}

// Found by the fasta fuzz harness: a FASTA or .fai refused in the constructor left the FASTA's
// file descriptor open (no destructor runs), until opens failed with "too many open files".
TEST_F(FastaErrors, RefusedOpensCloseTheFasta) {
  auto open_files = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator());
  };
  const std::string bad_fai = write("b.fa", ">a\nACGT\n");
  write("b.fa.fai", "a\t4\t3\tfour\t5\n");
  const std::string bad_fasta = write("c.fa", ">a\nACRT\n");
  const std::string gz = write("d.fa", "\x1f\x8b rest");
  const auto before = open_files();
  for (int i = 0; i < 50; ++i)
    for (const auto& f : {bad_fai, bad_fasta, gz, dir_.path()}) input_error([&] { FastaReader r(f); });
  EXPECT_EQ(open_files(), before);
}

TEST_F(FastaErrors, WindowsOutsideASequenceAndUnknownNames) {
  FastaReader reader(genome_fasta());
  EXPECT_HAS(input_error([&] { reader.fetch("chr22", 299990, 300001); }),
             "window chr22:299990-300001 lies outside sequence 'chr22' of 300000 bases");
  EXPECT_EQ(reader.fetch("chr22", 299990, 300000).size(), 10u);
  EXPECT_HAS(input_error([&] { reader.sequence_id("chr7"); }), "has no sequence 'chr7' (it has chr22 (1 sequence))");
}

}  // namespace
}  // namespace deepmr::genome
