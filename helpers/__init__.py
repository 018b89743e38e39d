"""Companion package of the course *Deep learning for medical image diagnosis*.

Modules (import the one you need; none imports TensorFlow until a function needs it):

- ``helpers.data``: dataset registry, downloads with checksums, ``load(name, split)``.
- ``helpers.simulate``: simulated lesion sets on the real MNI152 brain template.
- ``helpers.imaging``: DICOM, Hounsfield units, windowing, the sample images of the course.
- ``helpers.plots``: image grids, three-plane views, training curves, confusion matrix, ROC.
- ``helpers.setup``: one call that makes a notebook reproducible and quiet.
"""
import os as _os

# TensorFlow's C++ start-up messages are noise for learners; must be set before TensorFlow loads.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
