"""Installing matx_nb as a user does, and what a machine without a prerequisite says.

- test_plain_install_runs_a_notebook (acceptance, slow, always run): a fresh venv,
  `pip install <checkout>` with no extras (plus nbclient), and a notebook run from
  a folder outside the checkout on that venv's kernel: `%load_ext matx_nb`, a
  `%%matx` cell, a call in the next cell, a cell with a type error.
- A missing system header is named with the package that provides it
  (system_libs.MissingSystemLibrary), never reported as a matx_nb bug.
- `%load_ext matx_nb` without a package the magic needs says so in one line.
- scripts/install_system_deps.sh and the README list the same packages.
"""
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import matx_nb
from matx_nb.compiler import system_libs
from matx_nb.compiler.system_libs import MissingSystemLibrary

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "install_system_deps.sh"


# ---- a missing system header or library

def fake_cxx(tmp_path, name, body):
    """A g++ stand-in that answers --version as g++ and fails a compile as `body` says."""
    p = tmp_path / name
    p.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n' + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def triple_for_missing_header(n: int) -> int:
    return n * 3


def test_missing_pcre2_header_names_the_package_not_a_bug(tmp_path, monkeypatch):
    gxx = fake_cxx(tmp_path, "no-pcre2-g++",
                   "echo \"$(pwd)/x.cc:3:10: fatal error: pcre2.h: No such file or directory\" >&2\n"
                   "echo 'compilation terminated.' >&2; exit 1")
    monkeypatch.setenv("MATX_NB_CXX", gxx)
    monkeypatch.setenv("MATX_NB_NO_PCH", "1")  # no background header build by the fake
    with pytest.raises(MissingSystemLibrary) as info:
        matx_nb.script(triple_for_missing_header, force=True)
    text = str(info.value)
    assert "matx_nb bug" not in text
    assert "pcre2.h" in text and "PCRE2" in text
    assert "apt-get install libpcre2-dev" in text
    assert "dnf install pcre2-devel" in text
    assert "conda install -c conda-forge pcre2" in text
    assert info.value.library.debian == "libpcre2-dev"


def test_missing_headers_and_libraries_map_to_packages():
    cv = MissingSystemLibrary.from_log(
        "op.cc:1:10: fatal error: opencv2/imgproc.hpp: No such file or directory\n")
    assert cv.missing == "opencv2/imgproc.hpp" and cv.library.name == "OpenCV"
    assert "apt-get install libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev" in str(cv)
    assert "dnf install opencv-devel" in str(cv)
    ld = MissingSystemLibrary.from_log("/usr/bin/ld: cannot find -lpcre2-32: No such file or directory\n")
    assert ld.missing == "-lpcre2-32" and ld.library.conda == "pcre2"
    unknown = MissingSystemLibrary.from_log("a.cc:2:10: fatal error: zstd.h: No such file or directory\n")
    assert unknown.library is None and "apt-file search zstd.h" in str(unknown)
    # The runtime's own headers missing is a broken install, and a plain error no system matter.
    assert MissingSystemLibrary.from_log("fatal error: matx_nb/runtime.h: No such file or directory") is None
    assert MissingSystemLibrary.from_log("x.cc:4:5: error: 'foo' was not declared in this scope") is None
    # Every table entry installs from the script too.
    script = SCRIPT.read_text()
    for lib in system_libs.SYSTEM_LIBRARIES:
        for column in (lib.debian, lib.fedora, lib.conda):
            assert f"|{column}|".replace(" ", "") in script.replace(" ", ""), column


# ---- %load_ext without the notebook packages

LOAD_WITHOUT_IPYWIDGETS = """
import sys
sys.modules["ipywidgets"] = None  # as if it were not installed
from IPython.core.interactiveshell import InteractiveShell
sh = InteractiveShell.instance()
sh.run_line_magic("load_ext", "matx_nb")
r = sh.run_cell("%%matx\\ndef f(n: int) -> int:\\n    return n\\n")
print("ERROR", type(r.error_in_exec).__name__, r.error_in_exec)
"""


def test_load_ext_without_ipywidgets_says_how_to_install_it():
    r = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_IPYWIDGETS], capture_output=True, text=True,
                       timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    fix = f"{sys.executable} -m pip install ipywidgets"
    notice = [line for line in r.stderr.splitlines() if "ipywidgets" in line]
    assert len(notice) == 1 and fix in notice[0], r.stderr
    assert "Traceback" not in r.stderr
    err = [line for line in r.stdout.splitlines() if line.startswith("ERROR")]
    assert err and err[0].startswith("ERROR MissingNotebookPackages") and fix in err[0], r.stdout


# ---- the system prerequisites script

