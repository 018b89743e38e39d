"""Training recipes of the course, and one command that trains on any MedMNIST-format set.

Two recipes:

- ``"article"``: the source article's recipe (pixels / 255, :func:`helpers.models.article_cnn`,
  adam, 10 epochs, batch 64, no use of the validation set).
- ``"better"``: a small CNN trained the way practitioners train one (hyper-parameters in
  :data:`BETTER`, chosen on the validation splits with ``tools/recipe_search.py``): normalisation,
  augmentation by the flips the data allows (:data:`FLIPS`), small shifts and contrast changes,
  batch norm, dropout, label smoothing, AdamW with warm-up and cosine decay, and a fixed number
  of images seen (60,000: 13 epochs of PneumoniaMNIST, 110 of BreastMNIST). Options, off by
  default because they did not help on validation: test-time averaging over the allowed flips
  (``tta=True``), an ensemble (``members=2``), wider layers (``widths=(32, 64, 128)``).

Both choose their decision threshold on the validation split (:func:`choose_threshold`) and
score the test split once (:func:`evaluate`). :func:`train_arrays` is the one code path of the
notebooks and of the command line; :func:`cached_fit` trains once and reuses the weights.

Command line (prints one JSON line with test AUC and accuracy and their 95 % CIs)::

    python -m helpers.train pneumoniamnist                 # better recipe, fixed epochs
    python -m helpers.train breastmnist --recipe article
    python -m helpers.train pneumoniamnist --seconds 60    # a time budget instead (machine-dependent)
    python -m helpers.train path/to/any_medmnist_format.npz --flip none

TensorFlow is imported only when a function needs it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .data import FLIPS, as_images, as_labels
from .metrics import auc_acc

RECIPES = ("article", "better")
ARTICLE_EPOCHS = 10
ARTICLE_BATCH = 64
#: The better recipe's hyper-parameters. ``widths``, ``samples``, ``tta`` and ``members`` were chosen on the
#: validation splits of PneumoniaMNIST and BreastMNIST (``tools/recipe_search.py``; the test splits were
#: not used); the rest are common defaults, not tuned. Epochs: ``ceil(samples / n_train)`` clipped to
#: ``[min_epochs, max_epochs]``. 23,890 parameters for 28×28 grey images and two classes.
BETTER: dict = {
    "widths": (16, 32, 64), "convs": 1, "dropout": 0.3, "head": "avgmax",
    "batch_size": 64, "lr": 3e-3, "weight_decay": 1e-4, "warmup": 1, "label_smoothing": 0.1,
    "samples": 60_000, "min_epochs": 5, "max_epochs": 200,
    "augment": True, "shift": 2, "contrast": 0.1, "tta": False, "class_weight": False, "members": 1,
}
BETTER_EPOCHS = None  # kept for old imports: the number of epochs now follows from BETTER["samples"]
# FLIPS (imported above from helpers.data): the flips that keep an image plausible, by dataset, from the
# registry (helpers/registry.json: each entry's "flips"); the rest get none unless asked.
FLIP_CHOICES = (None, "horizontal", "vertical", "horizontal_and_vertical")
AUTO = "auto"


# ---------------------------------------------------------------- data
# as_images, as_labels (helpers.data) put images and labels in the recipes' shapes; auc_acc (helpers.metrics)
# scores them as MedMNIST does.
def class_weights(y: Any) -> dict[int, float]:
    """Balanced class weights ``n / (k · n_c)`` (scikit-learn's ``"balanced"``): rare classes count more."""
    from sklearn.utils.class_weight import compute_class_weight

    y = as_labels(y)
    classes = np.unique(y)
    w = compute_class_weight("balanced", classes=classes, y=y)
    return {int(c): float(v) for c, v in zip(classes, w)}


# ---------------------------------------------------------------- flips come from the data
def flip_for(dataset: str | None) -> str | None:
    """The flips that keep images of ``dataset`` plausible: its ``flips`` in the registry
    (:data:`helpers.data.FLIPS`); ``None`` (no flips) when unknown. Taught in 01, step 7.

    A chest X-ray or an ultrasound has an up and a down, and OrganAMNIST's labels name the body's left
    and right: flipping those would teach the model images that never occur, or the wrong label.
    A dataset not in the registry gets no flips rather than a guess; pass ``flip=`` to choose yourself.
    """
    if dataset is None:
        return None
    name = Path(str(dataset)).stem.lower().strip() if str(dataset).endswith(".npz") else str(dataset).lower().strip()
    return FLIPS.get(name)


def _resolve_flip(dataset: str | None, flip: Any) -> str | None:
    if flip is AUTO or flip == "auto":
        return flip_for(dataset)
    if flip not in FLIP_CHOICES:
        raise ValueError(f"flip must be 'auto' (from the dataset), 'horizontal', 'vertical', "
                         f"'horizontal_and_vertical' or None; got {flip!r}.")
    return flip


# ---------------------------------------------------------------- decision rule
def positive_scores(proba: Any) -> np.ndarray:
    """Class-1 probability of a two-class softmax output ``(N, 2)`` (or a ``(N,)`` score)."""
    p = np.asarray(proba, dtype="float64")
    return p[:, 1] if p.ndim == 2 else p


def choose_threshold(y_val: Any, proba_val: Any) -> float | None:
    """The decision threshold on the class-1 probability that maximises accuracy on the validation split.

    Candidates are the midpoints between neighbouring validation scores (and one below and one above
    them all); among equally accurate thresholds the one nearest 0.5 is taken. Returns ``None`` for
    more than two classes (the decision is then the most probable class). Never give it the test split.
    """
    y = as_labels(y_val)
    p = np.asarray(proba_val, dtype="float64")
    if p.ndim == 2 and p.shape[1] > 2:
        return None
    s = positive_scores(p)
    if len(s) != len(y) or len(s) == 0:
        raise ValueError(f"{len(y)} labels but {len(s)} scores.")
    u = np.unique(s)
    cands = np.concatenate([[max(0.0, u[0] - 1e-6)], (u[:-1] + u[1:]) / 2, [min(1.0, u[-1] + 1e-6)]])
    acc = np.array([np.mean((s >= t) == (y == 1)) for t in cands])
    best = np.flatnonzero(acc == acc.max())
    return float(cands[best[np.argmin(np.abs(cands[best] - 0.5))]])


def decide(proba: Any, threshold: float | None) -> np.ndarray:
    """Predicted classes: class 1 where its probability ≥ ``threshold`` (two classes), else the most probable."""
    p = np.asarray(proba, dtype="float64")
    if threshold is None or (p.ndim == 2 and p.shape[1] > 2):
        return p.argmax(1)
    return (positive_scores(p) >= threshold).astype("int64")


# ---------------------------------------------------------------- augmentation (NumPy, seeded)
def augment(x: np.ndarray, rng: np.random.Generator, flip: str | None, shift: int = 0,
            contrast: float = 0.0) -> np.ndarray:
    """A randomly augmented copy of images ``(N, H, W, C)`` on the 0..255 scale.

    flip: random flips allowed by the data (``"horizontal"``, ``"vertical"``, both, or ``None``).
    shift: random translations of up to ``shift`` pixels each way (edges mirrored).
    contrast: random contrast and brightness, ``x · a + b`` with ``a`` in 1 ± contrast and ``b`` in
    ± 128 · contrast.
    Done in NumPy with one seeded generator (fast, and the same on every run).
    """
    x = np.array(x, dtype="float32", copy=True)
    n, h, w = x.shape[:3]
    if flip in ("horizontal", "horizontal_and_vertical"):
        m = rng.random(n) < 0.5
        x[m] = x[m, :, ::-1]
    if flip in ("vertical", "horizontal_and_vertical"):
        m = rng.random(n) < 0.5
        x[m] = x[m, ::-1]
    if shift:
        pad = np.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="reflect")
        dy, dx = rng.integers(0, 2 * shift + 1, (2, n))
        rows = dy[:, None] + np.arange(h)[None]          # (n, h)
        cols = dx[:, None] + np.arange(w)[None]          # (n, w)
        x = pad[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    if contrast:
        a = rng.uniform(1 - contrast, 1 + contrast, (n, 1, 1, 1)).astype("float32")
        b = rng.uniform(-128 * contrast, 128 * contrast, (n, 1, 1, 1)).astype("float32")
        x = np.clip(x * a + b, 0, 255)
    return x


# ---------------------------------------------------------------- training record
class History:
    """What :func:`fit` returns next to the model: per-epoch ``history`` (a dict, as Keras's ``History``),
    the decision ``threshold`` chosen on validation, and ``info`` (recipe, options, epochs, seconds...).

    ``weights_after``: for the article recipe, the CNN's weights after every epoch, ``{epoch: [arrays]}``
    (epochs count from 1; :func:`cached_fit` keeps them in the cache too), so that a notebook can look at
    the same network earlier in its training without training it again: ``models.article_cnn(...)`` then
    ``set_weights(history.weights_after[3])``. Empty for the better recipe.
    """

    def __init__(self, history: dict[str, list[float]] | None = None, threshold: float | None = None,
                 info: dict[str, Any] | None = None, cached: bool = False,
                 weights_after: dict[int, list[np.ndarray]] | None = None):
        self.history = history or {}
        self.threshold = threshold
        self.info = info or {}
        self.cached = cached
        self.weights_after = weights_after or {}

    @property
    def epoch(self) -> list[int]:
        return list(range(len(self.history.get("loss", []))))

    def to_json(self) -> dict[str, Any]:
        return {"history": self.history, "threshold": self.threshold, "info": self.info}

    @classmethod
    def from_json(cls, d: dict[str, Any], cached: bool = False) -> "History":
        return cls(d["history"], d["threshold"], d["info"], cached)

    def __repr__(self) -> str:
        return (f"History(recipe={self.info.get('recipe')!r}, epochs={len(self.epoch)}, "
                f"threshold={self.threshold}, cached={self.cached})")


def _predict(model: Any, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Probabilities in inference mode, in chunks (faster than ``predict`` for small sets)."""
    return np.concatenate([np.asarray(model(x[i:i + batch], training=False)) for i in range(0, len(x), batch)])


def _val_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    p = np.clip(proba, 1e-7, 1.0)
    out = {"val_loss": float(-np.mean(np.log(p[np.arange(len(y)), y]))),
           "val_accuracy": float(np.mean(p.argmax(1) == y))}
    try:
        out["val_auc"] = auc_acc(y, proba)["auc"]
    except ValueError:  # one class only in a tiny validation split
        out["val_auc"] = float("nan")
    return out


# ---------------------------------------------------------------- recipes
def recipe_options(recipe: str, n_train: int, epochs: int | None = None, dataset: str | None = None,
                   flip: Any = AUTO, **options: Any) -> dict[str, Any]:
    """Every hyper-parameter of ``recipe`` for a training set of ``n_train`` images, defaults filled in.

    What :func:`fit` trains with and what :func:`cached_fit` keys its cache by. ``options``
    override :data:`BETTER` (better recipe) or go to :func:`helpers.models.article_cnn` (article
    recipe, e.g. ``pooling="average"``). ``epochs``: the better recipe's default is
    ``ceil(samples / n_train)`` clipped to ``[min_epochs, max_epochs]`` (a fixed number of images
    seen, so a small set gets more epochs); the article's is 10.
    """
    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; use one of {', '.join(RECIPES)}.")
    if epochs is not None and (not isinstance(epochs, (int, np.integer)) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
    if recipe == "article":
        unknown = set(options) - {"pooling"}
        if unknown:
            raise ValueError(f"The article recipe takes no option {sorted(unknown)}; it is the article's, unchanged "
                             "(pooling='average' is the one variant).")
        return {"recipe": "article", "epochs": int(epochs or ARTICLE_EPOCHS), "batch_size": ARTICLE_BATCH,
                "pooling": options.get("pooling", "max")}
    unknown = set(options) - set(BETTER)
    if unknown:
        raise ValueError(f"Unknown option(s) {sorted(unknown)} for the better recipe; known: {', '.join(BETTER)}.")
    cfg = {**BETTER, **options}
    cfg["widths"] = [int(w) for w in cfg["widths"]]
    if epochs is None:
        epochs = min(cfg["max_epochs"], max(cfg["min_epochs"], math.ceil(cfg["samples"] / max(1, n_train))))
    return {"recipe": "better", "epochs": int(epochs), "flip": _resolve_flip(dataset, flip), **cfg}


def build(cfg: dict[str, Any], input_shape: tuple[int, ...], n_classes: int, mean: float = 127.5, std: float = 64.0):
    """The (untrained) network of a recipe configuration from :func:`recipe_options`, taking 0..255 images.

    Returns ``(inner, model)``: for the article, its CNN and the same CNN behind a ``Rescaling(1/255)``;
    for the better recipe, the list of ensemble members and their average (the member itself when
    ``members`` is 1).
    """
    from .models import article_cnn

    if cfg["recipe"] == "article":
        model = article_cnn(input_shape, n_classes, pooling=cfg["pooling"])
        return model, _with_scaling(model, 1 / 255.0)
    k = int(cfg["members"])
    members = [_member(cfg, input_shape, n_classes, mean, std, "better_cnn" if k == 1 else f"better_cnn_{m + 1}")
               for m in range(k)]
    return members, _average(members)


def _member(cfg: dict[str, Any], input_shape: tuple[int, ...], n_classes: int, mean: float, std: float, name: str):
    from .models import better_cnn

    return better_cnn(input_shape, n_classes, mean=mean, std=std, widths=cfg["widths"], dropout=cfg["dropout"],
                      augment=False, head=cfg["head"], convs=cfg["convs"], name=name)


def _average(members: list[Any]):
    """One model whose output is the mean of the members' probabilities (the member itself if alone)."""
    import keras

    if len(members) == 1:
        return members[0]
    inputs = keras.Input(members[0].input_shape[1:])
    outputs = keras.layers.Average(name="ensemble_average")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=f"ensemble_of_{len(members)}")


def _final(cfg: dict[str, Any], trained: Any):
    """The model handed out: with the better recipe and ``tta``, averaged over the allowed flips."""
    from .models import flip_average

    if cfg["recipe"] == "better" and cfg["tta"] and cfg["flip"]:
        return flip_average(trained, cfg["flip"])
    return trained


def fit(recipe: str, x_train: Any, y_train: Any, x_val: Any = None, y_val: Any = None,
        epochs: int | None = None, seconds: float | None = None, verbose: int = 0, *,
        dataset: str | None = None, flip: Any = AUTO, seed: int | None = None, callbacks: list | None = None,
        **options: Any):
    """Build and train a model with ``recipe`` (``"article"`` or ``"better"``); return ``(model, history)``.

    x_*: images ``(N, H, W[, C])`` on the 0..255 scale (the model normalises them itself); y_*: class indices.
    epochs: a fixed number of epochs (default: 10 for the article; for the better recipe enough
    epochs to see :data:`BETTER` ``["samples"]`` images, see :func:`recipe_options`).
    seconds: optional wall-clock budget; training stops after the epoch that passes it and the
    learning-rate schedule follows the clock (numbers then depend on the machine's speed: leave it
    ``None`` where results must repeat).
    dataset: the dataset's name: decides the flips (:data:`FLIPS`); flip: ``"auto"`` (from ``dataset``;
    no flips when unknown) or an explicit choice.
    seed: if given, every seed is set to it first (else the caller's seeds are used).
    callbacks: Keras callbacks for the training (the article recipe: they see its CNN, which takes pixels / 255,
    as ``model.get_layer("article_cnn")`` does; the better recipe: each epoch is one Keras ``fit`` call).
    Under the course's short training (:func:`helpers.setup.short_training`) every recipe runs one epoch.
    options: the better recipe's hyper-parameters (:data:`BETTER`), e.g. ``widths=(16, 32, 64)``,
    ``augment=False``, ``tta=False``; for the article recipe only ``pooling="average"``.

    The validation split, when given, is scored after every epoch (``history.history["val_auc"]``...)
    and chooses the decision threshold (``history.threshold``); it never chooses weights or epochs.
    """
    x_train, y_train = as_images(x_train), as_labels(y_train)
    if len(x_train) != len(y_train):
        raise ValueError(f"{len(x_train)} training images but {len(y_train)} labels.")
    cfg = recipe_options(recipe, len(y_train), epochs, dataset, flip, **options)
    return _fit(cfg, x_train, y_train, x_val, y_val, seconds, verbose, seed, callbacks)


def _fit(cfg: dict[str, Any], x_train: np.ndarray, y_train: np.ndarray, x_val: Any, y_val: Any,
         seconds: float | None, verbose: int, seed: int | None, callbacks: list | None = None):
    import keras

    from .setup import n_epochs

    cfg = {**cfg, "epochs": n_epochs(cfg["epochs"])}  # one epoch under the course's short training
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    if seed is not None:
        aug_seed = int(seed)
    else:  # the article recipe does not augment: it leaves NumPy's global generator as it found it
        aug_seed = int(np.random.randint(2 ** 31 - 1)) if cfg["recipe"] == "better" else None
    has_val = x_val is not None and y_val is not None
    if has_val:
        x_val, y_val = as_images(x_val), as_labels(y_val)
    n_classes = max(2, int(y_train.max()) + 1)
    mean, std = float(x_train.mean()), float(x_train.std()) or 1.0
    epochs, batch = cfg["epochs"], cfg["batch_size"]
    hist: dict[str, list[float]] = {}
    weights_after: dict[int, list[np.ndarray]] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    if cfg["recipe"] == "article":
        inner, model = build(cfg, x_train.shape[1:], n_classes, mean, std)
        cbs = [_Budget(t0, seconds)] if seconds else []
        if has_val:  # scored after every epoch; the article's training never looks at it
            cbs.append(_ValScores(x_val / 255.0, y_val))
        cbs.append(_KeepWeights(weights_after))
        inner.fit(x_train / 255.0, y_train, epochs=epochs, batch_size=batch, verbose=verbose,
                  callbacks=cbs + list(callbacks or []))
        hist.update({k: [float(v) for v in vals] for k, vals in inner.history.history.items()})
    else:
        k = int(cfg["members"])
        members, member_hists = [], []
        for m in range(k):
            if m and seed is not None:
                keras.utils.set_random_seed(int(seed) + m)
            net = _member(cfg, x_train.shape[1:], n_classes, mean, std,
                          "better_cnn" if k == 1 else f"better_cnn_{m + 1}")
            member_hists.append(_train_member(net, cfg, x_train, y_train, x_val if has_val else None, y_val,
                                              np.random.default_rng(aug_seed + m), seconds / k if seconds else None,
                                              verbose, callbacks))
            members.append(net)
        model = _average(members)
        n_ep = min(len(h["loss"]) for h in member_hists)
        hist = {key: [float(np.mean([h[key][e] for h in member_hists])) for e in range(n_ep)]
                for key in member_hists[0]}
    train_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    final = _final(cfg, model)
    threshold = choose_threshold(y_val, _predict(final, x_val)) if has_val else None
    info = {"recipe": cfg["recipe"], "options": cfg, "epochs": len(hist.get("loss", [])),
            "train_seconds": round(train_s, 1), "cpu_seconds": round(cpu_s, 1), "parameters": int(model.count_params()),
            "mean": mean, "std": std, "n_classes": n_classes, "input_shape": list(x_train.shape[1:]),
            "aug_seed": aug_seed}
    return final, History(hist, threshold, info, weights_after=weights_after)


def _train_member(model: Any, cfg: dict[str, Any], x_train: np.ndarray, y_train: np.ndarray, x_val: Any, y_val: Any,
                  rng: np.random.Generator, seconds: float | None, verbose: int,
                  callbacks: list | None = None) -> dict[str, list[float]]:
    """Train one network of the better recipe (AdamW, warm-up + cosine, label smoothing, NumPy augmentation)."""
    import keras

    epochs, batch = cfg["epochs"], cfg["batch_size"]
    n_classes = int(model.output_shape[-1])
    t0 = time.perf_counter()
    steps_per_epoch = math.ceil(len(x_train) / batch)
    schedule = _Schedule(cfg["lr"], epochs * steps_per_epoch, cfg["warmup"] * steps_per_epoch, t0, seconds)
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=cfg["lr"], weight_decay=cfg["weight_decay"]),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg["label_smoothing"]),
                  metrics=["accuracy"])
    onehot = np.eye(n_classes, dtype="float32")[y_train]
    weights = class_weights(y_train) if cfg["class_weight"] else None
    hist: dict[str, list[float]] = {}
    for epoch in range(epochs):
        x_ep = augment(x_train, rng, cfg["flip"], cfg["shift"], cfg["contrast"]) if cfg["augment"] else x_train
        h = model.fit(x_ep, onehot, epochs=epoch + 1, initial_epoch=epoch, batch_size=batch, shuffle=True,
                      class_weight=weights, callbacks=[schedule, *(callbacks or [])], verbose=verbose)
        for key, v in h.history.items():
            hist.setdefault(key, []).append(float(v[-1]))
        hist.setdefault("learning_rate", []).append(schedule.last)
        if x_val is not None:
            for key, v in _val_metrics(y_val, _predict(model, x_val)).items():
                hist.setdefault(key, []).append(v)
        if seconds and time.perf_counter() - t0 > seconds:
            break
    return hist


