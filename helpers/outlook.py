"""Small plumbing for the outlook notebook's demos: noisy labels and a simulated tabular marker.

Both are SIMULATED: they exist to measure ideas (label noise, multimodal fusion), not to describe patients.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _labels(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iub":
        raise ValueError(f"labels must be a non-empty 1-D integer array; got shape {arr.shape}, dtype {arr.dtype}.")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError("labels must be binary (0 or 1).")
    return arr.astype(np.int64)


def flip_labels(y: Any, share: float, seed: int = 0) -> np.ndarray:
    """A copy of binary labels ``y`` with exactly ``round(share * N)`` of them, picked at random, flipped (0 ↔ 1).

    This is symmetric label noise: the same chance of error for both classes.
    """
    arr = _labels(y)
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1; got {share!r}.")
    rng = np.random.default_rng(seed)
    flip = rng.choice(len(arr), size=int(round(share * len(arr))), replace=False)
    out = arr.copy()
    out[flip] = 1 - out[flip]
    return out


def simulated_marker(y: Any, patients: Any, separation: float = 1.0, visit_noise: float = 0.3,
                     seed: int = 0) -> np.ndarray:
    """A SIMULATED blood marker per image, shape (N, 1), float32, in standard units.

    Each patient gets one value drawn from N(separation * label, 1) (a patient's images share the label);
    each image (a visit) adds N(0, visit_noise²). Diagnosed patients therefore read higher on average,
    but the two groups overlap: alone the marker is a weak test, next to the image it adds information.
    """
    arr = _labels(y)
    pat = np.asarray(patients)
    if pat.shape != arr.shape:
        raise ValueError(f"patients must have one id per label; got {pat.shape} for {arr.shape} labels.")
    if visit_noise < 0:
        raise ValueError(f"visit_noise must be ≥ 0; got {visit_noise!r}.")
    if pat.dtype.kind not in "iu" or (pat < 0).any():
        raise ValueError("patients must be non-negative integer ids.")
    ids, first, inverse = np.unique(pat, return_index=True, return_inverse=True)
    if (arr != arr[first][inverse]).any():
        raise ValueError("a patient has images with different labels; "
                         "the marker is drawn per patient and needs one label each.")
    # one draw per patient id, so a patient reads the same in whichever split it lands
    patient_noise = np.random.default_rng(seed).normal(0, 1, int(ids.max()) + 1)[ids]
    visits = np.random.default_rng([seed, int(ids.min()), len(arr)]).normal(0, visit_noise, len(arr))
    value = (separation * arr[first] + patient_noise)[inverse] + visits
    return value[:, None].astype(np.float32)
