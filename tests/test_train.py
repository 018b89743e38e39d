"""Unit tests of helpers.train: data checks, metrics, class weights, and the training entry point
on tiny MedMNIST-format files that the tests write themselves."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import data, train


def write_npz(path, n=(48, 16, 16), n_classes=2, channels=None, seed=0):
    """A tiny MedMNIST-format file: uint8 images (a bright square marks class 1), (N, 1) labels."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, k in zip(("train", "val", "test"), n):
        y = np.arange(k) % n_classes
        shape = (k, 28, 28) if channels is None else (k, 28, 28, channels)
        x = rng.integers(0, 100, shape).astype(np.uint8)
        x[y == 1, 10:18, 10:18] = 250
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = x, y.reshape(-1, 1).astype(np.uint8)
    np.savez(path, **arrays)
    return path


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(folder))
    return folder


def test_as_images_and_labels():
    assert train.as_images(np.zeros((2, 28, 28), np.uint8)).shape == (2, 28, 28, 1)
    assert train.as_images(np.zeros((2, 28, 28, 3), np.uint8)).dtype == np.float32
    assert train.as_labels(np.array([[1], [0]], np.uint8)).tolist() == [1, 0]
    with pytest.raises(ValueError, match="3D volumes"):
        train.as_images(np.zeros((2, 28, 28, 28), np.uint8))
    with pytest.raises(TypeError, match="numbers"):
        train.as_images(np.zeros((2, 28, 28), dtype=object))
    with pytest.raises(ValueError, match="multi-label"):
        train.as_labels(np.zeros((4, 14), np.uint8))


def test_class_weights_balanced():
    w = train.class_weights(np.array([0] * 10 + [1] * 30))
    assert w == pytest.approx({0: 2.0, 1: 40 / 60})


def test_auc_acc_binary_and_multiclass():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    assert train.auc_acc(y, p) == {"auc": 1.0, "acc": 0.75}
    y3 = np.array([0, 1, 2, 2])
    p3 = np.eye(3)[[0, 1, 2, 1]] * 0.7 + 0.1
    r = train.auc_acc(y3, p3)
    assert r["acc"] == 0.75 and 0.5 < r["auc"] <= 1
    with pytest.raises(ValueError, match="proba"):
        train.auc_acc(y, p[:3])


def test_read_npz_refuses_wrong_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No file"):
        train.read_npz(tmp_path / "nothing.npz")
    np.savez(tmp_path / "bad.npz", train_images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="MedMNIST format"):
        train.read_npz(tmp_path / "bad.npz")


def test_fit_refuses_bad_arguments():
    x, y = np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="Unknown recipe"):
        train.fit("fancy", x, y)
    with pytest.raises(ValueError, match="needs x_val"):
        train.fit("better", x, y)
    with pytest.raises(ValueError, match="labels"):
        train.fit("article", x, y[:3])


@pytest.mark.parametrize("recipe", train.RECIPES)
def test_train_file_on_a_tiny_medmnist_file(tmp_path, recipe, capsys):
    path = write_npz(tmp_path / "tiny.npz")
    result = train.train(str(path), recipe, seconds=None, epochs=2)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == result
    assert result["recipe"] == recipe and result["epochs"] == 2 and result["n_test"] == 16
    assert 0 <= result["auc"] <= 1 and 0 <= result["acc"] <= 1


def test_train_by_flag_from_the_cache_rgb_multiclass(private_cache, monkeypatch, capsys):
    """`train("bloodmnist")` reads the (checksummed) file from COURSE_DATA_DIR: 8 classes, RGB."""
    path = write_npz(private_cache / "bloodmnist.npz", n=(64, 16, 24), n_classes=8, channels=3)
    entry = dict(data.REGISTRY["bloodmnist"])
    entry["md5"] = {"28": data.md5sum(path)}
    monkeypatch.setitem(data.REGISTRY, "bloodmnist", entry)
    result = train.train("bloodmnist", "better", seconds=30, epochs=1)
    assert result["data"] == "bloodmnist" and result["n_train"] == 64 and result["epochs"] == 1
    assert 0 <= result["auc"] <= 1


def test_main_prints_json_and_fails_cleanly(tmp_path, private_cache, capsys):
    path = write_npz(tmp_path / "tiny.npz")
    assert train.main([str(path), "--recipe", "article", "--epochs", "1", "--seconds", "0"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["recipe"] == "article"
    assert train.main(["no_such_set"]) == 1
    assert "Unknown dataset" in capsys.readouterr().err
    assert train.main(["simlesion3d"]) == 1
    assert "2D" in capsys.readouterr().err


def test_try_cifar10_offline_is_one_quiet_line(monkeypatch, tmp_path, capsys):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert train.try_cifar10(timeout=1) is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("[cifar10]")
