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
    fig, axes = plots.image_grid(np.zeros((5, 28, 28, 1)), titles=list("abcde"), ncols=3, circles=[None, (3, 4, 2), None, None, None])
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
