"""Knowing when to ask a radiologist: predictive uncertainty, conformal prediction sets, referral (notebook 07, step 3).

- :func:`train_ensemble`: a small *deep ensemble* (Lakshminarayanan et al., 2017): the same recipe
  trained from several seeds; its members' average is the prediction, their disagreement a warning.
- :func:`mc_dropout_head`: *MC dropout* (Gal & Ghahramani, 2016) for a network whose only dropout sits
  before its softmax layer (the course's ``better_cnn``): the head is sampled in NumPy, in milliseconds.
- :func:`conformal_quantile`, :func:`prediction_sets`: *split conformal prediction* (Vovk et al., 2005;
  Angelopoulos & Bates, 2021). Calibrated on held-out labelled cases, a set of labels contains the true
  label with probability at least ``1 - alpha`` for a new case exchangeable with them.
- :func:`referral_curve`: accuracy of the cases the model keeps as the share it refers grows.

TensorFlow is imported only by :func:`train_ensemble`.

>>> import numpy as np
>>> from helpers import uncertainty
>>> q = uncertainty.conformal_quantile(np.array([0.1, 0.2, 0.3, 0.4]), alpha=0.2)
>>> float(q)
0.4
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


class UncertaintyInputError(ValueError):
    """Probabilities, labels or settings that the uncertainty functions cannot use; the message says what to fix."""


# ---------------------------------------------------------------- checks
def check_probs(probs: Any, n: int | None = None) -> np.ndarray:
    """Validate class probabilities ``(N, K)``, K ≥ 2, rows summing to 1; return them as float64.

    Taught in notebook 07, step 3.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2 or p.shape[0] == 0:
        raise UncertaintyInputError(f"probabilities must be (N, n_classes) with n_classes ≥ 2, one row per case; got "
                                    f"{p.shape}. For a sigmoid output s pass np.c_[1 - s, s].")
    if n is not None and len(p) != n:
        raise UncertaintyInputError(f"{len(p)} rows of probabilities for {n} labels; give one row per case.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise UncertaintyInputError("probabilities must be finite and in [0, 1] (softmax outputs, not logits).")
    if not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise UncertaintyInputError(f"each row of probabilities must sum to 1; got sums from {p.sum(1).min():.4g} to "
                                    f"{p.sum(1).max():.4g}. Apply a softmax first.")
    return p


def _check_labels(y: Any, n_classes: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise UncertaintyInputError(f"labels must be a 1D array of integer class indices; got {arr.dtype} {arr.shape}.")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise UncertaintyInputError(f"labels must lie in 0..{n_classes - 1}; got {arr.min()}..{arr.max()}.")
    return arr


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (float, int, np.floating)) or not 0 < alpha < 1:
        raise UncertaintyInputError(f"alpha is the miss rate allowed, a number in (0, 1) (0.1 for 90 % coverage); "
                                    f"got {alpha!r}.")
    return float(alpha)


# ---------------------------------------------------------------- summaries of uncertainty
def predictive_entropy(probs: Any) -> np.ndarray:
    """Entropy of the (averaged) predictive distribution, in nats: 0 when sure, log K when K classes are equal.

    Taught in notebook 07, step 3.
    """
    p = check_probs(probs)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1)


def mutual_information(member_probs: Any) -> np.ndarray:
    """Disagreement of ensemble members (or MC-dropout samples), ``(M, N, K)`` → ``(N,)``, in nats.

    Taught in notebook 07, step 3. Entropy of the mean minus the mean entropy (the "epistemic" part):
    0 when every member says the same, large when confident members disagree.
    """
    m = np.asarray(member_probs, dtype=np.float64)
    if m.ndim != 3 or m.shape[0] < 2:
        raise UncertaintyInputError(f"member probabilities must be (n_members ≥ 2, N, n_classes); got {m.shape}.")
    mean_entropy = np.mean([predictive_entropy(p) for p in m], axis=0)
    return predictive_entropy(m.mean(0)) - mean_entropy


# ---------------------------------------------------------------- ensembles and MC dropout
def train_ensemble(x_train: Any, y_train: Any, x_val: Any, y_val: Any, n_members: int = 3, seed: int = 0,
                   recipe: str = "better", epochs: int | None = None, **fit_kwargs: Any) -> list[Any]:
    """A deep ensemble: ``n_members`` models of :func:`helpers.train.fit`, member k trained with seed ``seed + k``.

    Taught in notebook 07, step 3. Members differ only in their random start and data order; keep
    ``epochs`` fixed where numbers are stored. Returns the trained Keras models.
    """
    if not isinstance(n_members, int) or n_members < 1:
        raise UncertaintyInputError(f"n_members must be a positive integer (an ensemble has 3 to 5 members; the "
                                    f"notebook adds 2 to a model it has already); got {n_members!r}.")
    import keras

    from .train import fit

    models = []
    for k in range(n_members):
        keras.utils.set_random_seed(seed + k)
        model, _ = fit(recipe, x_train, y_train, x_val, y_val, epochs=epochs, seed=seed + k, **fit_kwargs)
        models.append(model)
    return models


