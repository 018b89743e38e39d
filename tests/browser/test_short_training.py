"""The browser kernels' start-up file: every epoch and callback still runs, on fewer batches."""
from __future__ import annotations

import runpy

import numpy as np
import pytest

from .conftest import SHORT_TRAINING


class _Events:
    def __init__(self):
        self.callbacks = {}

    def register(self, name, fn):
        self.callbacks.setdefault(name, []).append(fn)


class _Shell:
    def __init__(self):
        self.events = _Events()


@pytest.fixture
def shortened_fit(monkeypatch):
    """Run the start-up file as IPython would, fire its hook, and undo the patch afterwards."""
    import keras

    monkeypatch.setattr(keras.Model, "fit", keras.Model.fit)  # restored after the test
    shell = _Shell()
    runpy.run_path(str(SHORT_TRAINING), init_globals={"get_ipython": lambda: shell})
    (hook,) = shell.events.callbacks["pre_run_cell"]
    hook(None)
    hook(None)  # a second cell must not wrap it twice
    return keras


def _count_batches(keras, x, y, epochs, batch_size, **kwargs):
    keras.utils.set_random_seed(0)
    if isinstance(x, dict):  # a model with named inputs, like the fusion model of notebook 05
        inputs = {name: keras.Input(v.shape[1:], name=name) for name, v in x.items()}
        outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Concatenate()(list(inputs.values())))
        model = keras.Model(inputs, outputs)
    else:
        model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    seen = {"batches": 0, "epochs": 0}

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen["batches"] += 1

        def on_epoch_end(self, epoch, logs=None):
            seen["epochs"] += 1

    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[Count()], **kwargs)
    assert len(history.history["loss"]) == epochs
    return seen


def test_every_epoch_runs_on_about_one_pass_of_the_data(shortened_fit):
    keras = shortened_fit
    assert getattr(keras.Model.fit, "_course_browser_test_short")
    x = np.random.default_rng(0).normal(size=(640, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    # 640 samples / batch 32 = 20 batches; 5 epochs -> 4 batches each, 20 in all
    assert _count_batches(keras, x, y, epochs=5, batch_size=32) == {"batches": 20, "epochs": 5}
    # more epochs than batches: one batch per epoch, still every epoch
    assert _count_batches(keras, x[:64], y[:64], epochs=5, batch_size=32) == {"batches": 5, "epochs": 5}
    # named inputs, as a dict
    assert _count_batches(keras, {"a": x[:, :2], "b": x[:, 2:]}, y, epochs=5, batch_size=32) == {"batches": 20, "epochs": 5}
    # an explicit steps_per_epoch is left as it is
    assert _count_batches(keras, x, y, epochs=2, batch_size=32, steps_per_epoch=3) == {"batches": 6, "epochs": 2}