def test_install_script_parses_and_lists_what_the_readme_lists():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    listed = subprocess.run(["bash", str(SCRIPT), "--list"], capture_output=True, text=True, check=True).stdout
    readme = (REPO / "README.md").read_text()
    rows = [line.split() for line in listed.splitlines()[1:]]
    assert {r[0] for r in rows} >= {"g++", "cmake", "make", "python3-venv", "libpcre2-dev", "chromium"}
    for name, needed, debian, fedora, conda, *_ in rows:
        for pkg in (debian, fedora) + (() if conda == "-" else (conda,)):
            assert f"`{pkg}`" in readme, f"README.md does not list {pkg} ({name})"
    # .ci/run does nothing but the README's two commands.
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert [c for c in ci if c.startswith("make")] == ["make demo", "make test"]
    assert not any(c.startswith(("apt", "pip", ".venv", "sudo")) or "apt-get" in c for c in ci)


# ---- acceptance: a plain install in a fresh venv runs a notebook

DRIVER = """
import json, sys
import nbformat, nbclient
nb = nbformat.reads(sys.stdin.read(), as_version=4)
nbclient.NotebookClient(nb, timeout=120, kernel_name=sys.argv[1],
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, sys.argv[3])
"""

CELLS = [
    ("%load_ext matx_nb", []),
    ("%%matx\ndef triple(n: int) -> int:\n    return n * 3\n", []),
    ("print(triple(14), triple.matx is not None)", []),
    ("%%matx\ndef kbad(s: str) -> int:\n    return s * 1.5\n", ["raises-exception"]),
    ("import matx_nb, kernel_ext; print(matx_nb.__file__, kernel_ext.__file__)", []),
]


def outputs(cell):
    """A cell's outputs as text (a saved notebook may split strings into lists of lines)."""
    out = []
    for o in cell["outputs"]:
        if o["output_type"] == "stream":
            out.append(o["text"])
        elif o["output_type"] == "error":
            out.append(f"{o['ename']}: {o['evalue']}")
        else:
            out.append(o.get("data", {}).get("text/plain", ""))
    return "".join("".join(t) if isinstance(t, list) else t for t in out)


@pytest.mark.slow
def test_plain_install_runs_a_notebook(tmp_path):
    """~1.5 min: the wheel build compiles the pybind11 module (~25 s of it)."""
    venv, work, cache = tmp_path / "venv", tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(MATX_NB_CACHE=str(cache), PIP_DISABLE_PIP_VERSION_CHECK="1")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    py = str(venv / "bin" / "python")
    pip = subprocess.run([py, "-m", "pip", "install", "-q", str(REPO), "nbclient", "ipykernel"],
                         capture_output=True, text=True, env=env, cwd=work)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-5000:]
    installed = time.perf_counter() - t0
    # Nothing optional came along: no torch, no JupyterLab.
    found = subprocess.run([py, "-c", "import importlib.util as u; print([m for m in ('torch', 'jupyterlab')"
                            " if u.find_spec(m)])"], capture_output=True, text=True, env=env, check=True)
    assert found.stdout.strip() == "[]"
    labext = venv / "share" / "jupyter" / "labextensions" / "matx-nb-labextension"
    assert (labext / "package.json").exists() and json.loads((labext / "install.json").read_text())[
        "packageName"] == "matx_nb"
    subprocess.run([py, "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "matx-fresh-venv"],
                   check=True, capture_output=True, env=env)

    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": tags}, "source": src, "outputs": [],
                     "execution_count": None} for src, tags in CELLS],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out_path = tmp_path / "executed.ipynb"
    t1 = time.perf_counter()
    run = subprocess.run([py, "-c", DRIVER, "matx-fresh-venv", str(work), str(out_path)],
                         input=json.dumps(nb), capture_output=True, text=True, env=env, cwd=work, timeout=600)
    assert run.returncode == 0, run.stderr[-5000:]
    ran = time.perf_counter() - t1
    cells = json.loads(out_path.read_text())["cells"]
    texts = [outputs(c) for c in cells]
    assert "ModuleNotFoundError" not in "".join(texts) and "needs" not in texts[0], texts
    assert texts[2].split() == ["42", "True"], texts[2]
    errors = [o for o in cells[3]["outputs"] if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "CellCompileError", texts[3]
    assert "line 3" in errors[0]["evalue"], errors[0]["evalue"]
    # Imported from the venv, not from the checkout.
    assert all(str(venv) in p and str(REPO) not in p for p in texts[4].split()), texts[4]
    # JupyterLab (the checkout's, as plain installs have none) finds the extension pip installed.
    if subprocess.run([sys.executable, "-c", "import jupyterlab"], capture_output=True).returncode == 0:
        lab_env = dict(env, JUPYTER_PATH=str(venv / "share" / "jupyter"))
        r = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                           capture_output=True, text=True, timeout=120, env=lab_env)
        listing = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr).splitlines()  # no colours
        start = [i for i, line in enumerate(listing) if line.strip() == str(labext.parent)]
        section = []  # the indented lines under that folder
        for line in listing[start[0] + 1 if start else len(listing):]:
            if not line.startswith(" "):
                break
            section.append(line)
        assert any(re.search(r"matx-nb-labextension v\S+ enabled\s+OK \(python, matx_nb\)", line)
                   for line in section), "\n".join(listing)
    print(f"fresh venv + pip install: {installed:.1f} s; notebook: {ran:.1f} s")
