"""Collect the course notebooks as tests: each notebook, under each configuration, is one test.

``notebooks/NN_name.ipynb`` gives the tests ``notebooks/NN_name.ipynb::as-set-up`` and
``::other-cpu``: the notebook is executed top to bottom in a fresh kernel with that configuration's
environment, an error in any cell fails the test, and the outputs of the cells marked
``# CHECK_OUTPUT`` (exact) or ``# CHECK_OUTPUT trained`` (numbers within the course's tolerance) are
compared with the stored ones. The rules live in ``tests/nbcheck.py`` (unit-tested in
``tests/test_nbcheck.py``) and ``docs/AUTHORING.md``.

Every test is independent of the others, so the test command spreads them over two processes
with pytest-xdist's public ``--dist worksteal``. The notebook runs are queued first, the longest first
(by ``notebooks/RUNTIMES.json``), so that the short unit tests fill the gaps at the end instead of one
long notebook running alone (longest-processing-time-first scheduling).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))
import nbcheck  # noqa: E402  (tests/nbcheck.py)

COURSE_NOTEBOOK = re.compile(r"\d\d_\w+\.ipynb")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.parent.name == "notebooks" and COURSE_NOTEBOOK.fullmatch(file_path.name):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Notebook runs first, longest first (the slower configuration of a notebook before the other)."""
    runtimes_file = Path(__file__).resolve().parent / "notebooks" / "RUNTIMES.json"
    try:
        runtimes = {name: row["wall_s"] for name, row in json.loads(runtimes_file.read_text()).items()}
    except (OSError, ValueError, KeyError, TypeError):
        runtimes = {}
    configs = list(nbcheck.CONFIGS)

    def order(item: pytest.Item) -> tuple:
        if isinstance(item, NotebookRun):
            return (0, -runtimes.get(item.path.stem, 0.0), -configs.index(item.name))
        return (1,)

    items.sort(key=order)  # stable: the other tests keep their order


class NotebookFile(pytest.File):
    """A course notebook: one test per configuration of ``nbcheck.CONFIGS``."""

    def collect(self):
        for name, env in nbcheck.CONFIGS.items():
            yield NotebookRun.from_parent(self, name=name, env=env)


class NotebookRun(pytest.Item):
    """Execute the notebook under one configuration and compare its checked outputs."""

    def __init__(self, *, env: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.env = env

    def runtest(self) -> None:
        import nbformat

        stored = nbformat.read(self.path, as_version=4)
        fresh = nbcheck.run_notebook(self.path, self.env)
        report = nbcheck.compare_notebooks(stored, fresh)
        if report:
            raise NotebookMismatch(report)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, NotebookMismatch):
            config = ", ".join(f"{k}={v}" for k, v in self.env.items()) or "the environment as it is"
            return "\n".join([f"{self.path.name} under {self.name} ({config}): checked outputs differ "
                              f"from the stored ones (tolerance for trained numbers: {nbcheck.TRAINED})",
                              *excinfo.value.args[0]])
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


class NotebookMismatch(AssertionError):
    """Checked outputs of a notebook differ from the stored ones."""
