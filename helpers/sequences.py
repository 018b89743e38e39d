"""Recurrent networks of the course (notebook 02): the article's recurrence in NumPy,
sequence model builders, and the real ECG that pydicom ships, cut into windows.

>>> import numpy as np
>>> from helpers import sequences
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(5, 3))                           # 5 time steps, 3 features
>>> W = sequences.random_rnn_weights(n_in=3, n_hidden=4, n_out=2, seed=0)
>>> h, y = sequences.rnn_forward(x, **W)
>>> h.shape, y.shape
((5, 4), (5, 2))

TensorFlow is imported inside the functions that need it, so ``import helpers.sequences`` is fast.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

RNN_KINDS = ("simplernn", "lstm", "gru")


# ---------------------------------------------------------------- the article's recurrence
def random_rnn_weights(n_in: int, n_hidden: int, n_out: int, seed: int = 0,
                       scale: float = 0.5) -> dict[str, np.ndarray]:
    """Random weights in the article's notation (column vectors: ``W_xh`` is (n_hidden, n_in)).

    Returns a dict with ``W_xh, W_hh, b_h, W_hy, b_y`` (float64), ready for :func:`rnn_forward`.
    """
    for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    rng = np.random.default_rng(seed)
    return {
        "W_xh": rng.normal(0, scale, (n_hidden, n_in)),
        "W_hh": rng.normal(0, scale / np.sqrt(n_hidden), (n_hidden, n_hidden)),
        "b_h": rng.normal(0, 0.1, n_hidden),
        "W_hy": rng.normal(0, scale, (n_out, n_hidden)),
        "b_y": rng.normal(0, 0.1, n_out),
    }


def rnn_forward(x: Any, W_xh: Any, W_hh: Any, b_h: Any, W_hy: Any, b_y: Any,
                h0: Any | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The article's RNN, one step at a time, for one sequence.

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h);  y_t = W_hy h_t + b_y;  h_0 = 0 unless given.

    x: (T, n_in). Weights as in the formula (matrices act on column vectors):
    W_xh (n_hidden, n_in), W_hh (n_hidden, n_hidden), b_h (n_hidden,), W_hy (n_out, n_hidden), b_y (n_out,).
    Returns ``(h, y)`` of shapes (T, n_hidden) and (T, n_out).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence of shape (T, n_in); got {x.shape}. For a batch, loop over it.")
    W_xh, W_hh, b_h, W_hy, b_y = (np.asarray(a, dtype=np.float64) for a in (W_xh, W_hh, b_h, W_hy, b_y))
    n_hidden, n_in = W_xh.shape if W_xh.ndim == 2 else (None, None)
    if n_in != x.shape[1]:
        raise ValueError(f"W_xh must be (n_hidden, n_in={x.shape[1]}); got {W_xh.shape}.")
    if W_hh.shape != (n_hidden, n_hidden) or b_h.shape != (n_hidden,):
        raise ValueError(f"W_hh must be ({n_hidden}, {n_hidden}) and b_h ({n_hidden},); "
                         f"got {W_hh.shape} and {b_h.shape}.")
    if W_hy.ndim != 2 or W_hy.shape[1] != n_hidden or b_y.shape != (W_hy.shape[0],):
        raise ValueError(f"W_hy must be (n_out, {n_hidden}) and b_y (n_out,); got {W_hy.shape} and {b_y.shape}.")
    h_prev = np.zeros(n_hidden) if h0 is None else np.asarray(h0, dtype=np.float64)
    if h_prev.shape != (n_hidden,):
        raise ValueError(f"h0 must have shape ({n_hidden},); got {h_prev.shape}.")
    hs, ys = [], []
    for x_t in x:
        h_prev = np.tanh(W_hh @ h_prev + W_xh @ x_t + b_h)
        hs.append(h_prev)
        ys.append(W_hy @ h_prev + b_y)
    return np.array(hs), np.array(ys)


def to_keras_weights(W_xh: Any, W_hh: Any, b_h: Any, W_hy: Any, b_y: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Article weights → ``(simple_rnn.set_weights(...), dense.set_weights(...))`` lists.

    Keras multiplies row vectors from the right (``x_t @ kernel``), so its ``kernel`` is W_xh transposed,
    its ``recurrent_kernel`` is W_hh transposed and the Dense ``kernel`` is W_hy transposed.
    """
    arrs = [np.asarray(a, dtype=np.float32) for a in (W_xh, W_hh, b_h, W_hy, b_y)]
    if any(a.ndim != d for a, d in zip(arrs, (2, 2, 1, 2, 1))):
        raise ValueError("expected W_xh, W_hh, W_hy as matrices and b_h, b_y as vectors, in the article's notation.")
    return [arrs[0].T, arrs[1].T, arrs[2]], [arrs[3].T, arrs[4]]


# ---------------------------------------------------------------- model builders
def rnn_layer(kind: str, units: int, return_sequences: bool = False):
    """A Keras recurrent layer by name: ``"simplernn"``, ``"lstm"`` or ``"gru"`` (case, ``_`` and ``-`` ignored),
    with ``units`` units. Taught in 02, steps 2.3-2.4 (the three kinds compared on the same features).
    """
    from keras import layers

    key = str(kind).lower().replace("_", "").replace("-", "")
    table = {"simplernn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
    if key not in table:
        raise ValueError(f"unknown recurrent layer {kind!r}; use one of {', '.join(RNN_KINDS)}.")
    if not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive integer; got {units!r}.")
    return table[key](int(units), return_sequences=return_sequences)


def volume_rnn(kind: str = "gru", units: int = 32, bidirectional: bool = False, slice_encoder: bool = False,
               input_shape: Sequence[int] = (28, 28, 28), learning_rate: float = 1e-3, compile: bool = True):
    """A classifier that reads a volume slice by slice (axis 1 of the input is the slice).

    kind: ``"simplernn"``, ``"lstm"`` or ``"gru"``. bidirectional: read the stack both ways.
    slice_encoder: first a small 2D CNN on each slice (shared weights, ``TimeDistributed``), then the RNN;
    otherwise each slice's pixels are flattened into one feature vector per step.
    Output: one sigmoid unit, P(lesion) for the whole volume (binary cross-entropy, adam, AUC metric).
    Expects inputs scaled to 0..1, shape (N, slices, rows, cols).
    """
    import keras
    from keras import layers

    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or any(s < 1 for s in shape):
        raise ValueError(f"input_shape must be (slices, rows, cols); got {tuple(input_shape)}.")
    inputs = keras.Input(shape)
    if slice_encoder:
        if min(shape[1:]) < 8:
            raise ValueError(f"slice_encoder needs slices of at least 8×8 pixels; got {shape[1:]}.")
        z = layers.Reshape(shape + (1,))(inputs)
        z = layers.TimeDistributed(layers.Conv2D(8, 3, activation="relu"))(z)
        z = layers.TimeDistributed(layers.MaxPooling2D(2))(z)
        z = layers.TimeDistributed(layers.Conv2D(16, 3, activation="relu"))(z)
        z = layers.TimeDistributed(layers.GlobalMaxPooling2D())(z)
    else:
        z = layers.Reshape((shape[0], shape[1] * shape[2]))(inputs)
    rnn = rnn_layer(kind, units)
    z = layers.Bidirectional(rnn)(z) if bidirectional else rnn(z)
    outputs = layers.Dense(1, activation="sigmoid")(z)
    name = ("bi" if bidirectional else "") + str(kind).lower() + ("_cnn" if slice_encoder else "")
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                      metrics=["accuracy", keras.metrics.AUC(name="auc")])
    return model


def forecaster(window: int, horizon: int = 1, kind: str = "gru", units: int = 16, compile: bool = True):
    """Reads ``window`` past samples of one signal, predicts the next ``horizon`` samples (linear output, MSE)."""
    import keras
    from keras import layers

    for name, v in (("window", window), ("horizon", horizon)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    model = keras.Sequential([keras.Input((int(window), 1)), rnn_layer(kind, units), layers.Dense(int(horizon))],
                             name=f"{str(kind).lower()}_forecaster")
    if compile:
        model.compile(optimizer="adam", loss="mse")
    return model


def input_gradient_norms(model: Any, x: Any) -> np.ndarray:
    """How much the model's output moves with each time step of its input: ‖∂y/∂x_t‖, averaged over the batch.

    x: a batch (N, T, ...) already scaled as the model expects. Returns an array of T norms.
    A plain RNN's values fall off steeply for early steps (vanishing gradients); LSTM/GRU keep more.
    """
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 3:
        raise ValueError(f"x must be a batch of sequences (N, T, ...); got shape {x.shape}.")
    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = tf.reduce_sum(model(xt, training=False))
    g = tape.gradient(out, xt).numpy().reshape(len(x), x.shape[1], -1)
    return np.linalg.norm(g, axis=2).mean(axis=0)


# ---------------------------------------------------------------- the real ECG (helpers.imaging.load_ecg reads it)
def make_windows(series: Any, window: int, horizon: int = 1, step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a 1D series into (past ``window`` samples → next ``horizon`` samples) pairs.

    Returns ``X`` (N, window, 1) and ``Y`` (N, horizon), float32, with
    ``X[i, :, 0] = s[i*step : i*step+window]`` and ``Y[i] = s[i*step+window : i*step+window+horizon]``.
    """
    s = np.asarray(series, dtype=np.float32)
    if s.ndim != 1:
        raise ValueError(f"series must be 1D (one lead); got shape {s.shape}. Pick a lead first, e.g. signals[:, 1].")
    for name, v in (("window", window), ("horizon", horizon), ("step", step)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    n = (len(s) - window - horizon) // step + 1
    if n < 1:
        raise ValueError(f"series of {len(s)} samples is too short for window {window} + horizon {horizon}.")
    idx = np.arange(n)[:, None] * step
    X = s[idx + np.arange(window)[None, :]][..., None]
    Y = s[idx + window + np.arange(horizon)[None, :]]
    return X, Y
