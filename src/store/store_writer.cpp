#include "deepmr/store/store_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>

#include "deepmr/common/disk_space.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/dist/collective_step.hpp"
#include "hdf5.hpp"

namespace deepmr::store {
namespace {

constexpr std::size_t kReasonWidth = 120;
constexpr std::size_t kCoalescedRegions = 256;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string clip(const std::string& text) {
  return text.size() <= kReasonWidth ? text : text.substr(0, kReasonWidth - 3) + "...";
}

std::size_t widest(const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  return width;
}

DatasetOptions nan_filled() {
  DatasetOptions options;
  options.fill = DatasetOptions::Fill::nan;
  return options;
}

// Root attributes, each checked against the schema (name and type) before it is written.
void write_attributes(const File& f, const std::map<std::string, std::string>& text,
                      const std::map<std::string, std::int64_t>& whole, const std::map<std::string, double>& real) {
  auto check = [](const std::string& name, ValueType type) {
    if (attribute_type(name) != type)
      throw InternalError("root attribute '" + name + "' is written as " + type_name(type) + " but the schema says " +
                          type_name(attribute_type(name)));
  };
  for (const auto& [key, value] : text) check(key, ValueType::text), f.set_attribute("/", key, value);
  for (const auto& [key, value] : whole) check(key, ValueType::int64), f.set_attribute("/", key, value);
  for (const auto& [key, value] : real) check(key, ValueType::float64), f.set_attribute("/", key, value);
}

StoreError no_room(const std::string& path, std::uint64_t needed, const std::string& what_is_left) {
  return StoreError(path + ": No space left on device for the store: it needs about " + byte_size_text(needed) +
                    " and " + what_is_left + "; free space and resume (deepmr run --resume: the journal holds "
                    "every computed region)");
}

// Checked before the file is created: the free space against the store's size.
void check_room(const std::string& path, std::uint64_t bytes) {
  const auto left = free_bytes(path);
  if (left && *left < bytes) throw no_room(path, bytes, "its file system has " + byte_size_text(*left) + " free");
}

// Allocates the file's blocks (Linux fallocate; file systems without it are left as they are: no
// emulation by writing zeros). A full disk is an error here, naming what the store needs.
void reserve_space(const std::string& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // HDF5 created it: a failure to reopen is reported by the writes that follow
  const int rc = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes)) == 0 ? 0 : errno;
  ::close(fd);
  if (rc == ENOSPC || rc == EDQUOT) throw no_room(path, bytes, std::string("it cannot be reserved (") + std::strerror(rc) + ")");
}

// Gives back what the reservation allocated past the end of the closed file.
void release_reserve(const std::string& path, std::uint64_t reserved) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  const off_t end = ::lseek(fd, 0, SEEK_END);
  // A file system frees blocks past the end when the file shrinks (not on a hole punched there).
  if (end >= 0 && static_cast<std::uint64_t>(end) < reserved && ::ftruncate(fd, end + 1) == 0)
    if (::ftruncate(fd, end) != 0) {
      // The store keeps one zero byte more than HDF5 wrote, which readers ignore.
    }
  ::close(fd);
}

}  // namespace

struct RunStoreWriter::Impl {
  explicit Impl(const dist::Communicator& c) : comm(c) {}
  std::string path, assembling;
  dist::Communicator comm;
  int rank = 0;
  StoreLayout layout;
  std::unique_ptr<File> file;
  std::uint64_t reserved = 0;  // estimated_store_bytes: checked, then reserved on disk
  bool finished = false;

  // A store that was not finished is removed (its space freed: the journal holds everything).
  // Collective (the file is closed by every rank): the writer's steps fail on all ranks together.
  ~Impl() {
    if (finished) return;
    file.reset();
    if (rank == 0) std::remove(assembling.c_str());
  }

  // A failed write names a full disk when that is the cause (MPI-IO hides errno).
  void step(const std::function<void()>& work) {
    dist::collectively(comm, [&] {
      try {
        work();
      } catch (const StoreError& e) {
        const std::string what = e.what();
        throw StoreError(what.find("No space left") != std::string::npos ? what : what + full_disk_note(assembling));
      }
    });
  }

  // A run of consecutive regions (and their consecutive units) waiting to be written.
  struct Pending {
    std::uint64_t region0 = 0, unit0 = 0;
    std::vector<RegionResult> owned;
    std::uint64_t regions() const { return owned.size(); }
    std::uint64_t units = 0;
  } pending;

  void write_meta_rows(const std::string& group, const std::vector<MetaRow>& rows);

