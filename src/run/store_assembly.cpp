#include "deepmr/run/store_assembly.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "deepmr/common/error.hpp"
#include "deepmr/dist/collective_step.hpp"
#include "deepmr/stats/meta_analysis.hpp"
#include "deepmr/stats/result_columns.hpp"
#include "deepmr/store/journal.hpp"

namespace deepmr::run {
namespace {

// The meta-analysis of one exposure's estimable fits for one method, as a store row.
// without_se: the fits that were estimable but gave no standard error (conmix's interval comes
// from its profile likelihood; a median or mode with bootstrap = 0), which cannot be pooled.
store::MetaRow meta_row(const std::vector<double>& estimates, const std::vector<double>& ses, std::size_t without_se,
                        const stats::MetaOptions& options) {
  store::MetaRow row;
  if (estimates.empty()) {
    row.values = stats::column_values(stats::MetaResult{});  // k = 0, nothing else
    row.status = store::FitStatus::not_estimable;
    row.reason = without_se == 0 ? "no region with an estimable fit"
                                 : "no region with a standard error: the method's " + std::to_string(without_se) +
                                       " estimable fits have none, so they cannot be pooled (read the per-region fits)";
    return row;
  }
  const auto m = stats::meta_analysis(estimates, ses, options);
  row.status = m.estimable ? store::FitStatus::ok : store::FitStatus::not_estimable;
  row.reason = m.reason;
  row.values = stats::column_values(m);
  return row;
}

std::size_t direction_column(const std::string& name) {
  const auto& names = store::direction_columns();
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// Whether pair p (exposure p / outcomes, outcome p % outcomes) is an exposure and its own output:
// never fitted (network runs); its row says so.
bool self_pair(const RunSetup& setup, std::size_t p) {
  const std::size_t outcomes = setup.outcome_outputs.size();
  return setup.exposure_outputs[p / outcomes] == setup.outcome_outputs[p % outcomes];
}

store::MetaRow not_estimable_row(std::string reason) {
  store::MetaRow row;
  row.values = stats::column_values(stats::MetaResult{});
  row.status = store::FitStatus::not_estimable;
  row.reason = std::move(reason);
  return row;
}

const char* const kSelfPair = "the exposure is the outcome's own output: not fitted";

// The direction test pooled per pair from its regions' differences and their jackknife SEs.
std::vector<store::MetaRow> pooled_direction(const RunSetup& setup, const std::vector<std::vector<double>>& differences,
                                             const std::vector<std::vector<double>>& ses,
                                             const std::vector<std::size_t>& without_se) {
  std::vector<store::MetaRow> rows;
  for (std::size_t p = 0; p < differences.size(); ++p) {
    if (self_pair(setup, p))
      rows.push_back(not_estimable_row(kSelfPair));
    else if (differences[p].empty() && without_se[p] > 0)
      rows.push_back(not_estimable_row("its " + std::to_string(without_se[p]) + " regions' differences have no standard "
                                       "error: the jackknife over the samples gives it (analysis.jackknife-groups >= 2)"));
    else
      rows.push_back(meta_row(differences[p], ses[p], 0, setup.config.meta));
  }
  return rows;
}

}  // namespace

AssemblyOutcome assemble_store(const dist::Communicator& comm, const RunSetup& setup,
                               const std::map<std::string, std::string>& text_attributes,
                               const std::map<std::string, std::int64_t>& int_attributes,
                               const std::map<std::string, double>& double_attributes) {
  const std::string journal = store::journal_directory(setup.config.store);
  const auto layout = setup.store_layout();
  // Every step that can fail on one rank is agreed on before the next collective call
  // (dist::collectively), so that no rank waits for another that has given up.
  store::RunStoreWriter writer(setup.config.store, comm, layout);

  // Each rank writes the rows of its share of the journal parts.
  const int ranks = comm.size(), rank = comm.rank();
  dist::collectively(comm, [&] {
    store::read_journal_parts(
        journal, [&](std::size_t position) { return static_cast<int>(position % ranks) == rank; },
        [&](store::RegionResult&& result) { writer.write(result); }, setup.config.store_effects, setup.run_id);
    writer.write_pending();
  });

  AssemblyOutcome outcome;
  std::map<std::string, std::int64_t> counts = int_attributes;
  dist::collectively(comm, [&] {
    if (!comm.is_root()) return;
    // Rank 0 gathers every unit's estimates from the journal for the meta-analysis of each
    // (exposure, outcome) pair: pair e * outcomes + o.
    const std::size_t methods = setup.config.methods.size(), outcomes = setup.outcome_outputs.size(),
                      pairs = setup.plan.exposures().size() * outcomes;
    std::vector<std::vector<std::vector<double>>> estimates(methods, std::vector<std::vector<double>>(pairs)),
        ses = estimates;
    std::vector<std::vector<std::size_t>> without_se(methods, std::vector<std::size_t>(pairs, 0));
    std::vector<std::uint8_t> seen(setup.units.count(), 0);
    // The direction test's differences and their jackknife SEs, per pair.
    std::vector<std::vector<double>> differences(pairs), difference_ses(pairs);
    std::vector<std::size_t> differences_without_se(pairs, 0);
    const std::size_t difference_column = direction_column("difference"), difference_se_column = direction_column("se");
    const std::size_t estimate_column = store::fit_column_index("estimate"), se_column = store::fit_column_index(setup.config.meta_uses_jackknife ? "se_jackknife" : "se");
    const auto stats = store::read_journal(
        journal,
        [&](store::RegionResult&& result) {
          for (const auto& unit : result.units) {
            if (unit.unit >= seen.size() || seen[unit.unit]) continue;
            seen[unit.unit] = 1;
            ++outcome.units_done;
            if (unit.failed) ++outcome.units_failed;
            const std::size_t pair = static_cast<std::size_t>(unit.exposure) * outcomes + unit.outcome;
            if (unit.outcome >= outcomes || pair >= pairs)
              throw StoreError("journal record of region " + std::to_string(result.region) + " does not match the plan's units");
            if (unit.direction.status == store::FitStatus::ok && unit.direction.values.size() > difference_se_column) {
              const double d = unit.direction.values[difference_column], se = unit.direction.values[difference_se_column];
              if (std::isfinite(d) && std::isfinite(se) && se > 0) {
                differences[pair].push_back(d);
                difference_ses[pair].push_back(se);
              } else if (std::isfinite(d)) {
                ++differences_without_se[pair];
              }
            }
            for (std::size_t m = 0; m < methods && m < unit.fits.size(); ++m) {
              const auto& fit = unit.fits[m];
              const double estimate = fit.values[estimate_column], se = fit.values[se_column];
              if (fit.status == store::FitStatus::ok && std::isfinite(estimate) && std::isfinite(se) && se > 0) {
                estimates[m][pair].push_back(estimate);
                ses[m][pair].push_back(se);
              } else if (fit.status == store::FitStatus::ok && std::isfinite(estimate)) {
                ++without_se[m][pair];
              }
            }
          }
        },
        false, setup.run_id);
    outcome.duplicate_records = stats.duplicate_records;
    outcome.torn_parts = stats.torn_parts;
    std::vector<std::vector<store::MetaRow>> meta(methods);
    for (std::size_t m = 0; m < methods; ++m)
      for (std::size_t p = 0; p < pairs; ++p)
        meta[m].push_back(self_pair(setup, p) ? not_estimable_row(kSelfPair)
                                              : meta_row(estimates[m][p], ses[m][p], without_se[m][p], setup.config.meta));
    writer.write_meta(meta);
    writer.write_direction_meta(pooled_direction(setup, differences, difference_ses, differences_without_se));
  });
  // Counts are root attributes: every rank must write the same values.
  counts["units_done"] = comm.broadcast(static_cast<std::int64_t>(outcome.units_done), 0);
  counts["units_failed"] = comm.broadcast(static_cast<std::int64_t>(outcome.units_failed), 0);
  counts["complete"] = counts["units_done"] == static_cast<std::int64_t>(setup.units.count()) ? 1 : 0;
  writer.finish(counts, text_attributes, double_attributes);
  return outcome;
}

}  // namespace deepmr::run
