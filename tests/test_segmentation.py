"""Segmentation (notebook 06): exact masks, warped tissue maps, Dice/IoU/Hausdorff, detection, the U-Net builder.

The first test guards the rest of the course: adding masks to ``helpers.simulate`` must not change one
pixel, label or extra of the simulated sets that notebooks 01-05 store outputs of.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from helpers import checks, metrics, models
from helpers import simulate as sim
from helpers.simulate import SimulationConfig, generate

SMALL = SimulationConfig(n_patients=20, images_per_patient=10, seed=3)


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def small():
    return generate(SMALL)


# ---------------------------------------------------------------- the images did not change
# SHA-256 of every array generate() returns, computed on this course's build machine (x86-64, NumPy 2.4,
# SciPy's map_coordinates) *before* the masks were added to helpers.simulate.
HASHES_BEFORE_MASKS = {
    "small_seed3": (SMALL, "b1924056d3571b5fa09b3e975ffd6e3062cb49f4928985aa81630f165854e2f4"),
    "small3d_seed1": (SimulationConfig(ndim=3, n_patients=10, images_per_patient=2, seed=1),
                      "e08f595ae98d4d3fd1589a49f97adad54d4bb751b80fa7cd0458375abc961f14"),
    "simlesion2d_28": (SimulationConfig(ndim=2, n_patients=200, images_per_patient=30, size=28, seed=0),
                       "a4fc37de18e1ebb423e74c03ed9b46bfc7175dd923229b206ac71442dfe352bc"),
}
# measured at the same time, too slow for every test run: simlesion2d at 64 px 4d8144a6722fb3c1...,
# simlesion3d 2045e2d814e98cbb...


@pytest.mark.parametrize("name", list(HASHES_BEFORE_MASKS))
def test_generated_arrays_are_unchanged_by_the_masks(name):
    cfg, expected = HASHES_BEFORE_MASKS[name]
    assert _digest(generate(cfg)) == expected, (
        f"generate() output of {name} changed: every notebook's stored outputs depend on these arrays")


# ---------------------------------------------------------------- lesion masks
def test_a_mask_pixel_is_on_exactly_where_the_disc_exceeds_its_threshold(small):
    for split in sim.SPLITS:
        c, r = small[f"{split}_lesion_centers"], small[f"{split}_lesion_radii"]
        y = small[f"{split}_labels"].ravel()
        masks = sim.lesion_masks(c, r, size=28)
        assert masks.shape == (len(y), 28, 28) and masks.dtype == bool
        assert not masks[y == 0].any()
        rows, cols = np.indices((28, 28), dtype=np.float32)
        for i in np.flatnonzero(y):
            disc = 1.0 / (1.0 + np.exp((np.sqrt((rows - c[i, 0]) ** 2 + (cols - c[i, 1]) ** 2) - r[i]) / 0.5))
            np.testing.assert_array_equal(masks[i], disc > 0.5)
            assert masks[i].any()


def test_lesion_mask_is_where_the_image_changed():
    """Inside the mask the image differs from a lesion-free rendering: compare lesion images with the ring around."""
    cfg = SimulationConfig(n_patients=20, images_per_patient=10, seed=5, lesion_contrast=(0.5, 0.6))
    d = generate(cfg)
    y = d["train_labels"].ravel()
    masks = sim.lesion_masks(d["train_lesion_centers"], d["train_lesion_radii"])
    from scipy import ndimage

    agree = []
    for i in np.flatnonzero(y):
        ring = ndimage.binary_dilation(masks[i], iterations=2) & ~ndimage.binary_dilation(masks[i])
        x = d["train_images"][i].astype(float)
        agree.append(np.sign(x[masks[i]].mean() - x[ring].mean()) == np.sign(d["train_lesion_contrasts"][i]))
    assert np.mean(agree) >= 0.9


def test_lesion_masks_3d_and_bad_arguments():
    m = sim.lesion_masks(np.array([[10.0, 12.0, 14.0], [np.nan] * 3]), np.array([2.5, 0.0]), size=28)
    assert m.shape == (2, 28, 28, 28) and m[0].sum() > 0 and not m[1].any()
    assert m[0, 10, 12, 14] and not m[0, 10, 12, 17]
    with pytest.raises(ValueError, match="centers"):
        sim.lesion_masks(np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="centers"):
        sim.lesion_masks(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="size"):
        sim.lesion_masks(np.zeros((1, 2)), np.ones(1), size=0)
    with pytest.raises(ValueError, match="radii"):
        sim.lesion_masks(np.zeros((1, 2)), -np.ones(1))


# ---------------------------------------------------------------- tissue maps follow the deformation
@pytest.fixture(scope="module")
def small_maps():
    return sim.warped_template_maps(SMALL)


def test_tissue_maps_follow_each_images_deformation(small, small_maps):
    """Lesion-free images correlate with their own warped tissue map, not with another image's."""
    n = SMALL.n_patients * SMALL.images_per_patient
    assert small_maps["gm"].shape == (n, 28, 28)
    for split in sim.SPLITS:
        idx = sim.split_indices(SMALL, small[f"{split}_patients"])
        free = small[f"{split}_labels"].ravel() == 0
        if free.sum() < 2:
            continue
        x = small[f"{split}_images"][free].reshape(free.sum(), -1).astype(float)
        t1_like = (small_maps["gm"] + 2 * small_maps["wm"])[idx][free].reshape(free.sum(), -1)

        def corr(a, b):
            a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
            return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))

        assert np.median(corr(x, t1_like)) > 0.8
        assert abs(np.median(corr(x, np.roll(t1_like, 1, axis=0)))) < 0.3


