"""How the test command shares work between its two processes (``pytest -n 2 --dist loadfile``).

With ``--dist loadfile`` every test file is one unit of work (nbval needs all the cells of a
notebook in one process, in order). One refinement: each notebook of the browser suite
(``tests/browser/test_notebooks_in_lab.py``) is a unit of its own, so that the two processes run
notebooks in JupyterLab side by side, each with its own JupyterLab server and Chromium.
"""
from __future__ import annotations

import pytest

BROWSER_NOTEBOOKS = "tests/browser/test_notebooks_in_lab.py::"


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile``, except that each browser notebook test is a unit of its own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ByFileBrowserNotebooksApart(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER_NOTEBOOKS):
                return nodeid
            return super()._split_scope(nodeid)

    return ByFileBrowserNotebooksApart(config, log)
