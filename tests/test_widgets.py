"""Unit tests of helpers.widgets (moved from test_metrics: the threshold slider; new: the CT window sliders)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from helpers import widgets  # noqa: E402

Y = np.repeat([0, 1], 200)
RANDOM = np.random.default_rng(0).uniform(0, 1, Y.size)


def test_threshold_widget():
    box = widgets.threshold_widget(Y, RANDOM)
    slider = box.children[0]
    slider.value = 0.3
    assert slider.description == "threshold"
    plt.close("all")


def test_window_widget_displays_two_sliders(monkeypatch):
    import ipywidgets

    shown = {}
    monkeypatch.setattr(ipywidgets, "interact", lambda f, **kw: shown.update(kw))
    assert widgets.window_widget(np.zeros((8, 8))) is None
    assert [w.description for w in shown.values()] == ["centre (HU)", "width (HU)"]
