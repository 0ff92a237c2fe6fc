"""Screenshot check: a %%matx cell run in JupyterLab (one server, headless
Debian chromium driven by playwright) shows the status line, the five tabs and
the timing chart, in the light and the dark theme.

MATX_NB_UPDATE_DOCS=1 also writes the screenshots to docs/ (they are committed).
"""
import json
import os
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
CELLS = [
    "%load_ext matx_nb",
    '%%matx --sync --bench "fib(25)" --bench "fib(15)" --check "fib(10), fib(20)"\n'
    "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                    for c in CELLS],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / "magic.ipynb").write_text(json.dumps(nb))
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
    yield url
    server.terminate()
    server.wait(30)


def test_tabs_and_chart_render_in_jupyterlab(lab, tmp_path):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.goto(f"{lab}/lab/tree/magic.ipynb?reset&token={TOKEN}")
            page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                                   timeout=60_000)
            # run only once the notebook is connected to its kernel (else JupyterLab asks for one)
            page.wait_for_function("(() => { const w = window.jupyterapp.shell.currentWidget;"
                                   " const k = w && w.sessionContext && w.sessionContext.session"
                                   " && w.sessionContext.session.kernel;"
                                   " return k && k.connectionStatus === 'connected' && k.status === 'idle'; })()",
                                   timeout=60_000)
            # not awaited: the command's promise resolves only once every cell has run
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
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
            shots = {"light": tmp_path / "notebook-magic-light.png", "dark": tmp_path / "notebook-magic-dark.png"}
            output.screenshot(path=str(shots["light"]))
            page.evaluate("() => { window.jupyterapp.commands.execute('apputils:change-theme', "
                          "{theme: 'JupyterLab Dark'}); }")
            page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
            page.wait_for_timeout(500)
            assert chart.is_visible()
            page.locator(".widget-tab-bar .lm-TabBar-tab", has_text="C++").first.click()
            page.locator(".matx-cpp .matx-badge").first.wait_for(state="visible", timeout=10_000)
            output.screenshot(path=str(shots["dark"]))
            # the side panel (labextension/) lists the build; its Export command is registered
            assert page.evaluate("window.jupyterapp.commands.hasCommand('matx-nb:export-pipeline')")
            page.evaluate("() => { window.jupyterapp.shell.activateById('matx-nb-panel'); }")
            side = page.locator("#matx-nb-panel")
            side.locator(".matx-nb-state-compiled", has_text="cell [2]: ✔ fib compiled").wait_for(
                state="visible", timeout=20_000)
            assert side.locator(".matx-nb-build", has_text="function fib (line 2)").first.is_visible()
            shots["panel"] = tmp_path / "notebook-side-panel.png"
            page.screenshot(path=str(shots["panel"]))
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()
    for shot in shots.values():
        assert shot.stat().st_size > 10_000
        if os.environ.get("MATX_NB_UPDATE_DOCS"):
            shutil.copy(shot, DOCS / shot.name)
