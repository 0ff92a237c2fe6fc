"""The KServe v2 inference protocol over HTTP/REST: request bodies to tensors
and tensors to response bodies, JSON and the binary tensor data extension.

A request is JSON, `{"id", "parameters", "inputs": [{"name", "shape",
"datatype", "data" | "parameters": {"binary_data_size": n}}], "outputs":
[{"name", "parameters": {"binary_data": bool}}]}`, optionally followed by the
binary tensors in input order; the `Inference-Header-Content-Length` header
then says where the JSON ends. BYTES tensors in binary form are each element
as a 4-byte little-endian length and the bytes.
"""
from __future__ import annotations

import json
import math
import struct
import zlib
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..pipeline.tensors import NUMPY_DTYPES
from .model import RequestError

try:  # orjson is several times faster for the numbers in tensors
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

HEADER_LENGTH = "inference-header-content-length"


def loads(data: bytes):
    if _orjson is not None:
        return _orjson.loads(data)
    return json.loads(data)


def dumps(obj) -> bytes:
    if _orjson is not None:
        return _orjson.dumps(obj, default=_tolist, option=_orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(obj, default=_tolist).encode()


def _tolist(a):
    if isinstance(a, np.ndarray):  # dtypes orjson does not write (float16)
        return a.tolist()
    raise TypeError(f"cannot write a {type(a).__name__} as JSON")


MAX_BODY = 256 << 20  # bytes of a request body, after decompression


def infer_route(path: str) -> Optional[Tuple[str, Optional[str]]]:
    """(model name, version or None) of an inference path, else None."""
    if path.startswith("/v2/models/") and path.endswith("/infer"):
        parts = path[11:-6].split("/")  # NAME or NAME/versions/V
        if len(parts) == 1:
            return parts[0], None
        if len(parts) == 3 and parts[1] == "versions":
            return parts[0], parts[2]
    return None


def infer_headers(headers) -> Tuple[Optional[str], Optional[str]]:
    """(Content-Encoding, Inference-Header-Content-Length) of an inference
    request's headers: (lower-case name, value) byte pairs, as ASGI and uvicorn give them."""
    encoding = header_length = None
    for k, v in headers:
        if k == b"content-encoding":
            encoding = v.decode("latin-1").strip().lower()
        elif k == b"inference-header-content-length":
            header_length = v.decode("latin-1")
    return encoding, header_length


def decompress(body: bytes, encoding: Optional[str], limit: int = MAX_BODY) -> bytes:
    if not encoding or encoding == "identity":
        return body
    if encoding in ("gzip", "deflate"):
        # bounded: a small body must not inflate into gigabytes
        d = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
        try:
            out = d.decompress(body, limit)
        except zlib.error as e:
            raise RequestError(f"the body is not valid {encoding} data: {e}") from None
        if d.unconsumed_tail:
            raise RequestError(f"the body inflates to more than {limit:,} bytes")
        return out
    raise RequestError(f"unsupported Content-Encoding {encoding!r} (gzip, deflate or none)")


class InferRequest:
    __slots__ = ("id", "parameters", "tensors", "outputs", "binary_output")

    def __init__(self):
        self.id: Optional[str] = None
        self.parameters: Dict[str, Any] = {}
        self.tensors: Dict[str, Any] = {}
        self.outputs: Optional[List[Tuple[str, bool]]] = None  # (name, binary)
        self.binary_output = False

    def timeout(self) -> Optional[float]:
        """The request's `timeout` parameter (microseconds, as Triton's) in seconds."""
        t = self.parameters.get("timeout")
        if t is None:
            return None
        if not isinstance(t, (int, float)) or isinstance(t, bool) or t < 0:
            raise RequestError(f"parameter 'timeout' must be a number of microseconds, got {t!r}")
        return t / 1e6 if t else None


def _shape(t: dict, where: str) -> List[int]:
    shape = t.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise RequestError(f"{where}: 'shape' must be a list of non-negative integers, got {shape!r}")
    return shape


def _bytes_elements(raw: memoryview, where: str) -> List[bytes]:
    out, i, n = [], 0, len(raw)
    while i < n:
        if i + 4 > n:
            raise RequestError(f"{where}: the binary BYTES data ends inside an element's length")
        (size,) = struct.unpack_from("<I", raw, i)
        i += 4
        if i + size > n:
            raise RequestError(f"{where}: a binary BYTES element of {size} bytes runs past the data")
        out.append(bytes(raw[i:i + size]))
        i += size
    return out


def _flatten(data, where: str) -> list:
    """KServe allows the data nested as the shape or flat (row-major)."""
    if not isinstance(data, list):
        return [data]
    if data and isinstance(data[0], list):
        out = []
        for d in data:
            out.extend(_flatten(d, where))
        return out
    return data


def _tensor(t: dict, raw: Optional[memoryview], where: str):
    datatype = t.get("datatype")
    shape = _shape(t, where)
    count = math.prod(shape)
    if datatype == "BYTES":
        if raw is not None:
            items = _bytes_elements(raw, where)
        else:
            items = _flatten(t.get("data"), where)
            if not all(isinstance(x, str) for x in items):
                bad = next(x for x in items if not isinstance(x, str))
                raise RequestError(f"{where}: BYTES data must be strings in JSON, got {type(bad).__name__} "
                                   f"{bad!r} (send bytes that are not UTF-8 as binary data)")
        if len(items) != count:
            raise RequestError(f"{where}: shape {shape} holds {count} elements, the data has {len(items)}")
        return items
    if datatype not in NUMPY_DTYPES:
        raise RequestError(f"{where}: unknown datatype {datatype!r}")
    dtype = np.dtype(NUMPY_DTYPES[datatype])
    if raw is not None:
        if len(raw) != count * dtype.itemsize:
            raise RequestError(f"{where}: shape {shape} of {datatype} is {count * dtype.itemsize} bytes, the binary "
                               f"data is {len(raw)}")
        return np.frombuffer(raw, dtype=dtype).reshape(shape)
    data = t.get("data")
    if data is None:
        raise RequestError(f"{where}: no 'data' (and no binary_data_size)")
    try:
        a = np.asarray(_flatten(data, where), dtype=dtype)
    except (TypeError, ValueError, OverflowError) as e:
        raise RequestError(f"{where}: the data is not {datatype}: {e}") from None
    if a.size != count:
        raise RequestError(f"{where}: shape {shape} holds {count} elements, the data has {a.size}")
    return a.reshape(shape)


def parse_infer(body: bytes, header_length: Optional[str]) -> InferRequest:
    """An inference request body (after decompression)."""
    req = InferRequest()
    if header_length is not None:
        try:
            n = int(header_length)
        except ValueError:
            raise RequestError(f"the Inference-Header-Content-Length header is not a number: {header_length!r}") \
                from None
        if not 0 < n <= len(body):
            raise RequestError(f"Inference-Header-Content-Length {n} does not fit the body of {len(body)} bytes")
        head, rest = body[:n], memoryview(body)[n:]
    else:
        head, rest = body, memoryview(b"")
    try:
        doc = loads(head)
    except ValueError as e:
        raise RequestError(f"the request is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise RequestError("the request must be a JSON object with 'inputs'")
    if doc.get("id") is not None:
        req.id = str(doc["id"])
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise RequestError("'parameters' must be an object")
    req.parameters = params
    req.binary_output = bool(params.get("binary_data_output", False))
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError("the request has no 'inputs' list")
    offset = 0
    for k, t in enumerate(inputs):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise RequestError(f"inputs[{k}] must be an object with a 'name'")
        where = f"input '{t['name']}'"
        if t["name"] in req.tensors:
            raise RequestError(f"{where} is given twice")
        size = (t.get("parameters") or {}).get("binary_data_size")
        raw = None
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(rest):
                raise RequestError(f"{where}: binary_data_size {size!r} runs past the binary data "
                                   f"({len(rest) - offset} bytes left)")
            raw = rest[offset:offset + size]
            offset += size
        req.tensors[t["name"]] = _tensor(t, raw, where)
    if offset != len(rest):
        raise RequestError(f"the body has {len(rest) - offset} bytes of binary data no input claims")
    outputs = doc.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list):
            raise RequestError("'outputs' must be a list")
        req.outputs = []
        for k, o in enumerate(outputs):
            if not isinstance(o, dict) or not isinstance(o.get("name"), str):
                raise RequestError(f"outputs[{k}] must be an object with a 'name'")
            binary = (o.get("parameters") or {}).get("binary_data", req.binary_output)
            req.outputs.append((o["name"], bool(binary)))
    return req


def _bytes_payload(a: np.ndarray) -> bytes:
    parts = []
    for x in a.reshape(-1):
        b = x if isinstance(x, bytes) else str(x).encode("utf-8")
        parts.append(struct.pack("<I", len(b)))
        parts.append(b)
    return b"".join(parts)


def infer_response(model: str, req: InferRequest, outputs: Dict[str, np.ndarray], datatypes: Dict[str, str]
                   ) -> Tuple[bytes, Optional[int]]:
    """The response body and, with binary outputs, the JSON header's length."""
    wanted = req.outputs if req.outputs is not None else [(n, req.binary_output) for n in outputs]
    out_json, blobs = [], []
    for name, binary in wanted:
        if name not in outputs:
            raise RequestError(f"unknown output '{name}'; model '{model}' gives {', '.join(outputs)}")
        a, dt = outputs[name], datatypes[name]
        t = {"name": name, "datatype": dt, "shape": list(a.shape)}
        if binary:
            blob = _bytes_payload(a) if dt == "BYTES" else np.ascontiguousarray(a).tobytes()
            t["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        elif dt == "BYTES":
            try:
                t["data"] = [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in a.reshape(-1)]
            except UnicodeDecodeError:
                raise RequestError(f"output '{name}' holds bytes that are not UTF-8: ask for it as binary data "
                                   "(binary_data: true)") from None
        else:
            t["data"] = np.ascontiguousarray(a).reshape(-1)
        out_json.append(t)
    doc = {"model_name": model, "model_version": "1", "outputs": out_json}
    if req.id is not None:
        doc["id"] = req.id
    head = dumps(doc)
    if not blobs:
        return head, None
    return b"".join([head] + blobs), len(head)