  void flush() {
    auto& block = pending.owned;
    if (block.empty()) return;
    const std::size_t n_regions = block.size(), n_units = pending.units, methods = layout.methods.size();
    const std::size_t columns = fit_columns().size();
    std::vector<double> seconds_ism(n_regions), seconds_mr(n_regions), unit_seconds(n_units);
    std::vector<std::int32_t> region_rank(n_regions), unit_rank(n_units);
    std::vector<std::int8_t> region_status(n_regions), unit_status(n_units);
    std::vector<std::string> unit_reason(n_units);
    std::vector<std::vector<std::vector<double>>> fit_values(methods, std::vector<std::vector<double>>(columns));
    std::vector<std::vector<std::int8_t>> fit_status(methods);
    std::vector<std::vector<std::string>> fit_reason(methods);
    const std::size_t direction_width = direction_columns().size();
    std::vector<std::vector<double>> direction_values(direction_width);
    std::vector<std::int8_t> direction_status;
    std::vector<std::string> direction_reason;
    const std::uint32_t mutants = layout.mutants;
    const std::size_t outcomes = layout.outcomes.size();
    // outcome_beta[o]: outcome o's rows of these regions; exposure_beta: the units' rows.
    std::vector<std::vector<float>> outcome_beta(outcomes), outcome_se(outcomes);
    std::vector<float> exposure_beta, exposure_se;
    std::vector<std::string> sequences;

    std::size_t u = 0;
    for (std::size_t r = 0; r < n_regions; ++r) {
      const RegionResult& result = block[r];
      seconds_ism[r] = result.seconds_ism;
      seconds_mr[r] = result.seconds_mr;
      region_rank[r] = result.rank;
      region_status[r] = static_cast<std::int8_t>(result.failed ? FitStatus::failed : FitStatus::ok);
      if (mutants > 0 && !result.failed) {
        if (result.mutants != mutants || result.outputs != outcomes + result.units.size())
          throw StoreError("region " + std::to_string(result.region) + ": effects of the wrong shape in the journal");
      }
      for (std::size_t i = 0; i < result.units.size(); ++i, ++u) {
        const UnitResult& unit = result.units[i];
        unit_seconds[u] = result.seconds_ism + result.seconds_mr;
        unit_rank[u] = result.rank;
        unit_status[u] = static_cast<std::int8_t>(unit.failed ? FitStatus::failed : FitStatus::ok);
        unit_reason[u] = clip(unit.reason);
        for (std::size_t m = 0; m < methods; ++m) {
          const FitRow* fit = i < result.units.size() && m < unit.fits.size() ? &unit.fits[m] : nullptr;
          for (std::size_t c = 0; c < columns; ++c)
            fit_values[m][c].push_back(fit && c < fit->values.size() ? fit->values[c] : kNaN);
          fit_status[m].push_back(static_cast<std::int8_t>(fit ? fit->status : FitStatus::failed));
          fit_reason[m].push_back(clip(fit ? fit->reason : unit.reason));
        }
        const FitRow& direction = unit.direction;
        for (std::size_t c = 0; c < direction_width; ++c)
          direction_values[c].push_back(c < direction.values.size() ? direction.values[c] : kNaN);
        direction_status.push_back(static_cast<std::int8_t>(direction.status));
        direction_reason.push_back(clip(direction.reason));
      }
      if (mutants > 0) {
        sequences.push_back(result.sequence);
        const std::size_t outputs = outcomes + result.units.size();
        const bool have = !result.failed && result.beta.size() == static_cast<std::size_t>(mutants) * outputs;
        for (std::size_t o = 0; o < outputs; ++o) {
          auto& beta = o < outcomes ? outcome_beta[o] : exposure_beta;
          auto& se = o < outcomes ? outcome_se[o] : exposure_se;
          for (std::uint32_t mu = 0; mu < mutants; ++mu) {
            beta.push_back(have ? result.beta[mu * outputs + o] : std::numeric_limits<float>::quiet_NaN());
            se.push_back(have ? result.se[mu * outputs + o] : std::numeric_limits<float>::quiet_NaN());
          }
        }
      }
    }

    const hsize_t r0 = pending.region0, u0 = pending.unit0;
    const auto independent = Transfer::independent;
    file->open_dataset("/regions/seconds_ism").write_rows(r0, n_regions, seconds_ism.data(), independent);
    file->open_dataset("/regions/seconds_mr").write_rows(r0, n_regions, seconds_mr.data(), independent);
    file->open_dataset("/regions/rank").write_rows(r0, n_regions, region_rank.data(), independent);
    file->open_dataset("/regions/status").write_rows(r0, n_regions, region_status.data(), independent);
    file->open_dataset("/units/seconds").write_rows(u0, n_units, unit_seconds.data(), independent);
    file->open_dataset("/units/rank").write_rows(u0, n_units, unit_rank.data(), independent);
    file->open_dataset("/units/status").write_rows(u0, n_units, unit_status.data(), independent);
    file->open_dataset("/units/reason").write_strings(u0, unit_reason, independent);
    for (std::size_t m = 0; m < methods; ++m) {
      const std::string group = "/fits/" + layout.methods[m] + "/";
      for (std::size_t c = 0; c < columns; ++c)
        file->open_dataset(group + fit_columns()[c]).write_rows(u0, n_units, fit_values[m][c].data(), independent);
      file->open_dataset(group + "status").write_rows(u0, n_units, fit_status[m].data(), independent);
      file->open_dataset(group + "reason").write_strings(u0, fit_reason[m], independent);
    }
    for (std::size_t c = 0; c < direction_width; ++c)
      file->open_dataset("/direction/" + direction_columns()[c]).write_rows(u0, n_units, direction_values[c].data(), independent);
    file->open_dataset("/direction/status").write_rows(u0, n_units, direction_status.data(), independent);
    file->open_dataset("/direction/reason").write_strings(u0, direction_reason, independent);
    if (mutants > 0) {
      file->open_dataset("/effects/sequence").write_strings(r0, sequences, independent);
      const hsize_t R = layout.region_start.size();
      for (std::size_t o = 0; o < outcomes; ++o) {
        file->open_dataset("/effects/outcome_beta").write_rows(o * R + r0, n_regions, outcome_beta[o].data(), independent);
        file->open_dataset("/effects/outcome_se").write_rows(o * R + r0, n_regions, outcome_se[o].data(), independent);
      }
      file->open_dataset("/effects/exposure_beta").write_rows(u0, n_units, exposure_beta.data(), independent);
      file->open_dataset("/effects/exposure_se").write_rows(u0, n_units, exposure_se.data(), independent);
    }
    block.clear();
    pending.units = 0;
  }
};

RunStoreWriter::RunStoreWriter(const std::string& path, const dist::Communicator& comm, const StoreLayout& layout)
    : impl_(std::make_unique<Impl>(comm)) {
  impl_->path = path;
  impl_->assembling = path + ".assembling";
  impl_->layout = layout;
  impl_->rank = comm.rank();
  // Room for the whole store first: a full disk is then reported before anything is written.
  impl_->reserved = estimated_store_bytes(layout);
  impl_->step([&] {
    if (impl_->rank == 0) check_room(impl_->assembling, impl_->reserved);
  });
  impl_->step([&] { create(layout); });
  // The space itself, before any row is written: HDF5 1.10 does not agree on a write error inside
  // its own metadata flush, where its ranks would then wait on each other forever.
  impl_->step([&] {
    if (impl_->rank == 0) reserve_space(impl_->assembling, impl_->reserved);
  });
}

void RunStoreWriter::create(const StoreLayout& layout) {
  const dist::Communicator& comm = impl_->comm;
  impl_->file = std::make_unique<File>(File::create_parallel(impl_->assembling, comm));
  File& f = *impl_->file;
  const bool root = impl_->rank == 0;
  const auto collective = Transfer::collective;
  auto rows = [&](std::size_t n) { return root ? static_cast<hsize_t>(n) : 0; };

  const hsize_t E = layout.exposures.size(), O = layout.outcomes.size(), R = layout.region_start.size(),
                U = layout.unit_region.size();
  if (O == 0) throw InternalError("a store needs at least one outcome");
  write_attributes(f, layout.text_attributes, layout.int_attributes, layout.double_attributes);
  std::string methods;
  for (const auto& m : layout.methods) methods += (methods.empty() ? "" : ",") + m;
  write_attributes(f, {{"format", kStoreFormat}, {"outcome", layout.outcomes.front()}, {"methods", methods}},
                   {{"format_version", kStoreFormatVersion}, {"outcome_output", layout.outcome_outputs.front()}}, {});

  // Every dataset of the schema, on every rank (creation is collective). Results are filled by
  // write(); what no record reaches stays pending (status 0, NaN); the large effects arrays are
  // never written at creation (only computed rows are meaningful, see units/status).
  const hsize_t M = layout.mutants;
  auto rows_of = [&](const std::string& space) -> std::vector<hsize_t> {
    if (space == kExposureRows) return {E};
    if (space == kOutcomeRows) return {O};
    if (space == kPairRows) return {E * O};
    if (space == kRegionRows) return {R};
    if (space == kUnitRows) return {U};
    if (space == kMutantRows) return {M};
    if (space == "outcome regions x mutants") return {O * R, M};
    if (space == "units x mutants") return {U, M};
    throw InternalError("store schema: unknown row space '" + space + "'");
  };
  auto width_of = [&](const std::string& path) -> std::size_t {
    if (path == "exposures/name") return widest(layout.exposures);
    if (path == "outcomes/name") return widest(layout.outcomes);
    if (path == "regions/chrom") return widest(layout.region_chrom);
    if (path == "regions/name") return widest(layout.region_name);
    if (path == "effects/sequence") return std::max<std::uint32_t>(1, layout.window_length);
    return kReasonWidth;
  };
  DatasetOptions large;
  large.fill = DatasetOptions::Fill::none;
  for (const auto& dataset : expand_datasets(layout.methods, layout.mutants > 0)) {
    const std::string path = "/" + dataset.path;
    const auto dims = rows_of(dataset.spec->rows);
    switch (dataset.spec->type) {
      case ValueType::text: f.create_string_dataset(path, dims.at(0), width_of(dataset.path)); break;
      case ValueType::int8: f.create_dataset<std::int8_t>(path, dims); break;
      case ValueType::int32: f.create_dataset<std::int32_t>(path, dims); break;
      case ValueType::int64: f.create_dataset<std::int64_t>(path, dims); break;
      case ValueType::float32: f.create_dataset<float>(path, dims, large); break;
      case ValueType::float64: f.create_dataset<double>(path, dims, nan_filled()); break;
    }
  }

  // The plan: written once by rank 0 (collective calls with empty selections elsewhere).
  f.open_dataset("/exposures/name").write_strings(0, root ? layout.exposures : std::vector<std::string>{}, collective);
  f.open_dataset("/exposures/output").write_rows(0, rows(E), layout.exposure_outputs.data(), collective);
  f.open_dataset("/outcomes/name").write_strings(0, root ? layout.outcomes : std::vector<std::string>{}, collective);
  f.open_dataset("/outcomes/output").write_rows(0, rows(O), layout.outcome_outputs.data(), collective);
  f.open_dataset("/regions/chrom").write_strings(0, root ? layout.region_chrom : std::vector<std::string>{}, collective);
  f.open_dataset("/regions/start").write_rows(0, rows(R), layout.region_start.data(), collective);
  f.open_dataset("/regions/end").write_rows(0, rows(R), layout.region_end.data(), collective);
  f.open_dataset("/regions/row").write_rows(0, rows(R), layout.region_row.data(), collective);
  // A layout without peak labels (a sequence file, or a caller that has none): no names, no summits.
  std::vector<std::string> names = layout.region_name;
  std::vector<std::int64_t> summits = layout.region_summit;
  names.resize(R);
  summits.resize(R, -1);
  f.open_dataset("/regions/name").write_strings(0, root ? names : std::vector<std::string>{}, collective);
  f.open_dataset("/regions/summit").write_rows(0, rows(R), summits.data(), collective);
  f.open_dataset("/units/exposure").write_rows(0, rows(U), layout.unit_exposure.data(), collective);
  f.open_dataset("/units/outcome").write_rows(0, rows(U), layout.unit_outcome.data(), collective);
  f.open_dataset("/units/region").write_rows(0, rows(U), layout.unit_region.data(), collective);
  if (M > 0) f.open_dataset("/effects/position").write_rows(0, rows(M), layout.mutant_position.data(), collective);
}

