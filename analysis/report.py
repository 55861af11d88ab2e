#!/usr/bin/python3
"""Figures and one self-contained HTML report from a deepmr store (analysis/README.md).

usage: report.py STORE --out DIR [--method M] [--exposures A,B | all] [--planted TSV]
                 [--scaling CSV ...] [--bandwidth silverman|scott|H]

Writes into DIR: report.html (every figure embedded, so the file alone is the report), the PNG
figures, summary.json (the numbers of the paper's results paragraph), meta_<method>.tsv and
manifest.json (what this run wrote; the next run into DIR replaces exactly those files).

A figure the store cannot support (no per-mutant effects, an exposure with one region, a partial
store) is left out with a note in the report. Exit status: 0 report written; 2 usage error (unknown
option, method or exposure); 3 unusable input (missing file, not a deepmr store, malformed CSV or
TSV) or an output directory that cannot be written, each with one line on stderr.
Needs Debian's python3-numpy, python3-h5py and python3-matplotlib.
"""
import argparse
import base64
import datetime
import html
import json
import math
import os
import re
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import figures  # noqa: E402
import forest  # noqa: E402
import kde  # noqa: E402
import mutation_maps  # noqa: E402
import network  # noqa: E402
import scaling_plots  # noqa: E402
import summary as summary_module  # noqa: E402
from deepmr_store import (META_COLUMNS, PLANTED_ATTRIBUTE, STATUS, Skip, Store, UnusableInput,  # noqa: E402
                          planted_effects)

PROG = "report.py"
EXIT_USAGE, EXIT_INPUT = 2, 3


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", metavar="STORE", help="a deepmr store (the HDF5 file of deepmr run)")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for report.html and the figures")
    parser.add_argument("--method", help="MR method of the figures and tables (default: the store's first)")
    parser.add_argument("--exposures", metavar="A,B|all",
                        help="exposures for Figure 2's own panels (default: up to two with most estimable regions)")
    parser.add_argument("--planted", metavar="TSV",
                        help="planted effects: tab-separated, header 'exposure<TAB>planted_effect' "
                             "(default: the store's planted_effects attribute, if any)")
    parser.add_argument("--scaling", metavar="CSV", action="append", default=[],
                        help="a CSV of jobs/scaling/scaling.py (may be given more than once)")
    parser.add_argument("--bandwidth", default="silverman",
                        help="KDE bandwidth: silverman (R's bw.nrd0, default), scott, or a number")
    args = parser.parse_args(argv)
    if args.bandwidth not in kde.RULES:
        given = args.bandwidth
        try:
            args.bandwidth = float(given)
            if not (args.bandwidth > 0 and math.isfinite(args.bandwidth)):
                raise ValueError
        except ValueError:
            raise UsageError("--bandwidth must be silverman, scott or a positive number, not %s" % given)
    return args


# ---- HTML helpers ---------------------------------------------------------------------------------
def esc(value):
    return html.escape(str(value), quote=True)


def number(value, digits=6):
    """Display text of a number (n/a for NaN/None)."""
    if value is None:
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return "%.*g" % (digits, value)


def cell(value, digits=6):
    """A table cell carrying the exact value in data-value (repr) and a rounded display."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '<td class="num na" data-value="nan">n/a</td>'
    exact = repr(int(value)) if isinstance(value, (int, np.integer)) else repr(float(value))
    return '<td class="num" data-value="%s">%s</td>' % (esc(exact), esc(number(value, digits)))


def table(table_id, header, rows, caption=None):
    out = ['<table id="%s">' % esc(table_id)]
    if caption:
        out.append("<caption>%s</caption>" % caption)
    out.append("<thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % esc(h) for h in header))
    for row in rows:
        out.append("<tr>%s</tr>" % "".join(row))
    out.append("</tbody></table>")
    return "\n".join(out)


def td(text):
    return "<td>%s</td>" % esc(text)


STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; } th { background: #f2f5f9; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.na { color: #999; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.3em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #333; max-width: 900px; }
.note { background: #fff8e1; border-left: 4px solid #f0ad4e; padding: 0.5em 0.8em; margin: 0.8em 0; }
.warning { background: #fdecea; border-left: 4px solid #d9534f; padding: 0.5em 0.8em; margin: 0.8em 0; }
.ok { background: #eef7ee; border-left: 4px solid #5cb85c; padding: 0.5em 0.8em; margin: 0.8em 0; }
pre { background: #f7f7f7; padding: 0.7em; overflow-x: auto; font-size: 0.85em; }
.meta { color: #555; font-size: 0.9em; }
"""


