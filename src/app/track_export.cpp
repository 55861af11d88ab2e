#include "deepmr/app/track_export.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "deepmr/app/store_tables.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/atomic_file.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/store/effects_reader.hpp"

namespace deepmr::app {
namespace {

// What a set of tracks is about: an outcome (rows of regions) or one exposure (rows of units).
struct Subject {
  std::string role;  // "outcome" or "exposure"
  std::string name;
  std::uint32_t index = 0;                               // the outcome's or the exposure's
  std::vector<std::pair<std::size_t, std::size_t>> rows;  // (effects row, region), in genome order
  std::size_t total = 0;                                  // rows it would have in a complete store
};

std::string alt_text(AltChoice alt) {
  switch (alt) {
    case AltChoice::mean: return "mean over the 3 alternative bases";
    case AltChoice::maxabs: return "largest in magnitude over the 3 alternative bases";
    default: return "substitution to " + to_string(alt);
  }
}

std::string stat_text(EffectStat stat) {
  switch (stat) {
    case EffectStat::beta: return "beta";
    case EffectStat::se: return "se";
    default: return "z = beta/se";
  }
}

// One track's destination.
class TrackSink {
 public:
  virtual ~TrackSink() = default;
  virtual void add(std::uint32_t chrom, std::uint64_t start, float value) = 0;  // the base [start, start + 1)
  virtual bool finish() = 0;                                                    // false: no value came
};

class BigWigSink : public TrackSink {
 public:
  BigWigSink(const std::string& path, const std::vector<ChromSize>& chroms) : writer_(path, chroms) {}
  void add(std::uint32_t chrom, std::uint64_t start, float value) override {
    writer_.add(chrom, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(start + 1), value);
  }
  bool finish() override { return writer_.close(); }

 private:
  BigWigWriter writer_;
};

class BedGraphSink : public TrackSink {
 public:
  BedGraphSink(std::string track_line, const std::vector<ChromSize>& chroms)
      : track_line_(std::move(track_line)), chroms_(chroms) {}
  void add(std::uint32_t chrom, std::uint64_t start, float value) override {
    lines_ << chroms_[chrom].name << '\t' << start << '\t' << start + 1 << '\t' << format_float(value) << '\n';
    any_ = true;
  }
  bool finish() override { return any_; }
  std::string text() const { return track_line_ + lines_.str(); }

 private:
  std::string track_line_;
  const std::vector<ChromSize>& chroms_;
  std::ostringstream lines_;
  bool any_ = false;
};

std::vector<Subject> subjects_of(const store::StoreContents& store, const TrackRequest& request,
                                 const std::vector<std::uint32_t>& chrom_of_region) {
  auto genome_order = [&](std::vector<std::pair<std::size_t, std::size_t>>& rows) {
    std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      if (chrom_of_region[a.second] != chrom_of_region[b.second]) return chrom_of_region[a.second] < chrom_of_region[b.second];
      return store.region_start[a.second] < store.region_start[b.second];
    });
  };
  std::vector<Subject> subjects;
  if (request.outcome)
    for (std::uint32_t o = 0; o < store.outcomes.size(); ++o) {
      Subject s{"outcome", store.outcomes[o].empty() ? "outcome" : store.outcomes[o], o, {}, 0};
      for (std::size_t r = 0; r < store.region_status.size(); ++r) {
        ++s.total;
        if (static_cast<store::FitStatus>(store.region_status[r]) == store::FitStatus::ok) s.rows.push_back({r, r});
      }
      genome_order(s.rows);
      subjects.push_back(std::move(s));
    }
  for (std::uint32_t e : request.exposures) {
    Subject s{"exposure", store.exposures.at(e), e, {}, 0};
    for (std::size_t u = 0; u < store.unit_status.size(); ++u) {
      if (static_cast<std::uint32_t>(store.unit_exposure[u]) != e) continue;
      // The units of one (exposure, region) with several outcomes are adjacent and hold the same
      // exposure effects: the first stands for them.
      if (u > 0 && store.unit_exposure[u - 1] == store.unit_exposure[u] && store.unit_region[u - 1] == store.unit_region[u])
        continue;
      ++s.total;
      if (static_cast<store::FitStatus>(store.unit_status[u]) == store::FitStatus::ok)
        s.rows.push_back({u, static_cast<std::size_t>(store.unit_region[u])});
    }
    genome_order(s.rows);
    subjects.push_back(std::move(s));
  }
  return subjects;
}

}  // namespace