RunStoreWriter::~RunStoreWriter() = default;

void RunStoreWriter::write(const RegionResult& result) {
  auto& pending = impl_->pending;
  const auto& layout = impl_->layout;
  if (result.region >= layout.region_start.size()) throw StoreError("journal record of unknown region " + std::to_string(result.region));
  const std::uint64_t first_unit = result.units.empty() ? 0 : result.units.front().unit;
  for (std::size_t i = 0; i < result.units.size(); ++i)
    if (result.units[i].unit != first_unit + i || result.units[i].unit >= layout.unit_region.size() ||
        layout.unit_region[result.units[i].unit] != static_cast<std::int64_t>(result.region))
      throw StoreError("journal record of region " + std::to_string(result.region) + " does not match the plan's units");
  const bool continues = !pending.owned.empty() && result.region == pending.region0 + pending.regions() &&
                         first_unit == pending.unit0 + pending.units;
  if (!continues || pending.regions() >= kCoalescedRegions) {
    impl_->flush();
    pending.region0 = result.region;
    pending.unit0 = first_unit;
  }
  if (result.units.empty()) {  // a region without units: nothing to coalesce by unit
    impl_->flush();
    return;
  }
  pending.owned.push_back(result);
  pending.units += result.units.size();
}

void RunStoreWriter::write_meta(const std::vector<std::vector<MetaRow>>& meta) {
  impl_->flush();
  for (std::size_t m = 0; m < meta.size() && m < impl_->layout.methods.size(); ++m)
    impl_->write_meta_rows("/meta/" + impl_->layout.methods[m] + "/", meta[m]);
}