class Report:
    """Collects figures, notes and sections; writes the PNGs and report.html."""

    def __init__(self, out):
        self.out = out
        self.files = []         # every file written (relative to out)
        self.figures = []       # (name, title)
        self.skipped = []       # (title, reason)
        self.internal = []      # (title, error): bugs, reported but not fatal

    def figure(self, filename, title, make):
        """make() -> (fig, caption[, extra]); a Skip or an error becomes a note. Returns HTML."""
        try:
            made = make()
        except Skip as reason:
            self.skipped.append((title, str(reason)))
            return '<div class="note skipped" data-figure="%s"><b>%s not drawn:</b> %s</div>' % (
                esc(filename), esc(title), esc(reason))
        except Exception as error:  # a bug: keep the report, say so on stderr
            detail = "%s: %s" % (type(error).__name__, error)
            self.internal.append((title, detail))
            print("%s: warning: %s failed (internal error %s)" % (PROG, title, detail), file=sys.stderr)
            if os.environ.get("DEEPMR_REPORT_DEBUG"):
                traceback.print_exc()
            return '<div class="warning internal-error" data-figure="%s"><b>%s failed (internal error):</b> %s</div>' % (
                esc(filename), esc(title), esc(detail))
        fig, caption = made[0], made[1]
        path = os.path.join(self.out, filename)
        figures.save(fig, path)
        self.files.append(filename)
        self.figures.append((filename, title))
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        width, height = figure_pixels(path)
        return ('<figure id="%s" data-file="%s">\n<img src="data:image/png;base64,%s" width="%d" height="%d" alt="%s">\n'
                '<figcaption><b>%s.</b> %s <span class="meta">(<a href="%s">%s</a>)</span></figcaption>\n</figure>'
                % (esc(os.path.splitext(filename)[0]), esc(filename), data, width, height, esc(title), esc(title),
                   esc(caption), esc(filename), esc(filename)))


def figure_pixels(path):
    """Width and height from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def safe_name(name):
    """An exposure name as a file-name fragment."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "exposure"


def letter(i):
    return chr(ord("a") + i) if i < 26 else "a%d" % i


def choose_exposures(store, method, requested):
    """Indices of the exposures drawn on their own: requested names, 'all', or up to two with the most
    estimable regions (ties in store order)."""
    if requested:
        if requested.strip() == "all":
            return list(range(len(store.exposures)))
        names = [n.strip() for n in requested.split(",") if n.strip()]
        unknown = [n for n in names if n not in store.exposures]
        if unknown:
            raise UsageError("--exposures: %s not in the store (it has: %s)"
                             % (", ".join(unknown), ", ".join(store.exposures)))
        return [store.exposures.index(n) for n in dict.fromkeys(names)]
    if method is None:
        counts = store.units_per_exposure()
    else:
        counts = np.bincount(store.unit_exposure[store.estimable_units(method)], minlength=len(store.exposures))
    order = sorted(range(len(store.exposures)), key=lambda e: (-counts[e], e))
    return [e for e in order if counts[e] > 0][:2]


def unique_names(indices, store):
    seen, out = set(), {}
    for e in indices:
        name = safe_name(store.exposures[e])
        if name in seen:
            name = "%s_%d" % (name, e)
        seen.add(name)
        out[e] = name
    return out


def clean_previous(out):
    """Remove what the previous report in `out` wrote (its manifest lists it), nothing else."""
    manifest = os.path.join(out, "manifest.json")
    try:
        with open(manifest) as f:
            previous = json.load(f).get("files", [])
    except (OSError, ValueError, AttributeError):
        return
    for name in previous:
        if isinstance(name, str) and os.path.basename(name) == name:
            try:
                os.remove(os.path.join(out, name))
            except OSError:
                pass


