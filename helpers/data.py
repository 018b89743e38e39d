"""Datasets of the course: one registry, one ``load`` function, one cache folder.

>>> from helpers import data
>>> ds = data.load("simlesion2d", split="train")      # simulated, works offline
>>> ds.x.shape, ds.y.shape, ds.info.simulated
((4200, 28, 28), (4200,), True)

Real MedMNIST files are downloaded once into the cache folder (``data/`` in the
repository, or the folder named by the environment variable ``COURSE_DATA_DIR``),
checked against their MD5 on every load, and never unpickled.

Command line (for instructors)::

    python -m helpers.data list
    python -m helpers.data download pneumoniamnist bloodmnist
    python -m helpers.data verify
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "COURSE_DATA_DIR"
REGISTRY: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).with_name("registry.json")).read_text(encoding="utf-8")
)
SPLITS = ("train", "val", "test")
DOWNLOAD_TIMEOUT_S = 8.0


# ---------------------------------------------------------------- errors
class DataError(Exception):
    """Base class of every data error of the course; its message says what to do."""


class UnknownDatasetError(DataError, KeyError):
    """The dataset name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownSplitError(DataError, ValueError):
    """The split is not one the dataset has."""


class UnknownSizeError(DataError, ValueError):
    """The image size is not one the registry knows (and can verify) for the dataset."""


class DownloadError(DataError, OSError):
    """A file could not be downloaded (offline, server down, wrong address)."""


class CorruptFileError(DataError, OSError):
    """A file is partial, corrupt or has the wrong checksum."""


class CacheDirError(DataError, OSError):
    """The cache folder cannot be created or written."""


# ---------------------------------------------------------------- records
@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is: its registry entry, with the fields most used as attributes."""

    name: str
    title: str
    task: str
    label_names: tuple[str, ...]
    licence: str
    citation: str
    source: str
    simulated: bool
    positive_label: int | None
    notes: str
    entry: dict[str, Any] = field(repr=False)

    def __str__(self) -> str:
        sim = "SIMULATED. " if self.simulated else ""
        labels = ", ".join(f"{i} = {n}" for i, n in enumerate(self.label_names))
        return f"{self.title}\n  {sim}task: {self.task}; labels: {labels}\n  licence: {self.licence}\n  {self.notes}".rstrip()


@dataclass
class Dataset:
    """One split of a dataset.

    ``x``: images ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, D, H, W)`` as uint8, or features ``(N, F)``.
    ``y``: integer labels ``(N,)``. ``extras``: per-sample metadata of simulated sets
    (``patients``, ``lesion_centers``, ``lesion_radii``, ``lesion_contrasts``).
    """

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray
    info: DatasetInfo
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        sim = ", SIMULATED" if self.info.simulated else ""
        return f"Dataset({self.name!r}, split={self.split!r}, x={self.x.shape} {self.x.dtype}, y={self.y.shape}{sim})"


# ---------------------------------------------------------------- registry
def names() -> list[str]:
    """All dataset names in the registry."""
    return sorted(REGISTRY)


def _entry(name: str) -> dict[str, Any]:
    key = name.lower().strip() if isinstance(name, str) else name
    if key not in REGISTRY:
        close = difflib.get_close_matches(str(key), REGISTRY, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownDatasetError(f"Unknown dataset {name!r}.{hint} Known: {', '.join(names())}.")
    return REGISTRY[key]


def info(name: str) -> DatasetInfo:
    """The registry entry of ``name`` as a :class:`DatasetInfo`."""
    e = _entry(name)
    return DatasetInfo(
        name=name.lower().strip(), title=e["title"], task=e["task"], label_names=tuple(e["label_names"]),
        licence=e["licence"], citation=e["citation"], source=e["source"], simulated=bool(e["simulated"]),
        positive_label=e.get("positive_label"), notes=e.get("notes", ""), entry=e,
    )


# ---------------------------------------------------------------- cache
def cache_dir(create: bool = True) -> Path:
    """The data folder: ``$COURSE_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get(ENV_VAR)
    folder = Path(env).expanduser() if env else Path(__file__).resolve().parent.parent / "data"
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheDirError(
                f"Cannot create the data folder {folder} ({exc.strerror}); set {ENV_VAR} to a folder you can write."
            ) from None
    return folder


