"""What the browser tests and their fixtures (``conftest.py``) share: where the course notebooks are, and
waiting for JupyterLab's file browser to list them."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"


def course_notebooks() -> list[Path]:
    """The course notebooks, in order: ``notebooks/NN_*.ipynb``."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def wait_until_listed(page, names: list[str], timeout_ms: int) -> None:
    """Wait until the file browser of the JupyterLab ``page`` shows every one of ``names``."""
    page.wait_for_function(
        "names => names.every(n => [...document.querySelectorAll('.jp-DirListing-itemText')]"
        ".some(e => e.textContent.trim() === n))", arg=names, timeout=timeout_ms)
