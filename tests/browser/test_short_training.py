"""The course's short-training setting (``COURSE_SHORT_TRAINING=1``, :mod:`helpers.setup`), which the browser
tests' JupyterLab server turns on: every training runs one epoch, and the model cache is left alone."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from helpers import autoencoders as ae
from helpers import setup, train

from .conftest import SHORT_TRAINING_ENV

SOURCES = sorted((Path(__file__).resolve().parents[2] / "notebooks" / "src").glob("[0-9][0-9]_*.py"))


@pytest.fixture
def short(monkeypatch):
    monkeypatch.setenv(setup.SHORT_TRAINING_VAR, "1")


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    y = np.arange(40) % 2
    return x, y


def test_the_browser_server_and_only_it_turns_the_setting_on():
    assert SHORT_TRAINING_ENV == {setup.SHORT_TRAINING_VAR: "1"}
    assert setup.SHORT_TRAINING_VAR == "COURSE_SHORT_TRAINING"


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("ON", True), ("", False), ("0", False),
                                       ("no", False)])
def test_values(monkeypatch, value, on):
    monkeypatch.setenv(setup.SHORT_TRAINING_VAR, value)
    assert setup.short_training() is on
    assert setup.n_epochs(10) == (1 if on else 10)


def test_unset_means_the_stated_epochs_and_a_typo_is_refused(monkeypatch):
    monkeypatch.delenv(setup.SHORT_TRAINING_VAR, raising=False)
    assert not setup.short_training() and setup.n_epochs(7) == 7
    with pytest.raises(ValueError, match="epochs"):
        setup.n_epochs(0)
    monkeypatch.setenv(setup.SHORT_TRAINING_VAR, "maybe")
    with pytest.raises(ValueError, match="COURSE_SHORT_TRAINING"):
        setup.short_training()


def test_start_says_so(short, capsys):
    setup.start(seed=0, tensorflow=False)
    out = capsys.readouterr().out
    assert "seed 0" in out and "data folder" in out and "Short training is on" in out


@pytest.mark.parametrize("recipe", ["article", "better"])
def test_fit_runs_one_epoch(short, tiny, recipe):
    _, history = train.fit(recipe, *tiny, *tiny, epochs=3, seed=0)
    assert len(history.history["loss"]) == 1 and history.info["epochs"] == 1


def test_fit_keeps_the_stated_epochs_without_it(monkeypatch, tiny):
    monkeypatch.delenv(setup.SHORT_TRAINING_VAR, raising=False)
    _, history = train.fit("article", *tiny, epochs=2, seed=0)
    assert len(history.history["loss"]) == 2


def test_cached_fit_neither_reads_nor_writes_the_cache(monkeypatch, tmp_path, tiny):
    monkeypatch.delenv(setup.SHORT_TRAINING_VAR, raising=False)
    _, first = train.cached_fit("article", *tiny, epochs=2, seed=0, folder=tmp_path)
    entries = sorted(tmp_path.iterdir())
    assert not first.cached and len(entries) == 1
    monkeypatch.setenv(setup.SHORT_TRAINING_VAR, "1")
    _, short_run = train.cached_fit("article", *tiny, epochs=2, seed=0, folder=tmp_path)
    assert not short_run.cached and len(short_run.history["loss"]) == 1   # the full entry is not used...
    assert sorted(tmp_path.iterdir()) == entries                          # ...and nothing is written


def test_full_batch_autoencoder_runs_one_keras_epoch(short):
    model = ae.linear_autoencoder(n_features=6, n_code=2, compile=False)
    x = np.random.default_rng(0).normal(size=(20, 6)).astype("float32")
    history = ae.fit_full_batch(model, x, steps=300, steps_per_epoch=50)
    assert len(history.history["loss"]) == 1


# ------------------------------------------------------------------ the notebooks read it
_FIT_CALL = re.compile(r"(\w+(?:\.\w+)*)\.fit\(((?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\)", re.S)
HELPERS = {"train", "recipes"}  # train.fit / recipes.fit read the setting themselves
VERBATIM = {"cifar_model"}      # 01: the article's CIFAR-10 code, verbatim and opt-in (COURSE_CIFAR10=1)


def _short_names(src: str) -> set[str]:
    """Names assigned from ``n_epochs(...)`` (``EPOCHS = n_epochs(10)``, ``A, B = 1, n_epochs(15)``)."""
    names = set()
    for line in src.splitlines():
        lhs, _, rhs = line.partition("=")
        if "n_epochs(" in rhs and re.fullmatch(r"[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*", lhs.strip()) and lhs[:1].strip():
            targets, values = [t.strip() for t in lhs.split(",")], [v.strip() for v in rhs.split(",")]
            names |= {t for t, v in zip(targets, values) if v.startswith("n_epochs(")}
    return names


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_every_hand_written_training_reads_the_setting(src):
    text = src.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    names = _short_names(code)
    bad = []
    for call in _FIT_CALL.finditer(code):
        owner, args = call.group(1), call.group(2)
        m = re.search(r"\bepochs=([^,)\s]+)", args)
        if m is None or owner in HELPERS or owner in VERBATIM:
            continue  # not a Keras fit (scikit-learn), or a helper that reads the setting itself
        value = m.group(1)
        if not (value.startswith("n_epochs(") or value in names):
            bad.append(f"{owner}.fit(... epochs={value} ...)")
    for m in re.finditer(r"for \w+ in range\((\w*EPOCHS\w*)\)", code):
        if m.group(1) not in names:
            bad.append(m.group(0))
    assert not bad, (f"{src.name}: trainings that ignore the short-training setting; write epochs=n_epochs(N) "
                     f"(docs/AUTHORING.md): {bad}")
