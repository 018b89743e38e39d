"""repo2docker's files (BinderHub / JupyterHub images) are present and consistent with requirements.txt.

What can be checked offline is checked here: repo2docker's choice of files, the Python version, that pip
reads binder/requirements.txt as the root requirements (markers, pins, `-e .` pointing at the repository
root), and postBuild's syntax. Building the image itself needs Docker and the internet (docs/INSTRUCTORS.md).
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"

# files by which repo2docker picks another build pack or would override ours (in binder/, root ones are ignored)
OTHER_BUILDPACKS = ["environment.yml", "Pipfile", "Pipfile.lock", "Project.toml", "REQUIRE", "install.R",
                    "DESCRIPTION", "default.nix", "Dockerfile", "setup.py"]


def _lines(path: Path) -> list[str]:
    return [ln.split("#", 1)[0].strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.split("#", 1)[0].strip()]


def _is_local_pip_requirement(line: str) -> bool:
    """repo2docker's rule: a local reference makes it copy the whole repository before pip runs."""
    line = line.split("#", 1)[0].strip()
    return line.startswith(("-r", "-c", "--requirement", "--constraint", "-e", "--editable", ".", "/"))


def test_repo2docker_uses_the_python_buildpack_with_python_311():
    assert BINDER.is_dir()
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    assert [f for f in OTHER_BUILDPACKS if (BINDER / f).exists()] == []
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert requires.strip() in (">=3.11", "~=3.11", "==3.11.*")
    assert "TESTED_PYTHON = (3, 11)" in (ROOT / "course.py").read_text(encoding="utf-8")


def test_binder_requirements_are_the_root_requirements_plus_the_hub_fix():
    lines = _lines(BINDER / "requirements.txt")
    assert lines == ["-r ../requirements.txt", "notebook==7.6.5"], \
        "binder/requirements.txt must include the root file, plus only the notebook pin that fits jupyterlab 4.6"
    assert (BINDER / "../requirements.txt").resolve() == ROOT / "requirements.txt"
    # a local reference: repo2docker copies the repository before running pip from its root
    assert any(_is_local_pip_requirement(ln) for ln in lines)
    root = _lines(ROOT / "requirements.txt")
    assert "-e ." in root
    dev = _lines(ROOT / "requirements-dev.txt")
    assert dev[0] == "-r requirements.txt" and not set(dev[1:]) & set(root)
    for ln in root + dev[1:] + lines[1:]:
        if ln != "-e .":
            assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[0-9][^;\s]*(\s*;\s*.+)?$", ln), f"not an exact pin: {ln}"
    learner = {re.split("[=;]", ln)[0] for ln in root}
    assert not learner & {"pytest", "pytest-xdist", "nbval", "playwright", "jupytext", "psutil", "ruff"}, \
        "learners don't need the test tools"
    assert "jupyterlab" in learner


def test_pip_reads_the_root_requirements_from_the_repository_root():
    """pip (offline, dry run) resolves requirements.txt, which binder/requirements.txt includes, as repo2docker runs
    it: from the repository root.

    Every pin is satisfied by this environment, the markers pick tensorflow-cpu on Linux x86_64, and the only
    thing left to install is the course's package, editable, from the repository root. (The hub's extra
    notebook pin needs the index: tests/test_install.py resolves it against PyPI.)
    """
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps", "--no-build-isolation",
           "--disable-pip-version-check", "-q", "--report", "-", "-r", "requirements.txt"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    installs = {i["metadata"]["name"]: i["download_info"] for i in report["install"]}
    assert set(installs) == {"helpers"}, f"pip would install more than the course package: {sorted(installs)}"
    assert installs["helpers"]["dir_info"] == {"editable": True}
    assert installs["helpers"]["url"] == ROOT.as_uri()
    if sys.platform.startswith("linux") and platform.machine() == "x86_64":
        from importlib.metadata import PackageNotFoundError, version

        assert version("tensorflow-cpu") == "2.21.0"
        with pytest.raises(PackageNotFoundError):
            version("tensorflow")


def test_post_build_script():
    post = BINDER / "postBuild"
    text = post.read_bytes()
    assert text.startswith(b"#!/usr/bin/env bash\n") and b"\r\n" not in text
    assert b"set -euo pipefail" in text
    assert os.name == "nt" or os.access(post, os.X_OK), "postBuild must be executable (chmod +x)"
    assert b"import helpers" in text                              # the build fails early if `-e .` did not work
    for line in text.decode().splitlines():                       # downloads must not fail an offline build
        if "helpers.data download" in line:
            assert "||" in line or line.rstrip().endswith("\\")
    bash = shutil.which("bash")
    if bash:
        proc = subprocess.run([bash, "-n", str(post)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    # the datasets it names exist in the registry
    from helpers import data

    names = re.findall(r"helpers\.data download ([a-z0-9 ]+)", text.decode())[0].split()
    assert names == ["course"]                                     # every set the notebooks use
    for name in data.group("course"):
        assert data.REGISTRY[name]["kind"] == "medmnist"


def test_start_script_gives_a_hub_home_the_student_notebooks(tmp_path):
    """binder/start: with the repository outside home (--target-repo-dir), home gets the student copies once."""
    start = BINDER / "start"
    text = start.read_bytes()
    assert text.startswith(b"#!/usr/bin/env bash\n") and b"\r\n" not in text and b'exec "$@"' in text
    assert os.name == "nt" or os.access(start, os.X_OK)
    bash = shutil.which("bash")
    if not bash:
        pytest.skip("no bash")
    repo, home = tmp_path / "srv" / "course", tmp_path / "home"
    (repo / "student").mkdir(parents=True)
    (repo / "student" / "00_background.ipynb").write_text("course copy")
    home.mkdir()
    env = dict(os.environ, REPO_DIR=str(repo), HOME=str(home), PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ["PATH"])
    proc = subprocess.run([bash, str(start), "echo", "server started"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "server started", proc.stderr
    assert (home / "course" / "00_background.ipynb").read_text() == "course copy"
    (home / "course" / "00_background.ipynb").write_text("the learner's work")
    subprocess.run([bash, str(start), "true"], env=env, check=True)
    assert (home / "course" / "00_background.ipynb").read_text() == "the learner's work"   # never overwritten
    env["HOME"] = str(repo)                                                                  # mybinder: repo is home
    subprocess.run([bash, str(start), "true"], env=env, check=True)
    assert not (repo / "course").exists()


def test_binder_files_are_not_git_ignored():
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = [str(p.relative_to(ROOT)) for p in BINDER.iterdir()]
    proc = subprocess.run(["git", "check-ignore", *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.strip() == "", f"ignored by .gitignore: {proc.stdout}"
