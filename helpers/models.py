"""Model builders of the course (Keras 3). TensorFlow is imported only when a builder is called."""
from __future__ import annotations

from collections.abc import Sequence


def _check_shape(input_shape: Sequence[int], ndim: int = 3) -> tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != ndim or any(s <= 0 for s in shape):
        raise ValueError(f"input_shape must be {ndim} positive sizes (height, width, channels); got {tuple(input_shape)}.")
    return shape


def article_cnn(input_shape: Sequence[int] = (32, 32, 3), n_classes: int = 10, pooling: str = "max",
                compile: bool = True):
    """The source article's CNN, layer for layer (section 4).

    Conv2D(32, 3, relu) → MaxPool(2) → Conv2D(64, 3, relu) → MaxPool(2) → Conv2D(64, 3, relu)
    → Flatten → Dense(64, relu) → Dense(n_classes, softmax); adam; sparse categorical cross-entropy.
    At 32×32×3 with 10 classes it has 122,570 parameters.

    pooling: ``"max"`` (the article) or ``"average"`` (for the comparison the article invites).
    """
    import keras
    from keras import layers

    shape = _check_shape(input_shape)
    if shape[0] < 18 or shape[1] < 18:
        raise ValueError(f"the article's CNN needs images of at least 18×18 pixels; got {shape[:2]}.")
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer ≥ 2; got {n_classes!r}.")
    pools = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}
    if pooling not in pools:
        raise ValueError(f"pooling must be 'max' or 'average'; got {pooling!r}.")
    pool = pools[pooling]
    model = keras.Sequential([
        keras.Input(shape),
        layers.Conv2D(32, (3, 3), activation="relu"),
        pool((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        pool((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(n_classes, activation="softmax"),
    ], name="article_cnn")
    if compile:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def better_cnn(input_shape: Sequence[int] = (28, 28, 1), n_classes: int = 2, mean: float = 127.5,
               std: float = 64.0, widths: Sequence[int] = (32, 64, 128), dropout: float = 0.3,
               augment: bool = True, flip: str | None = "horizontal_and_vertical", shift: float = 0.05,
               head: str = "avgmax"):
    """A small CNN built the way practitioners build one (the course's "better recipe").

    Inside the model: normalisation ``(x - mean) / std`` (pass the training set's pixel mean and
    standard deviation on the 0..255 scale), light augmentation (random flips, shifts of up to
    ``shift`` of the side; active only while training), one 3×3 convolution per stage with batch
    normalisation and ReLU, 2×2 max pooling between stages, global average (and max) pooling,
    dropout, and a softmax layer. Not compiled: :func:`helpers.train.fit` compiles and trains it.

    widths: filters per stage (a 2×2 max pooling before every stage but the first).
    flip: ``"horizontal"``, ``"vertical"``, ``"horizontal_and_vertical"`` or ``None`` (no flips,
    e.g. where left and right differ in meaning).
    head: ``"avgmax"`` (global average and max pooling side by side: "max" finds a small lesion
    anywhere) or ``"avg"`` (global average pooling only).
    """
    import keras
    from keras import layers

    shape = _check_shape(input_shape)
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer ≥ 2; got {n_classes!r}.")
    if not widths or any(int(w) <= 0 for w in widths):
        raise ValueError(f"widths must be a non-empty list of positive filter counts; got {widths!r}.")
    if min(shape[:2]) < 2 ** (len(widths) - 1):
        raise ValueError(f"{len(widths)} stages need images of at least {2 ** (len(widths) - 1)} pixels; got {shape[:2]}.")
    if flip not in (None, "horizontal", "vertical", "horizontal_and_vertical"):
        raise ValueError(f"flip must be 'horizontal', 'vertical', 'horizontal_and_vertical' or None; got {flip!r}.")
    if not 0.0 <= shift < 0.5:
        raise ValueError(f"shift must be a fraction of the image side in [0, 0.5); got {shift!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
    if std <= 0:
        raise ValueError(f"std must be positive; got {std!r}.")
    if head not in ("avg", "avgmax"):
        raise ValueError(f"head must be 'avg' (global average pooling) or 'avgmax' (average and max); got {head!r}.")
    x = inputs = keras.Input(shape)
    x = layers.Normalization(axis=None, mean=float(mean), variance=float(std) ** 2, name="normalise")(x)
    if augment:
        if flip:
            x = layers.RandomFlip(flip, name="flip")(x)
        x = layers.RandomTranslation(shift, shift, fill_mode="reflect", name="shift")(x)
    for k, width in enumerate(widths):
        if k:
            x = layers.MaxPooling2D(2, name=f"pool{k}")(x)
        x = layers.Conv2D(int(width), 3, padding="same", use_bias=False, name=f"conv{k + 1}")(x)
        x = layers.BatchNormalization(name=f"bn{k + 1}")(x)
        x = layers.ReLU(name=f"relu{k + 1}")(x)
    if head == "avgmax":
        x = layers.Concatenate(name="avg_and_max")([layers.GlobalAveragePooling2D(name="gap")(x),
                                                    layers.GlobalMaxPooling2D(name="gmp")(x)])
    else:
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="better_cnn")
