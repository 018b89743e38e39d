"""Plots of the course. Each function returns the Matplotlib figure (and axes) and sets titles and labels.

Colour maps: grey for images, ``viridis``/``magma`` (perceptually uniform, colour-blind safe)
for heat maps, the Okabe-Ito cycle for lines (set by :func:`helpers.setup.style_figures`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .data import as_images


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _ring(ax: Any, circle: tuple[float, float, float] | None, pad: float = 1.5, colour: str = "#E69F00") -> None:
    """Draw a true lesion ``(row, col, radius)`` as a ring ``pad`` pixels outside it (nothing for ``None``)."""
    if circle is not None:
        r, c, rad = circle
        ax.add_patch(_plt().Circle((c, r), rad + pad, fill=False, color=colour, lw=1.2))


def image_grid(images: Any, titles: Sequence[str] | None = None, ncols: int = 8, cmap: str = "gray",
               size: float = 1.4, suptitle: str | None = None, vmin: float | None = None,
               vmax: float | None = None, circles: Sequence[tuple[float, float, float] | None] | None = None):
    """Show images in a grid.

    images: (N, H, W), (N, H, W, 1) or (N, H, W, 3).
    titles: one per image (optional).
    circles: optional ``(row, col, radius)`` per image (or None), drawn as a ring, e.g. a lesion's true place.
    Returns ``(fig, axes)``.
    """
    plt = _plt()
    arr = as_images(images, channel_axis=False, dtype=None)
    n = len(arr)
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images; give one title per image.")
    if circles is not None and len(circles) != n:
        raise ValueError(f"got {len(circles)} circles for {n} images; give one (or None) per image.")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(arr[k], cmap=None if arr.ndim == 4 else cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
        if circles is not None:
            _ring(ax, circles[k])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


def three_planes(volume: Any, point: Sequence[int] | None = None, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                 title: str | None = None, cmap: str = "gray",
                 labels: Sequence[str] = ("sagittal", "coronal", "axial")):
    """Show a 3D volume (axes x, y, z as in NIfTI/RAS) in its three orthogonal planes through ``point``.

    spacing: voxel size in mm per axis, so the pictures keep their true proportions.
    Returns ``(fig, axes)``.
    """
    plt = _plt()
    vol = np.asarray(volume)
    if vol.ndim != 3:
        raise ValueError(f"volume must be 3D (x, y, z); got shape {vol.shape}.")
    if point is None:
        point = [s // 2 for s in vol.shape]
    if len(point) != 3 or any(not 0 <= p < s for p, s in zip(point, vol.shape)):
        raise ValueError(f"point {tuple(point)} lies outside the volume of shape {vol.shape}.")
    if len(spacing) != 3 or any(s <= 0 for s in spacing):
        raise ValueError(f"spacing must be three positive numbers (mm per voxel); got {tuple(spacing)}.")
    x, y, z = point
    sx, sy, sz = spacing
    views = [
        (vol[x, :, :].T, sz / sy, "posterior → anterior", "inferior → superior"),
        (vol[:, y, :].T, sz / sx, "left → right (x)", "inferior → superior"),
        (vol[:, :, z].T, sy / sx, "left → right (x)", "posterior → anterior"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    for ax, (img, aspect, xl, yl), name in zip(axes, views, labels):
        ax.imshow(img, origin="lower", cmap=cmap, aspect=aspect)
        ax.set_title(name)
        ax.set_xlabel(xl, fontsize=8)
        ax.set_ylabel(yl, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig, axes


def training_curves(history: Any, metrics: Sequence[str] | None = None, title: str | None = None):
    """Plot a Keras ``History`` (or its ``.history`` dict): one panel per metric, training and validation.

    Returns ``(fig, axes)``.
    """
    plt = _plt()
    hist = getattr(history, "history", history)
    if not isinstance(hist, dict) or not hist:
        raise ValueError("history must be a Keras History or a non-empty dict of metric -> list of values.")
    if metrics is None:
        metrics = [k for k in hist if not k.startswith("val_") and k != "learning_rate"]
    missing = [m for m in metrics if m not in hist]
    if missing:
        raise ValueError(f"history has no {missing}; it has {sorted(hist)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        epochs = np.arange(1, len(hist[m]) + 1)
        ax.plot(epochs, hist[m], marker="o", ms=3, label="training")
        if f"val_{m}" in hist:
            ax.plot(epochs, hist[f"val_{m}"], marker="s", ms=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(m)
        ax.set_title(m)
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig, axes[0]


def confusion_matrix(y_true: Any, y_pred: Any, label_names: Sequence[str] | None = None,
                     normalize: str | None = None, title: str = "Confusion matrix", ax: Any = None,
                     cell_names: Sequence[str] | None = None):
    """Confusion matrix (rows: truth, columns: prediction) with counts written in each cell.

    normalize: None, ``"true"`` (rows sum to 1), ``"pred"`` or ``"all"``, as in scikit-learn.
    cell_names: optional name per cell, row by row, written above its count (e.g. ``["TN", "FP", "FN", "TP"]``).
    Returns ``(fig, ax)``.
    """
    from sklearn.metrics import confusion_matrix as sk_cm

    plt = _plt()
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1D and the same length; got {y_true.shape} and {y_pred.shape}.")
    n = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if label_names is not None:
        if len(label_names) < n:
            raise ValueError(f"{len(label_names)} label names for labels up to {n - 1}; give one name per class.")
        n = len(label_names)
    cm = sk_cm(y_true, y_pred, labels=list(range(n)), normalize=normalize)
    fig, ax = (plt.subplots(figsize=(1.0 + 0.7 * n, 0.8 + 0.7 * n)) if ax is None else (ax.figure, ax))
    ax.imshow(cm, cmap="Blues")
    names = list(label_names) if label_names is not None else [str(i) for i in range(n)]
    ax.set_xticks(range(n), names, rotation=45 if n > 3 else 0, ha="right" if n > 3 else "center")
    ax.set_yticks(range(n), names)
    if cell_names is not None and len(cell_names) != n * n:
        raise ValueError(f"got {len(cell_names)} cell names for a {n}×{n} matrix; give {n * n}, row by row.")
    thresh = cm.max() / 2 if cm.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{cm[i, j]:.2f}" if normalize else f"{cm[i, j]:d}"
            if cell_names is not None:
                text = f"{cell_names[i * n + j]}\n{text}"
            ax.text(j, i, text, ha="center", va="center", color="white" if cm[i, j] > thresh else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig, ax


def roc_curve(y_true: Any, scores: Any, label: str | None = None, pos_label: int = 1, ax: Any = None,
              title: str | None = None):
    """ROC curve of one model (call again with the same ``ax`` to add more), with its AUC in the legend.

    pos_label: which label is the positive ("disease") class; mind BreastMNIST, where it is 0.
    Returns ``(fig, ax)``.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    plt = _plt()
    y_true, scores = np.asarray(y_true).ravel(), np.asarray(scores, dtype=float).ravel()
    if y_true.shape != scores.shape:
        raise ValueError(f"y_true and scores differ in length: {y_true.shape} vs {scores.shape}.")
    classes = np.unique(y_true)
    if len(classes) != 2:
        raise ValueError(f"ROC needs both classes in y_true; found {classes.tolist()}.")
    if pos_label not in classes:
        raise ValueError(f"pos_label {pos_label} is not among the labels {classes.tolist()}.")
    fpr, tpr, _ = sk_roc(y_true, scores, pos_label=pos_label)
    auc = roc_auc_score(y_true == pos_label, scores)
    fig, ax = (plt.subplots(figsize=(4.2, 4.0)) if ax is None else (ax.figure, ax))
    if not ax.lines:
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance (AUC 0.50)")
    ax.plot(fpr, tpr, lw=2, label=f"{label + ' ' if label else ''}(AUC {auc:.3f})")
    ax.set_xlabel("1 − specificity (false-positive rate)")
    ax.set_ylabel("sensitivity (true-positive rate)")
    if title is not None or not ax.get_title():
        ax.set_title(title or "ROC curve")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig, ax



