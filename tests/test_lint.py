"""ruff (pinned in requirements-dev.txt, configured in pyproject.toml) finds nothing in the course's Python code."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["helpers", "tools", "tests", "notebooks/src", "conftest.py", "course.py"]


def test_ruff_finds_nothing():
    if importlib.util.find_spec("ruff") is None:
        message = "ruff is not installed: python -m pip install -r requirements-dev.txt"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: the lint check must run)", pytrace=False)
        pytest.skip(message)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                             *PATHS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"python -m ruff check {' '.join(PATHS)} (the [*] ones: add --fix):\n"
                    + result.stdout + result.stderr, pytrace=False)
