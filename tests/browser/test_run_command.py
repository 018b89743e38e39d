"""The README's run command, started as a learner starts it: `python3 course.py`.

It must serve JupyterLab with a token (never without one), and the page must open on the
notebooks folder and list the notebooks.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .lab import course_notebooks, wait_until_listed

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"(http://(?:127\.0\.0\.1|localhost):(\d+)/\S*\?token=([0-9a-f]+))")


@pytest.fixture
def learner_lab(tmp_path, chromium_path):
    """Run `python3 course.py` in its own process group; yield (base URL, token); stop it afterwards."""
    env = dict(os.environ, BROWSER="true",  # no browser window: `true` is a command that does nothing
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"))
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "course.py")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        match = None
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            match = URL.search(log.read_text(errors="replace"))
        assert match, f"course.py printed no JupyterLab URL with a token:\n{log.read_text(errors='replace')[-3000:]}"
        url, port, token = match.groups()
        yield f"http://127.0.0.1:{port}/", token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)


def _status(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        return urllib.request.build_opener(NoRedirect).open(url, timeout=10).status
    except urllib.error.HTTPError as err:
        return err.code


def test_run_command_serves_lab_with_a_token_on_the_notebooks(learner_lab, new_page):
    base, token = learner_lab
    assert _status(base + "api/contents/notebooks") == 403  # no token, no files
    assert _status(base + "lab") == 302                     # no token: sent to the login page
    page = new_page()
    page.goto(f"{base}?token={token}")
    page.wait_for_url(re.compile(r".*/lab/tree/notebooks.*"), timeout=60_000)
    names = [p.name for p in course_notebooks()]
    wait_until_listed(page, names, timeout_ms=60_000)
    assert not page.errors, f"JavaScript errors in the lab page: {page.errors}"
