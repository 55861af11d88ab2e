#include "deepmr/app/store_tables.hpp"

#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

std::int64_t int_attribute(const store::StoreContents& store, const char* key) {
  auto it = store.int_attributes.find(key);
  return it == store.int_attributes.end() ? std::int64_t{0} : it->second;
}

}  // namespace

bool is_complete(const store::StoreContents& store) { return int_attribute(store, "complete") == 1; }

std::string run_state(const store::StoreContents& store) { return is_complete(store) ? "complete" : "partial"; }

namespace {

std::size_t meta_column(const std::string& name) {
  const auto& columns = store::meta_columns();
  for (std::size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == name) return c;
  throw UsageError("no meta-analysis column '" + name + "' (the columns: k estimate se ci_low ci_high pvalue tau2 tau "
                   "i2 h2 q q_df q_pvalue pi_low pi_high)");
}

// An exposure paired with its own output (a network run) is never fitted: no row, no cell.
bool self_pair(const store::StoreContents& store, std::size_t exposure, std::size_t outcome) {
  return store.exposure_outputs.size() == store.exposures.size() && store.outcome_outputs.at(outcome) >= 0 &&
         store.exposure_outputs[exposure] == store.outcome_outputs[outcome];
}

// The meta row of (the outcome as exposure, the exposure as outcome), when the run fitted it.
std::optional<std::size_t> reverse_row(const store::StoreContents& store, std::size_t exposure, std::size_t outcome) {
  if (store.exposure_outputs.size() != store.exposures.size()) return std::nullopt;
  std::optional<std::size_t> e2, o2;
  for (std::size_t e = 0; e < store.exposures.size(); ++e)
    if (store.exposure_outputs[e] == store.outcome_outputs[outcome]) e2 = e;
  for (std::size_t o = 0; o < store.outcomes.size(); ++o)
    if (store.outcome_outputs[o] == store.exposure_outputs[exposure]) o2 = o;
  if (!e2 || !o2) return std::nullopt;
  return store::pair_row(store, *e2, *o2);
}

std::string meta_status_text(const store::StoreContents& store, std::size_t method, std::size_t row) {
  const auto status = static_cast<store::FitStatus>(store.meta_status[method][row]);
  return status == store::FitStatus::ok              ? std::string("ok")
         : status == store::FitStatus::not_estimable ? "not estimable: " + store.meta_reason[method][row]
                                                     : std::string("pending");
}

}  // namespace

std::optional<std::size_t> outcome_index(const store::StoreContents& store, const std::string& name) {
  if (name.empty()) return std::nullopt;
  for (std::size_t o = 0; o < store.outcomes.size(); ++o)
    if (store.outcomes[o] == name) return o;
  std::string list;
  for (const auto& o : store.outcomes) list += (list.empty() ? "" : ", ") + o;
  throw UsageError("option 'outcome': the store has no outcome '" + name + "' (it has " + list + ")");
}

