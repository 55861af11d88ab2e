#include "deepmr/run/input_digests.hpp"

#include "deepmr/common/sha256.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/store/sequence_file.hpp"

namespace deepmr::run {
namespace {

std::string planned_windows_digest(const RunSetup& setup) {
  const auto& spec = setup.plan_spec;
  Sha256 digest;
  if (spec.source == genome::RegionSource::sequences) {
    store::SequenceFile file(spec.sequences, spec.sequences_dataset, "");
    for (const auto& region : setup.plan.regions()) {
      const auto values = file.read_row(region.row);
      digest.update(values.data(), values.size() * sizeof(float));
    }
    return digest.hex();
  }
  genome::FastaReader fasta(spec.fasta);
  std::string bases;
  for (const auto& region : setup.plan.regions()) {
    fasta.fetch(region.chrom, region.start, region.end, bases);
    digest.update(bases);
    digest.update("\n", 1);
  }
  return digest.hex();
}

}  // namespace

std::map<std::string, std::string> input_digests(const RunSetup& setup) {
  const std::string prefix = kContentPrefix;
  const auto& spec = setup.plan_spec;
  std::map<std::string, std::string> out;
  out[prefix + "model.file"] = setup.model_sha256;
  const auto targets = setup.provenance.result_keys.find("model.targets");
  if (targets != setup.provenance.result_keys.end() && !targets->second.empty())
    out[prefix + "model.targets"] = sha256_file(targets->second);
  out[prefix + (spec.source == genome::RegionSource::sequences ? "regions.sequences" : "regions.fasta")] =
      planned_windows_digest(setup);
  if (spec.source == genome::RegionSource::sweep) out[prefix + "regions.sweep"] = sha256_file(spec.sweep);
  if (spec.source == genome::RegionSource::peaks) {
    std::string peaks;
    for (const auto& exposure : spec.exposures)
      peaks += (peaks.empty() ? "" : " ; ") + exposure.name + "=" + sha256_file(exposure.path);
    out[prefix + "regions.peaks"] = peaks;
  }
  return out;
}

}  // namespace deepmr::run
