"""The numbers of the paper's results paragraph, from a store.

Over all exposures' per-region causal estimates of one MR method (done units whose fit is ok):
count, quartiles (numpy's linear quantiles = R's type 7), median, mode of the kernel density (kde.py),
the count of negative estimates and of estimates with p < 0.05 (the stored fit p-values); and the
same per exposure with its meta-analysed effect (read from meta/<method>, not recomputed).
"""
import numpy as np

import kde
from deepmr_store import STATUS, Skip

SIGNIFICANCE = 0.05


def finite(value):
    value = float(value)
    return value if np.isfinite(value) else None


def describe(x, rule):
    """Numbers for one set of estimates (mode, bandwidth are None below 2 estimates or no spread)."""
    x = np.asarray(x, dtype=np.float64)
    out = {"n": int(len(x)), "negative": int(np.sum(x < 0)), "q1": None, "median": None, "q3": None,
           "min": None, "max": None, "mode": None, "bandwidth": None}
    if len(x) == 0:
        return out
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    out.update(q1=float(q1), median=float(median), q3=float(q3), min=float(x.min()), max=float(x.max()))
    try:
        h = kde.bandwidth(x, rule)
        out.update(bandwidth=h, mode=kde.mode(x, h))
    except Skip:
        pass
    return out


def summarize(store, method, rule="silverman", planted=None):
    """{'method', 'overall': describe(...), 'exposures': [per-exposure dicts]}."""
    planted = planted or {}
    store.require_method(method)
    estimates, units = store.estimates(method)
    try:
        pvalues = store.fit_column(method, "pvalue").astype(np.float64)
    except Skip:
        pvalues = np.full(len(store.unit_status), np.nan)
    overall = describe(estimates, rule)
    overall["significant"] = int(np.sum(pvalues[units] < SIGNIFICANCE))
    overall["exposures"] = int(len(set(store.unit_exposure[units].tolist())))
    try:
        meta = store.meta(method)
    except Skip:
        meta = None
    sampled = store.units_per_exposure()
    done = np.bincount(store.unit_exposure[store.unit_status == STATUS["ok"]], minlength=len(store.exposures))
    rows = []
    for e, name in enumerate(store.exposures):
        mask = store.unit_exposure[units] == e
        row = describe(estimates[mask], rule)
        row.update(exposure=name, units=int(sampled[e]), done=int(done[e]),
                   significant=int(np.sum(pvalues[units][mask] < SIGNIFICANCE)),
                   meta_estimate=None, meta_se=None, meta_tau=None, planted=planted.get(name))
        if meta is not None and meta["status"][e] == STATUS["ok"]:
            row.update(meta_estimate=finite(meta["estimate"][e]), meta_se=finite(meta["se"][e]),
                       meta_tau=finite(meta["tau"][e]))
        rows.append(row)
    return {"method": method, "bandwidth_rule": rule if isinstance(rule, str) else "fixed",
            "significance": SIGNIFICANCE, "overall": overall, "exposures": rows}
