"""A saved folder must not run code it should not, and a malformed one must not
crash the loader (issue 15, sections 3 and 4): containment of every path,
mandatory checksums, rebuilding only on request, signing, schema checks in
Python and C++, matx-run without tracebacks, and save() bundling only what is
declared."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import export_ops as ops
import matx_nb

ROOT = Path(__file__).resolve().parents[1]
SPEC = "model.spec.json"


# ---- helpers --------------------------------------------------------------------------

def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def edit(folder, change, rechecksum=True):
    """Rewrites the folder's spec with change(spec, folder); with rechecksum, the
    checksums are recomputed for every file they list that exists (an attacker
    who edits the folder can do that too)."""
    folder = Path(folder)
    spec = json.loads((folder / SPEC).read_text())
    change(spec, folder)
    if rechecksum and isinstance(spec.get("checksums"), dict):
        for rel in list(spec["checksums"]):
            p = folder / rel
            if isinstance(rel, str) and p.is_file():
                spec["checksums"][rel] = sha(p)
    (folder / SPEC).write_text(json.dumps(spec))
    return folder


def copy(src, dst) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return Path(dst)


LOAD_CHILD = textwrap.dedent("""
    import json, sys
    import matx_nb
    folder, kwargs, feeds = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    try:
        out = matx_nb.load(folder, **kwargs).run(feeds)
        print("OK", json.dumps(out))
    except Exception as e:
        print("ERR", type(e).__name__, str(e).replace("\\n", " "))
""")


def py_load(folder, feeds=None, **kwargs):
    """matx_nb.load(folder, **kwargs).run(feeds) in a child process: (returncode,
    printed line). A crash shows as a negative returncode (the signal)."""
    r = subprocess.run([sys.executable, "-c", LOAD_CHILD, str(folder), json.dumps(kwargs),
                        json.dumps(feeds if feeds is not None else {"texts": ["hello"]})],
                       capture_output=True, text=True, timeout=300, cwd=ROOT / "tests")
    return r.returncode, (r.stdout.strip().splitlines() or [r.stderr.strip()[-2000:]])[-1]


def matx_run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "matx_nb.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed text2ids pipeline, saved once (tests work on copies)."""
    d = tmp_path_factory.mktemp("seed") / "t2i"
    matx_nb.trace(ops.WorkFlow().process, ["hello", "world"]).save(d)
    return d


@pytest.fixture(scope="module")
def vocab_folder(tmp_path_factory):
    """A pipeline with a resource file (declared), saved once."""
    base = tmp_path_factory.mktemp("vocab")
    vocab = base / "vocab.txt"
    vocab.write_text("[UNK]\nhello\nworld\n")
    d = base / "vp"
    matx_nb.trace(ops.VocabPipeline(str(vocab)).process, "hello", 3).save(d, resources=[vocab])
    return d


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    """A shared library outside every folder whose constructor leaves a marker
    file: loading it is running code the folder should not run."""
    d = tmp_path_factory.mktemp("evil")
    marker = d / "RAN"
    src = d / "evil.c"
    src.write_text(f'#include <stdio.h>\n__attribute__((constructor)) static void ran(void) {{\n'
                   f'  FILE* f = fopen("{marker}", "w"); if (f) {{ fputs("ran", f); fclose(f); }} }}\n'
                   'int matx_nb_module(void) { return 0; }\n')
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(d / "evil.so"), str(src)], check=True)
    (d / "secret.txt").write_text("TOP-SECRET-CANARY\n")
    return d


@pytest.fixture(scope="module")
def run_pipeline(tmp_path_factory):
    """examples/cpp/run_pipeline.cc: the C++ Session with no Python in the process."""
    exe = tmp_path_factory.mktemp("cpp") / "run_pipeline"
    subprocess.run(["g++", "-std=c++17", "-O1", "-I", str(ROOT / "runtime" / "include"),
                    str(ROOT / "examples" / "cpp" / "run_pipeline.cc"), "-o", str(exe), "-ldl", "-lpthread"],
                   check=True)
    return exe


