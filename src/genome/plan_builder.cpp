#include "deepmr/genome/plan_builder.hpp"

#include <algorithm>
#include <exception>
#include <numeric>
#include <thread>

#include "deepmr/common/error.hpp"
#include "deepmr/common/philox.hpp"
#include "deepmr/genome/region_sampling.hpp"

namespace deepmr::genome {
namespace {

void check_spec(const PlanSpec& spec) {
  if (spec.window_length == 0) throw UsageError("the window length (the model's input length) must be positive");
  if (spec.exposures.empty()) throw UsageError("the plan has no exposures; list at least one");
  std::vector<std::string> names;
  for (const auto& e : spec.exposures) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  const auto twice = std::adjacent_find(names.begin(), names.end());
  if (twice != names.end()) throw UsageError("exposure '" + *twice + "' is listed twice");
}

// Exposure indices of the spec in name order: the plan's exposure order.
std::vector<std::size_t> name_order(const PlanSpec& spec) {
  std::vector<std::size_t> order(spec.exposures.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return spec.exposures[a].name < spec.exposures[b].name; });
  return order;
}

std::vector<bool> chromosome_filter(const PlanSpec& spec, const FastaReader& fasta) {
  if (spec.chromosomes.empty()) return {};
  std::vector<bool> keep(fasta.index().size(), false);
  for (const auto& name : spec.chromosomes) {
    const auto id = fasta.index().find(name);
    if (!id)
      throw InputError(at(fasta.path()) + "the chromosome filter names '" + name + "', which this FASTA lacks (it has " +
                       fasta.index().some_names() + "); fix regions.chromosomes");
    keep[*id] = true;
  }
  return keep;
}

// Usable window: readable, and free of N unless N is encoded as 0.25.
std::function<bool(std::size_t)> window_test(const std::vector<Window>& windows, const FastaReader& fasta,
                                             NPolicy policy) {
  return [&windows, &fasta, policy](std::size_t i) {
    thread_local std::string bases;
    fasta.fetch(windows[i].chrom, windows[i].start, windows[i].end, bases);
    return policy == NPolicy::quarter || !contains_n(bases);
  };
}

// Tests every window once, on up to 8 threads (fetches are thread-safe): 1 where usable. Each
// thread takes a contiguous chunk in order, so the error reported is that of the first failing
// window, whatever the number of threads.
std::vector<std::uint8_t> test_all(std::size_t n, const std::function<bool(std::size_t)>& usable) {
  std::vector<std::uint8_t> ok(n, 0);
  const unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  const std::size_t chunks = std::min<std::size_t>(cores, std::max<std::size_t>(1, n / 4096));
  std::vector<std::exception_ptr> errors(chunks);
  auto work = [&](std::size_t c) {
    try {
      for (std::size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) ok[i] = usable(i) ? 1 : 0;
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t c = 1; c < chunks; ++c) pool.emplace_back(work, c);
  work(0);
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return ok;
}

[[noreturn]] void too_few(const PlanSpec& spec, const ExposureSummary& s, std::uint64_t found) {
  const bool rows = spec.source == RegionSource::sequences;
  std::string detail = rows ? std::to_string(s.records) + " bound rows, " + std::to_string(s.with_n) + " with N"
                            : std::to_string(s.records) + " peaks: " + std::to_string(s.other_chromosome) +
                                  " on other chromosomes, " + std::to_string(s.past_end) + " past a sequence end, " +
                                  std::to_string(s.duplicate) + " duplicates, " + std::to_string(s.with_n) + " with N";
  throw InputError(at(s.input) + "exposure '" + s.exposure + "': " + std::to_string(spec.per_exposure) +
                   " regions wanted (regions.per-exposure) but only " + std::to_string(found) + " usable (" + detail +
                   "); lower regions.per-exposure, or set regions.allow-fewer = true to take the " +
                   std::to_string(found));
}

std::vector<std::string> sequence_names(const FastaReader& fasta) {
  std::vector<std::string> names;
  names.reserve(fasta.index().size());
  for (const auto& r : fasta.index().records()) names.push_back(r.name);
  return names;
}

}  // namespace

BoundsPolicy parse_bounds_policy(std::string_view text, const std::string& option) {
  if (text == "skip") return BoundsPolicy::skip;
  if (text == "error") return BoundsPolicy::error;
  throw UsageError("option '" + option + "': unknown policy '" + std::string(text) + "' (use skip or error)");
}

PeakWindows read_windows(const std::string& path, PeakFormat format, const FastaReader& fasta,
                         const std::vector<bool>& keep, std::uint64_t length, BoundsPolicy bounds,
                         WindowCounts& counts) {
  BedReader reader(path, format);
  BedRecord record;
  std::vector<Window> windows;
  std::vector<PeakLabel> labels;
  // Peak files come grouped by chromosome: remember the last name's lookup.
  std::string last_name;
  std::int64_t last_id = -1;
  bool last_kept = false;
  while (reader.next(record)) {
    ++counts.records;
    if (last_id < 0 || record.chrom != last_name) {
      last_name.assign(record.chrom);
      const auto id = fasta.index().find(record.chrom);
      if (!id) {
        // Outside the filter, an unknown chromosome is merely filtered out.
        if (!keep.empty()) {
          last_id = -1;
          ++counts.other_chromosome;
          continue;
        }
        throw InputError(at(path, record.line) + "chromosome '" + last_name + "' is not in the FASTA " + fasta.path() +
                         " (it has " + fasta.index().some_names() +
                         "); use a FASTA of the same assembly, or keep only some chromosomes with regions.chromosomes");
      }
      last_id = *id;
      last_kept = keep.empty() || keep[*id];
    }
    if (!last_kept) {
      ++counts.other_chromosome;
      continue;
    }
    const auto chrom = static_cast<std::uint32_t>(last_id);
    const Placement p = centred_window(peak_centre(record.start, record.end, record.summit), length);
    if (!fits(p, fasta.length(chrom))) {
      if (bounds == BoundsPolicy::error)
        throw InputError(at(path, record.line) + "the " + std::to_string(length) + "-base window " + last_name + ":" +
                         std::to_string(p.start) + "-" + std::to_string(p.end) + " around this peak extends past the " +
                         (p.start < 0 ? "start" : "end") + " of " + last_name + " (" +
                         std::to_string(fasta.length(chrom)) +
                         " bases); set regions.out-of-bounds = skip to leave such windows out");
      ++counts.past_end;
      continue;
    }
    windows.push_back(Window{chrom, static_cast<std::uint64_t>(p.start), static_cast<std::uint64_t>(p.end)});
    const std::int64_t summit =
        record.summit ? static_cast<std::int64_t>(record.start + *record.summit) : PeakLabel::kNoSummit;
    labels.push_back(peak_label(record.name, summit));
  }
  if (counts.records == 0)
    throw InputError(at(path) + "holds no peaks (only header lines, or nothing); check that it is the right file");
  // Genomic order; the peaks of one window keep their file order, and their labels are merged.
  std::vector<std::size_t> order(windows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return windows[a] < windows[b]; });
  PeakWindows out;
  out.windows.reserve(windows.size());
  out.labels.reserve(windows.size());
  for (std::size_t i : order) {
    if (!out.windows.empty() && out.windows.back() == windows[i]) {
      merge_label(out.labels.back(), labels[i]);
      ++counts.duplicate;
      continue;
    }
    out.windows.push_back(windows[i]);
    out.labels.push_back(std::move(labels[i]));
  }
  out.windows.shrink_to_fit();
  out.labels.shrink_to_fit();
  return out;
}