# ---- sections -------------------------------------------------------------------------------------
def completeness_html(store):
    a = store.attrs
    failed = int(np.sum(store.unit_status == STATUS["failed"]))
    text = "%d of %d units done (%d regions in the plan), %d failed" % (
        store.units_done, store.units_total, int(a.get("regions_total", 0)), failed)
    if store.complete:
        return '<div class="ok" id="completeness">Complete run: %s.</div>' % esc(text)
    return ('<div class="warning" id="completeness"><b>Partial store</b> (complete = 0): %s. Figures and numbers use '
            'the units that are done; resume the run (deepmr run --resume) for the rest.</div>' % esc(text))


def summary_html(s, planted):
    o = s["overall"]
    m = figures.method_label(s["method"])
    if o["n"] == 0:
        para = "No per-region %s estimate is available in this store." % m
    else:
        para = ("Out of the %d region-specific %s causal effect estimates (%d exposure%s), %d %s negative and %d have "
                "p &lt; %g. The 25%% to 75%% quartile range of the estimates is %s to %s (median %s, mode of the "
                "kernel density %s)." % (o["n"], esc(m), o["exposures"], "" if o["exposures"] == 1 else "s",
                                         o["negative"], "is" if o["negative"] == 1 else "are", o["significant"],
                                         s["significance"], number(o["q1"], 3), number(o["q3"], 3),
                                         number(o["median"], 3), number(o["mode"], 3)))
    header = ["scope", "regions", "estimable", "negative", "p < %g" % s["significance"], "Q1", "median", "Q3",
              "mode (KDE)", "min", "max", "meta estimate", "meta se", "tau"]
    if planted:
        header.append("planted")
    rows = [[td("all exposures"), cell(int(sum(r["units"] for r in s["exposures"]))), cell(o["n"]),
             cell(o["negative"]), cell(o["significant"]), cell(o["q1"]), cell(o["median"]), cell(o["q3"]),
             cell(o["mode"]), cell(o["min"]), cell(o["max"]), td(""), td(""), td("")] + ([td("")] if planted else [])]
    for r in s["exposures"]:
        row = [td(r["exposure"]), cell(r["units"]), cell(r["n"]), cell(r["negative"]), cell(r["significant"]),
               cell(r["q1"]), cell(r["median"]), cell(r["q3"]), cell(r["mode"]), cell(r["min"]), cell(r["max"]),
               cell(r["meta_estimate"]), cell(r["meta_se"]), cell(r["meta_tau"])]
        if planted:
            row.append(cell(r["planted"]))
        rows.append(row)
    caption = ("Per-region %s estimates: quartiles (linear, R type 7), mode of the Gaussian KDE (bandwidth rule %s), "
               "counts; the meta columns are read from meta/%s." % (esc(m), esc(s["bandwidth_rule"]), esc(s["method"])))
    return "<p id=\"results-paragraph\">%s</p>\n%s" % (para, table("summary-table", header, rows, caption))


def meta_html(store, method, planted):
    meta = store.meta(method)
    header = ["exposure"] + list(META_COLUMNS) + ["status"]
    if planted:
        header += ["planted", "planted in CI"]
    rows = []
    for e, name in enumerate(store.exposures):
        ok = meta["status"][e] == STATUS["ok"]
        row = [td(name)] + [cell(float(meta[c][e])) for c in META_COLUMNS]
        row.append(td("ok" if ok else "not estimable" + (": " + meta["reason"][e] if meta["reason"][e] else "")))
        if planted:
            p = planted.get(name)
            row.append(cell(p))
            inside = (p is not None and ok and meta["ci_low"][e] <= p <= meta["ci_high"][e])
            row.append(td("" if p is None or not ok else ("yes" if inside else "no")))
        rows.append(row)
    caption = ("Random-effects meta-analysis per exposure, %s (meta/%s; tau2 estimator %s; i2 in percent; "
               "pi: prediction interval)" % (esc(figures.method_label(method)), esc(method),
                                             esc(store.attrs.get("tau2", "?"))))
    return table("meta-table", header, rows, caption), meta


