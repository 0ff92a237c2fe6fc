"""%%matx outputs survive saving: a notebook run in a real kernel (nbclient),
saved without widget state (as JupyterLab saves by default) and rendered by
nbconvert's HTML exporter shows each output's static copy (status, C++,
diagnostics, Annotate, timing table and chart, checks), final once the build
is done, for a --sync cell and for a background build that ends while a later
cell runs."""
import html
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
nbconvert = pytest.importorskip("nbconvert")
pytest.importorskip("ipywidgets")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FIB = "def nbc_fib(n: int) -> int:\n    return n if n < 2 else nbc_fib(n - 1) + nbc_fib(n - 2)\n"
CELLS = [
    "%load_ext matx_nb",
    '%%matx --sync --bench "nbc_fib(18)" --check "nbc_fib(10), nbc_fib(12)"\n' + FIB,
    # no --sync: the cell returns at once; the build ends while the next cell runs
    '%%matx --check "nbc_sq(7)"\n\n# a comment first\ndef nbc_sq(n: int) -> int:\n    return n * n\n',
    "%matx_status --wait",
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The notebook run by nbclient, written to disk and read back."""
    folder = tmp_path_factory.mktemp("nbconvert")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # JupyterLab saves no widget state unless asked to: neither does this run
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(folder)}}).execute()
    path = folder / "saved.ipynb"
    nbformat.write(nb, str(path))
    return nbformat.read(str(path), as_version=4)


def rendered(nb):
    """nbconvert's HTML without its scripts and style sheets: what a reader sees."""
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    return body


def visible(page):
    page = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
    return re.sub(r"<style\b.*?</style>", "", page, flags=re.S)


def text(markup):
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_saved_outputs_carry_the_widget_and_its_final_static_copy(saved):
    for i in (1, 2):
        shown = [o for o in saved.cells[i].outputs if o.output_type == "display_data"]
        assert len(shown) == 1, f"cell {i}: outputs {saved.cells[i].outputs}"
        (out,) = shown
        assert WIDGET_VIEW in out.data and "text/html" in out.data
        assert 'class="matx-out matx-static"' in out.data["text/html"]
        assert "saved while building" not in out.data["text/html"]  # updated to the final state
        assert out.data["text/plain"].startswith("✓ nbc_")
    assert "widgets" not in saved.metadata


def test_nbconvert_html_shows_the_static_outputs(saved):
    page = rendered(saved)
    assert WIDGET_VIEW not in page  # no widget state saved: nbconvert skips the widget view ...
    shown = visible(page)
    assert shown.count('class="matx-out matx-static"') == 2  # ... and shows the static copies
    assert "model not found" not in shown
    words = text(shown)
    # status lines
    assert re.search(r"✓ nbc_fib compiled (in \d+\.\d\d s|from the cache)( \([^)]*\))? · 2 checks agree · "
                     r"[\d.]+× on nbc_fib\(18\)", words)
    assert re.search(r"✓ nbc_sq compiled .* · 1 check agrees", words)
    # the C++ tab: code and the badge naming its Python line
    assert "f_nbc_fib" in shown and '<span class="matx-badge">line 3</span>' in shown
    # Diagnostics: no problems and the stage times
    assert "No problems." in words and "Stage times" in words
    # Annotate: the def line of each cell in its row, marked typed
    assert re.search(r'class="l matx-typed"[^>]*><span class="n">2</span>.*?def.*?nbc_fib', shown)
    assert re.search(r'class="l matx-typed"[^>]*><span class="n">4</span>.*?def.*?nbc_sq', shown)
    assert re.search(r'<span class="n">3</span>    <span class="mx-k">return</span>', shown)  # indentation kept
    # the timing table with its spread, and the chart as an inline image
    table = re.search(r"<table class=[\"']matx-timing[\"']>.*?</table>", shown, flags=re.S).group(0)
    assert "nbc_fib(18)" in table and "IQR" in text(table)
    img = re.search(r'<img\b[^>]*\bclass="matx-chart"[^>]*>', shown).group(0)  # nbconvert sorts attributes
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', img)
    # the checks
    assert "nbc_fib(12)" in words and "144" in words and "nbc_sq(7)" in words and "49" in words


def test_without_the_static_copy_nbconvert_shows_no_output(saved):
    """The check above fails for an output that is only the widget (as before)."""
    nb = nbformat.from_dict(saved)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                out.data.pop("text/html", None)
    shown = visible(rendered(nb))
    assert "matx-static" not in shown and "f_nbc_fib" not in shown and "matx-chart" not in shown
