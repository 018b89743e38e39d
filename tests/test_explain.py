"""Unit tests of helpers.explain (Grad-CAM, saliency, occlusion, pointing game) and helpers.outlook."""
import numpy as np
import pytest

from helpers import explain, outlook


@pytest.fixture(scope="module")
def spot_model():
    """A CAM-style model whose answer is known: class-1 score = mean of ReLU(image), class-0 score = 0.

    Conv2D(1 filter, 1×1, weight 1) → GlobalAveragePooling → Dense(2). Grad-CAM on the conv layer is then
    ReLU(A) up to a positive factor, i.e. the image itself: it must peak on the bright spot.
    """
    import keras

    inp = keras.Input((12, 12, 1))
    a = keras.layers.Conv2D(1, 1, activation="relu", name="conv")(inp)
    g = keras.layers.GlobalAveragePooling2D()(a)
    out = keras.layers.Dense(2, activation="softmax", name="head")(g)
    model = keras.Model(inp, out)
    model.get_layer("conv").set_weights([np.ones((1, 1, 1, 1), np.float32), np.zeros(1, np.float32)])
    model.get_layer("head").set_weights([np.array([[0.0, 1.0]], np.float32), np.zeros(2, np.float32)])
    return model


@pytest.fixture(scope="module")
def article_model():
    import keras

    from helpers.models import article_cnn
    keras.utils.set_random_seed(0)
    return article_cnn((28, 28, 1), 2)


def spot_images(n=3, size=12):
    x = np.zeros((n, size, size, 1), np.float32)
    spots = [(2, 3), (7, 9), (10, 1)][:n]
    for i, (r, c) in enumerate(spots):
        x[i, r, c, 0] = 1.0
    return x, np.array(spots, float)


def test_grad_cam_known_answer(spot_model):
    x, spots = spot_images()
    cam = explain.grad_cam(spot_model, x, "conv", class_index=1)
    assert cam.shape == (3, 12, 12) and cam.dtype == np.float32
    np.testing.assert_allclose(cam, x[..., 0], atol=1e-6)   # CAM = the image, normalised
    np.testing.assert_array_equal(explain.peak(cam), spots)
    assert explain.pointing_game(cam, spots, np.zeros(3)).all()


def test_grad_cam_other_class_is_empty(spot_model):
    x, _ = spot_images()
    cam = explain.grad_cam(spot_model, x, "conv", class_index=0)
    assert np.all(cam == 0)                                   # class 0 does not depend on the image


def test_saliency_known_answer(spot_model):
    x, spots = spot_images()
    x = x + 0.1                                               # ReLU active everywhere: gradient = 1/144 per pixel
    sal = explain.saliency(spot_model, x[..., 0], class_index=1)   # (N, H, W) accepted for one channel
    assert sal.shape == (3, 12, 12)
    np.testing.assert_allclose(sal, 1.0, atol=1e-5)


def test_occlusion_finds_spot(spot_model):
    x, spots = spot_images(2)
    occ = explain.occlusion(spot_model, x, patch=1, stride=1)
    assert occ.shape == (2, 12, 12) and 0 <= occ.min() and occ.max() <= 1
    np.testing.assert_array_equal(explain.peak(occ), spots[:2])


def test_article_cnn_maps_shape_range(article_model):
    x = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    convs = explain.conv_layers(article_model)
    assert len(convs) == 3
    for maps in (explain.grad_cam(article_model, x, convs[1]), explain.saliency(article_model, x)):
        assert maps.shape == (5, 28, 28)
        assert maps.min() >= 0 and maps.max() <= 1 and np.isfinite(maps).all()
    np.testing.assert_allclose(explain.grad_cam(article_model, x, 1), explain.grad_cam(article_model, x, convs[1]))


def test_feature_geometry_article_cnn(article_model):
    convs = explain.conv_layers(article_model)
    assert [explain.feature_geometry(article_model, n) for n in convs] == [(1, 1), (2, 3.5), (4, 8.5)]
    assert explain.feature_geometry(article_model, -1) == (4, 8.5)          # conv index instead of a name
    with pytest.raises(ValueError, match="out of range"):
        explain.grad_cam(article_model, np.zeros((1, 28, 28, 1)), layer=3)
    with pytest.raises(ValueError, match="not a convolution"):
        explain.feature_geometry(article_model, article_model.layers[-1].name)


