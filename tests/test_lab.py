"""Browser checks: a notebook run in JupyterLab (one server, headless Debian
chromium driven by playwright).

- a %%matx cell shows the status line, the five tabs and the timing chart, in
  the light and the dark theme;
- progress: while g++ runs (a stand-in that waits for the test's go-ahead), the
  cell's status line and the side panel show the phase, and the panel's elapsed
  time ticks;
- the side panel keeps one entry per cell (a re-run replaces it), lists a
  type-check failure with its lines, and a click on an entry goes to its cell
  (on a diagnostic, to its line);
- the panel reads in the dark theme;
- outputs survive saving: a --sync and a background %%matx cell, saved, the
  page reloaded while the background build runs, then the kernel shut down and
  the notebook reopened: each output shows its final static copy (status, C++),
  never "model not found"; a cell run again shows live widgets.

MATX_NB_UPDATE_DOCS=1 also writes the screenshots to docs/ (they are committed).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab")
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

DOCS = Path(__file__).resolve().parent.parent / "docs"
LABEXT = Path(__file__).resolve().parent.parent / "labextension" / "prebuilt"  # committed, prebuilt
TOKEN = "matx-nb-test"
FIB, SETUP, SLOW, FILLER, BAD = 1, 2, 3, 4, 5  # cell indexes


def cells(slow_cxx: Path):
    return [
        "%load_ext matx_nb",
        '%%matx --sync --bench "fib(25)" --bench "fib(15)" --check "fib(10), fib(20)"\n'
        "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
        f"import os\nos.environ['MATX_NB_CXX'] = {str(slow_cxx)!r}  # g++ waits for the test's go-ahead",
        "%%matx --force\ndef slow_triple(n: int) -> int:\n    return n * 3",
        "\n\n".join(["Room to scroll."] * 60),
        "%%matx\ndef bad(s: str) -> int:\n    return s * 1.5",
    ]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gated_cxx(path: Path, go: Path) -> Path:
    """A g++ stand-in that waits until the file `go` exists."""
    path.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n'
                    f'for i in $(seq 600); do [ -e {go} ] && break; sleep 0.1; done\nexec g++ "$@"\n')
    path.chmod(0o755)
    return path


def write_notebook(path: Path, sources, markdown=()) -> None:
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": c} if i in markdown else
                    {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                    for i, c in enumerate(sources)],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))


def start_kernel(url: str, path: str) -> str:
    """Starts the notebook's kernel through the REST API, so JupyterLab attaches
    to it instead of asking which kernel to start; returns the session id."""
    body = json.dumps({"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions?token={TOKEN}", data=body, method="POST",
                                                       headers={"Content-Type": "application/json"}),
                                timeout=60) as r:
        return json.load(r)["id"]


def stop_kernel(url: str, session: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions/{session}?token={TOKEN}", method="DELETE"),
                           timeout=60)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    go = root / "go"
    write_notebook(root / "magic.ipynb", cells(gated_cxx(root / "slow-g++", go)), markdown=[FILLER])
    labconfig = root / ".jupyter" / "labconfig"  # no "get notified about news?" toast over the screenshots
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / ".jupyter"), JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", "--allow-root",
         f"--LabApp.extra_labextensions_path={LABEXT}"],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail("JupyterLab did not start")
    start_kernel(url, "magic.ipynb")
    yield {"url": url, "go": go, "root": root}
    go.touch()
    server.terminate()
    server.wait(30)


RUN_CELL = """async (i) => { const app = window.jupyterapp; const nb = app.shell.currentWidget.content;
  nb.deselectAll(); nb.activeCellIndex = i; await app.commands.execute('notebook:run-cell'); }"""


class Lab:
    """One browser page on the test notebook."""

    def __init__(self, p, url, shots, path="magic.ipynb"):
        self.browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 1000})
        self.shots = shots
        self.page.goto(f"{url}/lab/tree/{path}?reset&token={TOKEN}")
        self.wait_for_kernel()

    def wait_for_kernel(self) -> None:
        """The notebook shown and connected to its kernel (run cells only then, else JupyterLab asks for one)."""
        self.page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                                    timeout=60_000)
        self.page.wait_for_function("(() => { const w = window.jupyterapp.shell.currentWidget;"
                                    " const k = w && w.sessionContext && w.sessionContext.session"
                                    " && w.sessionContext.session.kernel;"
                                    " return k && k.connectionStatus === 'connected' && k.status === 'idle'; })()",
                                    timeout=60_000)

    def run(self, index: int) -> None:
        self.page.evaluate(RUN_CELL, index)

    def js(self, expr: str, *args):
        return self.page.evaluate(expr, *args)

    def cell_id(self, index: int) -> str:
        return self.js("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.id", index)

    def active(self) -> int:
        return self.js("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")

    def theme(self, name: str) -> None:
        """'Light' or 'Dark' (the choice is a user setting: it outlives the page)."""
        self.js(f"() => {{ window.jupyterapp.commands.execute('apputils:change-theme', "
                f"{{theme: 'JupyterLab {name}'}}); }}")
        self.page.wait_for_function(f"document.body.dataset.jpThemeLight === '{str(name == 'Light').lower()}'",
                                    timeout=30_000)
        self.page.wait_for_timeout(500)

    def close(self, ok: bool, tmp_path) -> None:
        if not ok:
            self.page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
        self.browser.close()


def keep(shots) -> None:
    for shot in shots.values():
        assert shot.stat().st_size > 10_000
        if os.environ.get("MATX_NB_UPDATE_DOCS"):
            shutil.copy(shot, DOCS / shot.name)


def test_tabs_and_chart_render_in_jupyterlab(lab, tmp_path):
    shots = {"light": tmp_path / "notebook-magic-light.png", "dark": tmp_path / "notebook-magic-dark.png"}
    with playwright.sync_playwright() as p:
        lab_ = Lab(p, lab["url"], shots)
        page, ok = lab_.page, False
        try:
            lab_.theme("Light")
            lab_.run(0)
            lab_.run(FIB)  # --sync: returns once built, checked and timed
            page.wait_for_selector(".widget-tab-bar .lm-TabBar-tab >> text=Timing", timeout=40_000)
            chart = page.locator("img.matx-chart")
            chart.wait_for(state="visible", timeout=40_000)
            for title in ("C++", "Diagnostics", "Annotate", "Timing", "Check"):
                assert page.locator(".widget-tab-bar .lm-TabBar-tab", has_text=title).first.is_visible()
            assert page.locator(".matx-out", has_text="compiled").first.is_visible()
            box = chart.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 80
            assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
            output = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-tab-bar")).first
            output.screenshot(path=str(shots["light"]))
            lab_.theme('Dark')
            assert chart.is_visible()
            page.locator(".widget-tab-bar .lm-TabBar-tab", has_text="C++").first.click()
            page.locator(".matx-cpp .matx-badge").first.wait_for(state="visible", timeout=10_000)
            output.screenshot(path=str(shots["dark"]))
            # the side panel (labextension/) lists the build; its Export command is registered
            assert lab_.js("() => window.jupyterapp.commands.hasCommand('matx-nb:export-pipeline')")
            lab_.js("() => { window.jupyterapp.shell.activateById('matx-nb-panel'); }")
            side = page.locator("#matx-nb-panel")
            entry = side.locator(f'.matx-nb-build[data-cell-id="{lab_.cell_id(FIB)}"]')
            entry.filter(has_text="fib compiled").wait_for(state="visible", timeout=20_000)
            assert "matx-nb-state-compiled" in entry.get_attribute("class")
            assert entry.filter(has_text="function fib (line 2)").is_visible()
            ok = True
        finally:
            lab_.close(ok, tmp_path)
    keep(shots)


def seconds(text: str) -> int:
    m = re.search(r"(\d+) s$", text.strip())
    assert m, text
    return int(m.group(1))


def test_progress_panel_entries_jump_and_dark_theme(lab, tmp_path):
    shots = {"progress": tmp_path / "notebook-progress.png", "panel": tmp_path / "notebook-side-panel.png"}
    with playwright.sync_playwright() as p:
        lab_ = Lab(p, lab["url"], shots)
        page, ok = lab_.page, False
        try:
            lab_.theme("Light")
            lab_.run(0)
            lab_.js("() => { window.jupyterapp.shell.activateById('matx-nb-panel'); }")
            side = page.locator("#matx-nb-panel")
            lab_.run(SETUP)
            slow_id = lab_.cell_id(SLOW)
            lab_.run(SLOW)  # returns at once; g++ waits for the go-ahead
            # progress: the phase in the panel, its elapsed time ticking there, and in the cell's status line
            running = side.locator(f'.matx-nb-build[data-cell-id="{slow_id}"] .matx-nb-progress')
            running.filter(has_text="g++").wait_for(state="visible", timeout=60_000)
            assert "compiling slow_triple" in running.inner_text()
            first = seconds(running.inner_text())
            page.wait_for_function(f"(() => {{ const el = document.querySelector("
                                   f"'.matx-nb-build[data-cell-id=\"{slow_id}\"] .matx-nb-progress');"
                                   f" const m = el && /(\\d+) s$/.exec(el.textContent);"
                                   f" return m && +m[1] >= {first + 2}; }})()", timeout=10_000)
            cell = page.locator(".jp-Notebook .jp-Cell").nth(SLOW)
            status = cell.locator(".matx-out").first
            status.filter(has_text="compiling slow_triple").wait_for(state="visible", timeout=10_000)
            assert "g++" in status.inner_text()
            cell.scroll_into_view_if_needed()
            page.screenshot(path=str(shots["progress"]))
            lab["go"].touch()
            entry = side.locator(f'.matx-nb-build[data-cell-id="{slow_id}"]')
            entry.filter(has_text="slow_triple compiled").wait_for(state="visible", timeout=60_000)
            assert "matx-nb-state-compiled" in entry.get_attribute("class")
            label = entry.locator(".matx-nb-cell").inner_text()
            n_entries = side.locator(".matx-nb-build").count()
            # a re-run of the cell replaces its entry
            lab_.run(SLOW)
            page.wait_for_function(f"(() => {{ const e = document.querySelectorAll("
                                   f"'.matx-nb-build[data-cell-id=\"{slow_id}\"]');"
                                   f" return e.length === 1 && !e[0].textContent.startsWith({json.dumps(label)})"
                                   f" && e[0].classList.contains('matx-nb-state-compiled'); }})()", timeout=60_000)
            assert side.locator(".matx-nb-build").count() == n_entries
            # a type-check failure is listed with its lines
            bad_id = lab_.cell_id(BAD)
            lab_.run(BAD)
            failed = side.locator(f'.matx-nb-build.matx-nb-state-failed[data-cell-id="{bad_id}"]')
            failed.wait_for(state="visible", timeout=20_000)
            diag = failed.locator(".matx-nb-diag").first
            assert diag.inner_text().startswith("✗ line 3, col 12: ") and "float" in diag.inner_text()
            assert side.locator(".matx-nb-build").count() == n_entries + 1
            # a click on an entry goes to its cell, scrolled into view; on a diagnostic, to its line
            assert lab_.active() == BAD
            entry.locator(".matx-nb-title").click()
            page.wait_for_function(f"window.jupyterapp.shell.currentWidget.content.activeCellIndex === {SLOW}",
                                   timeout=5_000)
            page.wait_for_timeout(300)
            assert lab_.js("""(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
                const r = nb.widgets[i].node.getBoundingClientRect(), v = nb.node.getBoundingClientRect();
                return r.top >= v.top - 1 && r.top < v.bottom; }""", SLOW)
            diag.click()
            page.wait_for_function(f"window.jupyterapp.shell.currentWidget.content.activeCellIndex === {BAD}",
                                   timeout=5_000)
            assert lab_.js("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
                return [nb.mode, nb.activeCell.editor.getCursorPosition().line]; }""") == ["edit", 2]
            # the panel's Export command: function, example arguments, folder, then the result
            lab_.js("() => { window.jupyterapp.commands.execute('matx-nb:export-pipeline'); }")
            page.locator(".jp-Dialog", has_text="Export pipeline: function").wait_for(timeout=10_000)
            assert page.locator(".jp-Dialog select").input_value() == "slow_triple"  # the most recent first
            page.keyboard.press("Enter")
            page.locator(".jp-Dialog", has_text="Example arguments for slow_triple").wait_for(timeout=10_000)
            page.locator(".jp-Dialog input").fill("7")
            page.keyboard.press("Enter")
            page.locator(".jp-Dialog", has_text="Folder to write").wait_for(timeout=10_000)
            assert page.locator(".jp-Dialog input").input_value() == "out/slow_triple"
            page.keyboard.press("Enter")
            page.locator(".jp-Dialog", has_text="loaded back and ran: 21").wait_for(timeout=60_000)
            page.keyboard.press("Enter")
            page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)
            # the dark theme: the panel follows it
            lab_.theme('Dark')
            rgb = [int(x) for x in re.findall(r"\d+", side.evaluate("e => getComputedStyle(e).backgroundColor"))[:3]]
            assert sum(rgb) / 3 < 100, rgb
            assert failed.locator(".matx-nb-diag").first.is_visible()
            page.mouse.move(900, 950)  # no hover highlight in the screenshot
            page.screenshot(path=str(shots["panel"]))
            ok = True
        finally:
            lab["go"].touch()
            lab_.close(ok, tmp_path)
    keep(shots)


