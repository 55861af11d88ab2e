"""The network figures of a store with several outcomes (issue 17): the matrix of pooled effects
(exposures x outcomes) and a drawing of the edges whose intervals exclude 0.

Each function returns (matplotlib Figure, caption) or raises deepmr_store.Skip, as figures.py does.
"""
import math

import numpy as np
from matplotlib.patches import FancyArrowPatch

import figures
from deepmr_store import STATUS, Skip

POSITIVE, NEGATIVE = "#b2182b", "#2166ac"


def pair_table(store, method):
    """[(exposure, outcome, estimate, ci_low, ci_high, excludes_zero)] of every fitted pair with an ok
    meta-analysis, in the store's pair order."""
    meta = store.meta_pairs(method)
    rows = []
    for e, exposure in enumerate(store.exposures):
        for o, outcome in enumerate(store.outcomes):
            if store.self_pair(e, o):
                continue
            r = e * len(store.outcomes) + o
            estimate = float(meta["estimate"][r])
            if meta["status"][r] != STATUS["ok"] or not math.isfinite(estimate):
                continue
            low, high = float(meta["ci_low"][r]), float(meta["ci_high"][r])
            rows.append((exposure, outcome, estimate, low, high, math.isfinite(low) and (low > 0 or high < 0)))
    return rows


def matrix_figure(store, method):
    """Pooled effect of each exposure (row) on each outcome (column); a dot marks an interval that
    excludes 0, grey cells are an exposure's own output or not estimable."""
    if len(store.outcomes) < 2:
        raise Skip("the store has one outcome: no network")
    rows = pair_table(store, method)
    if not rows:
        raise Skip("no (exposure, outcome) pair has an estimable %s meta-analysis" % figures.method_label(method))
    value = np.full((len(store.exposures), len(store.outcomes)), np.nan)
    marked = []
    for exposure, outcome, estimate, _, _, excludes in rows:
        i, j = store.exposures.index(exposure), store.outcomes.index(outcome)
        value[i, j] = estimate
        if excludes:
            marked.append((i, j))
    limit = float(np.nanmax(np.abs(value))) or 1.0
    fig = figures.new_figure((max(560, 220 + 46 * len(store.outcomes)), max(420, 160 + 36 * len(store.exposures))))
    ax = fig.add_subplot()
    ax.set_facecolor("#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(value), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for i, j in marked:
        ax.plot(j, i, "o", color="black", markersize=4)
    ax.set_xticks(range(len(store.outcomes)))
    ax.set_xticklabels([figures.plain(o) for o in store.outcomes], rotation=90, fontsize=8)
    ax.set_yticks(range(len(store.exposures)))
    ax.set_yticklabels([figures.plain(e) for e in store.exposures], fontsize=8)
    ax.set_xlabel("outcome")
    ax.set_ylabel("exposure")
    fig.colorbar(image, ax=ax, label="pooled causal effect (%s)" % figures.method_label(method))
    ax.set_title("Pooled effects of every pair (%s)" % figures.method_label(method), fontsize=10)
    caption = ("Random-effects meta-analysis of each (exposure, outcome) pair's per-region %s estimates "
               "(meta/%s, one row per pair): colour the pooled effect, a dot where its 95%% interval excludes 0 "
               "(%d of %d pairs); grey: the exposure's own output, or no estimable pair."
               % (figures.method_label(method), method, len(marked), len(rows)))
    return fig, caption


def graph_figure(store, method):
    """The pairs whose interval excludes 0 as arrows between outputs on a circle: red positive, blue
    negative, width by |effect|."""
    if len(store.outcomes) < 2:
        raise Skip("the store has one outcome: no network")
    edges = [r for r in pair_table(store, method) if r[5]]
    if not edges:
        raise Skip("no pair's %s interval excludes 0: no edge to draw" % figures.method_label(method))
    nodes = list(store.exposures) + [o for o in store.outcomes if o not in store.exposures]
    angle = {name: math.pi / 2 - 2 * math.pi * k / len(nodes) for k, name in enumerate(nodes)}
    where = {name: (math.cos(a), math.sin(a)) for name, a in angle.items()}
    fig = figures.new_figure((640, 640))
    ax = fig.add_subplot()
    largest = max(abs(e[2]) for e in edges)
    for exposure, outcome, estimate, _, _, _ in edges:
        ax.add_patch(FancyArrowPatch(where[exposure], where[outcome], arrowstyle="-|>", mutation_scale=12,
                                     connectionstyle="arc3,rad=0.12", shrinkA=14, shrinkB=14,
                                     color=POSITIVE if estimate > 0 else NEGATIVE,
                                     linewidth=0.6 + 3.4 * abs(estimate) / largest, alpha=0.85))
    for name, (x, y) in where.items():
        ax.plot(x, y, "o", markersize=18, color="white", markeredgecolor="black", zorder=3)
        ax.text(1.18 * x, 1.18 * y, figures.plain(name), ha="center", va="center", fontsize=8)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Edges whose 95%% interval excludes 0 (%s)" % figures.method_label(method), fontsize=10)
    positive = sum(1 for e in edges if e[2] > 0)
    caption = ("Each arrow is an exposure -> outcome pair whose pooled %s effect's 95%% interval excludes 0: "
               "red positive (%d), blue negative (%d), width proportional to |effect| (largest %s). An interval "
               "that excludes 0 is not yet a causal edge: read it with the pair's direction test and reverse "
               "estimate (deepmr summarize)." % (figures.method_label(method), positive, len(edges) - positive,
                                                 figures.fmt(largest)))
    return fig, caption
