"""matx-serve's native front (runtime/python/serve_front.h, serve/front.py)
against the Python server it stands in front of: one server of each kind
(MATX_SERVE_NO_FRONT=1 for the Python one) on the same folders, the same
requests over raw sockets, the same answers (status, headers but Date and
Server, body). The front's answers carry `server: matx-serve`, uvicorn's
`server: uvicorn`: the tests also check which of the two answered, so that a
front that handed everything over would fail them."""
import json
import re
import signal
import socket
import struct
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matx_nb.serve
import serve_ops
from raw_http import address, complete, exchange, post


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_front")
    out = serve_ops.save_front(root)
    tp = serve_ops.text_pipeline(root / "work")
    matx_nb.trace(tp.process, [t.encode() for t in serve_ops.TEXTS]).save(
        root / "text", output_names=["input_ids", "segment_ids", "mask"])
    out["text"] = root / "text"
    return out


@pytest.fixture(scope="module")
def servers(folders):
    names = {k: folders[k] for k in ("words", "lengths", "feats", "text")}
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("MATX_SERVE_NO_FRONT", "1")
        python = matx_nb.serve.launch(names, max_batch_size=8)
        mp.delenv("MATX_SERVE_NO_FRONT")
        front = matx_nb.serve.launch(names, max_batch_size=8)
    finally:
        mp.undo()
    with python, front:
        yield {"python": python, "front": front}


def _responses(data: bytes):
    """[(status, {header: value} without date and server, server, body)]."""
    out, pos = [], 0
    while pos < len(data):
        end = data.index(b"\r\n\r\n", pos)
        lines = data[pos:end].decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        headers = {k.lower(): v for k, v in headers.items()}
        size = int(headers.get("content-length", 0))
        body = data[end + 4:end + 4 + size]
        server = headers.pop("server", None)
        headers.pop("date", None)
        out.append((int(lines[0].split(" ")[1]), headers, server, body))
        pos = end + 4 + size
    return out


def _same(raw: bytes, servers, responses: int = 1):
    """Both servers' answers to raw; asserts they are the same; the front's [(status, server, body)]."""
    got = {k: _responses(exchange(s, raw, responses)) for k, s in servers.items()}
    assert len(got["front"]) == len(got["python"]) == responses, got
    for f, p in zip(got["front"], got["python"]):
        assert (f[0], f[1]) == (p[0], p[1]), (f, p)
        if f[1].get("content-type") == "application/json" and f[3] != p[3]:
            assert json.loads(f[3]) == json.loads(p[3])  # numbers written another way (1e-05, 1e-5)
        else:
            assert f[3] == p[3]
    return [(f[0], f[2], f[3]) for f in got["front"]]


def _texts(texts, name="texts", **extra) -> bytes:
    doc = {"inputs": [{"name": name, "datatype": "BYTES", "shape": [len(texts)], "data": texts}], **extra}
    return json.dumps(doc).encode()


def _binary(texts, name="texts", **extra):
    words = [t.encode() for t in texts]
    blob = b"".join(struct.pack("<I", len(w)) + w for w in words)
    head = json.dumps({"inputs": [{"name": name, "datatype": "BYTES", "shape": [len(words)],
                                   "parameters": {"binary_data_size": len(blob)}}], **extra}).encode()
    return head + blob, len(head)


TEXTS = ["Hello World", "  Café Crème  ", "ŝĝĥ ĵŭ", "中文分词 测试", "emoji 🙂 ok", "", "a\tb\nc\"d\\e"]


def test_the_front_answers_plain_requests_as_python_does(servers):
    for model in ("words", "lengths"):
        for path in (f"/v2/models/{model}/infer", f"/v2/models/{model}/versions/1/infer"):
            (status, server, body), = _same(post(path, _texts(TEXTS, id="r1")), servers)
            assert status == 200 and server == "matx-serve" and b'"id":"r1"' in body, body
    (status, server, body), = _same(post("/v2/models/feats/infer", _texts(TEXTS)), servers)
    assert (status, server) == (200, "matx-serve") and json.loads(body)["outputs"][0]["name"] == "size"
    text = [t for t in serve_ops.TEXTS]
    (status, server, _), = _same(post("/v2/models/text/infer", _texts(text, name="text")), servers)
    assert (status, server) == (200, "matx-serve")
    # nested data in the shape's form, an empty batch, outputs asked for by name, the timeout parameter
    nested = json.dumps({"inputs": [{"name": "texts", "datatype": "BYTES", "shape": [2, 1],
                                     "data": [["x y"], ["z"]]}]}).encode()
    assert _same(post("/v2/models/lengths/infer", nested), servers)[0][:2] == (200, "matx-serve")
    assert _same(post("/v2/models/words/infer", _texts([])), servers)[0][:2] == (200, "matx-serve")
    days = _texts(TEXTS[:1], parameters={"timeout": 3 * 10 ** 12}, outputs=[{"name": "ratio", "parameters": {
        "binary_data": None}}])  # a timeout of a month; binary_data null: JSON
    assert _same(post("/v2/models/lengths/infer", days), servers)[0][:2] == (200, "matx-serve")
    some = _texts(TEXTS[:2], outputs=[{"name": "even"}, {"name": "ratio"}], parameters={"timeout": 10 ** 7})
    (status, server, body), = _same(post("/v2/models/lengths/infer", some), servers)
    assert (status, server) == (200, "matx-serve")
    assert [o["name"] for o in json.loads(body)["outputs"]] == ["even", "ratio"]


