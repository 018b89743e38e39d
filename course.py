#!/usr/bin/env python3
"""Set up and run the course, or its tests. Works on Linux, macOS and Windows with Python 3.11 (3.12, 3.13 too).

    python3 course.py              # set up (first time only) and open JupyterLab on the notebooks
    python3 course.py student      # the same, on the student copies only (also: --student)
    python3 course.py run          # set up and execute every notebook headless into build/executed/
    python3 course.py test         # set up with the developer tools and run every test
    python3 course.py setup [--wheelhouse FOLDER_OR_URL]   # only set up (offline: from an instructor's wheels)
    python3 course.py data list | download NAME... | verify         # the datasets (helpers.data)
    python3 course.py pack create FILE | unpack FILE | verify FILE  # the instructor's data pack (helpers.pack)
    python3 course.py wheelhouse --platform win_amd64|macosx_arm64|manylinux_x86_64|manylinux_aarch64

Set-up means: a virtual environment in .venv with the exact versions of requirements.txt (learners) or
requirements-dev.txt (tests: it includes requirements.txt), made again only when those files or the
Python version change. Extra arguments after `test` go to pytest. On Windows, type `py` instead of
`python3` when `python3` is not found.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP_NAME = ".course-setup.json"
WHEELHOUSE_VAR = "COURSE_WHEELHOUSE"

TESTED_PYTHON = (3, 11)
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))  # every pin has wheels for these (tests/test_install.py checks)
# setuptools builds the course's own package (pyproject.toml); a wheelhouse carries it for offline installs
BUILD_REQUIREMENTS = ["setuptools==84.2.1"]
DOWNLOAD_GB = 0.6          # what a learner's set-up downloads (TensorFlow is most of it)
DEV_EXTRA_GB = 0.05        # the developer tools on top (pytest, playwright, jupytext, ...)

HOW_TO_GET_PYTHON = ("Install Python 3.11 (python.org/downloads; on Windows `winget install Python.Python.3.11`; "
                     "or with uv: `uv python install 3.11`) and run this command with it "
                     "(e.g. `python3.11 course.py`, on Windows `py -3.11 course.py`).")

# Where an instructor can build a wheel folder for: marker values and the wheel tags pip may take there.
PLATFORMS: dict[str, dict] = {
    "manylinux_x86_64": {
        "env": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
        "tags": [f"manylinux_2_{v}_x86_64" for v in (28, 27, 26, 25, 24, 17, 12, 5)]
        + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
    },
    "manylinux_aarch64": {
        "env": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"},
        "tags": [f"manylinux_2_{v}_aarch64" for v in (28, 27, 26, 25, 24, 17)] + ["manylinux2014_aarch64"],
    },
    "win_amd64": {
        "env": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
        "tags": ["win_amd64"],
    },
    "macosx_arm64": {
        "env": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
        "tags": [f"macosx_{v}_0_{a}" for v in (15, 14, 13, 12, 11) for a in ("arm64", "universal2")]
        + [f"macosx_10_{v}_universal2" for v in (16, 15, 14, 13, 12, 11, 10, 9)],
    },
}


# ---------------------------------------------------------------- can this machine run the course?
def python_problem(version: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """Why this Python can't run the course (one paragraph with how to get one that can), or None."""
    if tuple(version) in SUPPORTED_PYTHONS:
        return None
    have = ".".join(map(str, version))
    why = "too old: TensorFlow 2.21 and NumPy 2.4 need 3.11 or newer" if tuple(version) < SUPPORTED_PYTHONS[0] \
        else "too new: TensorFlow 2.21 has no wheels for it yet"
    return (f"This is Python {have}, {why}. The course runs on Python "
            f"{', '.join('.'.join(map(str, v)) for v in SUPPORTED_PYTHONS)} (tested on 3.11). {HOW_TO_GET_PYTHON}")


