"""Saving and loading traced pipelines.

A saved pipeline is a folder:

    model.spec.json      the graph (versioned schema, relative paths, checksums)
    ops/libN/lib.so      each op's compiled library ...
    ops/libN/source.cc   ... and the C++ it was built from (rebuilt on load if the
                         library does not fit this platform or ABI)
    resources/...        files the ops were constructed with (vocab files, ...)
    model.spec.sig       optional: an Ed25519 signature of the spec (save(sign_key=))

See docs/export.md for the schema and the threat model: a folder is code.
Loading checks the spec against SPEC_SCHEMA and its meaning (references,
paths inside the folder, a checksum for every named file) here, and the C++
Session checks it all again by hand and verifies the checksums before any
library is opened.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import platform
import re
import shutil
import stat
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from .graph import SPEC_FORMAT, SPEC_VERSION, PipelineError
from .graph import device_index as _device_index
from .signing import SIG_FILE, sign, signed_message, verify_signature  # noqa: F401 (export's names)

SPEC_FILE = "model.spec.json"
MAX_ARG_DEPTH = 32  # nesting of tuple/list/dict arguments (runtime/include/matx_nb/session.h: kMaxArgDepth)


def path_args(*names: str):
    """Declares the parameters of an op that take a file (or folder) path:
    ``save()`` bundles what such a parameter receives as a constant under
    ``resources/``, and the loaded pipeline passes the bundled copy's path.
    For a class the names are its constructor's parameters::

        @matx_nb.path_args("vocab_path")
        class Vocabulary: ...
    """
    def mark(obj):
        obj.__matx_path_args__ = tuple(names)
        return obj
    return mark


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


_ABS_PATH = re.compile(r"(?<![\w.~-])/(?:[^\s'\"/:]+/)+([^\s'\":/]*)")


def without_private_paths(text: str) -> str:
    """Text for a spec with each absolute path cut to its last part (an error
    message of the author's build names their home and cache folders)."""
    return _ABS_PATH.sub(lambda m: m.group(1) or "<path>", text)


def _caller_stacklevel() -> int:
    """warnings.warn's stacklevel that names the first frame outside matx_nb."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # matx_nb/
    f, level = sys._getframe(1), 1
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(here):
        f, level = f.f_back, level + 1
    return level


def _params(obj, skip_self: bool) -> List[str]:
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return []
    names = [p.name for p in params]
    return names[1:] if skip_self and names else names


class _Bundling:
    """Which constant arguments save() bundles as resources: those whose value is
    a path declared in resources=, those passed to a parameter named in
    bundle_args=, and those passed to a parameter its op declares a path
    (matx_nb.path_args). Nothing else: a constant that happens to name a file
    stays the string it is."""

    def __init__(self, module, resources, bundle_args):
        self.live = module._live
        self.declared = {os.path.abspath(os.fspath(r)): os.fspath(r) for r in resources}
        self.wanted = {}  # "param" or "Op.param" -> used?
        for name in bundle_args:
            if not isinstance(name, str) or not name:
                raise ValueError(f"bundle_args takes parameter names ('param', 'Op.param'), got {name!r}")
            self.wanted[name] = False

    def op_params(self, rec_or_node, kind):
        """(qualifiers naming the op, its parameter names, the names it declares as paths)."""
        live = self.live
        if live is None:
            return (), [], ()
        if kind == "instance":
            obj = live.live.get(rec_or_node["id"])
            py = getattr(type(obj), "__matx_py__", None)
            if py is None:
                return (), [], ()
            return ((py.__name__, py.__qualname__), _params(py.__init__, True),
                    getattr(py, "__matx_path_args__", ()))
        op = rec_or_node["op"]
        if op["kind"] == "method":
            obj = live.live.get(op["instance"])
            py = getattr(type(obj), "__matx_py__", None)
            meth = getattr(py, op["name"], None) if py is not None else None
            if meth is None:
                return (), [], ()
            static = isinstance(inspect.getattr_static(py, op["name"], None), staticmethod)
            quals = tuple(f"{q}.{op['name']}" for q in (py.__name__, py.__qualname__))
            return quals, _params(meth, not static), getattr(meth, "__matx_path_args__", ())
        if op["kind"] == "function":
            fn = live.functions.get(f"{op['library']}::{op['name']}")
            py = getattr(fn, "__matx_py__", None) or getattr(fn, "py_func", None)
            if py is None:
                return (), [], ()
            return ((py.__name__, py.__qualname__), _params(py, False), getattr(py, "__matx_path_args__", ()))
        return (), [], ()

    def param_wants(self, quals, param: str, declared_paths) -> Optional[str]:
        """Why a parameter's constant is bundled: "bundle_args", "path_args" or None."""
        hit = None
        for name in [param] + [f"{q}.{param}" for q in quals]:
            if name in self.wanted:
                self.wanted[name] = True
                hit = "bundle_args"
        if hit is None and param in declared_paths:
            hit = "path_args"
        return hit

    def check_all_used(self):
        unused = [n for n, used in self.wanted.items() if not used]
        if unused:
            raise ValueError(f"bundle_args names {unused[0]!r}, which is no parameter of an op of this pipeline "
                             "taking a constant ('param' or 'Op.param', e.g. 'Vocabulary.path')")


def save(module, directory, resources: Iterable[str] = (), source_names: Dict[str, str] = None,
         bundle_args: Iterable[str] = (), sign_key=None, output_names=None, batch_dim0=None):
    """Writes the pipeline folder. resources: files or folders to bundle under
    resources/; a constant argument equal to one of these paths becomes the
    bundled copy. bundle_args: parameter names ('param', 'Op.param') whose
    constant arguments are paths to bundle. Parameters an op declares with
    matx_nb.path_args are bundled too; no other constant is touched.
    sign_key: an Ed25519 private key: writes model.spec.sig (see load's trusted_keys).
    output_names, batch_dim0: the `serving` section (tensors.py, docs/serving.md)."""
    from .. import _native
    out = Path(directory)
    serving = _serving(module, output_names, batch_dim0)
    bundling = _Bundling(module, resources, bundle_args)
    out_real = os.path.realpath(out)
    for ap, given in bundling.declared.items():
        if not os.path.exists(ap):
            raise ValueError(f"resources: {given} does not exist")
        real = os.path.realpath(ap)
        if os.path.isdir(real) and (out_real == real or out_real.startswith(real.rstrip(os.sep) + os.sep)):
            raise ValueError(f"resources: cannot bundle the folder {given}: the pipeline folder {out} is inside it")
    spec = json.loads(json.dumps(module.spec))  # a copy we can rewrite
    for rec, kind in [(r, "instance") for r in spec["instances"]] + [(n, "node") for n in spec["nodes"]]:
        quals, params, declared_paths = bundling.op_params(rec, kind)
        for param in params + list(rec["kwargs"]):
            bundling.param_wants(quals, param, declared_paths)
    bundling.check_all_used()  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
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

    def model_file(op: dict) -> str:  # TorchScript .pt, AOTInductor .pt2
        return f"resources/{op['model']}{live.live[op['model']].file_suffix}"
    torch_files = {model_file(n["op"]) for n in spec["nodes"] if n["op"].get("kind") == "torch"}
    bundled: Dict[str, str] = {}

    def bundle(path: str, why: str) -> str:
        ap = os.path.abspath(path)
        if ap not in bundled:
            real = os.path.realpath(ap)
            if os.path.isdir(real) and (out_real == real or out_real.startswith(real.rstrip(os.sep) + os.sep)):
                raise ValueError(f"{why}: cannot bundle the folder {path}: the pipeline folder {out} is inside it")
            name = os.path.basename(ap.rstrip(os.sep)) or "resource"
            rel = f"resources/{name}"
            n = 1
            while rel in bundled.values() or rel in torch_files:
                rel = f"resources/{n}_{name}"
                n += 1
            (out / "resources").mkdir(exist_ok=True)
            if os.path.isdir(real):
                shutil.rmtree(out / rel, ignore_errors=True)
                shutil.copytree(real, out / rel)
            else:
                shutil.copy2(real, out / rel)
            bundled[ap] = rel
        return bundled[ap]

    def rewrite(arg, why=None, where=""):
        """A constant naming a declared path (or passed to a path parameter: why)
        becomes a bundled resource; other constants stay as they are."""
        if "const" in arg and isinstance(arg["const"], str):
            v = arg["const"]
            if os.path.abspath(v) in bundling.declared:
                return {"resource": bundle(v, "resources")}
            if why is not None:
                if os.path.exists(v):
                    return {"resource": bundle(v, why)}
                if why == "bundle_args":
                    raise ValueError(f"bundle_args: {where} received {v!r}, which is not an existing file or folder")
            elif (os.path.isabs(v) or os.sep in v) and len(v) < 4096 and os.path.isfile(v):
                warnings.warn(f"save(): the constant {v!r} passed to {where} names a file; it is saved as this "
                              "string, not bundled: declare it with resources=[...] or bundle_args=[...] "
                              "(or matx_nb.path_args on the op) to ship the file in the folder", UserWarning,
                              stacklevel=_caller_stacklevel())
        if "tuple" in arg:
            return {"tuple": [rewrite(a, why, where) for a in arg["tuple"]]}
        return arg

    def rewrite_call(rec, kind, label):
        quals, params, declared_paths = bundling.op_params(rec, kind)
        args = []
        for i, a in enumerate(rec["args"]):
            param = params[i] if i < len(params) else None
            why = bundling.param_wants(quals, param, declared_paths) if param else None
            args.append(rewrite(a, why, f"{label}({param or i})"))
        rec["args"] = args
        rec["kwargs"] = {k: rewrite(v, bundling.param_wants(quals, k, declared_paths), f"{label}({k}=)")
                         for k, v in rec["kwargs"].items()}

    for rec in spec["instances"]:
        rec["library"] = lib_id(rec["library"], origins_of(rec["library"]))
        rewrite_call(rec, "instance", rec["class"])
    for node in spec["nodes"]:
        op = node["op"]
        if op.get("kind") == "function":
            op["library"] = lib_id(op["library"], origins_of(op["library"]))
        rewrite_call(node, "node", op.get("name") or op.get("kind"))
    for node in spec["nodes"]:  # torch models: TorchScript files and the libtorch runner
        op = node["op"]
        if op.get("kind") == "torch":
            from . import torch_op
            (out / "resources").mkdir(exist_ok=True)
            op["path"] = model_file(op)
            torch_op.save_model(live.live[op["model"]], out / op["path"])
            try:
                runner = torch_op.runner_library()
                (out / "ops" / "torch").mkdir(parents=True, exist_ok=True)
                _replace_file(runner, out / "ops" / "torch" / runner.name)
                op["runner"] = f"ops/torch/{runner.name}"
            except Exception as err:  # no compiler: the folder still runs in Python
                op["runner"] = None
                op["runner_error"] = without_private_paths(str(err))[:500]
    for ap, given in bundling.declared.items():
        bundle(given, "resources")
    spec["libraries"] = lib_entries
    shutil.rmtree(out / "serving", ignore_errors=True)
    if serving is not None:
        example = serving.pop("example", None)
        if example is not None:
            (out / "serving").mkdir()
            (out / "serving" / "example.json").write_text(json.dumps(example))
            serving["example"] = "serving/example.json"
        spec["serving"] = serving
    if isinstance(spec.get("signature"), str):
        spec["signature"] = without_private_paths(spec["signature"])
    skip = {SPEC_FILE, SPEC_FILE + ".tmp", SIG_FILE, SIG_FILE + ".tmp"}
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and not (p.parent == out and p.name in skip))
    spec["checksums"] = {f: _sha256(out / f) for f in files}
    text = json.dumps(spec, indent=1, ensure_ascii=False)
    if sign_key is not None:
        sign(out, json.loads(text), sign_key)
    else:
        (out / SIG_FILE).unlink(missing_ok=True)  # an older signature would not match
    tmp = out / (SPEC_FILE + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, out / SPEC_FILE)
    return out


