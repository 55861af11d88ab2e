#include "deepmr/store/effects_reader.hpp"

#include "deepmr/common/error.hpp"
#include "deepmr/store/schema.hpp"
#include "hdf5.hpp"

namespace deepmr::store {

namespace {

const char* const kEffectDatasets[] = {"/effects/position", "/effects/sequence", "/effects/outcome_beta",
                                       "/effects/outcome_se", "/effects/exposure_beta", "/effects/exposure_se"};

}  // namespace

struct EffectsReader::Impl {
  explicit Impl(const std::string& path) : file(File::open_serial(path, false)) {}
  File file;
  bool present = false;
  std::vector<std::int32_t> positions;

  EffectsRow row(const char* beta, const char* se, std::uint64_t index) const {
    EffectsRow out;
    out.beta = file.open_dataset(beta).read_rows<float>(index, 1);
    out.se = file.open_dataset(se).read_rows<float>(index, 1);
    if (out.beta.size() != positions.size() || out.se.size() != positions.size())
      throw StoreError(file.path() + ": " + beta + " has rows of " + std::to_string(out.beta.size()) + " columns for " +
                       std::to_string(positions.size()) + " mutants (damaged store)");
    return out;
  }
};

EffectsReader::EffectsReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {
  impl_->present = true;
  for (const char* name : kEffectDatasets) impl_->present = impl_->present && impl_->file.exists(name);
  if (impl_->present) impl_->positions = impl_->file.open_dataset("/effects/position").read_all<std::int32_t>();
}

EffectsReader::~EffectsReader() = default;

bool EffectsReader::present() const { return impl_->present; }

std::uint32_t EffectsReader::mutants() const { return static_cast<std::uint32_t>(impl_->positions.size()); }

const std::vector<std::int32_t>& EffectsReader::positions() const { return impl_->positions; }

std::string EffectsReader::sequence(std::uint64_t region) const {
  return impl_->file.open_dataset("/effects/sequence").read_strings(region, 1).at(0);
}

EffectsRow EffectsReader::outcome(std::uint64_t region, std::uint32_t outcome) const {
  // Outcome o's rows follow the o - 1 before it (a one-outcome store: one row per region).
  const std::uint64_t regions = impl_->file.open_dataset("/effects/sequence").dims().at(0);
  return impl_->row("/effects/outcome_beta", "/effects/outcome_se", std::uint64_t{outcome} * regions + region);
}

EffectsRow EffectsReader::exposure(std::uint64_t unit) const {
  return impl_->row("/effects/exposure_beta", "/effects/exposure_se", unit);
}

}  // namespace deepmr::store
