"""Tracing: `matx_nb.trace(fn, *examples)` runs fn once on example inputs and
records each call of a compiled op (function, class instance, method) as a
graph node; glue on traced values (indexing, tuple unpacking, constants)
becomes nodes too. Python control flow on a traced value is an error naming
the user's file and line.

The graph is plain data (see docs/export.md) so it can be saved as
`model.spec.json` and run again without the Python that built it.
"""
from __future__ import annotations

import inspect
import os
import sys
from typing import Any, Dict, List, Optional

SPEC_FORMAT = "matx_nb.pipeline"
SPEC_VERSION = 1


class TraceError(RuntimeError):
    """A traced function did something the graph cannot record."""


def _user_location() -> str:
    """file:line of the innermost frame outside matx_nb (the user's code)."""
    here = os.path.dirname(os.path.abspath(__file__))
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(here + os.sep):
            return f'File "{f.f_code.co_filename}", line {f.f_lineno}, in {f.f_code.co_name}'
        f = f.f_back
    return "<unknown location>"


class Traced:
    """A value flowing through a traced pipeline: a graph node plus its example value."""

    __slots__ = ("_graph", "_node", "_value")

    def __init__(self, graph: "Graph", node: str, value: Any):
        self._graph, self._node, self._value = graph, node, value

    def _refuse(self, what: str):
        raise TraceError(
            f"{what} on a traced value is not recorded in the pipeline graph "
            f"({_user_location()}); keep such logic inside a compiled op "
            f"(matx_nb.script) so it runs in the exported pipeline too")

    def __bool__(self):
        self._refuse("Python control flow (if/while/and/or/not)")

    def __len__(self):
        self._refuse("len()")

    def __eq__(self, other):
        self._refuse("comparison")

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = None

    def __iter__(self):
        if isinstance(self._value, tuple):  # unpacking a fixed-size result
            return iter([self[i] for i in range(len(self._value))])
        self._refuse("iteration")

    def __getitem__(self, key):
        if isinstance(key, Traced):
            self._refuse("indexing by a traced value")
        return self._graph.glue("getitem", self, key, self._value[key])

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(self._value, name)
        if callable(value):
            self._refuse(f"calling the Python method .{name}()")
        return self._graph.glue("getattr", self, name, value)

    def __repr__(self):
        return f"<traced {self._node}: {self._value!r}>"