def test_tissue_maps_are_the_same_transform_as_generate():
    """The warped brain mask equals the one generate() uses to place lesions (lesion centres lie inside it)."""
    cfg = SimulationConfig(n_patients=20, images_per_patient=10, seed=7)
    d = generate(cfg)
    maps = sim.warped_template_maps(cfg)
    for split in sim.SPLITS:
        idx = sim.split_indices(cfg, d[f"{split}_patients"])
        y = d[f"{split}_labels"].ravel()
        brain = maps["brain"][idx] > 0.5
        for i in np.flatnonzero(y):
            r, c = np.round(d[f"{split}_lesion_centers"][i]).astype(int)
            assert brain[i][np.clip(r, 0, 27), np.clip(c, 0, 27)] or not brain[i].any()


def test_tissue_maps_select_by_indices_and_labels(small_maps):
    part = sim.warped_template_maps(SMALL, np.array([5, 0]))
    np.testing.assert_array_equal(part["wm"], small_maps["wm"][[5, 0]])
    labels = sim.tissue_labels(small_maps["gm"], small_maps["wm"])
    assert labels.dtype == np.uint8 and set(np.unique(labels)) <= {0, 1, 2}
    np.testing.assert_array_equal(sim.tissue_labels(np.array([0.1, 0.6, 0.3]), np.array([0.1, 0.3, 0.6])), [0, 1, 2])
    with pytest.raises(ValueError, match="same shape"):
        sim.tissue_labels(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="indices"):
        sim.warped_template_maps(SMALL, np.array([10_000]))


def test_split_indices(small):
    idx = sim.split_indices(SMALL, small["test_patients"])
    assert len(idx) == len(small["test_patients"])
    with pytest.raises(ValueError, match="not a split"):
        sim.split_indices(SMALL, np.array([0, 0, 0]))


# ---------------------------------------------------------------- metrics
@pytest.fixture
def discs():
    rows, cols = np.indices((20, 20))
    a = np.hypot(rows - 8, cols - 8) < 4
    b = np.hypot(rows - 8, cols - 10) < 4
    return a, b


