"""Gaussian kernel density estimate in numpy, with its bandwidth rules and its mode.

  density(x, grid, h) = 1/(n h) * sum_i phi((grid - x_i) / h),   phi the standard normal density

Bandwidth rules (sd with n - 1 in the denominator, IQR from numpy's default linear quantiles, which
are R's type 7):
  silverman  R's bw.nrd0, the default: 0.9 * min(sd, IQR / 1.34) * n^(-1/5). Robust to the few
             large outliers per-region MR estimates have (the paper: "a few outliers greater than 5").
  scott      scipy.stats.gaussian_kde's (and seaborn's) default: sd * n^(-1/5).
  a number   that bandwidth.
"""
import math

import numpy as np

from deepmr_store import Skip

RULES = ("silverman", "scott")


def bandwidth(x, rule="silverman"):
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 2:
        raise Skip("a density needs at least 2 estimates (there %s %d)" % ("is" if n == 1 else "are", n))
    if not isinstance(rule, str):
        h = float(rule)
        if not (h > 0 and math.isfinite(h)):
            raise ValueError("bandwidth must be a positive number")
        return h
    sd = float(np.std(x, ddof=1))
    if rule == "scott":
        h = sd * n ** (-0.2)
    elif rule == "silverman":
        q1, q3 = np.percentile(x, [25, 75])
        spread = min(sd, (q3 - q1) / 1.34)
        if not spread > 0:  # as bw.nrd0: fall back when the IQR is 0
            spread = sd if sd > 0 else (abs(float(x[0])) if x[0] != 0 else 1.0)
        h = 0.9 * spread * n ** (-0.2)
    else:
        raise ValueError("unknown bandwidth rule %r (use %s or a number)" % (rule, ", ".join(RULES)))
    if not h > 0:
        raise Skip("all %d estimates are equal (%g): no density to draw" % (n, x[0]))
    return h


def evaluate(x, grid, h):
    """The density at each grid point (data in blocks, so memory stays bounded)."""
    x = np.asarray(x, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    out = np.zeros(grid.shape, dtype=np.float64)
    for start in range(0, len(x), 1024):
        block = x[start:start + 1024]
        z = (grid[:, None] - block[None, :]) / h
        out += np.exp(-0.5 * z * z).sum(axis=1)
    return out / (len(x) * h * math.sqrt(2.0 * math.pi))


def view_range(x, h):
    """The x range to draw: all the data and 3 bandwidths beyond, unless a few far outliers would
    squeeze the bulk (the full range more than twice the 1st-99th percentile range, from 20
    estimates on); then the 1st to 99th percentile and 3 bandwidths beyond."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = float(x.min()) - 3 * h, float(x.max()) + 3 * h
    if len(x) >= 20:
        p1, p99 = np.percentile(x, [1, 99])
        core = (p99 - p1) + 6 * h
        if hi - lo > 2 * core:
            lo, hi = float(p1) - 3 * h, float(p99) + 3 * h
    return lo, hi


def mode(x, h):
    """The grid point of highest density: a coarse pass over the data's range and the data points
    themselves, then a fine grid of +-1 coarse step around the best."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = view_range(x, h)
    coarse = np.concatenate([np.linspace(lo, hi, 4096), x])
    d = evaluate(x, coarse, h)
    best = float(coarse[int(np.argmax(d))])
    step = max((hi - lo) / 4095.0, h / 64.0)
    fine = np.linspace(best - step, best + step, 1025)
    return float(fine[int(np.argmax(evaluate(x, fine, h)))])
