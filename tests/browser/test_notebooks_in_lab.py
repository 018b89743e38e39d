"""Every course notebook, opened in JupyterLab in headless Chromium, runs and renders.

For each notebook: wait until its kernel is really attached (the toolbar says "idle" earlier, and
"run all" sent then opens a kernel dialog and hangs), clear the stored outputs, run all cells, wait
until every code cell shows ``[n]:``, then check: no error output, no JavaScript page error, every
figure drawn as an image of non-zero size, every widget rendered, and every slider (and dropdown)
changes its readout and what its output shows when moved with the keyboard. A full screenshot of
the notebook goes to ``tests/screenshots/<name>.png`` whatever the outcome.

The kernels of the test server run with the course's short-training setting on (``COURSE_SHORT_TRAINING=1``,
see ``conftest.py`` and ``helpers/setup.py``: every training runs one epoch), so the numbers shown differ from
the stored ones; they
are checked by the notebook tests (root ``conftest.py``). Under ``pytest -n 2 --dist worksteal`` each
test is a unit of work of its own, so two notebooks run at a time, each process with its own
JupyterLab and Chromium.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from .lab import course_notebooks

pytestmark = pytest.mark.browser

RUN_TIMEOUT_S = 240        # one notebook, all cells
READY_TIMEOUT_S = 120      # page load + kernel start on a busy 2-core machine
WIDGET_TIMEOUT_S = 60      # one redraw after a slider moved

NOTEBOOKS = course_notebooks()

# -- JavaScript run in the page (window.jupyterapp exists thanks to expose_app_in_browser) --------
JS_PANEL = """(path) => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return null;
  const w = app.shell.currentWidget;
  return (w && w.context && w.context.path === path && w.content && w.sessionContext) ? w : null;
}"""

JS_READY = """(path) => {
  const panel = (%s)(path);
  if (!panel) return false;
  const sc = panel.sessionContext, kernel = sc.session && sc.session.kernel;
  return panel.context.isReady && sc.isReady && !!kernel && kernel.status === 'idle'
         && kernel.connectionStatus === 'connected';
}""" % JS_PANEL

JS_DIALOG = """() => [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText).join(' | ')"""

JS_CLEAR = """async (path) => {
  const panel = (%s)(path);
  await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
  return panel.content.widgets.filter(c => c.model.type === 'code')
              .every(c => c.model.executionCount === null && c.model.outputs.length === 0);
}""" % JS_PANEL

JS_RUN_ALL = """() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); return true; }"""

# progress: code cells to run (non-empty source), how many show [n]:, how many [*]:, errors.
# Errors are read from the model: JupyterLab renders an error output with the same mime type as a
# warning on stderr (data-mime-type="application/vnd.jupyter.stderr"), so the DOM can't tell them apart.
JS_PROGRESS = """(path) => {
  const panel = (%s)(path);
  const cells = panel.content.widgets.filter(c => c.model.type === 'code'
                                                  && c.model.sharedModel.getSource().trim() !== '');
  // a cell whose source is folded (solutions) shows no prompt: read the same from its model
  const prompts = cells.map(c => {
    const p = c.node.querySelector('.jp-InputArea .jp-InputPrompt');
    if (!c.inputHidden && p) return p.textContent.trim();
    if (c.model.executionState === 'running') return '[*]:';
    return c.model.executionCount ? `[${c.model.executionCount}]:` : '[ ]:';
  });
  const errors = [];
  panel.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    for (let k = 0; k < c.model.outputs.length; k++) {
      const o = c.model.outputs.get(k);
      if (o.type === 'error') {
        const e = o.toJSON();
        errors.push(`cell ${i}: ${e.ename}: ${e.evalue}`);
      }
    }
  });
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {total: cells.length,
          done: prompts.filter(p => /^\\[\\d+\\]:$/.test(p)).length,
          pending: prompts.filter(p => p === '[*]:').length,
          prompts: prompts,
          errors: errors,
          status: kernel ? kernel.status : 'no kernel'};
}""" % JS_PANEL

# figures: every image output drawn with a non-zero natural size; matplotlib repr text = not drawn
JS_FIGURES = """(path) => {
  const panel = (%s)(path);
  const imgs = [...panel.node.querySelectorAll('.jp-OutputArea-output img')];
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0))
                  .map(i => (i.getAttribute('src') || '').slice(0, 40));
  const imageOutputs = [...panel.node.querySelectorAll('.jp-OutputArea-output[data-mime-type^="image/"]')];
  const empty = imageOutputs.filter(o => !o.querySelector('img, svg')).length;
  const reprs = [...panel.node.querySelectorAll('.jp-RenderedText')]
                  .filter(t => /<Figure size \\d+x\\d+ with/.test(t.textContent)).length;
  return {images: imgs.length, bad: bad, empty: empty, figureReprs: reprs};
}""" % JS_PANEL

# widgets: every widget-view output of the model has a rendered .jupyter-widgets element, no error
JS_WIDGETS = """(path) => {
  const panel = (%s)(path);
  let views = 0, rendered = 0;
  const failed = [];
  panel.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    for (let k = 0; k < c.model.outputs.length; k++) {
      if (!c.model.outputs.get(k).data['application/vnd.jupyter.widget-view+json']) continue;
      views++;
      const child = c.outputArea.widgets[k];
      if (!child) continue;
      if (/Error displaying widget|Error rendering|model not found/i.test(child.node.innerText))
        failed.push(`cell ${i}: ${child.node.innerText.slice(0, 200)}`);
      else if (child.node.querySelector('.jupyter-widgets')) rendered++;
    }
  });
  return {views: views, rendered: rendered, failed: failed};
}""" % JS_PANEL

# What a control's output shows: the Output widgets next to it (an interact box); else what its
# cell's widgets show apart from the controls; else every Output widget of the notebook.
JS_OUTPUT_SIGNATURE = """(el) => {
  const images = n => [...n.querySelectorAll('img')].map(i => i.src.length + ':' + i.src.slice(-64)).join(',');
  const sig = nodes => nodes.map(o => images(o) + '|' + o.innerText).join('||');
  const root = el.closest('.jp-OutputArea-child');
  for (let node = el.parentElement; node && root && root.contains(node); node = node.parentElement) {
    const outs = [...node.querySelectorAll('.widget-output')];
    if (outs.length) return sig(outs);
  }
  if (root) {
    const clone = root.cloneNode(true);
    clone.querySelectorAll('.widget-slider, .widget-dropdown, .widget-readout, input, select')
         .forEach(n => n.remove());
    const own = images(root) + '|' + clone.textContent.trim();
    if (own !== '|') return own;
  }
  return sig([...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-output')]);
}"""


def _wait(page, predicate, timeout_s: float, what: str, poll_s: float = 0.5):
    """Poll ``predicate()`` until truthy; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s: {what}", pytrace=False)
        page.wait_for_timeout(poll_s * 1000)


def _open_notebook(page, lab, name: str) -> None:
    page.goto(f"{lab.url}lab/workspaces/{uuid.uuid4().hex}/tree/{name}?token={lab.token}")

    def ready():
        if page.evaluate(JS_READY, name):
            return True
        dialog = page.evaluate(JS_DIALOG)
        if dialog:
            pytest.fail(f"a dialog opened instead of a kernel: {dialog}", pytrace=False)
        return False

    _wait(page, ready, READY_TIMEOUT_S, f"{name}: kernel attached and idle")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")


def _run_all(page, name: str) -> dict:
    assert page.evaluate(JS_CLEAR, name), "stored outputs were not cleared"
    page.evaluate(JS_RUN_ALL)
    idle_since = [None]

    def finished():
        p = page.evaluate(JS_PROGRESS, name)
        if p["done"] == p["total"]:
            return p
        if p["status"] in ("dead", "restarting", "autorestarting", "no kernel"):
            pytest.fail(f"{name}: the kernel died ({p['status']}; out of memory?) at prompts "
                        f"{p['prompts']}", pytrace=False)
        if p["errors"]:
            if p["pending"] == 0:  # run-all stops at the first error
                pytest.fail(f"{name}: error output: {p['errors']}", pytrace=False)
            return None
        stalled = p["pending"] == 0 and p["status"] == "idle"
        if not stalled:
            idle_since[0] = None
        elif idle_since[0] is None:
            idle_since[0] = time.monotonic()
        elif time.monotonic() - idle_since[0] > 10:
            pytest.fail(f"{name}: kernel idle but cells not run: prompts {p['prompts']}",
                        pytrace=False)
        return None

    return _wait(page, finished, RUN_TIMEOUT_S, f"{name}: every code cell shows [n]:", poll_s=1)


def _check_controls(page, name: str) -> list[str]:
    """Move every slider and dropdown; return what each did (for the report on failure)."""
    log = []
    sliders = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets.widget-slider")
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        slider.scroll_into_view_if_needed()
        assert slider.is_visible(), f"{name}: slider {i} is not visible"
        readout = slider.locator(".widget-readout").first
        handle = slider.locator(".noUi-handle").first
        assert handle.is_visible(), f"{name}: slider {i} has no visible handle"
        before_value = readout.inner_text().strip()
        _wait(page, lambda: slider.evaluate(JS_OUTPUT_SIGNATURE).strip("|"), WIDGET_TIMEOUT_S,
              f"{name}: slider {i}: its output shows something before it is moved")
        before_output = slider.evaluate(JS_OUTPUT_SIGNATURE)
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_timeout(300)
        if readout.inner_text().strip() == before_value:  # already at its maximum
            handle.press("ArrowLeft")
            handle.press("ArrowLeft")
        _wait(page, lambda: readout.inner_text().strip() != before_value, 10,
              f"{name}: slider {i}: readout {before_value!r} did not change after a key press")
        after_value = readout.inner_text().strip()

        def redrawn():
            sig = slider.evaluate(JS_OUTPUT_SIGNATURE)
            if sig == before_output or not sig.strip("|"):
                return None
            page.wait_for_timeout(500)  # let the redraw finish (clear_output(wait=True))
            return sig if slider.evaluate(JS_OUTPUT_SIGNATURE) == sig else None

        _wait(page, redrawn, WIDGET_TIMEOUT_S,
              f"{name}: slider {i} moved {before_value!r} -> {after_value!r} but its output "
              "did not change")
        log.append(f"slider {i}: {before_value} -> {after_value}, output changed")

    dropdowns = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets.widget-dropdown select")
    for i in range(dropdowns.count()):
        select = dropdowns.nth(i)
        select.scroll_into_view_if_needed()
        options = select.locator("option")
        if options.count() < 2:
            continue
        current = select.input_value()
        values = [options.nth(k).get_attribute("value") for k in range(options.count())]
        other = next(v for v in values if v != current)
        before_output = select.evaluate(JS_OUTPUT_SIGNATURE)
        select.select_option(other)
        _wait(page, lambda: select.evaluate(JS_OUTPUT_SIGNATURE) not in (before_output, ""),
              WIDGET_TIMEOUT_S, f"{name}: dropdown {i} set to {other!r} but its output did not change")
        log.append(f"dropdown {i}: {current} -> {other}, output changed")
    return log


def _screenshot(page, path: Path) -> None:
    """The whole notebook: grow the window to the notebook's height, then shoot."""
    try:
        height = page.evaluate("""() => {
          const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
          const outer = panel && panel.querySelector('.jp-WindowedPanel-outer');
          const inner = panel && panel.querySelector('.jp-WindowedPanel-viewport');
          if (!outer || !inner) return 0;
          outer.scrollTop = 0;
          return inner.offsetHeight;
        }""")
        width = page.viewport_size["width"]
        page.set_viewport_size({"width": width, "height": int(min(max(height + 160, 900), 16000))})
        page.wait_for_timeout(700)
        page.evaluate("() => { const o = document.querySelector("
                      "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer'); "
                      "if (o) o.scrollTop = 0; }")
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # noqa: BLE001 - a screenshot must never hide the real failure
        print(f"screenshot {path.name} failed: {exc}")


@pytest.mark.skipif(not NOTEBOOKS, reason="no course notebooks (notebooks/NN_*.ipynb) yet")
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(notebook: Path, lab, new_page, screenshots_dir):
    name = notebook.name
    page = new_page()
    start = time.monotonic()
    try:
        _open_notebook(page, lab, name)
        t_open = time.monotonic()
        progress = _run_all(page, name)
        t_run = time.monotonic()
        assert not progress["errors"], f"{name}: error output: {progress['errors']}"

        figures = page.evaluate(JS_FIGURES, name)
        assert not figures["bad"], f"{name}: images not drawn: {figures['bad']}"
        assert not figures["empty"], f"{name}: {figures['empty']} image outputs without an image"
        assert not figures["figureReprs"], f"{name}: a figure printed as text instead of drawn"

        widgets = _wait(page, lambda: (lambda w: w if w["rendered"] == w["views"] or w["failed"]
                                       else None)(page.evaluate(JS_WIDGETS, name)),
                        WIDGET_TIMEOUT_S, f"{name}: every widget rendered")
        assert not widgets["failed"], f"{name}: widgets failed to render: {widgets['failed']}"
        controls = _check_controls(page, name)

        assert not page.errors, f"{name}: JavaScript errors: {page.errors}"
        print(f"{name}: {progress['total']} code cells, {figures['images']} images, "
              f"{widgets['views']} widgets; {'; '.join(controls) or 'no controls'}; "
              f"open {t_open - start:.0f} s, run all {t_run - t_open:.0f} s, in all {time.monotonic() - start:.0f} s")
    finally:
        _screenshot(page, screenshots_dir / f"{notebook.stem}.png")
        page.context.close()
        lab.shutdown_kernels(name)  # free its memory and CPU for the next notebook
