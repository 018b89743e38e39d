"""Fixtures for the browser tests: a private JupyterLab server and headless Chromium.

* Without Chromium (or the playwright package) every test that needs it is skipped at collection,
  with one reason saying how to enable them; with the ``CI`` environment variable set they are
  not skipped but fail in ``chromium_path`` (a skipped browser test must never make CI green).
* ``chromium_path``: the Chromium executable.
* ``lab``: a JupyterLab server of its own (127.0.0.1, free port, random token, temporary
  config/data/runtime/IPython folders, autosave off and checkpoints in a temporary folder, so
  that nothing in the notebooks folder is written), shut down through ``POST /api/shutdown`` (then
  killed if needed) even when tests fail. Its environment turns the course's short-training setting on
  (``COURSE_SHORT_TRAINING=1``, :func:`helpers.setup.short_training`): every training of the notebooks
  runs one epoch, so that the suite keeps to its 3-minute budget.
* ``browser``: headless Chromium driven by Playwright; ``new_page``: a fresh browser context and
  page per test, with JavaScript page errors collected in ``page.errors``.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from .lab import NOTEBOOKS, REPO

SCREENSHOTS = REPO / "tests" / "screenshots"
ENABLE_HINT = "install Chromium (Debian/Ubuntu: sudo apt-get install -y chromium)"
SKIP_REASON = "browser tests need Chromium: " + ENABLE_HINT
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90
# the course's training-length setting, on for the test server's kernels only (helpers/setup.py)
SHORT_TRAINING_ENV = {"COURSE_SHORT_TRAINING": "1"}

# JupyterLab settings for the test server only (written to its temporary settings folder).
LAB_SETTINGS = {
    # never write the notebooks back to disk: the tests execute them in place
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # keep every cell in the DOM, so that all prompts, outputs and widgets can be checked
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # no news or update checks (offline, and no toast over the screenshots)
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None."""
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing() -> str | None:
    """Why the browser tests can't run here (no Chromium, or no playwright package), or None."""
    if find_chromium() is None:
        return SKIP_REASON
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package: python -m pip install -r requirements-dev.txt"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: end-to-end tests in JupyterLab and headless Chromium (need Chromium: "
        + ENABLE_HINT + ")",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium or playwright, skip every test that needs them, all with the same reason (the
    summary of ``pytest -rs`` folds them by file); with ``CI`` set leave them to fail in ``chromium_path``."""
    if os.environ.get("CI"):
        return
    needing = [item for item in items if "chromium_path" in getattr(item, "fixturenames", ())]
    reason = browser_missing() if needing else None
    if reason:
        for item in needing:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Add the end of the JupyterLab server's log to the report of a failed test that used it."""
    report = yield
    lab = getattr(item, "funcargs", {}).get("lab")
    if report.failed and isinstance(lab, Lab):
        report.sections.append(("JupyterLab server log (last 40 lines)", lab.log_tail()))
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    missing = browser_missing()  # without CI set, the tests were skipped at collection
    if missing:
        pytest.fail(f"CI is set and the browser tests must run in CI, but {missing}", pytrace=False)
    return find_chromium()


# --------------------------------------------------------------------------- JupyterLab server
@dataclass
class Lab:
    url: str            # e.g. http://127.0.0.1:PORT/ (with trailing slash)
    token: str
    root: Path          # the folder JupyterLab serves (the notebooks folder)
    log: Path           # the server's stdout+stderr

    def get(self, path: str, token: str | None = None, follow: bool = False):
        """GET url+path; returns (status, headers, body). ``token=None``: send none."""
        req = urllib.request.Request(self.url + path.lstrip("/"))
        if token is not None:
            req.add_header("Authorization", f"token {token}")
        opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def shutdown_kernels(self, path: str) -> int:
        """Delete the server's sessions (and so kernels) of one notebook; returns how many."""
        status, _, body = self.get("api/sessions", token=self.token)
        if status != 200:
            return 0
        count = 0
        for session in json.loads(body):
            if session.get("path") == path:
                req = urllib.request.Request(self.url + f"api/sessions/{session['id']}",
                                             method="DELETE",
                                             headers={"Authorization": f"token {self.token}"})
                try:
                    urllib.request.urlopen(req, timeout=30).close()
                    count += 1
                except (OSError, urllib.error.URLError):
                    pass
        return count

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D102
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook_digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS.glob("*.ipynb")}


