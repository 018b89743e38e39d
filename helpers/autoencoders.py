"""Autoencoders of the course (notebook 03): builders, subspace comparison with PCA, reconstruction scores.

Builders return compiled Keras 3 models (adam, mean squared error); TensorFlow is imported only when
a builder is called, so ``import helpers.autoencoders`` stays fast.

>>> from helpers import autoencoders as ae
>>> model = ae.linear_autoencoder(30, 2)                  # doctest: +SKIP
>>> ae.principal_angles(model.layers[-1].get_weights()[0], pca.components_)   # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .data import as_images

_GREY = {"channel_axis": False, "dtype": "float64", "grey": True}   # images as (N, H, W) float64 for the scores


# ---------------------------------------------------------------- input checks
def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or any(s <= 0 for s in shape):
        raise ValueError("input_shape must be (height, width, channels) with positive sizes; "
                         f"got {tuple(input_shape)}.")
    return shape  # type: ignore[return-value]


def _same_shape(x: Any, x_rec: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=np.float64), np.asarray(x_rec, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"x and x_rec must have the same shape; got {a.shape} and {b.shape}. "
                         "Did you forget to reshape the model's output (e.g. drop the channel axis)?")
    if a.ndim < 2:
        raise ValueError(f"x must hold a batch: shape (N, ...) with N samples; got {a.shape}.")
    return a, b


# ---------------------------------------------------------------- builders
def linear_autoencoder(n_features: int, n_code: int, learning_rate: float = 1e-2, compile: bool = True):
    """The source article's autoencoder: ``h = W_e x + b_e``, ``x' = W_d h + b_d``, no activation.

    Two Dense layers named ``encoder`` and ``decoder``; the decoder kernel has shape ``(n_code, n_features)``
    and its rows span the subspace the model reconstructs in (compare it with PCA's components).
    """
    import keras
    from keras import layers

    n_features, n_code = _positive_int(n_features, "n_features"), _positive_int(n_code, "n_code")
    if n_code >= n_features:
        raise ValueError(f"n_code ({n_code}) must be smaller than n_features ({n_features}), or nothing is compressed.")
    model = keras.Sequential([
        keras.Input((n_features,)),
        layers.Dense(n_code, name="encoder"),       # h = W_e x + b_e
        layers.Dense(n_features, name="decoder"),   # x' = W_d h + b_d
    ], name="linear_autoencoder")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def dense_autoencoder(n_features: int, n_code: int, hidden: Sequence[int] = (128,), output: str = "linear",
                      learning_rate: float = 1e-3, compile: bool = True):
    """A non-linear fully connected autoencoder: ReLU hidden layers, a linear code, mirrored decoder.

    n_features → hidden... → n_code → ...hidden → n_features. ``output``: ``"linear"`` (standardised
    features) or ``"sigmoid"`` (pixels scaled to 0..1).
    """
    import keras
    from keras import layers

    n_features, n_code = _positive_int(n_features, "n_features"), _positive_int(n_code, "n_code")
    hidden = [_positive_int(h, "each hidden size") for h in hidden]
    if output not in ("linear", "sigmoid"):
        raise ValueError(f"output must be 'linear' or 'sigmoid'; got {output!r}.")
    enc = [layers.Dense(h, activation="relu") for h in hidden] + [layers.Dense(n_code, name="code")]
    dec = [layers.Dense(h, activation="relu") for h in reversed(hidden)] + [layers.Dense(n_features, activation=output)]
    model = keras.Sequential([keras.Input((n_features,)), *enc, *dec], name="dense_autoencoder")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def conv_autoencoder(input_shape: Sequence[int] = (28, 28, 1), filters: Sequence[int] = (16, 32),
                     code_channels: int = 4, learning_rate: float = 1e-3, compile: bool = True):
    """A convolutional autoencoder for images scaled to 0..1.

    Encoder: one stride-2 Conv2D(3×3, ReLU) per entry of ``filters`` (each halves the side), then a
    1×1 Conv2D to ``code_channels`` (the code, layer ``code``). Decoder: mirrored Conv2DTranspose
    layers and a sigmoid 3×3 Conv2D back to the input channels. With (28, 28, 1), filters (16, 32)
    and 4 code channels the code is 7×7×4 = 196 numbers for 784 pixels (ratio 4).
    """
    import keras
    from keras import layers

    h, w, c = _image_shape(input_shape)
    filters = [_positive_int(f, "each filter count") for f in filters]
    code_channels = _positive_int(code_channels, "code_channels")
    step = 2 ** len(filters)
    if h % step or w % step:
        raise ValueError(f"height and width must be divisible by 2**len(filters) = {step}; got {h}×{w}.")
    model = keras.Sequential(name="conv_autoencoder")
    model.add(keras.Input((h, w, c)))
    for f in filters:
        model.add(layers.Conv2D(f, 3, strides=2, padding="same", activation="relu"))
    model.add(layers.Conv2D(code_channels, 1, name="code"))
    for f in reversed(filters):
        model.add(layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu"))
    model.add(layers.Conv2D(c, 3, padding="same", activation="sigmoid"))
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def code_size(model: Any) -> int:
    """Number of values in the code of one sample (the output of the layer named ``code`` or ``encoder``)."""
    for name in ("code", "encoder"):
        try:
            layer = model.get_layer(name)
        except ValueError:
            continue
        return int(np.prod(layer.output.shape[1:]))
    raise ValueError(f"model {model.name!r} has no layer named 'code' or 'encoder'; build it with this module.")


def fit_full_batch(model: Any, x: Any, steps: int = 300, learning_rate: float = 0.02, steps_per_epoch: int = 50):
    """Train ``model`` to reconstruct ``x`` by full-batch Adam with a cosine-decaying learning rate.

    Each step sees all of ``x`` once; the learning rate falls from ``learning_rate`` to 0 over ``steps``,
    so the weights settle (needed to compare them with PCA). Runs ``steps_per_epoch`` steps per Keras
    call (fast on small data). Recompiles the model; returns the Keras ``History``.
    Under the course's short training (:func:`helpers.setup.n_epochs`) it runs one such call only.
    """
    import keras

    from .setup import n_epochs

    steps, steps_per_epoch = _positive_int(steps, "steps"), _positive_int(steps_per_epoch, "steps_per_epoch")
    if steps % steps_per_epoch:
        raise ValueError(f"steps ({steps}) must be a multiple of steps_per_epoch ({steps_per_epoch}).")
    steps = n_epochs(steps // steps_per_epoch) * steps_per_epoch
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim < 2 or len(arr) == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...); got shape {arr.shape}.")
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse", steps_per_execution=steps_per_epoch)
    tiled = np.tile(arr, (steps_per_epoch,) + (1,) * (arr.ndim - 1))   # one epoch = steps_per_epoch full batches
    return model.fit(tiled, tiled, epochs=steps // steps_per_epoch, batch_size=len(arr), shuffle=False, verbose=0)


# ---------------------------------------------------------------- subspaces
def principal_angles(a: Any, b: Any, degrees: bool = True) -> np.ndarray:
    """Principal angles between the spans of the **rows** of ``a`` (k₁, d) and ``b`` (k₂, d), largest first.

    Rows as in a Keras decoder kernel ``(n_code, n_features)`` and in ``PCA.components_``. Uses
    :func:`scipy.linalg.subspace_angles`. All angles near 0 mean the two span the same subspace.
    """
    from scipy.linalg import subspace_angles

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be 2D with the same number of columns (features); got {a.shape} and {b.shape}.")
    angles = subspace_angles(a.T, b.T)
    return np.degrees(angles) if degrees else angles


# ---------------------------------------------------------------- scores
def reconstruction_errors(x: Any, x_rec: Any) -> np.ndarray:
    """Mean squared error of each sample: one anomaly score per row of ``x`` (shape ``(N,)``)."""
    a, b = _same_shape(x, x_rec)
    return ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)


def error_maps(x: Any, x_rec: Any, sigma: float = 1.0) -> np.ndarray:
    """Per-pixel squared error of each image, smoothed by a Gaussian of ``sigma`` pixels (0: none).

    x, x_rec: (N, H, W) or (N, H, W, 1). Returns (N, H, W). Smoothing sums the evidence over a blob
    the size of a lesion, so that single noisy pixels don't win. Taught in 03, step 3 (its peak is scored
    with :func:`helpers.explain.pointing_game`, drawn with :func:`helpers.plots.error_map_grid`).
    """
    from scipy import ndimage

    a, b = as_images(x, name="x", **_GREY), as_images(x_rec, name="x_rec", **_GREY)
    if a.shape != b.shape:
        raise ValueError(f"x and x_rec must have the same shape; got {a.shape} and {b.shape}.")
    if sigma < 0:
        raise ValueError(f"sigma must be ≥ 0 pixels; got {sigma}.")
    err = (a - b) ** 2
    return ndimage.gaussian_filter(err, sigma=(0, sigma, sigma)) if sigma > 0 else err


def psnr_ssim(x: Any, x_rec: Any, data_range: float = 1.0) -> tuple[float, float]:
    """Mean PSNR (dB) and mean SSIM over a batch of grey images, from :mod:`skimage.metrics`.

    PSNR is ``inf`` when an image is reconstructed exactly. Taught in 03, step 2.
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    a, b = as_images(x, name="x", **_GREY), as_images(x_rec, name="x_rec", **_GREY)
    if a.shape != b.shape:
        raise ValueError(f"x and x_rec must have the same shape; got {a.shape} and {b.shape}.")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive (1.0 for images in 0..1, 255 for uint8); got {data_range}.")
    with np.errstate(divide="ignore"):
        psnr = np.mean([peak_signal_noise_ratio(u, v, data_range=data_range) for u, v in zip(a, b)])
    ssim = np.mean([structural_similarity(u, v, data_range=data_range) for u, v in zip(a, b)])
    return float(psnr), float(ssim)


def add_noise(x: Any, sigma: float, seed: int = 0, clip: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """``x`` plus Gaussian noise of standard deviation ``sigma``, clipped to ``clip``, as float32."""
    if sigma < 0:
        raise ValueError(f"sigma must be ≥ 0; got {sigma}.")
    arr = np.asarray(x, dtype=np.float32)
    noisy = arr + np.random.default_rng(seed).normal(0.0, sigma, arr.shape).astype(np.float32)
    return np.clip(noisy, *clip)
