"""Forest plots: each exposure's random-effects meta-analysis over its regions, as metafor's
forest() draws one (Viechtbauer 2010).

One row per region that entered the meta-analysis (a done unit whose fit is ok, with a finite
estimate and a finite, positive SE: the regions deepmr's assembly pools, docs/statistics.md):
its estimate as a square whose area is its share of the random-effects weight
w_i = 1 / (se_i^2 + tau^2), its stored confidence interval as a line; below them a diamond from
ci_low to ci_high of the pooled estimate (meta/<method>) and, where stored, the prediction
interval as a line under it. Rows are sorted by estimate. An exposure with more than MAX_ROWS
regions shows the MAX_ROWS of largest weight (the caption says how many are pooled but not drawn).

forest_data() returns the numbers (tests recompute the pooled estimate from them and compare it
with the store's); forest_figure() draws one exposure.
"""
import math

import numpy as np

import figures
from deepmr_store import STATUS, Skip, fit_path

MAX_ROWS = 40        # regions drawn per exposure (those of largest weight)
MAX_EXPOSURES = 16   # more exposures than this: plots of the 16 with the most pooled regions
WIDTH = 900
ROW_PIXELS = 16


def forest_data(store, method, exposure):
    """The numbers of one exposure's forest plot:

    units, estimate, se, ci_low, ci_high   over the pooled regions, in unit order
    weight       each region's share of sum_i 1 / (se_i^2 + tau^2) (sums to 1)
    pooled       the weighted mean of the estimates with those weights (equals meta/<method>/estimate
                 for every tau^2 estimator: tests check it)
    meta         {column: value} of the exposure's meta/<method> row
    """
    name = store.exposures[exposure]
    meta = store.meta(method)
    row = {column: values[exposure] for column, values in meta.items()}
    if row["status"] != STATUS["ok"] or not math.isfinite(row["estimate"]):
        raise Skip("%s's %s meta-analysis is not estimable%s" % (
            name, figures.method_label(method), (": " + row["reason"]) if row["reason"] else ""))
    units = store.estimable_units(method, exposure)
    column = {c: store.fit_column(method, c)[units].astype(np.float64) for c in ("estimate", "se")}
    for c in ("ci_low", "ci_high"):  # a store without per-region intervals is drawn without their lines
        column[c] = (store.fit_column(method, c)[units].astype(np.float64) if store.has(fit_path(method, c))
                     else np.full(len(units), np.nan))
    pooled_rows = np.isfinite(column["se"]) & (column["se"] > 0)
    units = units[pooled_rows]
    column = {c: v[pooled_rows] for c, v in column.items()}
    if len(units) == 0:
        raise Skip("%s has no region with an estimate and a standard error for %s" % (name, figures.method_label(method)))
    tau2 = row["tau2"] if math.isfinite(row["tau2"]) else 0.0
    w = 1.0 / (column["se"] ** 2 + tau2)
    weight = w / w.sum()
    return dict(units=units, estimate=column["estimate"], se=column["se"], ci_low=column["ci_low"],
                ci_high=column["ci_high"], weight=weight, pooled=float(np.sum(weight * column["estimate"])),
                meta=row)


def drawn_rows(data):
    """Indices (into forest_data's arrays) of the rows drawn, top to bottom: the MAX_ROWS of
    largest weight (ties by unit), sorted by estimate (ties by unit)."""
    n = len(data["units"])
    kept = np.lexsort((data["units"], -data["weight"]))[:MAX_ROWS] if n > MAX_ROWS else np.arange(n)
    return kept[np.lexsort((data["units"][kept], data["estimate"][kept]))]


def figure_pixels(rows):
    """The figure's size: WIDTH wide, ROW_PIXELS more height per drawn region."""
    return (WIDTH, 150 + ROW_PIXELS * (rows + 5))


