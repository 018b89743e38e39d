"""Unit tests of helpers.train: data checks, metrics, class weights, and the training entry point
on tiny MedMNIST-format files that the tests write themselves."""
from __future__ import annotations

import json

import numpy as np
import pytest

from fake_medmnist import use_stand_in
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
def private_cache(data_dir):
    """The private cache of ``data_dir`` (conftest.py), made."""
    data_dir.mkdir()
    return data_dir


def test_class_weights_balanced():
    w = train.class_weights(np.array([0] * 10 + [1] * 30))
    assert w == pytest.approx({0: 2.0, 1: 40 / 60})


def test_fit_refuses_bad_arguments():
    x, y = np.zeros((4, 28, 28), np.uint8), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="Unknown recipe"):
        train.fit("fancy", x, y)
    with pytest.raises(ValueError, match="Unknown option"):
        train.fit("better", x, y, learning_speed=3)
    with pytest.raises(ValueError, match="article recipe takes no option"):
        train.fit("article", x, y, widths=(8, 16))
    with pytest.raises(ValueError, match="flip must be"):
        train.fit("better", x, y, flip="diagonal")
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
    assert result["auc_ci"][0] <= result["auc"] <= result["auc_ci"][1]
    assert result["acc_ci"][0] <= result["acc"] <= result["acc_ci"][1]
    assert 0 <= result["threshold"] <= 1 and 0 <= result["acc_argmax"] <= 1
    assert result["flip"] is None and result["parameters"] > 0  # "tiny.npz" is no known dataset: no flips


def test_train_by_flag_from_the_cache_rgb_multiclass(private_cache, monkeypatch, capsys):
    """`train("bloodmnist")` reads the (checksummed) file from COURSE_DATA_DIR: 8 classes, RGB."""
    path = write_npz(private_cache / "bloodmnist.npz", n=(64, 16, 24), n_classes=8, channels=3)
    use_stand_in(monkeypatch, "bloodmnist", path)
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


# ---------------------------------------------------------------- flips come from the data (issue 14, item 2)
def test_flips_come_from_the_dataset():
    assert train.flip_for("pneumoniamnist") == "horizontal"       # never upside down
    assert train.flip_for("BreastMNIST") == "horizontal"
    assert train.flip_for("data/pneumoniamnist.npz") == "horizontal"
    assert train.flip_for("bloodmnist") == "horizontal_and_vertical"
    assert train.flip_for("organamnist") is None                  # labels name left and right
    assert train.flip_for("my_own_set") is None and train.flip_for(None) is None
    for name, flip in train.FLIPS.items():
        assert flip in train.FLIP_CHOICES, name
    cfg = train.recipe_options("better", 100, dataset="pneumoniamnist")
    assert cfg["flip"] == "horizontal"
    assert train.recipe_options("better", 100, dataset="pneumoniamnist", flip=None)["flip"] is None
    assert train.recipe_options("better", 100)["flip"] is None    # no dataset, no flips


def test_train_arrays_takes_the_flip_from_the_dataset(tmp_path):
    """The notebook's path (train_arrays) and the command line's agree: no vertical flip of a chest X-ray."""
    path = write_npz(tmp_path / "tiny.npz")
    splits = train.load_splits(path)
    r = train.train_arrays(splits, "better", epochs=1, dataset="pneumoniamnist", tta=True)
    assert r["flip"] == "horizontal" and r["tta"] is True
    assert train.train_arrays(splits, "better", epochs=1)["flip"] is None
    renamed = tmp_path / "pneumoniamnist.npz"
    renamed.write_bytes(path.read_bytes())
    assert train.train_file(renamed, "better", epochs=1)["flip"] == "horizontal"


def test_augment_is_seeded_and_keeps_orientation():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (64, 28, 28, 1)).astype("float32")
    a = train.augment(x, np.random.default_rng(1), "horizontal", shift=0)
    for img, out in zip(x, a):  # each image is itself or its left-right mirror, never upside down
        assert np.array_equal(out, img) or np.array_equal(out, img[:, ::-1])
    assert not np.array_equal(a, x)
    b1 = train.augment(x, np.random.default_rng(3), "horizontal", shift=2, contrast=0.1)
    b2 = train.augment(x, np.random.default_rng(3), "horizontal", shift=2, contrast=0.1)
    assert np.array_equal(b1, b2) and b1.shape == x.shape and b1.min() >= 0 and b1.max() <= 255
    shifted = train.augment(x, np.random.default_rng(4), None, shift=2)
    # a shift of up to 2 pixels: the centre 24x24 of the result is a window of the original
    c = shifted[0, 2:-2, 2:-2]
    assert any(np.array_equal(c, x[0, 2 + dy:26 + dy, 2 + dx:26 + dx]) for dy in range(-2, 3) for dx in range(-2, 3))
    np.testing.assert_array_equal(train.augment(x, rng, None), x)


