"""The instructor's data pack: every MedMNIST file of the cache in one archive, for a USB stick or a shared drive.

A classroom then needs the internet once, on the instructor's machine::

    python3 course.py data download course             # online, once (or: all)
    python3 course.py pack create medmnist-pack.zip    # verified files + manifest → one archive
    python3 course.py pack verify medmnist-pack.zip    # (optional) check a copy, e.g. on the USB stick
    python3 course.py pack unpack medmnist-pack.zip    # on each laptop: verify, then install into the cache
    python3 course.py data verify

(``python3 course.py pack ...`` runs ``python -m helpers.pack ...`` in the course's environment.) The
MedMNIST sets that ship with the course (``data/medmnist/``) are not packed: every copy has them.

The archive is a plain zip (no compression: the ``.npz`` files are compressed already) holding the
files and ``MANIFEST.json`` (name, dataset, image size, bytes, MD5 of each file). Every MD5 is checked
against the course's registry when packing, and again against the manifest *and* the registry when
unpacking. ``unpack`` verifies everything in a temporary folder inside the cache before moving any file
into place, so a corrupt or truncated archive leaves the cache exactly as it was. The cache folder is
``data/`` or ``$COURSE_DATA_DIR`` (see :func:`helpers.data.cache_dir`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import data

MANIFEST = "MANIFEST.json"
FORMAT = "dl-medical-course-data-pack"
VERSION = 1
CHUNK = 1 << 20

# what reading a damaged zip can raise, besides BadZipFile
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, struct.error, NotImplementedError,
               RuntimeError, UnicodeDecodeError, OverflowError, IndexError)


class PackError(data.DataError):
    """The data pack cannot be made or used; the message says what to do."""


class CorruptArchiveError(PackError, data.CorruptFileError):
    """The archive is truncated, damaged, or holds a file whose MD5 is wrong. Nothing was unpacked."""


@dataclass(frozen=True)
class Member:
    """One file of a data pack, as its manifest records it."""

    file: str
    dataset: str
    size: int
    bytes: int
    md5: str


# ---------------------------------------------------------------- what can be packed
def _registered_files() -> dict[str, tuple[str, int, str]]:
    """``{file name: (dataset, image size, md5)}`` for every MedMNIST file the registry knows."""
    files = {}
    for name, entry in sorted(data.REGISTRY.items()):
        if entry["kind"] != "medmnist":
            continue
        for size, md5 in sorted(entry["md5"].items(), key=lambda kv: int(kv[0])):
            files[data._file_name(name, int(size))] = (name, int(size), md5)
    return files


def _ships(dataset: str, size: int) -> bool:
    """Whether the file of ``dataset`` at ``size`` ships with the course (``data/medmnist/``): no need to pack it."""
    return data.shipped_path(dataset, size) is not None


def _wanted(names: Iterable[str] | None, folder: Path) -> list[tuple[str, str, int, str]]:
    """The files to pack: ``(file, dataset, size, md5)``; all registered files present when ``names`` is None."""
    registered = _registered_files()
    if not names:
        chosen = [(f, *v) for f, v in registered.items() if (folder / f).exists() and not _ships(v[0], v[1])]
        if not chosen:
            raise PackError(f"No MedMNIST file in the cache folder {folder}; "
                            "run `python3 course.py data download course` "
                            f"(online) first, or set {data.ENV_VAR} to the folder that holds them.")
        return chosen
    chosen = []
    wanted = []
    for name in names:  # a group (course, all) stands for its sets that don't ship with the course
        if name == "all" or name in data.GROUPS:
            wanted += [n for n in data.group(name) if not _ships(n, 28) and n not in wanted]
        elif name not in wanted:
            wanted.append(name)
    for name in wanted:
        entry = data._entry(name)  # UnknownDatasetError with suggestions
        if entry["kind"] != "medmnist":
            raise PackError(f"{name} is not a downloaded dataset (it is generated or shipped in a package); "
                            "only MedMNIST files go into a data pack.")
        if _ships(name.lower().strip(), 28) and all(_ships(v[0], v[1]) for v in registered.values()
                                                     if v[0] == name.lower().strip()):
            raise PackError(f"{name} ships with the course (data/{entry['shipped']}): every copy of the course has "
                            "it, so it need not be packed.")
        files = [(f, *v) for f, v in registered.items() if v[0] == name.lower().strip()]
        present = [row for row in files if (folder / row[0]).exists()]
        if not present:
            raise PackError(f"{files[0][0]} is not in the cache folder {folder}; run "
                            f"`python3 course.py data download {name}` (online) first.")
        chosen.extend(present)
    return chosen


# ---------------------------------------------------------------- create
def create(archive: str | Path, names: Iterable[str] | None = None) -> list[Member]:
    """Pack the cache's MedMNIST files (all present, or those of ``names``) into the zip ``archive``.

    Each file is checked against the registry's MD5 while it is copied; the archive is written to a
    temporary file next to ``archive`` and renamed only when complete. Returns the manifest's members.
    """
    folder = data.cache_dir(create=False)
    archive = Path(archive)
    rows = _wanted(names, folder)
    try:
        archive.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=data._part_prefix(archive), suffix=data.PART_SUFFIX, dir=archive.parent)
    except OSError as exc:
        raise PackError(f"Cannot write into {archive.parent} ({exc.strerror or exc}); choose another folder.") from None
    os.close(fd)
    tmp = Path(tmp_name)
    members = []
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for fname, dataset, size, md5 in rows:
                src = folder / fname
                info = zipfile.ZipInfo(fname, date_time=(1980, 1, 1, 0, 0, 0))  # fixed date: same files, same archive
                info.file_size = src.stat().st_size
                info.compress_type = zipfile.ZIP_STORED
                h = hashlib.md5()
                with open(src, "rb") as fin, zf.open(info, "w") as fout:
                    while block := fin.read(CHUNK):
                        h.update(block)
                        fout.write(block)
                if h.hexdigest() != md5:
                    raise data.CorruptFileError(
                        f"{src} is partial or corrupt (MD5 {h.hexdigest()}, expected {md5}); nothing was packed. "
                        f"Run `python3 course.py data download {dataset}` to replace it.")
                members.append(Member(fname, dataset, size, info.file_size, md5))
            manifest = {"format": FORMAT, "version": VERSION, "files": [m.__dict__ for m in members]}
            info = zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        data.make_shareable(tmp)
        os.replace(tmp, archive)
    except OSError as exc:
        if isinstance(exc, data.DataError):
            raise
        raise PackError(f"Could not write {archive} ({exc.strerror or exc}); check the folder and the free space.") \
            from None
    finally:
        tmp.unlink(missing_ok=True)
    return members


# ---------------------------------------------------------------- read and verify
def _corrupt(archive: Path, what: str) -> CorruptArchiveError:
    return CorruptArchiveError(
        f"{archive} is corrupt or incomplete ({what}); nothing was unpacked. Copy the archive again from the "
        "instructor's original (or re-create it with `python3 course.py pack create`).")


def _open(archive: Path) -> zipfile.ZipFile:
    if not archive.is_file():
        raise PackError(f"{archive} does not exist or is not a file.")
    try:
        with open(archive, "rb"):
            pass
    except OSError as exc:
        raise PackError(f"Cannot read {archive} ({exc.strerror}).") from None
    try:
        return zipfile.ZipFile(archive)
    except _ZIP_ERRORS + (OSError,) as exc:  # the file is readable: an OSError here is a bad offset inside it
        raise _corrupt(archive, f"not a readable zip: {exc}") from None


MEMBER_TYPES = {"file": str, "dataset": str, "size": int, "bytes": int, "md5": str}


def _type_name(value: object) -> str:
    return {str: "text", int: "a whole number", list: "a list", dict: "an object", bool: "true/false",
            float: "a decimal number", type(None): "null"}.get(type(value), type(value).__name__)


def _check_types(raw: object) -> list[str]:
    """What is wrong with the manifest's form (each a short phrase naming the field), or ``[]``."""
    if not isinstance(raw, dict):
        return [f"the manifest is {_type_name(raw)}, not an object"]
    problems = []
    version = raw.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        problems.append(f"'version' is {_type_name(version)} ({version!r}), not a whole number")
    files = raw.get("files")
    if not isinstance(files, list):
        return problems + [f"'files' is {_type_name(files)}, not a list"]
    for i, row in enumerate(files):
        if not isinstance(row, dict):
            problems.append(f"files[{i}] is {_type_name(row)}, not an object")
            continue
        for key, kind in MEMBER_TYPES.items():
            value = row.get(key)
            if key not in row:
                problems.append(f"files[{i}] has no '{key}'")
            elif not isinstance(value, kind) or isinstance(value, bool):
                problems.append(f"'{key}' of files[{i}] is {_type_name(value)} ({value!r:.40}), not "
                                f"{_type_name(kind())}")
            elif kind is int and value < 0:
                problems.append(f"'{key}' of files[{i}] is negative ({value})")
    return problems


