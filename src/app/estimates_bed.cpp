#include "deepmr/app/estimates_bed.hpp"

#include <cmath>
#include <ostream>

#include "deepmr/app/store_tables.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

// Missing numbers are "NA" (read as missing by pandas and R); a missing peak name is BED's ".".
std::string number_or_na(double value) { return std::isfinite(value) ? format_number(value) : "NA"; }

std::string fit_status_text(store::FitStatus unit, store::FitStatus fit) {
  if (unit == store::FitStatus::failed) return "failed";
  switch (fit) {
    case store::FitStatus::ok: return "ok";
    case store::FitStatus::not_estimable: return "not_estimable";
    case store::FitStatus::failed: return "failed";
    default: return "pending";
  }
}

// Red for a positive estimate, blue for a negative one, grey for none (a fit that is not ok).
const char* colour(double estimate, bool ok) {
  if (!ok || !std::isfinite(estimate) || estimate == 0) return "153,153,153";
  return estimate > 0 ? "178,24,43" : "33,102,172";
}

}  // namespace

int bed_score(double pvalue) {
  if (!std::isfinite(pvalue) || pvalue < 0) return 0;
  if (pvalue <= 0) return 1000;
  return static_cast<int>(std::min(1000.0, std::floor(-10 * std::log10(pvalue))));
}

std::size_t write_estimates_bed(const store::StoreContents& store, std::size_t method, const std::vector<bool>& selected,
                                std::ostream& out) {
  const auto& fits = store.fits.at(method);
  auto value = [&](const char* name, std::size_t unit) { return fits[store::fit_column_index(name)][unit]; };
  std::size_t done = 0, total = 0;
  for (std::size_t u = 0; u < store.unit_status.size(); ++u) {
    if (!selected.at(static_cast<std::size_t>(store.unit_exposure[u]))) continue;
    ++total;
    if (static_cast<store::FitStatus>(store.unit_status[u]) != store::FitStatus::pending) ++done;
  }
  std::string outcome;
  for (const auto& o : store.outcomes) outcome += (outcome.empty() ? "" : ", ") + o;
  out << "track name=\"deepmr " << store.methods[method] << "\" description=\"deepmr: per-region "
      << store.methods[method] << " estimates of each exposure's effect on " << outcome;
  if (!is_complete(store) || done < total)
    out << " (partial store: " << done << " of " << total << " units done)";
  out << "\" itemRgb=\"On\"\n";
  out << "#chrom\tstart\tend\tname\tscore\tstrand\tthickStart\tthickEnd\titemRgb\texposure\tmethod\testimate\tse\t"
         "ci_low\tci_high\tpvalue\tstatus\tpeak\tsummit\tregion\tunit\toutcome\n";
  std::size_t lines = 0;
  for (std::size_t u = 0; u < store.unit_status.size(); ++u) {
    const auto e = static_cast<std::size_t>(store.unit_exposure[u]);
    const auto unit_status = static_cast<store::FitStatus>(store.unit_status[u]);
    if (!selected.at(e) || unit_status == store::FitStatus::pending) continue;
    const auto r = static_cast<std::size_t>(store.unit_region[u]);
    const std::int64_t row = store.region_row.at(r);
    // A row r of a sequence file is "row r r+1", as in plan's regions.bed.
    const std::int64_t start = row >= 0 ? row : store.region_start.at(r);
    const std::int64_t end = row >= 0 ? row + 1 : store.region_end.at(r);
    const std::int64_t summit = store.region_summit.at(r);
    const bool thick = summit >= start && summit < end;
    const auto fit_status = static_cast<store::FitStatus>(store.fit_status[method][u]);
    const double estimate = value("estimate", u), pvalue = value("pvalue", u);
    const bool ok = unit_status == store::FitStatus::ok && fit_status == store::FitStatus::ok;
    out << store.region_chrom.at(r) << '\t' << start << '\t' << end << '\t' << store.exposures.at(e) << '\t'
        << bed_score(ok ? pvalue : NAN) << "\t.\t" << (thick ? summit : start) << '\t' << (thick ? summit + 1 : start)
        << '\t' << colour(estimate, ok) << '\t' << store.exposures[e] << '\t' << store.methods[method] << '\t'
        << number_or_na(estimate) << '\t' << number_or_na(value("se", u)) << '\t' << number_or_na(value("ci_low", u))
        << '\t' << number_or_na(value("ci_high", u)) << '\t' << number_or_na(pvalue) << '\t'
        << fit_status_text(unit_status, fit_status) << '\t'
        << (store.region_name.at(r).empty() ? "." : store.region_name[r]) << '\t' << summit << '\t' << r << '\t' << u
        << '\t' << store.outcomes.at(static_cast<std::size_t>(store.unit_outcome[u])) << '\n';
    ++lines;
  }
  return lines;
}

}  // namespace deepmr::app
