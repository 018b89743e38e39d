"""Unit tests of helpers.autoencoders (small and fast: tiny models, a few training steps)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from helpers import autoencoders as ae


# ---------------------------------------------------------------- import stays light
def test_import_does_not_load_tensorflow():
    code = "import sys, helpers.autoencoders; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- builders
def test_linear_autoencoder_is_the_article_formula():
    model = ae.linear_autoencoder(6, 2)
    assert [layer.name for layer in model.layers] == ["encoder", "decoder"]
    assert model.count_params() == 6 * 2 + 2 + 2 * 6 + 6
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    k_e, b_e = model.get_layer("encoder").get_weights()
    k_d, b_d = model.get_layer("decoder").get_weights()
    expected = (x @ k_e + b_e) @ k_d + b_d          # h = W_e x + b_e; x' = W_d h + b_d
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    assert ae.code_size(model) == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_features=4, n_code=4), "smaller than n_features"),
    (dict(n_features=0, n_code=1), "n_features must be a positive integer"),
    (dict(n_features=5, n_code=2.0), "n_code must be a positive integer"),
])
def test_linear_autoencoder_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ae.linear_autoencoder(**kwargs)


def test_dense_autoencoder_shapes_and_errors():
    model = ae.dense_autoencoder(20, 3, hidden=(8,), output="sigmoid")
    assert model.output_shape == (None, 20)
    assert ae.code_size(model) == 3
    with pytest.raises(ValueError, match="output must be"):
        ae.dense_autoencoder(20, 3, output="relu")


def test_conv_autoencoder_shapes_and_code():
    model = ae.conv_autoencoder((28, 28, 1), filters=(4, 8), code_channels=2)
    assert model.output_shape == (None, 28, 28, 1)
    assert ae.code_size(model) == 7 * 7 * 2
    out = model.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0)
    assert out.min() >= 0 and out.max() <= 1                     # sigmoid output
    with pytest.raises(ValueError, match="divisible"):
        ae.conv_autoencoder((30, 30, 1), filters=(4, 8))
    with pytest.raises(ValueError, match="height, width, channels"):
        ae.conv_autoencoder((28, 28))


def test_linear_autoencoder_finds_the_pca_subspace():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(300, 2)) * [3.0, 2.0]) @ rng.normal(size=(2, 8)) + 0.1 * rng.normal(size=(300, 8))
    x = (x - x.mean(0)).astype("float32")
    import keras

    keras.utils.set_random_seed(0)
    model = ae.linear_autoencoder(8, 2, compile=False)
    ae.fit_full_batch(model, x, steps=300, learning_rate=0.05)
    angles = ae.principal_angles(model.get_layer("decoder").get_weights()[0], PCA(2).fit(x).components_)
    assert angles.max() < 2.0


def test_fit_full_batch_rejects_bad_steps():
    model = ae.linear_autoencoder(4, 2, compile=False)
    with pytest.raises(ValueError, match="multiple"):
        ae.fit_full_batch(model, np.zeros((3, 4)), steps=75, steps_per_epoch=50)


# ---------------------------------------------------------------- subspaces
def test_principal_angles_known_cases():
    e = np.eye(3)
    np.testing.assert_allclose(ae.principal_angles(e[:2], e[:2] * 5), [0, 0], atol=1e-6)
    np.testing.assert_allclose(ae.principal_angles(e[:1], e[1:2]), [90.0])
    np.testing.assert_allclose(ae.principal_angles(e[:1], [[1, 1, 0]]), [45.0])
    np.testing.assert_allclose(ae.principal_angles(e[:1], [[1, 1, 0]], degrees=False), [np.pi / 4])
    with pytest.raises(ValueError, match="same number of columns"):
        ae.principal_angles(np.ones((2, 3)), np.ones((2, 4)))


# ---------------------------------------------------------------- scores and maps
def test_reconstruction_errors_and_maps():
    x = np.zeros((2, 5, 5))
    r = x.copy()
    r[1, 2, 3] = 1.0
    np.testing.assert_allclose(ae.reconstruction_errors(x, r), [0.0, 1 / 25])
    maps = ae.error_maps(x, r[..., None], sigma=0)
    assert maps.shape == (2, 5, 5) and maps[1, 2, 3] == 1.0
    smooth = ae.error_maps(x, r, sigma=1.0)
    assert smooth[1].sum() == pytest.approx(1.0, rel=0.05) and smooth[1].argmax() == 2 * 5 + 3
    with pytest.raises(ValueError, match="same shape"):
        ae.reconstruction_errors(x, r[:, :4])
    with pytest.raises(ValueError, match="grey images"):
        ae.error_maps(np.zeros((5, 5)), np.zeros((5, 5)))


def test_psnr_ssim_and_noise():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, size=(3, 16, 16)).astype("float32")
    p, s = ae.psnr_ssim(x, x + 0.1)
    assert p == pytest.approx(20.0, abs=1e-3)                    # 10 log10(1 / 0.01)
    assert 0 < s < 1
    assert ae.psnr_ssim(x, x) == (np.inf, pytest.approx(1.0))
    noisy = ae.add_noise(x, 0.1, seed=0)
    assert noisy.dtype == np.float32 and noisy.min() >= 0 and noisy.max() <= 1
    np.testing.assert_array_equal(noisy, ae.add_noise(x, 0.1, seed=0))
    with pytest.raises(ValueError, match="data_range"):
        ae.psnr_ssim(x, x, data_range=0)
    with pytest.raises(ValueError, match="sigma"):
        ae.add_noise(x, -1)
