// Writes the seed corpus of the journal harness from real records, so that the seeds follow the
// record layout of region_result.cpp: usage `fuzz_journal_seeds DIR`. Seeds starting with byte 0
// are whole part files (JournalWriter's framing), seeds starting with byte 1 one record's payload.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "deepmr/store/journal.hpp"

namespace {

using namespace deepmr::store;

RegionResult record(std::uint64_t region, bool with_effects) {
  RegionResult r;
  r.region = region;
  r.rank = 1;
  r.seconds_ism = 0.25;
  r.seconds_mr = 0.01;
  for (std::uint32_t e = 0; e < 2; ++e) {
    UnitResult unit;
    unit.unit = region * 2 + e;
    unit.exposure = e;
    FitRow ok;
    ok.status = FitStatus::ok;
    ok.values = {0.5, 0.1, 0.3, 0.7, 1e-6, NAN};
    FitRow none;
    none.status = FitStatus::not_estimable;
    none.reason = "all instruments have the same |bx|";
    none.values.assign(6, NAN);
    unit.fits = {ok, none};
    r.units.push_back(unit);
  }
  if (with_effects) {
    r.sequence = "ACGTACGT";
    r.mutants = 24;
    r.outputs = 3;
    r.beta.assign(72, 0.125f);
    r.se.assign(72, 0.0625f);
  }
  return r;
}

void write(const std::filesystem::path& path, char mode, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.put(mode);
  out << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_journal_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const auto journal = std::filesystem::temp_directory_path() / "deepmr-journal-seeds";
  std::filesystem::remove_all(journal);
  std::filesystem::create_directories(journal);
  std::filesystem::create_directories(out);
  {
    JournalWriter writer(journal.string(), 0, 0);
    writer.append(record(3, false));
    writer.append(record(4, true));
  }
  std::ifstream in(journal / "part-0-0.jrn", std::ios::binary);
  write(out / "part_two_records", '\0', std::string(std::istreambuf_iterator<char>(in), {}));
  write(out / "record_fits", '\1', serialize(record(7, false)));
  write(out / "record_effects", '\1', serialize(record(8, true)));
  RegionResult failed;
  failed.region = 9;
  failed.failed = true;
  failed.reason = "output 2 is NaN at the reference";
  write(out / "record_failed", '\1', serialize(failed));
  std::filesystem::remove_all(journal);
  return 0;
}
