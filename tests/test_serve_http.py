"""matx-serve's own inference cycle (serve/fast_http.py) against the ASGI app
it short-cuts: the same bytes on the wire (all but the Date header) for good,
malformed and unknown requests, binary outputs, version paths, compressed and
chunked bodies, the 100-continue handshake, `Connection: close`, and pipelined
requests on one connection, compared over raw sockets with one server of each
kind."""
import gzip
import json
import re
import struct

import pytest

import matx_nb.serve
import serve_ops
from raw_http import complete, exchange, post


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folders = serve_ops.save_all(tmp_path_factory.mktemp("serve_http"))
    names = {k: folders[k] for k in ("text", "checked")}
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("MATX_SERVE_NO_FRONT", "1")  # uvicorn's cycles on both (the front: test_serve_front.py)
        mp.setenv("MATX_SERVE_ASGI_ONLY", "1")
        asgi = matx_nb.serve.launch(names, max_batch_size=8)
        mp.delenv("MATX_SERVE_ASGI_ONLY")
        fast = matx_nb.serve.launch(names, max_batch_size=8)
    finally:
        mp.undo()
    with asgi, fast:
        yield {"asgi": asgi, "fast": fast}


def _same_bytes(raw: bytes, servers, responses: int = 1) -> bytes:
    got = {k: re.sub(rb"(?im)^date: [^\r]*\r\n", b"", exchange(s, raw, responses)) for k, s in servers.items()}
    assert got["fast"] == got["asgi"], got
    assert complete(got["fast"]) == responses, got["fast"]
    return got["fast"]


def _text_request(texts, **extra) -> bytes:
    doc = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}], **extra}
    return json.dumps(doc).encode()


def test_inference_and_errors_are_the_same_bytes(servers):
    body = _text_request(serve_ops.TEXTS[:3], id="r1")
    out = _same_bytes(post("/v2/models/text/infer", body), servers)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b'"id":"r1"' in out
    _same_bytes(post("/v2/models/text/versions/1/infer", body), servers)
    assert b" 404 " in _same_bytes(post("/v2/models/text/versions/2/infer", body), servers)
    assert b" 404 " in _same_bytes(post("/v2/models/nope/infer", body), servers)
    assert b" 400 " in _same_bytes(post("/v2/models/text/infer", b"{not json"), servers)
    bad = json.dumps({"inputs": [{"name": "xs", "datatype": "INT64", "shape": [2], "data": [1, -3]}]}).encode()
    assert b" 500 " in _same_bytes(post("/v2/models/checked/infer", bad), servers)  # the pipeline's error
    # not an inference path: both go to the ASGI app
    assert b" 404 " in _same_bytes(post("/v2/models/text/infer/more", body), servers)


def test_binary_outputs_and_compressed_bodies(servers):
    body = _text_request(serve_ops.TEXTS[:2], parameters={"binary_data_output": True})
    out = _same_bytes(post("/v2/models/text/infer", body), servers)
    assert re.search(rb"(?im)^inference-header-content-length: \d+", out)
    packed = gzip.compress(_text_request(serve_ops.TEXTS[1:2]))
    out = _same_bytes(post("/v2/models/text/infer", packed, "Content-Encoding: gzip\r\n"), servers)
    assert b" 200 " in out.split(b"\r\n", 1)[0]
    # the binary tensor extension on the way in
    words = [t.encode() for t in serve_ops.TEXTS[:2]]
    blob = b"".join(struct.pack("<I", len(w)) + w for w in words)
    head = json.dumps({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2],
                                   "parameters": {"binary_data_size": len(blob)}}]}).encode()
    raw = post("/v2/models/text/infer", head + blob, f"Inference-Header-Content-Length: {len(head)}\r\n")
    assert b" 200 " in _same_bytes(raw, servers).split(b"\r\n", 1)[0]


def test_connection_handling(servers):
    body = _text_request(serve_ops.TEXTS[:1])
    one = post("/v2/models/text/infer", body)
    # pipelined: three requests in one write, three responses in order
    out = _same_bytes(one + post("/v2/models/text/infer", b"[]") + one, servers, responses=3)
    assert [line.split(b" ")[1] for line in re.findall(rb"HTTP/1.1 \d+ [^\r]*", out)] == [b"200", b"400", b"200"]
    # Connection: close is answered in kind, and the server closes
    out = _same_bytes(post("/v2/models/text/infer", body, "Connection: close\r\n"), servers)
    assert re.search(rb"(?im)^connection: close", out)
    # a chunked body
    chunked = (b"POST /v2/models/text/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:7], body[7:])) + b"0\r\n\r\n")
    assert b" 200 " in _same_bytes(chunked, servers).split(b"\r\n", 1)[0]
    # 100-continue: the interim response comes before the body is read
    out = _same_bytes(post("/v2/models/text/infer", body, "Expect: 100-continue\r\n"), servers)
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")


def test_a_uvicorn_without_the_hooks_gets_the_asgi_path(monkeypatch):
    from matx_nb.serve import cli, fast_http
    assert fast_http.usable()  # the uvicorn installed here has them
    monkeypatch.setattr(fast_http, "_CYCLE_STATE", fast_http._CYCLE_STATE | {"state_this_uvicorn_lacks"})
    assert not fast_http.usable() and cli._http_protocol(object()) == "auto"
