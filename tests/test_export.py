"""trace -> run -> save -> load round trips, and the errors around them."""
import json
import shutil
import time

import pytest

import export_ops as ops
import matx_nb


def test_seed_text2ids_round_trip(tmp_path):
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello", "world"])
    assert mod.input_names == ["texts"]
    assert mod.run({"texts": ["hello", "world"]}) == [0, 1]
    mod.save(tmp_path / "text2ids")
    loaded = matx_nb.load(tmp_path / "text2ids", device=-1)
    assert loaded.runs_in_cpp  # matx_nb.load and the C++ Session are the same code
    assert loaded.run({"texts": ["hello", "x"]}) == [0, 2]
    assert loaded.run({"texts": []}) == []


def test_three_ops_with_glue(tmp_path):
    pipe = ops.ThreeOps()
    mod = matx_nb.trace(pipe.process, "Hello World foo", 4)
    kinds = [n["op"]["kind"] for n in mod.spec["nodes"]]
    assert kinds.count("getitem") >= 3 and {"function", "method"} <= set(kinds)
    for text, n in [("hello hello world", 5), ("World", 1), ("", 2)]:
        expected = pipe.process(text, n)
        assert mod.run({"text": text, "n": n}) == expected
    mod.save(tmp_path / "three")
    loaded = matx_nb.load(tmp_path / "three")
    for text, n in [("World x hello", 3), ("a b c d e f", 2)]:
        assert loaded.run({"text": text, "n": n}) == pipe.process(text, n)


def test_control_flow_on_traced_value_names_the_line():
    with pytest.raises(matx_nb.TraceError) as ei:
        matx_nb.trace(ops.Branchy().process, ["hello"])
    msg = str(ei.value)
    assert "export_ops.py" in msg and "control flow" in msg
    import inspect
    src, first = inspect.getsourcelines(ops.Branchy.process)
    line = first + next(i for i, l in enumerate(src) if "if ids" in l)
    assert f"line {line}" in msg


