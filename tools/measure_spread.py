"""Measure how far each checked number of the notebooks moves across machines and seeds.

Runs each notebook (fresh kernel) under several variations of the stored run -- the emulated other
CPU of the test suite, TensorFlow's default (oneDNN on this AVX-512 CPU), one thread, other seeds --
and compares every number of every ``# CHECK_OUTPUT`` cell with the stored one. The course's
tolerance for trained numbers (``tests/nbcheck.py``, ``docs/AUTHORING.md``) is derived from this.

    python tools/measure_spread.py                 # every notebook, every variation
    python tools/measure_spread.py 01 04           # some notebooks
    python tools/measure_spread.py --variations other-cpu seed-1
    python tools/measure_spread.py --table         # only print the markdown table of what was measured

Results: ``build/spread/NN_name.json`` (every number, every variation) and a summary on stdout:
per notebook and variation, the largest move of numbers in [-1, 1] (absolute) and of larger
numbers (relative), and any checked cell whose text changed or that is marked exact and moved.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import nbcheck  # noqa: E402

VARIATIONS: dict[str, dict[str, str]] = {
    "repeat": {},                                         # the stored run's settings again: should move nothing
    "other-cpu": nbcheck.CONFIGS["other-cpu"],
    "tf-default": {"TF_ENABLE_ONEDNN_OPTS": "1"},        # what TensorFlow does by itself on this AVX-512 CPU
    "one-thread": {"TF_NUM_INTRAOP_THREADS": "1"},
    "seed-1": {"COURSE_SEED": "1"},
    "seed-2": {"COURSE_SEED": "2"},
}


def measure(path: Path, name: str, env: dict[str, str]) -> dict:
    """Run one notebook under one variation; return its per-cell comparison with the stored outputs."""
    stored = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    fresh = nbcheck.run_notebook(path, env)
    seconds = time.perf_counter() - t0
    cells = []
    for n, (s, f) in enumerate(zip(nbcheck.code_cells(stored), nbcheck.code_cells(fresh)), start=1):
        how = nbcheck.policy(s.source)
        if how is None:
            continue
        s_text, s_num = nbcheck.split_numbers(nbcheck.output_text(s.outputs))
        f_text, f_num = nbcheck.split_numbers(nbcheck.output_text(f.outputs))
        same_text = s_text == f_text and len(s_num) == len(f_num)
        cells.append({"cell": n, "how": how, "same_text": same_text,
                      "stored": s_num, "fresh": f_num if same_text else None,
                      "text": None if same_text else nbcheck.output_text(f.outputs)})
    return {"variation": name, "env": env, "seconds": round(seconds, 1), "cells": cells}


def summarise(result: dict) -> dict:
    """Largest absolute move of numbers in [-1, 1], largest relative move of the others, and surprises."""
    small, large, surprises = 0.0, 0.0, []
    for c in result["cells"]:
        if not c["same_text"]:
            surprises.append(f"cell {c['cell']} ({c['how']}): text changed")
            continue
        for a, b in zip(c["stored"], c["fresh"]):
            if a == b:
                continue
            if c["how"] == "exact":
                surprises.append(f"cell {c['cell']} (exact): {a:g} -> {b:g}")
            elif abs(a) <= 1:
                small = max(small, abs(b - a))
            else:
                large = max(large, abs(b - a) / abs(a))
    return {"max_abs_small": small, "max_rel_large": large, "surprises": surprises}


def table(out: Path) -> str:
    """Markdown table of the measured moves of checked trained numbers, per notebook and variation."""
    rows = ["| notebook | variation | largest move, numbers in [-1, 1] | largest relative move, larger numbers |",
            "|---|---|---:|---:|"]
    for path in sorted(out.glob("*.json")):
        nb = ROOT / "notebooks" / f"{path.stem}.ipynb"
        current = {n: nbcheck.policy(c.source) for n, c in
                   enumerate(nbcheck.code_cells(nbformat.read(nb, as_version=4)), start=1)} if nb.exists() else {}
        for name, result in json.loads(path.read_text()).items():
            # only the cells that are still checked, and checked the way they are now
            cells = [dict(c, how=current[c["cell"]]) for c in result["cells"] if current.get(c["cell"])]
            s = summarise(dict(result, cells=cells))
            rows.append(f"| {path.stem} | {name} | {s['max_abs_small']:.3f} | {s['max_rel_large']:.3f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="notebook name prefixes, e.g. 01 04 (default: all)")
    parser.add_argument("--variations", nargs="*", default=list(VARIATIONS), choices=list(VARIATIONS))
    parser.add_argument("--table", action="store_true", help="print the table of earlier measurements and stop")
    args = parser.parse_args(argv)
    out = ROOT / "build" / "spread"
    out.mkdir(parents=True, exist_ok=True)
    if args.table:
        print(table(out))
        return 0
    notebooks = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                       if not args.prefixes or any(p.name.startswith(x) for x in args.prefixes))
    for path in notebooks:
        target = out / f"{path.stem}.json"
        results = json.loads(target.read_text()) if target.exists() else {}
        for name in args.variations:
            result = measure(path, name, VARIATIONS[name])
            result["summary"] = summarise(result)
            results[name] = result
            target.write_text(json.dumps(results, indent=1))
            s = result["summary"]
            print(f"{path.stem:28s} {name:11s} {result['seconds']:6.1f} s  max |d| (in [-1,1]) {s['max_abs_small']:.3f}"
                  f"  max rel d (larger) {s['max_rel_large']:.3f}  {'; '.join(s['surprises'])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