def read_manifest(zf: zipfile.ZipFile, archive: Path) -> list[Member]:
    """The members listed in the archive's manifest, checked for form (types of every field)
    and against the registry."""
    try:
        raw = json.loads(zf.read(MANIFEST).decode("utf-8"))
        if isinstance(raw, dict) and raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}")
    except _ZIP_ERRORS + (TypeError, OSError) as exc:
        raise _corrupt(archive, f"no valid {MANIFEST}: {type(exc).__name__} {exc}") from None
    problems = _check_types(raw)
    if problems:
        raise _corrupt(archive, f"{MANIFEST}: {'; '.join(problems[:3])}")
    members = [Member(**{k: row[k] for k in MEMBER_TYPES}) for row in raw["files"]]
    if raw.get("version", 0) > VERSION:
        raise PackError(f"{archive} was made by a newer version of the course (pack version {raw['version']}); "
                        "update the course (git pull) and try again.")
    registered = _registered_files()
    names_in_zip = set(zf.namelist()) - {MANIFEST}
    listed = {m.file for m in members}
    if names_in_zip != listed or len(listed) != len(members):
        raise _corrupt(archive, f"the files {sorted(names_in_zip ^ listed)} are not both listed and present")
    for m in members:
        if m.file not in registered:  # also rules out paths such as ../x or /etc/x
            raise PackError(f"{archive} holds {m.file!r}, which is not a MedMNIST file of this course; "
                            "nothing was unpacked.")
        if registered[m.file][2] != m.md5:
            raise PackError(f"{archive} holds a version of {m.file} (MD5 {m.md5}) other than the one the course "
                            f"expects ({registered[m.file][2]}); nothing was unpacked. Re-create the pack with this "
                            "version of the course.")
    return members


