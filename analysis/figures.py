"""The Deep MR paper's Figures 2 and 3 from a store (matplotlib, Agg backend).

Each function returns (matplotlib Figure, caption) or raises deepmr_store.Skip with the reason the
figure cannot be drawn from this store. Figures have fixed pixel sizes (figure_size) so that a
report always looks the same and tests can check them.
"""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import kde  # noqa: E402
from deepmr_store import STATUS, Skip  # noqa: E402

DPI = 100
KDE_PIXELS = (640, 440)
SCATTER_PIXELS = (640, 560)
SCALING_PIXELS = (1000, 400)

# Figure 3's colours as in the paper: light blue the meta-analysed effect, orange tau, dark blue its SE.
LIGHT_BLUE, ORANGE, DARK_BLUE = "#9ecae1", "#fd8d3c", "#08519c"
PLANTED_COLOUR = "#d62728"

METHOD_LABELS = {"egger": "MR-Egger", "ivw": "IVW", "ivw-fixed": "IVW (fixed)", "ivw-random": "IVW (random)",
                 "median-weighted": "weighted median", "median-simple": "simple median",
                 "mode-weighted": "weighted mode", "divw": "debiased IVW", "ivw-penalized": "penalized IVW",
                 "egger-penalized": "penalized MR-Egger", "median-penalized": "penalized weighted median",
                 "conmix": "contamination mixture", "ivw-robust": "robust IVW", "egger-robust": "robust MR-Egger",
                 "ivw-penalized-robust": "penalized robust IVW", "egger-penalized-robust": "penalized robust MR-Egger",
                 "mr-presso": "MR-PRESSO"}


def method_label(method):
    return METHOD_LABELS.get(method, method)


def plain(s):
    """Text for matplotlib without mathtext interpretation."""
    return str(s).replace("$", r"\$")


def meta_pixels(exposures):
    """Figure 3's size: wider with more exposures (700 x 480 up to 16 exposures)."""
    return (max(700, 160 + 34 * exposures), 480)


def new_figure(pixels):
    # Agg truncates width * dpi to an integer: a quarter pixel more makes the size exact.
    return plt.figure(figsize=((pixels[0] + 0.25) / DPI, (pixels[1] + 0.25) / DPI), dpi=DPI, layout="constrained")


def save(fig, path):
    fig.savefig(path, dpi=DPI, format="png", facecolor="white")
    plt.close(fig)


def fmt(value, digits=3):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return "%.*g" % (digits, value)


# ---- Figure 2a-c: density of per-region estimates ---------------------------------------------------
def kde_figure(x, title, method, rule, planted=None):
    """Density of per-region estimates `x` with a rug, the median, the KDE's mode and the planted effect."""
    x = np.asarray(x, dtype=np.float64)
    h = kde.bandwidth(x, rule)
    lo, hi = kde.view_range(x, h)
    grid = np.linspace(lo, hi, 1024)
    density = kde.evaluate(x, grid, h)
    median = float(np.median(x))
    mode = kde.mode(x, h)
    inside = (x >= lo) & (x <= hi)

    fig = new_figure(KDE_PIXELS)
    ax = fig.add_subplot()
    top = float(density.max())
    ax.fill_between(grid, density, color=LIGHT_BLUE, alpha=0.6, linewidth=0)
    ax.plot(grid, density, color=DARK_BLUE, linewidth=1.5, label="density (bandwidth %s)" % fmt(h))
    ax.plot(x[inside], np.full(int(inside.sum()), -0.04 * top), "|", color="black", markersize=9,
            alpha=0.7, label="regions (n = %d)" % len(x))
    ax.axvline(median, color="black", linestyle="--", linewidth=1, label="median %s" % fmt(median))
    ax.axvline(mode, color=ORANGE, linestyle=":", linewidth=1.8, label="mode %s" % fmt(mode))
    if planted is not None and lo <= planted <= hi:
        ax.axvline(planted, color=PLANTED_COLOUR, linewidth=1.5, label="planted %s" % fmt(planted))
    if lo < 0 < hi:
        ax.axvline(0, color="grey", linewidth=0.6)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.08 * top, 1.08 * top)
    ax.set_xlabel("per-region causal effect estimate (%s)" % method_label(method))
    ax.set_ylabel("density")
    ax.set_title(plain(title))
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    outside = int((~inside).sum())
    caption = ("Gaussian kernel density of %d per-region %s estimates (bandwidth %s, rule %s); ticks: the regions; "
               "dashed: median %s; dotted: mode of the density %s."
               % (len(x), method_label(method), fmt(h, 4), rule if isinstance(rule, str) else "fixed",
                  fmt(median, 4), fmt(mode, 4)))
    if planted is not None:
        caption += " Red: the planted effect %s%s." % (fmt(planted, 4), "" if lo <= planted <= hi else " (outside the view)")
    if outside:
        ax.text(0.99, 0.70, "%d outside the view\n(min %s, max %s)" % (outside, fmt(x.min()), fmt(x.max())),
                transform=ax.transAxes, fontsize=8, va="top", ha="right")
        caption += " %d far estimates lie outside the view (min %s, max %s)." % (outside, fmt(x.min(), 4), fmt(x.max(), 4))
    return fig, caption


