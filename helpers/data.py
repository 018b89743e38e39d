"""Datasets of the course: one registry, one ``load`` function, one cache folder.

>>> from helpers import data
>>> ds = data.load("simlesion2d", split="train")      # simulated, works offline
>>> ds.x.shape, ds.y.shape, ds.info.simulated
((4200, 28, 28), (4200,), True)

Three small official MedMNIST sets (PneumoniaMNIST, BreastMNIST, AdrenalMNIST3D) ship with the
course in ``data/medmnist/``; the others are downloaded once into the cache folder (``data/`` in the
repository, or the folder named by the environment variable ``COURSE_DATA_DIR``). Every file is
checked against its MD5 on every load, and never unpickled. With ``COURSE_OFFLINE=1`` nothing ever
tries the network. When the cache is a shared folder that this user cannot write (a class server),
files this user needs to make (simulated sets, downloads) go to a per-user cache instead.

Command line (for instructors; ``python3 course.py data ...`` runs ``python -m helpers.data ...``)::

    python3 course.py data list
    python3 course.py data download nodulemnist3d bloodmnist      # or: course, all
    python3 course.py data verify
"""
from __future__ import annotations

import difflib
import hashlib
import http.client
import json
import os
import re
import socket
import struct
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "COURSE_DATA_DIR"
OFFLINE_VAR = "COURSE_OFFLINE"
USER_CACHE_VAR = "COURSE_USER_CACHE_DIR"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data"
_RAW_REGISTRY: dict[str, Any] = json.loads((Path(__file__).with_name("registry.json")).read_text(encoding="utf-8"))
CITATIONS: dict[str, str] = _RAW_REGISTRY["citations"]
GROUPS: dict[str, list[str]] = _RAW_REGISTRY["groups"]
REGISTRY: dict[str, dict[str, Any]] = {
    name: dict(e, citation=CITATIONS.get(e["citation"], e["citation"])) for name, e in _RAW_REGISTRY["datasets"].items()
}
#: Flips that keep an image of a 2D set plausible (``None``: no flips), from the registry: each entry's
#: ``flips`` and, for MedMNIST sets that are not entries (a ``.npz`` file of that name), ``other_flips``.
FLIPS: dict[str, str | None] = {
    **_RAW_REGISTRY["other_flips"],
    **{name: e["flips"] for name, e in _RAW_REGISTRY["datasets"].items() if "flips" in e},
}
SPLITS = ("train", "val", "test")
MEDMNIST_KEYS = tuple(f"{s}_{k}" for s in SPLITS for k in ("images", "labels"))
DOWNLOAD_TIMEOUT_S = 8.0        # per network read: a server that says nothing for this long is given up
DEADLINE_BASE_S = 60.0          # every file's download must end within this much ...
DEADLINE_MIN_RATE = 20_000      # ... plus its size at this many bytes per second (a weak classroom wifi)
STALE_PART_S = 3600.0           # a partial download untouched for an hour is left over from a killed run
PART_SUFFIX = ".part"


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


class FileAccessError(DataError, OSError):
    """A file of the cache cannot be read or written (a folder in its place, no permission, a full disk)."""


class OfflineError(DownloadError):
    """A download was needed while ``COURSE_OFFLINE`` is set."""


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
        return (f"{self.title}\n  {sim}task: {self.task}; labels: {labels}\n"
                f"  licence: {self.licence}\n  {self.notes}").rstrip()


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

    def lesion_rings(self, index: Any) -> list[tuple[float, float, float] | None]:
        """The true lesion of each image ``index`` as ``(row, col, radius)`` in pixels, ``None`` for an image
        without one: the ``circles`` that :func:`helpers.plots.image_grid` and the other figures draw as rings.

        For the simulated 2D sets (``simlesion2d``). Taught in 00, step 8.2; reused in 03, 05 and 07.
        """
        if "lesion_centers" not in self.extras or np.shape(self.extras["lesion_centers"])[1:] != (2,):
            raise ValueError(f"{self.name} has no 2D lesion centres; lesion rings exist for simlesion2d only.")
        centers, radii = self.extras["lesion_centers"], self.extras["lesion_radii"]
        return [None if self.y[i] == 0 else (*centers[i], radii[i]) for i in np.asarray(index).ravel()]


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