def _disk_error(target: Path, exc: OSError) -> PackError:
    return PackError(f"Could not write {target.name} into {target.parent} ({exc.strerror or exc}); nothing was "
                     f"installed. Free some space (or fix the folder's permissions), or set {data.ENV_VAR} to another "
                     "folder, and unpack again.")


def _extract_verified(zf: zipfile.ZipFile, archive: Path, m: Member, target: Path) -> None:
    """Copy member ``m`` to ``target``, raising :class:`CorruptArchiveError` unless bytes and MD5 match.

    Extraction stops as soon as the member grows past its declared size, so a forged archive can't fill the disk;
    a write error (a full disk) becomes a :class:`PackError`.
    """
    h, n = hashlib.md5(), 0
    try:
        out = open(target, "wb")
    except OSError as exc:
        raise _disk_error(target, exc) from None
    with out:
        try:
            fin = zf.open(m.file)
        except _ZIP_ERRORS + (OSError,) as exc:
            raise _corrupt(archive, f"{m.file}: {exc}") from None
        with fin:
            while True:
                try:
                    block = fin.read(min(CHUNK, m.bytes - n + 1))
                except _ZIP_ERRORS + (OSError,) as exc:
                    raise _corrupt(archive, f"{m.file}: {exc}") from None
                if not block:
                    break
                h.update(block)
                n += len(block)
                if n > m.bytes:
                    raise _corrupt(archive, f"{m.file} is larger than the {m.bytes} bytes its manifest declares")
                try:
                    out.write(block)
                except OSError as exc:
                    raise _disk_error(target, exc) from None
    if n != m.bytes or h.hexdigest() != m.md5:
        raise _corrupt(archive, f"{m.file} has {n} bytes and MD5 {h.hexdigest()}; expected {m.bytes} bytes and MD5 "
                                f"{m.md5}")


def verify(archive: str | Path) -> list[Member]:
    """Check an archive completely (manifest, every member's size and MD5) without installing anything."""
    archive = Path(archive)
    with _open(archive) as zf:
        members = read_manifest(zf, archive)
        with tempfile.TemporaryDirectory(prefix="pack-verify-", ignore_cleanup_errors=True) as tmp:
            for m in members:
                target = Path(tmp) / m.file
                _extract_verified(zf, archive, m, target)
                target.unlink()
    return members