def test_dice_iou_perfect_empty_disjoint(discs):
    a, b = discs
    empty = np.zeros_like(a)
    assert metrics.dice(a, a) == 1.0 and metrics.iou(a, a) == 1.0
    assert metrics.dice(empty, empty) == 1.0 and np.isnan(metrics.dice(empty, empty, empty=np.nan))
    assert metrics.dice(a, empty) == 0.0 and metrics.iou(empty, a) == 0.0
    assert metrics.dice(a, np.roll(a, 10, axis=0)) == 0.0
    per = metrics.dice(np.stack([a, a, empty]), np.stack([a, empty, empty]), per_image=True)
    np.testing.assert_array_equal(per, [1.0, 0.0, 1.0])


def test_dice_iou_agree_with_libraries_and_each_other(discs):
    from sklearn.metrics import f1_score, jaccard_score

    a, b = discs
    d, j = metrics.dice(a, b), metrics.iou(a, b)
    assert d == pytest.approx(f1_score(a.ravel(), b.ravel()), rel=1e-12)
    assert j == pytest.approx(jaccard_score(a.ravel(), b.ravel()), rel=1e-12)
    assert d == pytest.approx(2 * j / (1 + j), rel=1e-12)
    assert metrics.dice(a.astype(int), b.astype(np.uint8)) == d


def test_metrics_reject_bad_inputs(discs):
    a, b = discs
    with pytest.raises(metrics.MetricInputError, match="shape"):
        metrics.dice(a, b[:-1])
    with pytest.raises(metrics.MetricInputError, match="binary"):
        metrics.iou(a, b * 0.7)
    with pytest.raises(metrics.MetricInputError, match="empty"):
        metrics.dice(np.zeros(0), np.zeros(0))
    with pytest.raises(metrics.MetricInputError, match="batch"):
        metrics.dice(a[0], b[0], per_image=True)
    with pytest.raises(metrics.MetricInputError, match="shape"):
        metrics.hausdorff(a, b.T[:5])
    with pytest.raises(metrics.MetricInputError, match="percentile"):
        metrics.hausdorff(a, b, percentile=0)
    with pytest.raises(metrics.MetricInputError, match="batch"):
        metrics.lesion_detection(a, b)


def test_hausdorff_against_skimage(discs):
    from skimage.metrics import hausdorff_distance

    a, b = discs
    rng = np.random.default_rng(0)
    for _ in range(10):
        p, q = rng.random((2, 15, 15)) > 0.8
        assert metrics.hausdorff(p, q) == pytest.approx(hausdorff_distance(p, q), rel=1e-12)
    assert metrics.hausdorff(a, b) == pytest.approx(2.0)
    assert metrics.hausdorff(a, a) == 0.0
    empty = np.zeros_like(a)
    assert metrics.hausdorff(empty, empty) == 0.0 and metrics.hausdorff(a, empty) == np.inf
    stray = a.copy()
    stray[19, 19] = True
    assert metrics.hausdorff(a, stray) > 10 and metrics.hausdorff(a, stray, percentile=95) < 2
    assert metrics.hausdorff(a, b, spacing=2.0) == pytest.approx(4.0)


def test_lesion_detection_counts():
    true = np.zeros((2, 10, 10), bool)
    pred = np.zeros_like(true)
    true[0, 1:3, 1:3] = True      # found
    true[0, 7:9, 7:9] = True      # missed
    pred[0, 2, 2] = True
    pred[0, 5, 0] = True          # a false positive
    pred[1, 4:6, 4:6] = True      # a false positive on an image without lesions
    c = metrics.lesion_detection(true, pred)
    np.testing.assert_array_equal(c["lesions"], [2, 0])
    np.testing.assert_array_equal(c["detected"], [1, 0])
    np.testing.assert_array_equal(c["false_positives"], [1, 1])
    perfect = metrics.lesion_detection(true, true)
    assert perfect["detected"].sum() == 2 and perfect["false_positives"].sum() == 0
    with pytest.raises(metrics.MetricInputError, match="min_overlap"):
        metrics.lesion_detection(true, pred, min_overlap=0)


def test_patient_bootstrap():
    rng = np.random.default_rng(1)
    pid = np.repeat(np.arange(30), 5)
    v = rng.random(150) + (pid % 2)
    ci = metrics.patient_bootstrap(v, pid, n_boot=500)
    assert ci.estimate == pytest.approx(v.mean()) and ci.low < ci.estimate < ci.high
    ratio = metrics.patient_bootstrap([1, 0, 2], [0, 1, 1], weights=[1, 1, 2], n_boot=200)
    assert ratio.estimate == pytest.approx(3 / 4)
    same = metrics.patient_bootstrap(np.ones(10), np.arange(10), n_boot=100)
    assert same.low == same.high == 1.0
    # patients with alike images: the interval is wider than an image-level bootstrap would claim
    clustered = np.repeat(rng.random(30), 5)
    wide = metrics.patient_bootstrap(clustered, pid, n_boot=1000)
    rows = rng.integers(0, 150, (1000, 150))
    narrow = np.quantile(clustered[rows].mean(axis=1), [0.025, 0.975])
    assert wide.high - wide.low > 1.5 * (narrow[1] - narrow[0])
    for bad in (dict(values=[1, 2], patients=[0]), dict(values=[np.nan, 1], patients=[0, 1]),
                dict(values=[1, 2], patients=[0, 0])):
        with pytest.raises(metrics.MetricInputError):
            metrics.patient_bootstrap(**bad, n_boot=100)


def test_soft_dice_numpy_equals_keras_loss():
    rng = np.random.default_rng(2)
    g = (rng.random((4, 8, 8)) > 0.9).astype("float32")
    p = rng.random((4, 8, 8)).astype("float32")
    keras_loss = models.soft_dice_loss(g[..., None], p[..., None]).numpy()
    np.testing.assert_allclose(metrics.soft_dice(g, p), keras_loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics.soft_dice(np.zeros((1, 4, 4)), np.zeros((1, 4, 4))), [0.0])
    assert metrics.soft_dice(g, g).max() < 1e-6 + 1 / (1 + 2 * g.sum(axis=(1, 2)).min())
    with pytest.raises(metrics.MetricInputError, match="probabilities"):
        metrics.soft_dice(g, p * 3)


# ---------------------------------------------------------------- the U-Net builder
def test_unet_shapes_binary_and_multiclass():
    net = models.unet((28, 28, 1), n_classes=1, widths=(8, 16, 32))
    assert net.output_shape == (None, 28, 28, 1)
    x = np.random.default_rng(0).integers(0, 255, (2, 28, 28, 1)).astype("float32")
    p = net.predict(x, verbose=0)
    assert p.shape == (2, 28, 28, 1) and (p >= 0).all() and (p <= 1).all()
    assert sum("_skip" in layer.name for layer in net.layers) == 2
    multi = models.unet((32, 32, 2), n_classes=3, widths=(4, 8))
    q = multi.predict(np.zeros((1, 32, 32, 2), "float32"), verbose=0)
    assert q.shape == (1, 32, 32, 3)
    np.testing.assert_allclose(q.sum(-1), 1, rtol=1e-5)


def test_unet_parameter_count():
    net = models.unet((28, 28, 1), n_classes=1, widths=(8, 16, 32))
    assert net.count_params() == 29_801


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_shape=(28, 28)), "3 positive sizes"),
    (dict(input_shape=(30, 30, 1)), "divisible by 4"),
    (dict(n_classes=0), "n_classes"),
    (dict(n_classes=1.5), "n_classes"),
    (dict(widths=(8,)), "at least 2 stages"),
    (dict(widths=()), "widths"),
    (dict(widths=(8, -1)), "widths"),
    (dict(std=0), "std"),
])
def test_unet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.unet(**kwargs)


# ---------------------------------------------------------------- checkers and plots
def test_check_dice():
    def good(a, b):
        a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
        s = a.sum() + b.sum()
        return 1.0 if s == 0 else 2 * (a & b).sum() / s

    def iou_instead(a, b):
        a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
        u = (a | b).sum()
        return 1.0 if u == 0 else (a & b).sum() / u

    def nan_on_empty(a, b):
        a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
        with np.errstate(invalid="ignore"):
            return 2 * (a & b).sum() / (a.sum() + b.sum())

    assert checks.check_dice(good, quiet=True)
    fb = checks.check_dice(iou_instead, quiet=True)
    assert not fb and "IoU" in fb.message
    fb = checks.check_dice(nan_on_empty, quiet=True)
    assert not fb and "empty" in fb.message
    assert not checks.check_dice(..., quiet=True)
    assert not checks.check_dice(lambda a, b: 1 / 0, quiet=True)
    assert "def dice" in checks.stub_for("check_dice")


def test_check_detection_threshold():
    rng = np.random.default_rng(0)
    masks = np.zeros((20, 12, 12), bool)
    masks[:10, 4:7, 4:7] = True
    prob = rng.random((20, 12, 12)) * 0.3
    prob[masks] = rng.uniform(0.2, 0.9, masks.sum())
    good = None
    for t in np.round(np.arange(0.95, 0.04, -0.05), 2):
        c = metrics.lesion_detection(masks, prob > t)
        if c["detected"].sum() / c["lesions"].sum() >= 0.9:
            good = float(t)
            break
    assert good is not None
    assert checks.check_detection_threshold(good, prob, masks, quiet=True)
    assert not checks.check_detection_threshold(0.05, prob, masks, quiet=True)
    assert not checks.check_detection_threshold(1.5, prob, masks, quiet=True)
    assert not checks.check_detection_threshold(..., prob, masks, quiet=True)
    assert "answer = ..." in checks.stub_for("check_detection_threshold(answer, p_val, m_val)")


def test_segmentation_plots(discs):
    import matplotlib

    matplotlib.use("Agg")
    from helpers import plots

    a, b = discs
    fig, axes = plots.segmentation_grid(np.stack([a, b]).astype(float), np.stack([a, b]), np.stack([b, a]),
                                        prob_maps=np.stack([a, b]).astype(float), titles=["x", "y"], suptitle="t")
    assert axes.shape == (2, 2)
    with pytest.raises(ValueError, match="one per image"):
        plots.segmentation_grid(np.stack([a, b]).astype(float), np.stack([a]))
    with pytest.raises(ValueError, match="does not fit"):
        plots.mask_overlay(axes[0, 0], a.astype(float), a[:5])
    matplotlib.pyplot.close("all")


def test_tissue_masks_of_the_course_set():
    """The cached tissue masks line up with data.load's images (generated once if the cache lacks them)."""
    from helpers import data

    val = data.load("simlesion2d", "val")
    t = sim.tissue_masks("simlesion2d", "val")
    assert {k: v.shape for k, v in t.items()} == {k: val.x.shape for k in ("brain", "gm", "wm", "tissue")}
    assert t["brain"].dtype == bool and t["tissue"].dtype == np.uint8
    assert 0.5 < t["brain"].mean() < 0.95 and ((t["gm"] >= 0) & (t["gm"] <= 1)).all()
    dark = val.x < 30
    assert (t["tissue"][dark] == 0).mean() > 0.8          # dark pixels (outside the brain, CSF) are background
    with pytest.raises(ValueError, match="not a simulated set"):
        sim.tissue_masks("breastmnist", "val")


def test_batch_soft_dice_and_training_loss():
    rng = np.random.default_rng(3)
    g = (rng.random((3, 6, 6, 1)) > 0.8).astype("float32")
    p = rng.random((3, 6, 6, 1)).astype("float32")
    batch = float(models.soft_dice_loss(g, p, per_image=False))
    assert batch == pytest.approx(1 - (2 * (g * p).sum() + 1) / (g.sum() + p.sum() + 1), rel=1e-5)
    bce = -np.mean(g * np.log(p) + (1 - g) * np.log(1 - p))
    assert float(models.bce_dice_loss(g, p)) == pytest.approx(bce + batch, rel=1e-4)
