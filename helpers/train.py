"""Training recipes of the course, and one command that trains on any MedMNIST-format set.

Two recipes:

- ``"article"``: the source article's recipe (pixels / 255, :func:`helpers.models.article_cnn`,
  adam, 10 epochs, batch 64, no use of the validation set).
- ``"better"``: what practitioners do (normalisation, light augmentation, batch norm, dropout,
  class weights, cosine learning-rate decay, best weights by validation AUC, early stopping),
  built by :func:`helpers.models.better_cnn`.

Command line (prints one JSON line with test AUC and accuracy)::

    python -m helpers.train pneumoniamnist --recipe better --seconds 60
    python -m helpers.train simlesion2d --recipe article
    python -m helpers.train path/to/any_medmnist_format.npz --recipe better

TensorFlow is imported only when a function needs it.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

RECIPES = ("article", "better")
ARTICLE_EPOCHS = 10
BETTER_EPOCHS = 25
# Flips that keep an image plausible: chest X-rays and breast ultrasound have an up and a down.
FLIPS = {"pneumoniamnist": "horizontal", "breastmnist": "horizontal", "chestmnist": "horizontal"}


# ---------------------------------------------------------------- data
def as_images(x: Any) -> np.ndarray:
    """Images as float32 ``(N, H, W, C)`` on their original 0..255 scale.

    Accepts ``(N, H, W)`` (grey, a channel axis is added), ``(N, H, W, 1)`` or ``(N, H, W, 3)``.
    """
    arr = np.asarray(x)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W), (N, H, W, 1) or (N, H, W, 3); got {arr.shape}. "
                         "3D volumes are not supported by these 2D recipes.")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"images must be numbers (uint8 0..255 as in MedMNIST); got dtype {arr.dtype}.")
    return arr.astype("float32")


def as_labels(y: Any) -> np.ndarray:
    """Integer class labels ``(N,)`` from ``(N,)`` or MedMNIST's ``(N, 1)``; multi-label sets are refused."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"labels must be (N,) or (N, 1) class indices; got {arr.shape} "
                         "(multi-label sets such as ChestMNIST need another loss).")
    if not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
        raise ValueError(f"labels must be non-negative integers; got dtype {arr.dtype}.")
    return arr.astype("int64")


