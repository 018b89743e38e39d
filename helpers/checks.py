"""Instant feedback for the exercises: call ``check_xxx(your_answer)`` and read one line.

Each checker tries the learner's answer on fixed inputs, compares it with a reference and
prints either ``correct: ...`` or ``not yet: ...`` with a specific hint (what was expected,
what came back, on which input). It never shows the solution code, and it never ends in a
traceback: an answer that raises, returns the wrong shape or is still ``...`` is reported
in words. Each checker also returns a :class:`Feedback` (true when correct) for tests.

>>> from helpers.checks import check_max_pool
>>> def my_pool(x, size=2):
...     return x.reshape(x.shape[0] // size, size, x.shape[1] // size, size).max(axis=(1, 3))
>>> check_max_pool(my_pool)                                  # doctest: +SKIP
correct: max pooling (2x2) matches the reference on 3 test inputs.

The student copies of the notebooks (``student/``) call these checkers in the stub cells that
replace the worked solutions; :data:`STUBS` holds each checker's stub.
TensorFlow is never imported here at module level.
"""
from __future__ import annotations

import math
import re
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = [
    "Feedback", "STUBS",
    "check_max_pool", "check_average_pool", "check_window", "check_hounsfield",
    "check_confusion_counts", "check_sensitivity_specificity", "check_ppv", "check_threshold",
    "check_output_shape", "check_article_cnn_params",
]


# ---------------------------------------------------------------- the answer to a check
@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``ok`` and the one-line ``message`` that was printed."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """Show nothing in a notebook: the checker has printed its message already."""


def _done(ok: bool, message: str, quiet: bool = False) -> Feedback:
    text = ("correct: " if ok else "not yet: ") + message
    if not quiet:
        print(text)
    return Feedback(ok, text)


def _unanswered(*answers: Any) -> bool:
    return any(a is Ellipsis or a is None for a in answers)


_FILL_IN = "replace the `...` with your answer, then run the cell again."


def _call(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """Call the learner's function; return ``(result, None)`` or ``(None, what went wrong)``."""
    if not callable(fn):
        return None, f"expected a function, got {type(fn).__name__} {fn!r:.60}."
    try:
        return fn(*args), None
    except Exception as exc:  # the learner's code: report it, never raise
        frames = [f for f in traceback.extract_tb(exc.__traceback__)[1:]  # the learner's own lines, not library ones
                  if "site-packages" not in f.filename and "lib/python3" not in f.filename.replace("\\", "/")]
        frame = frames[-1] if frames else None
        where = f" (line {frame.lineno}: `{frame.line}`)" if frame is not None and frame.line else ""
        return None, f"your function raised {type(exc).__name__}: {exc}{where}"


