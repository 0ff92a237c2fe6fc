"""A pipeline's inputs and outputs as typed tensors: what a server (KServe v2,
Ray) needs to know about a saved pipeline, recorded in the spec's `serving`
section at save time from the traced examples.

Each input and output is described as {"name", "datatype", "shape", "kind",
"item"}:
- datatype is KServe v2's (BOOL, UINT8 ... INT64, FP16, FP32, FP64, BYTES);
- shape has -1 for the batch dimension (dimension 0 of a list or an array)
  and for the inner dimensions of nested lists;
- kind is how the pipeline takes or gives the value: "list" (a Python list,
  possibly nested), "ndarray" (an NDArray) or "scalar" (one value);
- item is the Python type of a list's or scalar's elements ("bytes", "str",
  "int", "float", "bool") or an array's numpy dtype name.

`batch_dim0` says whether running the pipeline on a batch equals running it on
each row of the batch (checked at save time on the traced examples, or
declared), which lets a server merge requests (dynamic batching).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

# numpy dtype name <-> KServe v2 datatype
DATATYPES = {"bool": "BOOL", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
             "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
             "float16": "FP16", "float32": "FP32", "float64": "FP64"}
NUMPY_DTYPES = {v: k for k, v in DATATYPES.items()}
_ITEM_DATATYPES = {"bytes": "BYTES", "str": "BYTES", "int": "INT64", "float": "FP64", "bool": "BOOL"}


class NotATensor(ValueError):
    """A value that has no tensor form (a ragged list, a dict, mixed items)."""


def _numpy(value):
    """An NDArray, numpy array or torch tensor as a numpy array (no copy where possible)."""
    if hasattr(value, "numpy") and callable(value.numpy) and not _is_numpy(value):
        if type(value).__module__.startswith("torch"):
            value = value.detach().cpu()
        return value.numpy()
    return value


def _is_numpy(value) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype")


def is_array(value) -> bool:
    """An NDArray, numpy array or torch tensor (asked of the type: an instance's
    `shape` may be a property that builds a list)."""
    t = type(value)
    return hasattr(t, "shape") and hasattr(t, "dtype")


def _item_kind(x) -> Optional[str]:
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int"
    if isinstance(x, float):
        return "float"
    if isinstance(x, bytes):
        return "bytes"
    if isinstance(x, str):
        return "str"
    return None


def _list_shape(value, where: str) -> Tuple[List[int], str]:
    """The shape and item kind of a rectangular nested list."""
    if not isinstance(value, (list, tuple)):
        kind = _item_kind(value)
        if kind is None:
            raise NotATensor(f"{where} holds a {type(value).__name__}, which has no tensor form")
        return [], kind
    if not value:
        return [0], ""
    shapes = [_list_shape(x, where) for x in value]
    inner = shapes[0][0]
    if any(s[0] != inner for s in shapes):
        raise NotATensor(f"{where} is a ragged list (its rows differ in length); a tensor is rectangular: "
                         "pad the rows in the pipeline")
    kinds = {s[1] for s in shapes} - {""}
    if kinds == {"int", "float"}:
        kinds = {"float"}
    if len(kinds) > 1:
        raise NotATensor(f"{where} mixes {' and '.join(sorted(kinds))} items")
    return [len(value)] + inner, (kinds.pop() if kinds else "")


def describe(name: str, value) -> dict:
    """The tensor description of one example value (its batch dimension as -1)."""
    if is_array(value):
        a = _numpy(value)
        dt = str(a.dtype)
        if dt not in DATATYPES:
            raise NotATensor(f"{name} is an array of {dt}, which KServe v2 has no datatype for")
        return {"name": name, "datatype": DATATYPES[dt], "shape": [-1] + list(a.shape[1:]) if a.ndim else [1],
                "kind": "ndarray" if a.ndim else "scalar", "item": dt}
    if isinstance(value, (list, tuple)):
        shape, item = _list_shape(value, name)
        return {"name": name, "datatype": _ITEM_DATATYPES.get(item or "int"), "shape": [-1] * len(shape),
                "kind": "list", "item": item or "int"}
    item = _item_kind(value)
    if item is None:
        raise NotATensor(f"{name} is a {type(value).__name__}, which has no tensor form")
    return {"name": name, "datatype": _ITEM_DATATYPES[item], "shape": [1], "kind": "scalar", "item": item}


def output_paths(out_spec) -> List[Tuple[str, Any]]:
    """The pipeline's outputs as (default name, key into the result): a tuple or
    list gives output_0, output_1...; a dict its keys; anything else output_0."""
    if "tuple" in out_spec or "list" in out_spec:
        items = out_spec.get("tuple", out_spec.get("list"))
        return [(f"output_{i}", i) for i in range(len(items))]
    if "dict" in out_spec:
        return [(str(k), k) for k in out_spec["dict"]]
    return [("output_0", None)]


def pick(result, key):
    return result if key is None else result[key]


def rows(value) -> int:
    """How many rows (dimension 0) a batch value has."""
    return int(value.shape[0]) if is_array(value) else len(value)


def take_rows(value, lo: int, hi: int):
    """Rows lo..hi of a list or an array (an NDArray stays one, sharing memory)."""
    if _is_ndarray(value):
        return type(value)(value.numpy()[lo:hi])
    return value[lo:hi]


def _is_ndarray(value) -> bool:
    from ..ndarray import NDArray
    return isinstance(value, NDArray)


def _same(a, b) -> bool:
    import numpy as np
    if is_array(a) or is_array(b):
        a, b = np.asarray(_numpy(a)), np.asarray(_numpy(b))
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind == "f":
            return bool(np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-6 + 1e-5 * abs(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def check_batch_dim0(run, feeds: Dict[str, Any], result, outputs: Sequence[dict]) -> Optional[bool]:
    """Whether running on the batch equals running on each row: run(feeds of one
    row) for every row of the examples, compared with the batch's result.
    None when the examples cannot tell (one row, or inputs that are not batches)."""
    if not feeds or any(isinstance(v, (str, bytes)) or not (is_array(v) or isinstance(v, (list, tuple)))
                        or (is_array(v) and not getattr(v, "shape", ())) for v in feeds.values()):
        return None
    counts = {rows(v) for v in feeds.values()}
    if len(counts) != 1:
        return False
    n = counts.pop()
    if n < 2:
        return None
    for o in outputs:
        v = pick(result, o["key"])
        if o["kind"] == "scalar" or rows(v) != n:
            return False
    for i in range(n):
        one = run({k: take_rows(v, i, i + 1) for k, v in feeds.items()})
        for o in outputs:
            if not _same(take_rows(pick(result, o["key"]), i, i + 1), pick(one, o["key"])):
                return False
    return True


def serving_section(spec: dict, feeds: Optional[Dict[str, Any]], result, run=None,
                    output_names: Optional[Sequence[str]] = None, batch_dim0: Optional[bool] = None) -> dict:
    """The spec's `serving` section from the traced examples and their result."""
    paths = output_paths(spec["outputs"])
    if output_names is not None:
        output_names = list(output_names)
        if len(output_names) != len(paths) or len(set(output_names)) != len(output_names):
            raise ValueError(f"output_names: the pipeline has {len(paths)} output{'s' if len(paths) != 1 else ''} "
                             f"({', '.join(p[0] for p in paths)}); give as many distinct names, got {output_names}")
        paths = [(n, p[1]) for n, p in zip(output_names, paths)]
    section: dict = {"inputs": [], "outputs": [], "batch_dim0": None}
    problems = []
    if feeds is not None:
        for name in spec["inputs"]:
            try:
                section["inputs"].append(describe(name, feeds[name]))
            except NotATensor as e:
                problems.append(str(e))
    if result is not None:
        for name, key in paths:
            try:
                section["outputs"].append({**describe(name, pick(result, key)), "key": key})
            except NotATensor as e:
                problems.append(str(e))
    if problems:
        section["problems"] = problems
    if batch_dim0 is not None:
        section["batch_dim0"] = bool(batch_dim0)
    elif run is not None and feeds is not None and result is not None and not problems:
        section["batch_dim0"] = check_batch_dim0(run, feeds, result, section["outputs"])
    return section