def methods_html(store):
    """Every method's meta-analysed estimate (se) side by side."""
    metas = {}
    for method in store.methods:
        try:
            metas[method] = store.meta(method)
        except Skip:
            continue
    if not metas:
        return ""
    header = ["exposure"] + ["%s estimate" % m for m in metas] + ["%s se" % m for m in metas]
    rows = []
    for e, name in enumerate(store.exposures):
        rows.append([td(name)] + [cell(float(metas[m]["estimate"][e])) for m in metas]
                    + [cell(float(metas[m]["se"][e])) for m in metas])
    return table("methods-table", header, rows, "All MR methods of the run, meta-analysed (estimate and se)")


PROVENANCE_ORDER = ["format", "format_version", "deepmr_version", "model", "model_sha256", "plan_sha256", "outcome",
                    "outcome_output", "methods", "seed", "mc_samples", "bootstrap", "input_length", "alphabet",
                    "reverse_complement", "engine", "backend", "tau2", "region_source", "regions_total", "units_total",
                    "units_done", "units_failed", "complete", "started", "finished", "attempts", "ranks",
                    "main_loop_seconds", "config_path", PLANTED_ATTRIBUTE]


def provenance_html(store, store_path):
    a = store.attrs
    keys = [k for k in PROVENANCE_ORDER if k in a] + sorted(k for k in a if k not in PROVENANCE_ORDER
                                                              and k not in ("config", "versions"))
    rows = [[td("store file"), td(os.path.abspath(store_path))]]
    rows += [[td(k), td(a[k])] for k in keys]
    out = [table("provenance", ["attribute", "value"], rows, "Root attributes of the store")]
    out.append("<h3>Versions</h3>\n<pre id=\"versions\">%s</pre>" % esc(a.get("versions", "(not recorded)")))
    out.append("<h3>Config (verbatim)</h3>\n<pre id=\"config\">%s</pre>" % esc(a.get("config", "(not recorded)")))
    return "\n".join(out)


def units_html(store, method, limit=200):
    """Units that are not done or whose fit is not ok, with the reason."""
    status_names = {STATUS["pending"]: "pending", STATUS["ok"]: "done", STATUS["failed"]: "failed"}
    fit_names = {STATUS["pending"]: "pending", STATUS["ok"]: "ok", STATUS["not_estimable"]: "not estimable",
                 STATUS["failed"]: "failed"}
    unit_reasons = store.unit_reasons()
    fit_status = fit_reasons = None
    if method is not None:
        fit_status = store.fit_status(method)
        if fit_status is not None:
            fit_reasons = store.fit_reasons(method)
    bad = [u for u in range(len(store.unit_status))
           if store.unit_status[u] != STATUS["ok"] or (fit_status is not None and fit_status[u] != STATUS["ok"])]
    if not bad:
        return "<p>Every unit is done and its %s fit is ok.</p>" % esc(method or "")
    rows = []
    for u in bad[:limit]:
        reason = unit_reasons[u] or (fit_reasons[u] if fit_reasons else "")
        rows.append([td(store.exposures[store.unit_exposure[u]]), td(store.region_label(int(store.unit_region[u]))),
                     td(status_names.get(int(store.unit_status[u]), str(store.unit_status[u]))),
                     td(fit_names.get(int(fit_status[u]), "?") if fit_status is not None else ""), td(reason)])
    out = table("units-table", ["exposure", "region", "unit", "%s fit" % (method or "fit"), "reason"], rows,
                "%d unit%s not done or not estimable" % (len(bad), "" if len(bad) == 1 else "s"))
    if len(bad) > limit:
        out += "<p class=\"note\">The first %d of %d are listed.</p>" % (limit, len(bad))
    return out


