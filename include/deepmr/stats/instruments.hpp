#pragma once
// The instruments of one Mendelian randomization fit: per variant (in Deep MR: per mutant) its
// effect on the exposure (bx, se bxse) and on the outcome (by, se byse), and the filters that
// decide which of them a fit uses.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace deepmr::stats {

struct Instruments {
  std::vector<double> bx, bxse, by, byse;
  // Per instrument, the correlation of the errors of its bx and by (Deep MR: of the paired exposure
  // and outcome differences over the MC samples), for second-order IVW weights; empty: every
  // instrument takes MrOptions::psi.
  std::vector<double> psi;

  std::size_t size() const { return bx.size(); }
  void reserve(std::size_t n);
  void push_back(double bx_value, double bxse_value, double by_value, double byse_value);
  void push_back(double bx_value, double bxse_value, double by_value, double byse_value, double psi_value);
  // Appends instrument i of `from` (with its psi when `from` has them).
  void push_back_from(const Instruments& from, std::size_t i);
};

// How many instruments came in and why some were left out before any method ran.
struct InstrumentCounts {
  std::size_t n_input = 0;           // rows given
  std::size_t n_no_information = 0;  // bx, bxse, by and byse all exactly zero: dropped
  std::size_t n_weak = 0;            // |bx| < min_abs_z_x * bxse: dropped by the strength filter
  std::size_t n_kept() const { return n_input - n_no_information - n_weak; }
};

struct InstrumentSelection {
  Instruments kept;  // in canonical order (see canonical_instruments)
  InstrumentCounts counts;
};

// Why these instruments cannot be used at all (a non-finite value, a negative standard error, a
// psi outside [-1, 1]), or nothing. Names the first offending instrument (0-based) and field. Throws InternalError when
// the four vectors differ in length (a caller bug, not a data problem).
std::optional<std::string> invalid_instruments(const Instruments& instruments);

// Drops instruments that carry no information (all four values zero) and, when min_abs_z_x > 0,
// those weaker than the strength filter |bx / bxse| >= min_abs_z_x (tested as |bx| >= z * bxse so
// that bxse = 0 passes); returns the rest in canonical order. Expects valid instruments.
InstrumentSelection select_instruments(const Instruments& instruments, double min_abs_z_x = 0);

// The same instruments oriented so that bx >= 0 (bx and by change sign together; where bx = 0,
// so that by >= 0) and sorted by (bx, by, bxse, byse). Every estimator is invariant to the order
// of its instruments and to flipping the sign of an instrument's (bx, by); fitting in this order
// makes that exact to the last bit, bootstrap draws included.
Instruments canonical_instruments(const Instruments& instruments);

}  // namespace deepmr::stats