def md5sum(path: str | Path, chunk: int = 1 << 20) -> str:
    """MD5 hex digest of a file."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _file_name(name: str, size: int) -> str:
    e = _entry(name)
    stem = Path(e["file"]).stem
    return e["file"] if size == 28 else f"{stem}_{size}.npz"


def _check_size(name: str, size: int) -> None:
    e = _entry(name)
    known = sorted(int(s) for s in e.get("md5", {})) if e["kind"] == "medmnist" else e.get("sizes", [e.get("image_size")])
    if size not in known:
        raise UnknownSizeError(
            f"{name} has no registered size {size!r}; available: {', '.join(map(str, known))}"
            + (" (only sizes with a known checksum can be verified)." if e["kind"] == "medmnist" else ".")
        )


def url_of(name: str, size: int = 28, base_url: str | None = None) -> str:
    """Where a MedMNIST file is downloaded from (``base_url`` replaces the server, e.g. for tests)."""
    e = _entry(name)
    fname = _file_name(name, size)
    if base_url:
        return base_url.rstrip("/") + "/" + fname
    return e["url"].format(file=fname)


def path_of(name: str, size: int = 28) -> Path:
    """Where a dataset's file lives in the cache."""
    return cache_dir(create=False) / _file_name(name, size)


def _verify_file(path: Path, md5: str) -> None:
    """Raise :class:`CorruptFileError` unless ``path`` has checksum ``md5``."""
    got = md5sum(path)
    if got != md5:
        raise CorruptFileError(f"{path} is partial or corrupt (MD5 {got}, expected {md5}).")


def download(name: str, size: int = 28, base_url: str | None = None, progress: bool = True,
             timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download a MedMNIST file into the cache (if it is not there and valid already) and return its path.

    A cached file is verified first; a partial or corrupt one is removed and fetched again.
    The download goes to a temporary file that is renamed only once its MD5 is right.
    Raises :class:`DownloadError` with one actionable sentence when the file cannot be fetched.
    """
    e = _entry(name)
    if e["kind"] != "medmnist":
        raise DataError(f"{name} is not downloaded: it is {'generated' if e['simulated'] else 'shipped in a package'}; use load({name!r}).")
    _check_size(name, size)
    md5 = e["md5"][str(size)]
    folder = cache_dir()
    target = folder / _file_name(name, size)
    if target.exists():
        try:
            _verify_file(target, md5)
            return target
        except CorruptFileError as exc:
            print(f"{exc} Removing it and downloading it again.", file=sys.stderr)
            target.unlink()
    url = url_of(name, size, base_url)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out, timeout=timeout, progress=progress, label=target.name)
        _verify_file(tmp, md5)
        os.replace(tmp, target)
    except CorruptFileError:
        raise CorruptFileError(
            f"The download of {target.name} from {url} is corrupt (wrong MD5); nothing was kept. Try again, "
            f"or copy a good copy of the file into {folder}."
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"Could not download {target.name} from {url} ({reason}); when you are online run "
            f"`python -m helpers.data download {name}`, or copy the file into {folder}."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _fetch(url: str, out: Any, timeout: float, progress: bool, label: str) -> None:
    """Stream ``url`` into the open file ``out``, with a progress bar."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=label, leave=False)
        try:
            while block := resp.read(1 << 16):
                out.write(block)
                if bar is not None:
                    bar.update(len(block))
        finally:
            if bar is not None:
                bar.close()
        if total is not None and out.tell() != total:
            raise CorruptFileError(f"{label}: got {out.tell()} of {total} bytes")


# ---------------------------------------------------------------- loading
def _read_npz(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise CorruptFileError(f"{path} lacks the arrays {missing}; it is not a MedMNIST-format file. Delete it and load again.")
            return {k: f[k] for k in keys}
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise CorruptFileError(f"{path} cannot be read ({exc}); delete it and load again.") from None


def _simulated(name: str, size: int, seed: int) -> Path:
    """Generate (once) and cache a simulated set; return its path."""
    from .simulate import SimulationConfig, generate

    e = _entry(name)
    cfg = SimulationConfig(size=size, seed=seed, **e["config"])
    folder = cache_dir() / "simulated"
    folder.mkdir(exist_ok=True)
    target = folder / f"{name}_{size}_seed{seed}_{cfg.cache_key()}.npz"
    if target.exists():
        return target
    arrays = generate(cfg)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def _breast_cancer(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    if split == "all":
        return x, y
    sizes = _entry("breastcancer")["splits"]
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=sizes["test"], stratify=y, random_state=0)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=sizes["val"], stratify=y_rest, random_state=0)
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}[split]


