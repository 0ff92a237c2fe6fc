"""matx-serve driven by NVIDIA's tritonclient (KServe v2 over HTTP): health,
metadata, inference equal to the pipeline run in process, dynamic batching
under concurrent requests, malformed requests, pipeline errors, metrics, the
bounded queue (429), timeouts (504) and the SIGTERM drain."""
import json
import re
import signal
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import matx_nb
import matx_nb.serve
import serve_ops

httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return serve_ops.save_all(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def server(folders):
    """text, checked, scale and batch_sum in one server: batching on, 2 instances."""
    names = {k: folders[k] for k in ("text", "checked", "scale", "batch_sum", "add_k")}
    with matx_nb.serve.launch(names, max_batch_size=8, max_queue_delay_us=20000, instances=2,
                              log_level="info") as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    c = httpclient.InferenceServerClient(server.address, concurrency=16)
    yield c
    c.close()


def bytes_input(name, items, binary=True):
    a = np.array(items, dtype=object)
    t = httpclient.InferInput(name, [len(items)], "BYTES")
    t.set_data_from_numpy(a, binary_data=binary)
    return t


def int_input(name, values, binary=True):
    t = httpclient.InferInput(name, [len(values)], "INT64")
    t.set_data_from_numpy(np.array(values, dtype=np.int64), binary_data=binary)
    return t


def post(url, body, headers=None):
    req = urllib.request.Request(url, data=body, headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def in_process(folder, feeds):
    return matx_nb.load(folder).run(feeds)


def test_save_records_what_serving_needs(folders):
    spec = json.loads((folders["text"] / "model.spec.json").read_text())
    serving = spec["serving"]
    assert serving["batch_dim0"] is True
    assert [(i["name"], i["datatype"], i["shape"]) for i in serving["inputs"]] == [("text", "BYTES", [-1])]
    assert [(o["name"], o["datatype"], o["shape"]) for o in serving["outputs"]] == [
        ("input_ids", "INT64", [-1, 16]), ("segment_ids", "INT64", [-1, 16]), ("mask", "INT64", [-1, 16])]
    assert serving["example"] in spec["checksums"]  # the warm-up input is covered like every file
    # each row's result depends on the whole batch: found out from the traced examples
    assert json.loads((folders["batch_sum"] / "model.spec.json").read_text())["serving"]["batch_dim0"] is False
    mod = matx_nb.trace(matx_nb.script(serve_ops.checked), [1, 2])
    with pytest.raises(ValueError, match="output_names: the pipeline has 1 output"):
        mod.save(folders["text"].parent / "bad", output_names=["a", "b"])


def test_health_and_metadata(client, server):
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("text") and not client.is_model_ready("nope")
    meta = client.get_model_metadata("text")
    assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert [o["name"] for o in meta["outputs"]] == ["input_ids", "segment_ids", "mask"]
    assert client.get_model_metadata("scale")["inputs"] == [{"name": "images", "datatype": "FP32",
                                                             "shape": [-1, 3, 4]}]
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    assert client.get_model_config("text")["max_batch_size"] == 8
    assert client.get_model_config("batch_sum")["max_batch_size"] == 0  # not batchable: never merged
    with pytest.raises(InferenceServerException, match="unknown model 'nope'"):
        client.get_model_metadata("nope")


@pytest.mark.parametrize("binary", [True, False])
def test_inference_equals_the_pipeline_in_process(client, folders, binary):
    texts = [t.encode() for t in serve_ops.TEXTS] + [b"", b"\xff\xfe not utf-8" if binary else b"plain"]
    outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("input_ids", "mask")]
    r = client.infer("text", [bytes_input("text", texts, binary)], outputs=outputs, request_id="r1")
    want = in_process(folders["text"], {"text": texts})
    assert r.get_response()["id"] == "r1"
    np.testing.assert_array_equal(r.as_numpy("input_ids"), want[0].numpy())
    np.testing.assert_array_equal(r.as_numpy("mask"), want[2].numpy())
    assert r.as_numpy("segment_ids") is None  # only the outputs asked for
    imgs = np.random.default_rng(0).random((3, 3, 4), dtype=np.float32)
    t = httpclient.InferInput("images", list(imgs.shape), "FP32")
    t.set_data_from_numpy(imgs, binary_data=binary)
    out = client.infer("scale", [t]).as_numpy("scaled")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, imgs * 2 + 1)


