"""Mutation maps of a region's in-silico saturation mutagenesis, as tangermeme and Selene draw them.

For one unit (an exposure and one of its regions), from the per-mutant effects deepmr stored
(effects/, docs/store.md; run.store-effects = true):

  heatmaps  positions x 4 bases (rows A, C, G, T) of beta, the mean over dropout samples of
            f(mutant) - f(reference), for the exposure (the unit's effects/exposure_beta row) and
            for the outcome (the region's effects/outcome_beta row); the reference base's cell has
            no mutant and is left empty (NaN, drawn grey). A diverging colour map centred at 0 with
            a symmetric scale per heatmap (+-max |beta| in view; the two have their own, as the
            exposure and the outcome are different model outputs).
  logos     the reference sequence, each base's letter as tall as its mean effect: the mean over
            its 3 substitutions of -beta = f(reference) - mean f(mutant), the importance of the
            reference base (tangermeme's plot_logo of ISM attributions, Selene's ISM logo).
            Positive letters stand on the axis, negative ones hang below it (not flipped).

map_data() returns the numbers (tests compare them with the store); mutation_map_figure() draws
one unit; choose_units() picks an exposure's median-estimate and most extreme regions.
"""
import math

import numpy as np

import figures
from deepmr_store import Skip

BASES = "ACGT"
BASE_COLOURS = {"A": "#109648", "C": "#255c99", "G": "#f7b32b", "T": "#d62839"}  # the classic logo colours
REFERENCE_COLOUR = "#d0d0d0"
MAX_POSITIONS = 200   # a longer window is shown as its central MAX_POSITIONS positions
MAX_EXPOSURES = 16    # more exposures than this: maps of the 16 with the most estimable regions
PIXELS = (1100, 640)