# ---------------------------------------------------------------- decision rule chosen on validation
def test_choose_threshold_maximises_validation_accuracy():
    y = np.array([0, 0, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.2, 0.35, 0.3, 0.4, 0.9])
    t = train.choose_threshold(y, np.c_[1 - p1, p1])
    assert np.mean((p1 >= t) == y) == pytest.approx(5 / 6)
    # ties: the accurate threshold nearest 0.5
    t2 = train.choose_threshold([0, 1], np.array([0.1, 0.9]))
    assert t2 == pytest.approx(0.5)
    assert train.choose_threshold([0, 1, 2], np.eye(3)) is None
    assert train.decide(np.eye(3), None).tolist() == [0, 1, 2]
    assert train.decide(np.c_[1 - p1, p1], 0.35).tolist() == [0, 0, 1, 0, 1, 1]


def test_bootstrap_accuracy():
    from helpers import metrics

    y = np.array([0, 1] * 50)
    pred = y.copy()
    pred[:20] = 1 - pred[:20]
    ci = metrics.bootstrap_accuracy(y, pred, n_boot=500, seed=0)
    assert ci.estimate == pytest.approx(0.8) and ci.low < 0.8 < ci.high and ci.high - ci.low < 0.25
    assert metrics.bootstrap_accuracy(y, pred, n_boot=500, seed=0) == ci
    with pytest.raises(ValueError, match="same length"):
        metrics.bootstrap_accuracy(y, pred[:3])


def test_recipe_options_fixed_epochs_from_images_seen():
    small = train.recipe_options("better", 100)
    big = train.recipe_options("better", 10 ** 6)
    assert small["epochs"] == min(train.BETTER["max_epochs"], -(-train.BETTER["samples"] // 100))
    assert big["epochs"] == train.BETTER["min_epochs"]
    assert train.recipe_options("better", 100, epochs=3)["epochs"] == 3
    assert train.recipe_options("article", 100) == {"recipe": "article", "epochs": 10, "batch_size": 64,
                                                     "pooling": "max"}
    with pytest.raises(ValueError, match="epochs"):
        train.recipe_options("better", 100, epochs=0)


# ---------------------------------------------------------------- cache of trained models (issue 14, item 4)
def _tiny_splits(tmp_path):
    return train.load_splits(write_npz(tmp_path / "tiny.npz", n=(32, 16, 16)))


@pytest.mark.parametrize("recipe", train.RECIPES)
def test_cached_fit_hit_equals_fresh_training(tmp_path, recipe, capsys):
    s = _tiny_splits(tmp_path)
    folder = tmp_path / "models"
    kw = dict(epochs=1, seed=0, folder=folder, dataset="pneumoniamnist")
    m1, h1 = train.cached_fit(recipe, *s["train"], *s["val"], **kw)
    entries = list(folder.glob("*.npz"))
    assert not h1.cached and len(entries) == 1
    m2, h2 = train.cached_fit(recipe, *s["train"], *s["val"], **kw)
    assert h2.cached and h2.threshold == h1.threshold and h2.history == h1.history
    fresh, h3 = train.cached_fit(recipe, *s["train"], *s["val"], cache=False, **kw)
    x_test = s["test"][0]
    p1, p2, p3 = (np.asarray(m.predict(x_test, verbose=0)) for m in (m1, m2, fresh))
    np.testing.assert_array_equal(p2, p1)
    np.testing.assert_array_equal(p3, p1)  # deterministic: a fresh training gives the cached weights
    assert h3.threshold == h1.threshold and len(list(folder.glob("*.npz"))) == 1


def test_cache_key_covers_data_recipe_seed_and_numerics(tmp_path, monkeypatch):
    from helpers import setup

    s = _tiny_splits(tmp_path)
    x, y = data.as_images(s["train"][0]), data.as_labels(s["train"][1])
    xv, yv = data.as_images(s["val"][0]), data.as_labels(s["val"][1])
    cfg = train.recipe_options("better", len(y), epochs=1)
    key, material = train.cache_key(cfg, 0, x, y, xv, yv)
    assert material["numerics"] == setup.numerics() and "tensorflow" in material["versions"]
    x2 = x.copy()
    x2[0, 0, 0, 0] += 1
    others = [train.cache_key(cfg, 1, x, y, xv, yv)[0],
              train.cache_key({**cfg, "lr": 1e-3}, 0, x, y, xv, yv)[0],
              train.cache_key(train.recipe_options("better", len(y), epochs=2), 0, x, y, xv, yv)[0],
              train.cache_key(cfg, 0, x2, y, xv, yv)[0],
              train.cache_key(cfg, 0, x, y, None, None)[0]]
    monkeypatch.setattr(setup, "numerics", lambda: {"TF_ENABLE_ONEDNN_OPTS": "1", "TF_NUM_INTRAOP_THREADS": "8"})
    others.append(train.cache_key(cfg, 0, x, y, xv, yv)[0])
    assert len({key, *others}) == len(others) + 1
    monkeypatch.undo()
    assert train.cache_key(cfg, 0, x, y, xv, yv)[0] == key


def test_cache_entry_is_atomic_readable_and_corruption_is_retrained(tmp_path, capsys):
    import os

    s = _tiny_splits(tmp_path)
    folder = tmp_path / "models"
    kw = dict(epochs=1, seed=0, folder=folder)
    old = os.umask(0o022)
    try:
        m1, _ = train.cached_fit("article", *s["train"], *s["val"], **kw)
    finally:
        os.umask(old)
    (entry,) = folder.glob("*.npz")
    assert entry.stat().st_mode & 0o777 == 0o644          # readable by others, as the umask allows
    assert not list(folder.glob(".*part"))                # no temporary file left behind
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2])             # a half-written file
    m2, h2 = train.cached_fit("article", *s["train"], *s["val"], **kw)
    assert not h2.cached and "corrupt" in capsys.readouterr().err
    np.testing.assert_array_equal(m2.predict(s["test"][0], verbose=0), m1.predict(s["test"][0], verbose=0))
    # flipped bytes inside a weight array: the checksum catches it
    with np.load(entry) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["w0000"] = arrays["w0000"] + 1
    np.savez(entry, **arrays)
    _, h3 = train.cached_fit("article", *s["train"], *s["val"], **kw)
    assert not h3.cached and "checksum" in capsys.readouterr().err
    _, h4 = train.cached_fit("article", *s["train"], *s["val"], **kw)
    assert h4.cached