def test_concurrent_requests_are_batched_and_split_back(client, server, folders):
    rng = np.random.default_rng(1)
    reqs = [[serve_ops.TEXTS[j].encode() for j in rng.integers(0, 4, rng.integers(1, 4))] for _ in range(48)]
    before = _metric(server, r'matx_batch_size_count\{model="text"\}')
    # tritonclient's own concurrency (async_infer: up to 16 connections); its
    # client must not be shared between threads
    pending = [client.async_infer("text", [bytes_input("text", texts)]) for texts in reqs]
    results = [p.get_result(timeout=60) for p in pending]
    loaded = matx_nb.load(folders["text"])
    for texts, r in zip(reqs, results):  # every response holds its own rows, in order
        np.testing.assert_array_equal(r.as_numpy("input_ids"), loaded.run({"text": texts})[0].numpy())
    batches = _metric(server, r'matx_batch_size_count\{model="text"\}') - before
    assert batches < len(reqs), "no two requests were merged into one batch"
    # a pipeline that is not batchable still answers each request alone, correctly
    pending = [client.async_infer("batch_sum", [int_input("xs", xs)]) for xs in [[1, 2], [10], [3, 4, 5]] * 4]
    got = [p.get_result(timeout=60).as_numpy("output_0") for p in pending]
    for xs, g in zip([[1, 2], [10], [3, 4, 5]] * 4, got):
        assert g.tolist() == [x + sum(xs) for x in xs]


def test_malformed_requests_get_400_naming_the_problem(client, server):
    url = server.url + "/v2/models/text/infer"
    cases = [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"inputs": []}', "no 'inputs'"),
        (b'{"inputs": [{"name": "words", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}', "'text' is missing"),
        (b'{"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["a"]}]}',
         "shape [2] holds 2 elements, the data has 1"),
        (b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [5]}]}', "must be strings"),
        (b'{"inputs": [{"name": "text", "shape": [1], "datatype": "NOPE", "data": ["a"]}]}', "unknown datatype"),
        (b'{"inputs": [{"name": "text", "shape": "x", "datatype": "BYTES", "data": ["a"]}]}', "'shape' must be"),
        (b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a"]}], '
         b'"outputs": [{"name": "logits"}]}', "unknown output 'logits'"),
    ]
    for body, message in cases:
        status, text = post(url, body)
        assert status == 400, (body, status, text)
        assert message in json.loads(text)["error"], (body, text)
    status, text = post(server.url + "/v2/models/scale/infer",
                        b'{"inputs": [{"name": "images", "shape": [1, 3, 4], "datatype": "FP32", '
                        b'"data": [1, 2]}]}')
    assert status == 400 and "holds 12 elements" in json.loads(text)["error"]
    with pytest.raises(InferenceServerException, match="input 'text' is missing") as ei:
        client.infer("text", [bytes_input("texts", [b"a"])])
    assert ei.value.status() == "400"
    status, _ = post(server.url + "/v2/models/nope/infer", b"{}")
    assert status == 404


def test_pipeline_error_is_500_and_the_server_goes_on(client):
    with pytest.raises(InferenceServerException, match="negative input -3") as ei:
        client.infer("checked", [int_input("xs", [1, -3])])
    assert ei.value.status() == "500"
    assert client.infer("checked", [int_input("xs", [1, 2])]).as_numpy("output_0").tolist() == [10, 20]


def _metric(server, pattern):
    text = urllib.request.urlopen(server.url + "/metrics", timeout=10).read().decode()
    m = re.search(pattern + r" ([0-9.e+]+)", text)
    return float(m.group(1)) if m else 0.0


def test_metrics(client, server):
    ok = _metric(server, r'matx_requests_total\{model="checked",outcome="success"\}')
    client.infer("checked", [int_input("xs", [7])])
    post(server.url + "/v2/models/checked/infer", b"{")
    assert _metric(server, r'matx_requests_total\{model="checked",outcome="success"\}') == ok + 1
    assert _metric(server, r'matx_requests_total\{model="checked",outcome="bad_request"\}') >= 1
    assert _metric(server, r'matx_request_seconds_count\{model="checked"\}') >= ok + 2
    assert _metric(server, r'matx_queue_seconds_count\{model="checked"\}') >= 1
    assert _metric(server, r'matx_inflight_requests\{model="checked"\}') == 0


