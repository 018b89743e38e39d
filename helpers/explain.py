"""Where does a CNN look? Grad-CAM, saliency and occlusion maps, scored against known lesions.

All maps come back as float32 arrays ``(N, H, W)`` in ``[0, 1]`` (1 = most important pixel),
at the input's resolution, so they can be drawn over the image and scored with
:func:`pointing_game` against the lesion centres and radii of a simulated set.

TensorFlow is imported inside the functions, so ``import helpers.explain`` stays fast.

References: Grad-CAM, Selvaraju et al., ICCV 2017 (arXiv:1610.02391); saliency,
Simonyan et al., ICLR workshop 2014 (arXiv:1312.6034); occlusion, Zeiler & Fergus,
ECCV 2014 (arXiv:1311.2901); pointing game, Zhang et al., ECCV 2016 (arXiv:1608.00507).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .data import as_images

_SPATIAL = ("Conv2D", "MaxPooling2D", "AveragePooling2D")
_PASS = ("InputLayer", "Activation", "ReLU", "Dropout", "BatchNormalization", "LayerNormalization",
         "GaussianNoise", "SpatialDropout2D", "Rescaling")


def _model_images(images: Any, model: Any) -> np.ndarray:
    """Images as float32 ``(N, H, W, C)`` (:func:`helpers.data.as_images`) matching the model's input, or an error."""
    want = tuple(model.inputs[0].shape[1:])
    try:
        x = as_images(images)
    except ValueError:
        x = None
    if x is None or tuple(x.shape[1:]) != want:
        raise ValueError(f"images must have shape (N, {', '.join(map(str, want))}) with N ≥ 1 "
                         f"(or (N, H, W) for one channel; for one image pass image[None]); got {np.shape(images)}.")
    return x


def _layer_name(model: Any, layer: str | int) -> str:
    """A layer given by name, or by its position among the Conv2D layers (0 = first, -1 = last)."""
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        convs = conv_layers(model)
        if not -len(convs) <= layer < len(convs):
            raise ValueError(f"model {model.name!r} has {len(convs)} Conv2D layers; "
                             f"conv index {layer} is out of range.")
        return convs[layer]
    names = [lay.name for lay in model.layers]
    if layer not in names:
        raise ValueError(f"model {model.name!r} has no layer {layer!r}; its layers are {names} "
                         "(or pass a conv index: 0 = first Conv2D, -1 = last).")
    return str(layer)