def _better_parts(model: Any) -> tuple[Any, list[tuple[int, ...]]]:
    """The inner ``better_cnn`` of a course model and the flips its test-time averaging uses (``[()]``: none)."""
    names = [layer.name for layer in model.layers]
    inner = model.get_layer("better_cnn") if "better_cnn" in names and model.name != "better_cnn" else model
    inner_names = [layer.name for layer in inner.layers]
    if "dropout" not in inner_names or "probabilities" not in inner_names:
        raise UncertaintyInputError(f"model {model.name!r} has no 'dropout' layer feeding a 'probabilities' layer; "
                                    "MC dropout here needs a model of the course's better recipe (better_cnn).")
    views = [()] if inner is model else [()] + [tuple(layer.axes) for layer in model.layers if hasattr(layer, "axes")]
    return inner, views


def mc_dropout_predict(model: Any, x: Any, n_samples: int = 30, seed: int = 0, rate: float | None = None,
                       batch_size: int = 512) -> np.ndarray:
    """MC-dropout samples ``(n_samples, N, K)`` of a course model (``better_cnn``, with or without flip averaging).

    Taught in notebook 07, step 3. The features before the dropout layer are computed once per view
    (the image, and its flips when the model averages over them); each sample draws new dropout masks
    (:func:`mc_dropout_head`) and averages the views, as the model would with only dropout switched on.
    rate: the dropout rate (default: the model's own); ``rate=0`` reproduces ``model.predict``.
    """
    import keras

    inner, views = _better_parts(model)
    features_of = keras.Model(inner.inputs, inner.get_layer("dropout").input)
    kernel, bias = inner.get_layer("probabilities").get_weights()
    rate = float(inner.get_layer("dropout").rate) if rate is None else rate
    x = np.asarray(x, dtype="float32")
    if x.ndim == 3:
        x = x[..., None]
    samples = 0.0
    for v, axes in enumerate(views):
        xv = np.flip(x, axis=axes) if axes else x
        feats = features_of.predict(xv, batch_size=batch_size, verbose=0)
        samples = samples + mc_dropout_head(feats, kernel, bias, rate, n_samples, seed=seed + 1000 * v)
    return samples / len(views)


def mc_dropout_head(features: Any, kernel: Any, bias: Any, rate: float, n_samples: int = 30,
                    seed: int = 0) -> np.ndarray:
    """MC-dropout samples of a softmax head ``softmax(dropout(features) @ kernel + bias)``: ``(n_samples, N, K)``.

    Taught in notebook 07, step 3. For a network whose only dropout layer feeds its last dense layer
    (``better_cnn``), this equals running the whole network with dropout switched on and everything else
    (batch norm, augmentation) in inference mode, but costs one matrix product per sample.
    features: the input of the dropout layer ``(N, F)``; kernel ``(F, K)`` and bias ``(K,)``: the dense layer's
    weights (``layer.get_weights()``); rate: the dropout rate (kept units are scaled by ``1 / (1 - rate)``).
    """
    f = np.asarray(features, dtype=np.float64)
    k, b = np.asarray(kernel, dtype=np.float64), np.asarray(bias, dtype=np.float64)
    if f.ndim != 2 or k.ndim != 2 or f.shape[1] != k.shape[0] or b.shape != (k.shape[1],):
        raise UncertaintyInputError(f"shapes do not fit: features {f.shape}, kernel {k.shape}, bias {b.shape}; "
                                    "need (N, F), (F, K) and (K,).")
    if not 0 <= rate < 1:
        raise UncertaintyInputError(f"rate must be the dropout rate in [0, 1); got {rate!r}.")
    if not isinstance(n_samples, int) or n_samples < 2:
        raise UncertaintyInputError(f"n_samples must be an integer ≥ 2 (20 to 50 is usual); got {n_samples!r}.")
    rng = np.random.default_rng(seed)
    out = np.empty((n_samples, len(f), k.shape[1]))
    for t in range(n_samples):
        keep = rng.random(f.shape) >= rate
        z = (f * keep / (1 - rate)) @ k + b
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        out[t] = e / e.sum(1, keepdims=True)
    return out


# ---------------------------------------------------------------- split conformal prediction
def nonconformity(probs: Any, y: Any) -> np.ndarray:
    """Conformity score of labelled cases: ``1 - p(true class)`` (large when the model doubts the truth).

    Taught in notebook 07, step 3 (the "LAC" score of Sadinle et al., 2019).
    """
    p = check_probs(probs)
    labels = _check_labels(y, p.shape[1])
    if len(labels) != len(p):
        raise UncertaintyInputError(f"{len(p)} rows of probabilities for {len(labels)} labels.")
    return 1.0 - p[np.arange(len(p)), labels]


