"""The notebook checker (tests/nbcheck.py): markers, number parsing, tolerance, a real run."""
from __future__ import annotations

import nbformat
import pytest

import nbcheck
from nbcheck import Tolerance, compare, policy, split_numbers


def test_markers():
    assert policy("# CHECK_OUTPUT\nprint(1)") == "exact"
    assert policy("# CHECK_OUTPUT trained\nprint(1)") == "trained"
    assert policy("print(1)") is None
    assert policy("print(1)\n# CHECK_OUTPUT") is None  # only the first line counts
    for typo in ("# CHECK_OUTPUT: trained", "# CHECK_OUTPUT train", "#CHECK_OUTPUT trained"):
        with pytest.raises(ValueError, match="unknown output-check marker"):
            policy(typo + "\nprint(1)")


def test_numbers_are_split_from_text():
    text, nums = split_numbers("AUC 0.944, accuracy 0.880 on 1,200 images; 23,890 parameters (28, 28)")
    assert nums == [0.944, 0.880, 1200, 23890, 28, 28]
    assert text[0] == "AUC " and text[-1] == ")"
    _, nums = split_numbers("gain -0.012 and +0.5, 1e-05, 3.5e2")
    assert nums == [-0.012, 0.5, 1e-05, 350.0]
    _, nums = split_numbers("the 2e2 line2 and e2, .5")
    assert nums == [200.0, 2, 2, 0.5]
    text, nums = split_numbers("ResNet-18 and x-1")
    assert nums == [18, 1] and text[0] == "ResNet-"


def test_whitespace_runs_count_as_one_space():
    stored = "recipe   test AUC\narticle     0.944\n"
    fresh = "recipe   test AUC\narticle      0.95\n"  # pandas re-aligns a narrower number
    assert compare(stored, fresh, "trained") == []


def test_exact_check():
    assert compare("OK 3\n", "OK 3\n", "exact") == []
    assert compare("OK 3\n", "OK 3", "exact") == []
    assert compare("OK 3\n", "OK 4\n", "exact")


def test_trained_check_uses_the_tolerance():
    tol = Tolerance(atol=0.05, rtol=0.25)
    assert compare("AUC 0.944", "AUC 0.990", "trained", tol) == []
    problems = compare("AUC 0.944", "AUC 0.995", "trained", tol)
    assert len(problems) == 1 and "stored 0.944, fresh 0.995" in problems[0]
    assert compare("missed 129", "missed 105", "trained", tol) == []      # |24| <= 0.25 * 129
    assert compare("missed 129", "missed 90", "trained", tol)
    assert compare("rate 0.02", "rate 0.06", "trained", tol) == [] and compare("rate 0.02", "rate 0.08", "trained", tol)
    assert compare("n 2", "n 2.49", "trained", tol) == [] and compare("n 2", "n 2.6", "trained", tol)
    # the text around the numbers must not change, nor the count of numbers
    assert compare("AUC 0.944", "ACC 0.944", "trained", tol)
    assert compare("AUC 0.944", "AUC 0.944 0.1", "trained", tol)


def test_unknown_comparison_is_refused():
    with pytest.raises(ValueError):
        compare("a", "a", "roughly")


def test_output_text_takes_stdout_and_plain_results_only():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "a 1\n"},
        {"output_type": "stream", "name": "stderr", "text": "noise\n"},
        {"output_type": "execute_result", "data": {"text/plain": "2"}},
        {"output_type": "display_data", "data": {"image/png": "...", "text/plain": "<Figure>"}},
    ]
    assert nbcheck.output_text(outputs) == "a 1\n2\n"


def _notebook(cells: list[tuple[str, str]]):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src, _ in cells]
    for cell, (_, out) in zip(nb.cells, cells):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=out)] if out else []
    return nb


def test_compare_notebooks_reports_each_checked_cell():
    stored = _notebook([("# CHECK_OUTPUT\nprint('n', 10)", "n 10\n"),
                        ("# CHECK_OUTPUT trained\nprint('auc', auc)", "auc 0.9\n"),
                        ("print('not compared')", "x\n")])
    fresh = _notebook([("# CHECK_OUTPUT\nprint('n', 10)", "n 11\n"),
                       ("# CHECK_OUTPUT trained\nprint('auc', auc)", "auc 0.92\n"),
                       ("print('not compared')", "y\n")])
    report = nbcheck.compare_notebooks(stored, fresh)
    assert report[0].startswith("code cell 1 (exact)")
    assert not any("code cell 2" in line or "code cell 3" in line for line in report)
    with pytest.raises(ValueError, match="same code cells"):
        nbcheck.compare_notebooks(stored, _notebook([("print(1)", "")]))


def test_a_notebook_runs_in_a_kernel_with_the_configured_environment(tmp_path):
    nb = _notebook([("# CHECK_OUTPUT\nimport os\nprint(os.environ.get('COURSE_TEST_VAR'))", "yes\n")])
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    fresh = nbcheck.run_notebook(path, {"COURSE_TEST_VAR": "yes"}, timeout=60)
    assert nbcheck.compare_notebooks(nb, fresh) == []
    fresh = nbcheck.run_notebook(path, {"COURSE_TEST_VAR": "no"}, timeout=60)
    assert nbcheck.compare_notebooks(nb, fresh)


def test_an_error_in_a_cell_fails_the_run(tmp_path):
    from nbclient.exceptions import CellExecutionError

    path = tmp_path / "01_bad.ipynb"
    nbformat.write(_notebook([("raise RuntimeError('boom')", "")]), path)
    with pytest.raises(CellExecutionError, match="boom"):
        nbcheck.run_notebook(path, {}, timeout=60)


def test_a_cell_that_times_out_is_run_again_in_a_fresh_kernel_then_fails(tmp_path, capsys):
    from nbclient.exceptions import CellTimeoutError

    marker = tmp_path / "first_run_done"
    code = (f"import pathlib, time\nm = pathlib.Path({str(marker)!r})\n"
            "if not m.exists():\n    m.touch()\n    time.sleep(30)\nprint('ok')")
    path = tmp_path / "01_hang_once.ipynb"
    nbformat.write(_notebook([(code, "ok\n")]), path)
    fresh = nbcheck.run_notebook(path, {}, timeout=5)   # the first run hangs, the second finishes
    assert nbcheck.compare_notebooks(nbformat.read(path, as_version=4), fresh) == []
    assert "running the notebook again" in capsys.readouterr().err
    slow = tmp_path / "01_slow.ipynb"
    nbformat.write(_notebook([("import time\ntime.sleep(30)", "")]), slow)
    with pytest.raises(CellTimeoutError):
        nbcheck.run_notebook(slow, {}, timeout=3)


def test_configurations_differ_the_way_machines_do():
    assert "as-set-up" in nbcheck.CONFIGS and len(nbcheck.CONFIGS) >= 2
    other = nbcheck.CONFIGS["other-cpu"]
    assert other["TF_ENABLE_ONEDNN_OPTS"] == "1" and other["TF_NUM_INTRAOP_THREADS"] != "2"