def _const(value: Any) -> Any:
    """A constant argument as JSON data; refuses what cannot be saved."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_const(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TraceError(f"dict constants need str keys to be saved: {value!r}")
        return {k: _const(v) for k, v in value.items()}
    raise TraceError(f"cannot save the constant {value!r} ({type(value).__name__}) in a pipeline")


class Graph:
    def __init__(self):
        self.inputs: List[str] = []
        self.nodes: List[dict] = []
        self.instances: Dict[int, dict] = {}  # id(obj) -> record
        self.live: Dict[str, Any] = {}        # node id / instance id -> object, for run()
        self.functions: Dict[str, Any] = {}   # op key -> compiled function
        self.outputs: Any = None

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{len(self.nodes) + len(self.instances)}"

    # ---- recording
    def arg(self, v: Any) -> dict:
        if isinstance(v, Traced):
            return {"ref": v._node}
        from . import _native
        if isinstance(v, _native.ScriptedObject):
            return {"instance": self.instance(v)}
        if isinstance(v, tuple):
            return {"tuple": [self.arg(x) for x in v]}
        return {"const": _const(v)}

    def instance(self, obj) -> str:
        rec = self.instances.get(id(obj))
        if rec is not None:
            return rec["id"]
        ctor = obj.__matx_ctor__
        if ctor is None:
            raise TraceError(f"{type(obj).__name__} instance was created inside compiled code; only ops "
                             "constructed from Python can be exported")
        args, kwargs = ctor
        iid = f"op{len(self.instances)}"
        rec = {"id": iid, "class": type(obj).__name__, "library": str(type(obj).matx.library),
               "args": [self.arg(a) for a in args], "kwargs": {k: self.arg(v) for k, v in kwargs.items()}}
        self.instances[id(obj)] = rec
        self.live[iid] = obj
        return iid

    def call(self, function, args: tuple, kwargs: dict):
        """The tracing hook: a compiled op called with at least one traced value."""
        plain_args = [a._value if isinstance(a, Traced) else a for a in args]
        plain_kwargs = {k: (v._value if isinstance(v, Traced) else v) for k, v in kwargs.items()}
        self_obj = function.__self__
        if function.owner is not None and self_obj is None:
            self_obj, args, plain_args = args[0], args[1:], plain_args[1:]
        if self_obj is not None:
            op = {"kind": "method", "instance": self.instance(self_obj), "name": function.__name__}
            result = getattr(self_obj, function.__name__)(*plain_args, **plain_kwargs)
        else:
            op = {"kind": "function", "library": str(function.matx.library), "name": function.__name__}
            result = function(*plain_args, **plain_kwargs)
            self.functions[op["library"] + "::" + op["name"]] = function
        nid = self.new_id("n")
        self.nodes.append({"id": nid, "op": op, "args": [self.arg(a) for a in args],
                           "kwargs": {k: self.arg(v) for k, v in kwargs.items()}})
        return Traced(self, nid, result)

    def glue(self, kind: str, src: Traced, key, value):
        nid = self.new_id("n")
        self.nodes.append({"id": nid, "op": {"kind": kind}, "args": [{"ref": src._node}, {"const": _const(key)}],
                           "kwargs": {}})
        return Traced(self, nid, value)

    def output_spec(self, out) -> Any:
        if isinstance(out, Traced):
            return {"ref": out._node}
        if isinstance(out, (tuple, list)):
            return {"tuple" if isinstance(out, tuple) else "list": [self.output_spec(o) for o in out]}
        if isinstance(out, dict):
            return {"dict": {str(k): self.output_spec(v) for k, v in out.items()}}
        return {"const": _const(out)}


def trace(fn, *examples, **kw_examples) -> "TracedModule":
    """Runs fn once on the examples and records the pipeline of compiled ops."""
    from . import _native
    sig = _signature(fn)
    bound = sig.bind(*examples, **kw_examples)
    graph = Graph()
    traced_args = {}
    for name, value in bound.arguments.items():
        graph.inputs.append(name)
        traced_args[name] = Traced(graph, name, value)
    _native.set_trace_hook(graph.call, Traced)
    try:
        out = fn(**traced_args) if all(
            p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in sig.parameters.values()) \
            else fn(*traced_args.values())
    finally:
        _native.set_trace_hook(None, None)
    if not graph.nodes:
        raise TraceError("the traced function called no compiled op (matx_nb.script) on its inputs")
    graph.outputs = graph.output_spec(out)
    return TracedModule(spec_of(graph, fn, sig), live=graph)


def _signature(fn) -> inspect.Signature:
    """fn's signature; for a compiled method (`script(Cls)(...).process`), that of
    the Python method it was compiled from, without self."""
    try:
        return inspect.signature(fn)
    except ValueError:
        owner = getattr(fn, "__self__", None)
        py = getattr(type(owner), "__matx_py__", None)
        meth = getattr(py, getattr(fn, "__name__", ""), None) if py is not None else None
        if meth is None:
            raise
        params = list(inspect.signature(meth).parameters.values())[1:]
        return inspect.Signature(params)


def spec_of(graph: Graph, fn, sig) -> dict:
    return {"format": SPEC_FORMAT, "version": SPEC_VERSION,
            "name": getattr(fn, "__qualname__", "pipeline"),
            "signature": f"{getattr(fn, '__name__', 'pipeline')}{sig}",
            "inputs": list(graph.inputs),
            "instances": list(graph.instances.values()),
            "nodes": graph.nodes,
            "outputs": graph.outputs}


class TracedModule:
    """A recorded pipeline: run() it, or save() it as a self-contained folder."""

    def __init__(self, spec: dict, live: Optional[Graph] = None):
        self.spec = spec
        self._live = live

    @property
    def input_names(self) -> List[str]:
        return list(self.spec["inputs"])

    def run(self, feeds: Dict[str, Any]):
        from .export import Executor
        return Executor.from_live(self.spec, self._live).run(feeds)

    def save(self, directory, resources=(), source_names=None, bundle_args=(), sign_key=None):
        """Writes the folder. source_names: how to name source files in the spec
        ({path: "cell [3]"}); by default a relative path or the file's name.
        resources: files or folders to bundle (a constant argument equal to one
        of these paths becomes the bundled copy); bundle_args: parameters
        ("param", "Op.param") whose constant arguments are paths to bundle;
        parameters declared with matx_nb.path_args are bundled too, and no other
        constant. sign_key: an Ed25519 private key; the folder then loads with
        matx_nb.load(dir, trusted_keys=[its public key]). See docs/export.md."""
        from .export import save
        return save(self, directory, resources=resources, source_names=source_names, bundle_args=bundle_args,
                    sign_key=sign_key)

    def __repr__(self):
        n = len(self.spec["nodes"])
        return f"<TracedModule {self.spec['signature']}: {n} node{'s' if n != 1 else ''}>"
