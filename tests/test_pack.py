"""The instructor's data pack: pack → unpack into a fresh cache → verify; damaged archives change nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fake_medmnist import make_medmnist_npz, use_stand_in
from helpers import data, pack

FAKE = {  # dataset -> image shape of its small MedMNIST-format stand-in
    "pneumoniamnist": (28, 28),
    "bloodmnist": (28, 28, 3),
    "nodulemnist3d": (28, 28, 28),
}


@pytest.fixture
def cache_with_files(data_dir, monkeypatch):
    """A private cache holding three small MedMNIST-format files; the registry's MD5s are patched to match."""
    data_dir.mkdir(parents=True)
    for seed, (name, shape) in enumerate(FAKE.items()):
        path = make_medmnist_npz(data_dir / data.REGISTRY[name]["file"], n=(12, 4, 4), shape=shape, seed=seed)
        use_stand_in(monkeypatch, name, path)
    for name, entry in list(data.REGISTRY.items()):  # no other file can be "present"
        if entry["kind"] == "medmnist" and name not in FAKE:
            monkeypatch.setitem(data.REGISTRY, name, dict(entry, md5={"28": "0" * 32}))
    return data_dir


@pytest.fixture
def packed(cache_with_files, tmp_path):
    archive = tmp_path / "usb" / "pack.zip"
    pack.create(archive)
    return archive


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """A new, empty COURSE_DATA_DIR: a learner's laptop."""
    folder = tmp_path / "laptop"
    monkeypatch.setenv(data.ENV_VAR, str(folder))
    return folder


def _state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.exists() else {}


def _assert_nothing_left(folder: Path, before: dict[str, bytes]) -> None:
    assert _state(folder) == before
    assert not list(folder.glob(".unpack*")) if folder.exists() else True


# ---------------------------------------------------------------- round trip
def test_round_trip(packed, cache_with_files, fresh_cache):
    originals = {p.name: p.read_bytes() for p in cache_with_files.glob("*.npz")}
    members = {m.file: m for m in pack.verify(packed)}
    assert set(members) == set(originals)
    report = pack.unpack(packed)
    assert report == {f: "installed" for f in originals}
    assert {p.name: p.read_bytes() for p in fresh_cache.glob("*.npz")} == originals
    status = data.verify()
    assert all(status[f] == "ok" for f in originals)
    ds = data.load("bloodmnist", "train")                  # the notebooks' loader reads them
    assert ds.x.shape == (12, 28, 28, 3) and ds.x.dtype == np.uint8
    assert pack.unpack(packed) == {f: "already there" for f in originals}
    assert not list(fresh_cache.glob(".unpack*"))


def test_archive_content_and_determinism(packed, cache_with_files, tmp_path):
    with zipfile.ZipFile(packed) as zf:
        manifest = json.loads(zf.read(pack.MANIFEST))
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    assert manifest["format"] == pack.FORMAT and len(manifest["files"]) == 3
    row = next(r for r in manifest["files"] if r["dataset"] == "pneumoniamnist")
    assert row["md5"] == data.REGISTRY["pneumoniamnist"]["md5"]["28"] and row["size"] == 28
    assert row["bytes"] == (cache_with_files / "pneumoniamnist.npz").stat().st_size
    again = tmp_path / "again.zip"
    pack.create(again)
    assert again.read_bytes() == packed.read_bytes()        # same files, same archive
    assert not list(packed.parent.glob("*.part"))


def test_create_selected_names(cache_with_files, tmp_path):
    members = pack.create(tmp_path / "two.zip", ["pneumoniamnist", "NoduleMNIST3D"])
    assert [m.dataset for m in members] == ["pneumoniamnist", "nodulemnist3d"]