Plan build_peak_plan(const PlanSpec& spec, const FastaReader& fasta) {
  check_spec(spec);
  const auto keep = chromosome_filter(spec, fasta);
  const auto order = name_order(spec);
  std::vector<std::string> names;
  std::vector<std::vector<Region>> chosen;
  std::vector<std::vector<PeakLabel>> labels;
  std::vector<ExposureSummary> summaries;
  for (std::size_t index : order) {
    const ExposureInput& exposure = spec.exposures[index];
    WindowCounts counts;
    const auto peaks = read_windows(exposure.path, spec.format, fasta, keep, spec.window_length, spec.out_of_bounds, counts);
    const auto& windows = peaks.windows;
    ExposureSummary s;
    s.exposure = exposure.name;
    s.input = exposure.path;
    s.records = counts.records;
    s.other_chromosome = counts.other_chromosome;
    s.past_end = counts.past_end;
    s.duplicate = counts.duplicate;
    s.candidates = windows.size();

    PhiloxStream rng(spec.seed, sampling_stream_id(exposure.name));
    SamplingCounts sampling;
    const auto picks = sample_usable(windows.size(), static_cast<std::size_t>(spec.per_exposure), rng,
                                     window_test(windows, fasta, spec.n_policy), sampling);
    s.examined = sampling.examined;
    s.with_n = sampling.rejected;
    if (spec.per_exposure > 0 && picks.size() < spec.per_exposure && !spec.allow_fewer) too_few(spec, s, picks.size());

    std::vector<Region> regions;
    std::vector<PeakLabel> region_labels;
    regions.reserve(picks.size());
    for (std::size_t i : picks) {
      regions.push_back(Region::of_window(windows[i]));
      region_labels.push_back(peaks.labels[i]);
    }
    names.push_back(exposure.name);
    chosen.push_back(std::move(regions));
    labels.push_back(std::move(region_labels));
    summaries.push_back(std::move(s));
  }
  return Plan::assemble(RegionSource::peaks, spec.window_length, sequence_names(fasta), std::move(names), chosen,
                        std::move(summaries), labels);
}