def map_data(store, unit):
    """The numbers of one unit's mutation map, over the whole window (length L):

    sequence           the region's window (effects/sequence)
    exposure, outcome  4 x L float64 beta matrices, row b = base BASES[b], column p = position;
                       NaN at the reference base and where nothing finite was stored
    exposure_logo,     L float64: mean over the position's substitutions of -beta (NaN where none
    outcome_logo       is finite)
    region             the unit's region id
    """
    bx, _, by, _, position = store.effects(unit)
    region = int(store.unit_region[unit])
    sequence = store.sequence(region).upper()
    length = len(sequence)
    position = np.asarray(position, dtype=np.int64)
    if len(position) != len(bx) or len(position) != len(by):
        raise Skip("effects/position has %d columns, the effects %d and %d" % (len(position), len(bx), len(by)))
    if len(position) and (position.min() < 0 or position.max() >= length):
        raise Skip("effects/position points outside region %d's %d-base window" % (region, length))
    maps = {"exposure": np.full((4, length), np.nan), "outcome": np.full((4, length), np.nan)}
    seen = np.zeros(length, dtype=np.int64)  # the k-th column of a position is its k-th non-reference base
    for j, p in enumerate(position):
        ref = BASES.find(sequence[p])
        if ref < 0:
            raise Skip("region %d's window holds '%s' at position %d, not A, C, G or T: its mutants' bases "
                       "are unknown" % (region, sequence[p], p))
        alternatives = [b for b in range(4) if b != ref]
        if seen[p] >= 3:
            raise Skip("more than 3 mutant columns at position %d (damaged store)" % p)
        alt = alternatives[seen[p]]
        seen[p] += 1
        for name, beta in (("exposure", bx), ("outcome", by)):
            if math.isfinite(beta[j]):
                maps[name][alt, p] = beta[j]
    out = {"sequence": sequence, "region": region, "unit": int(unit)}
    for name in ("exposure", "outcome"):
        matrix = maps[name]
        finite = np.isfinite(matrix)
        count = finite.sum(axis=0)
        total = np.where(finite, -matrix, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name + "_logo"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        out[name] = matrix
    return out


def view(length, limit=MAX_POSITIONS):
    """(start, stop) of the positions drawn: the whole window, or its central `limit` positions."""
    if length <= limit:
        return 0, length
    start = (length - limit) // 2
    return start, start + limit


def choose_units(store, method, exposure):
    """[(role, unit, estimate, z)] for the exposure's median-estimate region (the lower median, ties by
    unit, as Figure 2d) and its most extreme one, the largest |estimate / se| among units with a
    finite, positive se (ties by unit; the largest |estimate| where no se is usable). One entry,
    role "median and most extreme", when they are the same unit."""
    estimates, units = store.estimates(method, exposure)
    if len(units) == 0:
        raise Skip("%s has no estimable region for %s" % (store.exposures[exposure], method))
    se = store.fit_column(method, "se")[units].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(np.isfinite(se) & (se > 0), estimates / se, np.nan)
    median, median_estimate = figures.median_unit(estimates, units)
    usable = np.isfinite(z)
    score = np.abs(z) if usable.any() else np.abs(estimates)
    score = np.where(np.isfinite(score), score, -1.0)
    best = int(np.flatnonzero(score == score.max())[0])  # units are increasing: the first is the lowest
    extreme = int(units[best])
    median_z = float(z[list(units).index(median)])
    if extreme == median:
        return [("median and most extreme", median, median_estimate, median_z)]
    return [("median", median, median_estimate, median_z), ("most extreme", extreme, float(estimates[best]),
                                                              float(z[best]))]


# ---- drawing ----------------------------------------------------------------------------------------
_LETTERS = {}


def _letter_path(base):
    """The glyph of a base as a path normalised to the unit square (drawn with matplotlib only)."""
    if base not in _LETTERS:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextPath
        from matplotlib.transforms import Affine2D
        path = TextPath((0, 0), base, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
        box = path.get_extents()
        _LETTERS[base] = path.transformed(Affine2D().translate(-box.x0, -box.y0).scale(1 / box.width, 1 / box.height))
    return _LETTERS[base]


def draw_logo(ax, sequence, heights, start, stop):
    """Letters of sequence[start:stop] at x = position, each scaled to its height (negative: below 0)."""
    from matplotlib.patches import PathPatch
    from matplotlib.transforms import Affine2D
    for p in range(start, stop):
        h = heights[p]
        base = sequence[p]
        if not math.isfinite(h) or h == 0 or base not in BASE_COLOURS:
            continue
        path = _letter_path(base).transformed(Affine2D().scale(0.9, abs(h)).translate(p - 0.45, min(0.0, h)))
        ax.add_patch(PathPatch(path, facecolor=BASE_COLOURS[base], edgecolor="none"))
    finite = heights[start:stop][np.isfinite(heights[start:stop])]
    lo = min(0.0, float(finite.min())) if len(finite) else 0.0
    hi = max(0.0, float(finite.max())) if len(finite) else 1.0
    pad = 0.06 * ((hi - lo) or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ax.axhline(0, color="grey", linewidth=0.5)


def symmetric_limit(matrix):
    finite = np.abs(matrix[np.isfinite(matrix)])
    top = float(finite.max()) if len(finite) else 0.0
    return top if top > 0 else 1.0


def mutation_map_figure(store, exposure, unit, method, role, estimate, z):
    """One unit's mutation map: exposure logo and heatmap, outcome logo and heatmap (shared x)."""
    import matplotlib
    data = map_data(store, unit)
    sequence = data["sequence"]
    length = len(sequence)
    start, stop = view(length)
    if not np.isfinite(data["exposure"][:, start:stop]).any() and not np.isfinite(data["outcome"][:, start:stop]).any():
        raise Skip("no finite effect is stored for unit %d" % unit)
    name = store.exposures[exposure]
    outcome = store.attrs.get("outcome", "outcome")
    label = store.region_label(data["region"])
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad=REFERENCE_COLOUR)

    fig = figures.new_figure(PIXELS)
    grid = fig.add_gridspec(4, 2, height_ratios=[1.0, 1.0, 1.0, 1.0], width_ratios=[60, 1])
    axes = []
    limits = {}
    for row, (what, title) in enumerate((("exposure", "exposure %s" % name), ("outcome", "outcome %s" % outcome))):
        logo = fig.add_subplot(grid[2 * row, 0], sharex=axes[0] if axes else None)
        heat = fig.add_subplot(grid[2 * row + 1, 0], sharex=logo)
        bar = fig.add_subplot(grid[2 * row + 1, 1])
        axes += [logo, heat]
        draw_logo(logo, sequence, data[what + "_logo"], start, stop)
        logo.set_ylabel("mean -beta", fontsize=8)
        logo.set_title(figures.plain("%s: reference scaled by its mean effect; beta per substitution below" % title),
                       fontsize=9, loc="left")
        v = symmetric_limit(data[what][:, start:stop])
        limits[what] = v
        image = heat.imshow(data[what], aspect="auto", cmap=cmap, vmin=-v, vmax=v, interpolation="nearest",
                            extent=(-0.5, length - 0.5, 3.5, -0.5))
        heat.set_yticks(range(4))
        heat.set_yticklabels(list(BASES), fontsize=8)
        heat.set_ylabel("mutant base", fontsize=8)
        colourbar = fig.colorbar(image, cax=bar)
        colourbar.ax.tick_params(labelsize=7)
        colourbar.set_label("beta", fontsize=8)
    for ax in axes:
        ax.set_xlim(start - 0.5, stop - 0.5)
        ax.tick_params(labelsize=7)
        if ax is not axes[-1]:
            ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("position in the window (0-based; %s)" % figures.plain(label), fontsize=8)
    zs = figures.fmt(z) if z is not None and math.isfinite(z) else "n/a"
    fig.suptitle(figures.plain("%s, %s region %s (unit %d): %s estimate %s, estimate/se %s"
                               % (name, role, label, unit, figures.method_label(method), figures.fmt(estimate), zs)),
                 fontsize=10)

    shown = ("the whole %d-base window" % length if (start, stop) == (0, length)
             else "positions %d to %d, the central %d of the %d-base window" % (start, stop - 1, stop - start, length))
    chosen = {"median": "its median-estimate region (the lower median of its estimable regions, as Figure 2d)",
              "most extreme": "its most extreme region (the largest |estimate / se| of its estimable regions)",
              "median and most extreme": "its median-estimate region, which is also its most extreme (largest "
                                         "|estimate / se|)"}[role]
    caption = ("Mutation map of %s, %s: %s (unit %d, %s estimate %s, estimate/se %s); %s. Heatmaps: beta of "
               "each substitution (rows the mutant base A, C, G, T; beta = mean over dropout samples of the model's "
               "output for the mutant minus the reference), upper for the exposure %s (effects/exposure_beta of the "
               "unit, colour scale +-%s), lower for the outcome %s (effects/outcome_beta of the region, +-%s); "
               "blue lowers, red raises the output; grey cells are the reference base (no mutant). Logos: the "
               "reference sequence, each letter's height the mean over its 3 substitutions of -beta, i.e. the "
               "reference output minus the mean mutant output (the base's importance, as tangermeme's plot_logo "
               "of in-silico mutagenesis and Selene's logos); letters below the axis are bases whose "
               "substitutions raise the output. Raw betas, not oriented as the MR fit orients them."
               % (name, chosen, label, unit, figures.method_label(method), figures.fmt(estimate, 4), zs, shown,
                  name, figures.fmt(limits["exposure"], 3), outcome, figures.fmt(limits["outcome"], 3)))
    return fig, caption
