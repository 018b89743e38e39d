"""The course's notebook checker: run every notebook, compare the outputs that teach something.

Why not plain nbval: nbval compares text exactly, and numbers that come out of training differ in
the last digits from one CPU to another (measured: oneDNN's instruction set and the thread count
change trained losses; see README, "Same numbers?"). So a checked cell says how it is compared,
on its first line:

- ``# CHECK_OUTPUT`` -- **exact**: the text output must equal the stored one (formula checks,
  shapes, data sizes, parameter counts: anything computed without training).
- ``# CHECK_OUTPUT trained`` -- **trained**: the text between the numbers must equal the stored
  text (whitespace runs count as one space) and each number must lie within ``TRAINED``'s tolerance
  of the stored number.

Every other cell runs (an error fails the test) but its output is not compared. Only text is
compared: ``stdout`` and the ``text/plain`` of results; figures and ``stderr`` are not.

Each notebook is run under each configuration of ``CONFIGS`` (one test each): as this machine is
set up, and emulating another CPU. The tolerance was derived from the spread measured across those
configurations and several seeds (``tools/measure_spread.py``; figures in ``docs/AUTHORING.md``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "# CHECK_OUTPUT"


@dataclass(frozen=True)
class Tolerance:
    """How far a trained number may move: ``atol`` for numbers in [-1, 1] (AUC, accuracy, rates,
    correlations), ``rtol`` (relative) for larger ones (counts, losses, decibels), never less than ``atol``."""

    atol: float
    rtol: float

    def allowed(self, stored: float) -> float:
        return self.atol if abs(stored) <= 1 else max(self.atol, self.rtol * abs(stored))

    def accepts(self, stored: float, fresh: float) -> bool:
        return abs(fresh - stored) <= self.allowed(stored) + 1e-12

    def __str__(self) -> str:
        return f"±{self.atol:g} for numbers in [-1, 1], ±{self.rtol:.0%} for larger ones"


#: The one tolerance for numbers that come out of training (see docs/AUTHORING.md for how it was derived).
TRAINED = Tolerance(atol=0.05, rtol=0.10)

#: Configurations every notebook is checked under: the machine as it is set up (the course's
#: defaults from ``helpers.setup.start`` unless the environment overrides them), and an emulated
#: other CPU (oneDNN forced on, as TensorFlow does on AVX-512 CPUs, but limited to AVX
#: instructions, and one thread instead of two).
CONFIGS: dict[str, dict[str, str]] = {
    "as-set-up": {},
    "other-cpu": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX", "TF_NUM_INTRAOP_THREADS": "1"},
}

# A number: optional sign, digits with optional thousands commas, optional decimals and exponent.
NUMBER = re.compile(r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


def policy(source: str) -> str | None:
    """``"exact"``, ``"trained"`` or ``None`` (not compared), from a code cell's first line.

    Raises ValueError for a first line that starts like a marker but is not one (a typo would
    otherwise silently turn a check off).
    """
    first = source.lstrip("\n").split("\n", 1)[0].strip()
    if not first.startswith(MARKER):
        if "CHECK_OUTPUT" in first:
            raise ValueError(f"unknown output-check marker {first!r}; use {MARKER!r} or {MARKER + ' trained'!r}")
        return None
    rest = first[len(MARKER):].strip()
    if rest == "":
        return "exact"
    if rest == "trained":
        return "trained"
    raise ValueError(f"unknown output-check marker {first!r}; use {MARKER!r} or {MARKER + ' trained'!r}")


def output_text(outputs: list[dict[str, Any]]) -> str:
    """The text a learner reads in a cell's outputs: stdout and plain-text results, in order."""
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "text/plain" in data and "image/png" not in data:
                text = data["text/plain"]
                parts.append(("".join(text) if isinstance(text, list) else text) + "\n")
    return "".join(parts)