Plan build_sweep_plan(const PlanSpec& spec, const FastaReader& fasta) {
  check_spec(spec);
  const auto keep = chromosome_filter(spec, fasta);
  WindowCounts counts;
  const auto peaks = read_windows(spec.sweep, spec.format, fasta, keep, spec.window_length, spec.out_of_bounds, counts);
  const auto& windows = peaks.windows;
  // A sweep draws nothing: every usable window is kept.
  const auto usable = test_all(windows.size(), window_test(windows, fasta, spec.n_policy));
  SamplingCounts sampling;
  sampling.examined = windows.size();
  std::vector<Region> regions;
  std::vector<PeakLabel> labels;
  regions.reserve(windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) {
    if (usable[i]) {
      regions.push_back(Region::of_window(windows[i]));
      labels.push_back(peaks.labels[i]);
    } else {
      ++sampling.rejected;
    }
  }

  std::vector<std::string> names;
  std::vector<ExposureSummary> summaries;
  for (std::size_t index : name_order(spec)) {
    ExposureSummary s;
    s.exposure = spec.exposures[index].name;
    s.input = spec.sweep;
    s.records = counts.records;
    s.other_chromosome = counts.other_chromosome;
    s.past_end = counts.past_end;
    s.duplicate = counts.duplicate;
    s.candidates = windows.size();
    s.examined = sampling.examined;
    s.with_n = sampling.rejected;
    names.push_back(s.exposure);
    summaries.push_back(std::move(s));
  }
  return Plan::all_pairs(RegionSource::sweep, spec.window_length, sequence_names(fasta), std::move(names),
                         std::move(regions), std::move(summaries), std::move(labels));
}

Plan build_row_plan(const PlanSpec& spec, const RowCandidates& rows) {
  check_spec(spec);
  const std::size_t e_count = spec.exposures.size();
  if (!rows.bound.empty() && rows.bound.size() != rows.rows * e_count)
    throw InternalError("row plan: the bound matrix is not rows x exposures");
  if (rows.rows == 0) throw InputError(at(rows.input) + "holds no sequences (0 rows)");
  // Rows are read at most once, however many exposures test them.
  std::vector<std::int8_t> has_n_cache(static_cast<std::size_t>(rows.rows), -1);
  std::vector<std::string> names;
  std::vector<std::vector<Region>> chosen;
  std::vector<ExposureSummary> summaries;
  for (std::size_t index : name_order(spec)) {
    const ExposureInput& exposure = spec.exposures[index];
    std::vector<std::uint64_t> candidates;
    for (std::uint64_t r = 0; r < rows.rows; ++r)
      if (rows.bound.empty() || rows.bound[r * e_count + index]) candidates.push_back(r);
    ExposureSummary s;
    s.exposure = exposure.name;
    s.input = rows.input;
    s.records = candidates.size();
    s.candidates = candidates.size();
    PhiloxStream rng(spec.seed, sampling_stream_id(exposure.name));
    SamplingCounts sampling;
    auto usable = [&](std::size_t i) {
      auto& cached = has_n_cache[static_cast<std::size_t>(candidates[i])];
      if (cached < 0) cached = rows.has_n(candidates[i]) ? 1 : 0;
      return spec.n_policy == NPolicy::quarter || cached == 0;
    };
    const auto picks = sample_usable(candidates.size(), static_cast<std::size_t>(spec.per_exposure), rng, usable, sampling);
    s.examined = sampling.examined;
    s.with_n = sampling.rejected;
    if (spec.per_exposure > 0 && picks.size() < spec.per_exposure && !spec.allow_fewer) too_few(spec, s, picks.size());
    std::vector<Region> regions;
    regions.reserve(picks.size());
    for (std::size_t i : picks) regions.push_back(Region::of_row(candidates[i], spec.window_length));
    names.push_back(exposure.name);
    chosen.push_back(std::move(regions));
    summaries.push_back(std::move(s));
  }
  return Plan::assemble(RegionSource::sequences, spec.window_length, {}, std::move(names), chosen, std::move(summaries));
}

}  // namespace deepmr::genome