void RunStoreWriter::write_direction_meta(const std::vector<MetaRow>& rows) {
  impl_->flush();
  impl_->write_meta_rows("/direction_meta/", rows);
}

void RunStoreWriter::Impl::write_meta_rows(const std::string& group, const std::vector<MetaRow>& rows) {
  File& f = *file;
  const hsize_t n = rows.size();
  for (std::size_t c = 0; c < meta_columns().size(); ++c) {
    std::vector<double> values;
    for (const auto& row : rows) values.push_back(c < row.values.size() ? row.values[c] : kNaN);
    f.open_dataset(group + meta_columns()[c]).write_rows(0, n, values.data(), Transfer::independent);
  }
  std::vector<std::int8_t> status;
  std::vector<std::string> reason;
  for (const auto& row : rows) {
    status.push_back(static_cast<std::int8_t>(row.status));
    reason.push_back(clip(row.reason));
  }
  f.open_dataset(group + "status").write_rows(0, n, status.data(), Transfer::independent);
  f.open_dataset(group + "reason").write_strings(0, reason, Transfer::independent);
}

void RunStoreWriter::finish(const std::map<std::string, std::int64_t>& final_int_attributes,
                            const std::map<std::string, std::string>& final_text_attributes,
                            const std::map<std::string, double>& final_double_attributes) {
  // Each collective HDF5 call in a step of its own: a rank that fails never leaves the others
  // waiting inside HDF5 for a call it will not make.
  impl_->step([&] { impl_->flush(); });
  File& f = *impl_->file;
  impl_->step([&] { write_attributes(f, final_text_attributes, final_int_attributes, final_double_attributes); });
  impl_->step([&] { f.flush(); });
  impl_->step([&] { f.close(); });
  if (impl_->rank == 0) release_reserve(impl_->assembling, impl_->reserved);
  impl_->step([&] {
    if (impl_->rank == 0 && std::rename(impl_->assembling.c_str(), impl_->path.c_str()) != 0)
      throw StoreError(impl_->path + ": cannot move the assembled store into place (" + std::strerror(errno) + ")");
  });
  impl_->finished = true;
}

void RunStoreWriter::write_pending() { impl_->flush(); }

std::uint64_t estimated_store_bytes(const StoreLayout& layout) {
  const std::uint64_t E = layout.exposures.size(), O = layout.outcomes.size(), R = layout.region_start.size(),
                      U = layout.unit_region.size(), M = layout.mutants;
  const auto datasets = expand_datasets(layout.methods, M > 0);
  std::uint64_t bytes = 0;
  for (const auto& dataset : datasets) {
    const std::string& rows = dataset.spec->rows;
    const std::uint64_t count = rows == kExposureRows ? E : rows == kOutcomeRows ? O : rows == kPairRows ? E * O
                                : rows == kRegionRows ? R : rows == kUnitRows ? U : rows == kMutantRows ? M
                                : rows == "outcome regions x mutants" ? O * R * M : U * M;
    std::uint64_t width = 8;
    switch (dataset.spec->type) {
      case ValueType::text:
        width = dataset.path == "effects/sequence" ? layout.window_length
                : dataset.path == "regions/name"   ? widest(layout.region_name)
                : dataset.path == "outcomes/name"  ? widest(layout.outcomes)
                                                   : kReasonWidth;
        break;
      case ValueType::int8: width = 1; break;
      case ValueType::int32: case ValueType::float32: width = 4; break;
      default: break;
    }
    bytes += count * width;
  }
  // Metadata (measured: about 0.5 KiB per dataset, plus the root's attributes), with room to spare.
  return bytes + bytes / 100 + 1024 * datasets.size() + (std::uint64_t{1} << 14);
}

}  // namespace deepmr::store