def split_numbers(text: str) -> tuple[list[str], list[float]]:
    """Split text into the pieces between numbers (whitespace runs made one space) and the numbers."""
    pieces, numbers, last = [], [], 0
    for m in NUMBER.finditer(text):
        token = m.group()
        if not any(ch.isdigit() for ch in token):
            continue
        # a sign glued to a word ("x-1") belongs to the text, not to the number
        if token[0] in "+-" and m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_)]"):
            token, start = token[1:], m.start() + 1
        else:
            start = m.start()
        pieces.append(text[last:start])
        numbers.append(float(token.replace(",", "")))
        last = m.end()
    pieces.append(text[last:])
    return [re.sub(r"\s+", " ", p) for p in pieces], numbers


def compare(stored: str, fresh: str, how: str, tolerance: Tolerance = TRAINED) -> list[str]:
    """What differs between a stored and a fresh output, as readable lines (empty: they agree)."""
    if how == "exact":
        if stored.rstrip() == fresh.rstrip():
            return []
        return ["text differs (exact check):", "  stored: " + stored.rstrip().replace("\n", "\n          "),
                "  fresh:  " + fresh.rstrip().replace("\n", "\n          ")]
    if how != "trained":
        raise ValueError(f"unknown comparison {how!r}")
    s_text, s_num = split_numbers(stored)
    f_text, f_num = split_numbers(fresh)
    if s_text != f_text or len(s_num) != len(f_num):
        return ["text around the numbers differs (trained check):",
                "  stored: " + stored.rstrip().replace("\n", "\n          "),
                "  fresh:  " + fresh.rstrip().replace("\n", "\n          ")]
    problems = []
    for i, (a, b) in enumerate(zip(s_num, f_num)):
        if not tolerance.accepts(a, b):
            context = (s_text[i][-30:] + "▶").lstrip()
            problems.append(f"number {i + 1} ({context}): stored {a:g}, fresh {b:g}, "
                            f"allowed ±{tolerance.allowed(a):.3g}")
    return problems


def code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def compare_notebooks(stored_nb: Any, fresh_nb: Any, tolerance: Tolerance = TRAINED) -> list[str]:
    """Compare every checked cell of two versions of one notebook; return the report lines."""
    stored_cells, fresh_cells = code_cells(stored_nb), code_cells(fresh_nb)
    if [c.source for c in stored_cells] != [c.source for c in fresh_cells]:
        raise ValueError("the two notebooks do not have the same code cells")
    report = []
    for n, (s, f) in enumerate(zip(stored_cells, fresh_cells), start=1):
        how = policy(s.source)
        if how is None:
            continue
        problems = compare(output_text(s.outputs), output_text(f.outputs), how, tolerance)
        if problems:
            title = s.source.strip().split("\n")[1:2] or [""]
            report.append(f"code cell {n} ({how}): {title[0][:70]}")
            report.extend("  " + p for p in problems)
    return report


def run_notebook(path: Path, env: dict[str, str], timeout: int = 420, attempts: int = 2) -> Any:
    """Execute a copy of the notebook at ``path`` in a fresh kernel with ``env`` added; return it.

    Raises nbclient's CellExecutionError (with the failing cell and traceback) if a cell errs.
    timeout: seconds one cell may take (the slowest cell takes under 3 minutes on a busy 2-core machine).
    A cell that times out is run again from the top in a fresh kernel, up to ``attempts`` runs in all, saying
    so on stderr: now and then the kernel goes idle without ever answering the client (seen once in a CI run
    with ipykernel 7.4: kernel and client both waiting), which is the machinery, not the notebook. A notebook
    that is merely too slow times out again and fails.
    """
    import sys

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    kernel_env = dict(os.environ, **env)
    kernel_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for attempt in range(1, attempts + 1):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute(env=kernel_env)
            return nb
        except CellTimeoutError:
            if attempt == attempts:
                raise
            print(f"{path.name}: a cell did not finish within {timeout} s; running the notebook again in a fresh "
                  f"kernel (attempt {attempt + 1} of {attempts})", file=sys.stderr)
    raise AssertionError("unreachable")