def platform_problem(system: str = sys.platform, machine: str = platform.machine()) -> str | None:
    """Why TensorFlow 2.21 can't be installed on this operating system and processor, or None."""
    machine = machine.lower()
    hub = ("Use your class's JupyterHub, or Binder (see the README, 'For instructors'), or a Linux machine "
           "or virtual machine.")
    if system == "darwin" and machine in {"x86_64", "i386"}:
        return ("Intel Macs have no TensorFlow 2.21 wheel (the newest for them is 2.16.2), so the course can't be "
                f"installed here. {hub}")
    if system == "win32" and machine in {"arm64", "aarch64"}:
        return f"Windows on ARM has no TensorFlow wheel, so the course can't be installed here. {hub}"
    return None


# ---------------------------------------------------------------- the virtual environment
def venv_python(venv_dir: Path = VENV) -> tuple[int, int] | None:
    """The Python version (major, minor) a virtual environment was made with, from its pyvenv.cfg; None if unknown."""
    cfg = venv_dir / "pyvenv.cfg"
    try:
        lines = cfg.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in {"version", "version_info"}:
            parts = value.strip().split(".")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                return int(parts[0]), int(parts[1])
    return None


def ensure_venv(venv_dir: Path = VENV, version: tuple[int, int] = sys.version_info[:2], with_pip: bool = True) -> bool:
    """Make ``venv_dir`` with this Python unless it exists for this very Python version; True if (re)made.

    A virtual environment of another Python (say a failed first try with 3.10) is removed and made again,
    so that running the command with the right Python always works.
    """
    python = venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    have = venv_python(venv_dir)
    if python.exists() and have == tuple(version):
        return False
    if venv_dir.exists():
        was = ".".join(map(str, have)) if have else "an unknown or broken Python"
        print(f"The virtual environment {venv_dir} was made with {was}; making it again with Python "
              f"{'.'.join(map(str, version))} ...")
        shutil.rmtree(venv_dir)
    else:
        print(f"Creating a virtual environment in {venv_dir} ...")
    venv.EnvBuilder(with_pip=with_pip).create(venv_dir)
    return True


