"""Saving and loading traced pipelines.

A saved pipeline is a folder:

    model.spec.json      the graph (versioned schema, relative paths, checksums)
    ops/libN/lib.so      each op's compiled library ...
    ops/libN/source.cc   ... and the C++ it was built from (rebuilt on load if the
                         library does not fit this platform or ABI)
    resources/...        files the ops were constructed with (vocab files, ...)

See docs/export.md for the schema.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List

from .tracing import SPEC_FORMAT, SPEC_VERSION, TraceError

SPEC_FILE = "model.spec.json"


class PipelineError(ValueError):
    """A saved pipeline folder that cannot be loaded or run."""


def platform_tag() -> str:
    return f"{sys.platform}-{platform.machine()}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---- save ---------------------------------------------------------------------------

def source_name(file: str, names: Dict[str, str]) -> str:
    """How the spec records the Python file an op was compiled from (for error
    messages): the name given in ``names`` (a notebook cell: "cell [3]"), else a
    path relative to the working folder, else the file's name; never an
    absolute or temporary path such as /tmp/ipykernel_.../123.py."""
    if file in names:
        return names[file]
    if not os.path.isabs(file):
        return file
    tmp = os.path.realpath(tempfile.gettempdir())
    real = os.path.realpath(file)
    if not real.startswith(tmp + os.sep):
        rel = os.path.relpath(real, os.path.realpath(os.getcwd()))
        if not rel.startswith(os.pardir):
            return rel
    return os.path.basename(file)


def _replace_file(src, dst: Path) -> None:
    """Copies a library into place as a new file: overwriting one this process
    has loaded (an export saved again to its folder) would crash it."""
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def save(module, directory, resources: Iterable[str] = (), source_names: Dict[str, str] = None):
    from . import _native
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    spec = json.loads(json.dumps(module.spec))  # a copy we can rewrite
    live = module._live
    libs: Dict[str, str] = {}  # library path -> lib id
    lib_entries: Dict[str, dict] = {}

    def lib_id(path: str, origins) -> str:
        if path not in libs:
            lid = f"lib{len(libs)}"
            libs[path] = lid
            d = out / "ops" / lid
            d.mkdir(parents=True, exist_ok=True)
            _replace_file(path, d / "lib.so")
            src = Path(path).with_name("source.cc")
            if src.exists():
                shutil.copy2(src, d / "source.cc")
            lib_entries[lid] = {"path": f"ops/{lid}/lib.so",
                                "source": f"ops/{lid}/source.cc" if src.exists() else None,
                                "abi": _native.ABI_VERSION, "platform": platform_tag(),
                                "origins": origins}
        return libs[path]

    def origins_of(path: str):
        for obj in list(live.live.values()) + list(live.functions.values()):
            matx = getattr(type(obj), "matx", None) or getattr(obj, "matx", None)
            if matx is not None and str(matx.library) == path:
                return [[source_name(str(o[0]), names), *o[1:]] for o in getattr(matx, "origins", [])]
        return []

    names = dict(source_names or {})

    explicit = {os.path.abspath(r): r for r in resources}
    bundled: Dict[str, str] = {}

    def bundle(path: str) -> str:
        ap = os.path.abspath(path)
        if ap not in bundled:
            name = os.path.basename(ap)
            rel = f"resources/{name}"
            n = 1
            while rel in bundled.values():
                rel = f"resources/{n}_{name}"
                n += 1
            (out / "resources").mkdir(exist_ok=True)
            if os.path.isdir(ap):
                shutil.copytree(ap, out / rel, dirs_exist_ok=True)
            else:
                shutil.copy2(ap, out / rel)
            bundled[ap] = rel
        return bundled[ap]

    def rewrite(arg):
        """Constants naming files become bundled resources."""
        if "const" in arg and isinstance(arg["const"], str):
            v = arg["const"]
            if os.path.abspath(v) in explicit or (len(v) < 4096 and os.path.exists(v)):
                return {"resource": bundle(v)}
        if "tuple" in arg:
            return {"tuple": [rewrite(a) for a in arg["tuple"]]}
        return arg

    for rec in spec["instances"]:
        rec["library"] = lib_id(rec["library"], origins_of(rec["library"]))
        rec["args"] = [rewrite(a) for a in rec["args"]]
        rec["kwargs"] = {k: rewrite(v) for k, v in rec["kwargs"].items()}
    for node in spec["nodes"]:
        op = node["op"]
        if op.get("kind") == "function":
            op["library"] = lib_id(op["library"], origins_of(op["library"]))
        node["args"] = [rewrite(a) for a in node["args"]]
        node["kwargs"] = {k: rewrite(v) for k, v in node["kwargs"].items()}
    for node in spec["nodes"]:  # torch models: TorchScript files and the libtorch runner
        op = node["op"]
        if op.get("kind") == "torch":
            from . import torch_bridge
            (out / "resources").mkdir(exist_ok=True)
            op["path"] = f"resources/{op['model']}.pt"
            torch_bridge.save_model(live.live[op["model"]], out / op["path"])
            try:
                runner = torch_bridge.runner_library()
                (out / "ops" / "torch").mkdir(parents=True, exist_ok=True)
                _replace_file(runner, out / "ops" / "torch" / runner.name)
                op["runner"] = f"ops/torch/{runner.name}"
            except Exception as err:  # no compiler: the folder still runs in Python
                op["runner"] = None
                op["runner_error"] = str(err)[:500]
    for ap in explicit:
        bundle(ap)
    spec["libraries"] = lib_entries
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != SPEC_FILE)
    spec["checksums"] = {f: _sha256(out / f) for f in files}
    tmp = out / (SPEC_FILE + ".tmp")
    tmp.write_text(json.dumps(spec, indent=1, ensure_ascii=False))
    os.replace(tmp, out / SPEC_FILE)
    return out


# ---- load ---------------------------------------------------------------------------

def read_spec(directory) -> dict:
    d = Path(directory)
    path = d / SPEC_FILE
    if not d.is_dir():
        raise PipelineError(f"no pipeline folder at {d}")
    if not path.exists():
        raise PipelineError(f"{d} is not a saved pipeline: {SPEC_FILE} is missing")
    try:
        spec = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise PipelineError(f"{path} is corrupt: {e}") from None
    if spec.get("format") != SPEC_FORMAT:
        raise PipelineError(f"{path} is not a matx_nb pipeline spec")
    if spec.get("version", 0) > SPEC_VERSION:
        raise PipelineError(f"{path} has spec version {spec.get('version')}; this matx_nb reads up to "
                            f"{SPEC_VERSION}: upgrade matx_nb")
    for rel, digest in spec.get("checksums", {}).items():
        f = d / rel
        if not f.exists():
            raise PipelineError(f"{d}: {rel} is missing (the folder is incomplete)")
        if _sha256(f) != digest:
            raise PipelineError(f"{d}: checksum mismatch for {rel}: the folder was modified after it was saved")
    return spec


def library_path(directory: Path, entry: dict) -> str:
    """The op library to load: the saved one, or one rebuilt from its source when
    the saved one was built for another ABI or platform."""
    from . import _native
    saved = directory / entry["path"]
    if entry.get("abi") == _native.ABI_VERSION and entry.get("platform") == platform_tag():
        return str(saved)
    if not entry.get("source"):
        raise PipelineError(f"{entry['path']} was built for {entry.get('platform')} (ABI {entry.get('abi')}) "
                            "and the folder has no source to rebuild it")
    from .compiler.toolchain import LibraryCache, Toolchain
    source = (directory / entry["source"]).read_text()
    cache = LibraryCache(Toolchain())
    key = "exported:" + hashlib.sha256(source.encode()).hexdigest()
    res = cache.build(key, source, {"rebuilt_from": str(directory / entry["source"])})
    if not res.ok:
        raise PipelineError(f"rebuilding {entry['source']} failed:\n{res.log[-3000:]}")
    return str(res.path)


class Executor:
    """Runs a pipeline graph by calling its compiled ops."""

    def __init__(self, spec: dict, instances: Dict[str, Any], functions: Dict[str, Any], resources_dir=None):
        self.spec, self.instances, self.functions = spec, instances, functions
        self.resources_dir = resources_dir

    @classmethod
    def from_live(cls, spec: dict, live) -> "Executor":
        fns = {f"{lib}::{name}": f for lib_name, f in live.functions.items()
               for lib, name in [lib_name.split("::", 1)]}
        return cls(spec, dict(live.live), fns)

    @classmethod
    def from_folder(cls, directory, device: int = -1) -> "Executor":
        """device: where torch nodes run (-1 the CPU, N cuda:N), as in the C++ Session."""
        from .api import open_library
        d = Path(directory)
        spec = read_spec(d)
        libs = {lid: open_library(library_path(d, e), e.get("origins", []))
                for lid, e in spec.get("libraries", {}).items()}
        ex = cls(spec, {}, {}, resources_dir=d)
        for lid, (fns, _classes) in libs.items():
            for name, f in fns.items():
                ex.functions[f"{lid}::{name}"] = f
        for node in spec["nodes"]:
            if node["op"]["kind"] == "torch" and node["op"]["model"] not in ex.instances:
                from .torch_bridge import load_op
                ex.instances[node["op"]["model"]] = load_op(str(d / node["op"]["path"]), device)
        for rec in spec["instances"]:
            classes = libs[rec["library"]][1]
            if rec["class"] not in classes:
                raise PipelineError(f"class {rec['class']} is not in {rec['library']}")
            args = [ex.value(a, {}) for a in rec["args"]]
            kwargs = {k: ex.value(v, {}) for k, v in rec["kwargs"].items()}
            ex.instances[rec["id"]] = classes[rec["class"]](*args, **kwargs)
        return ex

    def value(self, arg: dict, env: Dict[str, Any]):
        if "ref" in arg:
            return env[arg["ref"]]
        if "const" in arg:
            return arg["const"]
        if "instance" in arg:
            return self.instances[arg["instance"]]
        if "tuple" in arg:
            return tuple(self.value(a, env) for a in arg["tuple"])
        if "list" in arg:
            return [self.value(a, env) for a in arg["list"]]
        if "dict" in arg:
            return {k: self.value(v, env) for k, v in arg["dict"].items()}
        if "resource" in arg:
            base = self.resources_dir
            return str(Path(base) / arg["resource"]) if base is not None else arg["resource"]
        raise PipelineError(f"bad argument in spec: {arg!r}")

    def run(self, feeds: Dict[str, Any]):
        names = self.spec["inputs"]
        if not isinstance(feeds, dict):
            raise TypeError(f"run() takes a dict of inputs {names}, got {type(feeds).__name__}")
        missing = [n for n in names if n not in feeds]
        if missing:
            raise KeyError(f"missing pipeline input {missing[0]!r}; the inputs are {names}")
        extra = [n for n in feeds if n not in names]
        if extra:
            raise KeyError(f"unknown pipeline input {extra[0]!r}; the inputs are {names}")
        env = {n: feeds[n] for n in names}
        for node in self.spec["nodes"]:
            op = node["op"]
            args = [self.value(a, env) for a in node["args"]]
            kwargs = {k: self.value(v, env) for k, v in node["kwargs"].items()}
            kind = op["kind"]
            if kind == "method":
                r = getattr(self.instances[op["instance"]], op["name"])(*args, **kwargs)
            elif kind == "function":
                r = self.functions[f"{op['library']}::{op['name']}"](*args, **kwargs)
            elif kind == "torch":
                r = self.instances[op["model"]].forward(*args)
            elif kind == "getitem":
                r = args[0][args[1]]
            elif kind == "getattr":
                r = getattr(args[0], args[1])
            else:
                raise PipelineError(f"unknown op kind {kind!r}")
            env[node["id"]] = r
        return self.value(self.spec["outputs"], env)


class LoadedPipeline:
    """A pipeline loaded from its folder: `run({input: value})`.

    It runs in the C++ Session (runtime/include/matx_nb/session.h), the same
    code a C++ program uses. Only a folder whose libraries were built for
    another platform or ABI runs here in Python, after rebuilding them from
    their bundled sources.
    """

    def __init__(self, directory, device: int = -1):
        from . import _native
        self.directory = Path(directory)
        self.device = device = _device_index(device)
        self.spec = read_spec(self.directory)
        native_ok = all(e.get("abi") == _native.ABI_VERSION and e.get("platform") == platform_tag()
                        for e in self.spec.get("libraries", {}).values())
        native_ok = native_ok and all(n["op"].get("runner") for n in self.spec["nodes"] if n["op"]["kind"] == "torch")
        if native_ok:
            self._session = _native.Session.load(str(self.directory), SPEC_FILE, device)
            self._exec = None
        else:
            self._session = None
            self._exec = Executor.from_folder(self.directory, device)

    @property
    def input_names(self) -> List[str]:
        return list(self.spec["inputs"])

    @property
    def runs_in_cpp(self) -> bool:
        return self._session is not None

    def run(self, feeds: Dict[str, Any]):
        if self._session is None:
            return self._exec.run(feeds)
        if not isinstance(feeds, dict):
            raise TypeError(f"run() takes a dict of inputs {self.input_names}, got {type(feeds).__name__}")
        return self._session.run(feeds)

    def __repr__(self):
        return f"<pipeline {self.spec.get('signature')} from {self.directory}>"


def _device_index(device) -> int:
    """-1, N, "cpu", "cuda", "cuda:N" or a torch.device -> -1 or N."""
    if isinstance(device, bool):
        raise TypeError("device must be -1 (the CPU) or a CUDA device number, got a bool")
    if isinstance(device, int):
        if device < -1:
            raise ValueError(f"device must be -1 (the CPU) or a CUDA device number >= 0, got {device}")
        return device
    text = str(device)
    if text == "cpu":
        return -1
    if text == "cuda":
        return 0
    if text.startswith("cuda:") and text[5:].isdigit():
        return int(text[5:])
    raise ValueError(f"device must be -1, N, 'cpu' or 'cuda:N', got {device!r}")


def load(directory, device: int = -1) -> LoadedPipeline:
    """Loads a saved pipeline folder (checksums verified; ops rebuilt if needed).

    device: -1 the CPU, N cuda:N: where the pipeline's torch models run,
    whatever device they were traced on; their outputs stay on that device
    (`.torch()` gives the CUDA tensor, `.numpy()` a host copy)."""
    return LoadedPipeline(directory, device)
