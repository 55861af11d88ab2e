"""Speed-up and parallel efficiency from the CSV of jobs/scaling/scaling.py.

Columns: mode, ranks, workers, units, repeats, seconds (median main-loop seconds), units_per_second,
efficiency, seconds_all (every repeat, space-separated). Worker ranks w = P - 1 for P > 1 (rank 0
coordinates); base = the row with the fewest workers of that mode.

  strong  speed-up = t_base / t, ideal w / w_base; efficiency as the CSV gives it,
          (t_base w_base) / (t w)
  weak    scaled speed-up = throughput / throughput_base (units per second), ideal w / w_base;
          efficiency as the CSV gives it, t_base / t
Error bars: the fastest and slowest repeat (seconds_all).
"""
import csv
import math
import os

import numpy as np

import figures
from deepmr_store import Skip, UnusableInput

REQUIRED = ("mode", "ranks", "workers", "units", "seconds", "efficiency")


def read_csv(path):
    """{mode: [row dicts sorted by workers]}; UnusableInput for a missing or malformed file."""
    if not os.path.exists(path):
        raise UnusableInput("%s: no such file" % path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise UnusableInput("%s: not a scaling CSV of jobs/scaling/scaling.py (lacks the column%s %s)"
                                    % (path, "s" if len(missing) > 1 else "", ", ".join(missing)))
            rows = []
            for number, raw in enumerate(reader, 2):
                try:
                    row = {"mode": raw["mode"].strip(), "ranks": int(raw["ranks"]), "workers": int(raw["workers"]),
                           "units": int(raw["units"]), "seconds": float(raw["seconds"]),
                           "efficiency": float(raw["efficiency"]), "repeats": raw.get("repeats") or "",
                           "seconds_all": [float(s) for s in (raw.get("seconds_all") or "").split()]}
                except (TypeError, ValueError, AttributeError):
                    raise UnusableInput("%s: line %d: not a scaling row (numbers expected)" % (path, number))
                if not (row["seconds"] > 0 and row["workers"] > 0 and math.isfinite(row["seconds"])):
                    raise UnusableInput("%s: line %d: seconds and workers must be positive" % (path, number))
                rows.append(row)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UnusableInput("%s: cannot read: %s" % (path, error))
    if not rows:
        raise UnusableInput("%s: a scaling CSV with no rows" % path)
    modes = {}
    for row in rows:
        modes.setdefault(row["mode"], []).append(row)
    return {mode: sorted(group, key=lambda r: (r["workers"], r["ranks"])) for mode, group in modes.items()}


def derived(rows, mode):
    """Speed-up, its range over repeats, and ideal speed-up, per row."""
    base = rows[0]
    out = []
    for row in rows:
        times = row["seconds_all"] or [row["seconds"]]
        if mode == "weak":
            speed = (row["units"] / row["seconds"]) / (base["units"] / base["seconds"])
            lo = (row["units"] / max(times)) / (base["units"] / base["seconds"])
            hi = (row["units"] / min(times)) / (base["units"] / base["seconds"])
        else:
            speed = base["seconds"] / row["seconds"]
            lo, hi = base["seconds"] / max(times), base["seconds"] / min(times)
        out.append({"speedup": speed, "speedup_low": lo, "speedup_high": hi,
                    "ideal": row["workers"] / base["workers"]})
    return out


def scaling_figure(rows, mode, source):
    if len(rows) < 2:
        raise Skip("%s: %s scaling needs at least two rank counts (it has %d)" % (source, mode, len(rows)))
    d = derived(rows, mode)
    workers = np.array([r["workers"] for r in rows], dtype=float)
    speed = np.array([x["speedup"] for x in d])
    err = np.array([[x["speedup"] - x["speedup_low"] for x in d], [x["speedup_high"] - x["speedup"] for x in d]])
    eff = np.array([r["efficiency"] for r in rows])

    fig = figures.new_figure(figures.SCALING_PIXELS)
    left, right = fig.subplots(1, 2)
    ticks = ["%d\n(P=%d)" % (r["workers"], r["ranks"]) for r in rows]
    left.plot(workers, [x["ideal"] for x in d], color="grey", linestyle="--", label="ideal")
    left.errorbar(workers, speed, yerr=np.maximum(err, 0), fmt="o-", color=figures.DARK_BLUE, capsize=3,
                  label="measured (bars: fastest and slowest repeat)")
    left.set_ylabel("scaled speed-up (throughput)" if mode == "weak" else "speed-up")
    left.set_title("%s scaling: speed-up vs %d worker%s" % (mode, rows[0]["workers"],
                                                            "s" if rows[0]["workers"] > 1 else ""), fontsize=10)
    right.axhline(1.0, color="grey", linestyle="--", label="ideal")
    right.plot(workers, eff, "o-", color=figures.ORANGE, label="parallel efficiency")
    right.set_ylim(0, max(1.1, float(np.nanmax(eff)) * 1.1))
    right.set_ylabel("parallel efficiency")
    right.set_title("%s scaling: efficiency" % mode, fontsize=10)
    for ax in (left, right):
        ax.set_xticks(workers)
        ax.set_xticklabels(ticks, fontsize=8)
        ax.set_xlabel("worker ranks (P = MPI ranks)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    units = sorted(set(r["units"] for r in rows))
    caption = ("%s scaling from %s: %s units per point; main-loop seconds (median of repeats) of deepmr run at "
               "%s ranks. " % (mode.capitalize(), os.path.basename(source), "/".join(str(u) for u in units),
                               ", ".join(str(r["ranks"]) for r in rows)))
    caption += ("Speed-up t(base)/t against the fewest workers; efficiency (t_base w_base)/(t w)." if mode != "weak" else
                "Scaled speed-up: throughput relative to the fewest workers; efficiency t_base/t.")
    return fig, caption, d
