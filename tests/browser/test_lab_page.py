"""The learner's path: JupyterLab opens with the token and lists the notebooks; without it, no."""
from __future__ import annotations

import uuid

import pytest

from .lab import NOTEBOOKS, course_notebooks, wait_until_listed

pytestmark = pytest.mark.browser


def test_lab_lists_the_notebooks_with_the_token(lab, new_page):
    page = new_page()
    page.goto(f"{lab.url}lab/workspaces/{uuid.uuid4().hex}?token={lab.token}")
    page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    expected = [p.name for p in course_notebooks()] or sorted(
        p.name for p in NOTEBOOKS.iterdir() if not p.name.startswith("."))
    wait_until_listed(page, expected, timeout_ms=30_000)
    assert not page.errors, f"JavaScript errors in the lab page: {page.errors}"


def test_lab_refuses_without_the_token(lab, new_page):
    status, headers, _ = lab.get("lab")
    assert status == 302 and "/login" in headers.get("Location", ""), (status, headers)
    assert lab.get("api/contents")[0] == 403
    assert lab.get("api/sessions", token="wrong" + lab.token)[0] == 403
    assert lab.get("api/contents", token=lab.token)[0] == 200

    page = new_page()  # a fresh context: no cookie from another test
    page.goto(f"{lab.url}lab")
    assert "/login" in page.url, page.url
    assert page.locator("input[type=password]").count() >= 1  # token (and new password) fields
    assert page.locator(".jp-DirListing-item").count() == 0