def test_binary_tensors_both_ways(servers):
    body, head = _binary(TEXTS[:4])
    for model in ("words", "lengths", "feats"):
        (status, server, _), = _same(post(f"/v2/models/{model}/infer", body,
                                           f"Inference-Header-Content-Length: {head}\r\n"), servers)
        assert (status, server) == (200, "matx-serve"), model
    for params in ({"binary_data_output": True}, {}):
        outputs = [{"name": "counts", "parameters": {"binary_data": True}}, {"name": "ratio"}]
        req = _texts(TEXTS, parameters=params, outputs=outputs if not params else None)
        (status, server, body), = _same(post("/v2/models/lengths/infer", req), servers)
        assert (status, server) == (200, "matx-serve")
    (status, server, body), = _same(post("/v2/models/words/infer", _texts(TEXTS, parameters={
        "binary_data_output": True})), servers)
    assert (status, server) == (200, "matx-serve") and struct.pack("<I", 14) + b"hello world|11" in body


def test_what_the_front_does_not_handle_is_the_python_servers(servers):
    body = _texts(TEXTS[:2])
    cases = [
        post("/v2/models/words/infer", b"{not json"),  # 400
        post("/v2/models/words/infer", _texts(["boom"])),  # the pipeline's error: 500
        post("/v2/models/words/versions/2/infer", body),  # 404
        post("/v2/models/nope/infer", body),
        post("/v2/models/words/infer", _texts(["a"], name="other")),  # an unknown input: 400
        post("/v2/models/words/infer", json.dumps({"inputs": [{"name": "texts", "datatype": "BYTES",
                                                                 "shape": [3], "data": ["a"]}]}).encode()),
        post("/v2/models/words/infer", json.dumps({"inputs": [{"name": "texts", "datatype": "BYTES",
                                                                 "shape": [1], "data": [5]}]}).encode()),
        post("/v2/models/lengths/infer", _texts(["a"], outputs=[{"name": "nope"}])),
        post("/v2/models/words/infer/more", body),
        b"GET /v2/models/words/config HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/models/nope HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/models/words/versions/2 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/health/ready HTTP/1.0\r\nHost: x\r\n\r\n",
        # what the Python server's parser refuses: never framed another way here
        post("/v2/models/words/infer", body, "Transfer-Encoding : chunked\r\n"),
        post("/v2/models/words/infer", body, "X-A: a\nTransfer-Encoding: chunked\r\n"),
        b"GET /v2/health/ready x HTTP/1.1\r\nHost: x\r\n\r\n",
        # JSON that orjson refuses (CPython's json module takes it)
        post("/v2/models/words/infer", b'{"parameters": {"x": NaN}, "inputs": [{"name": "texts", "datatype": '
                                       b'"BYTES", "shape": [1], "data": ["a"]}]}'),
        post("/v2/models/words/infer", _texts(["a\ud800"])),
        post("/v2/models/words/infer", _texts(["a"], id="\udc00")),
    ]
    for raw in cases:
        got = _same(raw, servers)
        assert got and all(server == "uvicorn" for _, server, _ in got), (raw, got)
    assert _same(cases[1], servers)[0][0] == 500


def test_health_and_metadata_are_answered_by_the_front(servers):
    paths = ["/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/words", "/v2/models/words/ready",
             "/v2/models/lengths/versions/1", "/v2/models/feats/versions/1/ready", "/v2/models/text"]
    for path in paths:
        (status, server, body), = _same(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), servers)
        assert (status, server) == (200, "matx-serve"), path
    # a pooled client connection: metadata, health, inference and health again, all answered here
    raw = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths[:4])
    raw += post("/v2/models/words/infer", _texts(TEXTS)) + b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
    out = _same(raw, servers, responses=6)
    assert [srv for _, srv, _ in out] == ["matx-serve"] * 6


