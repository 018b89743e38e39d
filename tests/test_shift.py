"""Unit tests of helpers.shift: identity at severity 0, determinism, monotone severity, bad inputs rejected."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import shift
from helpers.shift import ShiftInputError

RNG = np.random.default_rng(0)
X = np.clip(RNG.normal(120, 50, (6, 28, 28)), 0, 255).astype(np.uint8)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, helpers.shift; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False"]


@pytest.mark.parametrize("name", shift.CORRUPTIONS)
def test_severity_zero_is_identity(name):
    out = shift.corrupt(X, name, 0)
    assert out.dtype == np.uint8 and np.array_equal(out, X)
    assert out is not X  # a copy: changing it leaves the input alone


@pytest.mark.parametrize("name", shift.CORRUPTIONS)
def test_deterministic_and_shape_kept(name):
    a, b = shift.corrupt(X, name, 4, seed=5), shift.corrupt(X, name, 4, seed=5)
    assert np.array_equal(a, b) and a.shape == X.shape and a.dtype == np.uint8
    x4 = X[..., None]
    assert shift.corrupt(x4, name, 4, seed=5).shape == x4.shape


def test_noise_depends_on_seed_only_for_noise():
    assert not np.array_equal(shift.corrupt(X, "noise", 3, seed=1), shift.corrupt(X, "noise", 3, seed=2))
    assert np.array_equal(shift.corrupt(X, "blur", 3, seed=1), shift.corrupt(X, "blur", 3, seed=2))


@pytest.mark.parametrize("name", shift.CORRUPTIONS)
def test_change_grows_with_severity(name):
    change = [np.abs(shift.corrupt(X, name, s).astype(int) - X).mean() for s in shift.SEVERITIES]
    assert change[0] == 0
    assert all(b >= a - 0.5 for a, b in zip(change, change[1:])), change
    assert change[-1] > change[1]


def test_contrast_and_gamma_formulas():
    z = X / 255.0
    m = z.mean(axis=(1, 2), keepdims=True)
    c = shift.LEVELS["contrast"][2]
    np.testing.assert_array_equal(shift.corrupt(X, "contrast", 3), np.round(np.clip(m + c * (z - m), 0, 1) * 255))
    g = shift.LEVELS["gamma"][4]
    np.testing.assert_array_equal(shift.corrupt(X, "gamma", 5), np.round(z ** g * 255))


def test_contrast_keeps_the_mean_roughly():
    out = shift.corrupt(X, "contrast", 5)
    np.testing.assert_allclose(out.mean((1, 2)), X.mean((1, 2)), atol=1.0)
    assert out.std() < X.std()


def test_second_site_identity_determinism_and_strength():
    assert np.array_equal(shift.second_site(X, 0), X)
    assert np.array_equal(shift.second_site(X, 5, seed=3), shift.second_site(X, 5, seed=3))
    d = [np.abs(shift.second_site(X, s).astype(int) - X).mean() for s in shift.SEVERITIES]
    assert d[0] == 0 and d[5] > d[1] > 0


def test_augmentation_changes_about_the_share_asked():
    out = shift.augment_with_corruptions(X.repeat(50, axis=0), share=0.5, seed=0)
    changed = np.any(out != X.repeat(50, axis=0), axis=(1, 2)).mean()
    assert 0.35 < changed < 0.6
    assert np.array_equal(out, shift.augment_with_corruptions(X.repeat(50, axis=0), share=0.5, seed=0))
    assert np.array_equal(shift.augment_with_corruptions(X, share=0.0), X)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((28, 28), np.uint8), "shape"),
    (np.zeros((2, 28, 28, 3), np.uint8), "shape"),
    (np.zeros((2, 28, 28), np.float32), "uint8"),
    (np.zeros((2, 4, 4), np.uint8), "8x8"),
])
def test_bad_images_rejected(bad, match):
    with pytest.raises(ShiftInputError, match=match):
        shift.corrupt(bad, "noise", 1)
    with pytest.raises(ShiftInputError, match=match):
        shift.second_site(bad, 1)


@pytest.mark.parametrize("severity", [-1, 6, 2.0, True, "3", None])
def test_bad_severity_rejected(severity):
    with pytest.raises(ShiftInputError, match="severity"):
        shift.corrupt(X, "blur", severity)


def test_unknown_corruption_and_bad_augmentation_settings():
    with pytest.raises(ShiftInputError, match="unknown corruption 'snow'"):
        shift.corrupt(X, "snow", 1)
    with pytest.raises(ShiftInputError, match="share"):
        shift.augment_with_corruptions(X, share=1.5)
    with pytest.raises(ShiftInputError, match="empty"):
        shift.augment_with_corruptions(X, corruptions=())
    with pytest.raises(ShiftInputError, match="max_severity"):
        shift.augment_with_corruptions(X, max_severity=0)
    assert issubclass(ShiftInputError, ValueError)
