#include "deepmr/store/region_result.hpp"

#include "deepmr/common/bytes.hpp"
#include "deepmr/common/error.hpp"

namespace deepmr::store {
namespace {

// Bump when the payload layout changes (2: the run id; 3: the jackknife columns; 4: each unit's
// outcome and direction test).
constexpr std::uint32_t kLayout = 4;
// The fewest bytes a unit and a fit take in a record (for counts read from it).
constexpr std::size_t kUnitBytes = 8 + 4 + 4 + 1 + 4 + 4 + 1 + 4 + 4, kFitBytes = 1 + 4 + 4;

}  // namespace

std::string serialize(const RegionResult& r) {
  ByteWriter w;
  w.put(kLayout);
  w.put(r.run);
  w.put(r.region);
  w.put(r.rank);
  w.put(r.attempt);
  w.put(r.seconds_ism);
  w.put(r.seconds_mr);
  w.put(static_cast<std::uint8_t>(r.failed));
  w.put_string(r.reason);
  w.put(static_cast<std::uint32_t>(r.units.size()));
  for (const auto& unit : r.units) {
    w.put(unit.unit);
    w.put(unit.exposure);
    w.put(unit.outcome);
    w.put(static_cast<std::uint8_t>(unit.failed));
    w.put_string(unit.reason);
    w.put(static_cast<std::uint32_t>(unit.fits.size()));
    for (const auto& fit : unit.fits) {
      w.put(static_cast<std::int8_t>(fit.status));
      w.put_string(fit.reason);
      w.put_array(fit.values);
    }
    w.put(static_cast<std::int8_t>(unit.direction.status));
    w.put_string(unit.direction.reason);
    w.put_array(unit.direction.values);
  }
  w.put_string(r.sequence);
  w.put(r.mutants);
  w.put(r.outputs);
  w.put_array(r.beta);
  w.put_array(r.se);
  return w.take();
}

RegionResult deserialize(const std::string& bytes) {
  ByteReader<StoreError> in(bytes, "journal record");
  const auto layout = in.get<std::uint32_t>();
  if (layout != kLayout)
    throw StoreError("journal record of layout " + std::to_string(layout) + ", not " + std::to_string(kLayout) +
                     ": the journal was written by another deepmr version; resume it with that version");
  RegionResult r;
  r.run = in.get<std::uint64_t>();
  r.region = in.get<std::uint64_t>();
  r.rank = in.get<std::int32_t>();
  r.attempt = in.get<std::uint32_t>();
  r.seconds_ism = in.get<double>();
  r.seconds_mr = in.get<double>();
  r.failed = in.get<std::uint8_t>() != 0;
  r.reason = in.get_string();
  r.units.resize(in.get_count(kUnitBytes));
  for (auto& unit : r.units) {
    unit.unit = in.get<std::uint64_t>();
    unit.exposure = in.get<std::uint32_t>();
    unit.outcome = in.get<std::uint32_t>();
    unit.failed = in.get<std::uint8_t>() != 0;
    unit.reason = in.get_string();
    unit.fits.resize(in.get_count(kFitBytes));
    for (auto& fit : unit.fits) {
      fit.status = static_cast<FitStatus>(in.get<std::int8_t>());
      fit.reason = in.get_string();
      fit.values = in.get_array<double>();
    }
    unit.direction.status = static_cast<FitStatus>(in.get<std::int8_t>());
    unit.direction.reason = in.get_string();
    unit.direction.values = in.get_array<double>();
  }
  r.sequence = in.get_string();
  r.mutants = in.get<std::uint32_t>();
  r.outputs = in.get<std::uint32_t>();
  r.beta = in.get_array<float>();
  r.se = in.get_array<float>();
  if (!in.done()) throw StoreError("journal record has trailing bytes");
  if (r.beta.size() != static_cast<std::size_t>(r.mutants) * r.outputs || r.se.size() != r.beta.size())
    throw StoreError("journal record has effects of the wrong size");
  return r;
}

}  // namespace deepmr::store