def load(name: str, split: str = "train", size: int = 28, seed: int = 0, base_url: str | None = None) -> Dataset:
    """Load one split of a dataset of the registry.

    name: a registry name (see :func:`names`); MedMNIST sets are downloaded when missing.
    split: ``"train"``, ``"val"`` or ``"test"`` (``"all"`` too for ``breastcancer``).
    size: image side (28 for MedMNIST; 28 or 64 for ``simlesion2d``).
    seed: seed of a simulated set.
    """
    e = _entry(name)
    name = name.lower().strip()
    valid = list(e["splits"])
    if split not in valid:
        raise UnknownSplitError(f"{name} has no split {split!r}; use one of {', '.join(valid)}.")
    meta = info(name)
    if e["kind"] == "sklearn":
        x, y = _breast_cancer(split)
        return Dataset(name, split, x.astype(np.float64), y.astype(np.int64), meta)
    _check_size(name, size)
    if e["kind"] == "simulated":
        path = _simulated(name, size, seed)
        extras = ["patients", "lesion_centers", "lesion_radii", "lesion_contrasts"]
    else:
        path = download(name, size, base_url=base_url)
        extras = []
    arrays = _read_npz(path, [f"{split}_images", f"{split}_labels"] + [f"{split}_{k}" for k in extras])
    x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if x.dtype != np.uint8 or len(x) != len(y):
        raise CorruptFileError(f"{path}: {split} images are {x.dtype} {x.shape} with {len(y)} labels; expected uint8 with one label each.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return Dataset(name, split, x, y.astype(np.int64), meta, {k: arrays[f"{split}_{k}"] for k in extras})


def try_load(name: str, split: str = "train", **kwargs: Any) -> Dataset | None:
    """Like :func:`load`, but when the data can't be had, print the one-sentence reason and return ``None``.

    Notebooks use this for the real-data sections, so that they carry on offline.
    """
    try:
        return load(name, split, **kwargs)
    except DataError as exc:
        print(f"[{name}] {exc}")
        return None


def verify(progress: bool = True) -> dict[str, str]:
    """Check every MedMNIST file in the cache against its MD5; return ``{file: "ok" | "missing" | "CORRUPT"}``."""
    folder = cache_dir(create=False)
    report: dict[str, str] = {}
    for name, e in sorted(REGISTRY.items()):
        if e["kind"] != "medmnist":
            continue
        for size, md5 in e["md5"].items():
            path = folder / _file_name(name, int(size))
            if not path.exists():
                report[path.name] = "missing"
            else:
                report[path.name] = "ok" if md5sum(path) == md5 else "CORRUPT"
    return report


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data list | download NAME... | verify``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.data", description="The course's datasets.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the datasets and what is in the cache")
    dl = sub.add_parser("download", help="download MedMNIST files into the cache folder")
    dl.add_argument("names", nargs="+", metavar="NAME", help="dataset names, or 'all' for every MedMNIST set")
    dl.add_argument("--base-url", default=None, help="another server or mirror (folder URL)")
    sub.add_parser("verify", help="check the MD5 of every MedMNIST file in the cache")
    args = parser.parse_args(argv)

    if args.cmd == "list":
        folder = cache_dir(create=False)
        print(f"data folder: {folder}  (set {ENV_VAR} to change it)")
        for n in names():
            e = REGISTRY[n]
            where = {"simulated": "generated offline", "sklearn": "shipped in scikit-learn"}.get(e["kind"])
            if where is None:
                where = "in cache" if path_of(n).exists() else "not downloaded"
            print(f"  {n:15s} {e['task']:12s} {e['licence']:14.14s} {where:22s} {e['title']}")
        return 0
    if args.cmd == "download":
        wanted = [n for n in names() if REGISTRY[n]["kind"] == "medmnist"] if args.names == ["all"] else args.names
        failed = 0
        for n in wanted:
            try:
                path = download(n, base_url=args.base_url)
                print(f"{n}: ok ({path})")
            except DataError as exc:
                print(f"{n}: {exc}", file=sys.stderr)
                failed += 1
        return 1 if failed else 0
    report = verify()
    for fname, status in report.items():
        print(f"  {fname:22s} {status}")
    return 1 if "CORRUPT" in report.values() else 0


if __name__ == "__main__":
    sys.exit(main())