# ---------------------------------------------------------------- arrays in the shapes the course uses
def as_images(x: Any, *, channel_axis: bool = True, dtype: Any = "float32", grey: bool = False,
              name: str = "images") -> np.ndarray:
    """A batch of 2D images in the shape the caller needs: the one image-normalising function of the helpers.

    Accepts ``(N, H, W)`` (grey), ``(N, H, W, 1)``, ``(N, H, W, 3)`` or ``(N, H, W, 4)`` of numbers; refuses
    anything else with one sentence (one image: pass ``image[None]``; 3D volumes are not 2D images), and an
    empty batch.
    channel_axis: ``True`` gives ``(N, H, W, C)`` (a grey batch gets a channel axis, as Keras wants);
    ``False`` gives ``(N, H, W)`` for grey images (a channel axis of 1 is dropped, as Matplotlib wants).
    dtype: of the result (``"float32"``: on the original scale, e.g. 0..255 for MedMNIST); ``None`` keeps it.
    grey: refuse colour images. Taught in 01, step 7 (the recipes' input); reused in 07.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (numbers, e.g. uint8 0..255 as in MedMNIST); got dtype {arr.dtype}.")
    if not (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[-1] in ((1,) if grey else (1, 3, 4)))):
        shapes = ("grey images (N, H, W) or (N, H, W, 1)" if grey
                  else "images of shape (N, H, W), (N, H, W, 1) or (N, H, W, 3)")
        raise ValueError(f"{name} must be {shapes}; got shape {arr.shape}. For one image pass image[None]; "
                         "3D volumes are not supported.")
    if len(arr) == 0:
        raise ValueError(f"{name} is empty (N = 0): there is nothing to use.")
    if arr.ndim == 3 and channel_axis:
        arr = arr[..., None]
    elif arr.ndim == 4 and arr.shape[-1] == 1 and not channel_axis:
        arr = arr[..., 0]
    return arr if dtype is None else arr.astype(dtype)


def as_labels(y: Any) -> np.ndarray:
    """Integer class labels ``(N,)`` from ``(N,)`` or MedMNIST's ``(N, 1)``; multi-label sets are refused."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"labels must be (N,) or (N, 1) class indices; got {arr.shape} "
                         "(multi-label sets such as ChestMNIST need another loss).")
    if not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
        raise ValueError(f"labels must be non-negative integers; got dtype {arr.dtype}.")
    return arr.astype("int64")


# ---------------------------------------------------------------- switches
def _env_flag(var: str) -> bool:
    """Whether the environment variable ``var`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}


def offline() -> bool:
    """Whether ``COURSE_OFFLINE`` is set: then no function of the course tries the network."""
    return _env_flag(OFFLINE_VAR)


def published_results(name: str) -> list[dict[str, Any]]:
    """Published test AUC/ACC of ``name`` (rows of ``method``, ``auc``, ``acc``, ``verified``), or ``[]``."""
    return [dict(row) for row in _entry(name).get("published", {}).get("rows", [])]


def group(name: str) -> list[str]:
    """The datasets of a group of the registry (``"course"``: every set the notebooks use;
    ``"all"``: every MedMNIST set)."""
    if name == "all":
        return [n for n in names() if REGISTRY[n]["kind"] == "medmnist"]
    if name not in GROUPS:
        raise UnknownDatasetError(f"Unknown group {name!r}; known: all, {', '.join(sorted(GROUPS))}.")
    return list(GROUPS[name])


# ---------------------------------------------------------------- cache
def cache_dir(create: bool = True) -> Path:
    """The data folder: ``$COURSE_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get(ENV_VAR)
    folder = Path(env).expanduser() if env else SHIPPED_DIR
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheDirError(
                f"Cannot create the data folder {folder} ({exc.strerror}); set {ENV_VAR} to a folder you can write."
            ) from None
    return folder


def user_cache_dir() -> Path:
    """This user's own cache, used when the data folder is shared and read-only (``$COURSE_USER_CACHE_DIR`` if set)."""
    env = os.environ.get(USER_CACHE_VAR)
    if env:
        return Path(env).expanduser()
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dl-medical-course"