def _serving(module, output_names, batch_dim0) -> Optional[dict]:
    """The spec's `serving` section (tensors.py) from the trace's examples, and
    one row of them as serving/example.json (a server's warm-up input)."""
    from . import tensors
    feeds, result = getattr(module, "_examples", None) or (None, None)
    if feeds is None:
        if output_names is None and batch_dim0 is None:
            return None
        feeds = result = None
    section = tensors.serving_section(module.spec, feeds, result, run=getattr(module, "run", None),
                                      output_names=output_names, batch_dim0=batch_dim0)
    if section.get("problems"):
        warnings.warn("save(): the folder runs, but cannot be served over KServe v2 (matx-serve, Ray): "
                      + "; ".join(section["problems"]), UserWarning, stacklevel=_caller_stacklevel())
    if feeds is not None:
        try:
            one = {k: tensors.take_rows(v, 0, 1) if k in {i["name"] for i in section["inputs"]
                                                          if i["kind"] != "scalar"} else v
                   for k, v in feeds.items()}
            section["example"] = tensors.to_json(one)
        except (TypeError, ValueError):
            pass
    return section


# ---- the spec's schema -------------------------------------------------------------

_STR = {"type": "string"}
_PATH = {"type": "string", "minLength": 1, "maxLength": 4096}
_ARGS = {"type": "array", "items": {"$ref": "#/$defs/arg"}}
_KWARGS = {"type": "object", "additionalProperties": {"$ref": "#/$defs/arg"}}