def mutation_maps_html(report, store, method):
    """The Mutation maps section: per exposure, its median-estimate and most extreme regions."""
    title = "Mutation maps"
    reason = None
    if method is None:
        reason = "the store holds no MR fits, so no region can be chosen"
    elif not store.has_effects:
        reason = ("the store holds no per-mutant effects (the run had run.store-effects = false); rerun with "
                  "--run.store-effects true to draw them")
    elif not store.has("effects/sequence"):
        reason = "the store's effects/ lacks effects/sequence (each region's window), so the bases are unknown"
    if reason is not None:
        report.skipped.append((title, reason))
        return '<div class="note skipped" id="mutation-maps-missing"><b>No mutation maps:</b> %s.</div>' % esc(reason)
    counts = np.bincount(store.unit_exposure[store.estimable_units(method)], minlength=len(store.exposures))
    exposures = [e for e in range(len(store.exposures)) if counts[e] > 0]
    parts = ['<p id="mutation-maps-intro">For each exposure, its median-estimate region (the lower median of its '
             'estimable %s estimates, the region of Figure 2d) and its most extreme region (the largest |estimate / '
             'se|): the in-silico saturation mutagenesis of the window as heatmaps of every substitution\'s effect '
             'on the exposure and on the outcome, each under a logo of the reference sequence scaled by its mean '
             'effect.</p>' % esc(figures.method_label(method))]
    missing = [store.exposures[e] for e in range(len(store.exposures)) if counts[e] == 0]
    if missing:
        parts.append('<div class="note">No estimable region, so no mutation map: %s.</div>' % esc(", ".join(missing)))
    if len(exposures) > mutation_maps.MAX_EXPOSURES:
        order = sorted(exposures, key=lambda e: (-counts[e], e))
        kept = sorted(order[:mutation_maps.MAX_EXPOSURES])
        parts.append('<div class="note">Maps of the %d exposures with the most estimable regions; left out: %s.</div>'
                     % (len(kept), esc(", ".join(store.exposures[e] for e in exposures if e not in kept))))
        exposures = kept
    names = unique_names(exposures, store)
    for e in exposures:
        name = store.exposures[e]
        try:
            chosen = mutation_maps.choose_units(store, method, e)
        except Skip as why:
            report.skipped.append(("Mutation maps of %s" % name, str(why)))
            parts.append('<div class="note skipped"><b>No mutation map of %s:</b> %s</div>' % (esc(name), esc(why)))
            continue
        for role, unit, estimate, z in chosen:
            filename = "mutmap_%s_%s.png" % (names[e], "extreme" if role == "most extreme" else "median")

            def make(e=e, unit=unit, role=role, estimate=estimate, z=z):
                return mutation_maps.mutation_map_figure(store, e, unit, method, role, estimate, z)
            parts.append(report.figure(filename, "Mutation map: %s, %s region" % (name, role), make))
    return "\n".join(parts)


def forest_html(report, store, method, planted):
    """The Forest plots section: per exposure with an estimable meta-analysis, its regions and the pooled effect."""
    if method is None:
        report.skipped.append(("Forest plots", "the store holds no MR fits"))
        return '<div class="note skipped" id="forest-missing"><b>No forest plots:</b> the store holds no MR fits.</div>'
    try:
        meta = store.meta(method)
    except Skip as why:
        report.skipped.append(("Forest plots", str(why)))
        return '<div class="note skipped" id="forest-missing"><b>No forest plots:</b> %s.</div>' % esc(why)
    exposures = [e for e in range(len(store.exposures))
                 if meta["status"][e] == STATUS["ok"] and np.isfinite(meta["estimate"][e])]
    parts = ['<p id="forest-intro">Per exposure, the regions its %s random-effects meta-analysis pools, each with '
             'its estimate, 95%% CI and weight, and the pooled effect as a diamond (metafor\'s forest plot).</p>'
             % esc(figures.method_label(method))]
    missing = [store.exposures[e] for e in range(len(store.exposures)) if e not in exposures]
    if missing:
        parts.append('<div class="note">No estimable meta-analysis, so no forest plot: %s.</div>'
                     % esc(", ".join(missing)))
    if len(exposures) > forest.MAX_EXPOSURES:
        k = meta["k"]
        kept = sorted(sorted(exposures, key=lambda e: (-k[e], e))[:forest.MAX_EXPOSURES])
        parts.append('<div class="note">Forest plots of the %d exposures with the most pooled regions; left out: '
                     '%s.</div>' % (len(kept), esc(", ".join(store.exposures[e] for e in exposures if e not in kept))))
        exposures = kept
    names = unique_names(exposures, store)
    for e in exposures:
        name = store.exposures[e]

        def make(e=e, name=name):
            return forest.forest_figure(store, e, method, planted.get(name))
        parts.append(report.figure("forest_%s.png" % names[e], "Forest plot: %s" % name, make))
    return "\n".join(parts)


