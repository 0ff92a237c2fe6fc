"""trace -> run -> save -> load round trips, and the errors around them."""
import json
import shutil

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
    mod.save(out)
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
    import hashlib
    matx_nb.trace(ops.WorkFlow().process, ["hello"]).save(folder)
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
    loaded = matx_nb.load(tmp_path / "p")
    assert not loaded.runs_in_cpp
    assert loaded.run({"texts": ["world", "?"]}) == [1, 2]


# ---- the same folder from C++, with no Python in the process -----------------------

import os
import subprocess
import sys
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
    matx_nb.trace(ops.WithResource(str(vocab)).process, ["a"]).save(tmp_path / "res")
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
    mod.save(tmp_path / "vp")
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
    r = subprocess.run([str(run_pipeline), str(tmp_path / "p"), json.dumps({"texts": ["world", "?"]})],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [1, 2]
    env.pop("MATX_NB_INCLUDE")
    env["MATX_NB_CACHE"] = str(tmp_path / "c2")
    r = subprocess.run([str(run_pipeline), str(tmp_path / "p"), json.dumps({"texts": []})],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and "MATX_NB_INCLUDE" in r.stderr