Table summary_table(const store::StoreContents& store, std::size_t method, std::optional<std::size_t> only_outcome) {
  Table table({"exposure", "outcome", "method", "regions", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "tau",
               "i2", "direction", "direction_pvalue", "reverse_estimate", "failed", "status", "run"});
  // Units whose region failed (the model gave NaN or Inf), per (exposure, outcome).
  std::vector<long long> failed(store.exposures.size() * store.outcomes.size(), 0);
  for (std::size_t u = 0; u < store.unit_status.size(); ++u)
    if (static_cast<store::FitStatus>(store.unit_status[u]) == store::FitStatus::failed)
      ++failed[store::pair_row(store, store.unit_exposure[u], store.unit_outcome[u])];
  for (std::size_t e = 0; e < store.exposures.size(); ++e)
    for (std::size_t o = 0; o < store.outcomes.size(); ++o) {
      if ((only_outcome && o != *only_outcome) || self_pair(store, e, o)) continue;
      const std::size_t row = store::pair_row(store, e, o);
      table.add_row();
      table.set("exposure", store.exposures[e]);
      table.set("outcome", store.outcomes[o]);
      table.set("method", store.methods[method]);
      table.set("regions", store.meta[method][meta_column("k")][row]);
      for (const char* name : {"estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "tau", "i2"})
        table.set(name, store.meta[method][meta_column(name)][row]);
      // The direction test pooled over the pair's regions (r2 of the exposure minus the outcome's:
      // > 0 supports exposure -> outcome), and the fit of the reverse pair where there is one.
      if (!store.direction_meta.empty()) {
        table.set("direction", store.direction_meta[meta_column("estimate")][row]);
        table.set("direction_pvalue", store.direction_meta[meta_column("pvalue")][row]);
      }
      if (const auto reverse = reverse_row(store, e, o))
        table.set("reverse_estimate", store.meta[method][meta_column("estimate")][*reverse]);
      table.set("failed", failed[row]);
      table.set("status", meta_status_text(store, method, row));
      table.set("run", run_state(store));
    }
  return table;
}

Table matrix_table(const store::StoreContents& store, std::size_t method, const std::string& column) {
  const std::size_t c = meta_column(column);
  std::vector<std::string> header = {"exposure"};
  for (const auto& outcome : store.outcomes) {
    if (outcome == "exposure" || outcome == "run")
      throw UsageError("an outcome is named '" + outcome + "', a column of the matrix: use the table (no --matrix)");
    header.push_back(outcome);
  }
  header.push_back("run");
  Table table(header);
  for (std::size_t e = 0; e < store.exposures.size(); ++e) {
    table.add_row();
    table.set("exposure", store.exposures[e]);
    for (std::size_t o = 0; o < store.outcomes.size(); ++o)
      if (!self_pair(store, e, o)) table.set(store.outcomes[o], store.meta[method][c][store::pair_row(store, e, o)]);
    table.set("run", run_state(store));
  }
  return table;
}

void set_region_columns(Table& table, const store::StoreContents& store, std::int64_t region) {
  const auto r = static_cast<std::size_t>(region);
  const std::int64_t row = store.region_row.at(r);
  // A row of a sequence file is "row r r+1", as in plan's regions.bed.
  table.set("chrom", store.region_chrom.at(r));
  table.set("start", static_cast<long long>(row >= 0 ? row : store.region_start.at(r)));
  table.set("end", static_cast<long long>(row >= 0 ? row + 1 : store.region_end.at(r)));
  if (!store.region_name.at(r).empty()) table.set("name", store.region_name[r]);
  if (store.region_summit.at(r) >= 0) table.set("summit", static_cast<long long>(store.region_summit[r]));
}

Table units_table(const store::StoreContents& store) {
  std::vector<std::string> header = {"unit", "exposure", "outcome", "region", "chrom", "start", "end", "name", "summit", "method"};
  for (const auto& c : store::fit_columns()) header.push_back(c);
  header.push_back("status");
  header.push_back("run");
  Table table(header);
  for (std::size_t u = 0; u < store.unit_region.size(); ++u)
    for (std::size_t m = 0; m < store.methods.size(); ++m) {
      table.add_row();
      table.set("unit", u);
      table.set("exposure", store.exposures.at(store.unit_exposure[u]));
      table.set("outcome", store.outcomes.at(store.unit_outcome[u]));
      table.set("region", static_cast<long long>(store.unit_region[u]));
      set_region_columns(table, store, store.unit_region[u]);
      table.set("method", store.methods[m]);
      for (std::size_t c = 0; c < store::fit_columns().size(); ++c) table.set(store::fit_columns()[c], store.fits[m][c][u]);
      const auto status = static_cast<store::FitStatus>(store.fit_status[m][u]);
      table.set("status", status == store::FitStatus::ok              ? std::string("ok")
                          : status == store::FitStatus::not_estimable ? std::string("not estimable")
                          : status == store::FitStatus::failed        ? "failed: " + store.unit_reason[u]
                                                                      : std::string("pending"));
      table.set("run", run_state(store));
    }
  return table;
}

std::string completeness(const store::StoreContents& store) {
  auto get = [&](const char* key) { return int_attribute(store, key); };
  const auto done = get("units_done"), total = get("units_total"), failed = get("units_failed");
  return std::to_string(done) + " of " + std::to_string(total) + " units done" +
         (failed ? " (" + std::to_string(failed) + " failed)" : std::string()) +
         (is_complete(store) ? "; the run is complete" : "; the run is not complete: resume it with deepmr run --resume");
}

}  // namespace deepmr::app