# ---------------------------------------------------------------- segmentation (notebook 06)
TRUE_COLOUR, PRED_COLOUR = "#56B4E9", "#E69F00"   # sky blue: the truth; orange: the prediction (Okabe-Ito)


def mask_overlay(ax: Any, image: Any, true_mask: Any = None, pred_mask: Any = None, title: str | None = None,
                 heat: Any = None) -> None:
    """Draw a grey ``image`` with the outline of ``true_mask`` (sky blue) and of ``pred_mask`` (orange, dashed).

    heat: optional map in [0, 1] (e.g. a probability map) shown in colour under the outlines.
    """
    img = np.asarray(image).squeeze()
    if img.ndim != 2:
        raise ValueError(f"image must be one 2D image (H, W) or (H, W, 1); got shape {np.asarray(image).shape}.")
    ax.imshow(img, cmap="gray")
    if heat is not None:
        ax.imshow(np.asarray(heat).squeeze(), cmap="magma", alpha=0.55, vmin=0, vmax=1)
    for m, colour, style in ((true_mask, TRUE_COLOUR, "solid"), (pred_mask, PRED_COLOUR, "dashed")):
        if m is None:
            continue
        m = np.asarray(m).squeeze().astype(float)
        if m.shape != img.shape:
            raise ValueError(f"a mask of shape {m.shape} does not fit the image {img.shape}.")
        if m.any() and not m.all():
            ax.contour(m, levels=[0.5], colors=[colour], linewidths=1.3, linestyles=style)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def segmentation_grid(images: Any, true_masks: Any, pred_masks: Any = None, prob_maps: Any = None,
                      titles: Sequence[str] | None = None, suptitle: str | None = None, size: float = 1.5):
    """One column per image: the image with the true (sky blue) and predicted (orange, dashed) outlines, and,
    when ``prob_maps`` is given, a second row with the probability map. Returns ``(fig, axes)``."""
    plt = _plt()
    arr = as_images(images, channel_axis=False, dtype=None)
    n = len(arr)
    for name, m in (("true_masks", true_masks), ("pred_masks", pred_masks), ("prob_maps", prob_maps)):
        if m is not None and len(m) != n:
            raise ValueError(f"{name} has {len(m)} entries for {n} images; give one per image.")
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images; give one title per image.")
    rows = 1 + (prob_maps is not None)
    fig, axes = plt.subplots(rows, n, figsize=(size * n, size * rows + (0.5 if suptitle else 0.1)), squeeze=False)
    for k in range(n):
        mask_overlay(axes[0, k], arr[k], true_masks[k], None if pred_masks is None else pred_masks[k],
                     title=None if titles is None else titles[k])
        if prob_maps is not None:
            ax = axes[1, k]
            ax.imshow(np.asarray(prob_maps[k]).squeeze(), cmap="magma", vmin=0, vmax=1)
            m = np.asarray(true_masks[k]).squeeze().astype(float)
            if m.any() and not m.all():
                ax.contour(m, levels=[0.5], colors=[TRUE_COLOUR], linewidths=1.3)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=8)
    if prob_maps is not None:
        axes[1, 0].set_ylabel("probability", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


# ---------------------------------------------------------------- threshold (notebook 04)
def threshold_figure(y_true: Any, prob: Any, threshold: float = 0.5, pos_label: int = 1,
                     label_names: tuple[str, str] = ("negative", "positive"), axes: Any = None):
    """Scores of both classes with a threshold line, and the confusion matrix at that threshold.

    Left: histograms of the predicted probability for truly negative and truly positive cases,
    with the threshold. Right: confusion matrix (rows truth, columns prediction); the title gives
    sensitivity and specificity. Returns ``(fig, axes)``. Taught in 04, step 3 (also behind the slider
    of :func:`helpers.widgets.threshold_widget`).
    """
    from .metrics import MetricInputError, check_binary, clinical_metrics

    plt = _plt()
    positive, p = check_binary(y_true, prob, pos_label=pos_label, probabilities=True)
    if not 0 <= threshold <= 1:
        raise MetricInputError(f"threshold must lie in [0, 1]; got {threshold!r}.")
    m = clinical_metrics(positive.astype(int), (p >= threshold).astype(int))
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), gridspec_kw={"width_ratios": [1.6, 1]})
    fig = axes[0].figure
    bins = np.linspace(0, 1, 41)
    axes[0].hist(p[~positive], bins=bins, alpha=0.6, label=f"truly {label_names[0]}")
    axes[0].hist(p[positive], bins=bins, alpha=0.6, label=f"truly {label_names[1]}")
    axes[0].axvline(threshold, color="black", ls="--", label=f"threshold {threshold:.2f}")
    axes[0].set_xlabel(f"predicted probability of {label_names[1]}")
    axes[0].set_ylabel("number of cases")
    axes[0].set_title("Scores of both classes")
    axes[0].legend(fontsize=8)
    confusion_matrix(positive.astype(int), (p >= threshold).astype(int), label_names=label_names,
                     ax=axes[1], cell_names=["TN", "FP", "FN", "TP"],
                     title=f"sensitivity {m['sensitivity']:.2f}, specificity {m['specificity']:.2f}")
    return fig, axes


