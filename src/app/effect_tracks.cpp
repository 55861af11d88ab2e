#include "deepmr/app/effect_tracks.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

int base_index(char base) {
  switch (base) {
    case 'A': case 'a': return 0;
    case 'C': case 'c': return 1;
    case 'G': case 'g': return 2;
    case 'T': case 't': return 3;
    default: return -1;
  }
}

template <typename T>
std::vector<T> parse_list(const std::string& text, const std::string& option, const std::vector<T>& all,
                          const char* allowed) {
  std::vector<T> out;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = text.find(',', from);
    const std::string item = text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    const auto it = std::find_if(all.begin(), all.end(), [&](T value) { return to_string(value) == item; });
    if (it == all.end())
      throw UsageError("option '" + option + "': unknown value '" + item + "' (use a comma-separated list of " +
                       allowed + ")");
    if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

double statistic(EffectStat stat, float beta, float se) {
  switch (stat) {
    case EffectStat::beta: return beta;
    case EffectStat::se: return se;
    default: return se > 0 ? static_cast<double>(beta) / static_cast<double>(se) : kNaN;
  }
}

}  // namespace

const std::vector<EffectStat>& all_effect_stats() {
  static const std::vector<EffectStat> all = {EffectStat::beta, EffectStat::se, EffectStat::z};
  return all;
}

const std::vector<AltChoice>& all_alt_choices() {
  static const std::vector<AltChoice> all = {AltChoice::A, AltChoice::C, AltChoice::G,
                                             AltChoice::T, AltChoice::mean, AltChoice::maxabs};
  return all;
}

std::string to_string(EffectStat stat) {
  switch (stat) {
    case EffectStat::beta: return "beta";
    case EffectStat::se: return "se";
    default: return "z";
  }
}

std::string to_string(AltChoice alt) {
  switch (alt) {
    case AltChoice::A: return "A";
    case AltChoice::C: return "C";
    case AltChoice::G: return "G";
    case AltChoice::T: return "T";
    case AltChoice::mean: return "mean";
    default: return "maxabs";
  }
}

std::vector<EffectStat> parse_effect_stats(const std::string& text, const std::string& option) {
  return parse_list(text, option, all_effect_stats(), "beta, se, z");
}

std::vector<AltChoice> parse_alt_choices(const std::string& text, const std::string& option) {
  return parse_list(text, option, all_alt_choices(), "A, C, G, T, mean, maxabs");
}

std::vector<std::vector<float>> track_values(const store::EffectsRow& row, const std::vector<std::int32_t>& positions,
                                             const std::string& sequence, const std::vector<TrackChoice>& choices) {
  const std::size_t length = sequence.size();
  // per_base[stat][p * 4 + base]: the statistic of the mutant p -> base (NaN for the reference).
  std::vector<std::vector<double>> per_base(all_effect_stats().size(), std::vector<double>(length * 4, kNaN));
  std::vector<int> seen(length, 0);  // columns met per position: the k-th is the k-th non-reference base
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const auto p = static_cast<std::size_t>(positions[j]);
    if (p >= length) throw StoreError("effects/position holds " + std::to_string(p) + ", past the window's " +
                                      std::to_string(length) + " bases (damaged store)");
    const int ref = base_index(sequence[p]);
    if (ref < 0)
      throw StoreError("the window base at position " + std::to_string(p) + " is '" + std::string(1, sequence[p]) +
                       "', not A, C, G or T: its mutants' bases are unknown");
    int alt = -1;
    for (int b = 0, k = 0; b < 4; ++b)
      if (b != ref && k++ == seen[p]) alt = b;
    if (alt < 0) throw StoreError("more than 3 mutant columns at position " + std::to_string(p) + " (damaged store)");
    ++seen[p];
    for (EffectStat stat : all_effect_stats()) {
      const double v = statistic(stat, row.beta[j], row.se[j]);
      per_base[static_cast<std::size_t>(stat)][p * 4 + static_cast<std::size_t>(alt)] = std::isfinite(v) ? v : kNaN;
    }
  }
  std::vector<std::vector<float>> out;
  for (const TrackChoice& choice : choices) {
    const auto& values = per_base[static_cast<std::size_t>(choice.stat)];
    std::vector<float> track(length, std::numeric_limits<float>::quiet_NaN());
    for (std::size_t p = 0; p < length; ++p) {
      const double* v = &values[p * 4];
      double result = kNaN;
      if (choice.alt == AltChoice::mean) {
        double sum = 0;
        int n = 0;
        for (int b = 0; b < 4; ++b)
          if (!std::isnan(v[b])) sum += v[b], ++n;
        if (n > 0) result = sum / n;
      } else if (choice.alt == AltChoice::maxabs) {
        for (int b = 0; b < 4; ++b)
          if (!std::isnan(v[b]) && (std::isnan(result) || std::fabs(v[b]) > std::fabs(result))) result = v[b];
      } else {
        result = v[static_cast<int>(choice.alt)];
      }
      if (!std::isnan(result)) track[p] = static_cast<float>(result);
    }
    out.push_back(std::move(track));
  }
  return out;
}

std::vector<Span> visible_spans(const std::vector<Span>& windows) {
  std::vector<Span> out = windows;
  for (std::size_t i = 1; i < out.size(); ++i) {
    const Span& a = windows[i - 1];
    const Span& b = windows[i];
    if (b.start < a.start) throw InternalError("visible_spans: windows not sorted by start");
    if (b.start >= a.end) continue;  // no overlap
    // Midpoint between the centres (a.start + a.end) / 2 and (b.start + b.end) / 2.
    const std::uint64_t cut = std::clamp((a.start + a.end + b.start + b.end) / 4, b.start, a.end);
    out[i - 1].end = std::min(out[i - 1].end, cut);
    out[i].start = std::max(out[i].start, cut);
  }
  for (auto& span : out)
    if (span.end < span.start) span.end = span.start;
  return out;
}

}  // namespace deepmr::app
