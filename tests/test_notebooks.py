"""The stored notebooks: in step with their sources, executed, and shaped like the course's lectures.

(Running them and comparing their checked outputs is the job of the notebook tests that the root
``conftest.py`` collects: ``pytest notebooks/``; rules in ``tests/nbcheck.py``.)
"""
from __future__ import annotations

import re
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


STEP = re.compile(r"## Step (\d+) · \S")
OTHER_HEADINGS = ("## Set-up", "## Summary", "## Exercises", "## References", "## Where to go next")


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_notebook_opens_and_is_headed_the_course_way(src):
    """Title cell, "## Set-up" and the set-up cell (``start()`` first), numbered steps "## Step N · ...",
    then summary, exercises and references, in that order (docs/AUTHORING.md, "Shape of a notebook")."""
    nb = jupytext.read(src, fmt="py:percent")
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "the first cell is the title"
    assert cells[1].cell_type == "markdown" and cells[1].source.startswith("## Set-up"), \
        "the second cell is the set-up text, headed '## Set-up'"
    setup = cells[2]
    assert setup.cell_type == "code" and setup.source.startswith("from helpers.setup import "), \
        "the third cell is the set-up cell: `from helpers.setup import start` first"
    assert re.search(r"^start\(seed=\d+", setup.source, re.M), "the set-up cell calls start(seed=...)"
    assert "__version__" not in setup.source, "start() prints the versions: no print of its own"
    headings = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("## ")]
    odd = [h for h in headings if not STEP.match(h) and not h.startswith(OTHER_HEADINGS)]
    assert not odd, f"headings not in the course's style ('## Step N · Title'): {odd}"
    steps = [int(STEP.match(h).group(1)) for h in headings if STEP.match(h)]
    assert steps and steps == list(range(steps[0], steps[0] + len(steps))) and steps[0] in (0, 1), \
        f"steps are numbered 0 or 1, 2, 3... in order: {steps}"
    sections = ("## Set-up", "## Step", "## Summary", "## Exercises", "## References")
    order = [h for h in headings if h.startswith(sections)]
    kinds = [h.split()[1] for h in order]
    first = {k: kinds.index(k) for k in ("Set-up", "Step", "Summary", "Exercises", "References")}
    assert first["Set-up"] < first["Step"] < first["Summary"] < first["Exercises"] < first["References"], \
        f"order: set-up, steps, summary, exercises, references; got {kinds}"
    assert kinds.count("References") == 1 and kinds[-1] == "References"
