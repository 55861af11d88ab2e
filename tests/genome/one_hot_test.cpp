// One-hot encoding (ACGT and AGCT), the N policies and reverse complement.
#include <gtest/gtest.h>

#include "deepmr/genome/encode_window.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/reverse_complement.hpp"
#include "genome_test_support.hpp"

namespace deepmr::genome {
namespace {

using namespace testing;

TEST(OneHot, ChannelMajorInAcgtOrder) {
  const auto x = one_hot("ACGTN", Alphabet::acgt(), NPolicy::quarter);
  // channel c, position i at c * 5 + i
  const std::vector<float> expected = {1, 0, 0, 0, .25f,   // A
                                       0, 1, 0, 0, .25f,   // C
                                       0, 0, 1, 0, .25f,   // G
                                       0, 0, 0, 1, .25f};  // T
  EXPECT_EQ(x, expected);
  EXPECT_EQ(one_hot("acgtn", Alphabet::acgt(), NPolicy::quarter), expected);  // soft-masked
}

TEST(OneHot, DeepSeaOrderSwapsTheMiddleChannels) {
  const auto x = one_hot("ACGT", Alphabet::agct(), NPolicy::skip);
  const std::vector<float> expected = {1, 0, 0, 0,   // A
                                       0, 0, 1, 0,   // G
                                       0, 1, 0, 0,   // C
                                       0, 0, 0, 1};  // T
  EXPECT_EQ(x, expected);
  std::vector<float> back(16);
  convert_alphabet(x.data(), 4, Alphabet::agct(), Alphabet::acgt(), back.data());
  EXPECT_EQ(back, one_hot("ACGT", Alphabet::acgt(), NPolicy::skip));
}

TEST(OneHot, SkipPolicyRefusesNAndBadCharactersThrow) {
  std::vector<float> out(16);
  EXPECT_FALSE(encode_one_hot("ACNT", Alphabet::acgt(), NPolicy::skip, out.data()));
  EXPECT_TRUE(one_hot("ACNT", Alphabet::acgt(), NPolicy::skip).empty());
  EXPECT_TRUE(encode_one_hot("ACNT", Alphabet::acgt(), NPolicy::quarter, out.data()));
  EXPECT_HAS(input_error([] { one_hot("ACRT"); }), "sequence position 2 holds 'R'");
  EXPECT_TRUE(contains_n("acgn"));
  EXPECT_FALSE(contains_n("ACGT"));
}

TEST(OneHot, AlphabetAndPolicyParsing) {
  EXPECT_EQ(Alphabet::parse("agct"), Alphabet::agct());
  EXPECT_EQ(Alphabet::parse("TGCA").letters(), "TGCA");
  EXPECT_HAS(usage_error([] { Alphabet::parse("ACGG", "model.alphabet"); }), "option 'model.alphabet': 'ACGG'");
  EXPECT_HAS(usage_error([] { Alphabet::parse("ACGTN"); }), "not an order of the four bases");
  EXPECT_EQ(parse_n_policy("quarter"), NPolicy::quarter);
  EXPECT_HAS(usage_error([] { parse_n_policy("zero", "regions.n-policy"); }), "unknown N policy 'zero'");
}

TEST(OneHot, CheckDecodeAndFillN) {
  auto x = one_hot("ACGTN", Alphabet::acgt(), NPolicy::quarter);
  EXPECT_EQ(decode_one_hot(x.data(), 5), "ACGTN");
  auto check = check_one_hot(x.data(), 5);
  EXPECT_EQ(check.n_positions, 1u);
  EXPECT_EQ(check.first_invalid, -1);
  x[4] = x[9] = x[14] = x[19] = 0;  // N as a zero column
  EXPECT_EQ(check_one_hot(x.data(), 5).n_positions, 1u);
  fill_n_quarter(x.data(), 5);
  EXPECT_EQ(x, one_hot("ACGTN", Alphabet::acgt(), NPolicy::quarter));
  x[5] = 1;  // position 0: A and C
  EXPECT_EQ(check_one_hot(x.data(), 5).first_invalid, 0);
  EXPECT_HAS(input_error([&] { decode_one_hot(x.data(), 5); }), "position 0 is neither a base nor N");
}

TEST(ReverseComplement, Text) {
  EXPECT_EQ(reverse_complement("AACGTN"), "NACGTT");
  EXPECT_EQ(reverse_complement("acgT"), "Acgt");
  EXPECT_EQ(reverse_complement(""), "");
  EXPECT_HAS(input_error([] { reverse_complement("ACXG"); }), "position 2");
}

TEST(ReverseComplement, OneHotEqualsTheEncodingOfTheReverseComplement) {
  const std::string s = upper(random_bases(1000, 9, true));
  for (const Alphabet& a : {Alphabet::acgt(), Alphabet::agct(), Alphabet::parse("TCGA")}) {
    const auto x = one_hot(s, a, NPolicy::quarter);
    std::vector<float> rc(x.size()), twice(x.size());
    reverse_complement_one_hot(x.data(), s.size(), a, rc.data());
    EXPECT_EQ(rc, one_hot(reverse_complement(s), a, NPolicy::quarter)) << a.letters();
    reverse_complement_one_hot(rc.data(), s.size(), a, twice.data());
    EXPECT_EQ(twice, x);
  }
}

TEST(EncodeWindow, FetchesAndEncodesARegionOfTheShippedGenome) {
  const FastaReader fasta(genome_fasta(), {false});
  const Window w{0, 123456, 124456};
  std::vector<float> x(4000);
  ASSERT_TRUE(encode_window(fasta, w, Alphabet::agct(), NPolicy::skip, x.data()));
  EXPECT_EQ(x, one_hot(fasta.fetch(w), Alphabet::agct(), NPolicy::skip));
  EXPECT_EQ(decode_one_hot(x.data(), 1000, Alphabet::agct()), fasta.fetch(w));
  EXPECT_HAS(input_error([&] { encode_window(fasta, {0, 299500, 300500}, Alphabet::acgt(), NPolicy::skip, x.data()); }),
             "lies outside sequence 'chr22'");
}

}  // namespace
}  // namespace deepmr::genome
