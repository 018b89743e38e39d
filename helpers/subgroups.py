"""Metrics with patient-level bootstrap confidence intervals, overall and per subgroup (notebook 07, steps 1-2).

A test set of images is usually a set of *patients*, several images each; images of one patient are
alike, so resampling images pretends there is more information than there is. This module resamples
**patients** (a cluster bootstrap): each bootstrap draw picks patients with replacement (within the
sick and the healthy patients separately, so both classes are always present) and gives every image
the weight "how often its patient was drawn". All metrics are then computed for all draws at once
from a weight matrix ``W`` of shape ``(n_boot, n_cases)``.

>>> import numpy as np
>>> from helpers import subgroups
>>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.4, 0.35, 0.8])
>>> float(subgroups.weighted_metric("auc", y, s, np.ones((1, 4)))[0])
0.75

Where every image is its own patient (PneumoniaMNIST has no patient ids), pass ``patients=None``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .metrics import Interval, MetricInputError, _patient_ids, check_binary, patient_weights, weighted_auc

METRICS = ("auc", "sensitivity", "specificity", "accuracy", "brier", "ece")


class SubgroupInputError(MetricInputError):
    """Groups, patients or metric names that the subgroup functions cannot use; the message says what to fix."""


# ---------------------------------------------------------------- weighted metrics (one row per bootstrap draw)
def weighted_metric(name: str, y_true: Any, score: Any, weights: Any, threshold: float = 0.5, pos_label: int = 1,
                    n_bins: int = 10) -> np.ndarray:
    """One metric for every row of ``weights`` (shape ``(n_draws, n_cases)``): a vector of ``n_draws`` values.

    Taught in notebook 07, steps 1-2 (the engine of every interval there).
    name: ``"auc"``, ``"sensitivity"``, ``"specificity"``, ``"accuracy"`` (decisions ``score >= threshold``),
    ``"brier"`` or ``"ece"`` (score must then be a probability; ECE with ``n_bins`` equal-width bins,
    as :func:`helpers.metrics.calibration`). A row of ones gives the ordinary, unweighted metric.
    A value is NaN where its denominator is 0 (e.g. sensitivity without positive cases).
    """
    if name not in METRICS:
        raise SubgroupInputError(f"unknown metric {name!r}; use one of {', '.join(METRICS)}.")
    positive, s = check_binary(y_true, score, pos_label=pos_label, need_both=False,
                               probabilities=name in ("brier", "ece"))
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = w[None]
    if w.ndim != 2 or w.shape[1] != len(s):
        raise SubgroupInputError(f"weights must be (n_draws, {len(s)}), one weight per case and draw; got {w.shape}.")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise SubgroupInputError("weights must be finite and non-negative (how often each case was drawn).")
    flag = s >= threshold
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "auc":
            return weighted_auc(positive, s, w)
        if name == "sensitivity":
            return (w * (positive & flag)).sum(1) / (w * positive).sum(1)
        if name == "specificity":
            return (w * (~positive & ~flag)).sum(1) / (w * ~positive).sum(1)
        if name == "accuracy":
            return (w * (positive == flag)).sum(1) / w.sum(1)
        if name == "brier":
            return (w * (s - positive) ** 2).sum(1) / w.sum(1)
        # ece: count-weighted mean |observed share - mean prediction| over equal-width bins
        edges = np.linspace(0, 1, n_bins + 1)
        b = np.clip(np.searchsorted(edges[1:-1], s, side="left"), 0, n_bins - 1)
        onehot = np.zeros((len(s), n_bins))
        onehot[np.arange(len(s)), b] = 1.0
        p_b, y_b = (w * s) @ onehot, (w * positive) @ onehot
        return np.abs(y_b - p_b).sum(1) / w.sum(1)


# ---------------------------------------------------------------- the patient-level bootstrap
# patient_weights (helpers.metrics): the one patient-level resampling of the course; every interval here uses it.


def bootstrap_metric(name: str, y_true: Any, score: Any, patients: Any = None, n_boot: int = 1000, level: float = 0.95,
                     seed: int = 0, threshold: float = 0.5, pos_label: int = 1, weights: Any = None) -> Interval:
    """A metric with a percentile bootstrap CI over patients (see :func:`helpers.metrics.patient_weights`).

    Taught in notebook 07, steps 1-2. ``weights``: reuse a weight matrix (so that several metrics or
    models share the same resamples, a paired comparison); otherwise drawn from ``patients`` and ``seed``.
    """
    if not 0 < level < 1:
        raise SubgroupInputError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    if weights is None:
        weights = patient_weights(y_true, patients, n_boot, seed, pos_label)
    est = float(weighted_metric(name, y_true, score, np.ones((1, len(np.asarray(score)))), threshold, pos_label)[0])
    boots = weighted_metric(name, y_true, score, weights, threshold, pos_label)
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return Interval(est, float("nan"), float("nan"), level, int(np.shape(weights)[0]))
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return Interval(est, float(lo), float(hi), level, int(np.shape(weights)[0]))


# ---------------------------------------------------------------- subgroups
def subgroup_table(y_true: Any, score: Any, groups: Any, patients: Any = None, threshold: float = 0.5,
                   n_boot: int = 1000, level: float = 0.95, seed: int = 0, pos_label: int = 1,
                   metrics: tuple[str, ...] = ("sensitivity", "specificity", "auc")) -> list[dict[str, Any]]:
    """Per-subgroup metrics with patient-level bootstrap CIs, plus an ``"all"`` row first.

    Taught in notebook 07, step 2.
    groups: one subgroup name per case (e.g. ``"site B"``, ``"dark lesion"``). A group may hold
    positive cases only (a lesion property: healthy patients have no lesion); its AUC then compares
    its positives with **all** negative cases of the set, and its specificity is NaN (not applicable).
    All groups share the same resamples of patients (drawn once over the whole set), so their
    intervals are comparable. Returns one dict per row: ``group``, ``n`` (cases), ``n_patients``,
    ``n_pos``, ``n_neg`` and an :class:`~helpers.metrics.Interval` per metric.
    """
    positive, s = check_binary(y_true, score, pos_label=pos_label)
    g = np.asarray(groups)
    if g.ndim != 1 or len(g) != len(s):
        raise SubgroupInputError(f"groups must be one subgroup name per case, shape ({len(s)},); got {g.shape}.")
    for m in metrics:
        if m not in METRICS:
            raise SubgroupInputError(f"unknown metric {m!r}; use one of {', '.join(METRICS)}.")
    pid = _patient_ids(patients, len(s))
    W = patient_weights(positive.astype(int), pid, n_boot, seed)
    y01 = positive.astype(int)
    rows = []
    names = ["all"] + [str(v) for v in dict.fromkeys(g.tolist())]
    for name in names:
        in_group = np.ones(len(s), dtype=bool) if name == "all" else g.astype(str) == name
        n_pos, n_neg = int((in_group & positive).sum()), int((in_group & ~positive).sum())
        row: dict[str, Any] = {"group": name, "n": int(in_group.sum()), "n_patients": len(np.unique(pid[in_group])),
                               "n_pos": n_pos, "n_neg": n_neg}
        for m in metrics:
            nan = Interval(float("nan"), float("nan"), float("nan"), level, n_boot)
            if m == "auc":
                if n_pos == 0:
                    row[m] = nan
                    continue
                sel = in_group | (~positive if n_neg == 0 else np.zeros_like(in_group))
            else:
                sel = in_group
            if (m == "sensitivity" and n_pos == 0) or (m == "specificity" and n_neg == 0):
                row[m] = nan
                continue
            row[m] = bootstrap_metric(m, y01[sel], s[sel], threshold=threshold, level=level, weights=W[:, sel])
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]], metrics: tuple[str, ...] = ("sensitivity", "specificity", "auc"),
                 width: int = 14) -> str:
    """The rows of :func:`subgroup_table` as a plain-text table (3 decimals; "n/a" where not applicable).

    Taught in notebook 07, step 2.
    """
    head = f"{'subgroup':<{width}} {'images':>6} {'patients':>8}  " + "  ".join(f"{m:<21}" for m in metrics)
    lines = [head]
    for r in rows:
        cells = []
        for m in metrics:
            iv = r[m]
            cells.append(f"{'n/a':<21}" if not np.isfinite(iv.estimate) else
                         f"{iv.estimate:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
        lines.append(f"{r['group']:<{width}} {r['n']:>6} {r['n_patients']:>8}  " + "  ".join(cells))
    return "\n".join(lines)


def per_class_recall(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Recall (sensitivity) of each class of a multi-class problem: the share of class k predicted as k.

    Taught in notebook 07, step 2 (the table that belongs next to every macro-AUC). NaN for a class
    absent from ``y_true``.
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or t.shape != p.shape:
        raise SubgroupInputError(f"y_true and y_pred must be 1D and the same length; got {t.shape} and {p.shape}.")
    if not (np.issubdtype(t.dtype, np.integer) and np.issubdtype(p.dtype, np.integer)):
        raise SubgroupInputError("y_true and y_pred must be integer class indices (argmax of the probabilities).")
    k = int(n_classes if n_classes is not None else max(t.max(), p.max()) + 1)
    hits = np.bincount(t[t == p], minlength=k)[:k].astype(float)
    total = np.bincount(t, minlength=k)[:k].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / total