def test_connections_mixing_both(servers):
    one = post("/v2/models/words/infer", _texts(TEXTS[:1]))
    bad = post("/v2/models/words/infer", b"[]")
    # pipelined: the front answers the first, the Python server the rest of the connection
    out = _same(one + bad + one, servers, responses=3)
    assert [(s, srv) for s, srv, _ in out] == [(200, "matx-serve"), (400, "uvicorn"), (200, "uvicorn")]
    out = _same(one + one, servers, responses=2)
    assert [(s, srv) for s, srv, _ in out] == [(200, "matx-serve"), (200, "matx-serve")]
    # a pipeline error after a good answer: the Python server runs the failing request again
    boom = post("/v2/models/words/infer", _texts(["boom"]))
    out = _same(one + boom + one, servers, responses=3)
    assert [(s, srv) for s, srv, _ in out] == [(200, "matx-serve"), (500, "uvicorn"), (200, "uvicorn")]
    raw = exchange(servers["front"], post("/v2/models/words/infer", _texts(["x"]), "Connection: close\r\n"))
    assert re.search(rb"(?im)^connection: close", raw) and b"server: matx-serve" in raw
    # a body in several writes
    req = post("/v2/models/words/infer", _texts(TEXTS))
    with socket.create_connection(address(servers["front"]), timeout=30) as s:
        for k in range(0, len(req), 7):
            s.sendall(req[k:k + 7])
            time.sleep(0.001)
        data = b""
        while complete(data) < 1:
            data += s.recv(65536)
    assert _responses(data)[0][:3:2] == (200, "matx-serve")
    # an idle connection is closed after uvicorn's keep-alive timeout (5 s), as the Python server's
    with socket.create_connection(address(servers["front"]), timeout=30) as s:
        s.sendall(req)
        data = b""
        while complete(data) < 1:
            data += s.recv(65536)
        t0 = time.monotonic()
        assert s.recv(65536) == b"" and 4 < time.monotonic() - t0 < 15


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(max_size=12), max_size=6), st.booleans())
def test_generated_texts(servers, texts, binary):
    if binary:
        body, head = _binary(texts)
        raw = post("/v2/models/lengths/infer", body, f"Inference-Header-Content-Length: {head}\r\n")
    else:
        raw = post("/v2/models/words/infer", _texts(texts))
    (status, server, _), = _same(raw, servers)
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for t in texts for c in t)
    assert status == (400 if binary and surrogate else 200)


# Requests near the valid shape: each field may be missing, of another type,
# or hold odd values; the front must answer as the Python server does (or
# hand the request over, which the comparison cannot tell from answering).
_ANY = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                    max_leaves=6)
_TEXTS = st.lists(st.text(max_size=6), max_size=4)


def _field(valid, odd=_ANY):
    return st.one_of(st.just(valid), odd)


@st.composite
def _near_valid(draw):
    texts = draw(_TEXTS)
    tensor = {"name": draw(_field("texts", st.sampled_from(["text", "", "texts "]) | _ANY)),
              "datatype": draw(_field("BYTES", st.sampled_from(["INT64", "bytes", "FP32"]) | _ANY)),
              "shape": draw(_field([len(texts)], st.lists(st.integers(-1, 5), max_size=3) | _ANY)),
              "data": draw(_field(texts, st.lists(st.one_of(st.text(max_size=3), st.integers(), st.lists(
                  st.text(max_size=2), max_size=2)), max_size=4) | _ANY))}
    if draw(st.booleans()):
        tensor["parameters"] = draw(st.dictionaries(st.sampled_from(["binary_data_size", "x"]), _ANY, max_size=2))
    doc = {"inputs": draw(_field([tensor], st.lists(st.just(tensor), max_size=3) | _ANY))}
    if draw(st.booleans()):
        doc["id"] = draw(_field("r", _ANY))
    if draw(st.booleans()):
        doc["parameters"] = draw(st.dictionaries(st.sampled_from(["binary_data_output", "timeout", "other"]),
                                                 _ANY, max_size=2) | _ANY)
    if draw(st.booleans()):
        doc["outputs"] = draw(st.lists(st.fixed_dictionaries({"name": st.sampled_from(["ratio", "even", "nope"])},
                                                             optional={"parameters": _ANY}), max_size=2) | _ANY)
    return doc


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(_near_valid())
def test_requests_near_the_valid_shape(servers, doc):
    _same(post("/v2/models/lengths/infer", json.dumps(doc).encode()), servers)  # asserts both answer alike


def _post_json(server, path: str, doc: dict, timeout: float = 60):
    raw = exchange(server, post(path, json.dumps(doc).encode()), timeout=timeout)
    status, _, srv, body = _responses(raw)[0]
    return status, srv, json.loads(body) if body else None


def _metric(server, name: str, **labels) -> float:
    raw = exchange(server, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    text = _responses(raw)[0][3].decode()
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{want}}} is not in /metrics")


