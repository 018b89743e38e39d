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