def scaling_html(report, paths):
    parts = []
    used = set()
    for path in paths:
        modes = scaling_plots.read_csv(path)
        for mode, rows in modes.items():
            filename = "scaling_%s.png" % safe_name(mode)
            k = 2
            while filename in used:
                filename = "scaling_%s_%d.png" % (safe_name(mode), k)
                k += 1
            used.add(filename)
            holder = {}

            def make(rows=rows, mode=mode):
                fig, caption, d = scaling_plots.scaling_figure(rows, mode, path)
                holder["d"] = d
                return fig, caption
            parts.append(report.figure(filename, "Scaling (%s) from %s" % (mode, os.path.basename(path)), make))
            d = holder.get("d") or scaling_plots.derived(rows, mode)
            table_rows = [[td(r["mode"]), cell(r["ranks"]), cell(r["workers"]), cell(r["units"]), td(r["repeats"]),
                           cell(r["seconds"], 4), cell(x["speedup"], 4), cell(x["ideal"], 4), cell(r["efficiency"], 4),
                           td(" ".join("%.4g" % t for t in r["seconds_all"]))] for r, x in zip(rows, d)]
            parts.append(table("scaling-%s" % os.path.splitext(filename)[0],
                               ["mode", "ranks", "workers", "units", "repeats", "seconds (median)", "speed-up",
                                "ideal", "efficiency", "seconds (all repeats)"], table_rows,
                               "%s scaling, %s" % (esc(mode), esc(os.path.basename(path)))))
    return "\n".join(parts)


# ---- main -----------------------------------------------------------------------------------------
def build(args):
    store = Store(args.store)
    try:
        return build_from(store, args)
    finally:
        store.close()


