"""Unit tests of the model builders in helpers.models."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import models


def test_article_cnn_matches_the_article():
    model = models.article_cnn((32, 32, 3), 10)
    assert model.count_params() == 122_570
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "Dense"]
    assert model.output_shape == (None, 10)
    assert model.loss == "sparse_categorical_crossentropy"


def test_article_cnn_average_pooling_and_small_input():
    model = models.article_cnn((28, 28, 1), 2, pooling="average", compile=False)
    assert [type(layer).__name__ for layer in model.layers].count("AveragePooling2D") == 2
    assert model.count_params() == 320 + 18_496 + 36_928 + (3 * 3 * 64 + 1) * 64 + 65 * 2  # 92,802
    out = model.predict(np.zeros((3, 28, 28, 1), "float32"), verbose=0)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_shape=(28, 28)), "3 positive sizes"),
    (dict(input_shape=(16, 16, 1)), "at least 18"),
    (dict(n_classes=1), "n_classes"),
    (dict(pooling="min"), "pooling"),
])
def test_article_cnn_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.article_cnn(**kwargs)


def test_better_cnn_shapes_and_parameters():
    model = models.better_cnn((28, 28, 1), 2, widths=(16, 32, 64))
    assert model.output_shape == (None, 2)
    # convolutions (no bias) + batch norms (4 per channel) + dense on avg+max features (fixed normalisation: 0)
    convs = 9 * 1 * 16 + 9 * 16 * 32 + 9 * 32 * 64
    bns = 4 * (16 + 32 + 64)
    head = (2 * 64 + 1) * 2
    assert model.count_params() == convs + bns + head
    rgb = models.better_cnn((28, 28, 3), 8, head="avg", augment=False)
    assert rgb.output_shape == (None, 8)
    proba = rgb.predict(np.full((2, 28, 28, 3), 127.0, "float32"), verbose=0)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)


def test_better_cnn_augmentation_only_in_training():
    model = models.better_cnn((28, 28, 1), 2)
    x = np.random.default_rng(0).uniform(0, 255, (4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(model(x, training=False).numpy(), model(x, training=False).numpy())
    assert model.get_layer("flip") is not None and model.get_layer("shift") is not None


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_shape=(28, 28, 1, 1)), "3 positive sizes"),
    (dict(n_classes=0), "n_classes"),
    (dict(widths=()), "widths"),
    (dict(input_shape=(2, 2, 1)), "at least"),
    (dict(dropout=1.0), "dropout"),
    (dict(std=0), "std"),
    (dict(head="max"), "head"),
])
def test_better_cnn_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.better_cnn(**kwargs)


def test_better_cnn_two_convolutions_per_stage():
    one = models.better_cnn((28, 28, 1), 2, widths=(8, 16), augment=False)
    two = models.better_cnn((28, 28, 1), 2, widths=(8, 16), augment=False, convs=2)
    assert two.count_params() - one.count_params() == 9 * 8 * 8 + 4 * 8 + 9 * 16 * 16 + 4 * 16
    assert two.get_layer("conv1") is not None and two.get_layer("conv1_2") is not None
    with pytest.raises(ValueError, match="convs"):
        models.better_cnn(convs=0)


def test_flip_average_is_the_mean_over_allowed_flips():
    base = models.better_cnn((28, 28, 1), 2, widths=(8, 16), augment=False)
    x = np.random.default_rng(0).uniform(0, 255, (3, 28, 28, 1)).astype("float32")
    tta = models.flip_average(base, "horizontal")
    expected = (base(x, training=False).numpy() + base(x[:, :, ::-1], training=False).numpy()) / 2
    np.testing.assert_allclose(tta(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert tta.count_params() == base.count_params()
    assert models.flip_average(base, None) is base
    four = models.flip_average(base, "horizontal_and_vertical")
    views = [x, x[:, :, ::-1], x[:, ::-1], x[:, ::-1, ::-1]]
    np.testing.assert_allclose(four(x, training=False).numpy(),
                               np.mean([base(v, training=False).numpy() for v in views], 0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="flip"):
        models.flip_average(base, "diagonal")