@pytest.fixture(scope="module")
def slow_server(folders):
    """One instance, no merging, a queue of 2 and a 1.5 s limit per request."""
    with matx_nb.serve.launch({"spin": folders["spin"]}, max_batch_size=1, max_queue=2, timeout_ms=1500) as srv:
        yield srv


def _calibrate(url):
    """The spin input that takes about 0.3 s on this machine."""
    body = json.dumps({"inputs": [{"name": "xs", "shape": [1], "datatype": "INT64", "data": [20]}]}).encode()
    t0 = time.perf_counter()
    assert post(url, body)[0] == 200
    return max(1, int(20 * 0.3 / (time.perf_counter() - t0)))


def _spin_body(x):
    return json.dumps({"inputs": [{"name": "xs", "shape": [1], "datatype": "INT64", "data": [x]}]}).encode()


def test_overload_answers_429_at_once(slow_server):
    url = slow_server.url + "/v2/models/spin/infer"
    x = _calibrate(url)
    results = []

    def send():
        t0 = time.perf_counter()
        status, body = post(url, _spin_body(x))
        results.append((status, time.perf_counter() - t0, body))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join()
    statuses = sorted(s for s, _, _ in results)
    assert 200 in statuses and 429 in statuses, results
    for status, took, body in results:
        if status == 429:
            assert took < 0.25 and "retry later" in json.loads(body)["error"]
    assert _metric(slow_server, r'matx_requests_total\{model="spin",outcome="overloaded"\}') >= 1


def test_timeouts_answer_504(slow_server):
    url = slow_server.url + "/v2/models/spin/infer"
    x = _calibrate(url)
    status, body = post(url, _spin_body(x * 8))  # ~2.4 s against the server's 1.5 s
    assert status == 504 and "timed out after 1500 ms" in json.loads(body)["error"]
    time.sleep(2.5)  # the abandoned run finishes; the server goes on
    fast = json.dumps({"inputs": [{"name": "xs", "shape": [1], "datatype": "INT64", "data": [x]}],
                       "parameters": {"timeout": 100000}}).encode()  # the request's own limit: 100 ms
    status, body = post(url, fast)
    assert status == 504 and "after 100 ms" in json.loads(body)["error"]
    time.sleep(0.5)
    assert post(url, _spin_body(1))[0] == 200