def _kind(name, required, props):
    return {"if": {"properties": {"kind": {"const": name}}},
            "then": {"required": required, "properties": props}}


SPEC_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "matx_nb pipeline spec (model.spec.json), version 1",
    "type": "object",
    "required": ["format", "version", "inputs", "instances", "nodes", "outputs", "libraries", "checksums"],
    "properties": {
        "format": {"const": SPEC_FORMAT},
        "version": {"type": "integer", "minimum": 1},
        "name": _STR,
        "signature": _STR,
        "inputs": {"type": "array", "items": _STR, "uniqueItems": True},
        "libraries": {"type": "object", "additionalProperties": {"$ref": "#/$defs/library"}},
        "instances": {"type": "array", "items": {"$ref": "#/$defs/instance"}},
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "outputs": {"$ref": "#/$defs/arg"},
        "checksums": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        "serving": {"type": "object", "properties": {
            "inputs": {"type": "array", "items": {"$ref": "#/$defs/tensor"}},
            "outputs": {"type": "array", "items": {"$ref": "#/$defs/tensor"}},
            "batch_dim0": {"type": ["boolean", "null"]},
            "example": _PATH,
            "problems": {"type": "array", "items": _STR}}},
    },
    "$defs": {
        "tensor": {
            "type": "object", "required": ["name", "datatype", "shape", "kind", "item"],
            "properties": {"name": _STR,
                           "datatype": {"enum": ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                                 "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"]},
                           "shape": {"type": "array", "items": {"type": "integer", "minimum": -1}},
                           "kind": {"enum": ["list", "ndarray", "scalar"]}, "item": _STR,
                           "key": {"type": ["integer", "string", "null"]}}},
        "library": {
            "type": "object", "required": ["path", "abi", "platform"],
            "properties": {
                "path": _PATH, "source": {"anyOf": [_PATH, {"type": "null"}]}, "abi": {"type": "integer"},
                "platform": _STR,
                "origins": {"type": "array", "items": {
                    "type": "array", "minItems": 2, "maxItems": 3,
                    "prefixItems": [_STR, {"type": "integer"}, _STR]}},
            },
        },
        "instance": {
            "type": "object", "required": ["id", "class", "library", "args", "kwargs"],
            "properties": {"id": _STR, "class": _STR, "library": _STR, "args": _ARGS, "kwargs": _KWARGS},
        },
        "node": {
            "type": "object", "required": ["id", "op", "args", "kwargs"],
            "properties": {"id": _STR, "op": {"$ref": "#/$defs/op"}, "args": _ARGS, "kwargs": _KWARGS},
        },
        "op": {
            "type": "object", "required": ["kind"],
            "properties": {"kind": {"enum": ["function", "method", "torch", "getitem", "getattr"]}},
            "allOf": [
                _kind("function", ["library", "name"], {"library": _STR, "name": _STR}),
                _kind("method", ["instance", "name"], {"instance": _STR, "name": _STR}),
                _kind("torch", ["model", "path"], {"model": _STR, "path": _PATH, "device": {"type": "integer"},
                                                   "runner": {"anyOf": [_PATH, {"type": "null"}]}}),
            ],
        },
        "arg": {
            "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
            "properties": {"ref": _STR, "const": {}, "instance": _STR, "resource": _PATH,
                           "tuple": _ARGS, "list": _ARGS, "dict": _KWARGS},
        },
    },
}


