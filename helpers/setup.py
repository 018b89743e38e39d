"""One call at the top of every notebook: reproducible, quiet, same-looking figures.

>>> from helpers.setup import start
>>> start(seed=0)            # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
import random
import warnings

import numpy as np


def start(seed: int = 0, tensorflow: bool = True, quiet: bool = True) -> None:
    """Fix every seed, make TensorFlow deterministic, quieten logs, set figure defaults.

    seed: the seed for Python, NumPy and Keras (and so TensorFlow).
    tensorflow: also import TensorFlow and make its ops deterministic (3-5 s on first import).
    quiet: hide TensorFlow's C++ and Python log lines and library warnings that learners can't act on.
    """
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*tqdm.*")
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        if quiet:
            tf.get_logger().setLevel(logging.ERROR)
            logging.getLogger("absl").setLevel(logging.ERROR)
    style_figures()


def style_figures() -> None:
    """Matplotlib defaults of the course: colour-blind-safe cycle, readable sizes, inline PNG."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.dpi": 90,
        "savefig.dpi": 90,
        "figure.figsize": (6.4, 4.0),
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "image.cmap": "gray",
        "axes.prop_cycle": mpl.cycler(color=[  # Okabe-Ito, safe for colour-blind readers
            "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]),
    })