def cpp_run(exe, folder, feeds=None, *flags, env=None):
    r = subprocess.run([str(exe), str(folder), json.dumps(feeds if feeds is not None else {"texts": ["hello"]}),
                        *flags], capture_output=True, text=True, timeout=300, env=env)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


# ---- malformed specs: a PipelineError naming the field, never a crash -----------------

def _set(path, value):
    """change() that sets spec[path...] = value (path: keys and list indexes)."""
    def change(spec, folder):
        obj = spec
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return change


def _deep(n):
    v = {"ref": "n1"}
    for _ in range(n):
        v = {"tuple": [v]}
    return v


MALFORMED = [  # (change, the field the error names)
    (_set(["inputs"], 5), "inputs"),
    (_set(["inputs"], [5]), "inputs[0]"),
    (_set(["instances"], None), "instances"),
    (_set(["instances", 0], 5), "instances[0]"),
    (_set(["instances", 0, "library"], "lib9"), "instances[0].library"),
    (_set(["instances", 0, "class"], "Nope"), "instances[0].class"),
    (_set(["instances", 0, "args"], {"a": 1}), "instances[0].args"),
    (_set(["libraries", "lib0", "origins"], [5]), "libraries.lib0.origins[0]"),
    (_set(["libraries", "lib0", "origins"], [["a.py", "x", "Text2Ids"]]), "libraries.lib0.origins[0][1]"),
    (_set(["libraries", "lib0"], "x"), "libraries.lib0"),
    (_set(["libraries", "lib0", "path"], 5), "libraries.lib0.path"),
    (_set(["libraries", "lib0", "abi"], "6"), "libraries.lib0.abi"),
    (_set(["libraries"], []), "libraries"),
    (_set(["nodes"], {"a": 1}), "nodes"),
    (_set(["nodes", 0], None), "nodes[0]"),
    (_set(["nodes", 0, "op"], None), "nodes[0].op"),
    (_set(["nodes", 0, "op", "kind"], 7), "nodes[0].op.kind"),
    (_set(["nodes", 0, "op", "kind"], "exec"), "nodes[0].op.kind"),
    (_set(["nodes", 0, "op", "instance"], "op9"), "nodes[0].op.instance"),
    (_set(["nodes", 0, "op", "name"], None), "nodes[0].op.name"),
    (_set(["nodes", 0, "args"], "x"), "nodes[0].args"),
    (_set(["nodes", 0, "args", 0], {"ref": 5}), "nodes[0].args[0].ref"),
    (_set(["nodes", 0, "args", 0], {"ref": "nope"}), "nodes[0].args[0].ref"),
    (_set(["nodes", 0, "args", 0], {"what": 1}), "nodes[0].args[0]"),
    (_set(["nodes", 0, "kwargs"], [1]), "nodes[0].kwargs"),
    (_set(["outputs"], 5), "outputs"),
    (_set(["outputs"], {"ref": "n9"}), "outputs.ref"),
    (_set(["outputs"], _deep(300)), "outputs"),
    (_set(["version"], "1"), "version"),
    (_set(["checksums"], []), "checksums"),
    (_set(["checksums", "ops/lib0/other.so"], 5), "checksums"),
]


def test_malformed_specs_are_pipeline_errors_naming_the_field_in_python(seed, tmp_path):
    """One child process loads every variant in turn (a crash fails the test
    with the signal); each must raise PipelineError naming its field."""
    folders = []
    for i, (change, field) in enumerate(MALFORMED):
        folders.append((str(edit(copy(seed, tmp_path / f"m{i}"), change)), field))
    child = textwrap.dedent("""
        import json, sys, matx_nb
        for folder, field in json.loads(sys.argv[1]):
            print("TRY", folder, flush=True)
            try:
                matx_nb.load(folder).run({"texts": ["hello"]})
                print("LOADED", folder, flush=True)
            except matx_nb.PipelineError as e:
                print("PE" if repr(field) in str(e) else "PE-NOFIELD", folder, str(e).replace("\\n", " "), flush=True)
            except Exception as e:
                print("OTHER", folder, type(e).__name__, str(e).replace("\\n", " "), flush=True)
    """)
    r = subprocess.run([sys.executable, "-c", child, json.dumps(folders)], capture_output=True, text=True,
                       timeout=300, cwd=ROOT / "tests")
    lines = r.stdout.splitlines()
    assert r.returncode == 0, f"crashed ({r.returncode}) at {lines[-1:]}\n{r.stderr[-2000:]}"
    results = [l for l in lines if not l.startswith("TRY")]
    bad = [l for l in results if not l.startswith("PE ")]
    assert not bad and len(results) == len(MALFORMED), "\n".join(bad)


