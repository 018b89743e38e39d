"""Evaluation of binary classifiers the way a clinical reader needs it (notebook 04).

Built on scikit-learn: confusion matrix, ROC AUC, Brier score and calibration curve come
from ``sklearn.metrics`` / ``sklearn.calibration``; this module adds input checks with clear
messages, the clinical names (sensitivity, specificity, PPV, NPV), seeded bootstrap
confidence intervals, PPV versus prevalence, the logit, MedMNIST's AUC and accuracy, and the
patient-level bootstrap. (The threshold figure is in :mod:`helpers.plots`, its slider in :mod:`helpers.widgets`.)

>>> from helpers import metrics
>>> metrics.clinical_metrics([0, 0, 1, 1], [0, 1, 1, 1])["sensitivity"]
1.0

``pos_label`` is the label of the *disease* (positive) class everywhere; mind BreastMNIST and
the Wisconsin breast cancer set, where it is 0 (malignant).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class MetricInputError(ValueError):
    """Labels, scores or probabilities that a metric cannot use; the message says what to fix."""


# ---------------------------------------------------------------- input checks
def check_binary(y_true: Any, y_score: Any = None, pos_label: int = 1, probabilities: bool = False,
                 need_both: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate binary labels (and optional scores); return ``(is_positive, scores)``.

    y_true: 1D labels with at most two distinct values, one of them ``pos_label``.
    y_score: 1D scores of the same length (optional); finite numbers.
    probabilities: also require every score to lie in [0, 1].
    need_both: require both classes to be present (ROC AUC, bootstrap need them).
    Returns the labels as a boolean array (True = positive class) and the scores as float64.
    """
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) == 0:
        raise MetricInputError(f"y_true must be a non-empty 1D array of labels; got shape {y.shape}.")
    classes = np.unique(y)
    if len(classes) > 2:
        raise MetricInputError(f"y_true has {len(classes)} classes {classes[:5].tolist()}...; these metrics are "
                               "for two classes (binarise first, e.g. y == disease_label).")
    if pos_label not in classes and (need_both or len(classes) == 2):
        raise MetricInputError(f"pos_label {pos_label!r} is not among the labels {classes.tolist()}; "
                               "set pos_label to the label of the disease class.")
    if need_both and len(classes) < 2:
        raise MetricInputError(f"y_true holds one class only ({classes.tolist()}); sensitivity, specificity and "
                               "AUC need positive and negative cases. Use a larger or stratified sample.")
    positive = y == pos_label
    if y_score is None:
        return positive, None
    s = np.asarray(y_score, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise MetricInputError(f"scores must be 1D (one per case); got shape {s.shape}. For a softmax output "
                               "of shape (N, 2) pass probs[:, pos_label].")
    if len(s) != len(y):
        raise MetricInputError(f"y_true and scores differ in length: {len(y)} labels vs {len(s)} scores.")
    if not np.all(np.isfinite(s)):
        raise MetricInputError(f"scores contain {int(np.sum(~np.isfinite(s)))} NaN or infinite values.")
    if probabilities and (s.min() < 0 or s.max() > 1):
        raise MetricInputError(f"probabilities must lie in [0, 1]; got values from {s.min():.3g} to {s.max():.3g}. "
                               "Pass probabilities (e.g. a sigmoid or softmax output), not logits.")
    return positive, s


def _check_fraction(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise MetricInputError(f"{name} must be a fraction in [0, 1]; got {value!r}.")
    return arr


# ---------------------------------------------------------------- confusion-matrix metrics
def clinical_metrics(y_true: Any, y_pred: Any, pos_label: int = 1) -> dict[str, float]:
    """Counts and rates of a binary confusion matrix (scikit-learn's), under their clinical names.

    Returns a dict with ``tp, fp, tn, fn``, ``sensitivity`` (= recall), ``specificity``,
    ``ppv`` (= precision), ``npv``, ``f1``, ``accuracy`` and ``prevalence``. A rate whose
    denominator is 0 is NaN.
    """
    from sklearn.metrics import confusion_matrix

    positive, _ = check_binary(y_true, pos_label=pos_label, need_both=False)
    pred = np.asarray(y_pred)
    if pred.shape != positive.shape:
        raise MetricInputError(f"y_true and y_pred differ in shape: {positive.shape} vs {pred.shape}.")
    pred_classes = set(np.unique(pred).tolist())
    true_classes = set(np.unique(np.asarray(y_true).ravel()).tolist())
    if len(pred_classes | true_classes) > 2:
        raise MetricInputError(f"y_pred uses labels {sorted(pred_classes)} besides y_true's {sorted(true_classes)}; "
                               "threshold scores into the same two labels first.")
    tn, fp, fn, tp = confusion_matrix(positive, pred == pos_label, labels=[False, True]).ravel()

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else float("nan")

    sens, ppv = ratio(tp, tp + fn), ratio(tp, tp + fp)
    return {
        "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
        "sensitivity": sens, "specificity": ratio(tn, tn + fp), "ppv": ppv, "npv": ratio(tn, tn + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn), "accuracy": ratio(tp + tn, tp + tn + fp + fn),
        "prevalence": ratio(tp + fn, tp + tn + fp + fn),
    }


def ppv_npv_at_prevalence(sensitivity: float, specificity: float, prevalence: Any) -> tuple[np.ndarray, np.ndarray]:
    """PPV and NPV of a test with given sensitivity and specificity at other prevalences (Bayes' rule).

    PPV = se·p / (se·p + (1−sp)(1−p)),  NPV = sp(1−p) / (sp(1−p) + (1−se)p).
    """
    se = _check_fraction("sensitivity", sensitivity)
    sp = _check_fraction("specificity", specificity)
    p = _check_fraction("prevalence", prevalence)
    with np.errstate(invalid="ignore", divide="ignore"):
        ppv = se * p / (se * p + (1 - sp) * (1 - p))
        npv = sp * (1 - p) / (sp * (1 - p) + (1 - se) * p)
    return ppv, npv


# ---------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap confidence interval (and, for a difference, a p-value)."""

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    p_value: float | None = None

    def __str__(self) -> str:
        p = "" if self.p_value is None else f", p ≈ {self.p_value:.3f}"
        return f"{self.estimate:.3f} ({self.level:.0%} CI {self.low:.3f} to {self.high:.3f}{p})"


def _stratified_indices(positive: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``n_boot`` bootstrap resamples (rows of indices), drawn within each class so both are always present."""
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise MetricInputError(f"n_boot must be an integer ≥ 100 (1000 is usual); got {n_boot!r}.")
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(positive), np.flatnonzero(~positive)
    return np.hstack([rng.choice(pos, (n_boot, len(pos))), rng.choice(neg, (n_boot, len(neg)))])


def _resampled_aucs(positive: np.ndarray, score: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """ROC AUC of every resample (a row of ``rows`` from :func:`_stratified_indices`) at once.

    Uses the Mann-Whitney form, AUC = (sum of the positives' ranks - n1(n1+1)/2) / (n1 n0), with
    tied scores given their mean rank (so a tie counts one half, as in ``roc_auc_score``, which
    the tests check it against). One vectorised ranking instead of ``n_boot`` calls of
    ``roc_auc_score``: about ten times faster for 1,000 resamples of 1,200 cases (0.15 s against 1.6 s).
    """
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    ranks = rankdata(score[rows], axis=1)  # the first n_pos columns of each row are positives
    return (ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise MetricInputError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")


def weighted_auc(positive: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``weights`` (shape ``(n_rows, n_cases)``): a Mann-Whitney AUC in which case i
    counts ``weights[k, i]`` times (a tie counting one half), i.e. ``roc_auc_score`` on the case list repeated
    by those counts. The engine of the patient-level bootstrap (:func:`patient_weights` gives the rows) and of
    :mod:`helpers.subgroups`. ``positive``: boolean per case. NaN for a row without positives or negatives.
    """
    order = np.argsort(score, kind="mergesort")
    s, pos, w = score[order], positive[order], weights[:, order]
    wn, wp = w * ~pos, w * pos
    cn = np.cumsum(wn, axis=1)
    start = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(start) - 1
    starts = np.flatnonzero(start)
    ends = np.r_[starts[1:], len(s)] - 1
    before = np.where(starts > 0, cn[:, np.maximum(starts - 1, 0)], 0.0)  # negatives' weight below each tie group
    tied = cn[:, ends] - before
    num = (wp * (before[:, group] + 0.5 * tied[:, group])).sum(axis=1)
    den = wp.sum(axis=1) * wn.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _bootstrap_aucs(positive: np.ndarray, scores: list[np.ndarray], n_boot: int, seed: int,
                    patients: Any) -> list[np.ndarray]:
    """The resampled AUCs of each of ``scores``, all on the same resamples (so a difference is paired):
    of cases (``patients`` None, :func:`_stratified_indices`) or of whole patients (:func:`patient_weights`)."""
    if patients is None:
        rows = _stratified_indices(positive, n_boot, seed)
        return [_resampled_aucs(positive, s, rows) for s in scores]
    weights = patient_weights(positive.astype(int), patients, n_boot, seed)
    return [weighted_auc(positive, s, weights) for s in scores]


def bootstrap_auc(y_true: Any, y_score: Any, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                  pos_label: int = 1, patients: Any = None) -> Interval:
    """ROC AUC with a percentile bootstrap confidence interval.

    Cases are resampled with replacement within each class (a stratified bootstrap, as pROC
    does), so every resample has both classes and the prevalence of the test set.
    patients: one patient id per case; then whole **patients** are resampled instead, the sick and the
    healthy ones separately, keeping their numbers (:func:`patient_weights`), and each resample's AUC counts
    every case as often as its patient was drawn. Images of one patient are alike, so treating them as
    independent cases gives too narrow an interval. ``None``: every case is its own patient (the case
    bootstrap above). Taught in 04, step 2 (first used in 01, step 8); with ``patients`` in 02, step 2.
    """
    from sklearn.metrics import roc_auc_score

    _check_level(level)
    positive, s = check_binary(y_true, y_score, pos_label=pos_label)
    boots = _bootstrap_aucs(positive, [s], n_boot, seed, patients)[0]
    lo, hi = np.quantile(boots[np.isfinite(boots)], [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(roc_auc_score(positive, s)), float(lo), float(hi), level, n_boot)


def paired_bootstrap_auc(y_true: Any, score_a: Any, score_b: Any, n_boot: int = 1000, level: float = 0.95,
                         seed: int = 0, pos_label: int = 1, patients: Any = None) -> Interval:
    """AUC(a) − AUC(b) of two models scored on the *same* cases, with a paired bootstrap CI.

    Each resample draws the same cases for both models, so what the cases share cancels out.
    ``p_value``: two-sided bootstrap p-value of "no difference" (twice the smaller share of
    resampled differences on either side of 0).
    patients: one patient id per case; then each resample draws whole patients, as in :func:`bootstrap_auc`.
    Taught in 04, step 2 (first used in 01, step 8); with ``patients`` in 02, step 2 and 03, step 3.
    """
    from sklearn.metrics import roc_auc_score

    _check_level(level)
    positive, a = check_binary(y_true, score_a, pos_label=pos_label)
    _, b = check_binary(y_true, score_b, pos_label=pos_label)
    auc_a, auc_b = _bootstrap_aucs(positive, [a, b], n_boot, seed, patients)
    diffs = auc_a - auc_b
    diffs = diffs[np.isfinite(diffs)]
    lo, hi = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    p = min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0)))
    est = roc_auc_score(positive, a) - roc_auc_score(positive, b)
    return Interval(float(est), float(lo), float(hi), level, n_boot, float(p))


# ---------------------------------------------------------------- calibration
def calibration(y_true: Any, prob: Any, n_bins: int = 10, pos_label: int = 1) -> dict[str, Any]:
    """Reliability-diagram data and Brier score of predicted probabilities of the positive class.

    Returns ``prob_pred`` (mean predicted probability per non-empty bin), ``prob_true`` (observed
    share of positives there), ``counts`` (cases per bin), ``brier`` (mean squared error of the
    probabilities) and ``ece`` (expected calibration error: count-weighted mean |prob_true − prob_pred|).
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    if not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise MetricInputError(f"n_bins must be an integer ≥ 2; got {n_bins!r}.")
    positive, p = check_binary(y_true, prob, pos_label=pos_label, probabilities=True)
    prob_true, prob_pred = calibration_curve(positive, p, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0, 1, n_bins + 1)
    counts = np.bincount(np.clip(np.searchsorted(edges[1:-1], p), 0, n_bins - 1), minlength=n_bins)
    counts = counts[counts > 0]
    ece = float(np.sum(counts * np.abs(prob_true - prob_pred)) / counts.sum())
    return {"prob_pred": prob_pred, "prob_true": prob_true, "counts": counts,
            "brier": float(brier_score_loss(positive, p)), "ece": ece}


# ---------------------------------------------------------------- binned detection rates
def rate_by_bins(values: Any, hits: Any, edges: Any) -> tuple[np.ndarray, np.ndarray]:
    """Share of ``hits`` (booleans) among the cases whose ``values`` fall in each bin of ``edges``.

    Bins are ``[edges[k], edges[k+1])``, the last one closed. Returns ``(rates, counts)``;
    a rate is NaN where its bin is empty.
    """
    v, h, e = np.asarray(values, dtype=float), np.asarray(hits, dtype=bool), np.asarray(edges, dtype=float)
    if v.shape != h.shape or v.ndim != 1:
        raise MetricInputError(f"values and hits must be 1D and the same length; got {v.shape} and {h.shape}.")
    if e.ndim != 1 or len(e) < 2 or np.any(np.diff(e) <= 0):
        raise MetricInputError(f"edges must be at least two increasing numbers; got {e.tolist()}.")
    k = np.clip(np.searchsorted(e, v, side="right") - 1, 0, len(e) - 2)
    inside = (v >= e[0]) & (v <= e[-1])
    counts = np.bincount(k[inside], minlength=len(e) - 1)
    found = np.bincount(k[inside], weights=h[inside], minlength=len(e) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return found / counts, counts


def contrast_detail_fit(radius: Any, contrast: Any, detected: Any) -> tuple[float, float, float] | None:
    """Chance of detection as a logistic function of log-radius and contrast: ``(b0, b_radius, b_contrast)`` with
    ``P(found) = 1 / (1 + exp(-(b0 + b_radius·log(radius) + b_contrast·contrast)))`` (scikit-learn's
    ``LogisticRegression()``, its default L2 penalty ``C=1``).

    radius: lesion radii (> 0, any unit; the coefficient of log-radius does not depend on it); contrast: their
    contrasts; detected: whether each lesion was found. Returns ``None`` when every lesion was found or none was
    (a logistic fit needs both outcomes; e.g. a model trained for one epoch under the course's short-training
    setting): the caller then draws no curve. Taught in 04, step 6 (behind :func:`helpers.plots.contrast_detail`).
    """
    from sklearn.linear_model import LogisticRegression

    # dtypes kept as given: scikit-learn fits float32 input in float32, so converting would move the coefficients
    r, c, d = np.asarray(radius), np.asarray(contrast), np.asarray(detected, dtype=bool)
    if not (np.issubdtype(r.dtype, np.number) and np.issubdtype(c.dtype, np.number)):
        raise MetricInputError(f"radius and contrast must be numbers; got dtypes {r.dtype} and {c.dtype}.")
    if r.ndim != 1 or r.shape != c.shape or r.shape != d.shape or len(r) == 0:
        raise MetricInputError(f"radius, contrast and detected must be 1D and of one length; got {r.shape}, "
                               f"{c.shape} and {d.shape}.")
    if not (np.isfinite(r).all() and np.isfinite(c).all()) or (r <= 0).any():
        raise MetricInputError("radius must be > 0 and radius and contrast finite "
                               "(drop images without a lesion first).")
    if d.all() or not d.any():
        return None
    model = LogisticRegression().fit(np.c_[np.log(r), c], d)
    (b_r, b_c), b0 = model.coef_[0], model.intercept_[0]
    return float(b0), float(b_r), float(b_c)


# ---------------------------------------------------------------- scores as MedMNIST reports them
def auc_acc(y: Any, proba: Any, task: str | None = None) -> dict[str, float]:
    """Test AUC and accuracy as MedMNIST's evaluator reports them, by the registry's ``task`` of the set.

    task: ``"binary"`` (AUC of the class-1 probability), ``"multi-class"`` or ``"ordinal"`` (mean one-vs-rest
    AUC over the classes); ``None``: from the number of columns of ``proba`` (two: binary). Multi-label sets
    (ChestMNIST) are refused. Accuracy: of the most probable class (for two classes, a 0.5 threshold).
    Taught in 01, step 6; the recipes of :mod:`helpers.train` report it.
    """
    from sklearn.metrics import roc_auc_score

    from .data import as_labels

    y, proba = as_labels(y), np.asarray(proba, dtype="float64")
    if proba.ndim != 2 or len(proba) != len(y):
        raise ValueError(f"proba must be (N, n_classes) with N = {len(y)}; got {proba.shape}.")
    if task is None:
        task = "binary" if proba.shape[1] == 2 else "multi-class"
    if task not in ("binary", "multi-class", "ordinal"):
        raise MetricInputError(f"task must be 'binary', 'multi-class' or 'ordinal' (the registry's task); "
                               f"got {task!r}.")
    if task == "binary":
        if proba.shape[1] != 2:
            raise MetricInputError(f"a binary task needs proba of shape (N, 2); got {proba.shape}.")
        auc = roc_auc_score(y, proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=list(range(proba.shape[1])))
    return {"auc": float(auc), "acc": float(np.mean(proba.argmax(1) == y))}


def logit(p: Any, eps: float = 1e-6) -> np.ndarray:
    """The logit ``log(p / (1 − p))``, the inverse of the sigmoid, of probabilities clipped to ``[eps, 1 − eps]``
    (so that 0 and 1 stay finite); the dtype of ``p`` is kept.

    Taught in 04, step 4 (Platt scaling fits a logistic regression to it); reused in 05 and 07.
    """
    p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


# ---------------------------------------------------------------- accuracy with a confidence interval
def bootstrap_accuracy(y_true: Any, y_pred: Any, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """Accuracy (share of ``y_pred == y_true``) with a percentile bootstrap confidence interval.

    Cases are resampled with replacement (any number of classes); the companion of
    :func:`bootstrap_auc` for reporting a decision rule's accuracy on a test set.
    """
    _check_level(level)
    y, pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(y) == 0 or y.shape != pred.shape:
        raise MetricInputError("y_true and y_pred must be non-empty and the same length; "
                               f"got {len(y)} and {len(pred)}.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise MetricInputError(f"n_boot must be an integer ≥ 100 (1000 is usual); got {n_boot!r}.")
    hits = (y == pred).astype(np.float64)
    rows = np.random.default_rng(seed).integers(0, len(hits), (n_boot, len(hits)))
    boots = hits[rows].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(hits.mean()), float(lo), float(hi), level, n_boot)


# ---------------------------------------------------------------- segmentation (notebook 06)
def _mask_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two binary masks of the same shape as bool arrays; clear errors for anything else."""
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.shape != b.shape:
        raise MetricInputError(f"the masks differ in shape: {a.shape} vs {b.shape}; compare one mask with one "
                               "prediction of the same size (squeeze a channel axis of 1 first).")
    if a.size == 0:
        raise MetricInputError("the masks are empty arrays (no pixels).")
    for name, m in (("y_true", a), ("y_pred", b)):
        if m.dtype != bool and not np.isin(m, (0, 1)).all():
            raise MetricInputError(f"{name} must be a binary mask (bool, or 0/1); it holds other values "
                                   f"(from {np.nanmin(m):.3g} to {np.nanmax(m):.3g}). "
                                   "Threshold probabilities first, e.g. prob > 0.5.")
    return a.astype(bool), b.astype(bool)


def _overlap(y_true: Any, y_pred: Any, per_image: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = _mask_pair(y_true, y_pred)
    if per_image:
        if a.ndim < 2:
            raise MetricInputError(f"per_image needs a batch of masks (N, H, W); got shape {a.shape}.")
        axes = tuple(range(1, a.ndim))
    else:
        axes = None
    tp = np.sum(a & b, axis=axes)
    fp = np.sum(~a & b, axis=axes)
    fn = np.sum(a & ~b, axis=axes)
    return np.asarray(tp, dtype=np.float64), np.asarray(fp, dtype=np.float64), np.asarray(fn, dtype=np.float64)


def dice(y_true: Any, y_pred: Any, per_image: bool = False, empty: float = 1.0) -> Any:
    """Dice coefficient (Dice 1945; = F1 score of the pixels): ``2|A∩B| / (|A| + |B|) = 2TP / (2TP + FP + FN)``.

    y_true, y_pred: binary masks of the same shape (bool or 0/1). ``per_image=True``: the first axis holds
    images and one value per image is returned; otherwise all pixels are pooled into one number.
    empty: the value when both masks are empty (0/0): 1.0 (both say "nothing", which is right) by
    default; pass ``np.nan`` to leave such images out of a mean (Metrics Reloaded discusses the choice).
    """
    tp, fp, fn = _overlap(y_true, y_pred, per_image)
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), empty)
    return out if per_image else float(out)


def iou(y_true: Any, y_pred: Any, per_image: bool = False, empty: float = 1.0) -> Any:
    """Intersection over union (Jaccard index): ``|A∩B| / |A∪B| = TP / (TP + FP + FN)``; Dice = 2 IoU / (1 + IoU).

    Arguments as for :func:`dice`.
    """
    tp, fp, fn = _overlap(y_true, y_pred, per_image)
    den = tp + fp + fn
    out = np.where(den > 0, tp / np.where(den > 0, den, 1), empty)
    return out if per_image else float(out)


def soft_dice(y_true: Any, prob: Any, smooth: float = 1.0) -> np.ndarray:
    """Soft Dice loss per image in NumPy, ``1 - (2 Σ p g + s) / (Σ p + Σ g + s)`` (the formula of
    :func:`helpers.models.soft_dice_loss`); ``y_true`` in {0, 1}, ``prob`` in [0, 1], shape (N, ...)."""
    g, p = np.asarray(y_true, dtype=np.float64), np.asarray(prob, dtype=np.float64)
    if g.shape != p.shape or g.ndim < 2:
        raise MetricInputError(f"need masks and probabilities of the same shape (N, ...); got {g.shape} and {p.shape}.")
    if p.min() < 0 or p.max() > 1:
        raise MetricInputError("prob must hold probabilities in [0, 1].")
    axes = tuple(range(1, g.ndim))
    return 1 - (2 * (g * p).sum(axis=axes) + smooth) / (g.sum(axis=axes) + p.sum(axis=axes) + smooth)


def hausdorff(y_true: Any, y_pred: Any, percentile: float = 100.0, spacing: float = 1.0) -> float:
    """Symmetric Hausdorff distance between the pixels of two binary masks (in units of ``spacing``).

    ``max(max_a d(a, B), max_b d(b, A))``: the farthest any pixel of one mask lies from the other mask; the
    same definition as :func:`skimage.metrics.hausdorff_distance`. ``percentile=95`` gives the robust HD95
    (the 95th percentile of all those distances instead of the maximum). Both masks empty: 0.0; one empty:
    ``inf`` (there is no distance to nothing). Computed with Euclidean distance transforms (SciPy).
    """
    from scipy import ndimage

    a, b = _mask_pair(y_true, y_pred)
    if not 0 < percentile <= 100:
        raise MetricInputError(f"percentile must be in (0, 100]; got {percentile!r}.")
    if not a.any() and not b.any():
        return 0.0
    if not a.any() or not b.any():
        return float("inf")
    to_b = ndimage.distance_transform_edt(~b, sampling=spacing)[a]
    to_a = ndimage.distance_transform_edt(~a, sampling=spacing)[b]
    if percentile == 100:
        return float(max(to_b.max(), to_a.max()))
    return float(np.percentile(np.concatenate([to_b, to_a]), percentile))


def lesion_detection(y_true: Any, y_pred: Any, min_overlap: int = 1) -> dict[str, np.ndarray]:
    """Per-lesion detection counts for a batch of masks (N, H, W[, D]).

    Lesions are the connected components (8-connected in 2D, 26 in 3D) of each true mask, predicted findings
    the components of each predicted mask. A true lesion is *detected* when at least ``min_overlap`` of its
    pixels are predicted; a predicted component touching no true lesion is a *false positive*.
    Returns per image ``lesions``, ``detected`` and ``false_positives`` (int arrays of length N):
    sensitivity = detected.sum() / lesions.sum(); false positives per image = false_positives.mean().
    """
    from scipy import ndimage

    a, b = _mask_pair(y_true, y_pred)
    if a.ndim < 3:
        raise MetricInputError(f"need a batch of masks (N, H, W); got shape {a.shape}.")
    if not isinstance(min_overlap, (int, np.integer)) or min_overlap < 1:
        raise MetricInputError(f"min_overlap must be a positive number of pixels; got {min_overlap!r}.")
    structure = np.ones((3,) * (a.ndim - 1), dtype=bool)
    out = {k: np.zeros(len(a), dtype=np.int64) for k in ("lesions", "detected", "false_positives")}
    for i in range(len(a)):
        true_lab, n_true = ndimage.label(a[i], structure)
        pred_lab, n_pred = ndimage.label(b[i], structure)
        if n_true:
            hit = ndimage.sum(b[i], true_lab, index=np.arange(1, n_true + 1))
            out["lesions"][i], out["detected"][i] = n_true, int(np.sum(np.asarray(hit) >= min_overlap))
        if n_pred:
            touch = ndimage.maximum(a[i], pred_lab, index=np.arange(1, n_pred + 1))
            out["false_positives"][i] = int(np.sum(~np.asarray(touch, dtype=bool)))
    return out


def _patient_ids(patients: Any, n: int) -> np.ndarray:
    """One patient id per case (``None``: every case its own patient), or a clear error."""
    if patients is None:
        return np.arange(n)
    p = np.asarray(patients)
    if p.ndim != 1 or len(p) != n:
        raise MetricInputError(f"patients must be one id per case, shape ({n},); got {p.shape}.")
    return p


def patient_weights(y_true: Any = None, patients: Any = None, n_boot: int = 1000, seed: int = 0,
                    pos_label: int = 1) -> np.ndarray:
    """The patient-level bootstrap of the course: weights ``(n_boot, n_cases)``, how often each case's patient
    was drawn in each of ``n_boot`` resamples of the patients with replacement (a patient's images go together).

    y_true: labels of the cases; then sick and healthy patients are drawn separately (a patient is sick if
    any of their images is positive), keeping their numbers, so every resample has both classes. ``None``:
    all patients are drawn together (``patients`` required). patients: one id per case; ``None``: every case
    is its own patient (an image-level bootstrap). Any metric of a resample is then a weighted one, e.g.
    ``weights @ values / weights.sum(1)``; see :func:`patient_bootstrap` and :mod:`helpers.subgroups`.
    Taught in 06, step 3 (through :func:`patient_bootstrap`) and 07, steps 1-2.
    """
    if y_true is None:
        if patients is None:
            raise MetricInputError("give y_true (to draw sick and healthy patients separately), patients, or both.")
        positive = None
        n = len(np.asarray(patients))
    else:
        positive, _ = check_binary(y_true, pos_label=pos_label)
        n = len(positive)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise MetricInputError(f"n_boot must be an integer ≥ 100 (1000 is usual); got {n_boot!r}.")
    pid = _patient_ids(patients, n)
    ids, index = np.unique(pid, return_inverse=True)
    if positive is None:
        strata = [np.arange(len(ids))]
    else:
        sick = np.zeros(len(ids), dtype=bool)
        np.logical_or.at(sick, index, positive)
        strata = [np.flatnonzero(sick), np.flatnonzero(~sick)]
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, len(ids)))
    for stratum in strata:
        draws = rng.choice(stratum, (n_boot, len(stratum)))
        np.add.at(counts, (np.repeat(np.arange(n_boot), len(stratum)), draws.ravel()), 1.0)
    return counts[:, index]