def test_upsample_aligned():
    f = np.zeros((1, 3, 3), np.float32)
    f[0, 2, 0] = 1
    up = explain.upsample(f, (28, 28), stride=4, offset=8.0)    # feature (2, 0) sits on input pixel (16, 8)
    assert up.shape == (1, 28, 28)
    assert up[0, 16, 8] == 1 and up[0, 14, 8] == pytest.approx(0.5) and up[0, 16, 12] == pytest.approx(0.0)
    assert up[0, 27, 0] == 1                                   # beyond the edge: nearest feature value


def test_pointing_game_and_chance():
    maps = np.zeros((2, 10, 10))
    maps[0, 5, 5] = 1
    maps[1, 0, 0] = 1
    hits = explain.pointing_game(maps, [[5.5, 5.0], [8, 8]], [1.0, 2.0])
    np.testing.assert_array_equal(hits, [True, False])
    assert explain.chance_hit_rate((10, 10), [[5, 5]], [0.0]) == pytest.approx(0.01)
    assert not explain.pointing_game(np.zeros((1, 4, 4)), [[0, 0]], [3.0])[0]   # empty map = miss


def test_bad_arguments(spot_model):
    x, _ = spot_images()
    with pytest.raises(ValueError, match="no layer"):
        explain.grad_cam(spot_model, x, "nope")
    with pytest.raises(ValueError, match="shape"):
        explain.grad_cam(spot_model, x[0], "conv")
    with pytest.raises(ValueError, match="shape"):
        explain.saliency(spot_model, np.zeros((2, 5, 5, 1)))
    with pytest.raises(TypeError, match="numeric"):
        explain.saliency(spot_model, np.array([["a"]]))
    with pytest.raises(ValueError, match="class_index"):
        explain.grad_cam(spot_model, x, "conv", class_index=2)
    with pytest.raises(ValueError, match="patch"):
        explain.occlusion(spot_model, x, patch=0)
    with pytest.raises(ValueError, match="NaN"):
        explain.pointing_game(np.zeros((1, 4, 4)), [[np.nan, np.nan]], [1.0])
    with pytest.raises(ValueError, match="centers"):
        explain.pointing_game(np.zeros((2, 4, 4)), [[1, 1]], [1.0])
    with pytest.raises(ValueError, match="maps"):
        explain.normalize_maps(np.zeros(4))


def test_flip_labels():
    y = np.array([0, 1] * 50)
    noisy = outlook.flip_labels(y, 0.3, seed=1)
    assert (noisy != y).sum() == 30 and set(np.unique(noisy)) <= {0, 1}
    np.testing.assert_array_equal(outlook.flip_labels(y, 0.0), y)
    with pytest.raises(ValueError, match="share"):
        outlook.flip_labels(y, 1.5)
    with pytest.raises(ValueError, match="binary"):
        outlook.flip_labels(np.array([0, 2]), 0.1)


def test_simulated_marker():
    y = np.repeat([0, 1, 0, 1], 50)
    pats = np.repeat([3, 7, 1, 9], 50)
    m = outlook.simulated_marker(y, pats, separation=2.0, visit_noise=0.0)
    assert m.shape == (200, 1) and m.dtype == np.float32
    assert len(np.unique(m[pats == 7])) == 1                 # one value per patient without visit noise
    # the same patient id reads the same whichever other patients are in the split
    m2 = outlook.simulated_marker(y[50:100], pats[50:100], separation=2.0, visit_noise=0.0)
    assert m2[0, 0] == m[50, 0]
    with pytest.raises(ValueError, match="different labels"):
        outlook.simulated_marker(np.array([0, 1]), np.array([4, 4]))
    with pytest.raises(ValueError, match="one id per label"):
        outlook.simulated_marker(y, pats[:10])


# ---------------------------------------------------------------- peaks of any map (moved from test_autoencoders)
def test_peak_of_error_maps_with_a_channel_axis():
    maps = np.zeros((2, 5, 5, 1))
    maps[1, 2, 3] = 1.0
    np.testing.assert_array_equal(explain.peak(maps[1:]), [[2, 3]])


def test_pointing_game_with_tolerance_as_notebook_03():
    maps = np.zeros((2, 10, 10))
    maps[0, 2, 2] = 1
    maps[1, 8, 8] = 1
    hits = explain.pointing_game(maps, centers=[[2.4, 2.0], [2.0, 2.0]], radii=[1.0, 1.0], tolerance=1.0)
    np.testing.assert_array_equal(hits, [True, False])
    with pytest.raises(ValueError, match="NaN"):
        explain.pointing_game(maps, centers=[[np.nan, np.nan], [1, 1]], radii=[0, 1])
    with pytest.raises(ValueError, match="one \\(row, col\\) centre"):
        explain.pointing_game(maps, centers=[[1, 1]], radii=[1])
