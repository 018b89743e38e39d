"""Companion package of the course *Deep learning for medical image diagnosis*.

Modules (import the one you need; none imports TensorFlow until a function needs it):

- ``helpers.data``: dataset registry (every dataset fact, flips included), downloads with checksums,
  ``load(name, split)``, the one ``.npz`` reader and writer, ``as_images``/``as_labels``; ``python -m helpers.data``.
- ``helpers.simulate``: simulated lesion sets on the real MNI152 brain template.
- ``helpers.imaging``: DICOM, Hounsfield units, windowing, the ECG, the sample images of the course.
- ``helpers.plots``: every figure: image grids, three-plane views, training curves, confusion matrix, ROC, the
  threshold figure, error maps and explanation overlays, the unrolled RNN, CT windowing.
- ``helpers.widgets``: every interactive widget (ipywidgets): CT window sliders, the threshold slider.
- ``helpers.setup``: ``start(seed)``, one call that makes a notebook reproducible and quiet.
- ``helpers.models``: the article's CNN layer for layer, and a better small CNN.
- ``helpers.train``: training recipes ("article", "better") and the command line ``python -m helpers.train FLAG``.
- ``helpers.sequences``: the article's RNN recurrence in NumPy, sequence models, ECG windows.
- ``helpers.autoencoders``: linear/dense/convolutional autoencoders, principal angles vs PCA, error maps.
- ``helpers.metrics``: clinical metrics, bootstrap CIs (by case and by patient), calibration, the logit, MedMNIST's
  AUC/accuracy (on scikit-learn).
- ``helpers.explain``: Grad-CAM, saliency, occlusion, map peaks and the pointing game.
- ``helpers.outlook``: label noise and a simulated marker for the outlook demos.
- ``helpers.checks``: instant-feedback checkers for the exercises.
- ``helpers.pack``: the instructor's data pack; ``python -m helpers.pack``.
"""
import os as _os

# TensorFlow's C++ start-up messages are noise for learners; must be set before TensorFlow loads.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
