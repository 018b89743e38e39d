"""Unit tests of helpers.sequences (the recurrence, the builders, the ECG helpers)."""
import numpy as np
import pytest

from helpers import sequences


def test_rnn_forward_shapes_and_first_step():
    W = sequences.random_rnn_weights(3, 4, 2, seed=1)
    x = np.random.default_rng(0).normal(size=(5, 3))
    h, y = sequences.rnn_forward(x, **W)
    assert h.shape == (5, 4) and y.shape == (5, 2)
    np.testing.assert_allclose(h[0], np.tanh(W["W_xh"] @ x[0] + W["b_h"]))
    np.testing.assert_allclose(y, h @ W["W_hy"].T + W["b_y"])


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((2, 5, 3)), np.zeros((5, 4))])
def test_rnn_forward_rejects_bad_input(bad):
    W = sequences.random_rnn_weights(3, 4, 2)
    with pytest.raises(ValueError):
        sequences.rnn_forward(bad, **W)


def test_rnn_forward_rejects_bad_weights_and_h0():
    W = sequences.random_rnn_weights(3, 4, 2)
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="W_hh"):
        sequences.rnn_forward(x, **{**W, "W_hh": np.zeros((3, 3))})
    with pytest.raises(ValueError, match="W_hy"):
        sequences.rnn_forward(x, **{**W, "b_y": np.zeros(5)})
    with pytest.raises(ValueError, match="h0"):
        sequences.rnn_forward(x, **W, h0=np.zeros(3))


def test_random_weights_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_hidden"):
        sequences.random_rnn_weights(3, 0, 2)


def test_matches_keras_simplernn():
    import keras
    from keras import layers

    W = sequences.random_rnn_weights(3, 4, 2, seed=0)
    x = np.random.default_rng(0).normal(size=(6, 3))
    rnn, dense = layers.SimpleRNN(4, return_sequences=True), layers.Dense(2)
    model = keras.Sequential([keras.Input((6, 3)), rnn, dense])
    rnn_w, dense_w = sequences.to_keras_weights(**W)
    rnn.set_weights(rnn_w)
    dense.set_weights(dense_w)
    np.testing.assert_allclose(model.predict(x[None], verbose=0)[0], sequences.rnn_forward(x, **W)[1], atol=1e-5)


@pytest.mark.parametrize("kind,bi,enc", [("simplernn", False, False), ("lstm", True, False), ("gru", False, True)])
def test_volume_rnn_shapes(kind, bi, enc):
    model = sequences.volume_rnn(kind, units=4, bidirectional=bi, slice_encoder=enc, input_shape=(6, 10, 10))
    out = model.predict(np.zeros((2, 6, 10, 10), "float32"), verbose=0)
    assert out.shape == (2, 1) and np.all((out >= 0) & (out <= 1))


def test_builders_reject_bad_arguments():
    with pytest.raises(ValueError, match="unknown recurrent layer"):
        sequences.volume_rnn("transformer")
    with pytest.raises(ValueError, match="input_shape"):
        sequences.volume_rnn("gru", input_shape=(28, 28))
    with pytest.raises(ValueError, match="units"):
        sequences.volume_rnn("gru", units=0)
    with pytest.raises(ValueError, match="at least 8"):
        sequences.volume_rnn("gru", slice_encoder=True, input_shape=(5, 4, 4))
    with pytest.raises(ValueError, match="horizon"):
        sequences.forecaster(10, horizon=0)


def test_forecaster_and_gradient_norms():
    model = sequences.forecaster(12, horizon=3, units=4)
    x = np.random.default_rng(0).normal(size=(5, 12, 1)).astype("float32")
    assert model.predict(x, verbose=0).shape == (5, 3)
    g = sequences.input_gradient_norms(model, x)
    assert g.shape == (12,) and np.all(g >= 0)
    with pytest.raises(ValueError, match="batch"):
        sequences.input_gradient_norms(model, np.zeros(12))


def test_make_windows_content():
    s = np.arange(10)
    X, Y = sequences.make_windows(s, window=3, horizon=2, step=2)
    assert X.shape == (3, 3, 1) and Y.shape == (3, 2)
    np.testing.assert_array_equal(X[1, :, 0], [2, 3, 4])
    np.testing.assert_array_equal(Y[1], [5, 6])
    assert X.dtype == np.float32


def test_make_windows_rejects_bad_input():
    with pytest.raises(ValueError, match="1D"):
        sequences.make_windows(np.zeros((10, 2)), 3)
    with pytest.raises(ValueError, match="too short"):
        sequences.make_windows(np.zeros(4), 4, 1)
    with pytest.raises(ValueError, match="step"):
        sequences.make_windows(np.zeros(10), 3, 1, step=0)