def conv_layers(model: Any) -> list[str]:
    """Names of the model's Conv2D layers, first to last (Keras numbers them per session: don't hard-code)."""
    return [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"]


def _class_index(model: Any, class_index: int) -> int:
    n = int(model.outputs[0].shape[-1])
    if not isinstance(class_index, (int, np.integer)) or not 0 <= class_index < max(n, 2):
        raise ValueError(f"class_index must be an integer in 0..{max(n, 2) - 1}; got {class_index!r}.")
    return int(class_index)


def _score_fn(model: Any, class_index: int):
    """The pre-activation score y^c of the last Dense layer (the paper's 'score before the softmax')."""
    import keras

    last = model.layers[-1]
    if (type(last).__name__ != "Dense"
            or getattr(last.activation, "__name__", "") not in ("softmax", "sigmoid", "linear")):
        raise ValueError("the model's last layer must be a Dense layer (softmax, sigmoid or linear); "
                         f"got {type(last).__name__}.")
    c = class_index if int(last.units) > 1 else 0
    sign = -1.0 if int(last.units) == 1 and class_index == 0 else 1.0   # sigmoid: class 0 score is -z

    def score(penultimate):
        z = keras.ops.matmul(penultimate, last.kernel[:, c:c + 1])[:, 0] + last.bias[c]
        return sign * z

    return score


def normalize_maps(maps: Any) -> np.ndarray:
    """Scale each map of ``(N, H, W)`` to ``[0, 1]`` by its own maximum after clipping negatives;
    all-zero maps stay zero."""
    m = np.maximum(np.asarray(maps, dtype=np.float32), 0)
    if m.ndim != 3:
        raise ValueError(f"maps must be (N, H, W); got shape {m.shape}. For one map pass map[None].")
    top = m.reshape(len(m), -1).max(axis=1)
    return (m / np.where(top > 0, top, 1.0)[:, None, None]).astype(np.float32)


def feature_geometry(model: Any, layer: str | int) -> tuple[float, float]:
    """Where a layer's feature-map pixels sit in the input: ``(stride, offset)`` in input pixels.

    Feature pixel ``i`` is centred on input pixel ``offset + stride * i``. Walks the layers up to
    ``layer`` (a name, or a conv index as in :func:`grad_cam`); supports Conv2D and 2-D pooling with ``"valid"``
    padding, or ``"same"`` with stride 1.
    For the article's CNN: conv 1 → (1, 1), conv 2 → (2, 3.5), conv 3 → (4, 8.5).
    """
    layer_name = _layer_name(model, layer)
    stride, offset = 1.0, 0.0
    for lay in model.layers:
        kind = type(lay).__name__
        if kind in _SPATIAL:
            k = int((lay.kernel_size if kind == "Conv2D" else lay.pool_size)[0])
            s = int(lay.strides[0])
            if lay.padding == "valid":
                offset += (k - 1) / 2 * stride
            elif not (s == 1 and k % 2 == 1):
                raise ValueError(f"layer {lay.name!r}: 'same' padding is supported only with stride 1 and odd kernels.")
            stride *= s
        elif kind not in _PASS:
            raise ValueError(f"layer {lay.name!r} ({kind}) comes before {layer_name!r} and is not a convolution "
                             "or pooling layer; pick an earlier layer.")
        if lay.name == layer_name:
            return stride, offset
    raise AssertionError("unreachable")


def upsample(maps: Any, size: tuple[int, int], stride: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """Bring feature maps ``(N, h, w)`` to input size ``(N, H, W)`` by linear interpolation.

    With ``stride`` and ``offset`` from :func:`feature_geometry`, each feature pixel lands on the input
    pixel its receptive field is centred on (a plain resize stretches the map and shifts it).
    Outside the covered area the nearest feature value is used.
    """
    from scipy import ndimage

    m = np.asarray(maps, dtype=np.float32)
    if m.ndim != 3:
        raise ValueError(f"maps must be (N, h, w); got shape {m.shape}.")
    if stride <= 0:
        raise ValueError(f"stride must be positive; got {stride}.")
    rows, cols = np.meshgrid((np.arange(size[0]) - offset) / stride, (np.arange(size[1]) - offset) / stride,
                             indexing="ij")
    return np.stack([ndimage.map_coordinates(f, [rows, cols], order=1, mode="nearest") for f in m])


def grad_cam(model: Any, images: Any, layer: str | int = -1, class_index: int = 1, batch_size: int = 256,
             aligned: bool = True) -> np.ndarray:
    """Grad-CAM maps (Selvaraju et al., ICCV 2017) for ``class_index``, at input size, in ``[0, 1]``.

    α_k = mean over (i, j) of ∂y^c/∂A^k_ij;  L = ReLU(Σ_k α_k A^k), with A the output of
    ``layer`` (a layer name, or a position among the Conv2D layers: 0 = first, -1 = last) and y^c the class score
    before the softmax. The map is brought to the input's size
    with :func:`upsample` (``aligned=True``: receptive-field geometry; ``False``: a plain stretch).
    ``model``: a built Keras model (Sequential or functional) whose last layer is Dense.
    """
    import keras
    import tensorflow as tf

    x = _model_images(images, model)
    layer_name = _layer_name(model, layer)
    c = _class_index(model, class_index)
    twin = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.layers[-2].output])
    score = _score_fn(model, c)
    cams = []
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        with tf.GradientTape() as tape:
            acts, pen = twin(xb, training=False)
            y = score(pen)
        grads = tape.gradient(y, acts).numpy()                # (n, h, w, K)
        alpha = grads.mean(axis=(1, 2))                        # (n, K)
        cams.append(np.einsum("nk,nhwk->nhw", alpha, acts.numpy()))
    cam = np.maximum(np.concatenate(cams), 0)
    h, w = x.shape[1:3]
    if aligned:
        stride, offset = feature_geometry(model, layer_name)
    else:  # plain stretch: feature pixel i covers input pixels [i*H/h, (i+1)*H/h)
        stride = h / cam.shape[1]
        offset = (stride - 1) / 2
    return normalize_maps(upsample(cam, (h, w), stride, offset))


def saliency(model: Any, images: Any, class_index: int = 1, batch_size: int = 256) -> np.ndarray:
    """Vanilla gradient saliency (Simonyan et al., 2014): |∂y^c/∂x| per pixel (max over channels), in ``[0, 1]``."""
    import tensorflow as tf

    x = _model_images(images, model)
    c = _class_index(model, class_index)
    import keras

    twin = keras.Model(model.inputs, model.layers[-2].output)
    score = _score_fn(model, c)
    out = []
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start:start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            y = score(twin(xb, training=False))
        out.append(np.abs(tape.gradient(y, xb).numpy()).max(axis=-1))
    return normalize_maps(np.concatenate(out))


