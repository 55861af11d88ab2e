#include "deepmr/store/schema.hpp"

#include <sstream>

#include "deepmr/common/error.hpp"
#include "deepmr/stats/direction.hpp"
#include "deepmr/stats/result_columns.hpp"

namespace deepmr::store {

const char* status_name(FitStatus status) {
  switch (status) {
    case FitStatus::pending: return "pending";
    case FitStatus::ok: return "ok";
    case FitStatus::not_estimable: return "not_estimable";
    case FitStatus::failed: return "failed";
  }
  return "?";
}

const char* type_name(ValueType type) {
  switch (type) {
    case ValueType::text: return "text";
    case ValueType::int8: return "int8";
    case ValueType::int32: return "int32";
    case ValueType::int64: return "int64";
    case ValueType::float32: return "float32";
    case ValueType::float64: return "float64";
  }
  return "?";
}

const std::vector<AttributeSpec>& store_attributes() {
  using T = ValueType;
  static const std::vector<AttributeSpec> attributes = {
      // What the store is.
      {"format", T::text}, {"format_version", T::int64},
      // Provenance, written when the store is created.
      {"deepmr_version", T::text}, {"versions", T::text}, {"config", T::text}, {"config_path", T::text},
      {"model", T::text}, {"model_sha256", T::text}, {"plan_sha256", T::text}, {"alphabet", T::text},
      {"engine", T::text}, {"backend", T::text}, {"tau2", T::text}, {"region_source", T::text},
      {"outcome", T::text}, {"outcome_output", T::int64}, {"network", T::int64}, {"methods", T::text},
      {"seed", T::int64},
      {"mc_samples", T::int64}, {"input_length", T::int64}, {"reverse_complement", T::int64},
      {"ensemble_members", T::int64, true},  // only a deep ensemble's store (model.file repeated)
      {"regions_total", T::int64}, {"units_total", T::int64}, {"bootstrap", T::int64},
      // The run, written when the store is finished.
      {"started", T::text}, {"finished", T::text}, {"attempts", T::int64}, {"ranks", T::int64},
      {"units_done", T::int64}, {"units_failed", T::int64}, {"complete", T::int64},
      {"main_loop_seconds", T::float64}};
  return attributes;
}

ValueType attribute_type(const std::string& name) {
  for (const auto& a : store_attributes())
    if (name == a.name) return a.type;
  throw InternalError("the store schema has no root attribute '" + name + "' (add it to store/schema.cpp)");
}

const std::vector<DatasetSpec>& store_datasets() {
  using T = ValueType;
  static const std::vector<DatasetSpec> datasets = {
      {"exposures/name", T::text, kExposureRows},
      {"exposures/output", T::int64, kExposureRows},
      {"outcomes/name", T::text, kOutcomeRows},
      {"outcomes/output", T::int64, kOutcomeRows},
      {"regions/chrom", T::text, kRegionRows},
      {"regions/start", T::int64, kRegionRows},
      {"regions/end", T::int64, kRegionRows},
      {"regions/row", T::int64, kRegionRows},
      {"regions/name", T::text, kRegionRows},
      {"regions/summit", T::int64, kRegionRows},
      {"regions/seconds_ism", T::float64, kRegionRows},
      {"regions/seconds_mr", T::float64, kRegionRows},
      {"regions/rank", T::int32, kRegionRows},
      {"regions/status", T::int8, kRegionRows},
      {"units/exposure", T::int32, kUnitRows},
      {"units/outcome", T::int32, kUnitRows},
      {"units/region", T::int64, kUnitRows},
      {"units/seconds", T::float64, kUnitRows},
      {"units/rank", T::int32, kUnitRows},
      {"units/status", T::int8, kUnitRows},
      {"units/reason", T::text, kUnitRows},
      {"fits/{method}/{fit_column}", T::float64, kUnitRows},
      {"fits/{method}/status", T::int8, kUnitRows},
      {"fits/{method}/reason", T::text, kUnitRows},
      {"meta/{method}/{meta_column}", T::float64, kPairRows},
      {"meta/{method}/status", T::int8, kPairRows},
      {"meta/{method}/reason", T::text, kPairRows},
      {"direction/{direction_column}", T::float64, kUnitRows},
      {"direction/status", T::int8, kUnitRows},
      {"direction/reason", T::text, kUnitRows},
      {"direction_meta/{meta_column}", T::float64, kPairRows},
      {"direction_meta/status", T::int8, kPairRows},
      {"direction_meta/reason", T::text, kPairRows},
      {"effects/position", T::int32, kMutantRows},
      {"effects/sequence", T::text, kRegionRows},
      {"effects/outcome_beta", T::float32, "outcome regions x mutants"},
      {"effects/outcome_se", T::float32, "outcome regions x mutants"},
      {"effects/exposure_beta", T::float32, "units x mutants"},
      {"effects/exposure_se", T::float32, "units x mutants"}};
  return datasets;
}

namespace {

template <typename Columns>
std::vector<std::string> names_of(const Columns& columns) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  return names;
}

}  // namespace

