"""Measure every notebook: wall time and peak memory, each in a fresh kernel, one after the other.

    python tools/benchmark.py               # all notebooks; about as long as running them all
    python tools/benchmark.py 00 02         # some of them
    python tools/benchmark.py --warm-cache  # reuse the data cache instead of an empty one per notebook

Each notebook runs from a fresh kernel and, unless ``--warm-cache``, an empty cache folder of its own
(``COURSE_DATA_DIR`` set to a new temporary folder: simulated sets and trained models are made again),
with the course's numerical settings (``helpers.setup.start``: oneDNN off, 2 threads) unless the
environment sets them (e.g. ``TF_ENABLE_ONEDNN_OPTS=1`` to see what an AVX-512 CPU gains with oneDNN).

Writes the table to notebooks/RUNTIMES.md and between the runtime markers of README.md, and
rewrites the "**Measured runtime:**" line at the top of each measured notebook (source and .ipynb).
Numbers depend on the machine: the table says which one (CPU count and model).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import make_student_copies  # tools/, this script's folder

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT / "notebooks"
LINE = re.compile(r"\*\*Measured runtime:\*\*[^\n]*")

# Runs in a child process: execute one notebook, then report the kernel's peak memory.
CHILD = r"""
import json, os, resource, sys, time
import nbformat
from nbclient import NotebookClient
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
nb = nbformat.read(sys.argv[1], as_version=4)
t0 = time.perf_counter()
NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}},
               extra_arguments=["--IPKernelApp.capture_fd_output=False"]).execute()
wall = time.perf_counter() - t0
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel, reaped after shutdown
print(json.dumps({"wall_s": wall, "peak_mib": peak_kib / 1024}))
"""


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_features() -> str:
    """Whether this CPU has AVX-512 (where TensorFlow would turn oneDNN on by itself)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "CPU features unknown"
    return "with AVX-512" if "avx512f" in flags else "without AVX-512"


def numerics() -> str:
    """The numerical settings the notebooks ran with (the course's unless the environment overrides them)."""
    sys.path.insert(0, str(ROOT))
    from helpers.setup import REPRODUCIBLE_ENV

    return ", ".join(f"{k}={os.environ.get(k, v)}" for k, v in REPRODUCIBLE_ENV.items())


def measure(path: Path, warm_cache: bool = False) -> dict[str, float]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="course-bench-") as empty:
        env = dict(os.environ) if warm_cache else dict(os.environ, COURSE_DATA_DIR=empty)
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(NB)], capture_output=True, text=True,
                             check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def runtime_line(r: dict[str, float]) -> str:
    return (f"**Measured runtime:** {r['wall_s']:.0f} s, peak memory {r['peak_mib'] / 1024:.1f} GiB "
            f"(offline, {os.cpu_count()}-core CPU {cpu_features()}, {numerics()}, empty cache; "
            f"`python tools/benchmark.py`, {date.today().isoformat()})")


def rewrite_line(path: Path, line: str) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        import nbformat

        nb = nbformat.read(path, as_version=4)
        nb.cells[0].source = LINE.sub(line, nb.cells[0].source, count=1)
        tmp = path.with_suffix(".ipynb.part")
        nbformat.write(nb, tmp)
        os.replace(tmp, path)
    else:
        path.write_text(LINE.sub(line, text, count=1), encoding="utf-8")


def table(results: dict[str, dict[str, float]]) -> str:
    rows = ["| notebook | wall time | peak memory |", "|---|---:|---:|"]
    for name, r in results.items():
        rows.append(f"| [{name}](notebooks/{name}.ipynb) | {r['wall_s']:.0f} s | {r['peak_mib'] / 1024:.2f} GiB |")
    total = sum(r["wall_s"] for r in results.values())
    rows.append(f"| **all** | **{total:.0f} s** | |")
    rows.append("")
    rows.append(f"Measured by `python tools/benchmark.py` on {date.today().isoformat()}: {os.cpu_count()} cores "
                f"({cpu_name()}, {cpu_features()}), {numerics()}, offline, each notebook in a fresh kernel "
                "and an empty cache, one after the other.")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*")
    parser.add_argument("--warm-cache", action="store_true",
                        help="reuse the data cache (faster, not the budget's case)")
    args = parser.parse_args(argv)
    paths = sorted(p for p in NB.glob("[0-9][0-9]_*.ipynb") if not args.prefixes or p.name[:2] in args.prefixes)
    store = NB / "RUNTIMES.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    for path in paths:
        t0 = time.perf_counter()
        r = measure(path, args.warm_cache)
        results[path.stem] = r
        print(f"{path.name:28s} {r['wall_s']:6.1f} s  {r['peak_mib']:7.0f} MiB  "
              f"({time.perf_counter() - t0:.0f} s with start-up)")
        line = runtime_line(r)
        rewrite_line(NB / "src" / f"{path.stem}.py", line)
        rewrite_line(path, line)
    results = dict(sorted(results.items()))
    store.write_text(json.dumps(results, indent=1) + "\n")
    md = table(results)
    (NB / "RUNTIMES.md").write_text("# Notebook runtimes\n\n" + md + "\n", encoding="utf-8")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = re.sub(r"(<!-- runtimes -->\n).*?(\n<!-- /runtimes -->)", lambda m: m.group(1) + md + m.group(2), text,
                 flags=re.S)
    readme.write_text(new, encoding="utf-8")
    make_student_copies.update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