def test_batching_splits_back_and_counts(folders):
    import numpy as np
    served = {k: folders[k] for k in ("words", "lengths")}
    with matx_nb.serve.launch(served, max_batch_size=64, max_queue_delay_us=50000) as srv:
        results = {}

        def one(k):
            texts = [f"Req {k} text {j}" + " x" * (k % 4) for j in range(k % 3 + 1)]
            model = ("words", "lengths")[k % 2]
            results[k] = (model, texts, _post_json(srv, f"/v2/models/{model}/infer", {"inputs": [
                {"name": "texts", "datatype": "BYTES", "shape": [len(texts)], "data": texts}]}))

        threads = [threading.Thread(target=one, args=(k,)) for k in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k, (model, texts, (status, server, doc)) in results.items():
            assert (status, server) == (200, "matx-serve")
            outs = {o["name"]: o for o in doc["outputs"]}
            if model == "words":
                assert outs["output_0"]["data"] == serve_ops.words(texts)
                continue
            assert outs["ratio"]["data"] == serve_ops.ratio(texts)
            assert outs["counts"]["shape"] == [len(texts), 2]
            assert outs["counts"]["data"] == [x for row in serve_ops.counts(texts) for x in row]
            assert outs["even"]["data"] == serve_ops.even(texts)
            want = np.array([[len(t) * 0.1, t.count(" ") / 7.0] for t in texts], dtype=np.float32)
            assert outs["vec"]["shape"] == [len(texts), 2]
            assert np.array_equal(np.array(outs["vec"]["data"], dtype=np.float32), want.reshape(-1))
        for model in served:
            assert _metric(srv, "matx_requests_total", model=model, outcome="success") == 12
            # some batch held more than one request's rows (3 at most alone)
            assert _metric(srv, "matx_batch_size_bucket", model=model, le="4.0") < \
                _metric(srv, "matx_batch_size_count", model=model)
            assert _metric(srv, "matx_inflight_requests", model=model) == 0


def _spin(srv, n: int, **params):
    doc = {"inputs": [{"name": "texts", "datatype": "BYTES", "shape": [1], "data": [str(n)]}]}
    if params:
        doc["parameters"] = params
    return _post_json(srv, "/v2/models/spin_text/infer", doc)


def test_overload_and_timeouts(folders):
    with matx_nb.serve.launch({"spin_text": folders["spin_text"]}, max_batch_size=1, max_queue=1) as srv:
        assert _spin(srv, 1)[:2] == (200, "matx-serve")
        out = []
        threads = [threading.Thread(target=lambda: out.append(_spin(srv, 150))) for _ in range(4)]
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join()
        statuses = sorted(s for s, _, _ in out)
        assert statuses.count(429) >= 1 and statuses.count(200) >= 2, out
        msg = next(doc["error"] for s, _, doc in out if s == 429)
        assert msg == "model 'spin_text' has 1 requests queued (--max-queue 1); retry later"
        status, server, doc = _spin(srv, 400, timeout=50000)
        assert (status, server) == (504, "matx-serve")
        assert doc["error"] == "model 'spin_text': the request timed out after 50 ms (running)"
        assert _metric(srv, "matx_requests_total", model="spin_text", outcome="timeout") == 1
        assert _metric(srv, "matx_requests_total", model="spin_text", outcome="overloaded") == statuses.count(429)


def test_sigterm_drains_the_fronts_requests(folders):
    srv = matx_nb.serve.launch({"spin_text": folders["spin_text"]}, max_batch_size=1)
    try:
        out = []
        t = threading.Thread(target=lambda: out.append(_spin(srv, 200)))
        t.start()
        time.sleep(0.2)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        with pytest.raises(ConnectionRefusedError):  # draining: the port takes no new connections
            socket.create_connection(address(srv), timeout=5).close()
        t.join(60)
        assert out and out[0][:2] == (200, "matx-serve"), out
        assert srv.proc.wait(60) == 0
    finally:
        srv.stop()


def test_workers_add_up_the_fronts_counts(folders):
    """With --workers each process has its front; their counts reach the shared
    metrics (prometheus_client's multiprocess files) within a second."""
    with matx_nb.serve.launch({"words": folders["words"]}, workers=2, max_batch_size=4) as srv:
        assert "2 workers" in srv.output
        for k in range(20):  # a connection each: the kernel spreads them over the workers
            status, server, doc = _post_json(srv, "/v2/models/words/infer", {"inputs": [
                {"name": "texts", "datatype": "BYTES", "shape": [1], "data": [f"T{k}"]}]})
            assert (status, server) == (200, "matx-serve") and doc["outputs"][0]["data"] == [f"t{k}|{len(str(k)) + 1}"]
        time.sleep(2.5)
        assert _metric(srv, "matx_requests_total", model="words", outcome="success") == 20
        assert _metric(srv, "matx_request_seconds_count", model="words") == 20
        assert _metric(srv, "matx_batch_size_sum", model="words") == 20