def build_from(store, args):
    for path in args.scaling:  # validate inputs before writing anything
        scaling_plots.read_csv(path)
    planted, planted_source, notes = planted_effects(store, args.planted)
    method = args.method
    if method is None:
        method = store.methods[0] if store.methods else None
    elif method not in store.methods:
        raise UsageError("--method %s: the store has no fits for it (it has: %s)"
                         % (method, ", ".join(store.methods) or "none"))
    chosen = choose_exposures(store, method, args.exposures)
    try:
        os.makedirs(args.out, exist_ok=True)
        probe = os.path.join(args.out, ".report-write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise UnusableInput("%s: cannot write the report there: %s" % (args.out, error.strerror or error))
    clean_previous(args.out)
    report = Report(args.out)
    rule = args.bandwidth
    mlabel = figures.method_label(method) if method else "MR"

    body = []
    if method is None:
        notes.append("the store holds no MR fits (no fits/ group): the figures of estimates are skipped")

    # Figure 2: densities
    def overall():
        if method is None:
            raise Skip("the store holds no MR fits")
        x, _ = store.estimates(method)
        if len(x) < 2:
            raise Skip("%d estimable region%s across all exposures: a density needs at least 2"
                       % (len(x), "" if len(x) == 1 else "s"))
        return figures.kde_figure(x, "(a) All exposures: per-region %s estimates" % mlabel, method, rule)
    names = unique_names(chosen, store)
    fig2 = [report.figure("fig2a_kde_all.png", "Figure 2a: density of per-region estimates, all exposures", overall)]
    index = 1
    for e in chosen:
        name = store.exposures[e]

        def one(e=e, name=name, tag=letter(index)):
            if method is None:
                raise Skip("the store holds no MR fits")
            x, _ = store.estimates(method, e)
            if len(x) < 2:
                raise Skip("%s has %d estimable region%s for %s: a density needs at least 2"
                           % (name, len(x), "" if len(x) == 1 else "s", method))
            return figures.kde_figure(x, "(%s) %s: per-region %s estimates" % (tag, name, mlabel), method, rule,
                                      planted.get(name))
        fig2.append(report.figure("fig2%s_kde_%s.png" % (letter(index), names[e]),
                                  "Figure 2%s: density of per-region estimates, %s" % (letter(index), name), one))
        index += 1
    for e in chosen:
        name = store.exposures[e]

        def scatter(e=e, tag=letter(index)):
            if method is None:
                raise Skip("the store holds no MR fits")
            return figures.scatter_figure(store, e, method, tag)
        fig2.append(report.figure("fig2%s_scatter_%s.png" % (letter(index), names[e]),
                                  "Figure 2%s: instruments of %s's median-estimate region" % (letter(index), name),
                                  scatter))
        index += 1
    if not chosen:
        notes.append("no exposure has an estimable region: no per-exposure panels")

    # Figure 3 and the tables
    def fig3():
        if method is None:
            raise Skip("the store holds no MR fits")
        return figures.meta_figure(store, method, planted)
    fig3_html = report.figure("fig3_meta_%s.png" % safe_name(method or "none"),
                              "Figure 3: per-exposure meta-analysed effects", fig3)
    # Several outcomes: Figure 3 of each further one, and the network's matrix and edges.
    for o in range(1, len(store.outcomes)):
        def fig3_of(o=o):
            if method is None:
                raise Skip("the store holds no MR fits")
            return figures.meta_figure(store, method, None, o)
        fig3_html += report.figure("fig3_meta_%s_%s.png" % (safe_name(method or "none"), safe_name(store.outcomes[o])),
                                   "Figure 3, outcome %s: per-exposure meta-analysed effects" % store.outcomes[o], fig3_of)
    network_html = ""
    if len(store.outcomes) > 1 and method is not None:
        network_html = "\n".join([
            "<h2 id=\"network\">Network: every (exposure, outcome) pair</h2>",
            report.figure("network_matrix_%s.png" % safe_name(method), "Network: pooled effect of every pair",
                          lambda: network.matrix_figure(store, method)),
            report.figure("network_edges_%s.png" % safe_name(method), "Network: pairs whose interval excludes 0",
                          lambda: network.graph_figure(store, method))])
        write_pairs_tsv(report, store, method)
    meta_table = ""
    if method is not None:
        try:
            meta_table, meta = meta_html(store, method, planted)
            write_meta_tsv(report, store, method, meta, planted)
        except Skip as reason:
            meta_table = '<div class="note">Meta-analysis table not available: %s</div>' % esc(reason)
            report.skipped.append(("meta-analysis table", str(reason)))
    summary = None
    if method is not None:
        summary = summary_module.summarize(store, method, rule, planted)
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, allow_nan=False, default=str)
        report.files.append("summary.json")

    title = "Deep MR report: %s" % os.path.basename(args.store)
    body.append("<h1>%s</h1>" % esc(title))
    body.append('<p class="meta">Generated %s by analysis/report.py from <code>%s</code>; deepmr %s; method %s; '
                'outcome %s; %d exposures.</p>' % (
                    esc(datetime.datetime.now().strftime("%Y-%m-%d %H:%M")), esc(os.path.abspath(args.store)),
                    esc(store.attrs.get("deepmr_version", "?")), esc(mlabel), esc(", ".join(store.outcomes)),
                    len(store.exposures)))
    body.append(completeness_html(store))
    if planted:
        body.append('<p id="planted-source">Planted effects (%d exposures) from %s are marked in red.</p>'
                    % (len(planted), esc(planted_source)))
    for note in notes:
        body.append('<div class="note">%s</div>' % esc(note))
    body.append("<h2>Summary</h2>")
    body.append(summary_html(summary, planted) if summary else '<div class="note">No MR fits: no summary.</div>')
    body.append("<h2>Figure 2: per-region causal estimates</h2>")
    body.extend(fig2)
    body.append("<h2>Figure 3: per-exposure causal effects</h2>")
    body.append(fig3_html)
    body.append(meta_table)
    if network_html:
        body.append(network_html)
    body.append('<h2 id="forest-plots">Forest plots</h2>')
    body.append(forest_html(report, store, method, planted))
    body.append(methods_html(store))
    body.append('<h2 id="mutation-maps">Mutation maps</h2>')
    body.append(mutation_maps_html(report, store, method))
    if args.scaling:
        body.append("<h2>Scaling</h2>")
        body.append(scaling_html(report, args.scaling))
    body.append("<h2>Units not done or not estimable</h2>")
    body.append(units_html(store, method))
    if report.skipped or report.internal:
        items = ["<li><b>%s</b>: %s</li>" % (esc(t), esc(r)) for t, r in report.skipped]
        items += ["<li><b>%s</b> (internal error): %s</li>" % (esc(t), esc(r)) for t, r in report.internal]
        body.append('<h2>Notes</h2>\n<ul id="skipped">%s</ul>' % "\n".join(items))
    body.append("<h2>Provenance</h2>")
    body.append(provenance_html(store, args.store))

    document = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n"
                "<style>%s</style>\n</head>\n<body>\n%s\n</body>\n</html>\n" % (esc(title), STYLE, "\n".join(body)))
    with open(os.path.join(args.out, "report.html"), "w", encoding="utf-8") as f:
        f.write(document)
    report.files.append("report.html")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"store": os.path.abspath(args.store), "method": method, "files": report.files + ["manifest.json"],
                   "figures": [name for name, _ in report.figures],
                   "skipped": [{"figure": t, "reason": r} for t, r in report.skipped],
                   "internal_errors": [{"figure": t, "error": r} for t, r in report.internal]}, f, indent=1)
    return report


