"""Model builders of the course (Keras 3). TensorFlow is imported only when a builder is called."""
from __future__ import annotations

from collections.abc import Sequence


def _check_shape(input_shape: Sequence[int], ndim: int = 3) -> tuple[int, ...]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != ndim or any(s <= 0 for s in shape):
        raise ValueError(f"input_shape must be {ndim} positive sizes (height, width, channels); "
                         f"got {tuple(input_shape)}.")
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
               head: str = "avgmax", convs: int = 1, name: str = "better_cnn"):
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
    convs: 3×3 convolutions (each with batch normalisation and ReLU) per stage.
    name: the model's name (members of an ensemble need different names).
    """
    import keras
    from keras import layers

    shape = _check_shape(input_shape)
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer ≥ 2; got {n_classes!r}.")
    if not widths or any(int(w) <= 0 for w in widths):
        raise ValueError(f"widths must be a non-empty list of positive filter counts; got {widths!r}.")
    if min(shape[:2]) < 2 ** (len(widths) - 1):
        raise ValueError(f"{len(widths)} stages need images of at least {2 ** (len(widths) - 1)} pixels; "
                         f"got {shape[:2]}.")
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
    if not isinstance(convs, int) or isinstance(convs, bool) or convs < 1:
        raise ValueError(f"convs must be a positive integer (convolutions per stage); got {convs!r}.")
    x = inputs = keras.Input(shape)
    x = layers.Normalization(axis=None, mean=float(mean), variance=float(std) ** 2, name="normalise")(x)
    if augment:
        if flip:
            x = layers.RandomFlip(flip, name="flip")(x)
        x = layers.RandomTranslation(shift, shift, fill_mode="reflect", name="shift")(x)
    for k, width in enumerate(widths):
        if k:
            x = layers.MaxPooling2D(2, name=f"pool{k}")(x)
        for j in range(convs):
            tag = f"{k + 1}" if j == 0 else f"{k + 1}_{j + 1}"  # first convolution keeps its old name
            x = layers.Conv2D(int(width), 3, padding="same", use_bias=False, name=f"conv{tag}")(x)
            x = layers.BatchNormalization(name=f"bn{tag}")(x)
            x = layers.ReLU(name=f"relu{tag}")(x)
    if head == "avgmax":
        x = layers.Concatenate(name="avg_and_max")([layers.GlobalAveragePooling2D(name="gap")(x),
                                                    layers.GlobalMaxPooling2D(name="gmp")(x)])
    else:
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


FLIP_AXES = {"horizontal": [(), (2,)], "vertical": [(), (1,)],
             "horizontal_and_vertical": [(), (2,), (1,), (1, 2)]}


def flip_average(model, flip: str | None):
    """Test-time augmentation: a model that averages ``model``'s probabilities over the allowed flips.

    flip: ``"horizontal"`` (the image and its mirror), ``"vertical"``, ``"horizontal_and_vertical"``
    (4 views) or ``None`` (``model`` itself is returned). Only flips that keep an image plausible
    (see :data:`helpers.data.FLIPS`, from the registry) belong here. The new model shares ``model``'s weights.
    """
    import keras
    from keras import layers, ops

    if flip is None:
        return model
    if flip not in FLIP_AXES:
        raise ValueError(f"flip must be 'horizontal', 'vertical', 'horizontal_and_vertical' or None; got {flip!r}.")

    class Flip(layers.Layer):
        def __init__(self, axes, **kwargs):
            super().__init__(**kwargs)
            self.axes = tuple(axes)

        def call(self, x):
            for axis in self.axes:
                x = ops.flip(x, axis=axis)
            return x

    inputs = keras.Input(model.input_shape[1:])
    views = [model(inputs if not axes else Flip(axes, name="flip_" + "".join(map(str, axes)))(inputs))
             for axes in FLIP_AXES[flip]]
    outputs = layers.Average(name="flip_average")(views)
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_average")


def soft_dice_loss(y_true, y_pred, smooth: float = 1.0, per_image: bool = True):
    """Soft Dice loss (Milletari et al., V-Net, 2016): ``1 - (2 Σ p g + s) / (Σ p + Σ g + s)``.

    ``y_true``: masks in {0, 1}; ``y_pred``: probabilities; both ``(N, H, W, C)``. ``per_image=True``: sums
    run over each image's pixels and channels, one loss per image (:func:`helpers.metrics.soft_dice` is the
    same formula in NumPy); ``False``: sums run over the whole batch, one number ("batch Dice", an option of
    nnU-Net). ``smooth`` (s) keeps the loss defined for an empty mask and an empty prediction (loss 0).
    """
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape))) if per_image else None
    inter = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - (2.0 * inter + smooth) / (total + smooth)


def bce_dice_loss(y_true, y_pred):
    """Binary cross-entropy (mean over pixels) plus the soft Dice loss over the whole batch: the usual U-Net
    recipe (nnU-Net trains with cross-entropy + Dice). Cross-entropy gives smooth gradients everywhere; the
    Dice term keeps a small lesion from drowning in the background. Dice over the batch, not per image: on a
    lesion-free image a per-image Dice punishes any probability at all as hard as a missed lesion, which
    makes the network timid."""
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
    bce = -ops.mean(y_true * ops.log(p) + (1 - y_true) * ops.log(1 - p))
    return bce + soft_dice_loss(y_true, y_pred, per_image=False)


def unet(input_shape: Sequence[int] = (28, 28, 1), n_classes: int = 1, widths: Sequence[int] = (16, 32, 64),
         mean: float = 127.5, std: float = 64.0, name: str = "unet"):
    """A small 2D U-Net (Ronneberger et al., MICCAI 2015), CPU-fast for 28×28 images.

    Encoder: per stage two 3×3 convolutions (same padding, batch normalisation, ReLU), then 2×2 max pooling
    (none after the deepest stage). Decoder: 2×2 transposed convolution (stride 2) up, concatenation with the
    encoder's output of the same size (the *skip connection*), two 3×3 convolutions. A 1×1 convolution gives
    one value per pixel and class: ``n_classes == 1`` → sigmoid (a binary mask, e.g. lesion), ``n_classes ≥ 2``
    → softmax over the classes (e.g. background/grey/white matter). Inputs on the 0..255 scale are normalised
    inside the model, ``(x - mean) / std``. Not compiled. Output shape ``(N, H, W, n_classes)``.

    widths: filters per stage, shallow to deep; ``len(widths) - 1`` poolings, so height and width must be
    divisible by ``2 ** (len(widths) - 1)`` (28 works with 3 stages: 28 → 14 → 7).
    """
    import keras
    from keras import layers

    shape = _check_shape(input_shape)
    if not isinstance(n_classes, (int,)) or isinstance(n_classes, bool) or n_classes < 1:
        raise ValueError(f"n_classes must be an integer ≥ 1 (1: binary mask with a sigmoid); got {n_classes!r}.")
    if isinstance(widths, (int, str)) or not widths or any(not isinstance(w, (int,)) or w <= 0 for w in widths):
        raise ValueError(f"widths must be a non-empty list of positive filter counts; got {widths!r}.")
    if len(widths) < 2:
        raise ValueError(f"a U-Net needs at least 2 stages (one pooling); got widths={widths!r}.")
    step = 2 ** (len(widths) - 1)
    if shape[0] % step or shape[1] % step:
        raise ValueError(f"with {len(widths)} stages height and width must be divisible by {step}; got {shape[:2]}.")
    if std <= 0:
        raise ValueError(f"std must be positive; got {std!r}.")

    def block(x, width, tag):
        for k in (1, 2):
            x = layers.Conv2D(int(width), 3, padding="same", use_bias=False, name=f"{tag}_conv{k}")(x)
            x = layers.BatchNormalization(name=f"{tag}_bn{k}")(x)
            x = layers.ReLU(name=f"{tag}_relu{k}")(x)
        return x

    x = inputs = keras.Input(shape)
    x = layers.Normalization(axis=None, mean=float(mean), variance=float(std) ** 2, name="normalise")(x)
    skips = []
    for k, width in enumerate(widths):
        x = block(x, width, f"down{k + 1}")
        if k < len(widths) - 1:
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"pool{k + 1}")(x)
    for k in range(len(widths) - 2, -1, -1):
        x = layers.Conv2DTranspose(int(widths[k]), 2, strides=2, name=f"up{k + 1}_transpose")(x)
        x = layers.Concatenate(name=f"up{k + 1}_skip")([skips[k], x])
        x = block(x, widths[k], f"up{k + 1}")
    activation = "sigmoid" if n_classes == 1 else "softmax"
    outputs = layers.Conv2D(n_classes, 1, activation=activation, name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)