# ---------------------------------------------------------------- unpack
def unpack(archive: str | Path) -> dict[str, str]:
    """Verify ``archive`` completely, then install its files into the cache folder.

    Members are extracted into a temporary folder inside the cache and checked (size and MD5 against
    the manifest and the registry); only when every one is right is each renamed into place. Returns
    ``{file: "installed" | "already there"}``. Raises :class:`CorruptArchiveError` (nothing changed)
    when the archive is damaged or truncated.
    """
    archive = Path(archive)
    folder = data.cache_dir()
    with _open(archive) as zf:
        members = read_manifest(zf, archive)
        need = sum(m.bytes for m in members)
        free = shutil.disk_usage(folder).free
        if free < need:
            raise PackError(f"{folder} has {free / 1e6:.0f} MB free; the pack needs {need / 1e6:.0f} MB. "
                            f"Free some space or set {data.ENV_VAR} to another folder.")
        try:
            data.clean_stale_parts(folder)
            staging = Path(tempfile.mkdtemp(prefix=data._part_prefix(Path("unpack")), suffix=data.PART_SUFFIX,
                                            dir=folder))
        except OSError as exc:
            raise data.CacheDirError(f"Cannot write into the data folder {folder} ({exc.strerror}); set "
                                     f"{data.ENV_VAR} to a folder you can write.") from None
        try:
            for m in members:
                _extract_verified(zf, archive, m, staging / m.file)
            report = {}
            for m in members:  # before anything moves: no folder may stand where a file goes
                if (folder / m.file).is_dir():
                    raise PackError(f"{folder / m.file} is a folder, not a file; remove or rename it and unpack "
                                    "again (nothing was installed).")
            for m in members:  # everything verified: move into place (a rename on the same disk)
                target = folder / m.file
                if data._file_problem(target, m.md5) is None:
                    report[m.file] = "already there"
                    continue
                try:
                    data.make_shareable(staging / m.file)
                    os.replace(staging / m.file, target)
                except OSError as exc:
                    raise _disk_error(target, exc) from None
                report[m.file] = "installed"
            return report
        finally:
            shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.pack create ARCHIVE [--names ...] | unpack ARCHIVE | verify [ARCHIVE]``."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python3 course.py pack",
                                     description="Pack the MedMNIST files of the cache into one archive, "
                                                 "and unpack it.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    cr = sub.add_parser("create", help="pack the (verified) MedMNIST files of the cache into ARCHIVE (a .zip)")
    cr.add_argument("archive", type=Path)
    cr.add_argument("--names", nargs="+", metavar="NAME",
                    help="only these datasets, or 'course' (every set the notebooks use that does not ship with the "
                         "course); default: every downloaded one present")
    un = sub.add_parser("unpack", help="verify ARCHIVE, then install its files into the cache folder")
    un.add_argument("archive", type=Path)
    ve = sub.add_parser("verify", help="check ARCHIVE without unpacking it (no ARCHIVE: check the cache)")
    ve.add_argument("archive", type=Path, nargs="?")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    try:
        if args.cmd == "create":
            members = create(args.archive, args.names)
            for m in members:
                print(f"  {m.file:24s} {m.bytes / 1e6:8.1f} MB  md5 {m.md5}")
            print(f"{args.archive}: {len(members)} files, {args.archive.stat().st_size / 1e6:.1f} MB "
                  f"({time.perf_counter() - t0:.1f} s). Unpack with: python3 course.py pack unpack {args.archive.name}")
        elif args.cmd == "unpack":
            report = unpack(args.archive)
            for fname, status in report.items():
                print(f"  {fname:24s} {status}")
            print(f"{len(report)} files verified into {data.cache_dir(create=False)} "
                  f"({time.perf_counter() - t0:.1f} s)")
        elif args.archive is not None:
            members = verify(args.archive)
            print(f"{args.archive}: ok, {len(members)} files, every MD5 right ({time.perf_counter() - t0:.1f} s)")
        else:
            report = data.verify()
            for fname, status in report.items():
                print(f"  {fname:24s} {status}")
            return 1 if "CORRUPT" in report.values() else 0
    except data.DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