def _as_array(value: Any) -> np.ndarray | None:
    """Turn a result (NumPy array, list, TensorFlow tensor) into a float array, or ``None``."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def _compare_arrays(got_raw: Any, expected: np.ndarray, what: str, on: str, atol: float = 1e-5,
                    alternatives: dict[str, np.ndarray] | None = None) -> str | None:
    """``None`` when ``got_raw`` equals ``expected``; else a hint (shape, first wrong value, known mistakes)."""
    if got_raw is None:
        return f"{what} returned None {on}: did you forget `return`?"
    got = _as_array(got_raw)
    if got is None:
        return f"{what} returned {type(got_raw).__name__}, not an array of numbers, {on}."
    if got.shape != expected.shape:
        hint = ""
        if got.shape == expected.shape[::-1] and got.ndim == 2:
            hint = " (rows and columns swapped?)"
        return f"{what} returned shape {got.shape} {on}; expected {expected.shape}{hint}."
    if np.allclose(got, expected, atol=atol, equal_nan=True):
        return None
    for name, alt in (alternatives or {}).items():
        if alt.shape == got.shape and np.allclose(got, alt, atol=atol, equal_nan=True):
            return f"{what} {on}: {name}."
    bad = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, atol=atol, equal_nan=True))[0])
    return (f"{what} {on}: at index {bad} expected {expected[bad]:.4g}, got {got[bad]:.4g} "
            f"({int((~np.isclose(got, expected, atol=atol, equal_nan=True)).sum())} of {expected.size} values differ).")


# ---------------------------------------------------------------- pooling
def _pool_reference(x: np.ndarray, size: int, stride: int, kind: str) -> np.ndarray:
    """NumPy pooling over ``size x size`` windows, corners ``stride`` apart, "valid" (partial windows dropped).

    Equal to ``keras.layers.MaxPooling2D`` / ``AveragePooling2D(size, strides=stride)`` on a 2D image
    (tests/test_checks.py checks that).
    """
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size))[::stride, ::stride]
    return windows.max(axis=(2, 3)) if kind == "max" else windows.mean(axis=(2, 3))


def _pool_inputs() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    ramp = np.arange(16, dtype=np.float64).reshape(4, 4)
    return [
        ("input 1 (the 4x4 ramp 0..15)", ramp),
        ("input 2 (6x6, negative values)", rng.normal(size=(6, 6)).round(2) - 3.0),
        ("input 3 (5x7, sides not multiples of the window)", rng.integers(0, 256, (5, 7)).astype(np.float64)),
    ]


def _check_pool(fn: Callable[..., Any], kind: str, size: int, stride: int | None, quiet: bool) -> Feedback:
    label = f"{kind} pooling ({size}x{size}{'' if stride is None else f', stride {stride}'})"
    if _unanswered(fn):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    step = size if stride is None else stride
    other = "average" if kind == "max" else "max"
    for on, x in _pool_inputs():
        args = (x.copy(), size) if stride is None else (x.copy(), size, stride)
        got, err = _call(fn, *args)
        if err:
            return _done(False, f"{label} on {on}: {err}", quiet)
        expected = _pool_reference(x, size, step, kind)
        alternatives = {
            f"this is {other} pooling; {kind} pooling takes the "
            f"{'largest value' if kind == 'max' else 'mean'} of each window":
                _pool_reference(x, size, step, other),
        }
        if stride is not None and stride != size:
            alternatives["these are non-overlapping windows: the stride was ignored"] = (
                _pool_reference(x, size, size, kind))
        hint = _compare_arrays(got, expected, f"fn(x, {', '.join(map(str, args[1:]))})", f"on {on}",
                               alternatives=alternatives)
        if hint:
            if "shape" in hint and stride is None:
                hint += " A pooled side is (input side) // size: windows that run off the edge are dropped."
            elif "shape" in hint:
                hint += " A pooled side is (input side - size) // stride + 1."
            return _done(False, hint, quiet)
    return _done(True, f"{label} matches the reference on {len(_pool_inputs())} test inputs.", quiet)


def check_max_pool(fn: Callable[..., Any], size: int = 2, stride: int | None = None, quiet: bool = False) -> Feedback:
    """Check a max-pooling function ``fn(x, size)`` (or ``fn(x, size, stride)`` when ``stride`` is given).

    ``x`` is a 2D NumPy array; the answer must be the maximum of every ``size x size`` window
    (windows ``stride`` pixels apart, default ``size``; windows running off the edge dropped),
    as ``keras.layers.MaxPooling2D`` computes it.
    """
    return _check_pool(fn, "max", size, stride, quiet)


def check_average_pool(fn: Callable[..., Any], size: int = 2, stride: int | None = None,
                       quiet: bool = False) -> Feedback:
    """Check an average-pooling function ``fn(x, size)`` (or ``fn(x, size, stride)``): the article's
    f(x) = 1/(w·h) ΣΣ x(i, j) over every window, as ``keras.layers.AveragePooling2D`` computes it."""
    return _check_pool(fn, "average", size, stride, quiet)


# ---------------------------------------------------------------- CT: Hounsfield units and windows
def check_window(fn: Callable[..., Any], quiet: bool = False) -> Feedback:
    """Check a CT window function ``fn(hu, center, width)`` → grey levels in [0, 1].

    Reference: grey = clip((HU − (center − width/2)) / width, 0, 1).
    """
    if _unanswered(fn):
        return _done(False, f"window: {_FILL_IN}", quiet)
    hu = np.array([[-1000.0, -160.0, 0.0], [40.0, 120.0, 240.0], [400.0, 1000.0, 3000.0]])
    cases = [("a soft-tissue window (center 40, width 400)", 40.0, 400.0),
             ("a brain window (center 40, width 80)", 40.0, 80.0),
             ("a lung window (center -600, width 1500)", -600.0, 1500.0)]
    for on, c, w in cases:
        got, err = _call(fn, hu.copy(), c, w)
        if err:
            return _done(False, f"window with {on}: {err}", quiet)
        expected = np.clip((hu - (c - w / 2)) / w, 0.0, 1.0)
        hint = _compare_arrays(got, expected, f"fn(hu, {c:g}, {w:g})", f"with {on} on HU {hu.ravel().tolist()}",
                               alternatives={
                                   "values outside [0, 1]: clip below the window to 0 (black) "
                                   "and above it to 1 (white)":
                                       (hu - (c - w / 2)) / w,
                                   "the window must start at center - width/2, not at the centre":
                                       np.clip((hu - c) / w, 0.0, 1.0),
                                   "grey levels run 0..255 here; the course uses 0..1": expected * 255,
                               })
        if hint:
            return _done(False, hint, quiet)
    return _done(True, f"the window function matches on {len(cases)} windows (soft tissue, brain, lung).", quiet)


def check_hounsfield(fn: Callable[..., Any], quiet: bool = False) -> Feedback:
    """Check ``fn(stored_values, slope, intercept)`` → Hounsfield units = stored × slope + intercept.

    The stored values are unsigned 16-bit integers, as in a DICOM file; the answer must not wrap
    around (compute in floating point).
    """
    if _unanswered(fn):
        return _done(False, f"Hounsfield units: {_FILL_IN}", quiet)
    stored = np.array([[0, 24, 1024], [1064, 2048, 4095]], dtype=np.uint16)
    cases = [("slope 1, intercept -1024", 1.0, -1024.0), ("slope 0.5, intercept -1000", 0.5, -1000.0),
             ("integer slope 1, intercept -1024", 1, -1024)]
    for on, slope, intercept in cases:
        got, err = _call(fn, stored.copy(), slope, intercept)
        if err:
            if "out of bounds" in err or "overflow" in err.lower():
                err += ". Convert the stored values to float first (e.g. .astype(np.float32))."
            return _done(False, f"Hounsfield units with {on}: {err}", quiet)
        expected = stored.astype(np.float64) * slope + intercept
        wrapped = (stored.astype(np.int64) * int(slope) + int(intercept)) % 65536 if float(slope).is_integer() else None
        alternatives = {
            "the intercept is missing": stored * float(slope),
            "slope and intercept are swapped": stored.astype(np.float64) * intercept + slope,
        }
        if wrapped is not None:
            alternatives["values wrapped around (uint16 arithmetic): convert to float before scaling"] = \
                wrapped.astype(np.float64)
        hint = _compare_arrays(got, expected, f"fn(stored, {slope}, {intercept})",
                               f"with {on} on stored values {stored.ravel().tolist()}", alternatives=alternatives)
        if hint:
            return _done(False, hint, quiet)
    return _done(True, f"Hounsfield conversion matches on {len(cases)} slope/intercept pairs (air is -1000, water 0).",
                 quiet)


# ---------------------------------------------------------------- binary evaluation
def _positives(y_true: Any, y_pred: Any, pos_label: int) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} vs {p.size}.")
    return t == pos_label, p == pos_label


def _unpack(answer: Any, keys: tuple[str, ...]) -> tuple[list[Any] | None, str | None]:
    """An answer given as a tuple/list in the order ``keys``, or as a dict with those keys."""
    if isinstance(answer, dict):
        missing = [k for k in keys if k not in answer]
        if missing:
            return None, f"your dict lacks the keys {missing}; give {', '.join(keys)}."
        return [answer[k] for k in keys], None
    if isinstance(answer, (tuple, list)) and len(answer) == len(keys):
        return list(answer), None
    return None, f"give ({', '.join(keys)}) as a tuple, in this order, or a dict with these keys; got {answer!r:.80}."


def _number(value: Any) -> float | None:
    try:
        out = float(np.asarray(value).item()) if np.size(value) == 1 else None
    except (TypeError, ValueError):
        return None
    return out


def check_confusion_counts(counts: Any, y_true: Any, y_pred: Any, pos_label: int = 1, quiet: bool = False) -> Feedback:
    """Check ``counts = (tp, fp, fn, tn)`` (or a dict with these keys) for labels ``y_true`` and predictions ``y_pred``.

    ``pos_label`` is the label of the disease (positive) class; mind BreastMNIST and the Wisconsin set (0 = malignant).
    """
    keys = ("tp", "fp", "fn", "tn")
    if _unanswered(counts):
        return _done(False, f"confusion counts: {_FILL_IN}", quiet)
    values, err = _unpack(counts, keys)
    if err:
        return _done(False, f"confusion counts: {err}", quiet)
    pos, pred = _positives(y_true, y_pred, pos_label)
    ref = {"tp": int((pos & pred).sum()), "fp": int((~pos & pred).sum()),
           "fn": int((pos & ~pred).sum()), "tn": int((~pos & ~pred).sum())}
    got = dict(zip(keys, (_number(v) for v in values)))
    if any(v is None for v in got.values()):
        return _done(False, f"confusion counts: each count must be one number; got {values!r:.80}.", quiet)
    if all(got[k] == ref[k] for k in keys):
        return _done(True, f"tp, fp, fn, tn are right for the {pos.size} cases (positive label {pos_label}).", quiet)
    if [got[k] for k in keys] == [ref[k] for k in ("tn", "fn", "fp", "tp")]:
        return _done(False, f"your counts treat label {pos_label} as the negative class; positive = label {pos_label} "
                            "(the disease).", quiet)
    if sum(got.values()) != pos.size:
        return _done(False, f"your four counts add up to {sum(got.values()):g}, but there are {pos.size} cases: "
                            "every case is exactly one of tp, fp, fn, tn.", quiet)
    wrong = [k for k in keys if got[k] != ref[k]]
    if set(wrong) == {"fp", "fn"} and got["fp"] == ref["fn"]:
        return _done(False, "fp and fn are swapped: a false positive is predicted positive but truly negative.", quiet)
    k = wrong[0]
    return _done(False, f"{k} should be {ref[k]}, you have {got[k]:g} (positives in y_true: {int(pos.sum())}, "
                        f"predicted positive: {int(pred.sum())}).", quiet)


def check_sensitivity_specificity(answer: Any, y_true: Any, y_pred: Any, pos_label: int = 1, atol: float = 5e-3,
                                  quiet: bool = False) -> Feedback:
    """Check ``answer = (sensitivity, specificity)`` (or a dict) against labels and predictions.

    Sensitivity = TP / (TP + FN), the fraction of the sick that are flagged; specificity = TN / (TN + FP).
    """
    if _unanswered(answer):
        return _done(False, f"sensitivity and specificity: {_FILL_IN}", quiet)
    values, err = _unpack(answer, ("sensitivity", "specificity"))
    if err:
        return _done(False, f"sensitivity and specificity: {err}", quiet)
    sens, spec = (_number(v) for v in values)
    if sens is None or spec is None:
        return _done(False, f"sensitivity and specificity must be numbers; got {values!r:.80}.", quiet)
    pos, pred = _positives(y_true, y_pred, pos_label)
    tp, fn = int((pos & pred).sum()), int((pos & ~pred).sum())
    tn, fp = int((~pos & ~pred).sum()), int((~pos & pred).sum())
    ref_sens, ref_spec = tp / max(tp + fn, 1), tn / max(tn + fp, 1)
    if sens > 1 or spec > 1:
        return _done(False, "rates are fractions between 0 and 1, not percentages or counts.", quiet)
    close = lambda a, b: abs(a - b) <= atol  # noqa: E731
    if close(sens, ref_sens) and close(spec, ref_spec):
        return _done(True, f"sensitivity and specificity are right (tp={tp}, fn={fn}, tn={tn}, fp={fp}).", quiet)
    if close(sens, ref_spec) and close(spec, ref_sens):
        return _done(False, "sensitivity and specificity are swapped: sensitivity is about the sick (positives).",
                     quiet)
    ppv = tp / max(tp + fp, 1)
    if close(sens, ppv) and not close(ppv, ref_sens):
        return _done(False, "your sensitivity is the precision (PPV), TP / (TP + FP); sensitivity divides by all "
                            "truly positive cases, TP + FN.", quiet)
    which = "sensitivity" if not close(sens, ref_sens) else "specificity"
    got = sens if which == "sensitivity" else spec
    return _done(False, f"{which} is off: you have {got:.3f}. Count from tp={tp}, fn={fn}, tn={tn}, fp={fp}.", quiet)


def check_ppv(ppv: Any, sensitivity: float, specificity: float, prevalence: float, atol: float = 5e-3,
              quiet: bool = False) -> Feedback:
    """Check a positive predictive value computed from sensitivity, specificity and prevalence (Bayes' rule)."""
    if _unanswered(ppv):
        return _done(False, f"PPV: {_FILL_IN}", quiet)
    got = _number(ppv)
    if got is None:
        return _done(False, f"PPV must be one number; got {ppv!r:.80}.", quiet)
    tp = sensitivity * prevalence
    fp = (1 - specificity) * (1 - prevalence)
    ref = tp / (tp + fp) if tp + fp else float("nan")
    if math.isclose(got, ref, abs_tol=atol):
        return _done(True, f"PPV {got:.3f} at prevalence {prevalence:g}.", quiet)
    if math.isclose(got, sensitivity, abs_tol=atol):
        return _done(False, "that is the sensitivity; PPV asks: of all alarms, how many are real?", quiet)
    if got > 1:
        return _done(False, "PPV is a fraction between 0 and 1.", quiet)
    return _done(False, f"PPV {got:.3f} is {'too high' if got > ref else 'too low'} at prevalence {prevalence:g}: "
                        "real alarms = sensitivity x prevalence; false alarms = (1 - specificity) x (1 - prevalence).",
                 quiet)


def check_threshold(threshold: Any, y_true: Any, y_score: Any, min_sensitivity: float = 0.95, pos_label: int = 1,
                    quiet: bool = False) -> Feedback:
    """Check a threshold that keeps sensitivity ≥ ``min_sensitivity`` with the best specificity possible.

    A case is flagged when ``score >= threshold``. Any threshold that flags the same cases as the
    best one is correct.
    """
    if _unanswered(threshold):
        return _done(False, f"threshold: {_FILL_IN}", quiet)
    t = _number(threshold)
    if t is None or math.isnan(t):
        return _done(False, f"the threshold must be one number; got {threshold!r:.80}.", quiet)
    pos = np.asarray(y_true).ravel() == pos_label
    score = np.asarray(y_score, dtype=np.float64).ravel()
    if score.shape != pos.shape:
        raise ValueError(f"y_true and y_score differ in length: {pos.size} vs {score.size}.")
    if not pos.any() or pos.all():
        raise ValueError(f"y_true needs both classes (positive label {pos_label}) to check a threshold.")

    def rates(th: float) -> tuple[float, float]:
        flag = score >= th
        return float(flag[pos].mean()), float((~flag[~pos]).mean())

    sens, spec = rates(t)
    # best: the highest threshold among the scores of positives that still meets the target
    candidates = np.unique(score[pos])[::-1]
    best = next(c for c in candidates if rates(c)[0] >= min_sensitivity - 1e-12)
    best_sens, best_spec = rates(best)
    if sens < min_sensitivity - 1e-12:
        return _done(False, f"at threshold {t:.3g} sensitivity is {sens:.3f}, below the target {min_sensitivity}: "
                            "lower the threshold.", quiet)
    if spec + 1e-12 < best_spec:
        return _done(False, f"sensitivity {sens:.3f} meets the target, but specificity is {spec:.3f}; a higher "
                            f"threshold keeps the sensitivity and reaches specificity {best_spec:.3f}.", quiet)
    return _done(True, f"threshold {t:.3g}: sensitivity {sens:.3f} (target {min_sensitivity}), "
                       f"specificity {spec:.3f}, the best possible.", quiet)


# ---------------------------------------------------------------- shapes and parameter counts
def _shape_of(thing: Any) -> tuple[Any, ...] | None:
    """Output shape of a Keras model/layer, the shape of an array/tensor, or a shape given as a tuple/list."""
    for attr in ("output_shape", "shape"):
        try:
            shape = getattr(thing, attr)
        except (AttributeError, ValueError, RuntimeError):  # an unbuilt Keras model raises on output_shape
            continue
        if shape is not None and not callable(shape):
            thing = shape
            break
    if isinstance(thing, list) and thing and isinstance(thing[0], (tuple, list)):
        return None  # several outputs
    try:
        return tuple(None if d is None else int(d) for d in thing)
    except (TypeError, ValueError):
        return None


def check_output_shape(model_or_shape: Any, expected: tuple[int | None, ...], quiet: bool = False) -> Feedback:
    """Check the output shape of a Keras model or layer (``.output_shape``), of an array (``.shape``), or a shape.

    ``expected`` may include the batch axis (``None``) or leave it out.
    """
    if _unanswered(model_or_shape):
        return _done(False, f"output shape: {_FILL_IN}", quiet)
    got = _shape_of(model_or_shape)
    if got is None:
        return _done(False, f"cannot read a shape from {type(model_or_shape).__name__}; pass a Keras model, an array "
                            "or a tuple.", quiet)
    exp = tuple(expected)
    # compare without the batch axis when one side has it and the other does not
    if len(got) == len(exp) + 1:
        got_cmp, exp_cmp = got[1:], exp
    elif len(exp) == len(got) + 1 and exp[0] is None:
        got_cmp, exp_cmp = got, exp[1:]
    else:
        got_cmp, exp_cmp = got, exp
    if len(got_cmp) != len(exp_cmp):
        return _done(False, f"the shape {got} has {len(got)} axes; expected {len(exp)} axes like {exp}.", quiet)
    diff = [i for i, (g, e) in enumerate(zip(got_cmp, exp_cmp)) if e is not None and g != e]
    if not diff:
        return _done(True, f"output shape {got}.", quiet)
    i = diff[0] + (len(got) - len(got_cmp))
    return _done(False, f"output shape {got}: axis {i} is {got[i]}, expected {exp_cmp[diff[0]]} (expected shape "
                        f"{exp}; None = any size).", quiet)


def _article_cnn_counts(input_shape: tuple[int, int, int], n_classes: int) -> dict[str, int]:
    h, w, c = input_shape
    side_h, side_w = ((h - 2) // 2 - 2) // 2 - 2, ((w - 2) // 2 - 2) // 2 - 2
    conv = [(3 * 3 * c * 32, 32), (3 * 3 * 32 * 64, 64), (3 * 3 * 64 * 64, 64)]
    dense = [(side_h * side_w * 64 * 64, 64), (64 * n_classes, n_classes)]
    weights = sum(a for a, _ in conv + dense)
    biases = sum(b for _, b in conv + dense)
    return {"total": weights + biases, "weights": weights, "flatten": side_h * side_w * 64}


def check_article_cnn_params(answer: Any, input_shape: tuple[int, int, int] = (28, 28, 1), n_classes: int = 2,
                             quiet: bool = False) -> Feedback:
    """Check a hand count of the parameters of the article's CNN (``helpers.models.article_cnn``).

    Computed analytically (no TensorFlow); tests check it equals Keras' ``count_params()``.
    """
    if _unanswered(answer):
        return _done(False, f"parameter count: {_FILL_IN}", quiet)
    got = _number(answer)
    if got is None:
        return _done(False, f"the parameter count must be one number; got {answer!r:.80}.", quiet)
    ref = _article_cnn_counts(tuple(input_shape), n_classes)
    shape = "x".join(map(str, input_shape))
    if got == ref["total"]:
        return _done(True, f"{int(got):,} parameters for {shape} inputs and {n_classes} classes.", quiet)
    if got == ref["weights"]:
        return _done(False, "you counted the weights but left out the biases: one per filter of each convolution "
                            "and one per unit of each dense layer.", quiet)
    return _done(False, f"{got:,.0f} is {'more' if got > ref['total'] else 'less'} than the right count for {shape} "
                        "inputs. Check the side after each layer (3x3 'valid' convolution: -2; pooling: halve, round "
                        "down), the Flatten size (side x side x 64) and the biases.", quiet)


# ---------------------------------------------------------------- stubs for the student copies
STUBS: dict[str, str] = {
    "check_max_pool": (
        "from helpers.checks import check_max_pool\n\n\n"
        "def max_pool(x, size=2):\n"
        "    # TODO: your answer: the largest value of every size x size window of the 2D array x\n"
        "    ...\n\n\n"
        "check_max_pool(max_pool)"
    ),
    "check_average_pool": (
        "from helpers.checks import check_average_pool\n\n\n"
        "def average_pool(x, size=2):\n"
        "    # TODO: your answer: the mean of every size x size window of the 2D array x\n"
        "    ...\n\n\n"
        "check_average_pool(average_pool)"
    ),
    "check_window": (
        "from helpers.checks import check_window\n\n\n"
        "def window(hu, center, width):\n"
        "    # TODO: your answer: grey levels in [0, 1] for the window (center, width)\n"
        "    ...\n\n\n"
        "check_window(window)"
    ),
    "check_hounsfield": (
        "from helpers.checks import check_hounsfield\n\n\n"
        "def to_hounsfield(stored, slope, intercept):\n"
        "    # TODO: your answer: Hounsfield units from the stored pixel values\n"
        "    ...\n\n\n"
        "check_hounsfield(to_hounsfield)"
    ),
    "check_article_cnn_params": (
        "from helpers.checks import check_article_cnn_params\n\n"
        "# TODO: your answer\n"
        "answer = ...\n"
        "check_article_cnn_params(answer)"
    ),
}


def stub_for(check: str) -> str:
    """The code of a student stub cell for a solution cell whose metadata says ``"check": check``.

    ``check`` is a checker's name (its stub from :data:`STUBS`, or ``answer = ...`` then
    ``check_xxx(answer)``), or a full call such as ``"check_threshold(answer, y_val, p_val, 0.95)"``.
    Raises ``ValueError`` when it does not name a checker of this module.
    """
    call = check.strip()
    name = call.split("(", 1)[0].strip()
    if name not in __all__ or not name.startswith("check_"):
        known = ", ".join(n for n in __all__ if n.startswith("check_"))
        raise ValueError(f"{check!r} does not name a checker in helpers.checks; known: {known}.")
    if call == name and name in STUBS:
        return STUBS[name]
    if call == name:
        call = f"{name}(answer)"
    if re.search(r"\banswer\b", call):
        return f"from helpers.checks import {name}\n\n# TODO: your answer\nanswer = ...\n{call}"
    return f"from helpers.checks import {name}\n\n# TODO: your answer (define what the check below uses)\n\n{call}"


# ---------------------------------------------------------------- notebook 07: corruptions and conformal sets
def check_corruption(fn: Callable[..., Any], name: str = "contrast", quiet: bool = False) -> Feedback:
    """Check ``fn(x, severity)`` against :func:`helpers.shift.corrupt` for ``name`` at severities 0..5.

    Taught in notebook 07, exercise 1. ``x`` is uint8 ``(N, H, W)``; the answer must be uint8 of the same
    shape, unchanged at severity 0, within one grey level of the reference elsewhere.
    """
    from . import shift

    label = f"{name} corruption"
    if _unanswered(fn):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    rng = np.random.default_rng(11)
    x = np.clip(rng.normal(120, 60, (3, 12, 12)), 0, 255).astype(np.uint8)
    for severity in shift.SEVERITIES:
        got, err = _call(fn, x.copy(), severity)
        if err:
            return _done(False, f"{label} at severity {severity}: {err}", quiet)
        expected = shift.corrupt(x, name, severity)
        arr = np.asarray(got) if got is not None else None
        if arr is not None and arr.shape == expected.shape and arr.dtype != np.uint8:
            return _done(False, f"{label} at severity {severity}: returned dtype {arr.dtype}; round and convert to "
                                "uint8 (images stay 8-bit grey levels).", quiet)
        hint = _compare_arrays(got, expected.astype(np.float64), f"fn(x, {severity})", "on three random 12x12 images",
                               atol=1.0, alternatives={
                                   "values are on the 0..1 scale; multiply by 255 before converting to uint8":
                                       expected / 255.0})
        if hint:
            if severity == 0:
                hint += " At severity 0 the images must come back unchanged."
            return _done(False, hint, quiet)
    return _done(True, f"{label} matches shift.corrupt at severities 0 to 5.", quiet)


def check_conformal_quantile(answer: Any, cal_scores: Any, alpha: float = 0.1, quiet: bool = False) -> Feedback:
    """Check a split-conformal threshold: the ``ceil((n + 1)(1 - alpha))``-th smallest calibration score.

    Taught in notebook 07, exercise 2.
    """
    if _unanswered(answer):
        return _done(False, f"conformal threshold: {_FILL_IN}", quiet)
    got = _number(answer)
    if got is None:
        return _done(False, f"the threshold must be one number; got {answer!r:.80}.", quiet)
    s = np.sort(np.asarray(cal_scores, dtype=np.float64).ravel())
    n = len(s)
    rank = math.ceil((n + 1) * (1 - alpha))
    ref = float("inf") if rank > n else float(s[rank - 1])
    if got == ref or (math.isfinite(ref) and math.isclose(got, ref, rel_tol=1e-9, abs_tol=1e-12)):
        return _done(True, f"q = {got:.4g}, the {rank}-th smallest of {n} scores (alpha {alpha:g}).", quiet)
    if math.isclose(got, float(np.quantile(s, 1 - alpha)), rel_tol=1e-9, abs_tol=1e-12):
        return _done(False, f"that is the plain {1 - alpha:.0%} quantile; use the rank ceil((n + 1)(1 - alpha)) = "
                            f"{rank} of the sorted scores (the +1 counts the new case).", quiet)
    if rank <= n and 1 < rank and math.isclose(got, float(s[rank - 2]), rel_tol=1e-9):
        return _done(False, f"one rank too low: Python counts from 0, so the {rank}-th smallest is sorted[{rank - 1}].",
                     quiet)
    if math.isclose(got, float(np.quantile(s, alpha)), rel_tol=1e-9):
        return _done(False, "that is a quantile at alpha; the threshold sits high, at 1 - alpha.", quiet)
    return _done(False, f"q = {got:.4g} is {'too high' if got > ref else 'too low'}: "
                        f"sort the {n} scores 1 - p(true class) "
                        f"and take the one of rank ceil((n + 1)(1 - alpha)) = {rank}.", quiet)


__all__ += ["check_corruption", "check_conformal_quantile"]
STUBS.update({
    "check_corruption": (
        "from helpers.checks import check_corruption\n\n\n"
        "def lower_contrast(x, severity):\n"
        "    # TODO: your answer: uint8 images with deviations from each image's mean scaled down\n"
        "    ...\n\n\n"
        "check_corruption(lower_contrast)"
    ),
})


# ---------------------------------------------------------------- segmentation (notebook 06)
def _dice_reference(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    den = a.sum() + b.sum()
    return 1.0 if den == 0 else 2.0 * float((a & b).sum()) / float(den)


def _dice_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rows, cols = np.indices((12, 12))
    disc = np.hypot(rows - 5, cols - 5) < 3
    shifted = np.hypot(rows - 5, cols - 7) < 3
    return [
        ("two overlapping discs", disc, shifted),
        ("a perfect prediction", disc, disc.copy()),
        ("disjoint masks", disc, np.hypot(rows - 10, cols - 10) < 1.5),
        ("a prediction twice too large", disc, np.hypot(rows - 5, cols - 5) < 4.3),
        ("0/1 integer masks", disc.astype(int), shifted.astype(int)),
        ("two empty masks (define Dice = 1)", np.zeros((12, 12), bool), np.zeros((12, 12), bool)),
    ]


def check_dice(fn: Callable[..., Any], quiet: bool = False) -> Feedback:
    """Check a learner's ``dice(a, b)``: 2|A∩B| / (|A| + |B|) for two binary masks, 1 when both are empty."""
    if _unanswered(fn):
        return _done(False, f"dice: {_FILL_IN}", quiet)
    for what, a, b in _dice_cases():
        got, err = _call(fn, a, b)
        if err:
            return _done(False, f"on {what}: {err}", quiet)
        value = _number(got)
        if value is None:
            return _done(False, f"dice returned {type(got).__name__} on {what}; expected one number.", quiet)
        ref = _dice_reference(a, b)
        if not math.isfinite(value) or abs(value - ref) > 1e-6:
            a_, b_ = a.astype(bool), b.astype(bool)
            union = (a_ | b_).sum()
            iou = (a_ & b_).sum() / union if union else 1.0
            if union and abs(value - iou) < 1e-6:
                hint = "that is the IoU |A∩B| / |A∪B|; Dice counts the overlap twice over the two sizes"
            elif math.isnan(value):
                hint = "0/0 when both masks are empty: return 1.0 there (both say 'nothing', which is right)"
            else:
                hint = f"expected {ref:.4f}, got {value:.4f}"
            return _done(False, f"on {what}: {hint}.", quiet)
    return _done(True, f"Dice agrees with the reference on {len(_dice_cases())} pairs of masks, empty ones included.",
                 quiet)


def _detection_rates(prob: np.ndarray, masks: np.ndarray, threshold: float) -> tuple[float, float]:
    from .metrics import lesion_detection

    counts = lesion_detection(masks, prob > threshold)
    return counts["detected"].sum() / max(counts["lesions"].sum(), 1), float(counts["false_positives"].mean())


def check_detection_threshold(answer: Any, prob: Any, masks: Any, min_sensitivity: float = 0.9,
                              grid: Any = None, quiet: bool = False) -> Feedback:
    """Check a threshold on a probability map: per-lesion sensitivity ≥ ``min_sensitivity`` on (prob, masks),
    with the fewest false positives per image among the thresholds of ``grid`` (0.05, 0.10, ..., 0.95)."""
    if _unanswered(answer):
        return _done(False, f"threshold: {_FILL_IN}", quiet)
    t = _number(answer)
    if t is None or not 0 < t < 1:
        return _done(False, f"the threshold must be one number between 0 and 1; got {answer!r:.60}.", quiet)
    p, m = np.asarray(prob, dtype=np.float64), np.asarray(masks).astype(bool)
    if p.shape != m.shape:
        return _done(False, f"probabilities {p.shape} and masks {m.shape} differ in shape (squeeze the channel axis).",
                     quiet)
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2) if grid is None else np.asarray(grid, dtype=float)
    rates = {float(g): _detection_rates(p, m, float(g)) for g in grid}
    ok = [g for g, (s, _) in rates.items() if s >= min_sensitivity]
    sens, fp = _detection_rates(p, m, t)
    if not ok:
        return _done(sens >= min_sensitivity, f"no threshold of the grid reaches sensitivity {min_sensitivity}; yours "
                                              f"gives {sens:.3f}.", quiet)
    best = min(ok, key=lambda g: (rates[g][1], -g))
    if sens < min_sensitivity:
        return _done(False, f"threshold {t:.3g} finds {sens:.3f} of the lesions, below the target {min_sensitivity}: "
                            "lower it.", quiet)
    if fp > rates[best][1] + 1e-9:
        return _done(False, f"sensitivity {sens:.3f} meets the target, but {fp:.3f} false positives per image; "
                            f"a higher threshold keeps the sensitivity with {rates[best][1]:.3f}.", quiet)
    return _done(True, f"threshold {t:.3g}: per-lesion sensitivity {sens:.3f} (target {min_sensitivity}), "
                       f"{fp:.3f} false positives per image, the fewest possible.", quiet)


__all__ += ["check_dice", "check_detection_threshold"]
STUBS.update({
    "check_dice": (
        "from helpers.checks import check_dice\n\n\n"
        "def dice(a, b):\n"
        "    # TODO: your answer: 2|A and B| / (|A| + |B|) for two binary masks; 1.0 when both are empty\n"
        "    ...\n\n\n"
        "check_dice(dice)"
    ),
})


# ---------------------------------------------------------------- layers by hand (notebooks 01 and 02)
def _dense_inputs() -> list[tuple[str, tuple[np.ndarray, ...]]]:
    rng = np.random.default_rng(5)
    out = []
    for n_in, n_hidden, n_out in ((3, 4, 2), (6, 8, 3), (2, 5, 1)):
        out.append((f"{n_in} inputs, {n_hidden} hidden units, {n_out} outputs",
                    (rng.normal(size=(n_hidden, n_in)), rng.normal(size=n_hidden),
                     rng.normal(size=(n_out, n_hidden)), rng.normal(size=n_out))))
    return out


def check_collapsed_dense(fn: Callable[..., Any], quiet: bool = False) -> Feedback:
    """Check ``fn(W1, b1, W2, b2) -> (W, b)``: the one dense layer equal to two stacked ones without activation.

    Taught in notebook 01, exercise 3. ``W2 (W1 x + b1) + b2 = W x + b`` for every ``x`` means
    ``W = W2 W1`` (shape ``(n_out, n_in)``) and ``b = W2 b1 + b2``. Column-vector convention (``y = W x + b``).
    """
    label = "one dense layer from two"
    if _unanswered(fn):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    for on, (W1, b1, W2, b2) in _dense_inputs():
        got, err = _call(fn, W1.copy(), b1.copy(), W2.copy(), b2.copy())
        if err:
            hint = ""
            if "matmul" in err or "shapes" in err or "aligned" in err:
                hint = " Mind the order: the first layer acts first, so W = W2 @ W1, not W1 @ W2."
            return _done(False, f"{label} with {on}: {err}{hint}", quiet)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return _done(False, f"{label}: return the pair (W, b); got {type(got).__name__} {got!r:.60}.", quiet)
        W_ref, b_ref = W2 @ W1, W2 @ b1 + b2
        hint = _compare_arrays(got[0], W_ref, "W", f"with {on}", atol=1e-8)
        if hint:
            return _done(False, hint + " W maps the input straight to the output: W = W2 W1.", quiet)
        hint = _compare_arrays(got[1], b_ref, "b", f"with {on}", atol=1e-8, alternatives={
            "b2 is missing: the second layer adds its own bias": W2 @ b1,
            "b1 is missing: the first layer's bias passes through the second layer's weights, b = W2 b1 + b2": b2,
        })
        if hint:
            return _done(False, hint, quiet)
    return _done(True, f"W = W2 W1 and b = W2 b1 + b2 on {len(_dense_inputs())} pairs of layers.", quiet)


def _softmax_reference(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def check_softmax(fn: Callable[..., Any], quiet: bool = False) -> Feedback:
    """Check a NumPy ``fn(z)``: the softmax of the last axis of ``z``, exp(z_i) / Σ_j exp(z_j), overflow-free.

    Taught in notebook 02, exercise 1. The inputs are a vector of two logits, a batch of rows (softmax
    of each row, not of the whole array), and large logits (1000 and more), where ``np.exp`` overflows
    unless the largest logit is subtracted first.
    """
    if _unanswered(fn):
        return _done(False, f"softmax: {_FILL_IN}", quiet)
    cases = [("the logits [2.0, -1.0]", np.array([2.0, -1.0])),
             ("a batch of 3 rows of 4 logits", np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0],
                                                         [-2.0, 5.0, 0.5, 1.0]])),
             ("large logits [1000, 1001, 1002]", np.array([1000.0, 1001.0, 1002.0]))]
    for on, z in cases:
        with np.errstate(over="ignore", invalid="ignore"):
            got, err = _call(fn, z.copy())
        if err:
            return _done(False, f"softmax of {on}: {err}", quiet)
        expected = _softmax_reference(z)
        with np.errstate(over="ignore", invalid="ignore"):
            whole = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        arr = _as_array(got)
        if arr is not None and arr.shape == expected.shape and not np.all(np.isfinite(arr)):
            return _done(False, f"softmax of {on} gave nan or inf: np.exp overflows above about 709. Subtract the "
                                "largest logit first; softmax(z - c) = softmax(z) for any constant c.", quiet)
        hint = _compare_arrays(got, expected, "softmax(z)", f"for {on}", atol=1e-9, alternatives={
            "you normalised over the whole array; each row (the last axis) must sum to 1": whole,
            "that is exp(z) without dividing by the sum": np.exp(np.minimum(z, 700.0)),
            "that is a sigmoid of each logit, not a softmax": 1 / (1 + np.exp(-np.clip(z, -700, 700))),
        })
        if hint:
            return _done(False, hint, quiet)
    return _done(True, f"softmax matches on {len(cases)} inputs (a vector, a batch of rows, large logits).", quiet)


