"""A pass of matx_nb.trace over the recorded graph (pipeline/graph.py's PASSES):
ImdecodeOp -> ResizeOp -> CenterCropOp -> TransposeNormalizeOp, called in a row on
one batch, becomes one EvalChainOp node (fused.py), which runs each image
through the four steps while its pixels are in cache (bench/VISION_RESULTS.md).

A run is fused only where nothing else sees the values between its steps (each
is used once, by the next step, and is not an output), the resize takes the
op's own size (no per-call sizes), and the ops are matx_nb.vision's. The four ops
stay in the spec as the fused op's arguments: it runs them where its one-pass
kernel does not take a batch, so results and errors are the ops' own."""
from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Optional

from . import ops

_CHAIN = (ops.ImdecodeOp, ops.ResizeOp, ops.CenterCropOp, ops.TransposeNormalizeOp)


def _refs(arg: Any, out: Counter) -> None:
    if isinstance(arg, dict):
        if "ref" in arg:
            out[arg["ref"]] += 1
        for v in arg.values():
            if isinstance(v, (dict, list)):
                _refs(v, out)
    elif isinstance(arg, list):
        for v in arg:
            _refs(v, out)


def _uses(graph) -> Counter:
    uses: Counter = Counter()
    for node in graph.nodes:
        _refs(node["args"], uses)
        _refs(node["kwargs"], uses)
    _refs(graph.outputs, uses)
    return uses


def _op_object(graph, node: dict, cls) -> Optional[Any]:
    """The live op object `node` calls, if it is `cls.__call__` with the batch and
    at most a constant sync flag; else None."""
    op = node["op"]
    if op.get("kind") != "method" or op.get("name") != "__call__":
        return None
    obj = graph.live.get(op["instance"])
    if getattr(type(obj), "__matx_py__", None) is not cls:
        return None
    args, kwargs = node["args"], node["kwargs"]
    extra = args[1:] + list(kwargs.values())
    if set(kwargs) - {"sync"} or len(extra) > 1 or not all("const" in a for a in extra):
        return None
    if cls is ops.ResizeOp and len(args) > 1:  # its second parameter is per-call sizes
        return None
    return obj


def fuse_eval_chains(graph, chain_op) -> None:
    """chain_op: the compiled EvalChainOp class."""
    by_id: Dict[str, dict] = {n["id"]: n for n in graph.nodes}
    uses = _uses(graph)
    drop: set = set()
    for last in list(graph.nodes):
        run: List[dict] = [last]
        while len(run) < len(_CHAIN):
            first = run[0]["args"][0] if run[0]["args"] else None
            prev = by_id.get(first.get("ref")) if isinstance(first, dict) else None
            if prev is None or uses[prev["id"]] != 1 or prev["id"] in drop:
                break
            run.insert(0, prev)
        if len(run) < len(_CHAIN):
            continue
        objs = [_op_object(graph, n, cls) for n, cls in zip(run, _CHAIN)]
        if any(o is None for o in objs):
            continue
        iid = graph.instance(chain_op(*objs))
        last["op"] = {"kind": "method", "instance": iid, "name": "__call__"}
        last["args"], last["kwargs"] = [run[0]["args"][0]], {}
        drop.update(n["id"] for n in run[:-1])
    if drop:
        graph.nodes[:] = [n for n in graph.nodes if n["id"] not in drop]
