"""The interactive widgets of the course (ipywidgets), in one place; each redraws a figure of :mod:`helpers.plots`.

They need a running kernel (a stored notebook shows the static figure next to them). ipywidgets is
imported only when a widget is made.
"""
from __future__ import annotations

from typing import Any


def window_widget(hu: Any, center: int = 40, width: int = 400) -> None:
    """Two sliders, window centre and width in Hounsfield units, that redraw :func:`helpers.plots.window_figure`
    for the CT slice ``hu``; displays them (returns nothing). Taught in 00, step 4.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from .plots import window_figure

    def show_window(center: int = center, width: int = width) -> None:
        window_figure(hu, center, width)
        plt.show()

    widgets.interact(
        show_window,
        center=widgets.IntSlider(value=center, min=-1000, max=1000, step=10, description="centre (HU)"),
        width=widgets.IntSlider(value=width, min=10, max=2500, step=10, description="width (HU)"),
    )


def threshold_widget(y_true: Any, prob: Any, pos_label: int = 1,
                     label_names: tuple[str, str] = ("negative", "positive"), value: float = 0.5, step: float = 0.01):
    """A slider that redraws :func:`helpers.plots.threshold_figure` as the threshold moves; display it.

    Returns a ``VBox`` (slider above its output). Checks its inputs at once, not at the first move.
    Taught in 04, step 3.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .metrics import check_binary
    from .plots import threshold_figure

    check_binary(y_true, prob, pos_label=pos_label, probabilities=True)
    slider = widgets.FloatSlider(value=value, min=0.0, max=1.0, step=step, description="threshold",
                                 continuous_update=False, readout_format=".2f")
    out = widgets.Output()

    def draw(change: Any = None) -> None:
        with out:
            out.clear_output(wait=True)
            fig, _ = threshold_figure(y_true, prob, slider.value, pos_label=pos_label, label_names=label_names)
            display(fig)
            plt.close(fig)

    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([slider, out])