def forest_figure(store, exposure, method, planted=None):
    name = store.exposures[exposure]
    data = forest_data(store, method, exposure)
    meta = data["meta"]
    rows = drawn_rows(data)
    n = len(rows)
    fig = figures.new_figure(figure_pixels(n))
    ax = fig.add_subplot()
    y = np.arange(n, 0, -1) + 2.0  # the region rows; the pooled diamond at y = 1
    est, low, high = data["estimate"][rows], data["ci_low"][rows], data["ci_high"][rows]
    has_ci = np.isfinite(low) & np.isfinite(high)
    ax.hlines(y[has_ci], low[has_ci], high[has_ci], color="black", linewidth=0.8)
    share = data["weight"][rows]
    ax.scatter(est, y, marker="s", s=12 + 180 * share / data["weight"].max(), color=figures.DARK_BLUE, zorder=3)
    m, m_low, m_high = meta["estimate"], meta["ci_low"], meta["ci_high"]
    if math.isfinite(m_low) and math.isfinite(m_high):
        ax.fill([m_low, m, m_high, m], [1, 1.35, 1, 0.65], color=figures.ORANGE, edgecolor="black", linewidth=0.8,
                zorder=3, label="pooled (random effects), 95% CI")
    else:
        ax.scatter([m], [1], marker="D", color=figures.ORANGE, zorder=3, label="pooled (random effects)")
    if math.isfinite(meta["pi_low"]) and math.isfinite(meta["pi_high"]):
        ax.hlines([0.35], meta["pi_low"], meta["pi_high"], color=figures.ORANGE, linewidth=2.0,
                  label="prediction interval")
    ax.axvline(0, color="grey", linewidth=0.6, linestyle=":")
    ax.axvline(m, color=figures.ORANGE, linewidth=0.6, linestyle="--")
    if planted is not None and math.isfinite(planted):
        ax.axvline(planted, color=figures.PLANTED_COLOUR, linewidth=1.2, label="planted effect")
    labels = [figures.plain("%s   %s [%s, %s]  %.1f%%" % (
        store.region_label(int(store.unit_region[u])), figures.fmt(e), figures.fmt(lo), figures.fmt(hi), 100 * s))
        for u, e, lo, hi, s in zip(data["units"][rows], est, low, high, share)]
    pooled_label = "pooled, k = %d   %s [%s, %s]" % (len(data["units"]), figures.fmt(m), figures.fmt(m_low),
                                                    figures.fmt(m_high))
    ax.set_yticks(list(y) + [1])
    ax.set_yticklabels(labels + [pooled_label], fontsize=7, family="monospace")
    ax.set_ylim(0, n + 4.5)
    ax.set_xlabel("causal effect of %s on %s (%s estimate, 95%% CI)" % (
        figures.plain(name), figures.plain(store.attrs.get("outcome", "")), figures.method_label(method)))
    ax.set_title(figures.plain("%s: %s over %d regions, tau2 (%s) %s, I2 %s" % (
        name, figures.method_label(method), len(data["units"]), store.attrs.get("tau2", "?"),
        figures.fmt(meta["tau2"]), figures.fmt(meta["i2"]))), fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper center", ncol=4)  # in the rows kept free above
    caption = ("Forest plot of %s's random-effects meta-analysis of its per-region %s estimates (meta/%s): each "
               "row a region with its stored 95%% CI and its share of the weight 1 / (se^2 + tau^2) (square area, "
               "right-hand %%), sorted by estimate; the diamond is the pooled estimate and its CI"
               % (name, figures.method_label(method), method))
    if math.isfinite(meta["pi_low"]):
        caption += ", the thick line under it the prediction interval"
    caption += "."
    if len(data["units"]) > n:
        caption += (" The %d regions of largest weight are drawn (together %.1f%% of the weight); all %d are pooled."
                    % (n, 100 * share.sum(), len(data["units"])))
    if planted is not None and math.isfinite(planted):
        caption += " Red line: the planted effect."
    return fig, caption