def _is_writable(folder: Path) -> bool:
    """Whether new files can be made in ``folder`` (created if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _folders_to_read() -> list[Path]:
    """Where cached files are looked for: the data folder, then (when it is read-only) this user's cache."""
    folder = cache_dir(create=False)
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return [folder, user_cache_dir()]
    return [folder]


def _folder_to_write(sub: str = "") -> Path:
    """Where new files go: the data folder (``sub`` inside it), or this user's cache when that one is read-only."""
    shared = cache_dir(create=False) / sub
    if _is_writable(shared):
        return shared
    own = user_cache_dir() / sub
    try:
        own.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheDirError(f"Neither the data folder {shared} nor your own cache {own} can be written "
                            f"({exc.strerror}); set {ENV_VAR} to a folder you can write.") from None
    return own


def _umask() -> int:
    """The process's umask: read from ``/proc`` where there is one (never changed, so safe next to threads that
    create files), else set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_shareable(path: str | Path) -> None:
    """Give a file the mode a new file gets (0666 less the umask), so a shared cache stays readable by others.

    Temporary files (``mkstemp``) are created 0600; this is applied before they are renamed into place.
    """
    os.chmod(path, 0o666 & ~_umask())


def save_npz(path: str | Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> Path:
    """Write ``arrays`` to the ``.npz`` file ``path`` atomically: into a partial file next to it (named so that
    :func:`stale_parts` finds it if the run is killed), flushed to disk, given the mode a new file gets
    (:func:`make_shareable`), then renamed into place; never a half-written file under the final name.

    The one writer of the course's ``.npz`` files (simulated sets, tissue maps, cached models).
    Raises :class:`CacheDirError` when the folder can't be written, :class:`FileAccessError` when the write fails.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_part_prefix(path), suffix=PART_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise CacheDirError(f"Cannot write into {path.parent} ({exc.strerror}); set {ENV_VAR} to a folder you can "
                            "write.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        make_shareable(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise FileAccessError(f"Cannot write {path} ({exc.strerror or exc}); check the free space of "
                              f"{path.parent}.") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


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
    known = (sorted(int(s) for s in e.get("md5", {})) if e["kind"] == "medmnist"
             else e.get("sizes", [e.get("image_size")]))
    if size not in known:
        raise UnknownSizeError(
            f"{name} has no registered size {size!r}; available: {', '.join(map(str, known))}"
            + (" (only sizes with a known checksum can be verified)." if e["kind"] == "medmnist" else ".")
        )


def url_of(name: str, size: int = 28, base_url: str | None = None) -> str:
    """Where a MedMNIST file is downloaded from (``base_url`` replaces the server, e.g. a classroom mirror
    or a test)."""
    e = _entry(name)
    fname = _file_name(name, size)
    if base_url:
        return base_url.rstrip("/") + "/" + fname
    return e["url"].format(file=fname)


def path_of(name: str, size: int = 28) -> Path:
    """Where a dataset's file lives in the cache."""
    return cache_dir(create=False) / _file_name(name, size)


def shipped_path(name: str, size: int = 28) -> Path | None:
    """The file that ships with the course in ``data/`` for ``name`` (28 px only), or ``None``."""
    rel = _entry(name).get("shipped")
    return SHIPPED_DIR / rel if rel and size == 28 else None


def _file_problem(path: Path, md5: str) -> str | None:
    """Why ``path`` can't be used (``"missing"``, ``"corrupt (...)"``, ``"unreadable (...)"``),
    or ``None`` if it is right."""
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "unreadable (a folder, not a file)"
    try:
        got = md5sum(path)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return None if got == md5 else f"corrupt (MD5 {got}, expected {md5})"


def _verify_file(path: Path, md5: str) -> None:
    """Raise :class:`CorruptFileError` unless ``path`` has checksum ``md5``."""
    got = md5sum(path)
    if got != md5:
        raise CorruptFileError(f"{path} is partial or corrupt (MD5 {got}, expected {md5}).")