def test_sigterm_drains_requests_in_flight(folders):
    srv = matx_nb.serve.launch({"spin": folders["spin"]}, max_batch_size=1, drain_timeout=30)
    url = srv.url + "/v2/models/spin/infer"
    x = _calibrate(url)
    expected = serve_ops.spin([x])
    results = []
    threads = [threading.Thread(target=lambda: results.append(post(url, _spin_body(x)))) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # all four accepted; one runs, three wait in the queue
    srv.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(60)
    assert [s for s, _ in results] == [200] * 4, results
    assert all(json.loads(b)["outputs"][0]["data"] == expected for _, b in results)
    assert srv.proc.wait(30) == 0
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(srv.url + "/v2/health/live", timeout=5)
    assert "stopped" in srv.output


def test_cli_errors(tmp_path, folders):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "matx_nb.serve.cli", str(tmp_path / "missing")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no pipeline folder" in r.stderr
    r = subprocess.run([sys.executable, "-m", "matx_nb.serve.cli", f"a={folders['spin']}", f"a={folders['checked']}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "two models are named 'a'" in r.stderr


def test_keep_alive_requests_do_not_wait_for_delayed_acks(server):
    """Responses are written with TCP_NODELAY: on a kept-alive connection a
    small answer takes well under a millisecond here, not the ~40 ms of
    Nagle's algorithm against a delayed ACK."""
    import http.client
    host, port = server.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    body = json.dumps({"inputs": [{"name": "xs", "shape": [1], "datatype": "INT64", "data": [1]}]})
    took = []
    for _ in range(15):
        t0 = time.perf_counter()
        conn.request("POST", "/v2/models/checked/infer", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["outputs"][0]["data"] == [10]
        took.append(time.perf_counter() - t0)
    conn.close()
    assert sorted(took)[7] < 0.025, took


def test_workers_share_the_port_and_the_metrics(folders):
    with matx_nb.serve.launch({"checked": folders["checked"]}, workers=2, max_batch_size=4) as srv:
        assert "2 workers" in srv.output
        client = httpclient.InferenceServerClient(srv.address, concurrency=8)
        pending = [client.async_infer("checked", [int_input("xs", [i, i + 1])]) for i in range(40)]
        assert [p.get_result(timeout=60).as_numpy("output_0").tolist() for p in pending] == \
            [[10 * i, 10 * i + 10] for i in range(40)]
        client.close()
        # /metrics adds up both processes, whichever one answers
        assert _metric(srv, r'matx_requests_total\{model="checked",outcome="success"\}') == 40
        assert srv.stop() == 0
    assert "stopped" in srv.output


def test_merging_keeps_requests_apart(client):
    """Within one merged batch: a request of zero rows gets zero rows, one-value
    inputs that differ are never merged, and a request whose input fails the
    pipeline fails alone."""
    cases = [([1, 2], 10), ([], 10), ([3], 20), ([4, 5, 6], 10), ([7], 30), ([], 20)]

    def request(xs, k):
        kt = httpclient.InferInput("k", [1], "INT64")
        kt.set_data_from_numpy(np.array([k], dtype=np.int64))
        return client.async_infer("add_k", [int_input("xs", xs), kt])
    for _ in range(3):
        pending = [request(xs, k) for xs, k in cases]
        for (xs, k), p in zip(cases, pending):
            assert p.get_result(timeout=60).as_numpy("output_0").tolist() == [x + k for x in xs]
    pending = [client.async_infer("checked", [int_input("xs", xs)]) for xs in ([1, 2], [-1], [3], [4, 5])]
    outcomes = []
    for p in pending:
        try:
            outcomes.append(p.get_result(timeout=60).as_numpy("output_0").tolist())
        except InferenceServerException as e:
            outcomes.append(e.status())
    assert outcomes == [[10, 20], "500", [30], [40, 50]]


def test_requests_must_fit_the_model_inputs(server):
    url = server.url + "/v2/models/"
    cases = [
        ("scale", {"name": "images", "shape": [1, 3, 4], "datatype": "FP64", "data": [0.0] * 12},
         "input 'images' must be FP32, got FP64"),
        ("scale", {"name": "images", "shape": [1, 4, 3], "datatype": "FP32", "data": [0.0] * 12},
         "must have shape [-1, 3, 4] (-1: any), got [1, 4, 3]"),
        ("checked", {"name": "xs", "shape": [1], "datatype": "BYTES", "data": ["a"]}, "must be INT64, got BYTES"),
        ("add_k", {"name": "k", "shape": [2], "datatype": "INT64", "data": [1, 2]}, "is one value"),
    ]
    for model, bad, message in cases:
        inputs = [bad] + ([{"name": "xs", "shape": [1], "datatype": "INT64", "data": [1]}] if model == "add_k" else [])
        status, body = post(url + model + "/infer", json.dumps({"inputs": inputs}).encode())
        assert status == 400 and message in json.loads(body)["error"], (model, status, body)
    import gzip
    bomb = gzip.compress(b"0" * (300 << 20))
    status, body = post(url + "checked/infer", bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert status == 400 and "inflates to more than" in json.loads(body)["error"]
    status, body = post(server.url + "/v2/nothing/here", b"")
    assert status in (404, 405) and "error" in json.loads(body)


def test_unservable_outputs_warn_at_save_and_refuse_to_serve(tmp_path):
    from matx_nb.serve.model import ServedModel
    mod = matx_nb.trace(matx_nb.script(serve_ops.ragged), [1, 2])
    with pytest.warns(UserWarning, match="cannot be served over KServe v2.*ragged"):
        mod.save(tmp_path / "ragged")
    assert matx_nb.load(tmp_path / "ragged").run({"ns": [1, 2]}) == [[0], [0, 1]]
    with pytest.raises(ValueError, match="cannot be served"):
        ServedModel("ragged", tmp_path / "ragged")