# ---- outputs that survive saving: the static copy (labextension/src/outputs.ts)

OUTPUT_MIME = "application/vnd.matx-nb.output+json"
KEPT_SYNC, KEPT_SETUP, KEPT_BG = 1, 2, 3
OUTPUT_DATA = """(i) => { const o = window.jupyterapp.shell.currentWidget.content.model.cells.get(i).outputs;
  const s = v => Array.isArray(v) ? v.join('') : String(v === undefined ? '' : v);
  return o.length ? [s(o.get(0).data['text/html']), s(o.get(0).data['text/plain'])] : ['', '']; }"""
SAVE = "async () => { await window.jupyterapp.commands.execute('docmanager:save'); }"
IDLE_AFTER = """(i) => { const w = window.jupyterapp.shell.currentWidget;
  return w.content.model.cells.get(i).executionCount !== null && w.sessionContext.session.kernel.status === 'idle'; }"""


def kept_cells(cxx: Path):
    return [
        "%load_ext matx_nb",
        '%%matx --sync --check "kept_fib(10)"\n'
        "def kept_fib(n: int) -> int:\n    return n if n < 2 else kept_fib(n - 1) + kept_fib(n - 2)",
        f"import os\nos.environ['MATX_NB_CXX'] = {str(cxx)!r}  # g++ waits for the test's go-ahead",
        '%%matx --force --check "kept_triple(7)"\ndef kept_triple(n: int) -> int:\n    return n * 3',
    ]


