"""The recording side of tracing, at the bottom of the pipeline layer: the spec
format's name and version, TraceError, the traced values (`Traced`) and the graph
they record into. trace.py builds a TracedModule over it; export.py and
torch_op.py read and write the same graph and spec without importing
trace.py, so nothing imports upward.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, List

SPEC_FORMAT = "matx_nb.pipeline"
SPEC_VERSION = 1


class PipelineError(ValueError):
    """A saved pipeline folder that cannot be loaded or run."""

    __module__ = "matx_nb.pipeline.export"  # where it has always been imported from


class TraceError(RuntimeError):
    """A traced function did something the graph cannot record."""


def _user_location() -> str:
    """file:line of the innermost frame outside matx_nb (the user's code)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # matx_nb/
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
        if name == "torch" and _is_ndarray(self._value):
            return self._as_tensor
        if callable(value):
            self._refuse(f"calling the Python method .{name}()")
        return self._graph.glue("getattr", self, name, value)

    def _as_tensor(self):
        """`nd.torch()` (the seed's pipelines end on it): the same array as a torch
        tensor, without a copy. The graph has no tensor type: the saved pipeline
        passes the array on, which a torch op takes as a tensor without a copy
        too, so the call records nothing; only the example value changes."""
        return Traced(self._graph, self._node, self._value.torch())

    def __repr__(self):
        return f"<traced {self._node}: {self._value!r}>"


def _is_ndarray(value: Any) -> bool:
    from ..ndarray import NDArray
    return isinstance(value, NDArray)


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


# Passes trace() runs over a recorded graph before it becomes a spec: each takes
# the Graph and may rewrite its nodes and add instances. matx_nb.vision adds one
# when it is imported (vision/fusion.py).
PASSES: List[Callable[["Graph"], None]] = []


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
        from .. import _native
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


def device_index(device) -> int:
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
