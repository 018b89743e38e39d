"""The data layer: registry, downloads with checksums, cache handling, loading, command line."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import data

# Facts from the course design card (COURSE.md 5.3): flag -> (MD5 of the 28 px file, train/val/test sizes, classes, licence)
DESIGN_CARD = {
    "pneumoniamnist": ("28209eda62fecd6e6a2d98b1501bb15f", (4708, 524, 624), 2, "CC BY 4.0"),
    "breastmnist": ("750601b1f35ba3300ea97c75c52ff8f6", (546, 78, 156), 2, "CC BY 4.0"),
    "bloodmnist": ("7053d0359d879ad8a5505303e11de1dc", (11959, 1712, 3421), 8, "CC BY 4.0"),
    "dermamnist": ("0744692d530f8e62ec473284d019b0c7", (7007, 1003, 2005), 7, "CC BY-NC 4.0"),
    "retinamnist": ("bd4c0672f1bba3e3a89f0e4e876791e4", (1080, 120, 400), 5, "CC BY 4.0"),
    "organamnist": ("68e3f8846a6bd62f0c9bf841c0d9eacc", (34561, 6491, 17778), 11, "CC BY 4.0"),
    "pathmnist": ("a8b06965200029087d5bd730944a56c1", (89996, 10004, 7180), 9, "CC BY 4.0"),
    "nodulemnist3d": ("8755a7e9e05a4d9ce80a24c3e7a256f3", (1158, 165, 310), 2, "CC BY 4.0"),
    "organmnist3d": ("a0c5a1ff56af4f155c46d46fbb45a2fe", (971, 161, 610), 11, "CC BY 4.0"),
}


@pytest.mark.parametrize("flag", sorted(DESIGN_CARD))
def test_registry_matches_design_card(flag):
    md5, sizes, n_classes, licence = DESIGN_CARD[flag]
    e = data.REGISTRY[flag]
    assert e["md5"]["28"] == md5
    assert tuple(e["splits"].values()) == sizes
    assert len(e["label_names"]) == n_classes
    assert e["licence"] == licence
    assert data.url_of(flag) == f"https://zenodo.org/records/10519652/files/{flag}.npz?download=1"
    assert "Scientific Data" in e["citation"] and e["simulated"] is False


def test_registry_has_every_set_and_label_zero_malignant_where_it_is():
    assert set(DESIGN_CARD) | {"simlesion2d", "simlesion3d", "breastcancer"} == set(data.names())
    assert data.info("breastmnist").label_names[0] == "malignant"
    assert data.info("breastmnist").positive_label == 0
    assert data.info("breastcancer").label_names[0] == "malignant"
    assert data.info("simlesion2d").simulated and "SIMULATED" in data.info("simlesion2d").notes
    assert data.info("organmnist3d").label_names[0] == "liver"
    assert data.info("organamnist").label_names[0] == "bladder"


def test_every_dataset_has_a_data_card():
    from pathlib import Path

    text = (Path(data.__file__).resolve().parent.parent / "data" / "README.md").read_text(encoding="utf-8")
    for name in data.names():
        assert f"`{name}`" in text, f"data/README.md has no card for {name}"


def test_unknown_name_suggests_close_names():
    with pytest.raises(data.UnknownDatasetError, match="Did you mean 'pneumoniamnist'"):
        data.load("pneumonia")
    with pytest.raises(KeyError):  # also a KeyError, for code that expects one
        data.info("nope")


def test_unknown_split_and_size(data_dir):
    with pytest.raises(data.UnknownSplitError, match="use one of train, val, test"):
        data.load("simlesion2d", "validation")
    with pytest.raises(data.UnknownSizeError, match="available: 28"):
        data.load("pneumoniamnist", size=64)
    with pytest.raises(data.UnknownSizeError):
        data.load("simlesion3d", size=64)


def test_download_over_http_verifies_and_caches(data_dir, fake_pneumonia, http_server):
    path = data.download("pneumoniamnist", base_url=http_server, progress=False)
    assert path == data_dir / "pneumoniamnist.npz"
    assert data.md5sum(path) == data.md5sum(fake_pneumonia)
    ds = data.load("pneumoniamnist", "val", base_url=http_server)
    assert ds.x.shape == (6, 28, 28) and ds.y.shape == (6,) and ds.x.dtype == np.uint8
    assert not list(data_dir.glob("*.part")) and not list(data_dir.glob(".*.part"))


def test_download_from_file_url(data_dir, fake_pneumonia):
    path = data.download("pneumoniamnist", base_url=fake_pneumonia.parent.as_uri(), progress=False)
    assert path.exists()


def test_wrong_checksum_keeps_nothing(data_dir, fake_pneumonia, http_server, monkeypatch):
    entry = dict(data.REGISTRY["pneumoniamnist"], md5={"28": "0" * 32})
    monkeypatch.setitem(data.REGISTRY, "pneumoniamnist", entry)
    with pytest.raises(data.CorruptFileError, match="wrong MD5"):
        data.download("pneumoniamnist", base_url=http_server, progress=False)
    assert list(data_dir.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_cache_file_is_replaced(data_dir, fake_pneumonia, http_server, damage, capsys):
    path = data.download("pneumoniamnist", base_url=http_server, progress=False)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    data.download("pneumoniamnist", base_url=http_server, progress=False)
    assert data.md5sum(path) == data.md5sum(fake_pneumonia)
    assert "partial or corrupt" in capsys.readouterr().err


def test_damaged_cache_file_offline_is_a_clear_error(data_dir, fake_pneumonia):
    data_dir.mkdir(parents=True)
    (data_dir / "pneumoniamnist.npz").write_bytes(fake_pneumonia.read_bytes()[:100])
    with pytest.raises(data.DownloadError) as err:
        data.download("pneumoniamnist", base_url="http://127.0.0.1:9", progress=False)
    assert not (data_dir / "pneumoniamnist.npz").exists()  # the corrupt file is not kept
    assert "copy the file into" in str(err.value)


def test_offline_download_fails_fast_with_one_sentence(data_dir):
    t0 = time.perf_counter()
    with pytest.raises(data.DownloadError) as err:
        data.download("bloodmnist", base_url="http://127.0.0.1:9", progress=False)  # nothing listens on port 9
    assert time.perf_counter() - t0 < 10
    msg = str(err.value)
    assert "bloodmnist.npz" in msg and "http://127.0.0.1:9/bloodmnist.npz" in msg and str(data_dir) in msg
    assert "\n" not in msg and msg.count(". ") == 0  # one sentence


def test_try_load_prints_reason_and_returns_none(data_dir, capsys):
    assert data.try_load("bloodmnist", "test", base_url="http://127.0.0.1:9") is None
    out = capsys.readouterr().out
    assert out.startswith("[bloodmnist] Could not download bloodmnist.npz") and out.count("\n") == 1


def test_unreadable_file_with_right_checksum_is_a_clear_error(data_dir, tmp_path, monkeypatch):
    bad = data_dir / "breastmnist.npz"
    data_dir.mkdir(parents=True)
    bad.write_bytes(b"this is not a zip file")
    monkeypatch.setitem(data.REGISTRY, "breastmnist", dict(data.REGISTRY["breastmnist"], md5={"28": data.md5sum(bad)}))
    with pytest.raises(data.CorruptFileError, match="cannot be read"):
        data.load("breastmnist")


def test_file_without_medmnist_keys_is_rejected(data_dir, monkeypatch):
    data_dir.mkdir(parents=True)
    path = data_dir / "breastmnist.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    monkeypatch.setitem(data.REGISTRY, "breastmnist", dict(data.REGISTRY["breastmnist"], md5={"28": data.md5sum(path)}))
    with pytest.raises(data.CorruptFileError, match="not a MedMNIST-format file"):
        data.load("breastmnist")


def test_pickled_arrays_are_never_loaded(data_dir, monkeypatch):
    data_dir.mkdir(parents=True)
    path = data_dir / "breastmnist.npz"
    obj = np.array([{"a": 1}], dtype=object)
    np.savez(path, train_images=obj, train_labels=obj)
    monkeypatch.setitem(data.REGISTRY, "breastmnist", dict(data.REGISTRY["breastmnist"], md5={"28": data.md5sum(path)}))
    with pytest.raises(data.CorruptFileError):
        data.load("breastmnist")


def test_cache_dir_that_cannot_be_made_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(data.ENV_VAR, str(blocker / "sub"))
    with pytest.raises(data.CacheDirError, match="COURSE_DATA_DIR"):
        data.cache_dir()


def test_breast_cancer_splits():
    sizes = {s: len(data.load("breastcancer", s)) for s in ("train", "val", "test", "all")}
    assert sizes == {"train": 398, "val": 57, "test": 114, "all": 569}
    assert np.bincount(data.load("breastcancer", "all").y).tolist() == [212, 357]


def test_verify_reports_missing_ok_and_corrupt(data_dir, fake_pneumonia, http_server):
    data.download("pneumoniamnist", base_url=http_server, progress=False)
    (data_dir / "breastmnist.npz").write_bytes(b"junk")
    report = data.verify()
    assert report["pneumoniamnist.npz"] == "ok"
    assert report["breastmnist.npz"] == "CORRUPT"
    assert report["bloodmnist.npz"] == "missing"


def _cli(*args, env_dir):
    import os

    env = dict(os.environ, **{data.ENV_VAR: str(env_dir)})
    return subprocess.run([sys.executable, "-m", "helpers.data", *args], capture_output=True, text=True, env=env, timeout=60)


def test_cli_offline_download_is_one_clear_line_fast(tmp_path):
    t0 = time.perf_counter()
    res = _cli("download", "pneumoniamnist", "--base-url", "http://127.0.0.1:9", env_dir=tmp_path)
    assert time.perf_counter() - t0 < 10
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert res.stderr.startswith("pneumoniamnist: Could not download pneumoniamnist.npz")


def test_cli_list_and_verify(tmp_path):
    res = _cli("list", env_dir=tmp_path)
    assert res.returncode == 0 and "simlesion2d" in res.stdout and "not downloaded" in res.stdout
    res = _cli("verify", env_dir=tmp_path)
    assert res.returncode == 0 and "missing" in res.stdout
    res = _cli("download", "pneumonia", env_dir=tmp_path)
    assert res.returncode == 1 and "Did you mean 'pneumoniamnist'" in res.stderr


def test_import_helpers_is_fast_and_does_not_load_tensorflow():
    code = "import time; t=time.perf_counter(); import helpers, helpers.data, helpers.plots, helpers.imaging, helpers.simulate, helpers.models; import sys; print(time.perf_counter()-t, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert float(out[0]) < 1.0 and out[1] == "False"
