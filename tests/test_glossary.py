"""Every term a notebook marks as a glossary term is an entry of ``docs/GLOSSARY.md``.

The rule (also in docs/AUTHORING.md, "Glossary terms"):

- Every notebook links to the glossary in its title cell.
- A notebook whose title cell says "Words in *italics* are explained in the glossary" uses single-asterisk
  italics for glossary terms only: every ``*phrase*`` in its lesson text (the markdown from the title to the
  ``## Exercises`` heading; exercises and references are not checked) must name an entry. Emphasis is bold there.
- A link into the glossary whose text is not "glossary" (``[Platt scaling](../docs/GLOSSARY.md)``) must name an
  entry, in any notebook.

An entry is a row of a glossary table; its English cell may give several names, separated by " / " or ", " (outside
brackets). A name also counts without its bracketed part ("(data) leakage" gives "leakage" and "data leakage"), and a
bracketed part that starts with "=" or is an abbreviation gives names too ("ROC curve / area under the curve (AUC)"
gives "ROC curve", "area under the curve" and "AUC"). Names match case-insensitively, a plural "s" aside.
"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"
SOURCES = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
DECLARATION = re.compile(r"Words in \*italics\* are explained in the \[glossary\]\([^)]*GLOSSARY\.md[^)]*\)\.?")
ITALIC = re.compile(r"(?<![\w*\\])\*(?![\s*])((?:[^*\n]|\n(?![ \t]*\n))+?)(?<![\s\\])\*(?![\w*])")
GLOSSARY_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./)*docs/GLOSSARY\.md(?:#[^)]*)?\)")
ABBREVIATION = re.compile(r"^[A-Z][A-Z0-9+\-]*$")


def normalise(term: str) -> str:
    """Lower case, one space between words, no surrounding punctuation."""
    return " ".join(term.lower().split()).strip(" .,:;")


def split_outside_brackets(text: str, separators: tuple[str, ...] = (" / ", ", ")) -> list[str]:
    """``text`` cut at each separator that is not inside round brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += ch == "("
        depth -= ch == ")"
        sep = next((s for s in separators if depth == 0 and text.startswith(s, i)), None)
        if sep:
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def names_of(english: str) -> set[str]:
    """The names one English cell gives (see the module's docstring)."""
    names = set()
    for name in split_outside_brackets(english):
        names.add(name)
        names.add(re.sub(r"\s*\([^)]*\)\s*", " ", name))
        names.add(name.replace("(", "").replace(")", ""))
        for inner in re.findall(r"\(([^)]*)\)", name):
            pieces = split_outside_brackets(inner.lstrip("= "))
            if inner.startswith("=") or all(ABBREVIATION.match(p) for p in pieces):
                names.update(pieces)
    return {normalise(n) for n in names if normalise(n)}


def glossary_entries() -> dict[str, str]:
    """Every name in the glossary's tables, mapped to the row's English cell."""
    entries = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if not line.startswith("| ") or len(cells) != 4 or cells[1].startswith("English"):
            continue  # not a table row, or a header
        for name in names_of(cells[1]):
            entries[name] = cells[1]
    return entries


def is_entry(term: str, entries: dict[str, str]) -> bool:
    t = normalise(term)
    return t in entries or (t.endswith("s") and t[:-1] in entries)


def strip_markup(text: str) -> str:
    """Markdown without maths, code spans and bold (their asterisks are not italics)."""
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+\$", " ", text)
    text = re.sub(r"`[^`\n]*`", " ", text)
    return re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"\1", text, flags=re.S)


def lesson_markdown(src: Path) -> tuple[str, str]:
    """(title cell, markdown from the title up to the "## Exercises" heading) of a notebook source."""
    cells = [c.source for c in jupytext.read(src, fmt="py:percent").cells if c.cell_type == "markdown"]
    text = "\n\n".join(cells)
    end = re.search(r"^## Exercises", text, flags=re.M)
    return cells[0], text[: end.start()] if end else text


def marked_terms(src: Path) -> list[str]:
    """The phrases ``src`` marks as glossary terms (see the module's docstring)."""
    title, lesson = lesson_markdown(src)
    cells = jupytext.read(src, fmt="py:percent").cells
    all_markdown = "\n\n".join(c.source for c in cells if c.cell_type == "markdown")
    terms = [t for t in GLOSSARY_LINK.findall(all_markdown) if normalise(t) != "glossary"]
    if DECLARATION.search(title):
        terms += [" ".join(t.split()) for t in ITALIC.findall(strip_markup(DECLARATION.sub(" ", lesson)))]
    return terms


def test_the_glossary_reader_finds_the_entries():
    entries = glossary_entries()
    assert len(entries) > 100
    for name in ("dicom", "leakage", "data leakage", "auc", "area under the curve", "ppv", "hd95", "platt scaling"):
        assert name in entries, name
    assert "curve" not in entries and "data" not in entries


def test_the_italics_reader():
    text = strip_markup("a *hidden state* $a * b * c$ `x*y*z` **bold** and *two\nlines* but *not\n\nthis*")
    assert ITALIC.findall(text) == ["hidden state", "two\nlines"]
    assert names_of("precision (= positive predictive value, PPV)") >= {"precision", "positive predictive value", "ppv"}


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_notebook_links_to_the_glossary(src):
    title, _ = lesson_markdown(src)
    assert "GLOSSARY.md" in title, f"{src.name}: the title cell does not link to ../docs/GLOSSARY.md"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_every_marked_term_is_in_the_glossary(src):
    entries = glossary_entries()
    missing = sorted({t for t in marked_terms(src) if not is_entry(t, entries)})
    assert not missing, (
        f"{src.name} marks these as glossary terms, but docs/GLOSSARY.md has no entry for them: {missing}. "
        "Add an entry (preferred), or write emphasis in **bold** (docs/AUTHORING.md, 'Glossary terms').")