# ---- Figure 2d: the median-estimate region's instruments ---------------------------------------------
def median_unit(estimates, units):
    """The unit whose estimate is the median (the lower median for an even count, ties by unit index)."""
    if len(units) == 0:
        raise Skip("no estimable region")
    order = np.lexsort((units, estimates))
    return int(units[order[(len(units) - 1) // 2]]), float(estimates[order[(len(units) - 1) // 2]])


def orient(bx, by):
    """MR orientation as deepmr fits (docs/statistics.md): bx >= 0; where bx = 0, by >= 0."""
    sign = np.where(bx < 0, -1.0, np.where((bx == 0) & (by < 0), -1.0, 1.0))
    return bx * sign, by * sign


def scatter_figure(store, exposure, method, letter="d"):
    """Outcome effects against exposure effects for the exposure's median-estimate region, with
    error bars (one SE), and the MR-Egger and IVW lines from the store's fits of that unit."""
    name = store.exposures[exposure]
    estimates, units = store.estimates(method, exposure)
    if len(units) == 0:
        raise Skip("%s has no estimable region for %s" % (name, method))
    if not store.has_effects:
        store.effects(0)  # raises the Skip that says how to store them
    unit, estimate = median_unit(estimates, units)
    bx, bxse, by, byse, _ = store.effects(unit)
    valid = np.isfinite(bx) & np.isfinite(bxse) & np.isfinite(by) & np.isfinite(byse)
    informative = valid & ~((bx == 0) & (bxse == 0) & (by == 0) & (byse == 0))
    if informative.sum() == 0:
        raise Skip("the stored effects of %s's median region are all zero or missing" % name)
    bx, by = orient(bx, by)
    z = store.min_abs_z_x()
    strong = informative & (np.abs(bx) >= z * bxse) if z > 0 else informative
    weak = informative & ~strong

    lines, notes = [], []
    for line_method, colour, style in (("egger", ORANGE, "-"), ("ivw", DARK_BLUE, "--")):
        if line_method not in store.methods:
            notes.append("%s is not among the run's methods" % method_label(line_method))
            continue
        statuses = store.fit_status(line_method)
        status = statuses[unit] if statuses is not None else STATUS["ok"]
        slope = float(store.fit_column(line_method, "estimate")[unit])
        if status != STATUS["ok"] or not math.isfinite(slope):
            reason = store.fit_reasons(line_method)[unit]
            notes.append("%s not estimable here%s" % (method_label(line_method), (": " + reason) if reason else ""))
            continue
        intercept = float(store.fit_column(line_method, "intercept")[unit]) if line_method == "egger" else 0.0
        if not math.isfinite(intercept):
            intercept = 0.0
        se = float(store.fit_column(line_method, "se")[unit])
        lines.append((line_method, slope, intercept, se, colour, style))

    fig = new_figure(SCATTER_PIXELS)
    ax = fig.add_subplot()
    if weak.any():
        ax.errorbar(bx[weak], by[weak], xerr=bxse[weak], yerr=byse[weak], fmt="o", markersize=2.5, color="#bbbbbb",
                    ecolor="#dddddd", elinewidth=0.5, label="weak, not used (|bx/se| < %g): %d" % (z, weak.sum()))
    ax.errorbar(bx[strong], by[strong], xerr=bxse[strong], yerr=byse[strong], fmt="o", markersize=2.5,
                color=DARK_BLUE, alpha=0.6, ecolor="#9aa9c9", elinewidth=0.5,
                label="mutants (n = %d)" % int(strong.sum()))
    xs = np.array([min(0.0, float(bx[informative].min())), float(bx[informative].max())])
    for line_method, slope, intercept, se, colour, style in lines:
        label = "%s: slope %s (se %s)" % (method_label(line_method), fmt(slope), fmt(se))
        if line_method == "egger":
            label += ", intercept %s" % fmt(intercept)
        ax.plot(xs, intercept + slope * xs, color=colour, linestyle=style, linewidth=1.8, label=label, zorder=4)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.axvline(0, color="grey", linewidth=0.6)
    ax.set_xlabel("effect on exposure %s (bx, oriented so bx >= 0)" % plain(name))
    ax.set_ylabel("effect on outcome %s (by)" % plain(store.attrs.get("outcome", "")))
    region_label = store.region_label(int(store.unit_region[unit]))
    ax.set_title(plain("(%s) %s, %s: median of %d %s estimates (%s)"
                       % (letter, name, region_label, len(units), method_label(method), fmt(estimate))), fontsize=10)
    ax.legend(loc="best", fontsize=8, frameon=False)
    caption = ("%s's median-estimate region %s (unit %d, %s estimate %s of %d regions): each point a mutant, "
               "its effect on the exposure against its effect on the outcome with one-SE error bars, oriented "
               "as deepmr fits them; lines: the store's fits of this unit (no refit)."
               % (name, region_label, unit, method_label(method), fmt(estimate, 4), len(units)))
    dropped = int(valid.sum() - informative.sum())
    if dropped:
        caption += " %d mutants with no effect at all are left out, as in the fits." % dropped
    if notes:
        caption += " " + "; ".join(notes) + "."
    return fig, caption


# ---- Figure 3: meta-analysed effect per exposure ----------------------------------------------------
def meta_figure(store, method, planted=None, outcome=0):
    """Figure 3 for one outcome (the primary by default); an exposure that is the outcome's own
    output (a network run) is left out."""
    planted = planted or {}
    meta = store.meta(method, outcome)
    keep = [e for e in range(len(store.exposures)) if not store.self_pair(e, outcome)]
    meta = {c: ([v[e] for e in keep] if c == "reason" else np.asarray(v)[keep]) for c, v in meta.items()}
    names = [store.exposures[e] for e in keep]
    ok = np.array([s == STATUS["ok"] and math.isfinite(v) for s, v in zip(meta["status"], meta["estimate"])])
    if not ok.any():
        raise Skip("no exposure has an estimable %s meta-analysis on %s" % (method_label(method), store.outcomes[outcome]))
    n = len(names)
    fig = new_figure(meta_pixels(n))
    ax = fig.add_subplot()
    xs = np.arange(n)
    width = 0.27
    est = np.where(ok, meta["estimate"], 0.0)
    tau = np.where(ok, meta["tau"], 0.0)
    se = np.where(ok, meta["se"], 0.0)
    ax.bar(xs - width, est, width, color=LIGHT_BLUE, label="meta-analysed effect")
    ci = ok & np.isfinite(meta["ci_low"]) & np.isfinite(meta["ci_high"])
    if ci.any():
        ax.errorbar(xs[ci] - width, est[ci], yerr=[est[ci] - meta["ci_low"][ci], meta["ci_high"][ci] - est[ci]],
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2, label="95% CI")
    ax.bar(xs, np.nan_to_num(tau), width, color=ORANGE, label="tau (between-region SD)")
    ax.bar(xs + width, np.nan_to_num(se), width, color=DARK_BLUE, label="SE of the effect")
    marked = [i for i, name in enumerate(names) if name in planted]
    if marked:
        ax.scatter(xs[marked] - width, [planted[names[i]] for i in marked], marker="D", s=28, color=PLANTED_COLOUR,
                   zorder=3, label="planted effect")
    for i in np.flatnonzero(~ok):
        ax.text(xs[i], 0, "n.e.", ha="center", va="bottom", fontsize=8, rotation=90)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(xs)
    ax.set_xticklabels([plain(x) for x in names], rotation=90 if n > 8 else 0, fontsize=8 if n > 8 else 10)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylabel("causal effect (%s, random effects)" % method_label(method))
    ax.set_title("Per-exposure causal effects on %s, %s meta-analysis of regions (tau2: %s)"
                 % (plain(store.outcomes[outcome]), method_label(method), store.attrs.get("tau2", "?")), fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="best")
    caption = ("Random-effects meta-analysis per exposure of its per-region %s estimates on %s, as stored in "
               "meta/%s: light blue the overall effect with its confidence interval (ci_low to ci_high), orange "
               "tau, dark blue the standard error of the overall effect."
               % (method_label(method), store.outcomes[outcome], method))
    if marked:
        caption += " Red diamonds: the planted effects."
    if (~ok).any():
        caption += " Not estimable (n.e.): " + ", ".join(
            "%s (%s)" % (names[i], meta["reason"][i] or "no estimate") for i in np.flatnonzero(~ok)) + "."
    return fig, caption
