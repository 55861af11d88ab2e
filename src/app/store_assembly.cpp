#include "deepmr/app/store_assembly.hpp"

#include <cmath>
#include <limits>
#include <map>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/store/journal.hpp"

namespace deepmr::app {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

double value_or_nan(const std::optional<double>& v) { return v ? *v : kNaN; }

store::MetaRow meta_row(const std::vector<double>& estimates, const std::vector<double>& ses,
                        const stats::MetaOptions& options) {
  store::MetaRow row;
  row.values.assign(store::meta_columns().size(), kNaN);
  row.values[0] = static_cast<double>(estimates.size());
  if (estimates.empty()) {
    row.status = 2;
    row.reason = "no region with an estimable fit";
    return row;
  }
  const auto m = stats::meta_analysis(estimates, ses, options);
  row.status = m.estimable ? 1 : 2;
  row.reason = m.reason;
  row.values = {static_cast<double>(m.k),  value_or_nan(m.estimate), value_or_nan(m.se),    value_or_nan(m.ci_low),
                value_or_nan(m.ci_high),   value_or_nan(m.pvalue),   value_or_nan(m.tau2),  value_or_nan(m.tau),
                value_or_nan(m.i2),        value_or_nan(m.h2),       value_or_nan(m.q),
                m.q_df ? static_cast<double>(*m.q_df) : kNaN, value_or_nan(m.q_pvalue), value_or_nan(m.pi_low),
                value_or_nan(m.pi_high)};
  return row;
}

}  // namespace

AssemblyOutcome assemble_store(const dist::Communicator& comm, const RunSetup& setup,
                               const std::map<std::string, std::string>& text_attributes,
                               const std::map<std::string, std::int64_t>& int_attributes,
                               const std::map<std::string, double>& double_attributes) {
  const std::string journal = store::journal_directory(setup.config.store);
  const auto layout = setup.store_layout();
  store::RunStoreWriter writer(setup.config.store, comm.handle(), layout);

  // Each rank writes the rows of its share of the journal parts.
  const int ranks = comm.size(), rank = comm.rank();
  store::read_journal_parts(
      journal, [&](std::size_t position) { return static_cast<int>(position % ranks) == rank; },
      [&](store::RegionResult&& result) { writer.write(result); }, setup.config.store_effects);

  AssemblyOutcome outcome;
  std::map<std::string, std::int64_t> counts = int_attributes;
  if (comm.is_root()) {
    // Rank 0 gathers every unit's estimates from the journal for the meta-analysis.
    const std::size_t methods = setup.config.methods.size(), exposures = setup.plan.exposures().size();
    std::vector<std::vector<std::vector<double>>> estimates(methods, std::vector<std::vector<double>>(exposures)),
        ses = estimates;
    std::vector<std::uint8_t> seen(setup.plan.unit_count(), 0);
    const auto stats = store::read_journal(
        journal,
        [&](store::RegionResult&& result) {
          for (const auto& unit : result.units) {
            if (unit.unit >= seen.size() || seen[unit.unit]) continue;
            seen[unit.unit] = 1;
            ++outcome.units_done;
            if (unit.failed) ++outcome.units_failed;
            for (std::size_t m = 0; m < methods && m < unit.fits.size(); ++m) {
              const auto& fit = unit.fits[m];
              const double estimate = fit.values[0], se = fit.values[1];
              if (fit.status == store::FitStatus::ok && std::isfinite(estimate) && std::isfinite(se) && se > 0) {
                estimates[m][unit.exposure].push_back(estimate);
                ses[m][unit.exposure].push_back(se);
              }
            }
          }
        },
        false);
    outcome.duplicate_records = stats.duplicate_records;
    outcome.torn_parts = stats.torn_parts;
    std::vector<std::vector<store::MetaRow>> meta(methods);
    for (std::size_t m = 0; m < methods; ++m)
      for (std::size_t e = 0; e < exposures; ++e) meta[m].push_back(meta_row(estimates[m][e], ses[m][e], setup.config.meta));
    writer.write_meta(meta);
  }
  // Counts are root attributes: every rank must write the same values.
  counts["units_done"] = comm.broadcast(static_cast<std::int64_t>(outcome.units_done), 0);
  counts["units_failed"] = comm.broadcast(static_cast<std::int64_t>(outcome.units_failed), 0);
  counts["complete"] = counts["units_done"] == static_cast<std::int64_t>(setup.plan.unit_count()) ? 1 : 0;
  writer.finish(counts, text_attributes, double_attributes);
  return outcome;
}

Table summary_table(const store::StoreContents& store, std::size_t method) {
  Table table({"exposure", "method", "regions", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "tau", "i2",
               "failed", "status"});
  // Units whose region failed (the model gave NaN or Inf), per exposure.
  std::vector<long long> failed(store.exposures.size(), 0);
  for (std::size_t u = 0; u < store.unit_status.size(); ++u)
    if (static_cast<store::FitStatus>(store.unit_status[u]) == store::FitStatus::failed) ++failed[store.unit_exposure[u]];
  const auto& columns = store::meta_columns();
  auto column = [&](const std::string& name) {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name) return c;
    throw InternalError("no meta column " + name);
  };
  for (std::size_t e = 0; e < store.exposures.size(); ++e) {
    table.add_row();
    table.set("exposure", store.exposures[e]);
    table.set("method", store.methods[method]);
    table.set("regions", store.meta[method][column("k")][e]);
    for (const char* name : {"estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "tau", "i2"})
      table.set(name, store.meta[method][column(name)][e]);
    table.set("failed", failed[e]);
    const auto status = store.meta_status[method][e];
    table.set("status", status == 1 ? std::string("ok")
                        : status == 2 ? "not estimable: " + store.meta_reason[method][e]
                                      : std::string("pending"));
  }
  return table;
}

Table units_table(const store::StoreContents& store) {
  std::vector<std::string> header = {"unit", "exposure", "region", "method"};
  for (const auto& c : store::fit_columns()) header.push_back(c);
  header.push_back("status");
  Table table(header);
  for (std::size_t u = 0; u < store.unit_region.size(); ++u)
    for (std::size_t m = 0; m < store.methods.size(); ++m) {
      table.add_row();
      table.set("unit", u);
      table.set("exposure", store.exposures.at(store.unit_exposure[u]));
      table.set("region", static_cast<long long>(store.unit_region[u]));
      table.set("method", store.methods[m]);
      for (std::size_t c = 0; c < store::fit_columns().size(); ++c) table.set(store::fit_columns()[c], store.fits[m][c][u]);
      const auto status = static_cast<store::FitStatus>(store.fit_status[m][u]);
      table.set("status", status == store::FitStatus::ok              ? std::string("ok")
                          : status == store::FitStatus::not_estimable ? std::string("not estimable")
                          : status == store::FitStatus::failed        ? "failed: " + store.unit_reason[u]
                                                                      : std::string("pending"));
    }
  return table;
}

std::string completeness(const store::StoreContents& store) {
  auto get = [&](const char* key) {
    auto it = store.int_attributes.find(key);
    return it == store.int_attributes.end() ? std::int64_t{0} : it->second;
  };
  const auto done = get("units_done"), total = get("units_total"), failed = get("units_failed");
  return std::to_string(done) + " of " + std::to_string(total) + " units done" +
         (failed ? " (" + std::to_string(failed) + " failed)" : std::string()) +
         (get("complete") ? "; the run is complete" : "; the run is not complete: resume it with deepmr run --resume");
}

}  // namespace deepmr::app
