"""The tutorial notebooks run top to bottom under nbclient (cells tagged
raises-exception must fail, every other cell must succeed)."""
import os
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """path -> (executed notebook, its working folder); each notebook runs once."""
    done = {}
    path_env = os.environ.get("PATH", "")
    # as when JupyterLab runs from a venv that is not activated: the venv's scripts
    # (matx-run) are not on PATH, so the tutorial must not need them there
    venv_bin = os.path.dirname(sys.executable)
    os.environ["PATH"] = os.pathsep.join(d for d in path_env.split(os.pathsep) if d and d != venv_bin)

    def run(path):
        if path not in done:
            workdir = tmp_path_factory.mktemp(path.stem)
            nb = nbformat.read(str(path), as_version=4)
            nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                    resources={"metadata": {"path": str(workdir)}}).execute()
            done[path] = nb, workdir
        return done[path]
    yield run
    os.environ["PATH"] = path_env


def outputs_text(cell):
    text = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            text.append(o.text)
        elif o.output_type == "error":
            text.append(f"{o.ename}: {o.evalue}")
        else:
            text.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, executed):
    nb, _ = executed(path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" in cell.metadata.get("tags", []):
            assert errors, f"cell should have failed:\n{cell.source}"
        else:
            assert not errors, f"cell failed:\n{cell.source}\n{outputs_text(cell)}"


def test_magic_tutorial_shows_what_it_teaches(executed):
    nb, workdir = executed(NOTEBOOKS[0].parent / "01_matx_magic.ipynb")
    by_source = {c.source.splitlines()[0]: outputs_text(c) for c in nb.cells if c.cell_type == "code"}
    assert by_source["fib(27), fib.py_func(20)"] == "(196418, 6765)"
    broken = next(t for s, t in by_source.items() if s == "%%matx" and "error" in t)
    assert "line 5, col 15" in broken and "unsupported operand" in broken
    widget = next(c for c in nb.cells if c.source.startswith("%%matx --bench")).outputs[0]
    assert "application/vnd.jupyter.widget-view+json" in widget["data"]
    assert "(loaded back: ok)" in by_source['%matx_export pipeline.process ["hello", "world"] --out out/text2ids']
    assert (workdir / "out/text2ids/model.spec.json").exists()
    assert by_source["import json"].strip() == "[1, 0]"  # !{sys.executable} -m matx_nb.cli ...
    lookup = by_source['%matx_export Text2Ids.lookup "hello" --out out/lookup']
    assert "exported Text2Ids.lookup" in lookup and "(loaded back: ok)" in lookup
    assert (workdir / "out/lookup/model.spec.json").exists()
    for spec in workdir.glob("out/*/model.spec.json"):  # no /tmp/ipykernel_... source paths
        assert "ipykernel" not in spec.read_text() and '"/' not in spec.read_text()
    status = by_source["%matx_status --wait"]
    assert re.search(r"fib compiled .*2 checks agree .*\d×", status)
    assert "tokenizer compiled" in status and "1 check differs" in status


def test_multimodal_tutorial_shows_what_it_teaches(executed):
    """04_multimodal: the batch drawn with its captions and scores, a DataLoader
    batch of tensors, the export, and matx-run giving the notebook's scores."""
    nb, workdir = executed(NOTEBOOKS[0].parent / "04_multimodal.ipynb")
    text = "\n".join(outputs_text(c) for c in nb.cells if c.cell_type == "code")
    pngs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1  # the 8 photos, each with its caption and 4 scores
    assert "[(4, 32), (4, 32), (4, 32), (4, 3, 224, 224), (4,)]" in text
    assert "one step, loss" in text
    assert "matx-run equals the notebook: True" in text
    spec = (workdir / "out" / "multimodal" / "model.spec.json").read_text()
    assert '"kind": "torch"' in spec and (workdir / "out" / "multimodal" / "feed.json").exists()


def test_serving_tutorial_shows_what_it_teaches(executed):
    """05_serving: matx-serve started from the notebook answers tritonclient as the
    pipeline answers in process, a malformed request gets a 400 naming the input,
    latency at 1, 4 and 16 requests in flight is printed and plotted, /metrics
    shows the requests, the server exits 0 on stop(); Ray Data gives the
    in-process ids too (or the cell says it skipped, without Ray)."""
    nb, workdir = executed(NOTEBOOKS[0].parent / "05_serving.ipynb")
    text = "\n".join(outputs_text(c) for c in nb.cells if c.cell_type == "code")
    assert "batch_dim0: True" in text
    assert re.search(r"matx-serve: ready at http://127\.0\.0\.1:\d+ \(models: text\)", text)
    assert "server equals in-process: True | id: first" in text
    assert "input 'text' is missing" in text
    for c in (1, 4, 16):
        assert re.search(rf"^ *{c} in flight: p50 +[0-9.]+ ms +p99 +[0-9.]+ ms", text, re.M), text
    pngs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 1  # p50 and p99 against concurrency
    assert re.search(r'matx_requests_total\{model="text",outcome="success"\} \d+', text)
    assert "matx-serve exited with status 0" in text
    assert "Ray Data equals in-process: True" in text or "skipping the Ray Data example" in text
    spec = (workdir / "out" / "text" / "model.spec.json").read_text()
    assert '"serving"' in spec and '"input_ids"' in spec
