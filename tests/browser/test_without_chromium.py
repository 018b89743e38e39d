"""Without Chromium the browser tests are skipped with one reason, and with ``CI`` set they fail instead.

Runs pytest on ``test_lab_page.py`` in a child process with a plugin that hides Chromium from ``conftest.py``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .lab import REPO

HIDE_CHROMIUM = '''
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config):
    for plugin in config.pluginmanager.get_plugins():
        if hasattr(plugin, "find_chromium") and hasattr(plugin, "browser_missing"):  # tests/browser/conftest.py
            plugin.find_chromium = lambda: None
'''


def _run_without_chromium(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "hide_chromium.py").write_text(HIDE_CHROMIUM)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")])))
    if ci:
        env["CI"] = ci
    cmd = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "hide_chromium", "-rs", "-q",
           "tests/browser/test_lab_page.py"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_browser_tests_are_skipped_with_one_reason_without_chromium(tmp_path):
    result = _run_without_chromium(tmp_path, ci="")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "2 skipped" in out, out
    skips = [ln for ln in out.splitlines() if ln.startswith("SKIPPED")]
    assert skips and all(ln.endswith("browser tests need Chromium: install Chromium "
                                     "(Debian/Ubuntu: sudo apt-get install -y chromium)") for ln in skips), out


def test_browser_tests_fail_without_chromium_when_ci_is_set(tmp_path):
    result = _run_without_chromium(tmp_path, ci="1")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "2 errors" in out and "skipped" not in out, out
    assert "CI is set and the browser tests must run in CI, but browser tests need Chromium" in out, out
