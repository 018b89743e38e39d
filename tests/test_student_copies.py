"""Student copies: student/ matches what tools/make_student_copies.py writes now, and the transformation is right."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_student_copies", ROOT / "tools" / "make_student_copies.py")
msc = importlib.util.module_from_spec(spec)
sys.modules["make_student_copies"] = msc
spec.loader.exec_module(msc)

HIDDEN = {"source_hidden": True}


def test_student_copies_are_up_to_date():
    problems = msc.differences()
    assert not problems, ("student/ is out of date with notebooks/: " + "; ".join(problems)
                          + ". Run: .venv/bin/python tools/make_student_copies.py")


def test_real_copies_hide_every_solution_and_keep_the_rest():
    for path in sorted(msc.NOTEBOOKS.glob(msc.PATTERN)):
        nb = nbformat.read(path, as_version=4)
        student = msc.student_copy(nb, path.name)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        student_sources = [c.source for c in student.cells]
        for sol in solutions:
            if sol.source.strip():
                assert sol.source not in student_sources, f"{path.name}: a solution leaked into the student copy"
        assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
        kept = [c for c in nb.cells if "solution" not in c.metadata.get("tags", [])]
        others = [c for c in student.cells if c.metadata.get("tags") not in (["answer"], ["student-copy"])]
        assert len(others) == len(kept)


def _links(nb: nbformat.NotebookNode) -> set[str]:
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", cell.source) + re.findall(r'src="([^"]+)"', cell.source):
            if not re.match(r"^(https?:|mailto:|#|data:)", target):
                found.add(target.split("#", 1)[0])
    return found


def test_relative_links_resolve_from_student_folder():
    for path in sorted(msc.STUDENT.glob(msc.PATTERN)):
        nb = nbformat.read(path, as_version=4)
        for target in _links(nb):
            original_ok = (msc.NOTEBOOKS / target).exists()
            if original_ok or target.startswith("../notebooks/"):
                assert (msc.STUDENT / target).resolve().exists(), f"{path.name}: link {target} is broken in student/"


# ---------------------------------------------------------------- the transformation on a small notebook
def small_notebook() -> nbformat.NotebookNode:
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# Title\nSee the [glossary](../docs/GLOSSARY.md)."),
        v4.new_code_cell("x = 1\nprint(x)", outputs=[v4.new_output("stream", text="1\n")], execution_count=1),
        v4.new_markdown_cell("**Exercise 1.** Do something.", metadata={"tags": ["exercise"]}),
        v4.new_code_cell("SECRET_ONE = 42", metadata={"tags": ["solution"], "jupyter": HIDDEN},
                         outputs=[v4.new_output("stream", text="42\n")], execution_count=2),
        v4.new_code_cell("SECRET_TWO = 43", metadata={"tags": ["solution"], "jupyter": HIDDEN}),
        v4.new_markdown_cell("**Exercise 2.** Write max pooling.", metadata={"tags": ["exercise"]}),
        v4.new_code_cell("def SECRET_POOL(x, size=2): ...", metadata={"tags": ["solution"], "jupyter": HIDDEN,
                                                                        "check": "check_max_pool"}),
        v4.new_code_cell("print('exercise code')", metadata={"tags": ["exercise"]},
                         outputs=[v4.new_output("stream", text="exercise code\n")], execution_count=3),
        v4.new_code_cell("SECRET_THREE = 1", metadata={"tags": ["solution"], "jupyter": HIDDEN,
                                                      "check": "check_threshold(answer, y, p, 0.9)",
                                                      "execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"}}),
        v4.new_markdown_cell("**Exercise 3.** Explain.", metadata={"tags": ["exercise"]}),
        v4.new_markdown_cell("SECRET_TEXT: a written answer.", metadata={"tags": ["solution"]}),
    ]
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return nb


def test_transformation_of_a_small_notebook():
    student = msc.student_copy(small_notebook(), "09_demo.ipynb")
    text = msc.render(student)
    assert "SECRET" not in text                      # no solution, not even in outputs
    cells = student.cells
    assert "Student copy" in cells[0].source and "../notebooks/09_demo.ipynb" in cells[0].source
    assert cells[1].source.startswith("# Title") and "../docs/GLOSSARY.md" in cells[1].source
    assert cells[2].outputs[0]["text"] == "1\n" and cells[2].execution_count == 1     # other outputs kept
    kinds = [(c.cell_type, c.metadata.get("tags")) for c in cells[3:]]
    assert kinds == [("markdown", ["exercise"]), ("code", ["answer"]),               # two solutions -> one stub
                     ("markdown", ["exercise"]), ("code", ["answer"]),
                     ("code", ["exercise"]), ("code", ["answer"]),
                     ("markdown", ["exercise"]), ("markdown", ["answer"])]
    assert cells[4].source == "# TODO: your answer\n" and cells[4].outputs == [] and cells[4].id == "cell-3"
    assert "check_max_pool(max_pool)" in cells[6].source and "# TODO" in cells[6].source
    assert cells[7].outputs == [] and cells[7].execution_count is None              # exercise output cleared
    assert "answer = ...\ncheck_threshold(answer, y, p, 0.9)" in cells[8].source
    assert "execution" not in cells[8].metadata and "jupyter" not in cells[8].metadata
    assert len({c.id for c in cells}) == len(cells)
    nbformat.validate(student)
    assert msc.render(msc.student_copy(small_notebook(), "09_demo.ipynb")) == text   # deterministic


def test_stub_gives_feedback_not_a_traceback(capsys):
    student = msc.student_copy(small_notebook(), "09_demo.ipynb")
    exec(compile(student.cells[6].source, "stub", "exec"), {})                      # the unedited stub runs
    assert capsys.readouterr().out.startswith("not yet:")


def test_unknown_checker_is_a_clear_error():
    nb = small_notebook()
    nb.cells[6].metadata["check"] = "check_nonsense"
    with pytest.raises(ValueError, match="check_nonsense.*known: check_max_pool"):
        msc.student_copy(nb, "09_demo.ipynb")


def test_write_and_check_mode(tmp_path, capsys):
    src, dst = tmp_path / "notebooks", tmp_path / "student"
    src.mkdir()
    nbformat.write(small_notebook(), src / "09_demo.ipynb")
    args = ["--src", str(src), "--dst", str(dst)]
    assert msc.main(args + ["--check"]) == 1 and "09_demo.ipynb: missing" in capsys.readouterr().err
    assert msc.main(args) == 0
    first = (dst / "09_demo.ipynb").read_bytes()
    assert msc.main(args + ["--check"]) == 0
    assert msc.main(args) == 0 and (dst / "09_demo.ipynb").read_bytes() == first       # same bytes each run
    (dst / "08_gone.ipynb").write_text("{}")
    nb = small_notebook()
    nb.cells[1].source = "x = 2"
    nbformat.write(nb, src / "09_demo.ipynb")
    assert msc.main(args + ["--check"]) == 1
    err = capsys.readouterr().err
    assert "09_demo.ipynb: out of date" in err and "08_gone.ipynb" in err
    assert msc.main(args) == 0 and not (dst / "08_gone.ipynb").exists()
    assert msc.main(args + ["--check"]) == 0
    assert not list(dst.glob("*.part"))