def saved_outputs(path: Path):
    """The display_data outputs of each cell of the notebook file, their data joined to strings."""
    joined = lambda v: "".join(v) if isinstance(v, list) else v  # noqa: E731
    return [[{k: joined(v) for k, v in o["data"].items()} for o in c.get("outputs", [])
             if o["output_type"] == "display_data"] for c in json.loads(path.read_text())["cells"]]


def test_outputs_survive_saving_and_reopening(lab, tmp_path):
    root, url = lab["root"], lab["url"]
    go, path = root / "kept-go", root / "kept.ipynb"
    write_notebook(path, kept_cells(gated_cxx(root / "kept-g++", go)))
    session = start_kernel(url, path.name)
    with playwright.sync_playwright() as p:
        lab_ = Lab(p, url, {}, path=path.name)
        page, ok = lab_.page, False
        cell = lambda i: page.locator(".jp-Notebook .jp-Cell").nth(i)  # noqa: E731
        save = lambda: lab_.js(SAVE)  # noqa: E731
        try:
            lab_.theme("Light")
            # a live run shows the widgets, not the static copy: tabs and the Export button work
            lab_.run(0)
            lab_.run(KEPT_SYNC)
            sync = cell(KEPT_SYNC)
            sync.locator(".matx-out", has_text="kept_fib compiled").first.wait_for(timeout=60_000)
            sync.locator(".widget-tab-bar").wait_for(state="visible", timeout=10_000)
            assert sync.locator(".matx-nb-static").count() == 0
            sync.locator(".widget-tab-bar .lm-TabBar-tab", has_text="C++").click()
            sync.locator(".matx-cpp", has_text="f_kept_fib").first.wait_for(state="visible", timeout=10_000)
            sync.get_by_role("button", name="Export pipeline").click()
            sync.get_by_text("loaded back and ran: 55").wait_for(timeout=60_000)
            # a background build: the cell has returned, g++ waits; saved so, then the page reloaded
            lab_.run(KEPT_SETUP)
            lab_.run(KEPT_BG)
            page.wait_for_function(IDLE_AFTER, arg=KEPT_BG, timeout=30_000)
            bg = cell(KEPT_BG)
            bg.locator(".matx-out", has_text="compiling kept_triple").first.wait_for(timeout=30_000)
            save()
            assert "saved while building" in saved_outputs(path)[KEPT_BG][0]["text/html"]
            page.reload()
            lab_.wait_for_kernel()
            # the same kernel: its widgets are live again; the build ends
            bg.locator(".widget-tab-bar").wait_for(state="visible", timeout=30_000)
            go.touch()
            bg.locator(".matx-out", has_text="kept_triple compiled").first.wait_for(timeout=60_000)
            # JupyterLab routes no update_display to an output read from the file: the extension does
            page.wait_for_function(f"({OUTPUT_DATA})({KEPT_BG})[1].startsWith('✓ kept_triple compiled')",
                                   timeout=30_000)
            save()
            saved = saved_outputs(path)
            for i, name in ((KEPT_SYNC, "kept_fib"), (KEPT_BG, "kept_triple")):
                (out,) = saved[i]
                assert out["text/plain"].startswith(f"✓ {name} compiled"), out["text/plain"]
                assert "saved while building" not in out["text/html"] and f"f_{name}" in out["text/html"]
                assert "application/vnd.jupyter.widget-view+json" in out and OUTPUT_MIME in out
            # the kernel stops; the notebook reopened (with a new kernel): the final static copies
            stop_kernel(url, session)
            page.goto(f"{url}/lab/tree/{path.name}?reset&token={TOKEN}")
            lab_.wait_for_kernel()
            for i, name in ((KEPT_SYNC, "kept_fib"), (KEPT_BG, "kept_triple")):
                static = cell(i).locator(".matx-nb-static .matx-static")
                static.wait_for(state="visible", timeout=30_000)
                assert f"✓ {name} compiled" in static.locator(".matx-status").inner_text()
                static.locator("summary", has_text="C++").click()
                code = static.locator(".matx-tab-cpp pre", has_text=f"f_{name}").first
                code.wait_for(state="visible", timeout=5_000)
                assert f"f_{name}(" in code.inner_text()
            page.wait_for_timeout(3_000)  # ipywidgets has restored the new kernel's widgets: none of ours
            assert page.get_by_text("model not found").count() == 0
            assert page.get_by_text("Error displaying widget").count() == 0
            assert page.locator(".jp-Notebook .widget-tab-bar").count() == 0
            page.screenshot(path=str(tmp_path / "reopened.png"))
            # run again in the new kernel: live widgets in place of the static copy
            lab_.run(0)
            lab_.run(KEPT_SYNC)
            sync.locator(".matx-out", has_text="kept_fib compiled").first.wait_for(timeout=60_000)
            sync.locator(".widget-tab-bar").wait_for(state="visible", timeout=10_000)
            assert sync.locator(".matx-nb-static").count() == 0
            assert cell(KEPT_BG).locator(".matx-nb-static .matx-static").is_visible()
            # a kernel shut down under an open notebook: its widgets give way to the static copy
            lab_.js("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }")
            sync.locator(".matx-nb-static .matx-static").wait_for(state="visible", timeout=30_000)
            assert sync.locator(".widget-tab-bar").count() == 0
            ok = True
        finally:
            go.touch()
            lab_.close(ok, tmp_path)