def test_malformed_specs_are_errors_naming_the_field_in_cpp(seed, tmp_path, run_pipeline):
    """The C++ Session (no Python) checks every field it reads by hand."""
    bad = []
    for i, (change, field) in enumerate(MALFORMED):
        folder = edit(copy(seed, tmp_path / f"m{i}"), change)
        rc, out, err = cpp_run(run_pipeline, folder)
        if rc != 1 or f"'{field}'" not in err or not err.startswith("PipelineError"):
            bad.append(f"{field}: rc {rc}: {err[-300:]}")
    assert not bad, "\n".join(bad)


def test_truncated_library_with_matching_checksum_is_refused(seed, tmp_path, run_pipeline):
    size = (seed / "ops/lib0/lib.so").stat().st_size
    for n in (size // 2, size - 1, 64, 10, 0):
        folder = copy(seed, tmp_path / f"t{n}")
        lib = folder / "ops/lib0/lib.so"
        lib.write_bytes(lib.read_bytes()[:n])
        edit(folder, lambda s, f: None)
        rc, line = py_load(folder)
        assert rc == 0 and line.startswith("ERR PipelineError") and "ops/lib0/lib.so" in line, (n, rc, line)
        rc, out, err = cpp_run(run_pipeline, folder)
        assert rc == 1 and "ops/lib0/lib.so" in err, (n, rc, err)


# ---- containment ------------------------------------------------------------------------

def test_library_outside_the_folder_is_refused(seed, tmp_path, evil, run_pipeline):
    rel = os.path.relpath(evil / "evil.so", tmp_path / "p")
    cases = {
        "dotdot": lambda s, f: s["libraries"]["lib0"].update(path=rel),
        "dotdot-checksummed": lambda s, f: (s["libraries"]["lib0"].update(path=rel),
                                            s["checksums"].update({rel: sha(evil / "evil.so")})),
        "absolute": lambda s, f: (s["libraries"]["lib0"].update(path=str(evil / "evil.so")),
                                  s["checksums"].update({str(evil / "evil.so"): sha(evil / "evil.so")})),
    }
    for name, change in cases.items():
        folder = tmp_path / "p"
        shutil.rmtree(folder, ignore_errors=True)
        edit(copy(seed, folder), change)
        rc, line = py_load(folder)
        assert rc == 0 and line.startswith("ERR PipelineError") and "libraries.lib0.path" in line, (name, line)
        rc, out, err = cpp_run(run_pipeline, folder)
        assert rc == 1 and "libraries.lib0.path" in err, (name, err)
        assert not (evil / "RAN").exists(), name


def test_symlinks_leading_outside_are_refused(seed, tmp_path, evil, run_pipeline):
    # the library replaced by a link to a library outside (checksum recomputed)
    folder = copy(seed, tmp_path / "lib")
    (folder / "ops/lib0/lib.so").unlink()
    (folder / "ops/lib0/lib.so").symlink_to(evil / "evil.so")
    edit(folder, lambda s, f: None)
    rc, line = py_load(folder)
    assert rc == 0 and line.startswith("ERR PipelineError") and "outside" in line, line
    rc, out, err = cpp_run(run_pipeline, folder)
    assert rc == 1 and "outside" in err, err
    # a linked folder
    folder = copy(seed, tmp_path / "dir")
    shutil.rmtree(folder / "ops")
    (evil / "ops" / "lib0").mkdir(parents=True, exist_ok=True)
    shutil.copy(evil / "evil.so", evil / "ops" / "lib0" / "lib.so")
    shutil.copy(seed / "ops/lib0/source.cc", evil / "ops" / "lib0" / "source.cc")
    (folder / "ops").symlink_to(evil / "ops")
    edit(folder, lambda s, f: None)
    rc, line = py_load(folder)
    assert rc == 0 and line.startswith("ERR PipelineError") and "outside" in line, line
    assert not (evil / "RAN").exists()
    # a link inside the folder that stays inside is fine
    folder = copy(seed, tmp_path / "inside")
    (folder / "ops/lib0/lib.so").rename(folder / "ops/lib0/real.so")
    (folder / "ops/lib0/lib.so").symlink_to("real.so")
    assert py_load(folder) == (0, "OK [0]")


def test_resources_outside_the_folder_are_refused(vocab_folder, tmp_path, evil, run_pipeline):
    feeds = {"text": "hello", "n": 2}
    up = "../" * 12 + str(evil / "secret.txt").lstrip("/")
    for name, change in {
        "dotdot": lambda s, f: s["instances"][0]["args"].__setitem__(0, {"resource": up}),
        "absolute": lambda s, f: s["instances"][0]["args"].__setitem__(0, {"resource": str(evil / "secret.txt")}),
        "not-checksummed": lambda s, f: ((f / "resources/extra.txt").write_text("x\n"),
                                         s["instances"][0]["args"].__setitem__(0, {"resource": "resources/extra.txt"})),
    }.items():
        folder = tmp_path / name
        edit(copy(vocab_folder, folder), change)
        rc, line = py_load(folder, feeds)
        assert rc == 0 and line.startswith("ERR PipelineError") and "instances[0].args[0].resource" in line, line
        assert "TOP-SECRET" not in line
        rc, out, err = cpp_run(run_pipeline, folder, feeds)
        assert rc == 1 and "instances[0].args[0].resource" in err and "TOP-SECRET" not in out + err, err
    folder = copy(vocab_folder, tmp_path / "link")
    (folder / "resources/vocab.txt").unlink()
    (folder / "resources/vocab.txt").symlink_to(evil / "secret.txt")
    edit(folder, lambda s, f: None)
    rc, line = py_load(folder, feeds)
    assert rc == 0 and line.startswith("ERR PipelineError") and "outside" in line and "TOP-SECRET" not in line
    rc, out, err = cpp_run(run_pipeline, folder, feeds)
    assert rc == 1 and "outside" in err and "TOP-SECRET" not in out + err


def test_torch_runner_outside_the_folder_is_refused(seed, tmp_path, evil, run_pipeline):
    """A torch node whose runner is outside the folder: refused before dlopen."""
    rel = os.path.relpath(evil / "evil.so", tmp_path / "p")

    def change(spec, folder):
        (folder / "resources").mkdir(exist_ok=True)
        (folder / "resources/torch0.pt").write_bytes(b"not a model")
        spec["nodes"].append({"id": "n9", "op": {"kind": "torch", "model": "torch0", "device": -1,
                                                 "path": "resources/torch0.pt", "runner": rel},
                              "args": [{"ref": "n1"}], "kwargs": {}})
        spec["checksums"]["resources/torch0.pt"] = sha(folder / "resources/torch0.pt")
        spec["checksums"][rel] = sha(evil / "evil.so")

    folder = edit(copy(seed, tmp_path / "p"), change)
    rc, line = py_load(folder)
    assert rc == 0 and line.startswith("ERR PipelineError") and "nodes[1].op.runner" in line, line
    rc, out, err = cpp_run(run_pipeline, folder)
    assert rc == 1 and "nodes[1].op.runner" in err, err
    assert not (evil / "RAN").exists()


def test_source_outside_the_folder_is_refused_and_not_echoed(seed, tmp_path, evil):
    def change(spec, folder):
        spec["libraries"]["lib0"]["source"] = str(evil / "secret.txt")
        spec["libraries"]["lib0"]["platform"] = "someos-othercpu"
    folder = edit(copy(seed, tmp_path / "p"), change)
    rc, line = py_load(folder, rebuild=True)
    assert rc == 0 and line.startswith("ERR PipelineError") and "libraries.lib0.source" in line, line
    assert "TOP-SECRET" not in line


# ---- checksums: mandatory, covering every file the spec names -----------------------

def test_deleting_checksums_does_not_switch_verification_off(seed, tmp_path, run_pipeline):
    folder = edit(copy(seed, tmp_path / "p"), lambda s, f: s.pop("checksums"), rechecksum=False)
    rc, line = py_load(folder)
    assert rc == 0 and line.startswith("ERR PipelineError") and "checksums" in line, line
    rc, out, err = cpp_run(run_pipeline, folder)
    assert rc == 1 and "checksums" in err, err


def test_every_named_file_needs_a_checksum(seed, tmp_path, run_pipeline):
    folder = edit(copy(seed, tmp_path / "p"), lambda s, f: s["checksums"].pop("ops/lib0/lib.so"), rechecksum=False)
    rc, line = py_load(folder)
    assert rc == 0 and line.startswith("ERR PipelineError") and "libraries.lib0.path" in line and \
        "checksum" in line, line
    rc, out, err = cpp_run(run_pipeline, folder)
    assert rc == 1 and "libraries.lib0.path" in err and "checksum" in err, err


def test_checksum_keys_are_contained_too(seed, tmp_path, run_pipeline):
    for key in ("../x", "/etc/hostname", "ops/../../x", "ops/lib0"):
        folder = tmp_path / f"k{abs(hash(key))}"
        edit(copy(seed, folder), lambda s, f: s["checksums"].update({key: "0" * 64}), rechecksum=False)
        rc, line = py_load(folder)
        assert rc == 0 and line.startswith("ERR PipelineError") and "checksums" in line, (key, line)
        rc, out, err = cpp_run(run_pipeline, folder)
        assert rc == 1 and "checksums" in err, (key, err)


def test_checksums_are_verified_in_cpp_for_the_python_load(seed, tmp_path, monkeypatch):
    """matx_nb.load goes through the C++ Session's verification (not only Python's)."""
    from matx_nb import _native
    folder = copy(seed, tmp_path / "p")
    lib = folder / "ops/lib0/lib.so"
    lib.write_bytes(lib.read_bytes() + b"\0")
    with pytest.raises(matx_nb.PipelineError, match="checksum mismatch for ops/lib0/lib.so"):
        _native.Session.load(str(folder), SPEC, -1)


# ---- rebuilding from source only on request ------------------------------------------

def make_foreign(folder, source=None):
    """Libraries marked as built elsewhere (junk bytes), optionally with another source."""
    def change(spec, f):
        for entry in spec["libraries"].values():
            entry["platform"] = "someos-othercpu"
            (f / entry["path"]).write_bytes(b"not a library for this machine")
            if source is not None:
                (f / entry["source"]).write_text(source)
    return edit(folder, change)


def test_foreign_library_is_rebuilt_only_on_request(seed, tmp_path, run_pipeline):
    marker = tmp_path / "COMPILED"
    # a source whose compilation would leave a trace: #include of a missing file named by the marker
    folder = make_foreign(copy(seed, tmp_path / "p"))
    rc, line = py_load(folder)
    assert rc == 0 and line.startswith("ERR PipelineError") and "rebuild=True" in line, line
    r = matx_run(folder, "--feed", '{"texts": ["world"]}')
    assert r.returncode == 1 and "--rebuild" in r.stderr and "Traceback" not in r.stderr, r.stderr
    env = dict(os.environ, MATX_NB_INCLUDE=str(ROOT / "runtime" / "include"), MATX_NB_CACHE=str(tmp_path / "c"))
    rc, out, err = cpp_run(run_pipeline, folder, {"texts": ["world"]}, env=env)
    assert rc == 1 and "rebuild" in err and not (tmp_path / "c").exists(), err
    assert not marker.exists()
    # asked for: it is rebuilt
    assert py_load(folder, {"texts": ["world", "?"]}, rebuild=True) == (0, "OK [1, 2]")
    r = matx_run(folder, "--rebuild", "--feed", '{"texts": ["world"]}')
    assert r.returncode == 0 and json.loads(r.stdout) == [1], r.stderr
    rc, out, err = cpp_run(run_pipeline, folder, {"texts": ["world"]}, "--rebuild", env=env)
    assert rc == 0 and json.loads(out) == [1], err


def test_rebuild_compiles_a_private_copy_of_the_source(seed, tmp_path, run_pipeline):
    """Files next to source.cc (not in the checksums) cannot be pulled in by a
    quoted #include when the C++ Session rebuilds it."""
    folder = make_foreign(copy(seed, tmp_path / "p"),
                          source='#include "planted.h"\n' + (seed / "ops/lib0/source.cc").read_text())
    (folder / "ops/lib0/planted.h").write_text('#error "the planted header was compiled"\n')
    env = dict(os.environ, MATX_NB_INCLUDE=str(ROOT / "runtime" / "include"), MATX_NB_CACHE=str(tmp_path / "c"))
    rc, out, err = cpp_run(run_pipeline, folder, {"texts": ["world"]}, "--rebuild", env=env)
    assert rc == 1 and "rebuilding it from ops/lib0/source.cc failed" in err, err


# ---- matx-run: no traceback for bad input ----------------------------------------------

def test_matx_run_never_prints_a_traceback(seed, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"texts": ' + "[" * 100000 + "]" * 100000 + "}")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{"texts": ["\xe9"]}')
    for feed in ("@/nonexistent/feed.json", "@" + str(tmp_path), f"@{deep}", f"@{latin1}",
                 '{"texts": ' + "[" * 50000 + "]" * 50000 + "}", '{"texts": [{"$b64": "!!"}]}',
                 "[1, 2]", '{"texts": [' + "[" * 900 + "]" * 900 + "]}"):
        r = matx_run(seed, "--feed", feed)
        assert r.returncode in (1, 2) and "Traceback" not in r.stderr and r.stderr.startswith("matx-run: "), \
            (feed[:40], r.returncode, r.stderr[-500:])
    r = matx_run(seed, "--feed", '{"texts": ["\\ud800"]}')  # a lone surrogate is a str like any other
    assert r.returncode == 0 and json.loads(r.stdout) == [2], r.stderr
    r = matx_run(tmp_path / "nowhere", "--feed", "{}")
    assert r.returncode == 1 and "Traceback" not in r.stderr


# ---- signing -----------------------------------------------------------------------------

def test_signed_folders_load_only_with_a_trusted_key(seed, tmp_path):
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    mod = matx_nb.trace(ops.WorkFlow().process, ["hello"])
    mod.save(tmp_path / "signed", sign_key=key)
    sig = json.loads((tmp_path / "signed" / "model.spec.sig").read_text())
    assert sig["algorithm"] == "ed25519" and sig["format"] == "matx_nb.signature"
    loaded = matx_nb.load(tmp_path / "signed", trusted_keys=[key.public_key()])
    assert loaded.run({"texts": ["world"]}) == [1]
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert matx_nb.load(tmp_path / "signed", trusted_keys=[pem]).run({"texts": ["hello"]}) == [0]
    with pytest.raises(matx_nb.PipelineError, match="not signed by a trusted key"):
        matx_nb.load(tmp_path / "signed", trusted_keys=[other.public_key()])
    # unsigned (another pipeline)
    matx_nb.trace(ops.ThreeOps().process, "a b", 2).save(tmp_path / "unsigned")
    with pytest.raises(matx_nb.PipelineError, match="not signed"):
        matx_nb.load(tmp_path / "unsigned", trusted_keys=[key.public_key()])
    # a replaced library with a recomputed checksum: the checksums pass, the signature does not
    tampered = copy(tmp_path / "signed", tmp_path / "tampered")
    lib = tampered / "ops/lib0/lib.so"
    lib.write_bytes(lib.read_bytes() + b"\0")
    edit(tampered, lambda s, f: None)
    assert matx_nb.load(tampered).run({"texts": ["x"]}) == [2]  # integrity only: loads without keys
    with pytest.raises(matx_nb.PipelineError, match="signature"):
        matx_nb.load(tampered, trusted_keys=[key.public_key()])
    # a signature copied onto another folder
    shutil.copy(tmp_path / "signed" / "model.spec.sig", tmp_path / "unsigned" / "model.spec.sig")
    with pytest.raises(matx_nb.PipelineError, match="signature"):
        matx_nb.load(tmp_path / "unsigned", trusted_keys=[key.public_key()])
    # matx-run --trusted-key
    pub = tmp_path / "trusted.pem"
    pub.write_bytes(pem)
    r = matx_run(tmp_path / "signed", "--trusted-key", pub, "--feed", '{"texts": ["world"]}')
    assert r.returncode == 0 and json.loads(r.stdout) == [1], r.stderr
    r = matx_run(tampered, "--trusted-key", pub, "--feed", '{"texts": ["world"]}')
    assert r.returncode == 1 and "signature" in r.stderr and "Traceback" not in r.stderr


def test_signature_covers_the_canonical_spec(tmp_path):
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from matx_nb.pipeline.export import signed_message
    key = Ed25519PrivateKey.generate()
    matx_nb.trace(ops.WorkFlow().process, ["hello"]).save(tmp_path / "p", sign_key=key)
    spec = json.loads((tmp_path / "p" / SPEC).read_text())
    msg = signed_message(spec)
    assert msg.startswith(b"matx_nb.pipeline.signature/1\n")
    assert msg.endswith(json.dumps(spec, sort_keys=True, ensure_ascii=True).encode("ascii"))
    # reformatting the file keeps the signature valid; changing a value does not
    (tmp_path / "p" / SPEC).write_text(json.dumps(spec, indent=4, sort_keys=True))
    assert matx_nb.load(tmp_path / "p", trusted_keys=[key.public_key()]).run({"texts": ["x"]}) == [2]
    spec["signature"] = "process(evil)"
    (tmp_path / "p" / SPEC).write_text(json.dumps(spec))
    with pytest.raises(matx_nb.PipelineError, match="signature"):
        matx_nb.load(tmp_path / "p", trusted_keys=[key.public_key()])


# ---- save(): bundle only what is declared ---------------------------------------------

def test_save_does_not_rewrite_constants_that_name_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("x")
    for const in ("data", "."):
        mod = matx_nb.trace(_TagOf(const), ["a"])
        out = tmp_path / "out" / ("dot" if const == "." else const)
        mod.save(out)
        spec = json.loads((out / SPEC).read_text())
        assert spec["instances"][0]["args"][0] == {"const": const}
        assert not (out / "resources").exists()
        assert matx_nb.load(out).run({"words": ["q"]}) == mod.run({"words": ["q"]})


class _TagOf:
    """A pipeline constructing PathTagger with a constant that names a path."""

    def __init__(self, const):
        self.tag = matx_nb.script(ops.PathTagger)(const, 1)

    def __call__(self, words):
        return self.tag(words)


def test_declared_resources_and_bundle_args_are_bundled(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[UNK]\nhello\n")
    pipe = ops.VocabPipeline(str(vocab))
    mod = matx_nb.trace(pipe.process, "hello", 2)
    # undeclared: saved as the string it is, with a warning
    with pytest.warns(UserWarning, match="resources="):
        mod.save(tmp_path / "plain")
    spec = json.loads((tmp_path / "plain" / SPEC).read_text())
    assert spec["instances"][0]["args"][0] == {"const": str(vocab)}
    for kw in ({"resources": [vocab]}, {"bundle_args": ["Vocabulary.path"]}, {"bundle_args": ["path"]}):
        out = tmp_path / "b" / "_".join(map(str, kw.values()))[-40:].replace("/", "_")
        mod.save(out, **kw)
        spec = json.loads((out / SPEC).read_text())
        assert spec["instances"][0]["args"][0] == {"resource": "resources/vocab.txt"}, kw
        assert "resources/vocab.txt" in spec["checksums"]
    with pytest.raises(ValueError, match="bundle_args"):
        mod.save(tmp_path / "bad", bundle_args=["Vocabulary.nope"])
    assert not (tmp_path / "bad").exists()  # refused before anything is written
    # a folder is copied only when declared, and never into itself
    (tmp_path / "self").mkdir()
    with pytest.raises(ValueError, match="inside"):
        mod.save(tmp_path / "self" / "out", resources=[tmp_path / "self"])


def test_parameters_declared_as_paths_are_bundled(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[UNK]\nhello\n")
    Declared = matx_nb.path_args("path")(type("Declared", (ops.Vocabulary,), {}))
    assert Declared.__matx_path_args__ == ("path",)
    pipe = ops.VocabPipeline(str(vocab))
    ops.Vocabulary.__matx_path_args__ = ("path",)
    try:
        mod = matx_nb.trace(pipe.process, "hello", 2)
        mod.save(tmp_path / "out")
    finally:
        del ops.Vocabulary.__matx_path_args__
    spec = json.loads((tmp_path / "out" / SPEC).read_text())
    assert spec["instances"][0]["args"][0] == {"resource": "resources/vocab.txt"}
    vocab.unlink()
    assert matx_nb.load(tmp_path / "out").run({"text": "hello x", "n": 3}) == pipe.process("hello x", 3)


def test_signed_bytes_are_reproducible_in_cpp(tmp_path):
    """A C++ server can rebuild the signed message with the runtime's own JSON:
    mx::json::dumps(spec, ensure_ascii=true, indent=-1, sort_keys=true)."""
    from matx_nb.pipeline.export import signed_message
    matx_nb.trace(ops.ThreeOps().process, "a b", 2).save(tmp_path / "p")
    spec = json.loads((tmp_path / "p" / SPEC).read_text())
    spec["extra"] = [1.5, 1e100, -0.0, "é\U0001F600\u2028", {"b": 1, "a": None, "B": True}, 2 ** 62]
    (tmp_path / "spec.json").write_text(json.dumps(spec, ensure_ascii=False, indent=2))
    src = tmp_path / "canon.cc"
    src.write_text('#include <matx_nb/json.h>\n#include <iostream>\nint main(int, char** argv) {\n'
                   '  std::cout << mx::json::dumps(mx::json::load_file(argv[1]), true, -1, true); }\n')
    subprocess.run(["g++", "-std=c++17", "-O0", "-I", str(ROOT / "runtime" / "include"), str(src), "-o",
                    str(tmp_path / "canon")], check=True)
    out = subprocess.run([str(tmp_path / "canon"), str(tmp_path / "spec.json")], capture_output=True, check=True).stdout
    assert b"matx_nb.pipeline.signature/1\n" + out == signed_message(spec)


def test_spec_carries_no_absolute_path_of_the_author(tmp_path, monkeypatch):
    """A torch runner's build error (recorded when no runner could be built)
    names the author's cache and home folders; the spec keeps their last parts."""
    torch = pytest.importorskip("torch")
    from matx_nb.pipeline import torch_op
    from matx_nb.pipeline.export import without_private_paths
    assert without_private_paths("g++: /home/ann/.cache/matx_nb/torch/ab12/x.cc: error in '/opt/t/lib'") == \
        "g++: x.cc: error in 'lib'"

    def no_runner():
        raise RuntimeError(f"building the libtorch runner (g++) failed:\n{Path.home()}/.cache/matx_nb/torch/"
                           f"k/runner.cc:1: error\n  in {tmp_path}/build")
    monkeypatch.setattr(torch_op, "runner_library", no_runner)
    op = matx_nb.script(torch.nn.Linear(2, 2).eval())
    mod = matx_nb.trace(lambda x: op(x), np_zeros())
    mod.save(tmp_path / "p")
    spec = json.loads((tmp_path / "p" / SPEC).read_text())
    (node,) = spec["nodes"]
    assert node["op"]["runner"] is None and "runner.cc:1: error" in node["op"]["runner_error"]
    strings = [s for s in _strings(spec) if "/" in s and (s.startswith("/") or str(Path.home()) in s
                                                          or str(tmp_path) in s)]
    assert not strings


def np_zeros():
    import numpy as np
    return np.zeros((1, 2), dtype=np.float32)


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
