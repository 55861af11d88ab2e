#pragma once
// The store's schema, written once (docs/store.md): its root attributes, its datasets, the columns
// of its fits/<method> and meta/<method> tables (from stats/result_columns.hpp) and the status
// codes of its rows. The writer refuses an attribute that is not listed here, the reader reads what
// is listed, and schema_json() gives the same lists to the Python reader
// (analysis/deepmr_store/schema.json, compared with it by a test).

#include <cstdint>
#include <string>
#include <vector>

namespace deepmr::store {

inline constexpr const char* kStoreFormat = "deepmr-store";
// 2: several outcomes (outcomes/, units/outcome, meta rows per exposure and outcome, the outcomes'
// effects); a version-1 store reads as one with a single outcome.
inline constexpr std::int64_t kStoreFormatVersion = 2;
inline constexpr std::int64_t kOldestReadableFormatVersion = 1;

// The status of a unit, a region, a fit or a meta-analysis row (int8 in the store).
enum class FitStatus : std::int8_t { pending = 0, ok = 1, not_estimable = 2, failed = 3 };
const char* status_name(FitStatus status);  // "pending", "ok", "not_estimable", "failed"

enum class ValueType { text, int8, int32, int64, float32, float64 };
const char* type_name(ValueType type);  // as in schema.json: "text", "int8", ..., "float64"

struct AttributeSpec {
  const char* name;
  ValueType type;
  bool optional = false;  // written only by some runs (schema.json marks it "optional": true)
};
// Every root attribute a store may have, in the order docs/store.md lists them.
const std::vector<AttributeSpec>& store_attributes();
// The type of a listed attribute; InternalError for a name the schema does not list.
ValueType attribute_type(const std::string& name);

// Row spaces of the datasets.
inline constexpr const char* kExposureRows = "exposures";
inline constexpr const char* kOutcomeRows = "outcomes";
// One row per (exposure e, outcome o): row e * outcomes + o (a one-outcome store: one per exposure).
inline constexpr const char* kPairRows = "pairs";
// One row per (outcome o, region r): row o * regions + r (a one-outcome store: one per region).
inline constexpr const char* kOutcomeRegionRows = "outcome regions";
inline constexpr const char* kRegionRows = "regions";
inline constexpr const char* kUnitRows = "units";
inline constexpr const char* kMutantRows = "mutants";

struct DatasetSpec {
  const char* path;  // "{method}", "{fit_column}", "{meta_column}" and "{direction_column}" stand for each of them
  ValueType type;
  const char* rows;  // a row space, or "A x B" for a 2-D dataset
};
const std::vector<DatasetSpec>& store_datasets();

inline constexpr const char* kEffectsGroup = "effects";  // written only with run.store-effects

struct StoreDataset {
  std::string path;  // with the placeholders filled in, e.g. "fits/egger/estimate"
  const DatasetSpec* spec;
};
// Every dataset of a store with these MR methods, in schema order (effects/ only when asked).
std::vector<StoreDataset> expand_datasets(const std::vector<std::string>& methods, bool with_effects);

// Names of the numeric columns of fits/<method> and meta/<method>.
const std::vector<std::string>& fit_columns();
const std::vector<std::string>& meta_columns();
// Names of the numeric columns of direction/ (stats/direction.hpp); direction_meta/ has meta_columns().
const std::vector<std::string>& direction_columns();
// The position of a named column in fit_columns() (InternalError for an unknown name).
std::size_t fit_column_index(const std::string& name);

// The whole schema as JSON (the format of analysis/deepmr_store/schema.json).
std::string schema_json();

}  // namespace deepmr::store
