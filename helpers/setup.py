"""One call at the top of every notebook: reproducible, quiet, same-looking figures.

>>> from helpers.setup import start
>>> start(seed=0)            # doctest: +SKIP

What is reproducible, and how far (measured; see the README, "Same numbers?"):

- **The same machine:** the same notebook gives bit-identical numbers in every fresh kernel
  (seeds fixed, TensorFlow's ops made deterministic).
- **Other machines:** TensorFlow's numbers depend on its CPU kernels and on how many threads share
  the work. Before TensorFlow loads, ``start`` therefore picks one kernel family and one thread count
  for everybody: oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``; TensorFlow turns it on by default only on
  CPUs with AVX-512, which most laptops lack) and 2 intra-op threads (``TF_NUM_INTRAOP_THREADS=2``, the
  course's 2-core budget). Other x86-64 CPUs can still differ in the last digits (cache sizes change
  how the kernels block their sums; Apple Silicon uses other kernels altogether), so the course's tests
  compare trained numbers with a stated tolerance (``docs/AUTHORING.md``).
- Values you set yourself win: export ``TF_ENABLE_ONEDNN_OPTS=1`` before starting Jupyter for faster
  training on an AVX-512 CPU, or a larger ``TF_NUM_INTRAOP_THREADS``; your numbers then differ a little
  from the stored ones.

Short training (``COURSE_SHORT_TRAINING``, the course's one training-length setting): when it is ``1``
(also ``true``/``yes``/``on``), every training of the course runs **one epoch** instead of its stated number
(:func:`n_epochs` says how many; the training helpers of :mod:`helpers.train` and
:func:`helpers.autoencoders.fit_full_batch` read it themselves, and :func:`helpers.train.cached_fit`
then neither reads nor writes the model cache). Only the browser tests set it, so that JupyterLab runs
every notebook within their time budget; their numbers are then not the stored ones. Never set it
where numbers matter.
"""
from __future__ import annotations

import logging
import os
import random
import sys
import warnings
from pathlib import Path

import numpy as np

#: The course's numerical configuration, set before TensorFlow loads unless the user set it already.
# the course folder (the repository root): data folders inside it are shown relative to it
COURSE_ROOT = Path(__file__).resolve().parent.parent

REPRODUCIBLE_ENV = {
    "TF_ENABLE_ONEDNN_OPTS": "0",    # one kernel family on every x86-64 CPU (oneDNN is on only where AVX-512 is)
    "TF_NUM_INTRAOP_THREADS": "2",   # one way of splitting the work, whatever the core count
}


#: The environment variable of the course's training-length setting (see the module's docstring).
SHORT_TRAINING_VAR = "COURSE_SHORT_TRAINING"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def short_training() -> bool:
    """Whether the course's short-training setting is on (``COURSE_SHORT_TRAINING=1``): one epoch per training.

    Set by the browser tests' JupyterLab server only. Raises ``ValueError`` for a value that is
    neither on (``1``, ``true``, ``yes``, ``on``) nor off (unset, empty, ``0``, ``false``, ``no``, ``off``).
    """
    value = os.environ.get(SHORT_TRAINING_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{SHORT_TRAINING_VAR}={os.environ[SHORT_TRAINING_VAR]!r}: use 1 (short training, "
                     "one epoch per training: browser tests only) or 0 / unset (the course's training).")


def n_epochs(epochs: int) -> int:
    """The number of epochs a training of the course runs: ``epochs``, or 1 under short training.

    >>> n_epochs(10)   # COURSE_SHORT_TRAINING unset: the stated number
    10

    Notebooks wrap the stated number of their hand-written trainings in it (``epochs=n_epochs(10)``);
    :func:`helpers.train.fit` and :func:`helpers.train.cached_fit` apply it themselves.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    return 1 if short_training() else int(epochs)


def numerics() -> dict[str, str]:
    """The settings that decide TensorFlow's numbers in this process (for the set-up line of each notebook)."""
    names = [*REPRODUCIBLE_ENV, "ONEDNN_MAX_CPU_ISA"]
    return {name: os.environ.get(name, "(TensorFlow's default)") for name in names}


def start(seed: int = 0, tensorflow: bool = True, quiet: bool = True, show: bool = True) -> None:
    """Fix every seed, make TensorFlow deterministic, quieten logs, set figure defaults; print the set-up.

    Taught in notebook 00, set-up (every notebook opens with it).
    Prints (unless ``show=False``) the versions of Python, NumPy, TensorFlow and Keras, the seed and the
    data folder (:func:`setup_line`), and one more line when short training is on (:func:`short_training`).

    seed: the seed for Python, NumPy and Keras (and so TensorFlow). The environment variable
        ``COURSE_SEED``, when set, replaces it (the course's spread measurement uses it).
    tensorflow: also import TensorFlow and make its ops deterministic (3-5 s on first import).
    quiet: hide TensorFlow's C++ and Python log lines and library warnings that learners can't act on.

    Before TensorFlow is imported, the variables of ``REPRODUCIBLE_ENV`` are set unless already set
    (see the module's docstring). If TensorFlow was imported before ``start``, they can no longer take
    effect; ``start`` then says so in one line (restart the kernel to fix it).
    """
    if os.environ.get("COURSE_SEED"):  # set only to measure how far trained numbers move with the seed
        seed = int(os.environ["COURSE_SEED"])
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    late = "tensorflow" in sys.modules
    for name, value in REPRODUCIBLE_ENV.items():
        os.environ.setdefault(name, value)
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
        if late:
            print("Note: TensorFlow was imported before start(), so its numbers may differ from the stored "
                  "ones; restart the kernel and run start() first.")
    style_figures()
    if show:
        print(setup_line(seed, tensorflow))
        if short_training():
            print(f"Short training is on ({SHORT_TRAINING_VAR}=1): every training runs one epoch, so trained "
                  "numbers differ from the stored ones.")


def setup_line(seed: int, tensorflow: bool = True) -> str:
    """One line: library versions, the seed and the data folder (what :func:`start` prints)."""
    import platform

    from .data import cache_dir

    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    if tensorflow:
        import keras
        import tensorflow as tf

        parts += [f"TensorFlow {tf.__version__}", f"Keras {keras.__version__}"]
    return f"{' · '.join(parts)} · seed {seed} · data folder {shown_path(cache_dir(create=False))}"


def shown_path(folder: Path) -> str:
    """``folder`` as a learner reads it: relative to the course folder when inside it, else with ``~`` for home."""
    folder = Path(folder).resolve()
    for base, prefix in ((COURSE_ROOT, ""), (Path.home().resolve(), "~/")):
        try:
            return prefix + folder.relative_to(base).as_posix() + "/"
        except ValueError:
            continue
    return str(folder)


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