def conformal_quantile(cal_scores: Any, alpha: float = 0.1) -> float:
    """The split-conformal threshold: the ``ceil((n + 1)(1 - alpha))``-th smallest of ``n`` calibration scores.

    Taught in notebook 07, step 3. If that rank exceeds ``n`` (too few calibration cases for this
    ``alpha``), the threshold is ``inf`` and every set holds every class.
    """
    s = np.asarray(cal_scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)):
        raise UncertaintyInputError("calibration scores must be a non-empty 1D array of finite numbers; "
                                    f"got {s.shape}.")
    alpha = _check_alpha(alpha)
    rank = math.ceil((len(s) + 1) * (1 - alpha))
    return float("inf") if rank > len(s) else float(np.sort(s)[rank - 1])


def prediction_sets(probs: Any, qhat: float | Any) -> np.ndarray:
    """Boolean sets ``(N, K)``: class k is in case i's set when ``1 - p[i, k] <= qhat``.

    Taught in notebook 07, step 3. ``qhat`` is one threshold, or one per class (class-conditional,
    "Mondrian" conformal prediction, see :func:`conformal_sets`). A set may be empty (no class is
    plausible enough) or hold every class (refer the case).
    """
    p = check_probs(probs)
    q = np.asarray(qhat, dtype=np.float64)
    if q.ndim > 1 or (q.ndim == 1 and len(q) != p.shape[1]):
        raise UncertaintyInputError(f"qhat must be one number or one per class ({p.shape[1]}); got shape {q.shape}.")
    return (1.0 - p) <= q + 1e-12


def conformal_sets(cal_probs: Any, cal_y: Any, probs: Any, alpha: float = 0.1,
                   class_conditional: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Split conformal prediction: calibrate on ``(cal_probs, cal_y)``, return ``(sets, qhat)`` for ``probs``.

    Taught in notebook 07, step 3. ``class_conditional=True`` calibrates one threshold per class on the
    calibration cases of that class, so that coverage holds within each class (useful when the classes
    are unequally hard or their shares differ between calibration and use).
    """
    cp = check_probs(cal_probs)
    cy = _check_labels(cal_y, cp.shape[1])
    if len(cy) != len(cp):
        raise UncertaintyInputError(f"{len(cp)} calibration rows for {len(cy)} calibration labels.")
    scores = nonconformity(cp, cy)
    if class_conditional:
        missing = [k for k in range(cp.shape[1]) if not np.any(cy == k)]
        if missing:
            raise UncertaintyInputError(f"classes {missing} have no calibration case; class-conditional calibration "
                                        "needs cases of every class.")
        qhat = np.array([conformal_quantile(scores[cy == k], alpha) for k in range(cp.shape[1])])
    else:
        qhat = np.asarray(conformal_quantile(scores, alpha))
    return prediction_sets(probs, qhat), qhat


def coverage(sets: Any, y: Any) -> float:
    """Share of cases whose set contains the true label. Taught in notebook 07, step 3."""
    s = np.asarray(sets, dtype=bool)
    if s.ndim != 2:
        raise UncertaintyInputError(f"sets must be a boolean array (N, n_classes); got shape {s.shape}.")
    labels = _check_labels(y, s.shape[1])
    if len(labels) != len(s):
        raise UncertaintyInputError(f"{len(s)} sets for {len(labels)} labels.")
    return float(s[np.arange(len(s)), labels].mean())


# ---------------------------------------------------------------- referral
def referral_curve(correct: Any, uncertainty: Any, shares: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy of the cases the model keeps when it refers the most uncertain ``share`` of cases.

    Taught in notebook 07, step 3. correct: booleans (decision right or wrong); uncertainty: larger =
    less sure (ties broken by case order, so the curve is deterministic). shares: fractions in [0, 1)
    (default 0, 0.05, ..., 0.5). Returns ``(shares, accuracy_of_kept)``.
    """
    c = np.asarray(correct, dtype=bool)
    u = np.asarray(uncertainty, dtype=np.float64)
    if c.ndim != 1 or c.shape != u.shape or c.size == 0:
        raise UncertaintyInputError(f"correct and uncertainty must be 1D, non-empty and the same length; got "
                                    f"{c.shape} and {u.shape}.")
    sh = np.round(np.arange(0, 0.51, 0.05), 2) if shares is None else np.asarray(shares, dtype=np.float64)
    if sh.ndim != 1 or np.any(sh < 0) or np.any(sh >= 1):
        raise UncertaintyInputError(f"shares must be fractions in [0, 1); got {sh.tolist()}.")
    order = np.argsort(u, kind="stable")  # most certain first
    kept_correct = c[order]
    n_keep = np.maximum(1, np.round((1 - sh) * len(c)).astype(int))
    acc = np.array([kept_correct[:k].mean() for k in n_keep])
    return sh, acc