std::string file_safe(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return out;
}

TrackExportSummary export_tracks(const std::string& store_path, const store::StoreContents& store,
                                 const TrackRequest& request, TrackFormat format, const std::string& out) {
  store::EffectsReader effects(store_path);
  std::unordered_map<std::string, std::uint32_t> chrom_index;
  for (std::size_t c = 0; c < request.chroms.size(); ++c) chrom_index[request.chroms[c].name] = static_cast<std::uint32_t>(c);
  std::vector<std::uint32_t> chrom_of_region(store.region_chrom.size());
  for (std::size_t r = 0; r < chrom_of_region.size(); ++r) chrom_of_region[r] = chrom_index.at(store.region_chrom[r]);

  TrackExportSummary summary;
  std::string bedgraph;
  for (const Subject& subject : subjects_of(store, request, chrom_of_region)) {
    const bool partial = subject.rows.size() < subject.total;
    std::vector<std::unique_ptr<TrackSink>> sinks;
    std::vector<std::string> names;
    for (const TrackChoice& choice : request.choices) {
      const std::string name = subject.role + "." + subject.name + "." + to_string(choice.stat) + "." + to_string(choice.alt);
      names.push_back(name);
      if (format == TrackFormat::bigwig) {
        const auto path = std::filesystem::path(out) / (file_safe(name) + ".bw");
        sinks.push_back(std::make_unique<BigWigSink>(path.string(), request.chroms));
      } else {
        std::string line = "track type=bedGraph name=\"" + name + "\" description=\"deepmr: per-mutant " +
                           stat_text(choice.stat) + " on " + subject.name + " (" + subject.role + "), " +
                           alt_text(choice.alt);
        if (partial)
          line += " (partial store: " + std::to_string(subject.rows.size()) + " of " + std::to_string(subject.total) +
                  (subject.role == "outcome" ? " regions" : " units") + " done)";
        sinks.push_back(std::make_unique<BedGraphSink>(line + "\" visibility=full\n", request.chroms));
      }
    }
    // The windows of this subject, chromosome by chromosome: their visible parts (overlaps cut).
    std::vector<Span> visible(subject.rows.size());
    for (std::size_t i = 0; i < subject.rows.size();) {
      std::size_t j = i;
      std::vector<Span> windows;
      while (j < subject.rows.size() && chrom_of_region[subject.rows[j].second] == chrom_of_region[subject.rows[i].second]) {
        const std::size_t r = subject.rows[j].second;
        windows.push_back({static_cast<std::uint64_t>(store.region_start[r]), static_cast<std::uint64_t>(store.region_end[r])});
        ++j;
      }
      const auto spans = visible_spans(windows);
      std::copy(spans.begin(), spans.end(), visible.begin() + static_cast<std::ptrdiff_t>(i));
      i = j;
    }
    for (std::size_t i = 0; i < subject.rows.size(); ++i) {
      const auto [row, region] = subject.rows[i];
      const store::EffectsRow effect = subject.role == "outcome" ? effects.outcome(row, subject.index) : effects.exposure(row);
      const std::string sequence = effects.sequence(region);
      const auto values = track_values(effect, effects.positions(), sequence, request.choices);
      const auto start = static_cast<std::uint64_t>(store.region_start[region]);
      if (sequence.size() != static_cast<std::uint64_t>(store.region_end[region]) - start)
        throw StoreError(store_path + ": effects/sequence of region " + std::to_string(region) + " has " +
                         std::to_string(sequence.size()) + " bases for a window of " +
                         std::to_string(static_cast<std::uint64_t>(store.region_end[region]) - start) + " (damaged store)");
      for (std::size_t t = 0; t < values.size(); ++t)
        for (std::uint64_t g = visible[i].start; g < visible[i].end; ++g) {
          const float v = values[t][g - start];
          if (!std::isnan(v)) sinks[t]->add(chrom_of_region[region], g, v);
        }
    }
    for (std::size_t t = 0; t < sinks.size(); ++t) {
      if (!sinks[t]->finish()) {
        summary.empty.push_back(names[t]);
        continue;
      }
      ++summary.tracks;
      if (format == TrackFormat::bedgraph) bedgraph += static_cast<BedGraphSink&>(*sinks[t]).text();
    }
  }
  if (format == TrackFormat::bedgraph)
    write_file_atomically(out, [&](std::ostream& stream) { stream << bedgraph; }, "--out", ExitCode::usage,
                          Durability::renamed);
  return summary;
}

}  // namespace deepmr::app