# ---------------------------------------------------------------- partial downloads
_PART = re.compile(r"^\.(?P<target>.+)\.(?P<host>[A-Za-z0-9_-]*)-(?P<pid>\d+)\.[^.]*\.part$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40]


def _part_prefix(target: Path) -> str:
    """Prefix of a partial file: ``.{target}.{host}-{pid}.``, so a later run can tell whether its writer still runs."""
    return f".{target.name}.{_host()}-{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (POSIX); on Windows, where this can't be asked safely, True."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def stale_parts(folder: Path | None = None) -> list[Path]:
    """Partial downloads (``.*.part``) in ``folder`` left behind by a run that was killed.

    Stale means: written by a process of this machine that no longer runs, or untouched for an hour.
    """
    folder = cache_dir(create=False) if folder is None else Path(folder)
    found = []
    for sub in (folder, folder / "simulated"):
        try:
            candidates = list(sub.glob(".*" + PART_SUFFIX))
        except OSError:
            continue
        for path in candidates:
            try:
                age = time.time() - path.stat().st_mtime
            except OSError:
                continue
            m = _PART.match(path.name)
            dead = bool(m) and m["host"] == _host() and not _pid_alive(int(m["pid"]))
            if dead or age > STALE_PART_S:
                found.append(path)
    return sorted(found)


def clean_stale_parts(folder: Path | None = None) -> list[Path]:
    """Remove the partial downloads of killed runs (see :func:`stale_parts`); return those removed."""
    removed = []
    for path in stale_parts(folder):
        try:
            if path.is_dir():
                import shutil

                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass  # someone else's in a read-only shared folder: reported by list/verify, left alone
    return removed


# ---------------------------------------------------------------- download
def _download_error(target: str, url: str, reason: object, name: str, folder: Path) -> DownloadError:
    return DownloadError(
        f"Could not download {target} from {url} ({reason}); when you are online run "
        f"`python3 course.py data download {name}`, or copy the file into {folder}."
    )


def download(name: str, size: int = 28, base_url: str | None = None, progress: bool = True,
             timeout: float = DOWNLOAD_TIMEOUT_S, deadline: float | None = None) -> Path:
    """Return the path of a verified MedMNIST file, downloading it into the cache only when needed.

    A shipped file (``data/medmnist/``) or a cached one with the right MD5 is used as it is, without the
    network. A partial or corrupt cached file is removed and fetched again; a missing or damaged shipped file
    is reported in one sentence and downloaded into the cache. The download goes to a temporary file
    that is renamed only once its MD5 is right. ``timeout`` bounds each network read; ``deadline`` (seconds,
    default: ``DEADLINE_BASE_S`` plus the size at ``DEADLINE_MIN_RATE``) bounds the whole file.
    Raises :class:`DownloadError` (or :class:`OfflineError` under ``COURSE_OFFLINE``) with one actionable
    sentence when the file cannot be had.
    """
    e = _entry(name)
    name = name.lower().strip()
    if e["kind"] != "medmnist":
        raise DataError(f"{name} is not downloaded: it is {'generated' if e['simulated'] else 'shipped in a package'}; "
                        f"use load({name!r}).")
    _check_size(name, size)
    md5 = e["md5"][str(size)]
    fname = _file_name(name, size)
    found = local_copy(name, size)
    if found is not None:
        return found
    shipped = shipped_path(name, size)
    shipped_problem = _file_problem(shipped, md5) if shipped is not None else None
    folder = _folder_to_write()
    target = folder / fname
    url = url_of(name, size, base_url)
    restore = ""
    if shipped is not None:
        restore = (f"{shipped} (shipped with the course) is {shipped_problem.split(' (')[0]} "
                   f"(restore it with `git checkout -- data/{e['shipped']}`) and ")
    if offline():
        raise OfflineError(f"{restore}{fname} is not in {folder} and {OFFLINE_VAR} is set, so it is not downloaded; "
                           f"copy the file into {folder}, or unset {OFFLINE_VAR} and run "
                           f"`python3 course.py data download {name}`.")
    clean_stale_parts(folder)
    try:
        _download_to(name, url, target, md5, timeout, deadline, progress)
    except CorruptFileError:
        raise CorruptFileError(
            f"{restore}the download of {fname} from {url} is corrupt (wrong MD5); nothing was kept; try again, "
            f"or copy a good copy of the file into {folder}."
        ) from None
    except DownloadError as exc:
        if restore:
            raise DownloadError(f"{restore}{str(exc)[0].lower()}{str(exc)[1:]}") from None
        raise
    if shipped is not None:
        print(f"{shipped} (shipped with the course) is {shipped_problem}; using a fresh download in {target} "
              f"(restore the shipped file with `git checkout -- data/{e['shipped']}`).", file=sys.stderr)
    return target


def local_copy(name: str, size: int = 28) -> Path | None:
    """The verified file of a MedMNIST set at hand without the network (shipped, or in the cache), or ``None``.

    A wrong file in the cache is reported and removed (when it can be); a folder or an unreadable file in its
    place raises :class:`FileAccessError`.
    """
    e = _entry(name)
    md5 = e["md5"][str(size)]
    shipped = shipped_path(name, size)
    if shipped is not None and _file_problem(shipped, md5) is None:
        return shipped
    for folder in _folders_to_read():
        found = _cached_copy(folder / _file_name(name, size), md5)
        if found is not None:
            return found
    return None


def _cached_copy(path: Path, md5: str) -> Path | None:
    """``path`` if it holds the right file; a wrong one is reported and removed (when it can be)."""
    problem = _file_problem(path, md5)
    if problem is None:
        return path
    if problem == "missing":
        return None
    if problem.startswith("unreadable"):
        raise FileAccessError(f"{path} is {problem}; remove or rename it (or fix its permissions) and load again.")
    try:
        path.unlink()
        print(f"{path} is partial or {problem}; removed it, downloading it again.", file=sys.stderr)
    except OSError:
        print(f"{path} is partial or {problem}, and can't be removed; ignoring it.", file=sys.stderr)
    return None


def _download_to(name: str, url: str, target: Path, md5: str, timeout: float, deadline: float | None,
                 progress: bool) -> None:
    """Fetch ``url`` into ``target`` through a temporary ``.part`` file, renamed only when its MD5 is ``md5``."""
    folder = target.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=_part_prefix(target), suffix=PART_SUFFIX, dir=folder)
    except OSError as exc:
        raise CacheDirError(f"Cannot write into the data folder {folder} ({exc.strerror}); set {ENV_VAR} "
                            "to a folder you can write.") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out, timeout=timeout, deadline=deadline, progress=progress, label=target.name)
        _verify_file(tmp, md5)
        make_shareable(tmp)
        os.replace(tmp, target)
    except DataError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(exc, http.client.HTTPException):
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        reason = " ".join(str(reason).split())[:200]  # one line, whatever the server sent
        if isinstance(exc, OSError) and getattr(exc, "filename", None) and not isinstance(exc, urllib.error.URLError):
            raise FileAccessError(f"Cannot write {target} ({exc.strerror or exc}); check the free space and "
                                  f"permissions of {folder}, or set {ENV_VAR} to another folder.") from None
        err = _download_error(target.name, url, reason, name, folder)
        err.unreachable = isinstance(exc, (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError))
        raise err from None
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(url: str, out: Any, timeout: float, progress: bool, label: str, deadline: float | None = None) -> None:
    """Stream ``url`` into the open file ``out``, with a progress bar, within ``deadline`` seconds in all."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        limit = deadline if deadline is not None else DEADLINE_BASE_S + (total or 20_000_000) / DEADLINE_MIN_RATE
        read = getattr(resp, "read1", resp.read)  # read1: what has arrived, so a trickle can't block a read for ever
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=label, leave=False)
        try:
            while block := read(1 << 16):
                out.write(block)
                if bar is not None:
                    bar.update(len(block))
                if time.monotonic() - started > limit:
                    raise DownloadError(
                        f"Could not download {label} from {url} (it took longer than {limit:.0f} s, "
                        f"{out.tell()} bytes so far); try again on a better connection, or copy the file into "
                        f"{cache_dir(create=False)}.")
        finally:
            if bar is not None:
                bar.close()
        if total is not None and out.tell() != total:
            raise CorruptFileError(f"{label}: got {out.tell()} of {total} bytes")


# ---------------------------------------------------------------- loading
# what reading a damaged zip can raise, besides OSError
_NPZ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, struct.error, NotImplementedError,
               RuntimeError, UnicodeDecodeError, OverflowError, IndexError)


def check_npz(path: str | Path, keys: list[str] | None = None) -> Path:
    """Check that ``path`` is a complete, undamaged ``.npz`` with the arrays ``keys`` (default: MedMNIST's six).

    Reads every member once (CRC check) without unpickling anything, so that a truncated, empty or damaged
    file is refused in one sentence (:class:`CorruptFileError`) before any slow work starts.
    """
    path = Path(path)
    keys = list(MEDMNIST_KEYS) if keys is None else keys
    fix = "download or copy it again"
    if not path.exists():
        raise FileAccessError(f"No file {path}; give a MedMNIST-format .npz or a dataset name.")
    if path.is_dir():
        raise FileAccessError(f"{path} is a folder, not a .npz file; give the path of the file.")
    try:
        if path.stat().st_size == 0:
            raise CorruptFileError(f"{path} is empty (0 bytes); {fix}.")
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise CorruptFileError(f"{path} is damaged (the member {bad} fails its CRC check); {fix}.")
            members = {n[:-4] if n.endswith(".npy") else n for n in zf.namelist()}
    except CorruptFileError:
        raise
    except OSError as exc:
        if isinstance(exc, PermissionError) or getattr(exc, "filename", None):
            raise FileAccessError(f"Cannot read {path} ({exc.strerror or exc}); check its permissions.") from None
        raise CorruptFileError(f"{path} is truncated or damaged ({exc}); {fix}.") from None
    except _NPZ_ERRORS as exc:
        raise CorruptFileError(f"{path} is not a readable .npz file, truncated or damaged "
                               f"({type(exc).__name__}: {exc}); {fix}.") from None
    missing = [k for k in keys if k not in members]
    if missing:
        raise CorruptFileError(f"{path} lacks the arrays {missing}; it is not a MedMNIST-format file.")
    return path


def read_npz(path: str | Path, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of a MedMNIST-format ``.npz`` (default: its six, ``train_images``, ``train_labels``,
    ``val_...``, ``test_...``), read without unpickling anything: the one reader of the course's ``.npz`` files
    (shipped, downloaded, simulated, or a file of your own).

    Arrays come back as stored (MedMNIST: uint8 images, ``(N, 1)`` labels; see :func:`as_images` and
    :func:`as_labels`). A missing, damaged or incomplete file raises a :class:`DataError` that says what to do.
    """
    path = Path(path)
    keys = list(MEDMNIST_KEYS) if keys is None else list(keys)
    if not path.exists():
        raise FileAccessError(f"No file {path}; give a MedMNIST-format .npz or a dataset name.")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise CorruptFileError(f"{path} lacks the arrays {missing}; it is not a MedMNIST-format file "
                                       "(a file of the cache: delete it and load again).")
            return {k: f[k] for k in keys}
    except DataError:
        raise
    except PermissionError as exc:
        raise FileAccessError(f"Cannot read {path} ({exc.strerror}); check its permissions.") from None
    except IsADirectoryError:
        raise FileAccessError(f"{path} is a folder, not a file; remove or rename it and load again.") from None
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise CorruptFileError(f"{path} cannot be read ({exc}); delete it and load again.") from None


def _simulated(name: str, size: int, seed: int) -> Path:
    """Generate (once) and cache a simulated set; return its path.

    An existing copy in the data folder (e.g. made by the instructor on a shared, read-only folder) is used;
    otherwise the set is generated into the data folder, or into this user's cache when that is read-only.
    """
    from .simulate import SimulationConfig, generate

    e = _entry(name)
    cfg = SimulationConfig(size=size, seed=seed, **e["config"])
    fname = f"{name}_{size}_seed{seed}_{cfg.cache_key()}.npz"
    try:
        readable = _folders_to_read()
    except OSError:
        readable = []
    for folder in readable:
        if (folder / "simulated" / fname).is_file():
            return folder / "simulated" / fname
    folder = _folder_to_write("simulated")
    target = folder / fname
    if target.is_file():
        return target
    return save_npz(target, generate(cfg))


def _breast_cancer(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    if split == "all":
        return x, y
    sizes = _entry("breastcancer")["splits"]
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=sizes["test"], stratify=y, random_state=0)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=sizes["val"], stratify=y_rest,
                                                      random_state=0)
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}[split]