const std::vector<std::string>& fit_columns() {
  static const std::vector<std::string> names = names_of(stats::mr_columns());
  return names;
}

const std::vector<std::string>& meta_columns() {
  static const std::vector<std::string> names = names_of(stats::meta_columns());
  return names;
}

const std::vector<std::string>& direction_columns() {
  static const std::vector<std::string> names(stats::direction_columns().begin(), stats::direction_columns().end());
  return names;
}

std::vector<StoreDataset> expand_datasets(const std::vector<std::string>& methods, bool with_effects) {
  auto replace = [](const std::string& text, const std::string& placeholder, const std::vector<std::string>& values) {
    std::vector<std::string> out;
    const auto at = text.find(placeholder);
    if (at == std::string::npos) return std::vector<std::string>{text};
    for (const auto& v : values) out.push_back(text.substr(0, at) + v + text.substr(at + placeholder.size()));
    return out;
  };
  std::vector<StoreDataset> out;
  for (const auto& spec : store_datasets()) {
    const std::string path = spec.path;
    if (!with_effects && path.rfind(std::string(kEffectsGroup) + "/", 0) == 0) continue;
    for (const auto& with_method : replace(path, "{method}", methods))
      for (const auto& with_fit : replace(with_method, "{fit_column}", fit_columns()))
        for (const auto& with_meta : replace(with_fit, "{meta_column}", meta_columns()))
          for (const auto& full : replace(with_meta, "{direction_column}", direction_columns())) out.push_back({full, &spec});
  }
  return out;
}

std::size_t fit_column_index(const std::string& name) {
  const auto& names = fit_columns();
  for (std::size_t c = 0; c < names.size(); ++c)
    if (names[c] == name) return c;
  throw InternalError("no MR fit column '" + name + "' (stats/result_columns.cpp)");
}

std::string schema_json() {
  std::ostringstream out;
  auto quoted = [](const std::string& s) { return "\"" + s + "\""; };
  out << "{\n  \"format\": " << quoted(kStoreFormat) << ",\n  \"format_version\": " << kStoreFormatVersion << ",\n";
  out << "  \"statuses\": {";
  for (auto s : {FitStatus::pending, FitStatus::ok, FitStatus::not_estimable, FitStatus::failed})
    out << (s == FitStatus::pending ? "" : ", ") << quoted(status_name(s)) << ": " << static_cast<int>(s);
  out << "},\n";
  auto columns = [&](const char* key, const std::vector<std::string>& names) {
    out << "  " << quoted(key) << ": [\n";
    for (std::size_t i = 0; i < names.size(); ++i)
      out << "    {\"name\": " << quoted(names[i]) << ", \"type\": \"float64\"}" << (i + 1 < names.size() ? ",\n" : "\n");
    out << "  ],\n";
  };
  columns("fit_columns", fit_columns());
  columns("meta_columns", meta_columns());
  columns("direction_columns", direction_columns());
  out << "  \"attributes\": [\n";
  const auto& attributes = store_attributes();
  for (std::size_t i = 0; i < attributes.size(); ++i)
    out << "    {\"name\": " << quoted(attributes[i].name) << ", \"type\": " << quoted(type_name(attributes[i].type))
        << (attributes[i].optional ? ", \"optional\": true" : "") << "}" << (i + 1 < attributes.size() ? ",\n" : "\n");
  out << "  ],\n  \"datasets\": [\n";
  const auto& datasets = store_datasets();
  for (std::size_t i = 0; i < datasets.size(); ++i)
    out << "    {\"path\": " << quoted(datasets[i].path) << ", \"type\": " << quoted(type_name(datasets[i].type))
        << ", \"rows\": " << quoted(datasets[i].rows) << "}" << (i + 1 < datasets.size() ? ",\n" : "\n");
  out << "  ]\n}\n";
  return out.str();
}

}  // namespace deepmr::store
