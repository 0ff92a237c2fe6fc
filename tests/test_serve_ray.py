"""The Ray scale-out on a local two-CPU cluster: matx_nb.serve.ray (Ray Serve,
KServe v2 routes, driven by NVIDIA's tritonclient: health, metadata, inference
equal to the pipeline run in process, @serve.batch merging concurrent
requests, 400 and 500 answers, a route prefix) and matx_nb.ray.BatchPipeline
(Ray Data map_batches equal to the pipeline run in process, a missing
column's error)."""
import json
import socket
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.serve")
pytest.importorskip("ray.data")
httpclient = pytest.importorskip("tritonclient.http")
from ray import serve  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402

import matx_nb  # noqa: E402

# Ray Data's own DataContext warns about its deprecated settings
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")

ROOT = Path(__file__).resolve().parent.parent
POOL = ray.data.ActorPoolStrategy(size=1)
TEXTS = ["hello, world! the quick brown fox", "Café crème brûlée; naïve résumé", "tokenizers split words",
         "中文分词测试，你好世界。", "the lazy dog", "word pieces: token ##izer ##s", "x", ""]


def lengths(xs: List[str]) -> List[int]:
    out: List[int] = []
    for x in xs:
        if x == "boom":
            raise ValueError("lengths: boom")
        out.append(len(x))
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_ray")
    sys.path.insert(0, str(ROOT / "examples" / "multimodal"))
    sys.path.insert(0, str(ROOT / "examples" / "text_pipeline"))
    from pipelines import TextPipeline
    import pipeline as example
    (root / "work").mkdir()
    tp = TextPipeline(str(example.write_vocab(root / "work" / "vocab.txt")), 16)
    matx_nb.trace(tp.process, [t.encode() for t in TEXTS[:4]]).save(
        root / "text", output_names=["input_ids", "segment_ids", "mask"])
    matx_nb.trace(matx_nb.script(lengths), ["a", "bb", "ccc"]).save(root / "lengths", output_names=["n"])
    return {"text": root / "text", "lengths": root / "lengths"}


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 1024 ** 2, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(cluster, folders):
    """text at /, lengths at /lengths: one replica each, half a CPU each."""
    import matx_nb.serve.ray as serve_ray
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    half = {"num_cpus": 0.5}
    serve.run(serve_ray.deployment(folders["text"], name="text", batch_wait_timeout_s=0.05, ray_actor_options=half),
              name="text", route_prefix="/")
    serve.run(serve_ray.deployment(folders["lengths"], ray_actor_options=half), name="lengths",
              route_prefix="/lengths")
    yield f"127.0.0.1:{port}"
    serve.shutdown()


def text_input(items, binary=True):
    t = httpclient.InferInput("text", [len(items)], "BYTES")
    t.set_data_from_numpy(np.array([s.encode() for s in items], dtype=object), binary_data=binary)
    return t


def expected(folders, items):
    ids, seg, mask = matx_nb.load(folders["text"]).run({"text": [s.encode() for s in items]})
    return {"input_ids": ids.numpy(), "segment_ids": seg.numpy(), "mask": mask.numpy()}


def post(url, body: bytes):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_serve_health_metadata_and_inference(served, folders):
    c = httpclient.InferenceServerClient(served)
    assert c.is_server_live() and c.is_server_ready() and c.is_model_ready("text")
    meta = c.get_model_metadata("text")
    assert [i["name"] for i in meta["inputs"]] == ["text"]
    assert [(o["name"], o["datatype"], o["shape"]) for o in meta["outputs"]] == [
        ("input_ids", "INT64", [-1, 16]), ("segment_ids", "INT64", [-1, 16]), ("mask", "INT64", [-1, 16])]
    assert c.get_model_config("text")["max_batch_size"] == 8
    want = expected(folders, TEXTS)
    for binary in (True, False):
        outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in want]
        r = c.infer("text", [text_input(TEXTS, binary)], outputs=outputs)
        for name, a in want.items():
            np.testing.assert_array_equal(r.as_numpy(name), a)
    c.close()


