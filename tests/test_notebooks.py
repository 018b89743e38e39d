"""The stored notebooks: in step with their sources, executed, and shaped like the course's lectures.

(Running them and comparing their checked outputs is the job of the notebook tests that the root
``conftest.py`` collects: ``pytest notebooks/``; rules in ``tests/nbcheck.py``.)
"""
from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

import nbcheck

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))


def test_there_are_notebooks():
    assert SOURCES, "no notebook sources in notebooks/src"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_notebook_is_built_from_its_source(src):
    ipynb = ROOT / "notebooks" / f"{src.stem}.ipynb"
    assert ipynb.exists(), f"{ipynb.name} is missing: run `python tools/build_notebooks.py {src.stem[:2]}`"
    stored = nbformat.read(ipynb, as_version=4)
    fresh = jupytext.read(src, fmt="py:percent")
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in fresh.cells], (
        f"{ipynb.name} differs from {src.name}: run `python tools/build_notebooks.py {src.stem[:2]}`")


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_notebook_is_stored_with_outputs_and_no_errors(src):
    nb = nbformat.read(ROOT / "notebooks" / f"{src.stem}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "some code cells were never run: rebuild the notebook"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], "a stored output is an error"
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure in the stored outputs"
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not [t for t in stderr if "WARNING" in t or "Traceback" in t], f"warnings stored in outputs: {stderr[:2]}"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_notebook_has_the_course_shape(src):
    nb = jupytext.read(src, fmt="py:percent")
    first = nb.cells[0].source
    assert first.startswith("# ") and "Learning objectives" in first and "Prerequisites" in first
    assert "**Measured runtime:**" in first
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "exercise" in tags and "solution" in tags
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in text
    code = [c for c in nb.cells if c.cell_type == "code"]
    policies = [nbcheck.policy(c.source) for c in code]  # raises on a mistyped marker
    assert "exact" in policies, "no output is compared exactly (formula checks, data sizes...)"
    assert not [c for c in code if "NBVAL_" in c.source], "nbval markers are not read any more: use # CHECK_OUTPUT"