def _Budget(t0: float, seconds: float):
    import keras

    class Budget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.perf_counter() - t0 > seconds:
                self.model.stop_training = True

    return Budget()


def _KeepWeights(store: dict[int, list[np.ndarray]]):
    """Copies the weights into ``store[epoch]`` after every epoch (epochs count from 1)."""
    import keras

    class KeepWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            store[epoch + 1] = [np.array(w, copy=True) for w in self.model.get_weights()]

    return KeepWeights()


def _ValScores(x_val: np.ndarray, y_val: np.ndarray):
    """Adds ``val_loss``, ``val_accuracy`` and ``val_auc`` to the epoch's logs."""
    import keras

    class ValScores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs.update(_val_metrics(y_val, _predict(self.model, x_val)))

    return ValScores()


def _Schedule(lr: float, total_steps: int, warmup_steps: int, t0: float, seconds: float | None):
    """Linear warm-up, then cosine decay to 0 over ``total_steps`` (or over ``seconds`` if that runs out first)."""
    import keras

    class Schedule(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step, self.last = 0, lr

        def on_train_batch_begin(self, batch, logs=None):
            if self.step < warmup_steps:
                value = lr * (self.step + 1) / warmup_steps
            else:
                progress = (self.step - warmup_steps) / max(1, total_steps - warmup_steps)
                if seconds:
                    progress = max(progress, (time.perf_counter() - t0) / seconds)
                value = lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            self.model.optimizer.learning_rate.assign(value)
            self.last = float(value)
            self.step += 1

    return Schedule()


def _with_scaling(model: Any, factor: float):
    """Wrap a model that expects scaled inputs so that it takes raw 0..255 images like the better one."""
    import keras

    inputs = keras.Input(model.input_shape[1:])
    outputs = model(keras.layers.Rescaling(factor)(inputs))
    return keras.Model(inputs, outputs, name=f"{model.name}_on_raw_pixels")


# ---------------------------------------------------------------- cache of trained models
CACHE_FORMAT = 2  # 2: the article recipe's entries hold the weights after every epoch


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _code_digest() -> str:
    """Digest of the code that trains (this module and the model builders): edits invalidate the cache."""
    here = Path(__file__).resolve().parent
    return hashlib.sha256(b"".join((here / f).read_bytes() for f in ("train.py", "models.py"))).hexdigest()[:16]


def _cpu_features() -> str:
    """The vector instruction sets TensorFlow's CPU kernels may use (they change trained numbers)."""
    import platform

    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = line
                    break
    except OSError:
        pass
    have = [isa for isa in ("avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "avx2", "fma", "avx", "neon", "asimd")
            if f" {isa}" in flags]
    return f"{platform.system()}-{platform.machine()}:{','.join(have) or platform.processor()}"


def cache_key(cfg: dict[str, Any], seed: int, x_train: np.ndarray, y_train: np.ndarray,
              x_val: np.ndarray | None, y_val: np.ndarray | None) -> tuple[str, dict[str, Any]]:
    """The cache key of a training run: SHA-256 of the data, every hyper-parameter, the seed, the code,
    the library versions, the numerical settings (:func:`helpers.setup.numerics`) and the CPU's
    instruction sets. Returns ``(hex key, the material hashed)``."""
    import platform

    import keras
    import tensorflow as tf

    from .setup import numerics

    material = {
        "format": CACHE_FORMAT, "config": cfg, "seed": int(seed),
        "train": _digest(x_train, y_train),
        "val": _digest(x_val, y_val) if x_val is not None else None,
        "code": _code_digest(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "numerics": numerics(), "cpu": _cpu_features(),
        "op_determinism": _op_determinism(),
    }
    blob = json.dumps(material, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32], material


def _op_determinism() -> bool | None:
    """Whether ``tf.config.experimental.enable_op_determinism()`` was called (``None`` if TF can't say)."""
    try:
        from tensorflow.python.framework import config as tf_config  # no public getter in TF 2.21

        return bool(tf_config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return None


def models_dir() -> Path:
    """Where trained models are cached: ``models/`` in the course's data folder (``$COURSE_DATA_DIR``)."""
    from . import data

    return data.cache_dir() / "models"


def _save_entry(path: Path, weights: list[np.ndarray], meta: dict[str, Any],
                weights_after: dict[int, list[np.ndarray]] | None = None) -> None:
    """Write weights (and the weights after each epoch) and metadata to ``path`` atomically
    (:func:`helpers.data.save_npz`), mode 0o666 minus umask."""
    from .data import save_npz

    path.parent.mkdir(parents=True, exist_ok=True)
    after = weights_after or {}
    meta = {**meta, "weights_sha256": _digest(*weights),
            "weights_after_sha256": {str(e): _digest(*ws) for e, ws in after.items()}}
    arrays = {f"w{i:04d}": w for i, w in enumerate(weights)}
    for e, ws in after.items():
        arrays.update({f"e{int(e):04d}_{i:04d}": w for i, w in enumerate(ws)})
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8)
    save_npz(path, arrays)


def _load_entry(path: Path, key: str) -> tuple[list[np.ndarray], dict[str, Any], dict[int, list[np.ndarray]]]:
    """Read a cache entry: ``(weights, meta, weights after each epoch)``; raise ``ValueError`` if anything is
    missing, truncated or does not match."""
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(bytes(f["meta"]).decode())
            n = sum(1 for k in f.files if k.startswith("w"))
            weights = [f[f"w{i:04d}"] for i in range(n)]
            after = {int(e): [f[f"e{int(e):04d}_{i:04d}"] for i in range(n)]
                     for e in meta.get("weights_after_sha256", {})}
    except (OSError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from None
    if meta.get("key") != key:
        raise ValueError("its key does not match its name")
    if meta.get("weights_sha256") != _digest(*weights):
        raise ValueError("its weights do not match their checksum")
    if any(meta["weights_after_sha256"][str(e)] != _digest(*ws) for e, ws in after.items()):
        raise ValueError("its weights after an epoch do not match their checksum")
    return weights, meta, after


def cached_fit(recipe: str, x_train: Any, y_train: Any, x_val: Any = None, y_val: Any = None,
               epochs: int | None = None, *, dataset: str | None = None, flip: Any = AUTO, seed: int = 0,
               cache: bool = True, folder: str | Path | None = None, verbose: int = 0, **options: Any):
    """:func:`fit` with a cache: train once, then reuse the trained weights in every notebook.

    Same arguments as :func:`fit` (no time budget: a cached model must not depend on the machine's
    speed), plus ``seed`` (required, default 0: all seeds are set to it), ``cache`` (``False``:
    always train, write nothing) and ``folder`` (default :func:`models_dir`).
    The entry is keyed by :func:`cache_key` (data, recipe and every hyper-parameter, epochs, seed,
    code, library versions, numerical settings, CPU), written atomically and checked on reading: a
    partial or corrupt entry is reported in one line and trained again, never used.
    A hit returns the same weights a fresh training gives here, so the same predictions.
    Under the course's short training (:func:`helpers.setup.short_training`) it trains one epoch and
    neither reads nor writes the cache (a briefly trained model must never be reused).
    Returns ``(model, history)``; ``history.cached`` says whether it came from the cache.
    """
    x_train, y_train = as_images(x_train), as_labels(y_train)
    if len(x_train) != len(y_train):
        raise ValueError(f"{len(x_train)} training images but {len(y_train)} labels.")
    has_val = x_val is not None and y_val is not None
    if has_val:
        x_val, y_val = as_images(x_val), as_labels(y_val)
    else:
        x_val = y_val = None
    cfg = recipe_options(recipe, len(y_train), epochs, dataset, flip, **options)
    from .setup import short_training

    if not cache or short_training():
        return _fit(cfg, x_train, y_train, x_val, y_val, None, verbose, seed)
    import keras

    key, material = cache_key(cfg, seed, x_train, y_train, x_val, y_val)
    path = Path(folder) if folder is not None else models_dir()
    path = path / f"{cfg['recipe']}_{key}.npz"
    if path.exists():
        try:
            weights, meta, after = _load_entry(path, key)
            history = History.from_json(meta["history"], cached=True)
            history.weights_after = after
            info = history.info
            keras.utils.set_random_seed(int(seed))
            _, model = build(cfg, tuple(info["input_shape"]), int(info["n_classes"]), info["mean"], info["std"])
            final = _final(cfg, model)
            final.set_weights(weights)
            return final, history
        except (ValueError, KeyError, TypeError) as exc:
            print(f"[cache] {path.name} is corrupt ({exc}); training again.", file=sys.stderr)
            path.unlink(missing_ok=True)
    final, history = _fit(cfg, x_train, y_train, x_val, y_val, None, verbose, seed)
    try:
        _save_entry(path, final.get_weights(), {"key": key, "material": material, "history": history.to_json()},
                    history.weights_after)
    except OSError as exc:
        print(f"[cache] could not write {path} ({exc}); the model is trained but not cached.", file=sys.stderr)
    return final, history


# ---------------------------------------------------------------- one code path for notebooks and the command line
def evaluate(model: Any, history: History, x_test: Any, y_test: Any, n_boot: int = 1000) -> dict[str, Any]:
    """Score a trained model once on the test split: AUC and accuracy with bootstrap 95 % CIs.

    Accuracy uses the decision threshold chosen on validation (``history.threshold``); ``acc_argmax``
    is the plain most-probable-class (0.5) decision, for comparison.
    """
    from .metrics import bootstrap_accuracy, bootstrap_auc

    x_test, y_test = as_images(x_test), as_labels(y_test)
    proba = _predict(model, x_test)
    scores = auc_acc(y_test, proba)
    pred = decide(proba, history.threshold)
    acc = bootstrap_accuracy(y_test, pred, n_boot=n_boot)
    out = {"auc": round(scores["auc"], 4), "acc": round(acc.estimate, 4)}
    if proba.shape[1] == 2 and len(np.unique(y_test)) == 2:
        auc = bootstrap_auc(y_test, proba[:, 1], n_boot=n_boot)
        out["auc_ci"] = [round(auc.low, 4), round(auc.high, 4)]
    out["acc_ci"] = [round(acc.low, 4), round(acc.high, 4)]
    out["acc_argmax"] = round(scores["acc"], 4)
    out["threshold"] = None if history.threshold is None else round(history.threshold, 4)
    return out


def train_arrays(splits: dict[str, tuple[Any, Any]], recipe: str = "better", seconds: float | None = None,
                 epochs: int | None = None, seed: int = 0, *, dataset: str | None = None, flip: Any = AUTO,
                 cache: bool = False, **options: Any) -> dict[str, Any]:
    """Train ``recipe`` on ``{"train": (x, y), "val": (x, y), "test": (x, y)}``, score the test split once.

    The one code path of the notebooks and of ``python -m helpers.train``.
    dataset: the dataset's name, which decides the allowed flips (:data:`FLIPS`); without it (and
    without ``flip=``) nothing is flipped. seconds: optional time budget (``None``: the recipe's
    fixed epochs, repeatable). cache: reuse a model trained before with exactly these settings
    (:func:`cached_fit`; not with ``seconds``).
    Returns a dict: test ``auc``, ``acc`` (at the validation-chosen ``threshold``) with 95 % CIs,
    ``acc_argmax``, ``val_auc``/``val_acc``, ``epochs``, ``train_seconds``, ``parameters``, the CPU load...
    """
    missing = [s for s in ("train", "val", "test") if s not in splits]
    if missing:
        raise ValueError(f"splits lacks {missing}; give train, val and test as (images, labels) pairs.")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if seconds:
        model, history = fit(recipe, *splits["train"], *splits["val"], epochs=epochs, seconds=seconds,
                             dataset=dataset, flip=flip, seed=seed, **options)
    else:
        model, history = cached_fit(recipe, *splits["train"], *splits["val"], epochs=epochs, dataset=dataset,
                                    flip=flip, seed=seed, cache=cache, **options)
    x_val, y_val = as_images(splits["val"][0]), as_labels(splits["val"][1])
    p_val = _predict(model, x_val)
    val = {"val_auc": round(auc_acc(y_val, p_val)["auc"], 4),
           "val_acc": round(float(np.mean(decide(p_val, history.threshold) == y_val)), 4)}
    test = evaluate(model, history, *splits["test"])
    info = history.info
    opts = info["options"]
    return {"recipe": recipe, **test, **val, "epochs": info["epochs"], "train_seconds": info["train_seconds"],
            "cpu_seconds": info.get("cpu_seconds"), "parameters": info["parameters"], "flip": opts.get("flip"),
            "tta": bool(opts.get("tta") and opts.get("flip")),
            "seed": seed, "cached": history.cached, "load_avg_1min": None if load is None else round(load, 2),
            "n_train": int(len(splits["train"][1])), "n_test": int(len(as_labels(splits["test"][1])))}


def load_splits(flag: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (x, y), "val": ..., "test": ...}`` of a 2D image set of the registry or a ``.npz`` path."""
    from . import data

    if str(flag).endswith(".npz"):
        arrays = data.read_npz(flag)
        return {s: (as_images(arrays[f"{s}_images"]), as_labels(arrays[f"{s}_labels"])) for s in data.SPLITS}
    meta = data.info(flag)
    if meta.entry["kind"] == "sklearn" or meta.entry.get("ndim", 2) != 2:
        raise ValueError(f"{flag} is not a set of 2D images; these recipes train 2D image classifiers.")
    splits = {}
    for s in ("train", "val", "test"):
        ds = data.load(flag, s)
        splits[s] = (ds.x, ds.y)
    return splits


def train_file(path: str | Path, recipe: str = "better", seconds: float | None = None, epochs: int | None = None,
               seed: int = 0, flip: Any = AUTO, cache: bool = False) -> dict[str, Any]:
    """:func:`train_arrays` on a MedMNIST-format ``.npz`` file (flips looked up by the file's name)."""
    result = train_arrays(load_splits(path), recipe, seconds, epochs, seed, dataset=str(path), flip=flip, cache=cache)
    return {"data": str(path), **result}


def train(flag: str, recipe: str = "better", seconds: float | None = None, epochs: int | None = None,
          seed: int = 0, flip: Any = AUTO, cache: bool = False) -> dict[str, Any]:
    """Train ``recipe`` on a dataset of the registry (downloaded if needed) or on a ``.npz`` path.

    Prints the result as one JSON line and returns it as a dict (see :func:`train_arrays`).
    """
    if str(flag).endswith(".npz"):
        result = train_file(flag, recipe, seconds, epochs, seed, flip, cache)
    else:
        result = {"data": flag, **train_arrays(load_splits(flag), recipe, seconds, epochs, seed, dataset=flag,
                                               flip=flip, cache=cache)}
    print(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.train FLAG_OR_NPZ [--recipe better|article] [--epochs N] [--seconds S] [--seed K]
    [--flip auto|none|horizontal|vertical|horizontal_and_vertical] [--cache]``."""
    import argparse

    from .data import DataError

    parser = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("flag", help="a dataset name (e.g. pneumoniamnist, simlesion2d) or a MedMNIST-format .npz")
    parser.add_argument("--recipe", choices=RECIPES, default="better")
    parser.add_argument("--epochs", type=int, default=None,
                        help="number of epochs (default: the recipe's fixed number, repeatable)")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="a wall-clock training budget instead (numbers then depend on the machine; 0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flip", default=AUTO, choices=[AUTO, "none", *FLIP_CHOICES[1:]],
                        help="flips allowed in augmentation (default: from the dataset's name, see FLIPS)")
    parser.add_argument("--cache", action="store_true", help="reuse (or store) the trained model in the cache folder")
    args = parser.parse_args(argv)
    if args.flag.endswith(".npz"):  # a damaged file is refused in one line, before TensorFlow's slow import
        from .data import check_npz

        try:
            check_npz(args.flag)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    from .setup import start

    start(seed=args.seed, show=False)  # stdout stays one JSON line
    flip = None if args.flip == "none" else args.flip
    try:
        train(args.flag, args.recipe, args.seconds or None, args.epochs, args.seed, flip=flip, cache=args.cache)
    except (DataError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
