"""Dataset shift: the same patients seen through another hospital's scanner (notebook 07, step 1).

Two kinds of shift, both deterministic from a seed and the identity at severity 0:

- :func:`corrupt` applies one *acquisition corruption* to real images (Gaussian noise, blur, lower
  contrast, a gamma curve, JPEG compression) at a severity from 0 (none) to 5 (strong), in the spirit
  of MedMNIST-C (Di Salvo et al., 2024). The severity levels are this course's own, not MedMNIST-C's.
- :func:`second_site` turns the **simulated** lesion images (``simlesion2d``) into images of a
  simulated second site: another noise texture (streaks along the rows), a curved bias field, another
  intensity curve and a lower resolution. It is a transform of the existing simulated images, so the
  patients, lesions and labels stay the same; only the "scanner" changes.

:func:`augment_with_corruptions` makes a training set more robust by corrupting a share of its
images at random (step 1 of notebook 07 trains with it and tests on a corruption it never saw).

Every function takes and returns uint8 images ``(N, H, W)`` or ``(N, H, W, 1)`` on the 0..255 scale,
as ``helpers.data.load`` gives them, and raises :class:`ShiftInputError` (a ``ValueError``) with
what to fix on bad input.

>>> import numpy as np
>>> from helpers import shift
>>> x = np.full((2, 28, 28), 100, np.uint8)
>>> bool(np.array_equal(shift.corrupt(x, "noise", 0), x))
True
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

#: Severity levels: 0 is the original image, 5 the strongest corruption.
SEVERITIES = (0, 1, 2, 3, 4, 5)

#: Parameter of each corruption at severities 1..5 (index 0 = severity 1). Units: noise, standard
#: deviation on the 0..1 scale; blur, Gaussian sigma in pixels; contrast, the factor that shrinks
#: deviations from the image mean; gamma, the exponent of x ** gamma (x in 0..1); jpeg, the quality.
LEVELS: dict[str, tuple[float, ...]] = {
    "noise": (0.02, 0.04, 0.06, 0.09, 0.12),
    "blur": (0.4, 0.6, 0.8, 1.0, 1.3),
    "contrast": (0.8, 0.65, 0.5, 0.38, 0.28),
    "gamma": (1.25, 1.5, 1.8, 2.2, 2.7),
    "jpeg": (70, 45, 30, 18, 10),
}
CORRUPTIONS = tuple(LEVELS)


class ShiftInputError(ValueError):
    """Images, a severity or a corruption name that the shift functions cannot use; the message says what to fix."""


# ---------------------------------------------------------------- input checks
def check_images(x: Any) -> np.ndarray:
    """Validate uint8 images ``(N, H, W)`` or ``(N, H, W, 1)``; return them as an ``(N, H, W)`` uint8 array.

    Taught in notebook 07, step 1 (every corruption starts with it).
    """
    arr = np.asarray(x)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ShiftInputError(f"images must be a non-empty array (N, H, W) or (N, H, W, 1) of grey images; got shape "
                              f"{arr.shape}. For one image pass image[None]; colour images are not supported.")
    if arr.dtype != np.uint8:
        raise ShiftInputError(f"images must be uint8 on the 0..255 scale (as data.load gives them); got dtype "
                              f"{arr.dtype}. Convert with np.round(x * 255).astype(np.uint8) if x is in 0..1.")
    if min(arr.shape[1:]) < 8:
        raise ShiftInputError(f"images must be at least 8x8 pixels; got {arr.shape[1:]}.")
    return arr


def check_severity(severity: Any) -> int:
    """Validate a severity: an integer from 0 (no change) to 5 (strongest). Taught in notebook 07, step 1."""
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)):
        raise ShiftInputError(f"severity must be an integer from 0 to 5; got {severity!r} "
                              f"({type(severity).__name__}).")
    if not SEVERITIES[0] <= severity <= SEVERITIES[-1]:
        raise ShiftInputError(f"severity must lie in 0..5 (0 = unchanged, 5 = strongest); got {severity}.")
    return int(severity)


def _check_name(name: Any) -> str:
    if name not in LEVELS:
        raise ShiftInputError(f"unknown corruption {name!r}; use one of {', '.join(CORRUPTIONS)}.")
    return str(name)


def _to_uint8(z: np.ndarray) -> np.ndarray:
    return np.round(np.clip(z, 0.0, 1.0) * 255).astype(np.uint8)


def _restore_shape(out: np.ndarray, like: Any) -> np.ndarray:
    return out[..., None] if np.ndim(like) == 4 else out


# ---------------------------------------------------------------- acquisition corruptions
def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img, mode="L").save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8)


def corrupt(x: Any, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """One acquisition corruption of uint8 grey images at a severity from 0 (none) to 5 (strongest).

    Taught in notebook 07, step 1b (PneumoniaMNIST "at another hospital").

    name: ``"noise"`` (additive Gaussian), ``"blur"`` (Gaussian blur), ``"contrast"`` (deviations from
    each image's mean shrunk), ``"gamma"`` (intensity curve x ** gamma) or ``"jpeg"`` (lossy compression);
    their parameters per severity are in :data:`LEVELS`.
    seed: seed of the noise (only ``"noise"`` draws random numbers); the same seed gives the same images.
    Returns a new uint8 array of the input's shape; severity 0 returns an unchanged copy.
    """
    arr = check_images(x)
    name, severity = _check_name(name), check_severity(severity)
    if severity == 0:
        return _restore_shape(arr.copy(), x)
    level = LEVELS[name][severity - 1]
    z = arr.astype(np.float64) / 255.0
    if name == "noise":
        out = _to_uint8(z + np.random.default_rng(seed).normal(0.0, level, z.shape))
    elif name == "blur":
        from scipy import ndimage

        out = _to_uint8(ndimage.gaussian_filter(z, sigma=(0, level, level), mode="reflect"))
    elif name == "contrast":
        mean = z.mean(axis=(1, 2), keepdims=True)
        out = _to_uint8(mean + level * (z - mean))
    elif name == "gamma":
        out = _to_uint8(z ** level)
    else:  # jpeg
        out = np.stack([_jpeg(img, int(level)) for img in arr])
    return _restore_shape(out, x)


def augment_with_corruptions(x: Any, share: float = 0.5,
                             corruptions: tuple[str, ...] = ("noise", "blur", "contrast", "gamma"),
                             max_severity: int = 5, seed: int = 0) -> np.ndarray:
    """A training set in which a ``share`` of the images carry a random corruption at a random severity.

    Taught in notebook 07, step 1b (training for robustness). Each chosen image gets one corruption
    from ``corruptions`` at a severity drawn from 1..``max_severity``; the rest stay unchanged.
    Leave a corruption out of ``corruptions`` to test later whether the robustness carries over to a
    shift that training never saw (the notebook leaves out JPEG).
    Deterministic from ``seed``. Returns a new uint8 array of the input's shape.
    """
    arr = check_images(x)
    if not 0.0 <= float(share) <= 1.0:
        raise ShiftInputError(f"share must be a fraction in [0, 1]; got {share!r}.")
    if not corruptions:
        raise ShiftInputError("corruptions is empty; name at least one of " + ", ".join(CORRUPTIONS) + ".")
    for c in corruptions:
        _check_name(c)
    top = check_severity(max_severity)
    if top < 1:
        raise ShiftInputError("max_severity must be at least 1 for the augmentation to change anything.")
    rng = np.random.default_rng(seed)
    chosen = rng.random(len(arr)) < share
    kinds = rng.integers(0, len(corruptions), len(arr))
    sevs = rng.integers(1, top + 1, len(arr))
    out = arr.copy()
    for k, name in enumerate(corruptions):
        for sev in range(1, top + 1):
            sel = np.flatnonzero(chosen & (kinds == k) & (sevs == sev))
            if len(sel):
                out[sel] = corrupt(arr[sel], name, sev, seed=seed + 1000 * k + sev)
    return _restore_shape(out, x)


# ---------------------------------------------------------------- a simulated second site
#: What the simulated second site changes, at full strength (severity 5); severity s applies s/5 of it.
SITE_B = {
    "gamma": 0.55,          # intensity curve x ** gamma (site A's patients span 0.7 to 1.4)
    "bias": 0.35,           # curved (quadratic) bias field: darker towards the corners by this share
    "streak_std": 0.07,     # noise correlated along each row (a streak texture), on the 0..1 scale
    "resolution": 0.5,      # acquired at this share of the pixels per side, then interpolated back
}


def second_site(x: Any, severity: int = 5, seed: int = 0) -> np.ndarray:
    """Simulated images as a simulated second site (another scanner) would acquire them.

    Taught in notebook 07, step 1a. Applied to ``simlesion2d`` images (which are **simulated**), it
    changes four things at once, each scaled by ``severity / 5`` (see :data:`SITE_B`): the resolution
    (downsampled, then interpolated back), the intensity curve (a gamma), a curved bias field, and a
    noise texture site A never has (streaks along the rows). The content (anatomy, lesion, label) is
    unchanged. Deterministic from ``seed``; severity 0 returns an unchanged copy.
    """
    from scipy import ndimage

    arr = check_images(x)
    severity = check_severity(severity)
    if severity == 0:
        return _restore_shape(arr.copy(), x)
    f = severity / 5
    n, h, w = arr.shape
    z = arr.astype(np.float64) / 255.0
    # resolution: fewer pixels, then linear interpolation back to (h, w)
    share = 1.0 - f * (1.0 - SITE_B["resolution"])
    small = ndimage.zoom(z, (1, share, share), order=1, mode="nearest", grid_mode=True)
    z = ndimage.zoom(small, (1, h / small.shape[1], w / small.shape[2]), order=1, mode="nearest", grid_mode=True)
    # intensity curve
    z = np.clip(z, 0.0, 1.0) ** (1.0 + f * (SITE_B["gamma"] - 1.0))
    # curved bias field: 1 at the centre, 1 - f * bias at the corners
    r2 = sum(g ** 2 for g in np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")) / 2
    z = z * (1.0 - f * SITE_B["bias"] * r2)
    # streak noise: one random offset per row, plus a little white noise
    rng = np.random.default_rng(seed)
    streaks = rng.normal(0.0, 1.0, (n, h, 1)) * f * SITE_B["streak_std"]
    white = rng.normal(0.0, 1.0, (n, h, w)) * f * SITE_B["streak_std"] / 3
    return _restore_shape(_to_uint8(z + streaks + white), x)