__all__ += ["check_collapsed_dense", "check_softmax"]
STUBS.update({
    "check_collapsed_dense": (
        "from helpers.checks import check_collapsed_dense\n\n\n"
        "def collapse(W1, b1, W2, b2):\n"
        "    # TODO: your answer: the pair (W, b) of the one dense layer equal to W2 (W1 x + b1) + b2\n"
        "    ...\n\n\n"
        "check_collapsed_dense(collapse)"
    ),
    "check_softmax": (
        "from helpers.checks import check_softmax\n\n\n"
        "def softmax(z):\n"
        "    # TODO: your answer: exp(z_i) / sum_j exp(z_j) along the last axis of z, without overflow\n"
        "    ...\n\n\n"
        "check_softmax(softmax)"
    ),
})


# ---------------------------------------------------------------- notebook 00: the ECG and the simulated patients
def _r_peaks(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks as taught in 00, step 6: local maxima above half the 99th percentile, at least 0.3 s apart."""
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(signal, height=np.percentile(signal, 99) * 0.5, distance=int(0.3 * fs))
    return peaks


def _synthetic_ecg(fs: float = 500.0, seconds: float = 8.0, bpm: float = 72.0) -> np.ndarray:
    """A made-up single-lead ECG in microvolts at a known rate: P, R, S and T waves, baseline wander, noise."""
    t = np.arange(int(seconds * fs)) / fs
    signal = 80 * np.sin(2 * np.pi * 0.3 * t) + np.random.default_rng(3).normal(0, 15, t.size)
    for beat in np.arange(0.35, seconds - 0.4, 60 / bpm):
        for centre, width, height in ((-0.16, 0.025, 120), (0.0, 0.012, 1200), (0.03, 0.01, -150), (0.28, 0.05, 300)):
            signal += height * np.exp(-0.5 * ((t - beat - centre) / width) ** 2)
    return signal


def _heart_rate_cases() -> list[tuple[str, np.ndarray, float]]:
    from scipy.signal import decimate

    from . import imaging

    ecg = imaging.load_ecg(units="mV")
    lead_ii = ecg.lead("II").astype(np.float64)
    return [
        ("lead II (1000 Hz, mV)", lead_ii, ecg.fs),
        ("lead V5 (1000 Hz, mV)", ecg.lead("V5").astype(np.float64), ecg.fs),
        ("lead II reduced to 250 Hz", decimate(lead_ii, 4), ecg.fs / 4),
        ("a made-up ECG in microvolts (500 Hz, 72 beats/min)", _synthetic_ecg(), 500.0),
    ]


def check_heart_rate(fn: Callable[..., Any], quiet: bool = False) -> Feedback:
    """Check ``fn(signal, fs)`` → the heart rate in beats per minute of one ECG lead sampled at ``fs`` Hz.

    Used in 00, exercise 3. The reference is the method of 00, step 6: R peaks with ``scipy.signal.find_peaks``
    (above half the 99th percentile of the signal, at least 0.3 s apart), rate = 60 / mean RR interval in
    seconds. Any method within 0.5 beats/min of it passes (a median RR, for instance). The inputs: leads II
    and V5 of pydicom's ECG at 1000 Hz, lead II reduced to 250 Hz (catches a function that ignores ``fs``),
    and a made-up ECG in microvolts at 72 beats/min (catches a fixed height threshold in mV).
    """
    label = "heart rate"
    if _unanswered(fn):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    tol = 0.5
    cases = _heart_rate_cases()
    for i, (on, signal, fs) in enumerate(cases):
        got_raw, err = _call(fn, signal.copy(), fs)
        if err:
            return _done(False, f"{label} of {on}: {err}", quiet)
        peaks = _r_peaks(signal, fs)
        ref = 60.0 / (np.diff(peaks).mean() / fs)
        if got_raw is None:
            return _done(False, f"{label}: your function returned None for {on}: did you forget `return`?", quiet)
        got = _number(got_raw)
        if got is None:
            size = np.size(got_raw) if not isinstance(got_raw, (str, bytes)) else -1
            if size == len(peaks):
                hint = (f"that looks like the {size} R peaks themselves; turn them into one number, "
                        "60 / (mean RR interval in seconds)")
            else:
                hint = f"expected one number (beats per minute), got {type(got_raw).__name__} {got_raw!r:.60}"
            return _done(False, f"{label} of {on}: {hint}.", quiet)
        if math.isfinite(got) and abs(got - ref) <= tol:
            continue
        close = lambda value, got=got: math.isfinite(got) and math.isclose(got, value, rel_tol=0.01)  # noqa: E731
        if close(ref / 60):
            hint = "that is beats per second; multiply by 60 for beats per minute"
        elif close(60 / ref):
            hint = "that is the mean RR interval in seconds; the rate is 60 / RR"
        elif close(ref / fs):
            hint = f"the RR intervals are still in samples; divide them by fs ({fs:g} samples per second) for seconds"
        elif close(float(len(peaks))):
            hint = "that is the number of beats found, not a rate per minute"
        elif close(60 * len(peaks) * fs / len(signal)) and not math.isclose(ref, 60 * len(peaks) * fs / len(signal),
                                                                           abs_tol=tol):
            hint = (f"counting the beats and scaling the {len(signal) / fs:g} s to a minute gives {got:.1f}; the "
                    f"partial beats at both ends bias it. Use the mean interval between R peaks: about {ref:.1f}")
        else:
            hint = f"expected about {ref:.1f} beats/min (within {tol}), got {got:.4g}"
            if i == 2:
                hint += (". Right at 1000 Hz but not at 250 Hz: use the argument fs, both for the minimum distance "
                         "between peaks and to turn samples into seconds, not ecg.fs or a fixed number of samples")
            elif i == 3:
                hint += (". A fixed height threshold? This signal is in microvolts, not millivolts: make the "
                         "threshold relative to the signal (step 6 uses half its 99th percentile)")
        return _done(False, f"{label} of {on}: {hint}.", quiet)
    return _done(True, f"{label} within {tol} beats/min of the reference on {len(cases)} signals (leads II and V5, "
                       "lead II at 250 Hz, a made-up ECG in microvolts).", quiet)


def check_images_per_patient(answer: Any, patients: Any, quiet: bool = False) -> Feedback:
    """Check the number of images of each patient, for the patient id of every image in ``patients``.

    Used in 00, exercise 4 (``train.extras["patients"]`` of the simulated lesion set). ``answer`` is a dict
    ``{patient id: count}``, a pandas Series indexed by patient id, or an array of counts in the order of
    ``np.unique(patients)``: one count per patient who has images, no entry for ids without any.
    """
    label = "images per patient"
    if _unanswered(answer):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    pid = np.asarray(patients).ravel()
    ids, ref = np.unique(pid, return_counts=True)
    n_pt, n_img = len(ids), len(pid)
    form = (f"give one count per patient: an array of {n_pt} counts in the order of np.unique(patients), "
            "or a dict {patient: count}")
    if hasattr(answer, "columns"):
        return _done(False, f"{label}: that is a table; {form} (for example one column of it).", quiet)
    if hasattr(answer, "to_dict") and hasattr(answer, "index"):  # a pandas Series, indexed by patient id
        answer = answer.to_dict()
    if isinstance(answer, dict):
        key = int if np.issubdtype(ids.dtype, np.integer) else str  # ids as Python values, whatever their dtype
        try:
            got = {key(k): _number(v) for k, v in answer.items()}
        except (TypeError, ValueError):
            return _done(False, f"{label}: the keys of your dict must be patient ids (numbers); got "
                                f"{list(answer)[:3]!r:.60}.", quiet)
        if any(v is None for v in got.values()):
            return _done(False, f"{label}: each value of your dict must be one number, a count of images.", quiet)
        known = [key(p) for p in ids]
        missing = [p for p in known if p not in got]
        extra = sorted(k for k in got if k not in set(known))
        if extra and all(got[k] == 0 for k in extra):
            return _done(False, f"{label}: patient ids {extra[:5]} have no image in this set; leave them out "
                                "(count only the ids that occur).", quiet)
        if extra:
            return _done(False, f"{label}: patient id {extra[0]} does not occur in this set.", quiet)
        if missing:
            return _done(False, f"{label}: your dict has no entry for patient {missing[0]} ({len(missing)} of the "
                                f"{n_pt} patients missing).", quiet)
        arr = np.array([got[p] for p in known], dtype=np.float64)
    else:
        arr = _as_array(answer)
        if arr is None:
            return _done(False, f"{label}: {form}; got {type(answer).__name__} {answer!r:.60}.", quiet)
        if arr.ndim == 0:
            if np.all(ref == ref[0]) and arr == ref[0]:
                return _done(False, f"{label}: yes, every patient here has {ref[0]} images, but {form}, so that the "
                                    "check sees each patient (in another set they may differ).", quiet)
            return _done(False, f"{label}: one number for {n_pt} patients; {form}.", quiet)
        if arr.ndim == 2 and arr.shape == (2, n_pt) and np.array_equal(arr[0], ids):
            return _done(False, f"{label}: that is the pair (ids, counts); keep the counts only.", quiet)
        if arr.ndim == 2 and arr.shape == (n_pt, 2):
            return _done(False, f"{label}: pairs (patient, count)? Turn them into a dict, dict(pairs).", quiet)
        if arr.ndim != 1:
            return _done(False, f"{label}: your answer has shape {arr.shape}; {form}.", quiet)
        bincount_like = (np.issubdtype(ids.dtype, np.integer) and ids.min() >= 0 and len(arr) == ids.max() + 1
                         and len(arr) != n_pt)
        if bincount_like and np.array_equal(arr[ids], ref) and not arr[np.setdiff1d(np.arange(len(arr)), ids)].any():
            return _done(False, f"{label}: your {len(arr)} counts include a 0 for every id from 0 to {ids.max()} "
                                f"that has no image here (np.bincount counts every id up to the largest; these "
                                f"{len(arr) - n_pt} belong to patients of other splits, or to nobody). Keep the "
                                "entries of np.unique(patients).",
                         quiet)
        if len(arr) != n_pt:
            if len(arr) == n_img:
                what = "one number per image; group the images by patient"
            elif len(arr) == 2:
                what = "two numbers: counts per label? Count per patient instead"
            else:
                what = f"{len(arr)} numbers"
            return _done(False, f"{label}: the set has {n_pt} patients (np.unique(patients)); you gave {what}.",
                         quiet)
    if not np.all(np.isfinite(arr)):
        return _done(False, f"{label}: your counts contain nan or inf.", quiet)
    if np.array_equal(arr, ref):
        return _done(True, f"{label}: {n_pt} patients, {n_img} images"
                           + (f", {ref[0]} images each." if np.all(ref == ref[0]) else
                              f", {ref.min()} to {ref.max()} images each."), quiet)
    if arr.sum() != n_img:
        return _done(False, f"{label}: your counts add up to {arr.sum():g}, but the set has {n_img} images; every "
                            "image belongs to exactly one patient.", quiet)
    if np.array_equal(np.sort(arr), np.sort(ref)):
        return _done(False, f"{label}: the right counts, in another order; put them in the order of "
                            "np.unique(patients) (value_counts() sorts by count: add .sort_index()), or give a dict.",
                     quiet)
    k = int(np.flatnonzero(arr != ref)[0])
    return _done(False, f"{label}: patient {ids[k]} has {ref[k]} image{'s' * int(ref[k] != 1)}, you have {arr[k]:g} "
                        f"({int((arr != ref).sum())} of {n_pt} patients differ).", quiet)


# ---------------------------------------------------------------- notebook 02: the forecasting horizon
def _persistence_rmse(series: np.ndarray, window: int, horizon: int, last: int = 1, only_step: bool = False,
                      n: int | None = None) -> float:
    """RMSE of the persistence forecast on the windows of ``sequences.make_windows(series, window, horizon)``.

    ``last``: which sample of the window is repeated (1 = the last one, as taught); ``only_step``: score only
    the ``horizon``-th sample ahead; ``n``: use the first ``n`` windows only (those of a longer horizon).
    """
    count = len(series) - window - horizon + 1 if n is None else n
    start = np.arange(count)[:, None]
    seen = series[window - last: window - last + count][:, None]
    steps = np.arange(horizon - 1, horizon) if only_step else np.arange(horizon)
    target = series[start + window + steps[None, :]]
    return float(np.sqrt(np.mean((target - seen) ** 2)))


def check_horizon_rmse(answer: Any, series: Any, horizons: Any, window: int, scale: float = 1.0,
                       quiet: bool = False) -> Feedback:
    """Check the test RMSE of the persistence baseline at each forecast horizon (one number per horizon).

    Used in 02, exercise 3. For each ``h`` of ``horizons``: the windows of ``sequences.make_windows(series,
    window, h)``, the forecast repeats the last sample seen ``h`` times, RMSE over all ``h`` forecast samples,
    times ``scale`` (the standard deviation that standardised the series: µV). ``answer``: an array in the order
    of ``horizons``, or a dict ``{h: rmse}``. Agreement within 0.2 % (float32 sums) passes.
    """
    label = "persistence RMSE per horizon"
    if _unanswered(answer):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    hs = [int(h) for h in np.asarray(horizons).ravel()]
    s = np.asarray(series, dtype=np.float64).ravel()
    form = f"give one RMSE per horizon, {len(hs)} numbers in the order {hs} (or a dict {{h: rmse}})"
    if hasattr(answer, "to_dict") and hasattr(answer, "index") and not hasattr(answer, "columns"):
        answer = answer.to_dict()
    if isinstance(answer, dict):
        try:
            keyed = {int(k): v for k, v in answer.items()}
        except (TypeError, ValueError):
            return _done(False, f"{label}: the keys of your dict must be the horizons {hs}.", quiet)
        missing = [h for h in hs if h not in keyed]
        if missing:
            return _done(False, f"{label}: your dict has no entry for horizon {missing[0]}; {form}.", quiet)
        answer = [keyed[h] for h in hs]
    got = _as_array(answer)
    if got is None or got.ndim > 1:
        return _done(False, f"{label}: {form}; got {type(answer).__name__} {answer!r:.60}.", quiet)
    if got.ndim == 0:
        return _done(False, f"{label}: one number for {len(hs)} horizons; {form}.", quiet)
    if len(got) != len(hs):
        extra = (" (one error per step ahead? The exercise asks for the RMSE over all h forecast samples, for each h)"
                 if len(got) == max(hs) else "")
        return _done(False, f"{label}: {len(got)} numbers for {len(hs)} horizons{extra}; {form}.", quiet)
    if not np.all(np.isfinite(got)):
        return _done(False, f"{label}: your RMSEs contain nan or inf.", quiet)

    def per(fn: Callable[[int], float]) -> np.ndarray:
        return np.array([fn(h) for h in hs]) * scale

    ref = per(lambda h: _persistence_rmse(s, window, h))
    if np.allclose(got, ref, rtol=2e-3, atol=1e-9):
        return _done(True, f"{label}: " + ", ".join(f"h={h}: {v:.1f}" for h, v in zip(hs, got))
                           + " (growing with the horizon).", quiet)
    n_longest = len(s) - window - max(hs) + 1
    alternatives = {
        "these are in standardised units; multiply by sd to get microvolts": ref / scale if scale != 1 else None,
        "that is the mean squared error; take the square root": ref ** 2,
        "that is the squared error in standardised units; take the square root and multiply by sd":
            (ref / scale) ** 2 if scale != 1 else None,
        f"the right numbers in reverse order; keep the order of the horizons {hs}": ref[::-1],
        "these are the errors at exactly h samples ahead; the RMSE runs over all h forecast samples, 1 to h ahead, "
        "as in step 3": per(lambda h: _persistence_rmse(s, window, h, only_step=True)),
        f"off by one horizon: these are the RMSEs for horizons {[h + 1 for h in hs]}. A forecast of h samples "
        "covers the h samples right after the window": per(lambda h: _persistence_rmse(s, window, h + 1)),
        f"off by one horizon: these are the RMSEs for horizons {[h - 1 for h in hs]}. A forecast of h samples "
        "covers the h samples right after the window":
            per(lambda h: _persistence_rmse(s, window, h - 1)) if min(hs) > 1 else None,
        "persistence repeats the last sample of the window (X[:, -1]); you repeated the one before it":
            per(lambda h: _persistence_rmse(s, window, h, last=2)),
        "persistence repeats the last sample of the window (X[:, -1]), not the first":
            per(lambda h: _persistence_rmse(s, window, h, last=window)),
        f"you used the same {n_longest} windows (those of the longest horizon) for every horizon; cut the windows "
        "again for each h (make_windows(series, WINDOW, h)) so that each horizon uses all its test windows":
            per(lambda h: _persistence_rmse(s, window, h, n=n_longest)),
    }
    for hint, alt in alternatives.items():
        if alt is not None and np.allclose(got, alt, rtol=2e-3, atol=1e-9):
            return _done(False, f"{label}: {hint}.", quiet)
    k = int(np.flatnonzero(~np.isclose(got, ref, rtol=2e-3, atol=1e-9))[0])
    hint = (f"at horizon {hs[k]} your RMSE {got[k]:.4g} is {'too high' if got[k] > ref[k] else 'too low'} "
            f"({int((~np.isclose(got, ref, rtol=2e-3, atol=1e-9)).sum())} of {len(hs)} differ)")
    if 10 in hs:
        hint += f". Horizon 10 must give the persistence RMSE of the table of step 3 ({ref[hs.index(10)]:.1f})"
    return _done(False, f"{label}: {hint}; use the test part of the series, the last sample of each window, and "
                        "the square root of the mean over all windows and forecast samples.", quiet)


__all__ += ["check_heart_rate", "check_images_per_patient", "check_horizon_rmse"]
STUBS.update({
    "check_heart_rate": (
        "from helpers.checks import check_heart_rate\n\n\n"
        "def heart_rate(signal, fs):\n"
        "    # TODO: your answer: beats per minute of one ECG lead sampled at fs Hz (R peaks, then RR intervals)\n"
        "    ...\n\n\n"
        "check_heart_rate(heart_rate)"
    ),
})


# ---------------------------------------------------------------- one number against a recomputed reference
def _scalar_answer(label: str, answer: Any, quiet: bool, per_item: str = "") -> tuple[float | None, Feedback | None]:
    """``(number, None)`` for an answer that is one finite number, else ``(None, feedback)`` in words."""
    if _unanswered(answer):
        return None, _done(False, f"{label}: {_FILL_IN}", quiet)
    if isinstance(answer, (str, bytes, dict)):
        return None, _done(False, f"{label}: expected one number, got {type(answer).__name__} {answer!r:.60}.", quiet)
    got = _number(answer)
    if got is None:
        size = np.size(answer) if not isinstance(answer, (set, frozenset)) else -1
        hint = f" (that is {size} numbers: {per_item})" if per_item and size > 1 else ""
        return None, _done(False, f"{label}: expected one number, got {type(answer).__name__}{hint}.", quiet)
    if not math.isfinite(got):
        return None, _done(False, f"{label}: your answer is {got}; expected a finite number.", quiet)
    return got, None


def _judge_number(label: str, got: float, ref: float, atol: float, alternatives: dict[str, float | None],
                  right: str, quiet: bool, fraction: bool = True, how: str = "") -> Feedback:
    """Correct within ``atol``; else the first known mistake whose value ``got`` matches; else too high / too low."""
    if abs(got - ref) <= atol:
        return _done(True, f"{label}: {right}", quiet)
    for hint, value in alternatives.items():
        if value is not None and math.isfinite(value) and abs(got - value) <= atol and abs(value - ref) > atol:
            return _done(False, f"{label}: {hint}.", quiet)
    if fraction and 1 < got <= 100 and abs(got / 100 - ref) <= atol:
        return _done(False, f"{label}: that looks like a percentage; give a fraction between 0 and 1 "
                            f"({got / 100:.3f}, not {got:g}).", quiet)
    if fraction and not 0 <= got <= 1:
        return _done(False, f"{label}: {got:.4g} cannot be right, it is a fraction between 0 and 1.", quiet)
    return _done(False, f"{label}: {got:.3f} is {'too high' if got > ref else 'too low'} (off by more than "
                        f"{atol:g}){'; ' + how if how else ''}.", quiet)


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _positive_column(pred: Any) -> np.ndarray:
    """The positive-class probability from ``model.predict``: the only column, or column 1 of two."""
    p = np.asarray(pred, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 2:
        return p[:, 1]
    return p.reshape(len(p), -1)[:, -1]


def check_pointing_game(answer: Any, maps: Any, centers: Any, radii: Any, tolerance: float = 1.0,
                        quiet: bool = False) -> Feedback:
    """Check a pointing-game score: the share of ``maps`` whose maximum lies within ``radius + tolerance`` px
    of the lesion centre, recomputed with :func:`helpers.explain.pointing_game` (agreement within 0.001).

    Used in 05, exercise 1 (occlusion maps, tolerance ``TOL``) and exercise 2 (Grad-CAM conv 2 at tolerance 0).
    """
    from . import explain

    label = f"pointing-game score (tolerance {tolerance:g} px)"
    got, fb = _scalar_answer(label, answer, quiet, per_item="one hit per image? give their mean, the share of hits")
    if fb is not None:
        arr = _as_array(answer) if not _unanswered(answer) else None
        if arr is not None and arr.ndim == 1 and len(arr) == len(np.asarray(radii)) and np.isin(arr, (0, 1)).all():
            return _done(False, f"{label}: these are the {len(arr)} hits themselves; the score is their mean "
                                "(the share of hits).", quiet)
        return fb
    ref = float(explain.pointing_game(maps, centers, radii, tolerance).mean())
    n = len(np.asarray(radii))
    shape = np.asarray(maps).shape[1:3]
    alternatives: dict[str, float | None] = {
        f"that is the number of hits; divide by the {n} images": ref * n if n > 1 else None,
        "that is the chance level (a random pixel), not the score of the maps":
            explain.chance_hit_rate(tuple(shape), centers, radii, tolerance),
        "that is the share of misses; the score is the share of hits": 1 - ref,
    }
    for other in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0):
        if other != tolerance:
            alternatives[f"that is the score at tolerance {other:g} px; this one asks for {tolerance:g} px "
                         "(the tolerance is added to the radius)"] = float(
                explain.pointing_game(maps, centers, radii, other).mean())
    return _judge_number(label, got, ref, 1e-3, alternatives,
                         f"{got:.3f} ({round(ref * n)} hits of {n} maps).", quiet,
                         how="score the same maps, centres and radii with explain.pointing_game(maps, centers, radii, "
                             f"{tolerance:g}) and take the mean")


def check_late_fusion_auc(answer: Any, model: Any, x_train: Any, m_train: Any, y_train: Any, x_test: Any,
                          m_test: Any, y_test: Any, quiet: bool = False) -> Feedback:
    """Check the test AUC of late fusion: a logistic regression on (logit of the image model's probability,
    marker), fitted on the training set, scored on the test set (agreement within 0.005).

    Used in 05, exercise 3. ``model`` is the image CNN (``model.predict(x)[:, 1]`` is the lesion probability).
    """
    from sklearn.linear_model import LogisticRegression

    from . import metrics

    label = "late-fusion test AUC"
    got, fb = _scalar_answer(label, answer, quiet, per_item="one probability per image? score them with roc_auc_score")
    if fb is not None:
        return fb
    p_tr = _positive_column(model.predict(x_train, verbose=0))
    p_te = _positive_column(model.predict(x_test, verbose=0))
    y_tr, y_te = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    m_tr, m_te = np.asarray(m_train, dtype=np.float64).ravel(), np.asarray(m_test, dtype=np.float64).ravel()

    def fused(a_tr: np.ndarray, a_te: np.ndarray) -> tuple[LogisticRegression, np.ndarray]:
        return LogisticRegression().fit(np.column_stack([a_tr, m_tr]), y_tr), np.column_stack([a_te, m_te])

    lr, f_te = fused(metrics.logit(p_tr), metrics.logit(p_te))
    ref = _auc(y_te, lr.predict_proba(f_te)[:, 1])
    lr_p, f_te_p = fused(p_tr, p_te)
    alternatives = {
        "that is the AUC of the image CNN alone; feed its logit and the marker to the logistic regression":
            _auc(y_te, p_te),
        "that is the AUC of the marker alone; the fusion uses the image CNN's logit too": _auc(y_te, m_te),
        "that is the AUC on the training set; score the fitted regression on the test set":
            _auc(y_tr, lr.predict_proba(np.column_stack([metrics.logit(p_tr), m_tr]))[:, 1]),
        "that is the AUC of hard decisions (predict gives 0/1); use predict_proba(...)[:, 1], the probability":
            _auc(y_te, lr.predict(f_te)),
        "that is 1 - AUC: the probability of the lesion class is column 1 of predict_proba, not column 0":
            1 - ref,
        "close, but you fed the probability itself; the exercise feeds it as a logit (metrics.logit), which a "
        "logistic regression combines linearly with the marker": _auc(y_te, lr_p.predict_proba(f_te_p)[:, 1]),
    }
    return _judge_number(label, got, ref, 5e-3, alternatives,
                         f"{got:.3f} (image logit + marker, fitted on the {len(y_tr)} training images).", quiet,
                         how="fit LogisticRegression on the columns (logit of the CNN's training probabilities, "
                             "training marker), then roc_auc_score(y_test, predict_proba(test features)[:, 1])")


def check_reversed_auc(answer: Any, model: Any, volumes: Any, y: Any, quiet: bool = False) -> Feedback:
    """Check the test AUC of a sequence model fed the slices in reverse order (``volumes[:, ::-1]``), recomputed
    with ``model.predict`` (agreement within 0.005).

    Used in 02, exercise 2 (the one-way SimpleRNN on the simulated test volumes, without retraining).
    """
    label = "test AUC with the slices reversed"
    got, fb = _scalar_answer(label, answer, quiet, per_item="one probability per volume? score them with "
                                                           "roc_auc_score")
    if fb is not None:
        return fb
    v, yy = np.asarray(volumes), np.asarray(y).ravel()
    ref = _auc(yy, _positive_column(model.predict(np.ascontiguousarray(v[:, ::-1]), verbose=0)))
    forward = _auc(yy, _positive_column(model.predict(v, verbose=0)))
    alternatives = {
        "that is the AUC with the slices in their usual order; reverse the slice axis, volumes[:, ::-1]": forward,
        "that is 1 - AUC: score the probability of a lesion (label 1)": 1 - ref,
    }
    if v.ndim >= 3:
        alternatives["you reversed the rows of each slice (axis 2); the slices are axis 1: volumes[:, ::-1]"] = _auc(
            yy, _positive_column(model.predict(np.ascontiguousarray(v[:, :, ::-1]), verbose=0)))
    return _judge_number(label, got, ref, 5e-3, alternatives,
                         f"{got:.3f} (in the usual order {forward:.3f}).", quiet,
                         how="predict on np.ascontiguousarray(volumes[:, ::-1]) with the trained model, then "
                             "roc_auc_score(y, probabilities)")


def check_tta_gain(answer: Any, model: Any, x: Any, y: Any, quiet: bool = False) -> Feedback:
    """Check the change of the validation AUC from test-time augmentation: AUC of the mean probability over each
    image and its left-right mirror (``x[:, :, ::-1]``) minus the AUC of the plain probability (within 0.002).

    Used in 01, exercise 4. ``model.predict(x)[:, 1]`` is the probability scored by the AUC, as in the notebook.
    """
    label = "AUC with TTA minus AUC without"
    got, fb = _scalar_answer(label, answer, quiet)
    if fb is not None:
        return fb
    xx, yy = np.asarray(x), np.asarray(y).ravel()

    def prob(images: np.ndarray) -> np.ndarray:
        return _positive_column(model.predict(np.ascontiguousarray(images), verbose=0))

    plain, mirrored = prob(xx), prob(xx[:, :, ::-1])
    auc_plain = _auc(yy, plain)
    ref = _auc(yy, (plain + mirrored) / 2) - auc_plain
    alternatives = {
        "the sign is reversed: TTA minus plain, so a gain is positive": -ref,
        "that is the AUC with TTA itself; subtract the AUC without it": ref + auc_plain,
        "you scored the mirror images alone; TTA averages the probabilities of the image and its mirror":
            _auc(yy, mirrored) - auc_plain,
        "you flipped up-down (axis 1); a left-right mirror reverses the columns, x[:, :, ::-1]":
            _auc(yy, (plain + prob(xx[:, ::-1])) / 2) - auc_plain,
    }
    if abs(got) > 1 and abs(got / 100 - ref) <= 2e-3:
        return _done(False, f"{label}: that looks like percentage points; give the difference of two AUCs "
                            f"({got / 100:+.3f}).", quiet)
    if abs(got - ref) <= 2e-3:
        return _done(True, f"{label}: {got:+.3f} (without TTA {auc_plain:.3f}).", quiet)
    return _judge_number(label, got, ref, 2e-3, alternatives, "", quiet, fraction=False,
                         how="average model.predict(x)[:, 1] and model.predict(x[:, :, ::-1])[:, 1], take its AUC "
                             "and subtract the AUC of the plain probability")


def check_otsu_dice(answer: Any, images: Any, truth: Any, quiet: bool = False) -> Feedback:
    """Check the mean Dice per image of Otsu's method: each image thresholded at its own
    ``skimage.filters.threshold_otsu``, pixels above it against the ``truth`` masks (agreement within 0.002).

    Used in 06, exercise 3 (white matter on the lesion-free test images).
    """
    from skimage.filters import threshold_otsu

    label = "mean Dice of Otsu's threshold"
    got, fb = _scalar_answer(label, answer, quiet, per_item="one Dice per image? give their mean")
    if fb is not None:
        return fb
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    t = np.asarray(truth).astype(bool).reshape(imgs.shape)
    pred = np.stack([im > threshold_otsu(im) for im in imgs])
    per = np.array([_dice_reference(a, b) for a, b in zip(t, pred)])
    ref = float(per.mean())
    inter, union = (t & pred).sum(axis=(1, 2)), (t | pred).sum(axis=(1, 2))
    one_cut = imgs > threshold_otsu(imgs)
    alternatives = {
        "that is the Dice of all pixels pooled; the exercise asks for the mean of the Dice of each image":
            _dice_reference(t, pred),
        "that is the mean IoU; Dice = 2|A∩B| / (|A| + |B|)": float(np.mean(np.where(union, inter / np.maximum(union, 1),
                                                                                       1.0))),
        "you used one threshold for all images together; Otsu's method picks one per image (threshold_otsu(im) for "
        "each im)": float(np.mean([_dice_reference(a, b) for a, b in zip(t, one_cut)])),
        "you kept the pixels below the threshold; white matter is the bright side (im > threshold)":
            float(np.mean([_dice_reference(a, ~b) for a, b in zip(t, pred)])),
    }
    return _judge_number(label, got, ref, 2e-3, alternatives, f"{got:.3f} over {len(per)} images.", quiet,
                         how="for each image: mask = im > threshold_otsu(im), Dice against its truth mask; then "
                             "the mean over the images")


__all__ += ["check_pointing_game", "check_late_fusion_auc", "check_reversed_auc", "check_tta_gain",
            "check_otsu_dice"]


# ---------------------------------------------------------------- issue 16: tuples and per-group answers
def _numbers(label: str, answer: Any, n: int, what: str, quiet: bool) -> tuple[list[float] | None, Feedback | None]:
    """``(n finite numbers, None)`` for a tuple/list/array of ``n`` numbers, else ``(None, feedback)`` in words."""
    if _unanswered(answer) or (isinstance(answer, (tuple, list)) and any(_unanswered(a) for a in answer)):
        return None, _done(False, f"{label}: {_FILL_IN}", quiet)
    if hasattr(answer, "low") and hasattr(answer, "high") and n == 2:
        answer = (answer.low, answer.high)                     # a metrics.Interval
    arr = None if isinstance(answer, (str, bytes, dict, set, frozenset)) else _as_array(answer)
    if arr is None or arr.ndim != 1 or len(arr) != n:
        shape = f"shape {arr.shape}" if arr is not None else type(answer).__name__
        return None, _done(False, f"{label}: expected {what} ({n} numbers), got {shape}.", quiet)
    if not np.isfinite(arr).all():
        return None, _done(False, f"{label}: {np.round(arr, 4).tolist()} holds a non-finite number.", quiet)
    return [float(v) for v in arr], None


def check_stray_pixel_metrics(answer: Any, truth: Any, mask: Any, quiet: bool = False) -> Feedback:
    """Check ``answer = (dice, hausdorff, hd95)`` of ``mask`` with one false-positive pixel added at row 0,
    column 0, against ``truth``, recomputed with :func:`helpers.metrics.dice` and :func:`helpers.metrics.hausdorff`
    (Dice within 0.001, distances within 0.05 px). ``mask`` is the mask *before* the stray pixel.

    Used in 06, exercise 4.
    """
    from . import metrics

    label = "(Dice, Hausdorff, HD95) with the stray pixel"
    got, fb = _numbers(label, answer, 3, "(dice, hausdorff, hd95)", quiet)
    if fb is not None:
        return fb
    t, m = np.asarray(truth).astype(bool), np.asarray(mask).astype(bool)
    t = t[..., 0] if t.ndim == 3 and t.shape[-1] == 1 else t
    m = m[..., 0] if m.ndim == 3 and m.shape[-1] == 1 else m
    if t.shape != m.shape or t.ndim != 2:
        return _done(False, f"{label}: the checker needs one truth and one predicted 2-D mask of one shape; got "
                            f"{t.shape} and {m.shape}.", quiet)

    def three(mm: np.ndarray) -> np.ndarray:
        return np.array([metrics.dice(t, mm), metrics.hausdorff(t, mm), metrics.hausdorff(t, mm, percentile=95)])

    def stray(r: int, c: int) -> np.ndarray:
        out = m.copy()
        out[r, c] = True
        return out

    ref, clean, g = three(stray(0, 0)), three(m), np.array(got)
    tol = np.array([1e-3, 0.05, 0.05])

    def near(values: np.ndarray) -> bool:
        return bool(np.all(np.abs(g - values) <= tol)) and not bool(np.all(np.abs(values - ref) <= tol))

    if np.all(np.abs(g - ref) <= tol):
        return _done(True, f"{label}: Dice {ref[0]:.3f} (was {clean[0]:.3f}), Hausdorff {ref[1]:.1f} px (was "
                           f"{clean[1]:.1f}), HD95 {ref[2]:.1f} px (was {clean[2]:.1f}).", quiet)
    h, w = m.shape
    mistakes = {
        "these are the values without the stray pixel; set mask[0, 0] = True on a copy, then measure": clean,
        "Hausdorff and HD95 are swapped; the order is (dice, hausdorff, hd95)": ref[[0, 2, 1]],
        "the Dice is given in percent; give a fraction between 0 and 1": ref * [100, 1, 1],
    }
    for (r, c), name in (((0, w - 1), "top right"), ((h - 1, 0), "bottom left"), ((h - 1, w - 1), "bottom right")):
        hint = f"you put the pixel in the {name} corner; the exercise puts it at row 0, column 0"
        mistakes[hint] = three(stray(r, c))
    for hint, values in mistakes.items():
        if near(values):
            return _done(False, f"{label}: {hint}.", quiet)
    names = ("Dice", "Hausdorff", "HD95")
    k = int(np.argmax(np.abs(g - ref) > tol))
    return _done(False, f"{label}: your {names[k]} {g[k]:.3f} is {'too high' if g[k] > ref[k] else 'too low'}; "
                        "measure the copy with the pixel using metrics.dice(truth, noisy), metrics.hausdorff(truth, "
                        "noisy) and metrics.hausdorff(truth, noisy, percentile=95).", quiet)


def _patient_bootstrap_ci(positive: np.ndarray, score: np.ndarray, patients: np.ndarray, n_boot: int,
                          seed: int) -> tuple[float, float, float]:
    """The 95 % interval of the AUC over resamples of whole patients, as 04, exercise 2 teaches: ``n_boot``
    draws of ``rng.choice(ids, len(ids))`` with ``rng = np.random.default_rng(seed)``, all images of each drawn
    patient, resamples with one class only skipped. Returns ``(low, high, share of skipped resamples)``."""
    from . import metrics

    ids, inverse = np.unique(patients, return_inverse=True)
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, len(ids)))
    for k in range(n_boot):
        drawn = np.searchsorted(ids, rng.choice(ids, len(ids)))
        counts[k] = np.bincount(drawn, minlength=len(ids))
    aucs = metrics.weighted_auc(positive, score, counts[:, inverse])
    ok = np.isfinite(aucs)
    lo, hi = np.quantile(aucs[ok], [0.025, 0.975])
    return float(lo), float(hi), float(1 - ok.mean())


def check_patient_bootstrap_ci(answer: Any, y: Any, score: Any, patients: Any, n_boot: int = 1000, seed: int = 0,
                               quiet: bool = False) -> Feedback:
    """Check ``answer = (low, high)``, the 95 % interval of the AUC from a bootstrap over **patients**
    (``n_boot`` resamples with ``np.random.default_rng(seed)``, each ``rng.choice(ids, len(ids))``, all images of
    each drawn patient, one-class resamples skipped), recomputed with :func:`helpers.metrics.weighted_auc`.

    Tolerance: each end within 0.002 + 3 standard deviations of that end over 8 other seeds, so the same method
    with another seed (or the stratified :func:`helpers.metrics.bootstrap_auc` with ``patients``) passes. An
    interval from resampled images is named (it is narrower), and so are percentages and a reversed order.
    Used in 04, exercise 2.
    """
    from . import metrics

    label = "95 % patient-bootstrap interval of the AUC"
    got, fb = _numbers(label, answer, 2, "(low, high)", quiet)
    if fb is not None:
        return fb
    yy, s, pid = np.asarray(y).ravel(), np.asarray(score, dtype=np.float64).ravel(), np.asarray(patients).ravel()
    positive = yy == 1
    lo, hi, _ = _patient_bootstrap_ci(positive, s, pid, n_boot, seed)
    others = np.array([_patient_bootstrap_ci(positive, s, pid, n_boot, seed + 1 + k)[:2] for k in range(8)])
    tol = 0.002 + 3 * others.std(axis=0, ddof=1)
    g, ref = np.array(got), np.array([lo, hi])
    auc = _auc(positive, s)
    image = metrics.bootstrap_auc(positive.astype(int), s, n_boot=n_boot, seed=seed)
    if np.all(np.abs(g - ref) <= tol):
        return _done(True, f"{label}: {g[0]:.3f} to {g[1]:.3f} (width {g[1] - g[0]:.3f}; by image "
                           f"{image.low:.3f} to {image.high:.3f}, width {image.high - image.low:.3f}).", quiet)
    if np.all(np.abs(g[::-1] - ref) <= tol):
        return _done(False, f"{label}: the ends are reversed; give (low, high).", quiet)
    if np.all(np.abs(g / 100 - ref) <= tol):
        return _done(False, f"{label}: that looks like percentages; give fractions between 0 and 1.", quiet)
    if not (0 <= g[0] <= g[1] <= 1):
        return _done(False, f"{label}: ({g[0]:.4g}, {g[1]:.4g}) cannot be an interval of an AUC: expected "
                            "0 ≤ low ≤ high ≤ 1.", quiet)
    draws = np.random.default_rng(seed).integers(0, len(s), (n_boot, len(s)))
    plain = metrics.weighted_auc(positive, s, np.stack([np.bincount(r, minlength=len(s)) for r in draws]))
    by_image = [np.array([image.low, image.high]), np.quantile(plain[np.isfinite(plain)], [0.025, 0.975])]
    narrower = g[1] - g[0] < (hi - lo) - tol.sum()
    if any(np.all(np.abs(g - b) <= tol) for b in by_image) or (g[0] <= auc <= g[1] and narrower):
        return _done(False, f"{label}: your interval (width {g[1] - g[0]:.3f}) is much narrower than the one over "
                            f"patients (width about {hi - lo:.3f}): did you resample images instead of patients? "
                            "Draw patient ids, then take all images of each drawn patient.", quiet)
    if not g[0] <= auc <= g[1]:
        return _done(False, f"{label}: ({g[0]:.3f}, {g[1]:.3f}) does not contain the test AUC {auc:.3f}; take the "
                            "2.5th and 97.5th percentiles of the resampled AUCs.", quiet)
    k = int(np.argmax(np.abs(g - ref) > tol))
    side = "too high" if g[k] > ref[k] else "too low"
    return _done(False, f"{label}: your {('low', 'high')[k]} end {g[k]:.3f} is {side} "
                        f"(tolerance {tol[k]:.3f}, which covers another seed); resample patients {n_boot} times and "
                        "take np.quantile(aucs, [0.025, 0.975]).", quiet)


__all__ += ["check_stray_pixel_metrics", "check_patient_bootstrap_ci"]


# ---------------------------------------------------------------- 03, exercise 2: which lesions the detector finds
def _lesion_group_reference(maps: np.ndarray, peak: np.ndarray, lesion: np.ndarray, centers: np.ndarray,
                            radii: np.ndarray, contrasts: np.ndarray,
                            tolerance: float) -> dict[str, tuple[float, float]]:
    """Hit rate of the map peak and AUC of the map-peak score against all lesion-free images, per lesion group."""
    from . import explain

    hits = explain.pointing_game(maps[lesion], centers, radii, tolerance=tolerance)
    groups = {"small": radii <= np.median(radii), "large": radii > np.median(radii),
              "bright": contrasts > 0, "dark": contrasts < 0}
    free = peak[~lesion]
    out = {}
    for name, g in groups.items():
        y = np.r_[np.zeros(len(free)), np.ones(int(g.sum()))]
        out[name] = (float(hits[g].mean()), _auc(y, np.r_[free, peak[lesion][g]]))
    return out


def check_lesion_groups(answer: Any, maps: Any, peak: Any, lesion: Any, centers: Any, radii: Any, contrasts: Any,
                        tolerance: float = 1.5, quiet: bool = False) -> Feedback:
    """Check ``answer = {"small": (hit_rate, auc), "large": ..., "bright": ..., "dark": ...}``: per lesion group
    (radius at most / above the median, contrast above / below 0), the share of the lesion images whose error-map
    peak lies on the lesion (:func:`helpers.explain.pointing_game` at ``tolerance`` px) and the AUC of the map-peak
    score of that group's images against **all** lesion-free images. Recomputed from the inputs; agreement within
    0.002. ``contrasts``: the lesion images' contrasts. Used in 03, exercise 2.
    """
    label = "hit rate and AUC per lesion group"
    if _unanswered(answer):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    if not isinstance(answer, dict):
        return _done(False, f"{label}: expected a dict {{group: (hit rate, AUC)}} with the groups small, large, "
                            f"bright and dark; got {type(answer).__name__}.", quiet)
    m, s, les = np.asarray(maps), np.asarray(peak, dtype=np.float64), np.asarray(lesion, dtype=bool)
    c, r, k = np.asarray(centers), np.asarray(radii, dtype=np.float64), np.asarray(contrasts, dtype=np.float64)
    ref = _lesion_group_reference(m, s, les, c, r, k, tolerance)
    missing = [g for g in ref if g not in answer]
    if missing:
        return _done(False, f"{label}: no entry for {', '.join(missing)}; the keys are small, large, bright, dark.",
                     quiet)
    other_tol = {t: _lesion_group_reference(m, s, les, c, r, k, t) for t in (0.0, 1.0, 2.0) if t != tolerance}
    for group, (hit_ref, auc_ref) in ref.items():
        pair = answer[group]
        if _unanswered(pair):
            return _done(False, f"{label}: {group}: {_FILL_IN}", quiet)
        values = _as_array(pair)
        if values is None or values.shape != (2,) or not np.isfinite(values).all():
            return _done(False, f"{label}: {group}: expected two numbers (hit rate, AUC); got {pair!r:.60}.", quiet)
        hit, auc = (float(v) for v in values)
        if abs(hit - auc_ref) <= 0.002 and abs(auc - hit_ref) <= 0.002 and abs(hit - hit_ref) > 0.002:
            return _done(False, f"{label}: {group}: the two numbers are swapped; give (hit rate, AUC).", quiet)
        if abs(hit - hit_ref) > 0.002:
            for t, other in other_tol.items():
                if abs(hit - other[group][0]) <= 0.002:
                    return _done(False, f"{label}: {group}: that hit rate is for a tolerance of {t:g} px; the "
                                        f"exercise uses {tolerance:g} px, as step 3 does.", quiet)
            swap = {"small": "large", "large": "small", "bright": "dark", "dark": "bright"}[group]
            if abs(hit - ref[swap][0]) <= 0.002:
                return _done(False, f"{label}: {group}: that is the hit rate of the {swap} lesions; check the "
                                    "group's condition (radius vs its median, sign of the contrast).", quiet)
            return _done(False, f"{label}: {group}: hit rate {hit:.3f} is {'too high' if hit > hit_ref else 'too low'};"
                                " take the mean of pointing_game's hits over the group's lesion images.", quiet)
        if abs(auc - auc_ref) > 0.002:
            if abs(auc - (1 - auc_ref)) <= 0.002:
                return _done(False, f"{label}: {group}: that is 1 − AUC; a higher map peak should mean 'lesion', "
                                    "so give the lesion images label 1.", quiet)
            return _done(False, f"{label}: {group}: AUC {auc:.3f} is {'too high' if auc > auc_ref else 'too low'}; "
                                "score the group's lesion images (label 1) against all lesion-free test images "
                                "(label 0), not against the other lesion images.", quiet)
    summary = ", ".join(f"{g} {h:.3f}/{a:.3f}" for g, (h, a) in ref.items())
    return _done(True, f"{label} (hit rate/AUC): {summary}.", quiet)


__all__ += ["check_lesion_groups"]


# ---------------------------------------------------------------- 04, exercise 3: cross-validation that leaks
def check_leaky_cv(answer: Any, estimator: Any, features: Any, y: Any, patients: Any, quiet: bool = False,
                   atol: float = 0.01) -> Feedback:
    """Check ``answer = (mean AUC with folds by image, mean AUC with folds by patient)``: 5-fold cross-validation of
    ``estimator`` with ``StratifiedKFold(5, shuffle=True, random_state=0)`` and with
    ``StratifiedGroupKFold(5, shuffle=True, random_state=0)`` grouped by ``patients``, recomputed here (one thread).
    ``atol`` (0.01) also admits another ``random_state``. Used in 04, exercise 3.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    label = "mean cross-validated AUC (folds by image, folds by patient)"
    if _unanswered(answer):
        return _done(False, f"{label}: {_FILL_IN}", quiet)
    values = _as_array(answer)
    if values is None or values.shape != (2,) or not np.isfinite(values).all():
        return _done(False, f"{label}: expected two numbers, (by image, by patient); got {answer!r:.60}.", quiet)
    x, target, groups = np.asarray(features), np.asarray(y), np.asarray(patients)
    with threadpool_limits(1):
        by_image = cross_val_score(clone(estimator), x, target, scoring="roc_auc",
                                   cv=StratifiedKFold(5, shuffle=True, random_state=0))
        by_patient = cross_val_score(clone(estimator), x, target, groups=groups, scoring="roc_auc",
                                     cv=StratifiedGroupKFold(5, shuffle=True, random_state=0))
    ref = np.array([by_image.mean(), by_patient.mean()])
    if np.all(np.abs(values - ref) <= atol):
        return _done(True, f"{label}: {ref[0]:.3f} by image, {ref[1]:.3f} by patient; the folds by image inflate "
                           f"the AUC by {ref[0] - ref[1]:+.3f}.", quiet)
    if np.all(np.abs(values[::-1] - ref) <= atol):
        return _done(False, f"{label}: the two are swapped; give (folds by image, folds by patient).", quiet)
    if np.all(np.abs(values / 100 - ref) <= atol):
        return _done(False, f"{label}: those look like percentages; give fractions between 0 and 1.", quiet)
    stds = np.array([by_image.std(ddof=1), by_patient.std(ddof=1)])
    if np.all(np.abs(values - stds) <= atol) or np.all(np.abs(values - by_image.std()) <= atol):
        return _done(False, f"{label}: those are the spreads over the folds; give the means.", quiet)
    if abs(values[1] - ref[0]) <= atol and abs(values[0] - ref[0]) <= atol:
        return _done(False, f"{label}: both numbers are the by-image result; the second needs StratifiedGroupKFold "
                            "with groups=patients (cross_val_score(..., groups=...)).", quiet)
    k = int(np.argmax(np.abs(values - ref) > atol))
    what = ("folds by image (StratifiedKFold)", "folds by patient (StratifiedGroupKFold, groups=patients)")[k]
    side = "too high" if values[k] > ref[k] else "too low"
    return _done(False, f"{label}: the {what} result {values[k]:.3f} is {side} (tolerance {atol:g}); use 5 shuffled "
                        "folds and scoring='roc_auc', and take the mean over the folds.", quiet)


__all__ += ["check_leaky_cv"]
