"""How the test command shares work between its two processes (``pytest -n 2 --dist loadgroup``).

Every test file is one unit of work, as with ``--dist loadfile`` (nbval needs a notebook's cells in
one process), except where a test carries its own ``xdist_group`` mark: the browser tests give each
notebook its own group, so that the two processes run notebooks in JupyterLab side by side.
"""
from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