def _stop_server(proc: subprocess.Popen, lab: Lab | None) -> None:
    """Shut the server (and its kernels) down politely, then by force."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)  # kernels live in own sessions
    except psutil.Error:
        family = []
    if lab is not None and proc.poll() is None:
        req = urllib.request.Request(lab.url + "api/shutdown", method="POST", data=b"",
                                     headers={"Authorization": f"token {lab.token}"})
        try:
            urllib.request.urlopen(req, timeout=10).close()
        except (OSError, urllib.error.URLError):
            pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
    _, alive = psutil.wait_procs(family, timeout=5)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass


@pytest.fixture(scope="session")
def lab(chromium_path: str, tmp_path_factory: pytest.TempPathFactory):
    """A private JupyterLab serving the notebooks folder; yields a :class:`Lab`."""
    home = tmp_path_factory.mktemp("jupyter")
    dirs = {name: home / name.lower() for name in
            ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
    for d in dirs.values():
        d.mkdir()
    settings = dirs["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings"
    for plugin, values in LAB_SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        target = settings / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = dict(os.environ, **{k: str(v) for k, v in dirs.items()})
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["JUPYTER_CONFIG_DIR"] / "lab" / "workspaces"),
        TF_CPP_MIN_LOG_LEVEL="3",
        # two test processes may each run a notebook: one thread per kernel, not two fighting for
        # each core (the numbers shown then differ slightly; they are not compared here)
        TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        # every training runs one epoch (the notebooks' numbers are the notebook tests' job)
        **SHORT_TRAINING_ENV,
        # the data folder is the course's own (COURSE_DATA_DIR as set, else data/): the simulated sets the
        # kernels make are the same files bit for bit, downloads are checked by MD5, and under short
        # training the model cache is neither read nor written, so nothing briefly trained lands there
    )
    env.pop("JUPYTER_TOKEN", None)

    token = secrets.token_hex(24)
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={NOTEBOOKS}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
           # opening a notebook writes a checkpoint copy: keep it out of the repository
           f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = home / "server.log"
    before = _notebook_digests()
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(cmd, cwd=NOTEBOOKS, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    info = None
    try:
        # the server may move to another port if this one was taken meanwhile: read its own file
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while info is None:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n"
                                   + log.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n"
                                   + log.read_text(errors="replace")[-3000:])
            for f in dirs["JUPYTER_RUNTIME_DIR"].glob(f"jpserver-{proc.pid}.json"):
                try:
                    data = json.loads(f.read_text())
                except (OSError, ValueError):
                    continue
                candidate = Lab(url=f"http://127.0.0.1:{data['port']}/", token=token,
                                root=NOTEBOOKS, log=log)
                try:
                    if candidate.get("api/status", token=token)[0] == 200:
                        info = candidate
                except OSError:
                    pass
            time.sleep(0.3)
        yield info
    finally:
        _stop_server(proc, info)
    changed = sorted(name for name, digest in _notebook_digests().items()
                     if before.get(name) not in (None, digest))
    assert not changed, f"the browser tests changed notebooks on disk: {changed}"


# --------------------------------------------------------------------------- Chromium
@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                      args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser):
    """Factory: ``new_page()`` opens a page in a fresh context; ``page.errors`` lists page errors."""
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        try:
            context.close()
        except Exception:  # noqa: BLE001 - closing must never hide the test's own failure
            pass


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