def read_npz(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read a MedMNIST-format ``.npz`` (``train_images``, ``train_labels``, ``val_...``, ``test_...``).

    Returns ``{"train": (x, y), "val": (x, y), "test": (x, y)}`` with ``x`` from :func:`as_images`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No file {path}; give a MedMNIST-format .npz or a dataset name.")
    with np.load(path, allow_pickle=False) as f:
        missing = [f"{s}_{k}" for s in ("train", "val", "test") for k in ("images", "labels")
                   if f"{s}_{k}" not in f.files]
        if missing:
            raise ValueError(f"{path} lacks {missing}; it is not in MedMNIST format.")
        return {s: (as_images(f[f"{s}_images"]), as_labels(f[f"{s}_labels"])) for s in ("train", "val", "test")}


def class_weights(y: Any) -> dict[int, float]:
    """Balanced class weights ``n / (k · n_c)`` (scikit-learn's ``"balanced"``): rare classes count more."""
    from sklearn.utils.class_weight import compute_class_weight

    y = as_labels(y)
    classes = np.unique(y)
    w = compute_class_weight("balanced", classes=classes, y=y)
    return {int(c): float(v) for c, v in zip(classes, w)}


# ---------------------------------------------------------------- metrics
def auc_acc(y: Any, proba: Any) -> dict[str, float]:
    """Test AUC and accuracy as MedMNIST reports them.

    Binary: AUC of the class-1 probability; several classes: mean one-vs-rest AUC.
    Accuracy: of the most probable class (for two classes, a 0.5 threshold).
    """
    from sklearn.metrics import roc_auc_score

    y, proba = as_labels(y), np.asarray(proba, dtype="float64")
    if proba.ndim != 2 or len(proba) != len(y):
        raise ValueError(f"proba must be (N, n_classes) with N = {len(y)}; got {proba.shape}.")
    if proba.shape[1] == 2:
        auc = roc_auc_score(y, proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=list(range(proba.shape[1])))
    return {"auc": float(auc), "acc": float(np.mean(proba.argmax(1) == y))}


# ---------------------------------------------------------------- callbacks
def _callbacks(x_val: np.ndarray | None, y_val: np.ndarray | None, epochs: int, seconds: float | None,
               lr: float | None, patience: int | None, restore: bool):
    """Keras callbacks: time budget (+ cosine LR decay when ``lr``), and validation AUC each epoch
    (with ``restore``: keep the best weights, stop early after ``patience`` epochs without gain)."""
    import keras

    class BudgetAndSchedule(keras.callbacks.Callback):
        """Stops when ``seconds`` are spent; with ``lr``, sets a cosine-decayed rate each epoch.

        Progress is the larger of epochs done / epochs and time spent / seconds, so a time budget
        still ends with a small learning rate.
        """

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            if lr is not None:
                progress = epoch / epochs
                if seconds:
                    progress = max(progress, (time.perf_counter() - self.t0) / seconds)
                self.model.optimizer.learning_rate.assign(lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())
            if seconds and time.perf_counter() - self.t0 > seconds:
                self.model.stop_training = True

    class BestValAUC(keras.callbacks.Callback):
        """Records ``val_auc`` each epoch; if ``restore``, keeps the best weights and stops early."""

        def on_train_begin(self, logs=None):
            self.best, self.best_epoch, self.best_weights = -1.0, -1, None

        def on_epoch_end(self, epoch, logs=None):
            proba = self.model.predict(x_val, batch_size=512, verbose=0)
            auc = auc_acc(y_val, proba)["auc"]
            if logs is not None:
                logs["val_auc"] = auc
            if auc > self.best:
                self.best, self.best_epoch, self.best_weights = auc, epoch, self.model.get_weights()
            elif restore and patience is not None and epoch - self.best_epoch >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if restore and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    cbs = [BudgetAndSchedule()]
    if x_val is not None:
        cbs.append(BestValAUC())
    return cbs


# ---------------------------------------------------------------- recipes
def fit(recipe: str, x_train: Any, y_train: Any, x_val: Any = None, y_val: Any = None,
        epochs: int | None = None, seconds: float | None = None, batch_size: int = 64, lr: float = 3e-3,
        patience: int | None = 6, verbose: int = 0, **model_kwargs: Any):
    """Build and train a model with ``recipe`` (``"article"`` or ``"better"``); return ``(model, history)``.

    x_*: images ``(N, H, W[, C])`` on the 0..255 scale; y_*: class indices.
    epochs: at most this many (default 10 for the article, 25 for the better recipe).
    seconds: optional wall-clock budget; training stops after the epoch that passes it
    (numbers then depend on the machine's speed: leave it ``None`` where results must repeat).
    The better recipe needs the validation set (best epoch chosen by validation AUC).
    model_kwargs: passed to the model builder, :func:`helpers.models.article_cnn` (e.g. ``pooling="average"``)
    or :func:`helpers.models.better_cnn` (e.g. ``widths=(16, 32, 64)``, ``flip=None``).
    """
    import keras

    from .models import article_cnn, better_cnn

    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; use one of {', '.join(RECIPES)}.")
    x_train, y_train = as_images(x_train), as_labels(y_train)
    if len(x_train) != len(y_train):
        raise ValueError(f"{len(x_train)} training images but {len(y_train)} labels.")
    n_classes = max(2, int(y_train.max()) + 1)
    has_val = x_val is not None and y_val is not None
    if has_val:
        x_val, y_val = as_images(x_val), as_labels(y_val)
    if recipe == "article":
        epochs = epochs or ARTICLE_EPOCHS
        model = article_cnn(x_train.shape[1:], n_classes, **model_kwargs)
        prep = 1 / 255.0  # the article's pre-processing
        cbs = _callbacks(x_val * prep if has_val else None, y_val, epochs, seconds, None, None, False)
        hist = model.fit(x_train * prep, y_train, epochs=epochs, batch_size=batch_size,
                         validation_data=(x_val * prep, y_val) if has_val else None, callbacks=cbs,
                         verbose=verbose)
        model = _with_scaling(model, prep)
        return model, hist
    if not has_val:
        raise ValueError("The better recipe needs x_val and y_val: it keeps the epoch with the best validation AUC.")
    epochs = epochs or BETTER_EPOCHS
    model = better_cnn(x_train.shape[1:], n_classes, mean=float(x_train.mean()), std=float(x_train.std()) or 1.0,
                       **model_kwargs)
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=lr, weight_decay=1e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, validation_data=(x_val, y_val),
                     class_weight=class_weights(y_train), callbacks=_callbacks(x_val, y_val, epochs, seconds, lr, patience, True),
                     verbose=verbose)
    return model, hist


def _with_scaling(model: Any, factor: float):
    """Wrap a model that expects scaled inputs so that it takes raw 0..255 images like the better one."""
    import keras

    inputs = keras.Input(model.input_shape[1:])
    outputs = model(keras.layers.Rescaling(factor)(inputs))
    return keras.Model(inputs, outputs, name=f"{model.name}_on_raw_pixels")