def load(name: str, split: str = "train", size: int = 28, seed: int = 0, base_url: str | None = None) -> Dataset:
    """Load one split of a dataset of the registry.

    name: a registry name (see :func:`names`); shipped MedMNIST sets are read from ``data/medmnist/``
    without the network, the others are downloaded when missing.
    split: ``"train"``, ``"val"`` or ``"test"`` (``"all"`` too for ``breastcancer``).
    size: image side (28 for MedMNIST; 28 or 64 for ``simlesion2d``).
    seed: seed of a simulated set.
    Every failure is a :class:`DataError` whose message is one sentence saying what to do.
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
    arrays = read_npz(path, [f"{split}_images", f"{split}_labels"] + [f"{split}_{k}" for k in extras])
    x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if x.dtype != np.uint8 or len(x) != len(y):
        raise CorruptFileError(f"{path}: {split} images are {x.dtype} {x.shape} with {len(y)} labels; "
                               "expected uint8 with one label each.")
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
    except (OSError, http.client.HTTPException, zipfile.BadZipFile, EOFError) as exc:  # a last guard: never a traceback
        print(f"[{name}] {name} could not be loaded ({type(exc).__name__}: {exc}); "
              f"run `python3 course.py data verify` to check the data folder.")
    return None


def try_cifar10(timeout: float = 5.0):
    """CIFAR-10 as ``keras.datasets.cifar10.load_data()`` returns it, or ``None`` with one sentence when offline.

    Opt-in: only when the environment variable ``COURSE_CIFAR10=1`` is set (and ``COURSE_OFFLINE`` is not).
    Uses Keras's cached copy when there is one; otherwise checks within ``timeout`` seconds that the
    server can be reached before downloading (163 MB), so that offline it fails fast and quietly.
    Taught in 01, step 5 (the article's verbatim run).
    """
    if not _env_flag("COURSE_CIFAR10"):
        print("[cifar10] The article's verbatim CIFAR-10 run (163 MB download, minutes of training) is opt-in: "
              "set COURSE_CIFAR10=1 before starting Jupyter to run it.")
        return None
    if offline():
        print(f"[cifar10] {OFFLINE_VAR} is set, so CIFAR-10 is not downloaded; skipping the article's verbatim run.")
        return None
    host = "www.cs.toronto.edu"
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    cached = Path(keras_home, "datasets", "cifar-10-batches-py-target", "cifar-10-batches-py", "test_batch")
    if not cached.exists():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
        except OSError as exc:
            print(f"[cifar10] CIFAR-10 is not in the Keras cache and {host} cannot be reached ({exc}); "
                  "skipping the article's verbatim run (run this cell again when online).")
            return None
    import keras

    try:
        return keras.datasets.cifar10.load_data()
    except Exception as exc:  # noqa: BLE001 - any download or extraction failure ends in one sentence
        print(f"[cifar10] CIFAR-10 could not be loaded ({type(exc).__name__}: {exc}); skipping the verbatim run.")
        return None


def _status(path: Path, md5: str) -> str:
    """``ok``, ``missing``, ``CORRUPT`` or ``UNREADABLE (reason)`` for one file."""
    problem = _file_problem(path, md5)
    if problem is None:
        return "ok"
    if problem == "missing":
        return "missing"
    return "CORRUPT" if problem.startswith("corrupt") else "UNREADABLE" + problem[len("unreadable"):]


def verify() -> dict[str, str]:
    """Check every MedMNIST file against its MD5: ``{file: "ok" | "missing" | "CORRUPT" | "UNREADABLE (...)"}``.

    Shipped files are reported as ``medmnist/NAME.npz`` (a missing shipped file is a problem; a shipped set
    absent from the cache is not); partial downloads left by killed runs are removed and reported as
    ``"stale partial download, removed"`` (or ``"... can't be removed"`` in a read-only folder).
    """
    folder = cache_dir(create=False)
    report: dict[str, str] = {}
    for name, e in sorted(REGISTRY.items()):
        if e["kind"] != "medmnist":
            continue
        for size, md5 in e["md5"].items():
            fname = _file_name(name, int(size))
            shipped = shipped_path(name, int(size))
            status = _status(folder / fname, md5)
            if not (shipped is not None and status == "missing"):
                report[fname] = status
            if shipped is not None:
                report[e["shipped"]] = _status(shipped, md5)
    stale = stale_parts(folder)
    removed = set(clean_stale_parts(folder))
    for path in stale:
        report[str(path.relative_to(folder))] = ("stale partial download, removed" if path in removed
                                                 else "stale partial download, can't be removed")
    return report


def _problems(report: dict[str, str]) -> bool:
    return any(s == "CORRUPT" or s.startswith("UNREADABLE") or (k.startswith("medmnist/") and s != "ok")
               for k, s in report.items())


# ---------------------------------------------------------------- command line
def _where(name: str) -> str:
    """Where a dataset comes from / is, for ``list``."""
    e = REGISTRY[name]
    if e["kind"] == "simulated":
        return "generated offline"
    if e["kind"] == "sklearn":
        return "shipped in scikit-learn"
    shipped = shipped_path(name)
    if shipped is not None:
        return "shipped" if shipped.is_file() else "shipped, MISSING"
    return "in cache" if any((f / e["file"]).is_file() for f in _folders_to_read()) else "not downloaded"


def _expand(wanted: list[str]) -> list[str]:
    """Dataset names, with the groups ``all`` and ``course`` expanded."""
    out: list[str] = []
    for n in wanted:
        for m in (group(n) if n == "all" or n in GROUPS else [n]):
            if m not in out:
                out.append(m)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data list | download NAME... | verify`` (also ``python3 course.py data ...``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python3 course.py data", description="The course's datasets.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the datasets and what is in the cache")
    dl = sub.add_parser("download", help="download MedMNIST files into the cache folder")
    dl.add_argument("names", nargs="+", metavar="NAME",
                    help="dataset names, 'course' (every set the notebooks use) or 'all' (every MedMNIST set)")
    dl.add_argument("--base-url", default=None, help="another server or mirror (folder URL), e.g. http://HOST:8000/")
    dl.add_argument("--timeout", type=float, default=DOWNLOAD_TIMEOUT_S, help="seconds to wait for each network read")
    dl.add_argument("--deadline", type=float, default=None, help="seconds for each whole file (default: by its size)")
    sub.add_parser("verify", help="check the MD5 of every MedMNIST file (shipped and in the cache)")
    args = parser.parse_args(argv)
    _exit_cleanly_on_sigterm()
    try:
        if args.cmd == "list":
            return _cli_list()
        if args.cmd == "download":
            return _cli_download(_expand(args.names), args.base_url, args.timeout, args.deadline)
        report = verify()
        for fname, status in report.items():
            print(f"  {fname:28s} {status}")
        return 1 if _problems(report) else 0
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (a closed terminal, `kill`, a hub stopping a server) into SystemExit, so that the temporary
    ``.part`` file of a download in progress is removed by its ``finally``. (SIGKILL can't be caught: the next
    run's :func:`clean_stale_parts` removes what it leaves.)"""
    import signal
    import threading

    if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _cli_list() -> int:
    folder = cache_dir(create=False)
    print(f"data folder: {folder}  (set {ENV_VAR} to change it)")
    for n in names():
        e = REGISTRY[n]
        print(f"  {n:15s} {e['task']:12s} {e['licence']:14.14s} {_where(n):22s} {e['title']}")
    for path in stale_parts(folder):
        print(f"  stale partial download: {path} (`python3 course.py data verify` removes it)")
    return 0


def _cli_download(wanted: list[str], base_url: str | None, timeout: float, deadline: float | None) -> int:
    failed = 0
    unreachable = None
    for n in wanted:
        try:
            if unreachable is not None:
                path = local_copy(n) if REGISTRY.get(n, {}).get("kind") == "medmnist" else None
                if path is None:
                    print(f"{n}: skipped (the server did not answer for {unreachable})", file=sys.stderr)
                    failed += 1
                else:
                    print(f"{n}: ok ({path})")
                continue
            path = download(n, base_url=base_url, timeout=timeout, deadline=deadline)
            print(f"{n}: ok ({path})")
        except DataError as exc:
            print(f"{n}: {exc}", file=sys.stderr)
            failed += 1
            if getattr(exc, "unreachable", False) or isinstance(exc, OfflineError):
                unreachable = n
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
