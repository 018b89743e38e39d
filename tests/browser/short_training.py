"""IPython start-up file for the browser tests' kernels only: training shortened to about one epoch.

The browser suite checks what the notebook tests cannot: that JupyterLab runs each notebook, draws its figures
and that its widgets react. The numbers are the notebook tests' job, with full training, in the same test
command. So that every notebook still runs all of its cells in the browser within the suite's
budget, the ``lab`` fixture copies this file into its private ``IPYTHONDIR``
(``profile_default/startup/``), where only the test server's kernels read it; a learner's kernels
never see it.

Once a cell has imported Keras, ``keras.Model.fit`` is wrapped: every epoch and every callback
still runs, but each epoch sees only ``batches // epochs`` batches (at least one), so that a whole
call costs about one pass over the data. Nothing else changes (data, models, predictions, plots,
widgets). The notebooks' outputs in the browser therefore show other numbers than the stored ones;
that is expected, and only errors, figures and widgets are checked there.
"""
from __future__ import annotations

import functools
import math
import sys

MARK = "_course_browser_test_short"


def _n_samples(x) -> int | None:
    """Length of the first array in ``x`` (an array, or a dict/list/tuple of arrays)."""
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    elif isinstance(x, (list, tuple)):
        x = x[0] if x else None
    try:
        return len(x)
    except TypeError:
        return None


def _shorten_fit(*_args) -> None:
    keras = sys.modules.get("keras")
    model_class = getattr(keras, "Model", None)
    if model_class is None or getattr(model_class.fit, MARK, False):
        return
    original = model_class.fit

    @functools.wraps(original)
    def fit(self, x=None, y=None, batch_size=None, epochs=1, *args, **kwargs):
        n = _n_samples(x)
        if n and kwargs.get("steps_per_epoch") is None:
            batches = math.ceil(n / (batch_size or 32))
            kwargs["steps_per_epoch"] = max(1, batches // max(1, int(epochs)))
        return original(self, x, y, batch_size, epochs, *args, **kwargs)

    setattr(fit, MARK, True)
    model_class.fit = fit


get_ipython().events.register("pre_run_cell", _shorten_fit)  # noqa: F821 - IPython start-up file
