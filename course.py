#!/usr/bin/env python3
"""Set up and run the course, or its tests. Works on Linux, macOS and Windows with Python 3.11.

    python3 course.py          # set up (first time only) and open JupyterLab on the notebooks
    python3 course.py run      # set up and execute every notebook headless into build/executed/
    python3 course.py test     # set up and run every test (unit tests, notebooks, browser tests)

Set-up means: a virtual environment in .venv with the exact versions of requirements.txt,
made again only when requirements.txt changes. Extra arguments after `test` go to pytest.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def setup() -> None:
    """Create .venv and install requirements.txt into it, unless that was done for this very file."""
    if sys.version_info[:2] != (3, 11):
        print(f"Note: the course is pinned and tested on Python 3.11; this is {sys.version.split()[0]}. "
              "If installation fails, install Python 3.11 and run this command with it.")
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PY.exists():
        print(f"Creating a virtual environment in {VENV} ...")
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the course's pinned packages (about a minute the first time) ...")
    run([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(REQUIREMENTS)])
    STAMP.write_text(wanted)


def run(cmd: list[str], **kw) -> None:
    """Run a command from the repository root; stop with its exit code if it fails."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    code = subprocess.call(cmd, cwd=ROOT, env=env, **kw)
    if code:
        sys.exit(code)


def lab() -> None:
    """Open JupyterLab on the notebooks folder. Jupyter makes a secret token and prints the URL with it.

    The server's root is the repository (so links to docs/ and the student/ copies work); the page opens on notebooks/.
    """
    extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    run([str(PY), "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}", "--LabApp.default_url=/lab/tree/notebooks", *extra])


def execute_all() -> None:
    """Execute every notebook in a fresh kernel; the results go to build/executed/ (the originals stay as they are)."""
    out = ROOT / "build" / "executed"
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    run([str(PY), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(out),
         "--ExecutePreprocessor.timeout=900", *notebooks])
    print(f"Executed notebooks are in {out}")


def test(args: list[str]) -> None:
    """Every test: unit tests of helpers, every notebook under nbval, and the browser tests, on two processes."""
    run([str(PY), "-m", "pytest", "-n", "2", "--dist", "loadfile", *args])


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "lab"
    if command not in {"lab", "run", "test", "setup"}:
        sys.exit(f"Unknown command {command!r}. Use: python3 course.py [lab | run | test | setup]")
    setup()
    if command == "lab":
        lab()
    elif command == "run":
        execute_all()
    elif command == "test":
        test(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