def patient_bootstrap(values: Any, patients: Any, weights: Any = None, n_boot: int = 1000, level: float = 0.95,
                      seed: int = 0) -> Interval:
    """A ratio of sums over images, ``Σ values / Σ weights`` (a mean when ``weights`` is None), with a CI from
    a bootstrap over **patients** (:func:`patient_weights`): each resample draws patients with replacement
    and keeps all their images.

    Images of one patient are alike, so resampling images as if independent would give too narrow an
    interval. Examples: mean Dice per image (values = Dice per image); per-lesion sensitivity (values =
    lesions detected per image, weights = lesions per image); false positives per image (values = false
    positives per image). Taught in 06, step 3.
    """
    v = np.asarray(values, dtype=np.float64)
    pid = np.asarray(patients)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0 or pid.shape != v.shape or w.shape != v.shape:
        raise MetricInputError("values, patients (and weights) must be 1D of one length; "
                               f"got {v.shape}, {pid.shape}, {w.shape}.")
    if not (np.isfinite(v).all() and np.isfinite(w).all()) or (w < 0).any():
        raise MetricInputError("values and weights must be finite (drop NaN images first) and weights ≥ 0.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise MetricInputError(f"n_boot must be an integer ≥ 100 (1000 is usual); got {n_boot!r}.")
    _check_level(level)
    ids, first, inverse = np.unique(pid, return_index=True, return_inverse=True)
    if len(ids) < 2:
        raise MetricInputError("a bootstrap over patients needs at least 2 patients.")
    v_sum = np.bincount(inverse, weights=v, minlength=len(ids))
    w_sum = np.bincount(inverse, weights=w, minlength=len(ids))
    if w_sum.sum() <= 0:
        raise MetricInputError("the weights sum to 0: nothing to divide by.")
    counts = patient_weights(None, pid, n_boot, seed)[:, first]   # how often each patient was drawn
    with np.errstate(invalid="ignore", divide="ignore"):
        boots = (counts @ v_sum) / (counts @ w_sum)
    boots = boots[np.isfinite(boots)]
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(v_sum.sum() / w_sum.sum()), float(lo), float(hi), level, n_boot)