# ---- JSON forms (matx-run's feeds and outputs, serving/example.json) ----------------

def from_json(v):
    """JSON values to pipeline inputs: {"$bytes": s} and {"$b64": s} become bytes,
    {"dtype": ..., "shape": [...], "data": [...]} an NDArray."""
    if isinstance(v, dict):
        if set(v) == {"dtype", "shape", "data"}:
            return _array(v)
        if set(v) == {"$bytes"} and isinstance(v["$bytes"], str):
            return v["$bytes"].encode("utf-8")
        if set(v) == {"$b64"} and isinstance(v["$b64"], str):
            import base64
            import binascii
            try:
                return base64.b64decode(v["$b64"], validate=True)
            except binascii.Error as e:
                raise ValueError(f'a {{"$b64": ...}} value in the feed is not base64: {e}') from None
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v


def _array(v: dict):
    import numpy as np
    from ..ndarray import NDArray
    try:
        a = np.asarray(v["data"], dtype=np.dtype(v["dtype"]))
        return NDArray(a.reshape([int(n) for n in v["shape"]]))
    except (TypeError, ValueError) as e:
        raise ValueError(f"an array in the feed ({{\"dtype\": {v['dtype']!r}, \"shape\": {v['shape']!r}, ...}}) "
                         f"is not one: {e}") from None


def to_json(v):
    """Pipeline outputs to JSON values (arrays as dtype/shape/data, bytes as $b64)."""
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, bytes):
        import base64
        return {"$b64": base64.b64encode(v).decode("ascii")}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_json(x) for k, x in v.items()}
    if hasattr(v, "numpy") and callable(v.numpy):  # NDArray, torch.Tensor
        v = v.numpy()
    if hasattr(v, "tolist") and hasattr(v, "shape") and hasattr(v, "dtype"):
        return {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.tolist()}
    raise TypeError(f"cannot print a {type(v).__name__} as JSON")
