"""The data layer: registry, downloads with checksums, cache handling, loading, command line."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fake_medmnist import make_medmnist_npz
from helpers import data

# Facts from the course design card (COURSE.md 5.3):
# flag -> (MD5 of the 28 px file, train/val/test sizes, classes, licence)
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
    "adrenalmnist3d": ("bbd3c5a5576322bc4cdfea780653b1ce", (1188, 98, 298), 2, "CC BY 4.0"),
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


def _cached_breastmnist(data_dir: Path, monkeypatch, write) -> Path:
    """``write(path)`` makes the cached breastmnist.npz; the registry's MD5 is patched to match it."""
    data_dir.mkdir(parents=True)
    path = data_dir / "breastmnist.npz"
    write(path)
    monkeypatch.setitem(data.REGISTRY, "breastmnist", dict(data.REGISTRY["breastmnist"], md5={"28": data.md5sum(path)}))
    return path


def test_unreadable_file_with_right_checksum_is_a_clear_error(data_dir, monkeypatch):
    _cached_breastmnist(data_dir, monkeypatch, lambda path: path.write_bytes(b"this is not a zip file"))
    with pytest.raises(data.CorruptFileError, match="cannot be read"):
        data.load("breastmnist")


def test_file_without_medmnist_keys_is_rejected(data_dir, monkeypatch):
    _cached_breastmnist(data_dir, monkeypatch, lambda path: np.savez(path, images=np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(data.CorruptFileError, match="not a MedMNIST-format file"):
        data.load("breastmnist")


def test_pickled_arrays_are_never_loaded(data_dir, monkeypatch):
    obj = np.array([{"a": 1}], dtype=object)
    _cached_breastmnist(data_dir, monkeypatch, lambda path: np.savez(path, train_images=obj, train_labels=obj))
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
    return subprocess.run([sys.executable, "-m", "helpers.data", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_cli_offline_download_is_one_clear_line_fast(tmp_path):
    t0 = time.perf_counter()
    res = _cli("download", "bloodmnist", "--base-url", "http://127.0.0.1:9", env_dir=tmp_path)
    assert time.perf_counter() - t0 < 10
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert res.stderr.startswith("bloodmnist: Could not download bloodmnist.npz")


def test_cli_list_and_verify(tmp_path):
    res = _cli("list", env_dir=tmp_path)
    assert res.returncode == 0 and "simlesion2d" in res.stdout and "not downloaded" in res.stdout
    assert re.search(r"breastmnist .* shipped ", res.stdout)
    res = _cli("verify", env_dir=tmp_path)
    assert res.returncode == 0 and "missing" in res.stdout and re.search(r"medmnist/breastmnist.npz +ok", res.stdout)
    res = _cli("download", "pneumonia", env_dir=tmp_path)
    assert res.returncode == 1 and "Did you mean 'pneumoniamnist'" in res.stderr


def test_import_helpers_is_fast_and_does_not_load_tensorflow():
    code = ("import time; t=time.perf_counter(); "
            "import helpers, helpers.data, helpers.plots, helpers.imaging, helpers.simulate, helpers.models; "
            "import sys; print(time.perf_counter()-t, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert float(out[0]) < 1.0 and out[1] == "False"


# ================================================================ shipped MedMNIST files (issue 14, item 1)
ROOT = Path(data.__file__).resolve().parent.parent
SHIPPED = {  # dataset -> class counts (train, val, test) from the MedMNIST files themselves
    "pneumoniamnist": ([1214, 3494], [135, 389], [234, 390]),
    "breastmnist": ([147, 399], [21, 57], [42, 114]),
    "adrenalmnist3d": ([929, 259], [76, 22], [229, 69]),
}


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to open a URL."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError(f"the network was used: {args[:1]}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize("flag", sorted(SHIPPED))
def test_shipped_file_is_the_official_one_with_its_card(flag):
    e = data.REGISTRY[flag]
    path = ROOT / "data" / e["shipped"]
    assert e["shipped"] == f"medmnist/{flag}.npz" and data.shipped_path(flag) == path
    assert data.md5sum(path) == e["md5"]["28"]
    with np.load(path, allow_pickle=False) as f:
        for split, counts in zip(data.SPLITS, SHIPPED[flag]):
            labels = f[f"{split}_labels"].ravel()
            assert np.bincount(labels).tolist() == counts == e["class_counts"][split]
            assert len(labels) == e["splits"][split] and f[f"{split}_images"].dtype == np.uint8
            assert f[f"{split}_images"].shape[1:] == (28,) * e["ndim"]
    assert e["licence"] == "CC BY 4.0" and "Scientific Data" in e["citation"]


def test_shipped_sets_load_offline_without_touching_the_network(data_dir, no_network, monkeypatch):
    monkeypatch.setenv(data.OFFLINE_VAR, "1")
    ds = data.load("adrenalmnist3d", "test")
    assert ds.x.shape == (298, 28, 28, 28) and ds.info.label_names == ("normal", "hyperplasia")
    breast = data.load("breastmnist", "val")
    assert len(breast) == 78 and breast.info.label_names[0] == "malignant" and breast.info.positive_label == 0
    assert data.download("pneumoniamnist") == ROOT / "data" / "medmnist" / "pneumoniamnist.npz"
    assert not data_dir.exists() or not any(data_dir.iterdir())   # nothing copied into the cache


def test_registry_states_the_medmnist_citation_once_and_published_rows_as_data():
    raw = json.loads((ROOT / "helpers" / "registry.json").read_text(encoding="utf-8"))
    medmnist = [e for e in raw["datasets"].values() if e["kind"] == "medmnist"]
    assert all(e["citation"] == "medmnist" for e in medmnist)
    assert "Scientific Data 10, 41" in raw["citations"]["medmnist"]
    pneumonia = {r["method"]: (r["auc"], r["acc"]) for r in data.published_results("pneumoniamnist")}
    assert pneumonia == {"ResNet-18 (28)": (0.944, 0.854), "ResNet-18 (224)": (0.956, 0.864),
                         "ResNet-50 (28)": (0.948, 0.854), "ResNet-50 (224)": (0.962, 0.884),
                         "auto-sklearn": (0.942, 0.855), "AutoKeras": (0.947, 0.878),
                         "Google AutoML Vision": (0.991, 0.946)}
    breast = data.published_results("breastmnist")
    assert {r["method"]: (r["auc"], r["acc"]) for r in breast if r["verified"]} == {
        "ResNet-18 (28)": (0.901, 0.863), "Google AutoML Vision": (0.919, 0.861)}
    assert all(r["verified"] for r in breast)          # unverified cells are left out
    assert data.published_results("adrenalmnist3d") == [] and data.published_results("nodulemnist3d") == []


def test_groups_cover_every_set_the_notebooks_use():
    used = set()
    for src in (ROOT / "notebooks" / "src").glob("*.py"):
        used |= set(re.findall(r"""(?:try_)?load\(\s*["']([a-z0-9]+)["']""", src.read_text(encoding="utf-8")))
    downloaded = {n for n in used if data.REGISTRY[n]["kind"] == "medmnist"}
    assert downloaded <= set(data.group("course")), downloaded - set(data.group("course"))
    assert "nodulemnist3d" in data.group("course") and set(data.group("all")) >= set(data.group("course"))
    with pytest.raises(data.UnknownDatasetError, match="course"):
        data.group("nope")


def test_data_cards_for_the_shipped_sets_and_no_unverified_nodule_row():
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for flag in SHIPPED:
        assert f"`{flag}`" in text
    card = text[text.index("### `breastmnist`"):]
    card = card[:card.index("\n### ")]
    assert "0 = malignant" in card and "CC BY 4.0" in card and "147" in card
    assert "0.915" not in text and "0.908" not in text  # the unverified NoduleMNIST3D row is gone
    assert "hyperplasia" in text and "by patient" in text


def test_gitignore_tracks_the_shipped_files_and_ignores_downloads():
    import shutil

    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")

    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0

    for flag in SHIPPED:
        assert not ignored(f"data/medmnist/{flag}.npz"), f"data/medmnist/{flag}.npz would not be committed"
    for path in ("data/bloodmnist.npz", "data/pneumoniamnist.npz", "data/simulated/x.npz", "data/.x.npz.h-1.a.part",
                 "data/medmnist/bloodmnist.npz", "data/.unpack.h-1.abc.part/x.npz"):
        assert ignored(path), f"{path} should be ignored"


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """A copy of the repository's data/ folder with the shipped files, as SHIPPED_DIR."""
    import shutil

    folder = tmp_path / "repo-data"
    shutil.copytree(ROOT / "data" / "medmnist", folder / "medmnist")
    monkeypatch.setattr(data, "SHIPPED_DIR", folder)
    return folder


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_a_damaged_shipped_file_offline_is_one_sentence(data_dir, shipped_copy, damage, capsys, monkeypatch):
    path = shipped_copy / "medmnist" / "breastmnist.npz"
    if damage == "delete":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[:1000])
    assert data.try_load("breastmnist", "test", base_url="http://127.0.0.1:9") is None
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and "shipped with the course" in out.out and str(data_dir) in out.out
    assert "git checkout -- data/medmnist/breastmnist.npz" in out.out and out.err == ""   # one sentence in all
    monkeypatch.setenv(data.OFFLINE_VAR, "1")
    with pytest.raises(data.OfflineError, match="COURSE_OFFLINE"):
        data.load("breastmnist")
    assert data.main(["verify"]) == 1
    assert ("missing" if damage == "delete" else "CORRUPT") in capsys.readouterr().out


def test_a_damaged_shipped_file_is_downloaded_into_the_cache_when_online(data_dir, shipped_copy, tmp_path,
                                                                          http_server, capsys):
    import shutil

    shutil.copy(ROOT / "data" / "medmnist" / "breastmnist.npz", tmp_path / "served" / "breastmnist.npz")
    (shipped_copy / "medmnist" / "breastmnist.npz").unlink()
    ds = data.load("breastmnist", "train", base_url=http_server)
    assert len(ds) == 546 and (data_dir / "breastmnist.npz").is_file()
    assert "shipped with the course" in capsys.readouterr().err
    assert data.download("breastmnist", base_url="http://127.0.0.1:9") == data_dir / "breastmnist.npz"  # cached now


# ================================================================ issue 17
# ---- item 6: files readable by others (respecting umask)
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_downloaded_and_generated_files_respect_the_umask(data_dir, fake_pneumonia, http_server, monkeypatch,
                                                          umask, mode):
    import helpers.simulate

    def tiny(cfg):
        z = np.zeros((2, 28, 28), np.uint8)
        return {f"{s}_{k}": v for s in data.SPLITS for k, v in
                (("images", z), ("labels", np.zeros(2, np.int64)), ("patients", np.arange(2)),
                 ("lesion_centers", np.zeros((2, 2))), ("lesion_radii", np.zeros(2)),
                 ("lesion_contrasts", np.zeros(2)))}

    monkeypatch.setattr(helpers.simulate, "generate", tiny)
    old = os.umask(umask)
    try:
        path = data.download("pneumoniamnist", base_url=http_server, progress=False)
        sim = data._simulated("simlesion2d", 28, 0)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode
    assert sim.stat().st_mode & 0o777 == mode and sim.parent == data_dir / "simulated"


# ---- item 7: every failure is the course's own one-line error
def _one_line(text: str) -> bool:
    return text.strip().count("\n") == 0 and "Traceback" not in text and text.strip() != ""


def test_a_folder_named_like_the_file(data_dir, capsys):
    (data_dir / "bloodmnist.npz").mkdir(parents=True)
    with pytest.raises(data.FileAccessError, match="a folder, not a file"):
        data.load("bloodmnist")
    assert data.try_load("bloodmnist") is None and _one_line(capsys.readouterr().out)
    assert data.verify()["bloodmnist.npz"].startswith("UNREADABLE")
    assert data.main(["download", "bloodmnist"]) == 1 and _one_line(capsys.readouterr().err)
    with pytest.raises(data.FileAccessError, match="folder"):
        data.check_npz(data_dir / "bloodmnist.npz")


def test_permission_errors(data_dir, fake_pneumonia, http_server, monkeypatch, capsys):
    data.download("pneumoniamnist", base_url=http_server, progress=False)

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data, "md5sum", denied)
    with pytest.raises(data.FileAccessError, match="Permission denied"):
        data.load("pneumoniamnist")
    assert data.try_load("pneumoniamnist") is None and _one_line(capsys.readouterr().out)
    assert data.verify()["pneumoniamnist.npz"] == "UNREADABLE (Permission denied)"
    monkeypatch.undo()
    monkeypatch.setenv(data.ENV_VAR, str(data_dir))
    monkeypatch.setitem(data.REGISTRY, "pneumoniamnist", dict(data.REGISTRY["pneumoniamnist"],
                                                              md5={"28": data.md5sum(fake_pneumonia)}, shipped=None))
    monkeypatch.setattr(np, "load", denied)
    with pytest.raises(data.FileAccessError, match="Cannot read"):
        data.load("pneumoniamnist")


@pytest.mark.parametrize("reply, kind", [
    (b"garbage\r\n\r\n", "BadStatusLine"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc", "IncompleteRead"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a few bytes", "of 1000 bytes"),
    (b"", "RemoteDisconnected"),
])
def test_http_protocol_errors_are_one_sentence(data_dir, scripted_server, capsys, reply, kind):
    base = scripted_server(reply)
    with pytest.raises(data.DataError) as err:
        data.download("bloodmnist", base_url=base, progress=False)
    assert "\n" not in str(err.value) and "bloodmnist.npz" in str(err.value)
    assert data.try_load("bloodmnist", base_url=base) is None and _one_line(capsys.readouterr().out)
    assert not list(data_dir.glob(".*.part"))


def test_invalid_url_is_one_sentence(data_dir, capsys):
    with pytest.raises(data.DownloadError, match="InvalidURL"):
        data.download("bloodmnist", base_url="http://127.0.0.1:port", progress=False)
    assert data.main(["download", "bloodmnist", "--base-url", "http://127.0.0.1:port"]) == 1
    assert _one_line(capsys.readouterr().err)


# ---- item 8: a deadline per file; partial files of killed runs
def test_a_trickling_server_meets_the_deadline(data_dir, trickling_server):
    t0 = time.perf_counter()
    with pytest.raises(data.DownloadError, match="took longer than 2 s"):
        data.download("bloodmnist", base_url=trickling_server, progress=False, timeout=5, deadline=2)
    assert time.perf_counter() - t0 < 6
    assert not list(data_dir.glob(".*.part"))


def test_download_all_against_a_silent_server_gives_up_at_once(tmp_path, silent_server):
    t0 = time.perf_counter()
    res = _cli("download", "all", "--base-url", silent_server, "--timeout", "1", env_dir=tmp_path)
    assert time.perf_counter() - t0 < 15
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    not_shipped = [n for n in data.group("all") if data.shipped_path(n) is None]
    assert len(lines) == len(not_shipped) and sum("skipped (the server did not answer" in ln for ln in lines) == \
        len(not_shipped) - 1
    assert all(f"{n}: ok" in res.stdout for n in SHIPPED)  # shipped sets need no server


def test_a_killed_download_leaves_a_part_file_that_verify_removes(data_dir, trickling_server):
    import signal

    data_dir.mkdir(parents=True)
    code = (f"from helpers import data; data.download('bloodmnist', base_url={trickling_server!r}, progress=False, "
            "deadline=100)")
    env = dict(os.environ, **{data.ENV_VAR: str(data_dir)})
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not list(data_dir.glob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    parts = list(data_dir.glob(".*.part"))
    assert len(parts) == 1 and data.stale_parts(data_dir) == parts
    assert "stale partial download" in _cli("list", env_dir=data_dir).stdout
    report = data.verify()
    assert report[parts[0].name] == "stale partial download, removed" and not parts[0].exists()


def test_stale_parts_by_writer_and_age(data_dir):
    data_dir.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = data._host()
    of_dead = data_dir / f".bloodmnist.npz.{host}-{dead.pid}.x1.part"
    of_me = data_dir / f".bloodmnist.npz.{host}-{os.getpid()}.x2.part"
    old = data_dir / ".dermamnist.npz.k3j4.part"                      # an older run's name: by age only
    young = data_dir / ".retinamnist.npz.k3j5.part"
    for p in (of_dead, of_me, old, young):
        p.write_bytes(b"partial")
    os.utime(old, (time.time() - 2 * data.STALE_PART_S,) * 2)
    assert data.stale_parts(data_dir) == sorted([of_dead, old])
    assert data.clean_stale_parts(data_dir) == sorted([of_dead, old])
    assert of_me.exists() and young.exists()


# ---- item 9: a damaged .npz is refused in one sentence before anything slow
def _npz(path: Path) -> Path:
    return make_medmnist_npz(path, n=(8, 4, 4))


@pytest.mark.parametrize("damage, message", [
    ("empty", "is empty"), ("truncate", "truncated or damaged"), ("crc", "fails its CRC check"),
    ("keys", "lacks the arrays"), ("text", "not a readable .npz"),
])
def test_check_npz(tmp_path, damage, message):
    path = _npz(tmp_path / "x.npz")
    assert data.check_npz(path) == path
    raw = bytearray(path.read_bytes())
    if damage == "empty":
        raw = b""
    elif damage == "truncate":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "crc":
        raw[200] ^= 0xFF  # inside the first (stored, uncompressed) array
    elif damage == "text":
        raw = b"not a zip at all"
    if damage == "keys":
        np.savez(path, images=np.zeros(3, np.uint8))
    else:
        path.write_bytes(bytes(raw))
    with pytest.raises(data.CorruptFileError, match=message) as err:
        data.check_npz(path)
    assert "\n" not in str(err.value)
    with pytest.raises(data.FileAccessError, match="No file"):
        data.check_npz(tmp_path / "missing.npz")


@pytest.mark.parametrize("damage", ["empty", "crc"])
def test_train_command_refuses_a_damaged_npz_before_loading_tensorflow(tmp_path, damage):
    path = _npz(tmp_path / "bad.npz")
    raw = bytearray(path.read_bytes())
    if damage == "empty":
        raw = b""
    else:
        raw[200] ^= 0xFF
    path.write_bytes(bytes(raw))
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "helpers.train", str(path)], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert time.perf_counter() - t0 < 8, "TensorFlow was imported before the file was checked"
    assert res.returncode == 1 and _one_line(res.stderr) and res.stderr.startswith("error: ")


# ---- item 12: online side effects are opt-in
def test_course_offline_never_tries_the_network(data_dir, no_network, monkeypatch, capsys):
    monkeypatch.setenv(data.OFFLINE_VAR, "1")
    with pytest.raises(data.OfflineError, match="COURSE_OFFLINE is set"):
        data.download("nodulemnist3d")
    assert data.try_load("nodulemnist3d") is None and _one_line(capsys.readouterr().out)
    assert data.main(["download", "course"]) == 1
    out = capsys.readouterr()
    assert "pneumoniamnist: ok" in out.out and out.err.count("COURSE_OFFLINE") >= 1
    assert "Traceback" not in out.err


def test_cifar10_is_opt_in(monkeypatch, tmp_path, capsys):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the network was tried without COURSE_CIFAR10")

    monkeypatch.delenv("COURSE_CIFAR10", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert data.try_cifar10() is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "COURSE_CIFAR10=1" in out
    monkeypatch.setenv("COURSE_CIFAR10", "1")
    monkeypatch.setenv(data.OFFLINE_VAR, "1")
    assert data.try_cifar10() is None and "COURSE_OFFLINE" in capsys.readouterr().out


def test_sigterm_during_a_download_leaves_no_part_file(data_dir, trickling_server):
    import signal

    data_dir.mkdir(parents=True)
    env = dict(os.environ, **{data.ENV_VAR: str(data_dir)})
    proc = subprocess.Popen([sys.executable, "-m", "helpers.data", "download", "bloodmnist", "--base-url",
                             trickling_server, "--deadline", "100"], env=env, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not list(data_dir.glob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(data_dir.glob(".*.part"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not list(data_dir.glob(".*.part"))


# ---------------------------------------------------------------- arrays, the reader, CIFAR-10 (from test_train)
def test_as_images_and_labels():
    assert data.as_images(np.zeros((2, 28, 28), np.uint8)).shape == (2, 28, 28, 1)
    assert data.as_images(np.zeros((2, 28, 28, 3), np.uint8)).dtype == np.float32
    assert data.as_labels(np.array([[1], [0]], np.uint8)).tolist() == [1, 0]
    with pytest.raises(ValueError, match="3D volumes"):
        data.as_images(np.zeros((2, 28, 28, 28), np.uint8))
    with pytest.raises(TypeError, match="numbers"):
        data.as_images(np.zeros((2, 28, 28), dtype=object))
    with pytest.raises(ValueError, match="multi-label"):
        data.as_labels(np.zeros((4, 14), np.uint8))


def test_as_images_shapes_for_plots_and_scores():
    grey = data.as_images(np.zeros((2, 8, 8, 1), np.uint8), channel_axis=False, dtype=None)
    assert grey.shape == (2, 8, 8) and grey.dtype == np.uint8
    assert data.as_images(np.zeros((2, 8, 8, 3)), channel_axis=False).shape == (2, 8, 8, 3)
    assert data.as_images(np.zeros((2, 8, 8)), channel_axis=False, dtype="float64", grey=True).dtype == np.float64
    with pytest.raises(ValueError, match="grey images"):
        data.as_images(np.zeros((2, 8, 8, 3)), grey=True)
    with pytest.raises(ValueError, match="empty"):
        data.as_images(np.zeros((0, 8, 8)))


def test_read_npz_refuses_wrong_files(tmp_path):
    with pytest.raises(data.FileAccessError, match="No file"):
        data.read_npz(tmp_path / "nothing.npz")
    np.savez(tmp_path / "bad.npz", train_images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(data.CorruptFileError, match="MedMNIST-format"):
        data.read_npz(tmp_path / "bad.npz")
    assert data.read_npz(tmp_path / "bad.npz", ["train_images"])["train_images"].shape == (2, 28, 28)


def test_try_cifar10_offline_is_one_quiet_line(monkeypatch, tmp_path, capsys):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert data.try_cifar10(timeout=1) is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("[cifar10]")


def test_flips_are_registry_facts():
    """The flips per set live in the registry (each entry's "flips", "other_flips" for unregistered sets)."""
    raw = json.loads((Path(data.__file__).with_name("registry.json")).read_text(encoding="utf-8"))
    assert data.FLIPS["pneumoniamnist"] == raw["datasets"]["pneumoniamnist"]["flips"] == "horizontal"
    assert data.FLIPS["chestmnist"] == raw["other_flips"]["chestmnist"] == "horizontal"
    assert "nodulemnist3d" not in data.FLIPS   # a 3D set: no flips by default