def test_resource_files_are_bundled(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("hello\nworld\n")
    mod = matx_nb.trace(ops.WithResource(str(vocab)).process, ["a"])
    out = tmp_path / "res"
    mod.save(out, resources=[vocab])  # declared: save() bundles nothing on its own
    spec = json.loads((out / "model.spec.json").read_text())
    (inst,) = spec["instances"]
    assert inst["args"][0] == {"resource": "resources/vocab.txt"}
    assert (out / "resources" / "vocab.txt").read_text() == "hello\nworld\n"
    vocab.unlink()  # the folder is self-contained
    shutil.move(str(out), str(tmp_path / "moved"))
    assert matx_nb.load(tmp_path / "moved").run({"words": ["x"]}) == ["vocab.txt:x"]


def test_spec_is_versioned_and_relative(tmp_path):
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello"])
    mod.save(tmp_path / "p")
    spec = json.loads((tmp_path / "p" / "model.spec.json").read_text())
    assert spec["format"] == "matx_nb.pipeline" and spec["version"] == 1
    for entry in spec["libraries"].values():
        assert not entry["path"].startswith("/") and (tmp_path / "p" / entry["path"]).exists()
        assert (tmp_path / "p" / entry["source"]).exists()
    assert set(spec["checksums"]) >= {e["path"] for e in spec["libraries"].values()}


def test_tampered_folder_is_refused(tmp_path):
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello"])
    mod.save(tmp_path / "p")
    src = next((tmp_path / "p" / "ops").rglob("source.cc"))
    src.write_text(src.read_text() + "\n// edited\n")
    with pytest.raises(matx_nb.PipelineError, match="checksum mismatch"):
        matx_nb.load(tmp_path / "p")


def test_missing_or_corrupt_folder(tmp_path):
    with pytest.raises(matx_nb.PipelineError, match="no pipeline folder"):
        matx_nb.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(matx_nb.PipelineError, match="missing"):
        matx_nb.load(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.spec.json").write_text("{not json")
    with pytest.raises(matx_nb.PipelineError, match="corrupt"):
        matx_nb.load(tmp_path / "bad")


def test_bad_inputs_get_clear_errors(tmp_path):
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello"])
    mod.save(tmp_path / "p")
    loaded = matx_nb.load(tmp_path / "p")
    with pytest.raises(KeyError, match="missing pipeline input 'texts'"):
        loaded.run({})
    with pytest.raises(KeyError, match="unknown pipeline input 'text'"):
        loaded.run({"texts": [], "text": 1})
    with pytest.raises(TypeError, match="words"):
        loaded.run({"texts": [1, 2]})


def save_as_foreign_platform(folder):
    """The seed pipeline, saved as if built elsewhere: libraries for another
    platform (and not loadable here), checksums consistent."""
    matx_nb.trace(ops.WorkFlow().process, ["hello"]).save(folder)
    mark_foreign(folder)


def mark_foreign(folder):
    """A saved folder made to look built elsewhere: each library replaced by bytes
    "for another platform", checksums kept consistent."""
    import hashlib
    spec_path = folder / "model.spec.json"
    spec = json.loads(spec_path.read_text())
    junk = b"not a library for this machine"
    for entry in spec["libraries"].values():
        entry["platform"] = "someos-othercpu"
        (folder / entry["path"]).write_bytes(junk)
        spec["checksums"][entry["path"]] = hashlib.sha256(junk).hexdigest()
    spec_path.write_text(json.dumps(spec))


def test_library_for_another_platform_is_rebuilt_from_source(tmp_path):
    save_as_foreign_platform(tmp_path / "p")
    with pytest.raises(matx_nb.PipelineError, match="rebuild=True"):  # compiling the folder's code: on request
        matx_nb.load(tmp_path / "p")
    loaded = matx_nb.load(tmp_path / "p", rebuild=True)
    assert not loaded.runs_in_cpp
    assert loaded.run({"texts": ["world", "?"]}) == [1, 2]


# ---- the same folder from C++, with no Python in the process -----------------------

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_pipeline(tmp_path_factory):
    exe = tmp_path_factory.mktemp("cpp") / "run_pipeline"
    subprocess.run(["g++", "-std=c++17", "-O1", "-I", str(ROOT / "runtime" / "include"),
                    str(ROOT / "examples" / "cpp" / "run_pipeline.cc"), "-o", str(exe), "-ldl", "-lpthread"],
                   check=True)
    linked = subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
    assert "libpython" not in linked
    return exe


def cpp_run(exe, folder, feeds):
    r = subprocess.run([str(exe), str(folder), json.dumps(feeds)], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def test_cpp_session_runs_the_seed_pipeline(tmp_path, run_pipeline):
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello", "world"])
    mod.save(tmp_path / "t2i")
    for texts in (["hello", "x"], [], ["world", "world", "hello"]):
        rc, out, err = cpp_run(run_pipeline, tmp_path / "t2i", {"texts": texts})
        assert rc == 0, err
        assert json.loads(out) == matx_nb.load(tmp_path / "t2i").run({"texts": texts})


def test_cpp_session_runs_three_ops_with_glue_and_resources(tmp_path, run_pipeline):
    pipe = ops.ThreeOps()
    mod = matx_nb.trace(pipe.process, "Hello World foo", 4)
    mod.save(tmp_path / "three")
    for text, n in [("World x hello", 4), ("", 2)]:
        rc, out, err = cpp_run(run_pipeline, tmp_path / "three", {"text": text, "n": n})
        assert rc == 0, err
        assert json.loads(out) == json.loads(json.dumps(pipe.process(text, n)))
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\n")
    matx_nb.trace(ops.WithResource(str(vocab)).process, ["a"]).save(tmp_path / "res", resources=[vocab])
    rc, out, err = cpp_run(run_pipeline, tmp_path / "res", {"words": ["q"]})
    assert rc == 0 and json.loads(out) == ["vocab.txt:q"], err


def test_cpp_session_errors(tmp_path, run_pipeline):
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello"])
    mod.save(tmp_path / "p")
    rc, out, err = cpp_run(run_pipeline, tmp_path / "p", {})
    assert rc == 1 and "missing pipeline input 'texts'" in err
    rc, out, err = cpp_run(run_pipeline, tmp_path / "p", {"texts": [1]})
    assert rc == 1 and err.startswith("TypeError") and "words" in err
    rc, out, err = cpp_run(run_pipeline, tmp_path / "nowhere", {"texts": []})
    assert rc == 1 and "not a saved pipeline" in err
    lib = next((tmp_path / "p" / "ops").rglob("lib.so"))
    lib.write_bytes(lib.read_bytes() + b"\0")
    rc, out, err = cpp_run(run_pipeline, tmp_path / "p", {"texts": []})
    assert rc == 1 and "checksum mismatch" in err


def test_session_run_from_many_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    pipe = ops.ThreeOps()
    matx_nb.trace(pipe.process, "a b", 3).save(tmp_path / "p")
    loaded = matx_nb.load(tmp_path / "p")
    assert loaded.runs_in_cpp
    cases = [(" ".join(["hello", "world", "x"][i % 3:] * (i % 5)), i % 7 + 1) for i in range(400)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda c: loaded.run({"text": c[0], "n": c[1]}), cases))
    assert got == [pipe.process(t, n) for t, n in cases]


def test_vocab_file_pipeline_round_trips_everywhere(tmp_path, run_pipeline):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\nhello\nworld\n中文\n")
    pipe = ops.VocabPipeline(str(vocab))
    mod = matx_nb.trace(pipe.process, "hello world", 4)
    cases = [("Hello 中文 world foo", 5), ("world", 2), ("x y z", 3)]
    for text, n in cases:
        assert mod.run({"text": text, "n": n}) == pipe.process(text, n)
    mod.save(tmp_path / "vp", bundle_args=["Vocabulary.path"])  # the parameter's file is bundled
    spec = json.loads((tmp_path / "vp" / "model.spec.json").read_text())
    assert any(a == {"resource": "resources/vocab.txt"} for i in spec["instances"] for a in i["args"])
    vocab.unlink()  # the saved folder carries its own copy
    loaded = matx_nb.load(tmp_path / "vp")
    assert loaded.runs_in_cpp
    for text, n in cases:
        expected = pipe.process(text, n)
        assert loaded.run({"text": text, "n": n}) == expected
        rc, out, err = cpp_run(run_pipeline, tmp_path / "vp", {"text": text, "n": n})
        assert rc == 0, err
        assert json.loads(out) == json.loads(json.dumps(expected))
        r = subprocess.run([sys.executable, "-m", "matx_nb.cli", str(tmp_path / "vp"), "--feed",
                            json.dumps({"text": text, "n": n})], capture_output=True, text=True)
        assert r.returncode == 0 and json.loads(r.stdout) == json.loads(json.dumps(expected)), r.stderr


def test_open_missing_file_raises_file_not_found(tmp_path):
    Vocab = matx_nb.script(ops.Vocabulary)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        Vocab(str(tmp_path / "nope.txt"), "[UNK]")


def test_cpp_session_rebuilds_a_foreign_library_from_source(tmp_path, run_pipeline):
    save_as_foreign_platform(tmp_path / "p")
    env = dict(os.environ, MATX_NB_INCLUDE=str(ROOT / "runtime" / "include"), MATX_NB_CACHE=str(tmp_path / "c"))
    r = subprocess.run([str(run_pipeline), str(tmp_path / "p"), json.dumps({"texts": ["world", "?"]}), "--rebuild"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [1, 2]
    env.pop("MATX_NB_INCLUDE")
    env["MATX_NB_CACHE"] = str(tmp_path / "c2")
    r = subprocess.run([str(run_pipeline), str(tmp_path / "p"), json.dumps({"texts": []}), "--rebuild"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and "MATX_NB_INCLUDE" in r.stderr


# ---- source paths in the spec -------------------------------------------------------

def _strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def test_spec_records_no_absolute_or_temporary_source_path(tmp_path, monkeypatch):
    from matx_nb.pipeline.export import source_name
    assert source_name("/tmp/ipykernel_4242/1234567.py", {}) == "1234567.py"
    assert source_name("/tmp/ipykernel_4242/1234567.py", {"/tmp/ipykernel_4242/1234567.py": "cell [3]"}) == "cell [3]"
    assert source_name("<ipython-input-3-abc>", {}) == "<ipython-input-3-abc>"
    monkeypatch.chdir(ROOT)
    # relative to the working folder, unless the checkout itself is temporary (a CI clone in /tmp)
    in_tmp = os.path.realpath(ROOT).startswith(os.path.realpath(tempfile.gettempdir()) + os.sep)
    assert source_name(str(ROOT / "tests" / "export_ops.py"), {}) == \
        ("export_ops.py" if in_tmp else os.path.join("tests", "export_ops.py"))
    monkeypatch.chdir(tmp_path)
    assert source_name(str(ROOT / "tests" / "export_ops.py"), {}) == "export_ops.py"
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello"])
    mod.save(tmp_path / "p")
    spec = json.loads((tmp_path / "p" / "model.spec.json").read_text())
    (entry,) = spec["libraries"].values()
    assert [o[0] for o in entry["origins"]] == ["export_ops.py"] and entry["origins"][0][2] == "Text2Ids"
    assert not [s for s in _strings(spec) if os.path.isabs(s) or "ipykernel" in s]
    assert matx_nb.load(tmp_path / "p").run({"texts": ["world"]}) == [1]  # checksums and origins load


# ---- %matx_export in IPython ---------------------------------------------------------

CLASS_CELL = '''%%matx --sync
VOCAB = {"hello": 0, "world": 1, "[UNK]": 2}

class XText2Ids:
    def __init__(self, unk: int = 2) -> None:
        self.table: Dict[str, int] = VOCAB
        self.unk: int = unk

    def lookup(self, word: str) -> int:
        return self.table.get(word, self.unk)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]
'''


@pytest.fixture(scope="module")
def shell():
    pytest.importorskip("IPython")
    pytest.importorskip("ipywidgets")
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    assert sh.run_cell("%load_ext matx_nb", store_history=True).success
    return sh


def run_cell(sh, code, ok=True):
    r = sh.run_cell(code, store_history=True)
    if ok and not r.success:
        raise AssertionError(f"cell failed: {r.error_before_exec or r.error_in_exec!r}")
    return r


@pytest.fixture()
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_class_only_cell_exports_by_class_or_method(shell, in_tmp):
    run_cell(shell, CLASS_CELL)
    label = f"cell [{len(shell.history_manager.input_hist_raw) - 1}]"
    r = run_cell(shell, '%matx_export XText2Ids ["hello", "x"] --out out/t2i').result
    assert r.round_trip_ok and r.name == "XText2Ids.__call__" and r.loaded_result == [0, 2]
    spec = json.loads((in_tmp / "out/t2i/model.spec.json").read_text())
    assert spec["inputs"] == ["words"]
    (entry,) = spec["libraries"].values()
    assert entry["origins"] == [[label, 4, "XText2Ids"]]  # the cell, not /tmp/ipykernel_...
    assert not [s for s in _strings(spec) if os.path.isabs(s) or "ipykernel" in s]
    r = run_cell(shell, '%matx_export XText2Ids.lookup "nope" --init 7 --out "out/look up"').result
    assert r.name == "XText2Ids.lookup" and r.loaded_result == 7
    assert matx_nb.load(in_tmp / "out/look up").run({"word": "world"}) == 1
    r = run_cell(shell, "t = XText2Ids(5)\n%matx_export t ['q'] --out out/inst").result  # an instance: __call__
    assert r.loaded_result == [5]


def test_export_errors_are_clear(shell, in_tmp):
    from IPython.core.error import UsageError
    run_cell(shell, CLASS_CELL.replace("XText2Ids", "YText2Ids").replace("__call__", "batch"))

    def error(line):
        r = run_cell(shell, line, ok=False)
        return r.error_before_exec or r.error_in_exec

    e = error('%matx_export YText2Ids ["a"] --out out/y')
    assert type(e).__name__ == "ExportError" and "YText2Ids has no __call__: name a method" in str(e)
    e = error('%matx_export YText2Ids.lookup "a" --init "1, 2, 3" --out out/y')
    assert "constructing YText2Ids(1, 2, 3)" in str(e) and "--init" in str(e)
    assert isinstance(error('%matx_export YText2Ids.lookup "a"'), UsageError)  # --out is required
    e = error("%matx_export YText2Ids.batch [1, -2] --out out/y")
    assert isinstance(e, UsageError) and "[1,-2]" in str(e)
    e = error("%matx_export VOCAB 1 --out out/y")
    assert "not a function to trace" in str(e)


def test_long_examples_go_to_a_feed_file_the_snippets_read(shell, in_tmp):
    run_cell(shell, CLASS_CELL.replace("XText2Ids", "ZText2Ids"))
    words = [f"w{i}" for i in range(40)] + ["hello", "world"]
    expected = [2] * 40 + [0, 1]
    r = run_cell(shell, f"%matx_export ZText2Ids {words!r} --out out/long").result
    assert r.feed_file == Path("out/long/feed.json") and ("feed.json", r.feed_file.stat().st_size) in r.files
    assert json.loads(r.feed_file.read_text()) == {"words": words}
    snippets = r.snippets()
    assert all(str(words) not in s and json.dumps(words) not in s for s in snippets.values())
    assert "--feed @out/long/feed.json" in snippets["shell"]
    # the feed file is not part of the pipeline: editing it keeps the folder loadable
    r.feed_file.write_text(json.dumps({"words": ["world"]}))
    out = subprocess.run(snippets["shell"], shell=True, capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PATH="/usr/bin:/bin"))  # an unactivated venv
    assert out.returncode == 0 and json.loads(out.stdout) == [1], out.stderr
    r.feed_file.write_text(json.dumps({"words": words}))
    ns = {}
    exec(snippets["python"].replace("pipe.run(feeds)", "result = pipe.run(feeds)"), ns)
    assert ns["result"] == expected
    # a re-export to the same folder replaces the feed file, and the folder still loads
    r = run_cell(shell, "%matx_export ZText2Ids ['hello'] --out out/long").result
    assert r.feed_file is None and not (in_tmp / "out/long/feed.json").exists()
    assert "--feed '{\"words\": [\"hello\"]}'" in r.snippets()["shell"]
    assert "feeds = {'words': ['hello']}" in r.snippets()["python"]


def test_cpp_snippet_reads_the_feed_file(shell, in_tmp):
    run_cell(shell, CLASS_CELL.replace("XText2Ids", "CText2Ids"))
    words = ["hello"] * 30 + ["world", "what"]
    r = run_cell(shell, f"%matx_export CText2Ids {words!r} --out out/c").result
    assert r.feed_file is not None
    cpp = r.snippets()["cpp"]
    (in_tmp / "run.cc").write_text(cpp)
    build = cpp.splitlines()[0].lstrip("/ ")
    assert build.startswith("g++ ") and "matx_nb --includes" in build
    subprocess.run(build, shell=True, check=True, cwd=in_tmp, timeout=300)
    out = subprocess.run(["./run"], cwd=in_tmp, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and json.loads(out.stdout) == [0] * 30 + [1, 2], out.stderr


def test_export_of_a_failed_build_says_so(shell, in_tmp):
    from kernel_ext.builds import BuildFailed
    cxx = in_tmp / "broken-g++"
    cxx.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n'
                   'echo "broken-g++: planted failure" >&2; exit 1\n')
    cxx.chmod(0o755)
    os.environ["MATX_NB_CXX"] = str(cxx)
    try:
        run_cell(shell, "%%matx --force\ndef xfail(n: int) -> int:\n    return n - 100\n")
        label = f"cell [{len(shell.history_manager.input_hist_raw) - 1}]"
        r = run_cell(shell, "%matx_export xfail 3 --out out/f", ok=False)
    finally:
        del os.environ["MATX_NB_CXX"]
    e = r.error_in_exec
    assert isinstance(e, BuildFailed)
    assert str(e).startswith(f"cannot export: xfail (line 2 of {label}) did not compile")
    assert "planted failure" in str(e)
    assert not (in_tmp / "out/f").exists()


# ---- the side panel's entries ---------------------------------------------------------

def test_panel_entries_per_cell_with_phase_and_type_check_failures(shell, in_tmp):
    import kernel_ext
    panel = kernel_ext.extension(shell).panel
    ids = iter(["cell-a", "cell-b", "cell-a", "cell-c"])
    panel.running_cell_id = lambda: next(ids)  # JupyterLab sends the cell id with each execute request
    try:
        run_cell(shell, "%%matx --sync\ndef pa(n: int) -> int:\n    return n + 1\n")
        run_cell(shell, "%%matx --sync\ndef pb(n: int) -> int:\n    return n + 2\n")
        first = {b["cell_id"]: b for b in panel.state()["builds"]}
        assert first["cell-a"]["phase"] == "done" and first["cell-a"]["objects"][0]["name"] == "pa"
        assert first["cell-a"]["examples"] == {"pa": ""} and first["cell-a"]["init"] == {}
        # a re-run of cell a that fails its type check replaces a's entry
        run_cell(shell, '%%matx\ndef pa(n: int) -> int:\n    s = n + "a"\n    return nope\n', ok=False)
        state = panel.state()
        entries = [b for b in state["builds"] if b["cell_id"] in ("cell-a", "cell-b")]
        assert [b["cell_id"] for b in entries] == ["cell-b", "cell-a"]  # most recent last
        failed = entries[-1]
        assert failed["state"] == "failed" and failed["status"] == "✗ 2 errors in the type check"
        assert [(d["where"], d["line"], d["col"]) for d in failed["diagnostics"]] == [("line 3", 3, 9),
                                                                                      ("line 4", 4, 12)]
        assert all(d["here"] for d in failed["diagnostics"])
        # a class cell offers Cls and Cls.method, with the constructor's arguments, to the Export command
        run_cell(shell, CLASS_CELL.replace("XText2Ids", "PText2Ids")
                 .replace("--sync", "--sync --check 'PText2Ids(5)([\"a\"])' --check 'PText2Ids().lookup(\"b\")'"))
        last = panel.state()["builds"][-1]
        assert last["cell_id"] == "cell-c" and isinstance(last["started"], float)
        assert last["examples"] == {"PText2Ids": '["a"]', "PText2Ids.lookup": '"b"'}
        assert last["init"] == {"PText2Ids": "5", "PText2Ids.lookup": ""}
    finally:
        del panel.running_cell_id


def test_panel_shows_a_running_build_phase(shell, in_tmp):
    import kernel_ext
    cxx = in_tmp / "slow-g++"
    cxx.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n'
                   f'for i in $(seq 200); do [ -e {in_tmp}/go ] && break; sleep 0.05; done\nexec g++ "$@"\n')
    cxx.chmod(0o755)
    os.environ["MATX_NB_CXX"] = str(cxx)
    panel = kernel_ext.extension(shell).panel
    try:
        run_cell(shell, "%%matx --force\ndef pslow(n: int) -> int:\n    return n * 3\n")
        build = kernel_ext.extension(shell).manager.builds[-1]
        deadline = time.time() + 30
        while getattr(build, "phase", "compiling") != "compiling" and time.time() < deadline:
            time.sleep(0.05)
        entry = panel.state()["builds"][-1]
        assert entry["name"] == "pslow" and not entry["done"] and entry["phase"] == "compiling"
        assert entry["phase_words"] and abs(entry["phase_since"] - time.time()) < 30
        (in_tmp / "go").touch()
        build.wait()
        entry = panel.state()["builds"][-1]
        assert entry["done"] and entry["phase"] == "done" and "compiled" in entry["status"]
    finally:
        (in_tmp / "go").touch()
        del os.environ["MATX_NB_CXX"]


def test_matx_export_help_is_clean(shell):
    import kernel_ext
    doc = kernel_ext.extension(shell).matx_export.__doc__
    assert doc.startswith("%matx_export FUNC [EXAMPLE ...] --out DIR [--init ARGS]\n") and "::" not in doc
    assert "Text2Ids.lookup" in doc and "--init ARGS" in doc and "feed.json" in doc


def test_saving_changed_code_into_the_same_folder_is_picked_up(tmp_path):
    """The same process saves a pipeline, loads it, changes the code and saves it
    again into the same folder: loading it now runs the new code (the library file
    was replaced; dlopen alone would hand back the old one)."""
    d = tmp_path / "same"
    ns = {}
    for factor in (2, 3):
        code = f"def scale(x: int) -> int:\n    return x * {factor}\n"
        src = tmp_path / f"scale{factor}.py"
        src.write_text(code)
        exec(compile(code, str(src), "exec"), ns)
        import linecache
        linecache.updatecache(str(src))
        f = matx_nb.script(ns["scale"])
        matx_nb.trace(lambda x: f(x), 5).save(d)
        assert matx_nb.load(d).run({"x": 5}) == 5 * factor

