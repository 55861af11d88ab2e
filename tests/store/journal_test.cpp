#include "deepmr/store/journal.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <cstring>
#include <fstream>

#include "deepmr/common/error.hpp"
#include "test_support.hpp"

namespace deepmr::store {
namespace {

RegionResult sample(std::uint64_t region, bool effects = true) {
  RegionResult r;
  r.region = region;
  r.rank = 2;
  r.attempt = 1;
  r.seconds_ism = 1.5;
  r.seconds_mr = 0.25;
  for (std::uint64_t u = 0; u < 2; ++u) {
    UnitResult unit;
    unit.unit = 10 * region + u;
    unit.exposure = static_cast<std::uint32_t>(u);
    unit.outcome = static_cast<std::uint32_t>(3 - u);
    FitRow ok{FitStatus::ok, "", std::vector<double>(fit_columns().size(), 0.5 + u)};
    ok.values[5] = std::nan("");
    FitRow no{FitStatus::not_estimable, "fewer than 3 instruments", std::vector<double>(fit_columns().size(), std::nan(""))};
    unit.fits = {ok, no};
    r.units.push_back(unit);
  }
  if (effects) {
    r.mutants = 3;
    r.outputs = 3;
    for (int i = 0; i < 9; ++i) {
      r.beta.push_back(0.1f * i);
      r.se.push_back(0.01f * i);
    }
  }
  return r;
}

void expect_same(const RegionResult& a, const RegionResult& b) {
  EXPECT_EQ(serialize(a), serialize(b));  // every field, bit for bit
}

TEST(RegionResult, SerializationRoundTripsEveryField) {
  auto r = sample(7);
  auto back = deserialize(serialize(r));
  expect_same(r, back);
  EXPECT_EQ(back.units[1].fits[1].reason, "fewer than 3 instruments");
  EXPECT_TRUE(std::isnan(back.units[0].fits[0].values[5]));
  EXPECT_EQ(back.beta[8], 0.8f);
  EXPECT_EQ(back.units[0].outcome, 3u);
  EXPECT_EQ(back.units[1].outcome, 2u);
  auto bytes = serialize(r);
  EXPECT_THROW(deserialize(bytes.substr(0, bytes.size() - 3)), StoreError);
}

TEST(Journal, RecordsAreMadeDurableTogether) {
  test::TempDir dir;
  JournalWriter writer(dir.path(), 0, 1);
  writer.make_durable();  // nothing appended: nothing to do
  EXPECT_EQ(writer.syncs(), 0u);
  for (std::uint64_t r = 0; r < 3; ++r) writer.append(sample(r));
  writer.make_durable();
  writer.make_durable();
  EXPECT_EQ(writer.syncs(), 1u);  // one fdatasync for the three records
  writer.append(sample(3));
  writer.make_durable();
  EXPECT_EQ(writer.syncs(), 2u);
  std::vector<std::uint64_t> regions;
  read_journal(dir.path(), [&](RegionResult&& r) { regions.push_back(r.region); });
  EXPECT_EQ(regions, (std::vector<std::uint64_t>{0, 1, 2, 3}));
}

TEST(Journal, RecordsFromSeveralPartsReadBackInOrder) {
  test::TempDir dir;
  {
    JournalWriter a(dir.path(), 0, 1), b(dir.path(), 0, 2);
    a.append(sample(0));
    b.append(sample(1));
    a.append(sample(2));
  }
  JournalWriter later(dir.path(), 1, 1);
  later.append(sample(3));
  std::vector<std::uint64_t> regions;
  auto stats = read_journal(dir.path(), [&](RegionResult&& r) { regions.push_back(r.region); });
  EXPECT_EQ(regions, (std::vector<std::uint64_t>{0, 2, 1, 3}));  // part-0-1, part-0-2, part-1-1
  EXPECT_EQ(stats.parts, 3u);
  EXPECT_EQ(stats.records, 4u);
  EXPECT_EQ(stats.duplicate_records, 0u);
  EXPECT_EQ(stats.torn_parts, 0u);
  EXPECT_EQ(stats.attempts, 2u);
}

TEST(Journal, ATornOrCorruptTailIsSkippedAndCounted) {
  test::TempDir dir;
  {
    JournalWriter w(dir.path(), 0, 0);
    w.append(sample(0));
    w.append(sample(1));
  }
  const std::string part = dir.file("part-0-0.jrn");
  const auto size = std::filesystem::file_size(part);
  std::filesystem::resize_file(part, size - 5);  // killed in the middle of the second record
  std::vector<std::uint64_t> regions;
  auto stats = read_journal(dir.path(), [&](RegionResult&& r) { regions.push_back(r.region); });
  EXPECT_EQ(regions, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(stats.torn_parts, 1u);

  // A flipped byte in the payload fails the CRC.
  {
    std::fstream f(part, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  regions.clear();
  stats = read_journal(dir.path(), [&](RegionResult&& r) { regions.push_back(r.region); });
  EXPECT_TRUE(regions.empty());
  EXPECT_EQ(stats.torn_parts, 1u);
}

// A flipped bit in a record's length field (issue 15, item 3): the length is checked against the
// file before anything is allocated, and the record counts as torn (its region is computed again).
TEST(Journal, ALengthFieldPastTheEndOfThePartIsATornRecordNotAnAllocation) {
  test::TempDir dir;
  {
    JournalWriter w(dir.path(), 0, 0);
    w.append(sample(0));
    w.append(sample(1));
    w.append(sample(2));
  }
  const std::string part = dir.file("part-0-0.jrn");
  std::uint64_t first_size = 0;
  {
    std::ifstream in(part, std::ios::binary);
    in.seekg(4);
    in.read(reinterpret_cast<char*>(&first_size), 8);
  }
  for (int bit : {62, 40, 31}) {  // 4 EiB, 1 TiB, 2 GiB: each was allocated before
    std::uint64_t damaged = 0;
    {
      std::fstream f(part, std::ios::in | std::ios::out | std::ios::binary);
      const std::streamoff second = 16 + static_cast<std::streamoff>(first_size);
      f.seekg(second + 4);
      std::uint64_t size = 0;
      f.read(reinterpret_cast<char*>(&size), 8);
      damaged = size ^ (std::uint64_t{1} << bit);
      f.seekp(second + 4);
      f.write(reinterpret_cast<const char*>(&damaged), 8);
    }
    std::vector<std::uint64_t> regions;
    const auto stats = read_journal(dir.path(), [&](RegionResult&& r) { regions.push_back(r.region); });
    EXPECT_EQ(regions, (std::vector<std::uint64_t>{0})) << "bit " << bit;
    EXPECT_EQ(stats.torn_parts, 1u);
    {
      std::fstream f(part, std::ios::in | std::ios::out | std::ios::binary);
      const std::uint64_t restored = damaged ^ (std::uint64_t{1} << bit);
      f.seekp(16 + static_cast<std::streamoff>(first_size) + 4);
      f.write(reinterpret_cast<const char*>(&restored), 8);
    }
  }
  std::vector<std::uint64_t> regions;
  read_journal(dir.path(), [&](RegionResult&& r) { regions.push_back(r.region); });
  EXPECT_EQ(regions, (std::vector<std::uint64_t>{0, 1, 2}));
}

// A damaged count inside a record (CRC intact, e.g. a record written by a broken build) is a
// malformed record, not an allocation of 4 billion units.
TEST(Journal, ACountPastTheEndOfTheRecordIsMalformed) {
  RegionResult r = sample(4);
  std::string bytes = serialize(r);
  const std::size_t units_count_at = 4 + 8 + 8 + 4 + 4 + 8 + 8 + 1 + 4 + r.reason.size();
  const std::uint32_t huge = 0xffffffffu;
  std::memcpy(bytes.data() + units_count_at, &huge, 4);
  EXPECT_THROW(deserialize(bytes), StoreError);
}

TEST(Journal, DuplicateRegionsAreCounted) {
  test::TempDir dir;
  JournalWriter w(dir.path(), 0, 0);
  w.append(sample(5));
  w.append(sample(5));
  auto stats = read_journal(dir.path(), [](RegionResult&&) {});
  EXPECT_EQ(stats.duplicate_records, 1u);
}

TEST(Journal, ScansWithoutEffectsDropThem) {
  test::TempDir dir;
  JournalWriter(dir.path(), 0, 0).append(sample(1));
  read_journal(
      dir.path(), [](RegionResult&& r) {
        EXPECT_TRUE(r.beta.empty());
        EXPECT_EQ(r.units.size(), 2u);
      },
      false);
}

TEST(Journal, UnwritableDirectoryIsAStoreError) {
  EXPECT_THROW(JournalWriter("/nonexistent/journal", 0, 0), StoreError);
}

TEST(Manifest, DifferencesNameEveryKey) {
  test::TempDir dir;
  Manifest run;
  run.set("analysis.mc-samples", "50");
  run.set("model.sha256", "abc");
  run.write(dir.file("manifest"));
  auto back = Manifest::read(dir.file("manifest"));
  EXPECT_TRUE(back.differences(run).empty());
  Manifest here = back;
  here.set("analysis.mc-samples", "20");
  here.set("analysis.seed", "3");
  auto diff = here.differences(run);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0], "analysis.mc-samples: '20' here, '50' in the run");
  EXPECT_EQ(diff[1], "analysis.seed: '3' here, (unset) in the run");
  EXPECT_THROW(Manifest::read(dir.file("absent")), StoreError);
}

}  // namespace
}  // namespace deepmr::store