def test_serve_concurrent_requests_merge_into_batches(served, folders):
    want = expected(folders, TEXTS * 2)
    ready = threading.Barrier(16)

    def one(i):
        c = httpclient.InferenceServerClient(served)
        try:
            ready.wait(30)
            return c.infer("text", [text_input([(TEXTS * 2)[i]])]).as_numpy("input_ids")
        finally:
            c.close()

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(16)))
    for i, ids in enumerate(results):
        np.testing.assert_array_equal(ids, want["input_ids"][i:i + 1])
    stats = httpclient.InferenceServerClient(served).get_inference_statistics("text")["model_stats"][0]
    assert stats["inference_count"] > stats["execution_count"]  # some run held several requests
    assert max(b["batch_size"] for b in stats["batch_stats"]) > 1


def test_serve_malformed_request_is_400(served):
    c = httpclient.InferenceServerClient(served)
    wrong = httpclient.InferInput("words", [1], "BYTES")
    wrong.set_data_from_numpy(np.array([b"hi"], dtype=object))
    with pytest.raises(InferenceServerException) as ei:
        c.infer("text", [wrong])
    assert ei.value.status() == "400" and "input 'text' is missing" in ei.value.message()
    c.close()
    status, doc = post(f"http://{served}/v2/models/text/infer", b"{not json")
    assert status == 400 and "not JSON" in doc["error"]
    status, doc = post(f"http://{served}/v2/models/nope/infer", b"{}")
    assert status == 404 and "unknown model 'nope'" in doc["error"]


def test_serve_route_prefix_and_pipeline_error_is_500(served):
    url = f"http://{served}/lengths/v2/models/lengths/infer"
    body = {"inputs": [{"name": "xs", "shape": [3], "datatype": "BYTES", "data": ["a", "héllo", ""]}]}
    status, doc = post(url, json.dumps(body).encode())
    assert status == 200 and doc["outputs"][0]["name"] == "n" and doc["outputs"][0]["data"] == [1, 5, 0]
    many = ["x" * k for k in range(11)]  # more rows than max_batch_size: runs alone
    body = {"inputs": [{"name": "xs", "shape": [11], "datatype": "BYTES", "data": many}]}
    status, doc = post(url, json.dumps(body).encode())
    assert status == 200 and doc["outputs"][0]["data"] == list(range(11))
    body["inputs"][0]["shape"], body["inputs"][0]["data"] = [3], ["a", "boom", "c"]
    status, doc = post(url, json.dumps(body).encode())
    assert status == 500 and "lengths: boom" in doc["error"]
    with urllib.request.urlopen(f"http://{served}/lengths/v2/models/lengths/ready", timeout=30) as r:
        assert r.status == 200


def test_data_batch_pipeline_equals_in_process(cluster, folders):
    import matx_nb.ray
    ds = ray.data.from_items([{"text": t, "row": i} for i, t in enumerate(TEXTS * 2)])
    out = ds.map_batches(matx_nb.ray.BatchPipeline, fn_constructor_args=(str(folders["text"]),), compute=POOL,
                         batch_size=4).take_all()
    want = expected(folders, TEXTS * 2)
    assert len(out) == 16 and all(set(r) == {"row", "input_ids", "segment_ids", "mask"} for r in out)
    for r in out:
        for name, a in want.items():
            np.testing.assert_array_equal(np.asarray(r[name]), a[r["row"]])


def test_data_missing_column_names_it(cluster, folders):
    import matx_nb.ray
    ds = ray.data.from_items([{"txt": t} for t in TEXTS[:2]])
    with pytest.raises(Exception) as ei:
        ds.map_batches(matx_nb.ray.BatchPipeline, fn_constructor_args=(str(folders["text"]),), compute=POOL,
                       batch_size=4).take_all()
    assert "no column 'text'" in str(ei.value) and "takes columns text" in str(ei.value)
