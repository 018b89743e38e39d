"""Build the course notebooks from their sources and execute them, storing outputs.

Sources are percent-format Python files in ``notebooks/src/`` (``# %%`` code cells,
``# %% [markdown]`` text cells; jupytext format). Each becomes ``notebooks/<name>.ipynb``,
executed top to bottom in a fresh kernel from the ``notebooks/`` folder, outputs stored.

    python tools/build_notebooks.py            # all notebooks
    python tools/build_notebooks.py 01 03      # the ones whose names start with 01 or 03
    python tools/build_notebooks.py --no-execute 00   # convert only
    python tools/build_notebooks.py --text-only 01    # copy text (markdown) and cell metadata edits into
                                                      # the stored notebook, keeping its outputs; refused
                                                      # when a code cell changed (then run it again)
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

import make_student_copies  # tools/, this script's folder

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"


def sources(prefixes: list[str]) -> list[Path]:
    """The notebook sources whose file names start with one of ``prefixes`` (all when empty)."""
    files = sorted(SRC.glob("[0-9][0-9]_*.py"))
    return [f for f in files if not prefixes or any(f.name.startswith(p) for p in prefixes)]


def to_notebook(src: Path) -> nbformat.NotebookNode:
    """Read a percent-format source as a notebook with a Python 3 kernel."""
    nb = jupytext.read(src, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


@contextlib.contextmanager
def empty_data_folder() -> Iterator[Path]:
    """``build/empty-data/``, empty, for one run; removed afterwards."""
    folder = ROOT / "build" / "empty-data"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def execute(nb: nbformat.NotebookNode, timeout: int = 900, warm_cache: bool = False) -> nbformat.NotebookNode:
    """Execute in a fresh kernel from notebooks/, without TensorFlow's C++ log lines in the outputs.

    Unless ``warm_cache``, the kernel gets an empty cache folder of its own (``COURSE_DATA_DIR`` =
    ``build/empty-data/``, emptied before and after), so the stored outputs show what a learner's first run
    shows (simulated sets made, models trained, nothing "from the cache"); the set-up line names that folder.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with empty_data_folder() as empty:
        env = dict(os.environ) if warm_cache else dict(os.environ, COURSE_DATA_DIR=str(empty))
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(OUT)}},
            extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        )
        client.execute(env=env)
    return nb


def copy_text(nb: nbformat.NotebookNode, stored: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The stored notebook with the markdown cells and cell metadata of ``nb``; code must be unchanged."""
    same_code = [(c.cell_type, c.source if c.cell_type == "code" else "") for c in nb.cells] == \
                [(c.cell_type, c.source if c.cell_type == "code" else "") for c in stored.cells]
    if not same_code:
        raise SystemExit(f"{name}: code cells changed since the last run; build it without --text-only.")
    for new, old in zip(nb.cells, stored.cells):
        if new.cell_type == "markdown":
            old.source = new.source
        keep = {k: v for k, v in old.metadata.items() if k == "execution"}
        old.metadata = nbformat.from_dict({**new.metadata, **keep})
    return stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*", help="e.g. 00 01 (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="convert only, keep no outputs")
    parser.add_argument("--text-only", action="store_true", help="copy markdown/metadata edits, keep outputs")
    parser.add_argument("--warm-cache", action="store_true", help="reuse the data cache (default: an empty one)")
    args = parser.parse_args(argv)
    files = sources(args.prefixes)
    if not files:
        print(f"no notebook sources match {args.prefixes} in {SRC}", file=sys.stderr)
        return 1
    for src in files:
        nb = to_notebook(src)
        t0 = time.perf_counter()
        target = OUT / (src.stem + ".ipynb")
        if args.text_only:
            nb = copy_text(nb, nbformat.read(target, as_version=4), target.name)
        elif not args.no_execute:
            execute(nb, warm_cache=args.warm_cache)
        tmp = target.with_suffix(".ipynb.part")
        nbformat.write(nb, tmp)
        os.replace(tmp, target)
        print(f"{target.relative_to(ROOT)}  ({time.perf_counter() - t0:.1f} s)")
    make_student_copies.update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
