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
- the panel reads in the dark theme.

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


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    go = root / "go"
    slow = root / "slow-g++"
    slow.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n'
                    f'for i in $(seq 600); do [ -e {go} ] && break; sleep 0.1; done\nexec g++ "$@"\n')
    slow.chmod(0o755)
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": c} if i == FILLER else
                    {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                    for i, c in enumerate(cells(slow))],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / "magic.ipynb").write_text(json.dumps(nb))
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
    # start the notebook's kernel through the REST API, so JupyterLab attaches to
    # it instead of asking which kernel to start
    body = json.dumps({"path": "magic.ipynb", "name": "magic.ipynb", "type": "notebook",
                       "kernel": {"name": "python3"}}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions?token={TOKEN}", data=body, method="POST",
                                                  headers={"Content-Type": "application/json"}), timeout=60)
    yield {"url": url, "go": go}
    go.touch()
    server.terminate()
    server.wait(30)


RUN_CELL = """async (i) => { const app = window.jupyterapp; const nb = app.shell.currentWidget.content;
  nb.deselectAll(); nb.activeCellIndex = i; await app.commands.execute('notebook:run-cell'); }"""


class Lab:
    """One browser page on the test notebook."""

    def __init__(self, p, url, shots):
        self.browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        self.page = self.browser.new_page(viewport={"width": 1280, "height": 1000})
        self.shots = shots
        page = self.page
        page.goto(f"{url}/lab/tree/magic.ipynb?reset&token={TOKEN}")
        page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                               timeout=60_000)
        # run only once the notebook is connected to its kernel (else JupyterLab asks for one)
        page.wait_for_function("(() => { const w = window.jupyterapp.shell.currentWidget;"
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