def occlusion(model: Any, images: Any, class_index: int = 1, patch: int = 5, stride: int = 2,
              fill: float = 0.0, batch_size: int = 1024) -> np.ndarray:
    """Occlusion map (Zeiler & Fergus, 2014): how much the class probability drops when a square patch is
    covered with ``fill``, averaged over the patches covering each pixel; negatives clipped, in ``[0, 1]``.
    Costs one forward pass per patch position per image: keep N small.
    """
    x = _model_images(images, model)
    c = _class_index(model, class_index)
    n, h, w = x.shape[:3]
    if not (isinstance(patch, int) and isinstance(stride, int)) or not (1 <= patch <= min(h, w)) or stride < 1:
        raise ValueError(f"patch must be an integer in 1..{min(h, w)} and stride ≥ 1; "
                         f"got patch={patch!r}, stride={stride!r}.")
    base = model.predict(x, verbose=0, batch_size=batch_size)[:, c]
    corners = [(r, q) for r in range(0, h - patch + 1, stride) for q in range(0, w - patch + 1, stride)]
    heat = np.zeros((n, h, w), np.float32)
    count = np.zeros((h, w), np.float32)
    for r, q in corners:
        count[r:r + patch, q:q + patch] += 1
    for i in range(n):
        batch = np.repeat(x[i:i + 1], len(corners), axis=0)
        for k, (r, q) in enumerate(corners):
            batch[k, r:r + patch, q:q + patch] = fill
        drop = base[i] - model.predict(batch, verbose=0, batch_size=batch_size)[:, c]
        for k, (r, q) in enumerate(corners):
            heat[i, r:r + patch, q:q + patch] += drop[k]
    return normalize_maps(heat / np.maximum(count, 1))


def peak(maps: Any) -> np.ndarray:
    """(row, col) of each map's maximum, shape (N, 2) integers (the first one when tied).

    maps: (N, H, W) or (N, H, W, 1): error maps, Grad-CAM, saliency... Taught in 03, step 3 (the peak of an
    autoencoder's error map) and 05, step 3 (the pointing game).
    """
    m = as_images(maps, channel_axis=False, dtype=None, grey=True, name="maps")
    flat = m.reshape(len(m), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, m.shape[1:]), axis=1)


def pointing_game(maps: Any, centers: Any, radii: Any, tolerance: float = 0.0) -> np.ndarray:
    """Hit (True) when a map's maximum (:func:`peak`) lies within ``radius + tolerance`` pixels of the lesion centre.

    maps: (N, H, W) or (N, H, W, 1), any map whose peak should point at the lesion (an autoencoder's error
    map, Grad-CAM, saliency, a segmentation's probabilities); centers: (N, 2) as (row, col) in pixels;
    radii: (N,) in pixels. The share of hits is the pointing-game score (Zhang et al., 2016). Maps that are
    all zero (nothing found) count as misses. Images without a lesion (NaN centre) are an error: select
    positives, e.g. ``maps[y == 1]``. Taught in 03, step 3 (error-map peaks, tolerance 1.5 px) and 05,
    step 3 (by name); reused in 06, step 5.
    """
    m = as_images(maps, channel_axis=False, dtype=None, grey=True, name="maps")
    ctr = np.asarray(centers, dtype=np.float64)
    rad = np.asarray(radii, dtype=np.float64)
    if ctr.shape != (len(m), 2) or rad.shape != (len(m),):
        raise ValueError(f"need one (row, col) centre and one radius per map: maps (N, H, W), centers (N, 2), "
                         f"radii (N,); got {m.shape}, {ctr.shape}, {rad.shape}.")
    if np.isnan(ctr).any():
        raise ValueError("some centres are NaN (images without a lesion); "
                         "score only the images with one, e.g. x[y == 1].")
    if tolerance < 0 or (rad < 0).any():
        raise ValueError("radii and tolerance must be ≥ 0.")
    dist = np.linalg.norm(peak(m) - ctr, axis=1)
    found = m.reshape(len(m), -1).max(axis=1) > 0
    return (dist <= rad + tolerance) & found


def chance_hit_rate(shape: tuple[int, int], centers: Any, radii: Any, tolerance: float = 0.0) -> float:
    """Pointing-game score of a map whose maximum falls on a uniformly random pixel: mean lesion area share."""
    ctr = np.asarray(centers, dtype=np.float64)
    rad = np.asarray(radii, dtype=np.float64) + tolerance
    rows, cols = np.indices(shape)
    d2 = (rows[None] - ctr[:, 0, None, None]) ** 2 + (cols[None] - ctr[:, 1, None, None]) ** 2
    return float((d2 <= rad[:, None, None] ** 2).mean())