def test_create_errors(cache_with_files, tmp_path):
    with pytest.raises(data.UnknownDatasetError, match="pneumoniamnist"):
        pack.create(tmp_path / "x.zip", ["pneumonia"])
    with pytest.raises(pack.PackError, match="download dermamnist"):
        pack.create(tmp_path / "x.zip", ["dermamnist"])
    with pytest.raises(pack.PackError, match="generated"):
        pack.create(tmp_path / "x.zip", ["simlesion2d"])
    bad = cache_with_files / "bloodmnist.npz"
    bad.write_bytes(bad.read_bytes()[:-10])                 # a partial download
    with pytest.raises(data.CorruptFileError, match="bloodmnist.npz is partial or corrupt"):
        pack.create(tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists() and not list(tmp_path.glob(".x.zip*"))


def test_create_with_empty_cache(data_dir, tmp_path, monkeypatch):
    data_dir.mkdir()
    with pytest.raises(pack.PackError, match="No MedMNIST file"):
        pack.create(tmp_path / "x.zip")


# ---------------------------------------------------------------- damaged archives
def test_truncated_archive_changes_nothing(packed, fresh_cache, tmp_path):
    blob = packed.read_bytes()
    before = _state(fresh_cache)
    for keep in (0, 10, len(blob) // 3, len(blob) // 2, len(blob) - 30, len(blob) - 1):
        cut = tmp_path / f"cut{keep}.zip"
        cut.write_bytes(blob[:keep])
        with pytest.raises(pack.CorruptArchiveError, match="corrupt or incomplete.*nothing was unpacked"):
            pack.unpack(cut)
        with pytest.raises(pack.CorruptArchiveError):
            pack.verify(cut)
        _assert_nothing_left(fresh_cache, before)


def test_flipped_byte_in_a_member_is_caught(packed, fresh_cache, tmp_path):
    with zipfile.ZipFile(packed) as zf:
        info = zf.getinfo("bloodmnist.npz")
    blob = bytearray(packed.read_bytes())
    # local header is 30 bytes + name + extra; flip a byte in the middle of the stored data
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.file_size // 2
    blob[offset] ^= 0xFF
    bad = tmp_path / "flipped.zip"
    bad.write_bytes(bytes(blob))
    before = _state(fresh_cache)
    with pytest.raises(pack.CorruptArchiveError, match="bloodmnist.npz"):
        pack.unpack(bad)
    _assert_nothing_left(fresh_cache, before)


def test_every_flipped_byte_is_caught_or_harmless(packed, fresh_cache, tmp_path):
    """Flip bytes all over the archive: unpack either refuses (PackError) or installs only right files."""
    blob = packed.read_bytes()
    expected = {m.file: m.md5 for m in pack.verify(packed)}
    positions = sorted(set(np.linspace(0, len(blob) - 1, 60).astype(int).tolist()) | set(range(len(blob) - 200,
                                                                                                  len(blob), 7)))
    refused = 0
    for pos in positions:
        bad = tmp_path / "bad.zip"
        damaged = bytearray(blob)
        damaged[pos] ^= 0x5A
        bad.write_bytes(bytes(damaged))
        for f in fresh_cache.glob("*.npz"):
            f.unlink()
        try:
            pack.unpack(bad)
        except pack.PackError:
            refused += 1
            assert not list(fresh_cache.glob("*.npz")), f"flip at {pos}: a file was installed from a refused archive"
        else:
            assert {f.name: data.md5sum(f) for f in fresh_cache.glob("*.npz")} == expected, f"flip at {pos}"
        assert not list(fresh_cache.glob(".unpack*"))
    assert refused > len(positions) // 2


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy the archive member by member; ``change(name, bytes)`` returns new (name, bytes) or None to drop."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            out = change(info.filename, zin.read(info.filename))
            if out is not None:
                zout.writestr(out[0], out[1])


def test_member_with_wrong_content_but_valid_zip_is_caught(packed, fresh_cache, tmp_path):
    bad = tmp_path / "swapped.zip"   # CRCs are right (zipfile computes them), only the MD5 check can tell
    _rewrite(packed, bad, lambda n, b: (n, b[:-1] + bytes([b[-1] ^ 1])) if n == "pneumoniamnist.npz" else (n, b))
    with pytest.raises(pack.CorruptArchiveError, match="pneumoniamnist.npz has .* MD5"):
        pack.unpack(bad)
    assert not list(fresh_cache.glob("*.npz"))


def test_manifest_problems(packed, fresh_cache, tmp_path):
    cases = {
        "no_manifest.zip": (lambda n, b: None if n == pack.MANIFEST else (n, b), pack.CorruptArchiveError, "MANIFEST"),
        "extra.zip": (lambda n, b: (n, b) if n != "bloodmnist.npz" else ("bloodmnist_copy.npz", b),
                      pack.CorruptArchiveError, "not both listed and present"),
        "other_md5.zip": (_manifest_change(lambda m: m["files"][0].update(md5="f" * 32)), pack.PackError,
                          "other than the one the course expects"),
        "newer.zip": (_manifest_change(lambda m: m.update(version=99)), pack.PackError, "newer version"),
        "garbage.zip": (lambda n, b: (n, b"{not json") if n == pack.MANIFEST else (n, b), pack.CorruptArchiveError,
                        "JSONDecodeError"),
    }
    for fname, (change, exc, message) in cases.items():
        bad = tmp_path / fname
        _rewrite(packed, bad, change)
        with pytest.raises(exc, match=message):
            pack.unpack(bad)
    assert not list(fresh_cache.glob("*.npz"))


def test_paths_outside_the_cache_are_refused(packed, fresh_cache, tmp_path):
    def change(name, blob):
        if name == "bloodmnist.npz":
            return "../evil.npz", blob
        if name == pack.MANIFEST:
            m = json.loads(blob)
            for row in m["files"]:
                row["file"] = "../evil.npz" if row["file"] == "bloodmnist.npz" else row["file"]
            return name, json.dumps(m)
        return name, blob

    bad = tmp_path / "evil.zip"
    _rewrite(packed, bad, change)
    with pytest.raises(pack.PackError, match="not a MedMNIST file of this course"):
        pack.unpack(bad)
    assert not (tmp_path / "evil.npz").exists() and not list(fresh_cache.glob("*.npz"))


def test_corrupt_file_already_in_the_cache_is_replaced(packed, fresh_cache):
    fresh_cache.mkdir()
    (fresh_cache / "pneumoniamnist.npz").write_bytes(b"partial")
    assert pack.unpack(packed)["pneumoniamnist.npz"] == "installed"
    assert data.verify()["pneumoniamnist.npz"] == "ok"


# ---------------------------------------------------------------- command line
def test_cli(packed, cache_with_files, fresh_cache, tmp_path, capsys):
    assert pack.main(["verify", str(packed)]) == 0 and "ok, 3 files" in capsys.readouterr().out
    assert pack.main(["unpack", str(packed)]) == 0 and "3 files verified" in capsys.readouterr().out
    cut = tmp_path / "cut.zip"
    cut.write_bytes(packed.read_bytes()[:100])
    assert pack.main(["unpack", str(cut)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert pack.main(["create", str(tmp_path / "again.zip"), "--names", "pneumoniamnist"]) == 0
    assert "1 files" in capsys.readouterr().out


def test_module_entry_point_reports_one_line(tmp_path):
    env = dict(os.environ, **{data.ENV_VAR: str(tmp_path / "cache")})
    proc = subprocess.run([sys.executable, "-m", "helpers.pack", "unpack", str(tmp_path / "missing.zip")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "missing.zip does not exist" in proc.stderr


# ---------------------------------------------------------------- issue 14 and 17
def test_shipped_sets_are_not_packed(data_dir, tmp_path):
    """The real registry: the shipped files are in every copy of the course, so a pack need not carry them."""
    import shutil

    data_dir.mkdir()
    for name in ("pneumoniamnist", "breastmnist"):
        shutil.copy(data.shipped_path(name), data_dir / data.REGISTRY[name]["file"])  # a cache holding them too
    with pytest.raises(pack.PackError, match="No MedMNIST file"):
        pack.create(tmp_path / "x.zip")
    with pytest.raises(pack.PackError, match="ships with the course"):
        pack.create(tmp_path / "x.zip", ["breastmnist"])


def test_files_written_are_readable_by_others(packed, fresh_cache):
    old = os.umask(0o022)
    try:
        pack.unpack(packed)
    finally:
        os.umask(old)
    assert packed.stat().st_mode & 0o777 == 0o644
    assert {p.stat().st_mode & 0o777 for p in fresh_cache.glob("*.npz")} == {0o644}


def _manifest_change(fn):
    """A change for ``_rewrite`` that applies ``fn`` to the manifest (a dict) and keeps every other member."""
    def change(name, blob):
        if name != pack.MANIFEST:
            return name, blob
        manifest = json.loads(blob)
        fn(manifest)
        return name, json.dumps(manifest)
    return change


def _edit_manifest(packed: Path, dst: Path, fn) -> Path:
    _rewrite(packed, dst, _manifest_change(fn))
    return dst


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["files"][0].update(bytes="123"), "'bytes' of files\\[0\\] is text \\('123'\\), not a whole number"),
    (lambda m: m.update(version="2"), "'version' is text \\('2'\\), not a whole number"),
    (lambda m: m["files"][0].update(file=["a", "b"]), "'file' of files\\[0\\] is a list"),
    (lambda m: m["files"][0].update(size=True), "'size' of files\\[0\\] is true/false"),
    (lambda m: m["files"][0].update(bytes=-5), "negative"),
    (lambda m: m["files"][0].pop("md5"), "has no 'md5'"),
    (lambda m: m.update(files={"x": 1}), "'files' is an object, not a list"),
    (lambda m: m["files"].append(7), "files\\[3\\] is a whole number, not an object"),
])
def test_manifest_field_types_are_checked(packed, fresh_cache, tmp_path, edit, message):
    bad = _edit_manifest(packed, tmp_path / "bad.zip", edit)
    with pytest.raises(pack.CorruptArchiveError, match=message) as err:
        pack.unpack(bad)
    assert "\n" not in str(err.value)
    assert pack.main(["verify", str(bad)]) == 1
    assert not list(fresh_cache.glob("*.npz"))


def test_a_member_larger_than_declared_is_stopped_at_its_declared_size(packed, fresh_cache, tmp_path, monkeypatch):
    big = b"\0" * (8 << 20)   # 8 MB of zeros where the manifest declares a few kB

    def change(name, blob):
        if name == "bloodmnist.npz":
            return name, big
        return name, blob

    bad = tmp_path / "big.zip"
    with zipfile.ZipFile(packed) as zin, zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(*change(info.filename, zin.read(info.filename)))
    written = []
    real_open = open

    def spy_open(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if "w" in mode:
            written.append(Path(path))
        return f

    sizes = {}
    real_extract = pack._extract_verified

    def measure(zf, archive, m, target):
        try:
            real_extract(zf, archive, m, target)
        finally:
            sizes[m.file] = target.stat().st_size if target.exists() else 0

    monkeypatch.setattr(pack, "open", spy_open, raising=False)
    monkeypatch.setattr(pack, "_extract_verified", measure)
    declared = {m.file: m.bytes for m in pack.read_manifest(zipfile.ZipFile(bad), bad)}
    with pytest.raises(pack.CorruptArchiveError, match="larger than the .* bytes its manifest declares"):
        pack.unpack(bad)
    assert sizes["bloodmnist.npz"] <= declared["bloodmnist.npz"]
    assert not list(fresh_cache.glob("*.npz")) and not list(fresh_cache.glob(".unpack*"))


def test_a_full_disk_during_unpack_is_the_packs_own_error(packed, fresh_cache, monkeypatch):
    import errno

    real_open = open

    class FullDisk:
        def __init__(self, f):
            self.f = f

        def write(self, block):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(pack, "open", lambda path, mode="r", *a, **k: FullDisk(real_open(path, mode, *a, **k)),
                        raising=False)
    with pytest.raises(pack.PackError, match="No space left on device.*nothing was installed"):
        pack.unpack(packed)
    assert pack.main(["unpack", str(packed)]) == 1
    assert not list(fresh_cache.glob("*.npz")) and not list(fresh_cache.glob(".unpack*"))


def test_an_interrupted_unpack_is_cleaned_up_next_time(packed, fresh_cache):
    fresh_cache.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = fresh_cache / f".unpack.{data._host()}-{dead.pid}.abcd1234.part"
    left.mkdir()
    (left / "bloodmnist.npz").write_bytes(b"half")
    assert data.stale_parts(fresh_cache) == [left]
    pack.unpack(packed)
    assert not left.exists()


def test_the_course_group_packs_what_the_notebooks_need_beyond_the_shipped_sets(cache_with_files, tmp_path,
                                                                                monkeypatch):
    monkeypatch.setitem(data.GROUPS, "course", ["pneumoniamnist", "breastmnist", "nodulemnist3d"])
    monkeypatch.setitem(data.REGISTRY, "breastmnist", dict(data.REGISTRY["breastmnist"]))  # shipped: skipped
    members = pack.create(tmp_path / "course.zip", ["course"])
    assert [m.dataset for m in members] == ["pneumoniamnist", "nodulemnist3d"]


def test_a_folder_in_place_of_a_file_is_one_line(packed, fresh_cache, tmp_path, capsys):
    (fresh_cache / "pneumoniamnist.npz").mkdir(parents=True)       # the last member: nothing may move first
    with pytest.raises(pack.PackError, match="is a folder, not a file"):
        pack.unpack(packed)
    assert [p.name for p in fresh_cache.iterdir()] == ["pneumoniamnist.npz"]    # nothing installed, nothing left
    assert pack.main(["verify", str(tmp_path)]) == 1                   # a folder given as the archive
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
