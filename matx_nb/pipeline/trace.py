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
from typing import Any, Dict, List, Optional

from .export import Executor, save as _save
from .graph import PASSES, SPEC_FORMAT, SPEC_VERSION, Graph, TraceError, Traced  # noqa: F401 (the public names)


def trace(fn, *examples, **kw_examples) -> "TracedModule":
    """Runs fn once on the examples and records the pipeline of compiled ops."""
    from .. import _native
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
    for graph_pass in PASSES:
        graph_pass(graph)
    module = TracedModule(spec_of(graph, fn, sig), live=graph)
    module._examples = (dict(bound.arguments), _value(out))  # for save()'s serving section
    return module


def _value(out):
    """The traced function's result as plain values."""
    if isinstance(out, Traced):
        return out._value
    if isinstance(out, (tuple, list)):
        return type(out)(_value(o) for o in out)
    if isinstance(out, dict):
        return {k: _value(v) for k, v in out.items()}
    return out


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
        self._examples = None  # (inputs, result) of the trace

    @property
    def input_names(self) -> List[str]:
        return list(self.spec["inputs"])

    def run(self, feeds: Dict[str, Any]):
        return Executor.from_live(self.spec, self._live).run(feeds)

    def save(self, directory, resources=(), source_names=None, bundle_args=(), sign_key=None,
             output_names=None, batch_dim0=None):
        """Writes the folder. source_names: how to name source files in the spec
        ({path: "cell [3]"}); by default a relative path or the file's name.
        resources: files or folders to bundle (a constant argument equal to one
        of these paths becomes the bundled copy); bundle_args: parameters
        ("param", "Op.param") whose constant arguments are paths to bundle;
        parameters declared with matx_nb.path_args are bundled too, and no other
        constant. sign_key: an Ed25519 private key; the folder then loads with
        matx_nb.load(dir, trusted_keys=[its public key]). See docs/export.md.
        output_names: names for the outputs when served (matx-serve, Ray; by
        default output_0, output_1... or a dict result's keys). batch_dim0:
        whether the pipeline run on a batch equals it run on each row, so a
        server may merge requests; by default checked on the traced examples
        (docs/serving.md)."""
        return _save(self, directory, resources=resources, source_names=source_names, bundle_args=bundle_args,
                    sign_key=sign_key, output_names=output_names, batch_dim0=batch_dim0)

    def __repr__(self):
        n = len(self.spec["nodes"])
        return f"<TracedModule {self.spec['signature']}: {n} node{'s' if n != 1 else ''}>"
