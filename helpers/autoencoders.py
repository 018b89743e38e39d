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


# ---------------------------------------------------------------- input checks
def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or any(s <= 0 for s in shape):
        raise ValueError(f"input_shape must be (height, width, channels) with positive sizes; got {tuple(input_shape)}.")
    return shape  # type: ignore[return-value]


def _same_shape(x: Any, x_rec: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(x, dtype=np.float64), np.asarray(x_rec, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"x and x_rec must have the same shape; got {a.shape} and {b.shape}. "
                         "Did you forget to reshape the model's output (e.g. drop the channel axis)?")
    if a.ndim < 2:
        raise ValueError(f"x must hold a batch: shape (N, ...) with N samples; got {a.shape}.")
    return a, b


def _images(x: Any, name: str = "x") -> np.ndarray:
    """(N, H, W) float images; a trailing channel axis of size 1 is dropped."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise ValueError(f"{name} must be grey images (N, H, W) or (N, H, W, 1); got shape {arr.shape}.")
    return arr


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
    """
    import keras

    steps, steps_per_epoch = _positive_int(steps, "steps"), _positive_int(steps_per_epoch, "steps_per_epoch")
    if steps % steps_per_epoch:
        raise ValueError(f"steps ({steps}) must be a multiple of steps_per_epoch ({steps_per_epoch}).")
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
    the size of a lesion, so that single noisy pixels don't win.
    """
    from scipy import ndimage

    a, b = _images(x), _images(x_rec, "x_rec")
    if a.shape != b.shape:
        raise ValueError(f"x and x_rec must have the same shape; got {a.shape} and {b.shape}.")
    if sigma < 0:
        raise ValueError(f"sigma must be ≥ 0 pixels; got {sigma}.")
    err = (a - b) ** 2
    return ndimage.gaussian_filter(err, sigma=(0, sigma, sigma)) if sigma > 0 else err


def map_peaks(maps: Any) -> np.ndarray:
    """(row, col) of the largest value of each map; ``maps`` (N, H, W) → (N, 2) integers."""
    m = _images(maps, "maps")
    flat = m.reshape(len(m), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, m.shape[1:]), axis=1)


def peak_hits(maps: Any, centers: Any, radii: Any, tolerance: float = 1.5) -> np.ndarray:
    """Whether each map's peak lies within ``radius + tolerance`` pixels of the true lesion centre.

    centers: (N, 2) (row, col) in pixels; radii: (N,) in pixels. Rows with a NaN centre (no lesion)
    are not allowed: select the lesion images first, e.g. ``maps[y == 1]``.
    """
    peaks = map_peaks(maps).astype(float)
    centers, radii = np.asarray(centers, dtype=float), np.asarray(radii, dtype=float)
    if centers.shape != peaks.shape or radii.shape != (len(peaks),):
        raise ValueError(f"need one (row, col) centre and one radius per map: {len(peaks)} maps, "
                         f"centers {centers.shape}, radii {radii.shape}.")
    if np.isnan(centers).any():
        raise ValueError("some centres are NaN (images without a lesion); pass only images with a lesion.")
    return np.linalg.norm(peaks - centers, axis=1) <= radii + tolerance


def psnr_ssim(x: Any, x_rec: Any, data_range: float = 1.0) -> tuple[float, float]:
    """Mean PSNR (dB) and mean SSIM over a batch of grey images, from :mod:`skimage.metrics`.

    PSNR is ``inf`` when an image is reconstructed exactly.
    """
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    a, b = _images(x), _images(x_rec, "x_rec")
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


# ---------------------------------------------------------------- figure
def show_error_maps(images: Any, maps: Any, circles: Sequence[tuple[float, float, float] | None] | None = None,
                    titles: Sequence[str] | None = None, alpha: float = 0.55, size: float = 1.6,
                    suptitle: str | None = None):
    """Two rows: the images, then each image with its error map overlaid (``magma``) and its peak marked ×.

    circles: optional true lesion ``(row, col, radius)`` per image (or None), drawn as a ring in both rows.
    Returns ``(fig, axes)``.
    """
    import matplotlib.pyplot as plt

    imgs, m = _images(images, "images"), _images(maps, "maps")
    if imgs.shape != m.shape:
        raise ValueError(f"images and maps must have the same shape; got {imgs.shape} and {m.shape}.")
    n = len(imgs)
    for name, seq in (("circles", circles), ("titles", titles)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"got {len(seq)} {name} for {n} images; give one per image.")
    peaks = map_peaks(m)
    fig, axes = plt.subplots(2, n, figsize=(size * n, 2 * size + 0.5), squeeze=False)
    for k in range(n):
        for row in (0, 1):
            ax = axes[row, k]
            ax.imshow(imgs[k], cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 1:
                ax.imshow(m[k], cmap="magma", alpha=alpha)
                ax.plot(peaks[k, 1], peaks[k, 0], "x", color="#56B4E9", ms=7, mew=2)
                ax.set_xlim(-0.5, imgs.shape[2] - 0.5)
                ax.set_ylim(imgs.shape[1] - 0.5, -0.5)
            if circles is not None and circles[k] is not None:
                r, c, rad = circles[k]
                ax.add_patch(plt.Circle((c, r), rad + 1.5, fill=False, color="#E69F00", lw=1.2))
        if titles is not None:
            axes[0, k].set_title(titles[k], fontsize=8)
    axes[0, 0].set_ylabel("image", fontsize=9)
    axes[1, 0].set_ylabel("error map", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes
