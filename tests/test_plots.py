"""Plots return figures with titles and labels, and reject bad input with clear messages."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_image_grid_shapes_and_titles():
    fig, axes = plots.image_grid(np.zeros((5, 28, 28, 1)), titles=list("abcde"), ncols=3,
                                 circles=[None, (3, 4, 2), None, None, None])
    assert axes.shape == (2, 3) and axes[0, 0].get_title() == "a"
    fig, axes = plots.image_grid(np.zeros((2, 8, 8, 3), np.uint8))
    assert axes.shape == (1, 2)


@pytest.mark.parametrize("bad", [np.zeros((28, 28)), np.zeros((2, 8, 8, 5)), np.zeros((0, 8, 8))])
def test_image_grid_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="images"):
        plots.image_grid(bad)


def test_image_grid_rejects_wrong_number_of_titles():
    with pytest.raises(ValueError, match="one title per image"):
        plots.image_grid(np.zeros((3, 8, 8)), titles=["a"])


def test_three_planes():
    fig, axes = plots.three_planes(np.random.default_rng(0).random((10, 12, 14)), spacing=(1, 1, 2))
    assert [a.get_title() for a in axes] == ["sagittal", "coronal", "axial"]
    with pytest.raises(ValueError, match="3D"):
        plots.three_planes(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="outside"):
        plots.three_planes(np.zeros((4, 4, 4)), point=(9, 0, 0))


def test_training_curves():
    fig, axes = plots.training_curves({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]})
    assert [a.get_title() for a in axes] == ["loss", "accuracy"]
    assert len(axes[0].lines) == 2 and axes[0].get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="has no"):
        plots.training_curves({"loss": [1]}, metrics=["auc"])
    with pytest.raises(ValueError):
        plots.training_curves({})


def test_confusion_matrix_counts():
    fig, ax = plots.confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], label_names=["neg", "pos"])
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["1", "1", "1", "2"]
    with pytest.raises(ValueError, match="same length"):
        plots.confusion_matrix([0, 1], [0])


def test_roc_curve_auc_in_legend_and_bad_input():
    y = np.array([0, 0, 1, 1])
    fig, ax = plots.roc_curve(y, [0.1, 0.2, 0.8, 0.9], label="perfect")
    assert "AUC 1.000" in ax.get_legend().get_texts()[-1].get_text()
    fig, ax = plots.roc_curve(y, [0.9, 0.8, 0.2, 0.1], label="inverted", ax=ax)
    assert "AUC 0.000" in ax.get_legend().get_texts()[-1].get_text()
    with pytest.raises(ValueError, match="both classes"):
        plots.roc_curve([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="differ in length"):
        plots.roc_curve([0, 1], [0.2])


def test_confusion_matrix_cell_names():
    fig, ax = plots.confusion_matrix([0, 1, 1], [0, 1, 0], cell_names=["TN", "FP", "FN", "TP"])
    assert [t.get_text() for t in ax.texts] == ["TN\n1", "FP\n0", "FN\n1", "TP\n1"]
    with pytest.raises(ValueError, match="cell names"):
        plots.confusion_matrix([0, 1], [0, 1], cell_names=["TN"])


# ---------------------------------------------------------------- figures moved here from other modules
def test_threshold_figure():
    from helpers.metrics import MetricInputError

    y = np.repeat([0, 1], 200)
    perfect = np.where(y == 1, 0.9, 0.1) + np.random.default_rng(0).uniform(-0.05, 0.05, y.size)
    fig, axes = plots.threshold_figure(y, perfect, 0.5)
    assert "sensitivity 1.00, specificity 1.00" in axes[1].get_title()
    with pytest.raises(MetricInputError, match="threshold"):
        plots.threshold_figure(y, perfect, threshold=2)


def test_error_map_grid_returns_figure():
    imgs = np.zeros((3, 8, 8))
    fig, axes = plots.error_map_grid(imgs, imgs + 1, circles=[(4, 4, 1), None, (2, 2, 1)], titles=list("abc"))
    assert axes.shape == (2, 3)
    with pytest.raises(ValueError, match="one per image"):
        plots.error_map_grid(imgs, imgs, titles=["a"])


def test_overlay_marks_the_peak():
    fig, ax = plt.subplots()
    heat = np.zeros((8, 8))
    heat[2, 5] = 1.0
    plots.overlay(ax, np.zeros((8, 8, 1)), heat, title="t", circle=(2, 5, 1.0))
    assert ax.get_title() == "t" and list(ax.lines[0].get_data()) == [[5], [2]]


def test_unrolled_rnn():
    fig, ax = plots.unrolled_rnn(3)
    assert ax.get_title()
    with pytest.raises(ValueError):
        plots.unrolled_rnn(0)


def test_window_figure():
    hu = np.linspace(-1000, 1000, 64).reshape(8, 8)
    fig, (ax_img, ax_hist) = plots.window_figure(hu, 40, 400)
    assert "centre 40 HU" in ax_img.get_title() and ax_hist.get_xlabel() == "Hounsfield units"


# ---------------------------------------------------------------- figures that were long notebook cells (02, 04, 05)
def test_input_gradient_figure():
    rng = np.random.default_rng(0)
    fig, axes = plots.input_gradient_figure({"lstm": rng.random(10), "gru": rng.random(10)}, {"GRU": rng.random(6)})
    assert len(fig.axes) == 2 and len(axes[0].lines) == 2
    assert axes[0].get_title() == "Untrained, 10 random steps" and "after slice 5" in axes[1].get_xlabel()
    with pytest.raises(ValueError, match="one length"):
        plots.input_gradient_figure({"a": np.ones(3), "b": np.ones(4)}, {"c": np.ones(3)})
    with pytest.raises(ValueError, match="empty"):
        plots.input_gradient_figure({}, {"c": np.ones(3)})


def test_contrast_detail_draws_the_lines_or_says_why_not(capsys):
    rng = np.random.default_rng(0)
    radius = rng.uniform(2.5, 6.0, 60).astype("float32")
    contrast = rng.uniform(0.3, 0.65, 60).astype("float32")
    found = contrast + 0.05 * radius > 0.65
    r_edges, c_edges = [2.5, 4.0, 6.0], [0.3, 0.5, 0.65]
    fig, axes = plots.contrast_detail(radius, contrast, found, r_edges, c_edges, title="t")
    assert len(fig.axes) == 3 and axes[0].get_title() == "t" and len(axes[0].lines) == 2  # + colour bar
    assert len(axes[1].texts) == 4 and capsys.readouterr().out == ""
    fig, axes = plots.contrast_detail(radius, contrast, np.ones(60, bool), r_edges, c_edges)
    assert len(axes[0].lines) == 0 and "found every one of the 60 lesions" in capsys.readouterr().out
    with pytest.raises(ValueError, match="one length"):
        plots.contrast_detail(radius, contrast[:5], found, r_edges, c_edges)


def test_contrast_detail_fit():
    from helpers.metrics import contrast_detail_fit

    radius = np.tile([2.0, 4.0, 8.0], 20)
    contrast = np.repeat(np.linspace(0.3, 0.6, 20), 3)
    b0, b_r, b_c = contrast_detail_fit(radius, contrast, (radius > 3) & (contrast > 0.35))
    assert b_r > 0 and b_c > 0   # bigger and stronger lesions are found more often
    assert contrast_detail_fit(radius, contrast, np.zeros(60, bool)) is None


def test_explanation_grid():
    imgs, maps = np.zeros((3, 8, 8, 1)), {"a": np.random.default_rng(0).random((3, 8, 8)), "b": np.ones((3, 8, 8))}
    fig, axes = plots.explanation_grid(imgs, maps, circles=[(4, 4, 1.5), None, (2, 2, 1)], suptitle="s",
                                       image_label="simulated image")
    assert axes.shape == (3, 3) and len(fig.axes) == 9
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["simulated image", "a", "b"]
    assert len(axes[0, 0].patches) == 1 and len(axes[0, 1].patches) == 0
    with pytest.raises(ValueError, match="one map per image"):
        plots.explanation_grid(imgs, {"a": np.ones((2, 8, 8))})
