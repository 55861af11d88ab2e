#include "deepmr/store/store_reader.hpp"

#include <limits>

#include "deepmr/common/error.hpp"
#include "hdf5.hpp"

namespace deepmr::store {

StoreContents read_store(const std::string& path) {
  File f = File::open_serial(path, false);
  StoreContents s;
  if (!f.has_attribute("/", "format") || f.string_attribute("/", "format") != kStoreFormat)
    throw StoreError(path + ": not a deepmr store (no format attribute '" + std::string(kStoreFormat) + "')");
  const auto version = f.int_attribute("/", "format_version");
  if (version < kOldestReadableFormatVersion || version > kStoreFormatVersion)
    throw StoreError(path + ": store format version " + std::to_string(version) + ", this deepmr reads versions " +
                     std::to_string(kOldestReadableFormatVersion) + " to " + std::to_string(kStoreFormatVersion) +
                     (version > kStoreFormatVersion ? " (read it with a newer deepmr)" : ""));
  for (const auto& attribute : store_attributes()) {
    if (!f.has_attribute("/", attribute.name)) continue;
    switch (attribute.type) {
      case ValueType::text: s.text_attributes[attribute.name] = f.string_attribute("/", attribute.name); break;
      case ValueType::float64: s.double_attributes[attribute.name] = f.double_attribute("/", attribute.name); break;
      default: s.int_attributes[attribute.name] = f.int_attribute("/", attribute.name); break;
    }
  }
  const std::string methods = s.text_attributes["methods"];
  for (std::size_t start = 0; start <= methods.size();) {
    const auto comma = methods.find(',', start);
    const std::string m = methods.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!m.empty()) s.methods.push_back(m);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  s.exposures = f.open_dataset("/exposures/name").read_strings();
  s.exposure_outputs = f.open_dataset("/exposures/output").read_all<std::int64_t>();
  if (f.exists("/outcomes/name")) {
    s.outcomes = f.open_dataset("/outcomes/name").read_strings();
    s.outcome_outputs = f.open_dataset("/outcomes/output").read_all<std::int64_t>();
  } else {  // version 1: one outcome
    s.outcomes = {s.text_attributes["outcome"]};
    s.outcome_outputs = {s.int_attributes.count("outcome_output") ? s.int_attributes["outcome_output"] : -1};
  }
  s.region_chrom = f.open_dataset("/regions/chrom").read_strings();
  s.region_start = f.open_dataset("/regions/start").read_all<std::int64_t>();
  s.region_end = f.open_dataset("/regions/end").read_all<std::int64_t>();
  s.region_row = f.open_dataset("/regions/row").read_all<std::int64_t>();
  s.region_status = f.open_dataset("/regions/status").read_all<std::int8_t>();
  const std::size_t regions = s.region_start.size();
  s.region_name = f.exists("/regions/name") ? f.open_dataset("/regions/name").read_strings() : std::vector<std::string>{};
  s.region_summit = f.exists("/regions/summit") ? f.open_dataset("/regions/summit").read_all<std::int64_t>()
                                                : std::vector<std::int64_t>{};
  s.region_name.resize(regions);
  s.region_summit.resize(regions, -1);
  s.unit_exposure = f.open_dataset("/units/exposure").read_all<std::int32_t>();
  s.unit_region = f.open_dataset("/units/region").read_all<std::int64_t>();
  s.unit_outcome = f.exists("/units/outcome") ? f.open_dataset("/units/outcome").read_all<std::int32_t>()
                                              : std::vector<std::int32_t>(s.unit_region.size(), 0);
  s.unit_status = f.open_dataset("/units/status").read_all<std::int8_t>();
  s.unit_reason = f.open_dataset("/units/reason").read_strings();
  for (const auto& method : s.methods) {
    const std::string fits = "/fits/" + method + "/", meta = "/meta/" + method + "/";
    std::vector<std::vector<double>> fit_columns_values, meta_values;
    for (const auto& column : fit_columns()) {
      // Stores written before the jackknife columns lack them: NaN, as a run without it stores.
      if (!f.exists(fits + column) && column.find("_jackknife") != std::string::npos) {
        fit_columns_values.emplace_back(s.unit_status.size(), std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      fit_columns_values.push_back(f.open_dataset(fits + column).read_all<double>());
    }
    for (const auto& column : meta_columns()) meta_values.push_back(f.open_dataset(meta + column).read_all<double>());
    s.fits.push_back(std::move(fit_columns_values));
    s.fit_status.push_back(f.open_dataset(fits + "status").read_all<std::int8_t>());
    s.meta.push_back(std::move(meta_values));
    s.meta_status.push_back(f.open_dataset(meta + "status").read_all<std::int8_t>());
    s.meta_reason.push_back(f.open_dataset(meta + "reason").read_strings());
  }
  if (f.exists("/direction/status")) {
    for (const auto& column : direction_columns()) s.direction.push_back(f.open_dataset("/direction/" + column).read_all<double>());
    s.direction_status = f.open_dataset("/direction/status").read_all<std::int8_t>();
    for (const auto& column : meta_columns())
      s.direction_meta.push_back(f.open_dataset("/direction_meta/" + column).read_all<double>());
    s.direction_meta_status = f.open_dataset("/direction_meta/status").read_all<std::int8_t>();
    s.direction_meta_reason = f.open_dataset("/direction_meta/reason").read_strings();
  }
  return s;
}

}  // namespace deepmr::store
