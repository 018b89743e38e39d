"""Numbers typed into notebook prose must be numbers the stored outputs show.

Notebook 05's step 8 ("which architecture for which task") quotes measured numbers of every notebook. A
rebuild that changes one of them would leave the table wrong without anyone noticing; this test names each
number of the table that no stored output of the course shows.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def outputs_text(name: str) -> str:
    """The text of every stored output of notebook ``name`` (e.g. "02_rnn")."""
    parts = []
    for cell in nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if "text" in out else str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def step_text(name: str, heading: str) -> str:
    """The markdown of the step of notebook ``name`` whose heading starts with ``heading``."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end > 0 else None]


def test_the_architecture_table_quotes_stored_outputs():
    """Each number of a table row is shown by the outputs of a notebook that the row names ("02, step 4")."""
    names = {p.stem[:2]: p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    rows = [line for line in step_text("05_outlook", "## Step 8").splitlines() if line.startswith("|")][2:]
    assert len(rows) >= 6, "05's step 8 table has lost its rows"
    missing = []
    for row in rows:
        cited = sorted({names[n] for n in re.findall(r"\b(0\d), (?:step|exercise)", row) if n in names})
        assert cited, f"a row of 05's step 8 names no notebook step: {row[:80]}"
        shown = set(NUMBER.findall("\n".join(outputs_text(name) for name in cited)))
        missing += [f"{n} ({', '.join(cited)})" for n in NUMBER.findall(row) if n not in shown]
    assert not missing, f"numbers in 05's step 8 that the cited notebooks' stored outputs don't show: {missing}"