def _field(path) -> str:
    """A JSON path as the spec field errors name: nodes[2].op.kind."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _spec_error(where, field: str, what: str) -> PipelineError:
    return PipelineError(f"{where}: spec field '{field}' {what}")


def _arg_depth_error(spec) -> Optional[str]:
    """The top-level field whose arguments nest deeper than MAX_ARG_DEPTH (checked
    without recursion, before the schema, which recurses)."""
    def roots():
        for key in ("instances", "nodes"):
            recs = spec.get(key)
            for i, rec in enumerate(recs if isinstance(recs, list) else []):
                if isinstance(rec, dict):
                    yield f"{key}[{i}]", rec
    stack = [("outputs", spec.get("outputs"), 0)]
    for field, rec in roots():
        for j, a in enumerate(rec.get("args") if isinstance(rec.get("args"), list) else []):
            stack.append((f"{field}.args[{j}]", a, 0))
        for k, a in (rec.get("kwargs") if isinstance(rec.get("kwargs"), dict) else {}).items():
            stack.append((f"{field}.kwargs.{k}", a, 0))
    while stack:
        top, a, depth = stack.pop()
        if depth > MAX_ARG_DEPTH:
            return top
        if isinstance(a, dict):
            for key in ("tuple", "list"):
                if isinstance(a.get(key), list):
                    stack.extend((top, x, depth + 1) for x in a[key])
            if isinstance(a.get("dict"), dict):
                stack.extend((top, x, depth + 1) for x in a["dict"].values())
    return None


def validate_spec(spec, where="model.spec.json") -> None:
    """The spec against SPEC_SCHEMA: a PipelineError naming the first field that
    does not fit."""
    import jsonschema
    if not isinstance(spec, dict):
        raise PipelineError(f"{where} is not a matx_nb pipeline spec (not a JSON object)")
    if spec.get("format") != SPEC_FORMAT:
        raise PipelineError(f"{where} is not a matx_nb pipeline spec")
    v = spec.get("version")
    if isinstance(v, int) and not isinstance(v, bool) and v > SPEC_VERSION:
        raise PipelineError(f"{where} has spec version {v}; this matx_nb reads up to {SPEC_VERSION}: upgrade matx_nb")
    deep = _arg_depth_error(spec)
    if deep is not None:
        raise _spec_error(where, deep, f"nests arguments more than {MAX_ARG_DEPTH} levels deep")
    validator = jsonschema.Draft202012Validator(SPEC_SCHEMA)
    err = jsonschema.exceptions.best_match(validator.iter_errors(spec))
    if err is None:
        return
    path = list(err.absolute_path)
    what = err.message
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [k for k in err.validator_value if k not in err.instance]
        if missing:
            path, what = path + [missing[0]], "is missing"
    if path and path[0] == "checksums":  # keys are file names: name the field, then the file
        what = (f"must map each file to its SHA-256 (64 hex digits); {path[1]}: {what}" if len(path) > 1
                else what)
        path = ["checksums"]
    if len(what) > 300:
        what = what[:300] + "..."
    raise _spec_error(where, _field(path) or "(top level)", what)


class _FolderCheck:
    """The spec's meaning, once it fits the schema: references, and every path
    relative, inside the folder (symlinks resolved) and covered by a checksum.
    The same rules as the C++ Session's check() (runtime/include/matx_nb/session.h)."""

    def __init__(self, directory: Path, spec: dict):
        self.d, self.spec = directory, spec
        self.root = os.path.realpath(directory)
        self.sums = spec["checksums"]

    def error(self, field, what):
        return _spec_error(self.d / SPEC_FILE, field, what)

    def resolve(self, rel: str, field: str, dir_ok=False) -> str:
        if "\0" in rel:
            raise self.error(field, "is not a usable path")
        if rel.startswith("/") or os.path.isabs(rel):
            raise self.error(field, f"{rel!r} is an absolute path: paths in a spec are relative to its folder")
        if ".." in rel.split("/"):
            raise self.error(field, f"{rel!r} leads outside the folder")
        real = os.path.realpath(os.path.join(self.root, rel))
        if not real.startswith(self.root.rstrip(os.sep) + os.sep):
            raise self.error(field, f"{rel!r} leads outside the folder (through a symbolic link)")
        try:
            st = os.stat(real)
        except OSError:
            raise self.error(field, f"names {rel}, which is missing (the folder is incomplete)") from None
        if not (stat.S_ISREG(st.st_mode) or (dir_ok and stat.S_ISDIR(st.st_mode))):
            raise self.error(field, f"names {rel}, which is not a regular file")
        return real

    def covered(self, rel: str, field: str):
        if rel not in self.sums:
            raise self.error(field, f"names {rel}, which has no checksum in 'checksums'")

    def covered_dir(self, rel: str, real: str, field: str, depth=0):
        if depth > 16:
            raise self.error(field, f"names {rel}, whose folders nest too deeply")
        for name in sorted(os.listdir(real)):
            child = f"{rel}/{name}"
            r = self.resolve(child, field, dir_ok=True)
            if os.path.isdir(r):
                if os.path.islink(os.path.join(real, name)):
                    raise self.error(field, f"names {rel}, which links to a folder: {child}")
                self.covered_dir(child, r, field, depth + 1)
            else:
                self.covered(child, field)

    def file(self, rel: str, field: str) -> str:
        real = self.resolve(rel, field)
        self.covered(rel, field)
        return real

    def arg(self, a: dict, field: str, defined, instances):
        (key, v), = a.items()
        f = f"{field}.{key}"
        if key == "ref" and v not in defined:
            raise self.error(f, f"refers to {v!r}, which is not an input or an earlier node")
        if key == "instance" and v not in instances:
            raise self.error(f, f"refers to instance {v!r}, which the spec does not have")
        if key == "resource":
            real = self.resolve(v, f, dir_ok=True)
            if os.path.isdir(real):
                self.covered_dir(v, real, f)
            else:
                self.covered(v, f)
        if key in ("tuple", "list"):
            for i, x in enumerate(v):
                self.arg(x, f"{f}[{i}]", defined, instances)
        if key == "dict":
            for k, x in v.items():
                self.arg(x, f"{f}.{k}", defined, instances)

    def args(self, rec: dict, field: str, defined, instances):
        for i, a in enumerate(rec["args"]):
            self.arg(a, f"{field}.args[{i}]", defined, instances)
        for k, a in rec["kwargs"].items():
            self.arg(a, f"{field}.kwargs.{k}", defined, instances)

    def run(self):
        spec = self.spec
        for lid, e in spec["libraries"].items():
            self.file(e["path"], f"libraries.{lid}.path")
            if e.get("source"):
                self.file(e["source"], f"libraries.{lid}.source")
        instances = set()
        for i, rec in enumerate(spec["instances"]):
            if rec["library"] not in spec["libraries"]:
                raise self.error(f"instances[{i}].library", f"names the unknown library {rec['library']!r}")
            self.args(rec, f"instances[{i}]", set(), instances)
            if rec["id"] in instances:
                raise self.error(f"instances[{i}].id", f"repeats the id {rec['id']!r}")
            instances.add(rec["id"])
        defined = set(spec["inputs"])
        for i, node in enumerate(spec["nodes"]):
            f, op = f"nodes[{i}]", node["op"]
            self.args(node, f, defined, instances)
            if op["kind"] == "function" and op["library"] not in spec["libraries"]:
                raise self.error(f"{f}.op.library", f"names the unknown library {op['library']!r}")
            if op["kind"] == "method" and op["instance"] not in instances:
                raise self.error(f"{f}.op.instance", f"names the unknown instance {op['instance']!r}")
            if op["kind"] == "torch":
                self.file(op["path"], f"{f}.op.path")
                if op.get("runner"):
                    self.file(op["runner"], f"{f}.op.runner")
            if op["kind"] in ("getitem", "getattr") and (len(node["args"]) != 2 or node["kwargs"]):
                raise self.error(f"{f}.args", f"must hold 2 arguments for {op['kind']}")
            if node["id"] in defined:
                raise self.error(f"{f}.id", f"repeats the name {node['id']!r}")
            defined.add(node["id"])
        self.arg(spec["outputs"], "outputs", defined, instances)
        if (spec.get("serving") or {}).get("example"):
            self.file(spec["serving"]["example"], "serving.example")
        for rel in self.sums:  # after the fields that name files, whose errors say more
            self.resolve(rel, "checksums")