def write_pairs_tsv(report, store, method):
    """pairs_<method>.tsv: every fitted (exposure, outcome) pair's meta-analysis and direction test."""
    name = "pairs_%s.tsv" % safe_name(method)
    meta = store.meta_pairs(method)
    try:
        direction = store.direction_pairs()
    except Skip:
        direction = None
    with open(os.path.join(report.out, name), "w") as f:
        f.write("\t".join(["exposure", "outcome"] + list(META_COLUMNS) + ["status", "direction", "direction_pvalue"])
                + "\n")
        for e, exposure in enumerate(store.exposures):
            for o, outcome in enumerate(store.outcomes):
                if store.self_pair(e, o):
                    continue
                r = e * len(store.outcomes) + o
                d = ["", ""] if direction is None else [repr(float(direction["estimate"][r])),
                                                        repr(float(direction["pvalue"][r]))]
                f.write("\t".join([exposure, outcome] + [repr(float(meta[c][r])) for c in META_COLUMNS]
                                  + ["ok" if meta["status"][r] == STATUS["ok"] else "not estimable"] + d) + "\n")
    report.files.append(name)


def write_meta_tsv(report, store, method, meta, planted):
    name = "meta_%s.tsv" % safe_name(method)
    with open(os.path.join(report.out, name), "w") as f:
        f.write("\t".join(["exposure"] + list(META_COLUMNS) + ["status", "planted"]) + "\n")
        for e, exposure in enumerate(store.exposures):
            p = planted.get(exposure)
            f.write("\t".join([exposure] + [repr(float(meta[c][e])) for c in META_COLUMNS]
                              + ["ok" if meta["status"][e] == STATUS["ok"] else "not estimable",
                                 "" if p is None else repr(p)]) + "\n")
    report.files.append(name)


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        report = build(args)
    except UsageError as error:
        print("%s: error: %s" % (PROG, error), file=sys.stderr)
        return EXIT_USAGE
    except UnusableInput as error:
        print("%s: error: %s" % (PROG, error), file=sys.stderr)
        return EXIT_INPUT
    print("%s: wrote %s (%d figure%s%s)" % (
        PROG, os.path.join(args.out, "report.html"), len(report.figures), "" if len(report.figures) == 1 else "s",
        (", %d skipped: see its notes" % len(report.skipped)) if report.skipped else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