def train_arrays(splits: dict[str, tuple[Any, Any]], recipe: str = "better", seconds: float | None = 60,
                 epochs: int | None = None, seed: int = 0, **model_kwargs: Any) -> dict[str, Any]:
    """Train ``recipe`` on ``{"train": (x, y), "val": (x, y), "test": (x, y)}``; return test AUC/ACC and facts.

    model_kwargs: passed to the model builder (see :func:`fit`).
    """
    missing = [s for s in ("train", "val", "test") if s not in splits]
    if missing:
        raise ValueError(f"splits lacks {missing}; give train, val and test as (images, labels) pairs.")
    import keras

    keras.utils.set_random_seed(seed)
    t0 = time.perf_counter()
    model, hist = fit(recipe, *splits["train"], *splits["val"], epochs=epochs, seconds=seconds, **model_kwargs)
    train_s = time.perf_counter() - t0
    x_test, y_test = as_images(splits["test"][0]), as_labels(splits["test"][1])
    scores = auc_acc(y_test, model.predict(x_test, batch_size=512, verbose=0))
    return {"recipe": recipe, **{k: round(v, 4) for k, v in scores.items()},
            "epochs": len(hist.history["loss"]), "train_seconds": round(train_s, 1),
            "n_train": int(len(splits["train"][1])), "n_test": int(len(y_test))}


def train_file(path: str | Path, recipe: str = "better", seconds: float | None = 60, epochs: int | None = None,
               seed: int = 0) -> dict[str, Any]:
    """:func:`train_arrays` on a MedMNIST-format ``.npz`` file."""
    result = train_arrays(read_npz(path), recipe, seconds, epochs, seed)
    return {"data": str(path), **result}


def train(flag: str, recipe: str = "better", seconds: float | None = 60, epochs: int | None = None,
          seed: int = 0) -> dict[str, Any]:
    """Train ``recipe`` on a dataset of the registry (downloaded if needed) or on a ``.npz`` path.

    Prints the result as one JSON line and returns it as a dict
    (``auc``, ``acc`` on the test split, ``epochs``, ``train_seconds``...).
    """
    from . import data

    if str(flag).endswith(".npz"):
        result = train_file(flag, recipe, seconds, epochs, seed)
    else:
        meta = data.info(flag)
        if meta.entry["kind"] == "sklearn" or meta.entry.get("ndim", 2) != 2:
            raise ValueError(f"{flag} is not a set of 2D images; these recipes train 2D image classifiers.")
        splits = {}
        for s in ("train", "val", "test"):
            ds = data.load(flag, s)
            splits[s] = (ds.x, ds.y)
        kwargs = {"flip": FLIPS.get(meta.name, "horizontal_and_vertical")} if recipe == "better" else {}
        result = {"data": flag, **train_arrays(splits, recipe, seconds, epochs, seed, **kwargs)}
    print(json.dumps(result))
    return result


def try_cifar10(timeout: float = 5.0):
    """CIFAR-10 as ``keras.datasets.cifar10.load_data()`` returns it, or ``None`` with one sentence when offline.

    Uses Keras's cached copy when there is one; otherwise checks within ``timeout`` seconds that the
    server can be reached before downloading (163 MB), so that offline it fails fast and quietly.
    """
    import os
    import socket

    host = "www.cs.toronto.edu"
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    cached = Path(keras_home, "datasets", "cifar-10-batches-py-target", "cifar-10-batches-py", "test_batch")
    if not cached.exists():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
        except OSError as exc:
            print(f"[cifar10] CIFAR-10 is not in the Keras cache and {host} cannot be reached ({exc}); "
                  "skipping the article's verbatim run (run this cell again when online).")
            return None
    import keras

    try:
        return keras.datasets.cifar10.load_data()
    except Exception as exc:  # noqa: BLE001 - any download or extraction failure ends in one sentence
        print(f"[cifar10] CIFAR-10 could not be loaded ({type(exc).__name__}: {exc}); skipping the verbatim run.")
        return None


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.train FLAG_OR_NPZ [--recipe better|article] [--seconds 60] [--epochs N]``."""
    import argparse

    from .data import DataError

    parser = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("flag", help="a dataset name (e.g. pneumoniamnist, simlesion2d) or a MedMNIST-format .npz")
    parser.add_argument("--recipe", choices=RECIPES, default="better")
    parser.add_argument("--seconds", type=float, default=60.0, help="wall-clock training budget (0: none)")
    parser.add_argument("--epochs", type=int, default=None, help="maximum number of epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from .setup import start

    start(seed=args.seed)
    try:
        train(args.flag, args.recipe, args.seconds or None, args.epochs, args.seed)
    except (DataError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