def _digest(*files: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _read_stamp(venv_dir: Path) -> dict:
    try:
        return json.loads((venv_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def wanted_stamp(dev: bool) -> dict:
    """What a set-up installs: the Python version and a digest of the requirement files (dev includes learner)."""
    stamp = {"python": "%d.%d" % sys.version_info[:2], "learner": _digest(REQUIREMENTS)}
    if dev:
        stamp["dev"] = _digest(REQUIREMENTS, DEV_REQUIREMENTS)
    return stamp


def is_set_up(dev: bool, venv_dir: Path = VENV) -> bool:
    """Whether ``venv_dir`` holds what ``wanted_stamp(dev)`` describes."""
    have = _read_stamp(venv_dir)
    return all(have.get(k) == v for k, v in wanted_stamp(dev).items())


def pip_install_command(dev: bool, wheelhouse: str | None = None) -> list[str]:
    """The pip command of the set-up: progress shown; with a wheelhouse, no index at all."""
    cmd = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "on",
           "-r", str(DEV_REQUIREMENTS if dev else REQUIREMENTS)]
    if wheelhouse:
        cmd += ["--no-index", "--find-links", wheelhouse]
    return cmd


def setup(dev: bool = False, wheelhouse: str | None = None) -> None:
    """Make .venv and install the learner's (or, with ``dev``, the developer's) pinned packages, unless done already.

    wheelhouse: a folder or URL of wheels made by ``python3 course.py wheelhouse`` (default: $COURSE_WHEELHOUSE);
    then nothing is fetched from the internet.
    """
    problem = python_problem() or platform_problem()
    if problem:
        sys.exit(problem)
    if sys.version_info[:2] != TESTED_PYTHON:
        print(f"Note: the course is tested on Python 3.11; this is {platform.python_version()}, "
              "whose wheels resolve too.")
    wheelhouse = wheelhouse or os.environ.get(WHEELHOUSE_VAR) or None
    made = ensure_venv()
    if not made and is_set_up(dev):
        return
    if wheelhouse:
        print(f"Installing the course's pinned packages from {wheelhouse} (no internet needed) ...")
    else:
        size = DOWNLOAD_GB + (DEV_EXTRA_GB if dev else 0)
        print(f"Installing the course's pinned packages: about {size:.2f} GB to download the first time "
              f"(about {size * 8 / 100 * 1000 / 60:.0f} min at 100 Mbit/s, {size * 8 / 10 * 1000 / 60:.0f} min at "
              "10 Mbit/s). In a classroom, ask for the instructor's wheel folder instead (README, 'Running a class').")
    code = subprocess.call(pip_install_command(dev, wheelhouse), cwd=ROOT)
    if code:
        sys.exit("Set-up failed (pip's message is above); nothing was recorded, so the next run tries again. "
                 "Offline? Set up from an instructor's wheel folder: python3 course.py setup --wheelhouse FOLDER")
    stamp = _read_stamp(VENV) if not made else {}
    stamp.update(wanted_stamp(dev))
    (VENV / STAMP_NAME).write_text(json.dumps(stamp, indent=1), encoding="utf-8")


def run(cmd: list[str], **kw) -> None:
    """Run a command from the repository root; stop with its exit code if it fails."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    code = subprocess.call(cmd, cwd=ROOT, env=env, **kw)
    if code:
        sys.exit(code)


# ---------------------------------------------------------------- an instructor's wheel folder
def requirement_lines(path: Path, environment: dict[str, str]) -> list[str]:
    """The requirements of ``path`` (following ``-r``) whose markers hold in ``environment``, markers removed.

    ``-e .`` (the course's own package, built from the repository) is left out. Needs ``packaging``.
    """
    from packaging.markers import Marker

    out: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            out += [r for r in requirement_lines(path.parent / line.split(None, 1)[1], environment) if r not in out]
            continue
        if line.startswith(("-e", "--editable")) or line in {".", "./"}:
            continue
        req, _, marker = line.partition(";")
        if not marker.strip() or Marker(marker.strip()).evaluate(environment):
            out.append(req.strip())
    return out


def target_environment(platform_name: str, python: str) -> dict[str, str]:
    """Marker values of a learner's machine: one of PLATFORMS, with CPython ``python`` (e.g. "3.11")."""
    if platform_name not in PLATFORMS:
        raise SystemExit(f"Unknown platform {platform_name!r}; use one of {', '.join(PLATFORMS)}.")
    return {**PLATFORMS[platform_name]["env"], "python_version": python, "python_full_version": f"{python}.0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def pip_platform_args(platform_name: str, python: str) -> list[str]:
    """pip options that pick the wheels of ``platform_name`` and CPython ``python``, binaries only."""
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python]
    for tag in PLATFORMS[platform_name]["tags"]:
        args += ["--platform", tag]
    return args


def wheelhouse(platform_name: str, python: str = "3.11", dest: Path | None = None, dev: bool = False,
               dry_run: bool = False, pip: str = sys.executable) -> Path:
    """Download every wheel a learner on ``platform_name`` needs into ``dest`` (default wheelhouse/PLATFORM-pyX.Y).

    With ``dry_run``, only resolve (``pip install --dry-run``) and write pip's JSON report to ``dest/report.json``.
    """
    dest = Path(dest or ROOT / "wheelhouse" / f"{platform_name}-py{python}")
    dest.mkdir(parents=True, exist_ok=True)
    lines = requirement_lines(DEV_REQUIREMENTS if dev else REQUIREMENTS, target_environment(platform_name, python))
    with tempfile.TemporaryDirectory() as tmp:
        resolved = Path(tmp) / "requirements.txt"
        resolved.write_text("\n".join(lines + BUILD_REQUIREMENTS) + "\n", encoding="utf-8")
        common = ["--disable-pip-version-check", *pip_platform_args(platform_name, python), "-r", str(resolved)]
        if dry_run:
            cmd = [pip, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--target", str(Path(tmp) / "t"),
                   "-q", "--report", str(dest / "report.json"), *common]
        else:
            cmd = [pip, "-m", "pip", "download", "--dest", str(dest), *common]
        code = subprocess.call(cmd, cwd=ROOT)
    if code:
        raise SystemExit(f"pip could not get the wheels for {platform_name} with Python {python} "
                         "(its message is above).")
    return dest


def _wheelhouse_command(args: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python3 course.py wheelhouse",
                                     description="Download the wheels learners on one platform need, for installs "
                                                 "with no internet: python3 course.py setup --wheelhouse FOLDER")
    parser.add_argument("--platform", required=True, choices=sorted(PLATFORMS))
    parser.add_argument("--python", default="3.11", choices=[".".join(map(str, v)) for v in SUPPORTED_PYTHONS])
    parser.add_argument("--dest", type=Path, default=None, help="folder (default: wheelhouse/PLATFORM-pyX.Y)")
    parser.add_argument("--dev", action="store_true", help="also the test tools (requirements-dev.txt)")
    a = parser.parse_args(args)
    dest = wheelhouse(a.platform, a.python, a.dest, a.dev, pip=str(PY))
    print(f"Wheels for {a.platform}, Python {a.python}: {dest}. On each such laptop, from a copy of this folder "
          f"(USB stick) or its URL (python -m http.server): python3 course.py setup --wheelhouse {dest.name}")


# ---------------------------------------------------------------- running
def lab(folder: str = "notebooks") -> None:
    """Open JupyterLab. Jupyter makes a secret token and prints the URL with it.

    ``notebooks``: the server's root is the repository (so links to docs/ work) and the page opens on notebooks/.
    ``student``: the server's root is student/ itself, so learners see only the student copies (no sources,
    no build files).
    """
    extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    if folder == "student":
        where = [f"--ServerApp.root_dir={ROOT / 'student'}", "--LabApp.default_url=/lab/tree/00_background.ipynb"]
    else:
        where = [f"--ServerApp.root_dir={ROOT}", "--LabApp.default_url=/lab/tree/notebooks"]
    run([str(PY), "-m", "jupyter", "lab", *where, *extra])


def execute_all() -> None:
    """Execute every notebook in a fresh kernel; the results go to build/executed/ (the originals stay as they are)."""
    out = ROOT / "build" / "executed"
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    run([str(PY), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(out),
         "--ExecutePreprocessor.timeout=900", *notebooks])
    print(f"Executed notebooks are in {out}")


def test(args: list[str]) -> None:
    """Every test: unit tests of helpers, every notebook under two configurations, and the browser tests,
    on two processes."""
    run([str(PY), "-m", "pytest", "-n", "2", "--dist", "worksteal", *args])


COMMANDS = "lab | student | run | test | setup | data ... | pack ... | wheelhouse ..."


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "lab"
    command = {"--student": "student"}.get(command, command)
    rest = argv[1:]
    if command not in {"lab", "student", "run", "test", "setup", "data", "pack", "wheelhouse"}:
        sys.exit(f"Unknown command {command!r}. Use: python3 course.py [{COMMANDS}]")
    if command == "wheelhouse":
        setup()
        _wheelhouse_command(rest)
        return
    if command == "setup":
        import argparse

        parser = argparse.ArgumentParser(prog="python3 course.py setup")
        parser.add_argument("--wheelhouse", metavar="FOLDER_OR_URL", help="install from an instructor's wheel folder")
        parser.add_argument("--dev", action="store_true", help="also the test tools (requirements-dev.txt)")
        a = parser.parse_args(rest)
        setup(dev=a.dev, wheelhouse=a.wheelhouse)
        return
    setup(dev=command == "test")
    if command in {"lab", "student"}:
        lab("student" if command == "student" else "notebooks")
    elif command == "run":
        execute_all()
    elif command == "test":
        test(rest)
    elif command == "data":
        run([str(PY), "-m", "helpers.data", *rest])
    elif command == "pack":
        run([str(PY), "-m", "helpers.pack", *rest])


if __name__ == "__main__":
    main(sys.argv[1:])