def _read_spec_bytes(d: Path):
    path = d / SPEC_FILE
    if not d.is_dir():
        raise PipelineError(f"no pipeline folder at {d}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise PipelineError(f"{d} is not a saved pipeline: {SPEC_FILE} is missing") from None
    except OSError as e:
        raise PipelineError(f"{d} is not a saved pipeline: {SPEC_FILE}: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 30:
            raise PipelineError(f"{path} is not a regular file of a usable size")
        return f.read()


def read_spec(directory, with_digest=False):
    """The folder's spec, checked: it parses, fits SPEC_SCHEMA, and means
    something (references resolve; every path is relative, inside the folder
    and has a checksum). The files' checksums themselves are verified by the C++
    Session (Session.verify / Session.load), before any library is opened.
    with_digest: also the SHA-256 of the spec's bytes."""
    d = Path(directory)
    raw = _read_spec_bytes(d)
    path = d / SPEC_FILE
    try:
        spec = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise PipelineError(f"{path} is corrupt: {str(e)[:300] or 'nested too deeply'}") from None
    try:
        validate_spec(spec, path)
    except RecursionError:
        raise PipelineError(f"{path} is corrupt: nested too deeply") from None
    _FolderCheck(d, spec).run()
    if with_digest:
        return spec, hashlib.sha256(raw).hexdigest()
    return spec


def _native_lib(entry: dict) -> bool:
    from .. import _native
    return entry.get("abi") == _native.ABI_VERSION and entry.get("platform") == platform_tag()


def library_path(directory: Path, entry: dict, rebuild: bool = False, checksums=None) -> str:
    """The op library to load: the saved one, or, with rebuild, one rebuilt from
    its source when the saved one was built for another ABI or platform."""
    saved = Path(os.path.realpath(directory)) / entry["path"]
    if _native_lib(entry):
        return str(saved)
    what = (f"{entry['path']} was built for {entry.get('platform')} (ABI {entry.get('abi')})")
    if not entry.get("source"):
        raise PipelineError(f"{what} and the folder has no source to rebuild it")
    if not rebuild:
        raise PipelineError(f"{directory}: {what}; rebuilding it from {entry['source']} compiles and runs the "
                            "folder's code, so it happens only when asked: load(..., rebuild=True) or "
                            "matx-run --rebuild")
    from ..compiler.toolchain import LibraryCache, Toolchain
    code = (Path(os.path.realpath(directory)) / entry["source"]).read_bytes()
    digest = hashlib.sha256(code).hexdigest()
    if checksums is not None and checksums.get(entry["source"]) != digest:  # the bytes compiled are the bytes verified
        raise PipelineError(f"{directory}: checksum mismatch for {entry['source']}: the folder was modified "
                            "while it loaded")
    try:
        source = code.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineError(f"{directory}: {entry['source']} is not UTF-8 text") from None
    cache = LibraryCache(Toolchain())
    key = "exported:" + digest
    res = cache.build(key, source, {"rebuilt_from": entry["source"]})
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
    def from_folder(cls, directory, device: int = -1, *, rebuild: bool = False, spec=None) -> "Executor":
        """device: where torch nodes run (-1 the CPU, N cuda:N), as in the C++ Session.
        rebuild: compile libraries built for another platform from their source.
        The folder is checked first, by read_spec and by the C++ Session's
        verify (checksums, library files), as matx_nb.load does."""
        from .. import _native
        from ..library import open_library
        d = Path(directory)
        if spec is None:
            spec = read_spec(d)
            _native.Session.verify(str(d), SPEC_FILE, rebuild)
        root = Path(os.path.realpath(d))
        libs = {lid: open_library(library_path(d, e, rebuild, spec["checksums"]),
                                  [[o[0], max(0, min(o[1], 2**31 - 1)), *o[2:]] for o in e.get("origins", [])])
                for lid, e in spec["libraries"].items()}
        ex = cls(spec, {}, {}, resources_dir=root)
        for lid, (fns, _classes) in libs.items():
            for name, f in fns.items():
                ex.functions[f"{lid}::{name}"] = f
        for node in spec["nodes"]:
            if node["op"]["kind"] == "torch" and node["op"]["model"] not in ex.instances:
                from .torch_op import load_op
                ex.instances[node["op"]["model"]] = load_op(str(root / node["op"]["path"]), device)
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

    def __init__(self, directory, device: int = -1, *, rebuild: bool = False, trusted_keys=None):
        from .. import _native
        self.directory = Path(directory)
        self.device = device = _device_index(device)
        self.spec, digest = read_spec(self.directory, with_digest=True)
        if trusted_keys is not None:
            verify_signature(self.directory, self.spec, trusted_keys)
        foreign = [e for e in self.spec["libraries"].values() if not _native_lib(e)]
        if foreign and not rebuild:
            library_path(self.directory, foreign[0])  # raises: a rebuild needs rebuild=True
        native_ok = all(_native_lib(e) for e in self.spec["libraries"].values())
        native_ok = native_ok and all(n["op"].get("runner") for n in self.spec["nodes"] if n["op"]["kind"] == "torch")
        if native_ok:
            self._session = _native.Session.load(str(self.directory), SPEC_FILE, device, rebuild)
            self._exec = None
            seen = self._session.spec_sha256
        else:
            self._session = None
            seen = _native.Session.verify(str(self.directory), SPEC_FILE, rebuild)
        if seen != digest:  # what was checked here (and signed) is what the Session read
            raise PipelineError(f"{self.directory}: {SPEC_FILE} changed while it loaded")
        if self._session is None:
            self._exec = Executor.from_folder(self.directory, device, rebuild=rebuild, spec=self.spec)

    @property
    def input_names(self) -> List[str]:
        return list(self.spec["inputs"])

    @property
    def runs_in_cpp(self) -> bool:
        return self._session is not None

    def async_runner(self):
        """A runner of this pipeline's C++ Session on a native thread that never
        takes the GIL (`submit(feeds) -> id`, `fd` readable when runs finish,
        `ready() -> ids`, `take(id) -> (outputs, seconds)`, `close()`): matx-serve's
        instances. None where the pipeline runs in Python."""
        if self._session is None:
            return None
        from .. import _native
        return _native.AsyncRunner(self._session)

    def run(self, feeds: Dict[str, Any]):
        if self._session is None:
            return self._exec.run(feeds)
        if not isinstance(feeds, dict):
            raise TypeError(f"run() takes a dict of inputs {self.input_names}, got {type(feeds).__name__}")
        return self._session.run(feeds)

    def __repr__(self):
        return f"<pipeline {self.spec.get('signature')} from {self.directory}>"


def load(directory, device: int = -1, *, rebuild: bool = False, trusted_keys=None) -> LoadedPipeline:
    """Loads a saved pipeline folder. A folder is code (its libraries run in this
    process): the spec is checked (schema, references, every path inside the
    folder) and every file's checksum verified before any library is opened.

    device: -1 the CPU, N cuda:N: where the pipeline's torch models run,
    whatever device they were traced on; their outputs stay on that device
    (`.torch()` gives the CUDA tensor, `.numpy()` a host copy).
    rebuild: compile libraries built for another platform or ABI from the
    folder's sources (that runs the folder's code through the compiler); off by
    default, such a folder is refused.
    trusted_keys: Ed25519 public keys (cryptography's objects, PEM or 32 raw
    bytes); when given, the folder loads only if model.spec.sig holds a valid
    signature of its spec by one of them (checksums prove integrity, the
    signature says who saved it)."""
    return LoadedPipeline(directory, device, rebuild=rebuild, trusted_keys=trusted_keys)
