"""Plots of the course. Each function returns the Matplotlib figure (and axes) and sets titles and labels.

Colour maps: grey for images, ``viridis``/``magma`` (perceptually uniform, colour-blind safe)
for heat maps, the Okabe-Ito cycle for lines (set by :func:`helpers.setup.style_figures`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _as_images(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (3, 4)):
        raise ValueError(
            f"images must have shape (N, H, W), (N, H, W, 1) or (N, H, W, 3); got {arr.shape}. "
            "For one image, pass image[None]."
        )
    if len(arr) == 0:
        raise ValueError("images is empty: nothing to show.")
    return arr


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
    arr = _as_images(images)
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
        if circles is not None and circles[k] is not None:
            r, c, rad = circles[k]
            ax.add_patch(plt.Circle((c, r), rad + 1.5, fill=False, color="#E69F00", lw=1.2))
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


def three_planes(volume: Any, point: Sequence[int] | None = None, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                 title: str | None = None, cmap: str = "gray", labels: Sequence[str] = ("sagittal", "coronal", "axial")):
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
    arr = _as_images(images)
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
