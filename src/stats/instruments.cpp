#include "deepmr/stats/instruments.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <tuple>

#include "deepmr/common/error.hpp"

namespace deepmr::stats {

void Instruments::reserve(std::size_t n) {
  bx.reserve(n);
  bxse.reserve(n);
  by.reserve(n);
  byse.reserve(n);
}

void Instruments::push_back(double bx_value, double bxse_value, double by_value, double byse_value) {
  bx.push_back(bx_value);
  bxse.push_back(bxse_value);
  by.push_back(by_value);
  byse.push_back(byse_value);
}

void Instruments::push_back(double bx_value, double bxse_value, double by_value, double byse_value, double psi_value) {
  push_back(bx_value, bxse_value, by_value, byse_value);
  psi.push_back(psi_value);
}

void Instruments::push_back_from(const Instruments& from, std::size_t i) {
  push_back(from.bx[i], from.bxse[i], from.by[i], from.byse[i]);
  if (!from.psi.empty()) psi.push_back(from.psi[i]);
}

std::optional<std::string> invalid_instruments(const Instruments& instruments) {
  const std::size_t n = instruments.size();
  if (instruments.bxse.size() != n || instruments.by.size() != n || instruments.byse.size() != n)
    throw InternalError("stats: instrument vectors differ in length (bx " + std::to_string(n) + ", bxse " +
                        std::to_string(instruments.bxse.size()) + ", by " + std::to_string(instruments.by.size()) +
                        ", byse " + std::to_string(instruments.byse.size()) + ")");
  if (!instruments.psi.empty() && instruments.psi.size() != n)
    throw InternalError("stats: " + std::to_string(instruments.psi.size()) + " psi for " + std::to_string(n) +
                        " instruments");
  const std::array<std::pair<const char*, const std::vector<double>*>, 4> fields{
      {{"bx", &instruments.bx}, {"bxse", &instruments.bxse}, {"by", &instruments.by}, {"byse", &instruments.byse}}};
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& [name, values] : fields) {
      const double value = (*values)[i];
      if (!std::isfinite(value))
        return "instrument " + std::to_string(i) + " has a non-finite " + name;
      if ((values == &instruments.bxse || values == &instruments.byse) && value < 0)
        return "instrument " + std::to_string(i) + " has a negative " + name;
    }
  for (std::size_t i = 0; i < instruments.psi.size(); ++i)
    if (!(instruments.psi[i] >= -1 && instruments.psi[i] <= 1))
      return "instrument " + std::to_string(i) + " has a psi outside [-1, 1] (a correlation)";
  return std::nullopt;
}

Instruments canonical_instruments(const Instruments& instruments) {
  const std::size_t n = instruments.size();
  const bool with_psi = !instruments.psi.empty();
  std::vector<std::array<double, 5>> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    double bx = instruments.bx[i], by = instruments.by[i];
    if (bx < 0 || (bx == 0 && by < 0)) {
      bx = -bx;
      by = -by;
    }
    // +0.0 for -0.0, so that the sort and the sign tests below never depend on a zero's sign. The
    // correlation of (-bx, -by) errors is that of (bx, by): psi keeps its sign.
    rows[i] = {bx + 0.0, instruments.bxse[i], by + 0.0, instruments.byse[i], with_psi ? instruments.psi[i] : 0.0};
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a[0], a[2], a[1], a[3], a[4]) < std::tie(b[0], b[2], b[1], b[3], b[4]);
  });
  Instruments sorted;
  sorted.reserve(n);
  for (const auto& row : rows) {
    sorted.push_back(row[0], row[1], row[2], row[3]);
    if (with_psi) sorted.psi.push_back(row[4]);
  }
  return sorted;
}

InstrumentSelection select_instruments(const Instruments& instruments, double min_abs_z_x) {
  InstrumentSelection selection;
  selection.counts.n_input = instruments.size();
  Instruments kept;
  kept.reserve(instruments.size());
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    const double bx = instruments.bx[i], bxse = instruments.bxse[i];
    const double by = instruments.by[i], byse = instruments.byse[i];
    if (bx == 0 && bxse == 0 && by == 0 && byse == 0) {
      ++selection.counts.n_no_information;
      continue;
    }
    if (min_abs_z_x > 0 && !(std::fabs(bx) >= min_abs_z_x * bxse)) {
      ++selection.counts.n_weak;
      continue;
    }
    kept.push_back_from(instruments, i);
  }
  selection.kept = canonical_instruments(kept);
  return selection;
}

}  // namespace deepmr::stats