def test_article_weights_after_every_epoch_fresh_and_cached(tmp_path, capsys):
    from helpers import models

    s = _tiny_splits(tmp_path)
    folder = tmp_path / "models"
    kw = dict(epochs=2, seed=0, folder=folder)
    m2, h = train.cached_fit("article", *s["train"], **kw)
    assert sorted(h.weights_after) == [1, 2] and not h.cached
    for a, b in zip(h.weights_after[2], m2.get_weights()):  # after the last epoch: the model itself
        np.testing.assert_array_equal(a, b)
    _, h1 = train.cached_fit("article", *s["train"], **{**kw, "epochs": 1, "folder": tmp_path / "other"})
    for a, b in zip(h.weights_after[1], h1.weights_after[1]):  # epoch 1 of 2 = a 1-epoch training
        np.testing.assert_array_equal(a, b)
    _, hit = train.cached_fit("article", *s["train"], **kw)
    assert hit.cached and sorted(hit.weights_after) == [1, 2]
    cnn = models.article_cnn((28, 28, 1), 2)
    cnn.set_weights(hit.weights_after[1])
    for a, b in zip(cnn.get_weights(), h1.weights_after[1]):
        np.testing.assert_array_equal(a, b)
    (entry,) = folder.glob("*.npz")  # a changed snapshot is caught by its checksum and trained again
    with np.load(entry) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["e0001_0000"] = arrays["e0001_0000"] + 1
    np.savez(entry, **arrays)
    _, again = train.cached_fit("article", *s["train"], **kw)
    assert not again.cached and "after an epoch" in capsys.readouterr().err
    _, better = train.cached_fit("better", *s["train"], epochs=1, seed=0, folder=folder)
    assert better.weights_after == {}


def test_main_fixed_epochs_flip_and_cache(tmp_path, private_cache, capsys):
    """The command line trains a fixed number of epochs by default; --cache reuses the model the second time."""
    path = write_npz(tmp_path / "pneumoniamnist.npz")
    args = [str(path), "--epochs", "1", "--cache"]
    assert train.main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["flip"] == "horizontal" and first["epochs"] == 1 and first["cached"] is False
    assert len(list((private_cache / "models").glob("better_*.npz"))) == 1
    assert train.main(args) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert second["cached"] is True
    assert {k: second[k] for k in ("auc", "acc", "threshold")} == {k: first[k] for k in ("auc", "acc", "threshold")}
    assert train.main([str(path), "--epochs", "1", "--flip", "none"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["flip"] is None
