"""A shared, read-only COURSE_DATA_DIR prepared by one user and used by another (issue 17, item 6).

Runs only as root on a POSIX system with `useradd` (it makes a throwaway user and removes it again) and with
a Python interpreter that the other user may run (the venv's own Python often lives under /root).
"""
from __future__ import annotations

import json
import os
import shutil
import site
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fake_medmnist import make_medmnist_npz
from helpers import data

ROOT = Path(__file__).resolve().parent.parent


def _others_can_reach(path: Path) -> bool:
    """Whether every folder above ``path`` lets other users through and ``path`` itself is readable by them."""
    path = path.resolve()
    for folder in path.parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def _interpreter_for_others() -> str | None:
    """A Python of this very version that another user can run (the venv's packages are added by path)."""
    version = "%d.%d" % sys.version_info[:2]
    for candidate in (sys.executable, os.path.realpath(sys.executable), f"/usr/bin/python{version}",
                      f"/usr/local/bin/python{version}"):
        if candidate and os.path.exists(candidate) and _others_can_reach(Path(os.path.realpath(candidate))):
            proc = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True)
            if proc.stdout.strip() == version:
                return candidate
    return None


SNIPPET = r"""
import json, site, sys
for folder in sys.argv[1].split("|"):
    site.addsitedir(folder)
sys.path.insert(0, sys.argv[2])
import numpy as np
import helpers.simulate
from helpers import data

md5 = sys.argv[3]
data.REGISTRY["bloodmnist"] = dict(data.REGISTRY["bloodmnist"], md5={"28": md5})
def tiny(cfg):
    z = np.zeros((2, 28, 28), np.uint8)
    return {f"{s}_{k}": v for s in data.SPLITS for k, v in (("images", z), ("labels", np.zeros(2, np.int64)),
            ("patients", np.arange(2)), ("lesion_centers", np.zeros((2, 2))), ("lesion_radii", np.zeros(2)),
            ("lesion_contrasts", np.zeros(2)))}
helpers.simulate.generate = tiny
blood = data.try_load("bloodmnist", "train")
sim = data.try_load("simlesion2d", "train")
sim_path = data._simulated("simlesion2d", 28, 0)
print(json.dumps({"blood": None if blood is None else len(blood), "sim": None if sim is None else len(sim),
                  "sim_path": str(sim_path), "verify": data.verify()["bloodmnist.npz"]}))
"""


@pytest.fixture
def other_user():
    """A throwaway user (uid, gid), removed after the test."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("needs root to make a throwaway user")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("needs useradd/userdel")
    name = f"coursetest{os.getpid()}"
    proc = subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"useradd failed: {proc.stderr.strip()}")
    try:
        import pwd

        entry = pwd.getpwnam(name)
        yield entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_a_read_only_shared_cache_works_for_another_user(other_user, monkeypatch):
    python = _interpreter_for_others()
    packages = [p for p in site.getsitepackages() if Path(p).is_dir()]
    if python is None or not all(_others_can_reach(Path(p)) for p in packages) or not _others_can_reach(ROOT):
        pytest.skip("no Python interpreter and packages that another user can run here")
    uid, gid = other_user
    top = Path(tempfile.mkdtemp(prefix="course-shared-", dir="/tmp"))
    try:
        top.chmod(0o755)
        shared, served, home = top / "shared", top / "served", top / "home"
        served.mkdir()
        home.mkdir()
        os.chown(home, uid, gid)
        fake = make_medmnist_npz(served / "bloodmnist.npz")
        md5 = data.md5sum(fake)
        # 1. the instructor (root, umask 022) prepares the shared cache with the course's own code
        monkeypatch.setenv(data.ENV_VAR, str(shared))
        monkeypatch.setitem(data.REGISTRY, "bloodmnist", dict(data.REGISTRY["bloodmnist"], md5={"28": md5}))
        old = os.umask(0o022)
        try:
            path = data.download("bloodmnist", base_url=served.as_uri(), progress=False)
        finally:
            os.umask(old)
        assert path.stat().st_mode & 0o777 == 0o644, "a shared file must be readable by the others"
        shared.chmod(0o755)                                   # read-only for everyone but its owner
        # 2. a learner (another user) uses it
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), data.ENV_VAR: str(shared),
               "LANG": "C.UTF-8"}
        proc = subprocess.run([python, "-c", SNIPPET, "|".join(packages), str(ROOT), md5], env=env, user=uid,
                              group=gid, extra_groups=[], cwd=str(home), capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr and "PermissionError" not in proc.stdout
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["blood"] == 20 and result["verify"] == "ok"
        assert result["sim"] == 2, proc.stdout                   # generated although the shared folder is read-only
        assert result["sim_path"].startswith(str(home / ".cache" / "dl-medical-course" / "simulated"))
        assert not (shared / "simulated").exists() or not any((shared / "simulated").iterdir())
    finally:
        shutil.rmtree(top, ignore_errors=True)