# ---------------------------------------------------------------- maps over images (notebooks 03, 05)
def error_map_grid(images: Any, maps: Any, circles: Sequence[tuple[float, float, float] | None] | None = None,
                   titles: Sequence[str] | None = None, alpha: float = 0.55, size: float = 1.6,
                   suptitle: str | None = None):
    """Two rows: the images, then each image with its (error) map overlaid (``magma``) and its peak marked ×.

    circles: optional true lesion ``(row, col, radius)`` per image (or None), drawn as a ring in both rows.
    Returns ``(fig, axes)``. Taught in 03, step 3.
    """
    from .explain import peak

    plt = _plt()
    imgs = as_images(images, channel_axis=False, dtype="float64", grey=True)
    m = as_images(maps, channel_axis=False, dtype="float64", grey=True, name="maps")
    if imgs.shape != m.shape:
        raise ValueError(f"images and maps must have the same shape; got {imgs.shape} and {m.shape}.")
    n = len(imgs)
    for name, seq in (("circles", circles), ("titles", titles)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"got {len(seq)} {name} for {n} images; give one per image.")
    peaks = peak(m)
    fig, axes = plt.subplots(2, n, figsize=(size * n, 2 * size + 0.5), squeeze=False)
    for k in range(n):
        for row in (0, 1):
            ax = axes[row, k]
            ax.imshow(imgs[k], cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 1:
                ax.imshow(m[k], cmap="magma", alpha=alpha)
                ax.plot(peaks[k, 1], peaks[k, 0], "x", color="#56B4E9", ms=7, mew=2)
                ax.set_xlim(-0.5, imgs.shape[2] - 0.5)
                ax.set_ylim(imgs.shape[1] - 0.5, -0.5)
            if circles is not None:
                _ring(ax, circles[k])
        if titles is not None:
            axes[0, k].set_title(titles[k], fontsize=8)
    axes[0, 0].set_ylabel("image", fontsize=9)
    axes[1, 0].set_ylabel("error map", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


def overlay(ax: Any, image: Any, heat: Any, title: str | None = None, circle: tuple[float, float, float] | None = None,
            alpha: float = 0.45) -> None:
    """Draw ``image`` in grey with ``heat`` in colour on top, the true lesion as a ring and the map's peak as a cross.

    Taught in 05, step 2 (Grad-CAM and saliency maps); reused in steps 3 and 7.
    """
    from .explain import peak

    ax.imshow(np.asarray(image).squeeze(), cmap="gray")
    ax.imshow(heat, cmap="inferno", alpha=alpha, vmin=0, vmax=1)
    _ring(ax, circle, pad=0.0, colour=TRUE_COLOUR)
    pr, pc = peak(np.asarray(heat)[None])[0]
    ax.plot(pc, pr, "+", color="#009E73", ms=9, mew=2)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


# ---------------------------------------------------------------- the RNN picture (notebook 02)
def unrolled_rnn(steps: int = 4, title: str = "An RNN unrolled through time"):
    """Draw the article's RNN unrolled over ``steps`` time steps: x_t → h_t → y_t, and h_{t-1} → h_t.

    Returns ``(fig, ax)``. Taught in 02, step 1.
    """
    plt = _plt()
    if not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 8:
        raise ValueError(f"steps must be an integer from 1 to 8; got {steps!r}.")
    fig, ax = plt.subplots(figsize=(1.9 * steps + 1.6, 3.4))
    box = dict(boxstyle="round,pad=0.35", lw=1.2)
    arrow = dict(arrowstyle="->", lw=1.2, color="#333333")
    for t in range(1, steps + 1):
        c = 1.9 * t
        ax.text(c, 0, f"$x_{{{t}}}$", ha="center", va="center", bbox={**box, "fc": "#DCEBF7"}, fontsize=12)
        ax.text(c, 1.2, f"$h_{{{t}}}$", ha="center", va="center", bbox={**box, "fc": "#FBE3C0"}, fontsize=12)
        ax.text(c, 2.4, f"$y_{{{t}}}$", ha="center", va="center", bbox={**box, "fc": "#D5EFE4"}, fontsize=12)
        ax.annotate("", (c, 0.95), (c, 0.25), arrowprops=arrow)
        ax.annotate("", (c, 2.15), (c, 1.45), arrowprops=arrow)
        ax.text(c + 0.08, 0.6, "$W_{xh}$", fontsize=9, color="#0072B2")
        ax.text(c + 0.08, 1.8, "$W_{hy}$", fontsize=9, color="#009E73")
        ax.annotate("", (c - 0.3, 1.2), (c - 1.5 if t > 1 else 0.4, 1.2), arrowprops=arrow)
        ax.text(c - 0.95, 1.3, "$W_{hh}$", fontsize=9, ha="center", color="#D55E00")
    ax.text(0.0, 1.2, "$h_0=0$", ha="center", va="center", fontsize=11)
    ax.set_xlim(-0.5, 1.9 * steps + 0.6)
    ax.set_ylim(-0.5, 2.9)
    ax.set_xlabel("time step t (one slice of a volume, or one sample of a signal) →")
    ax.set_yticks([0, 1.2, 2.4], ["input", "hidden state", "output"])
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title + " (the same weights at every step)")
    fig.tight_layout()
    return fig, ax


# ---------------------------------------------------------------- CT windowing (notebook 00)
def window_figure(hu: Any, center: float = 40, width: float = 400):
    """A CT slice in Hounsfield units shown through one window (centre, width), next to the slice's histogram
    with the window shaded. Returns ``(fig, axes)``. Taught in 00, step 4 (behind the sliders of
    :func:`helpers.widgets.window_widget`).
    """
    from .imaging import window

    plt = _plt()
    hu = np.asarray(hu)
    fig, (ax_img, ax_hist) = plt.subplots(1, 2, figsize=(9, 3.8))
    ax_img.imshow(window(hu, center, width), cmap="gray")
    ax_img.set_title(f"window centre {center} HU, width {width} HU")
    ax_img.axis("off")
    ax_hist.hist(hu.ravel(), bins=200, range=(-1100, 1500), color="#0072B2")
    ax_hist.axvspan(center - width / 2, center + width / 2, color="#E69F00", alpha=0.3, label="window")
    ax_hist.set_yscale("log")
    ax_hist.set_xlabel("Hounsfield units")
    ax_hist.set_ylabel("pixels (log scale)")
    ax_hist.set_title("histogram of the slice")
    ax_hist.legend()
    fig.tight_layout()
    return fig, (ax_img, ax_hist)


# ---------------------------------------------------------------- figures that were long notebook cells (02, 04, 05)
def input_gradient_figure(untrained: dict[str, Any], trained: dict[str, Any], trained_on: str = "simulated volumes"):
    """Vanishing gradients: ‖∂y/∂x_t‖ for every input step t, each curve divided by its maximum, on a log scale.

    untrained: ``{model name: T norms}`` of freshly initialised layers reading T random steps (left panel);
    trained: the same for the trained models on the T slices of ``trained_on`` (right panel); the norms come from
    :func:`helpers.sequences.input_gradient_norms`. The output is read after the last step. Returns ``(fig, axes)``.
    Taught in 02, step 2.4.
    """
    plt = _plt()
    panels = []
    for what, norms in (("untrained", untrained), ("trained", trained)):
        if not norms:
            raise ValueError(f"{what} is empty; give {{model name: gradient norms}} for at least one model.")
        curves = {name: np.asarray(g) for name, g in norms.items()}
        lengths = {len(g) if g.ndim == 1 else -1 for g in curves.values()}
        if len(lengths) != 1 or min(lengths) < 1 or any(not (g.max() > 0) for g in curves.values()):
            raise ValueError(f"{what}: every model needs a 1D array of norms, all of one length, with a positive "
                             f"maximum; got shapes {[g.shape for g in curves.values()]}.")
        panels.append((curves, lengths.pop()))
    (first, t_long), (second, t_short) = panels
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, norms, title, xlabel in [
            (axes[0], first, f"Untrained, {t_long} random steps", f"input step t (output after step {t_long - 1})"),
            (axes[1], second, f"Trained on {trained_on}, {t_short} slices",
             f"slice index t (output after slice {t_short - 1})")]:
        for name, g in norms.items():
            ax.semilogy(np.arange(len(g)), g / g.max(), marker="o", ms=2, label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("‖∂y/∂x_t‖ / its maximum")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle("How much each input step can still change the output")
    fig.tight_layout()
    return fig, axes


def contrast_detail(radius_mm: Any, contrast: Any, detected: Any, r_edges: Any, c_edges: Any,
                    title: str = "Contrast-detail", bin_title: str = "Sensitivity per bin"):
    """A contrast-detail figure: which lesions a model finds, by size and contrast.

    Left: every lesion, found (dot) or missed (cross), in the plane of diameter (2 × ``radius_mm``) and
    ``contrast``, with the lines where the chance of detection is 50 % and 80 % according to a logistic fit on
    log-radius and contrast (:func:`helpers.metrics.contrast_detail_fit`). When every lesion was found or none was,
    there is nothing to fit: the lines are left out and one printed line says why. Right: sensitivity in each
    bin of ``r_edges`` (radius, mm) × ``c_edges`` (contrast) as a heat map, with the counts written in.
    Returns ``(fig, axes)`` (the colour bar is a third axes of ``fig``). Taught in 04, step 6.
    """
    from .metrics import contrast_detail_fit, rate_by_bins

    plt = _plt()
    radius_mm, contrast = np.asarray(radius_mm), np.asarray(contrast)  # dtypes kept: see contrast_detail_fit
    detected = np.asarray(detected, dtype=bool)
    r_edges, c_edges = np.asarray(r_edges, dtype=float), np.asarray(c_edges, dtype=float)
    fit = contrast_detail_fit(radius_mm, contrast, detected)  # checks the three arrays
    diam = np.linspace(2 * r_edges[0], 2 * r_edges[-1], 50)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].scatter(2 * radius_mm[detected], contrast[detected], s=8, alpha=0.5, label="found")
    axes[0].scatter(2 * radius_mm[~detected], contrast[~detected], s=14, marker="x", color="#D55E00", label="missed")
    if fit is None:
        outcome = "found every one" if detected.all() else "found none"
        print(f"No detection lines: the model {outcome} of the {len(detected)} lesions, and a logistic fit needs "
              "found and missed ones (a model trained for one epoch, as under short training, often finds all "
              "or none).")
        axes[0].text(0.03, 0.04, f"no detection lines: {outcome}", transform=axes[0].transAxes, fontsize=8)
    else:
        b0, b_r, b_c = fit
        for level, ls in [(0.5, "-"), (0.8, "--")]:
            c_line = (np.log(level / (1 - level)) - b0 - b_r * np.log(diam / 2)) / b_c
            axes[0].plot(diam, c_line, color="black", ls=ls, label=f"{level:.0%} detection")
    axes[0].set_ylim(c_edges[0] - 0.02, c_edges[-1] + 0.02)
    axes[0].set_xlabel("lesion diameter (mm)")
    axes[0].set_ylabel("lesion contrast |Δ intensity| (0-1 scale)")
    axes[0].set_title(title)
    axes[0].legend(fontsize=8, loc="upper right", framealpha=0.95)
    grid = np.full((len(c_edges) - 1, len(r_edges) - 1), np.nan)
    counts = np.zeros_like(grid, dtype=int)
    for i in range(len(c_edges) - 1):
        sel = (contrast >= c_edges[i]) & (contrast <= c_edges[i + 1])
        grid[i], counts[i] = rate_by_bins(radius_mm[sel], detected[sel], r_edges)
    im = axes[1].imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            axes[1].text(j, i, f"{grid[i, j]:.2f}\nn={counts[i, j]}", ha="center", va="center", fontsize=8,
                         color="white" if grid[i, j] < 0.6 else "black")
    axes[1].set_xticks(range(len(r_edges) - 1), [f"{2 * a:.0f}-{2 * b:.0f}" for a, b in zip(r_edges, r_edges[1:])])
    axes[1].set_yticks(range(len(c_edges) - 1), [f"{a:.2f}-{b:.2f}" for a, b in zip(c_edges, c_edges[1:])])
    axes[1].set_xlabel("lesion diameter (mm)")
    axes[1].set_ylabel("lesion contrast")
    axes[1].set_title(bin_title)
    fig.colorbar(im, ax=axes[1], label="sensitivity")
    fig.tight_layout()
    return fig, axes


def explanation_grid(images: Any, maps: dict[str, Any],
                     circles: Sequence[tuple[float, float, float] | None] | None = None, suptitle: str | None = None,
                     image_label: str = "image"):
    """Images in the top row and, in one row per explanation method below, each map over its image.

    images: (N, H, W) or (N, H, W, 1); maps: ``{method name: N maps (H, W)}`` (e.g. Grad-CAM, saliency), drawn
    with :func:`overlay` (the map's peak as a cross); circles: the true lesion ``(row, col, radius)`` per image
    (or None), a ring in every row. Rows are labelled ``image_label`` and the method names.
    Returns ``(fig, axes)``. Taught in 05, step 2.
    """
    plt = _plt()
    n = len(images)
    if n == 0 or not maps:
        raise ValueError("give at least one image and one map: maps is {method name: one map per image}.")
    for name, m in maps.items():
        if len(m) != n:
            raise ValueError(f"maps[{name!r}] has {len(m)} maps for {n} images; give one map per image.")
    if circles is not None and len(circles) != n:
        raise ValueError(f"got {len(circles)} circles for {n} images; give one (or None) per image.")
    fig, axes = plt.subplots(1 + len(maps), n, figsize=(1.6 * n, 1.75 * (1 + len(maps))), squeeze=False)
    for col in range(n):
        ring = None if circles is None else circles[col]
        axes[0, col].imshow(np.asarray(images[col]).squeeze(), cmap="gray")
        _ring(axes[0, col], ring, pad=0.0, colour=TRUE_COLOUR)
        axes[0, col].set_xticks([]), axes[0, col].set_yticks([])
        for row, m in enumerate(maps.values(), start=1):
            overlay(axes[row, col], images[col], m[col], circle=ring)
    for row, name in enumerate([image_label, *maps]):
        axes[row, 0].set_ylabel(name, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes
