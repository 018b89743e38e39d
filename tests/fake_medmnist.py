"""Small stand-ins for MedMNIST files, shared by the tests and their fixtures (``conftest.py``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import data


def make_medmnist_npz(path: Path, n: tuple[int, int, int] = (20, 6, 8), shape: tuple[int, ...] = (28, 28),
                      n_classes: int = 2, seed: int = 0) -> Path:
    """Write a small file in MedMNIST's format (uint8 images, (N, 1) labels) and return its path."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, k in zip(("train", "val", "test"), n):
        arrays[f"{split}_images"] = rng.integers(0, 256, (k, *shape), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(k) % n_classes).reshape(-1, 1).astype(np.uint8)
    np.savez(path, **arrays)
    return path


def use_stand_in(monkeypatch: pytest.MonkeyPatch, name: str, path: Path) -> None:
    """Patch the registry so that the file at ``path`` is the expected one of ``name`` (its MD5), and
    the course ships no file of ``name`` (the stand-in is not it)."""
    entry = dict(data.REGISTRY[name])
    entry["md5"] = {"28": data.md5sum(path)}
    entry.pop("shipped", None)
    monkeypatch.setitem(data.REGISTRY, name, entry)
