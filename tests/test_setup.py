"""helpers.setup: how the set-up line shows the data folder."""
from __future__ import annotations

from pathlib import Path

from helpers import setup


def test_a_folder_in_the_course_is_shown_relative_to_it():
    assert setup.shown_path(setup.COURSE_ROOT / "data") == "data/"
    assert setup.shown_path(setup.COURSE_ROOT / "build" / "empty-data") == "build/empty-data/"


def test_a_folder_in_home_is_shown_with_a_tilde(monkeypatch, tmp_path):
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    assert setup.shown_path(tmp_path / "course-data") == "~/course-data/"


def test_a_folder_elsewhere_is_shown_in_full(monkeypatch, tmp_path):
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    assert setup.shown_path(tmp_path / "shared") == str((tmp_path / "shared").resolve())


def test_the_set_up_line_names_the_data_folder(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(setup.COURSE_ROOT / "data"))
    line = setup.setup_line(seed=3, tensorflow=False)
    assert line.startswith("Python ") and line.endswith("· seed 3 · data folder data/")
