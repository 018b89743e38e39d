"""Shared fixtures: a private data folder and a loopback HTTP server serving MedMNIST-format files."""
from __future__ import annotations

import functools
import http.server
import threading
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


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty, private cache folder (COURSE_DATA_DIR points at it)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(data.ENV_VAR, str(folder))
    return folder


@pytest.fixture
def fake_pneumonia(tmp_path, monkeypatch):
    """A tiny MedMNIST-format 'pneumoniamnist.npz' on a served folder, with the registry's MD5 patched to match."""
    served = tmp_path / "served"
    served.mkdir()
    path = make_medmnist_npz(served / "pneumoniamnist.npz")
    entry = dict(data.REGISTRY["pneumoniamnist"])
    entry["md5"] = {"28": data.md5sum(path)}
    monkeypatch.setitem(data.REGISTRY, "pneumoniamnist", entry)
    return path


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/served on 127.0.0.1 (a random free port); yields the base URL."""
    served = tmp_path / "served"
    served.mkdir(exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass
