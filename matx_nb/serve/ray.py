"""Serving a saved pipeline folder on Ray Serve, for users who scale out on a
Ray cluster: the same KServe v2 routes as `matx-serve`, answered by
`num_replicas` replicas, each holding one loaded instance of the folder.

    from ray import serve
    import matx_nb.serve.ray
    serve.run(matx_nb.serve.ray.deployment("out/text", name="text", num_replicas=4), route_prefix="/")

Routes (below the application's route_prefix): GET /v2, /v2/health/live,
/v2/health/ready, /v2/models/{name}[/versions/1], .../ready, .../config,
.../stats and POST .../infer (JSON or binary tensor bodies). Errors are
{"error": message}: 400 for a malformed request, 404 for an unknown route or
model, 500 for the pipeline's own error.

Batching is Ray Serve's `@serve.batch`: concurrent requests to one replica
merge along dimension 0 (up to max_batch_size rows) into one pipeline run,
when the folder's spec says the pipeline is batchable (`batch_dim0`). Each
replica loads the folder from `directory`, so on a cluster of several
machines the folder must be at that path on each (a shared file system).
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

try:
    from ray import serve
    from starlette.requests import Request
    from starlette.responses import Response
except ImportError as e:  # pragma: no cover
    raise ImportError(f"matx_nb.serve.ray needs Ray Serve ({e}): pip install 'matx_nb[ray]'") from None

from .. import __version__
from ..pipeline.tensors import rows
from .model import Request as _Queued
from .model import ServedModel
from .protocol import HEADER_LENGTH, RequestError, decompress, dumps, infer_response, parse_infer

log = logging.getLogger("matx_nb.serve")

_MODEL_PATH = re.compile(r"/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?(?P<what>/[a-z]+)?")


def _json(obj, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json")


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _batch_rows(items: List[Tuple[Dict[str, Any], int]]) -> int:
    return sum(n for _, n in items)


class KServeReplica:
    """One Ray Serve replica: a loaded folder behind KServe v2's routes."""

    def __init__(self, directory: str, name: str, max_batch_size: int, batch_wait_timeout_s: float,
                 device: int, trusted_keys=None):
        self.model = ServedModel(name, directory, device=device, max_batch_size=1, trusted_keys=trusted_keys)
        self.name = name
        self.max_batch_size = max(1, max_batch_size) if self.model.batch_dim0 else 1
        self.batch_wait_timeout_s = batch_wait_timeout_s
        self.datatypes = {o["name"]: o["datatype"] for o in self.model.outputs}
        self._pipe = self.model.pipes[0]
        self._lock = asyncio.Lock()  # one pipeline run at a time on the replica's one instance
        self.stats = {"inference_count": 0, "execution_count": 0, "largest_batch": 0, "batches": {}}
        self._infer_batch.set_max_batch_size(self.max_batch_size)
        self._infer_batch.set_batch_wait_timeout_s(batch_wait_timeout_s)
        if self.model.example is not None:
            t0 = time.perf_counter()
            self.model.run_now(dict(self.model.example))
            if self.max_batch_size > 1:
                self._pipe.run(self.model._merge([self.model.example] * self.max_batch_size))
            log.info("%s: warmed up in %.0f ms", name, (time.perf_counter() - t0) * 1e3)

    # ---- the pipeline
    async def _run(self, items: List[Tuple[Dict[str, Any], int]]) -> List[Dict[str, Any]]:
        """One pipeline run over the requests' merged feeds, in a thread (the
        replica's event loop keeps taking requests); outputs split by rows."""
        queued = [_Queued(feeds, n, None, None) for feeds, n in items]
        async with self._lock:
            outs = await asyncio.to_thread(self.model._run, self._pipe, queued)
        rows_in = _batch_rows(items)
        self.stats["inference_count"] += rows_in
        self.stats["execution_count"] += 1
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(items))
        self.stats["batches"][rows_in] = self.stats["batches"].get(rows_in, 0) + 1
        return outs

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.002, batch_size_fn=_batch_rows)
    async def _infer_batch(self, items: List[Tuple[Dict[str, Any], int]]) -> List[Dict[str, Any]]:
        return await self._run(items)

    async def infer(self, feeds: Dict[str, Any], n: int) -> Dict[str, Any]:
        if self.max_batch_size > 1 and n <= self.max_batch_size:
            return await self._infer_batch((feeds, n))
        return (await self._run([(feeds, n)]))[0]

    def _feeds(self, tensors_in: Dict[str, Any]) -> Tuple[Dict[str, Any], int]:
        feeds, n = self.model.feeds(tensors_in)
        if self.max_batch_size > 1:  # merged requests must agree on their rows
            counts = {i["name"]: rows(feeds[i["name"]]) for i in self.model.inputs if i["kind"] != "scalar"}
            if len(set(counts.values())) > 1:
                detail = ", ".join(f"'{k}' {v}" for k, v in counts.items())
                raise RequestError(f"the inputs of one request share their batch size (dimension 0); got rows "
                                   f"{detail}")
        return feeds, n

    # ---- routes
    async def __call__(self, request: Request) -> Response:
        path = request.scope.get("path", request.url.path)
        root = request.scope.get("root_path", "")
        if root and root != "/" and path.startswith(root):
            path = path[len(root):] or "/"
        path = path.rstrip("/") or "/"
        method = request.method
        if path in ("/v2", "/v2/health/live", "/v2/health/ready"):
            if method not in ("GET", "HEAD"):
                return _error(f"{path} takes GET, not {method}", 405)
            if path == "/v2":
                return _json({"name": "matx_nb", "version": __version__, "extensions":
                              ["binary_tensor_data", "model_configuration", "statistics"]})
            return Response(status_code=200)
        m = _MODEL_PATH.fullmatch(path)
        if m is None:
            return _error(f"no route {method} {path}", 404)
        if m["name"] != self.name:
            return _error(f"unknown model '{m['name']}'; this server serves {self.name}", 404)
        if m["version"] not in (None, "1"):
            return _error(f"model '{self.name}' has only version 1, not {m['version']!r}", 404)
        what = m["what"] or ""
        if what == "/infer":
            if method != "POST":
                return _error(f"{path} takes POST, not {method}", 405)
            return await self._http_infer(request)
        if method not in ("GET", "HEAD"):
            return _error(f"{path} takes GET, not {method}", 405)
        if what == "":
            return _json(self.model.metadata())
        if what == "/ready":
            return Response(status_code=200)
        if what == "/config":
            return _json(self.config())
        if what == "/stats":
            return _json(self.statistics())
        return _error(f"no route {method} {path}", 404)

    async def _http_infer(self, request: Request) -> Response:
        try:
            body = decompress(await request.body(), request.headers.get("content-encoding"))
            req = parse_infer(body, request.headers.get(HEADER_LENGTH))
            feeds, n = self._feeds(req.tensors)
            outs = await self.infer(feeds, n)
            payload, head = infer_response(self.name, req, outs, self.datatypes)
        except RequestError as e:
            return _error(str(e), 400)
        except Exception as e:  # the pipeline's error: reported, and the replica goes on
            log.warning("%s: %s: %s", self.name, type(e).__name__, e)
            return _error(f"{type(e).__name__}: {e}", 500)
        if head is None:
            return Response(payload, media_type="application/json")
        return Response(payload, media_type="application/octet-stream",
                        headers={"Inference-Header-Content-Length": str(head)})

    def config(self) -> dict:
        config = self.model.config()
        config["max_batch_size"] = self.max_batch_size if self.model.batch_dim0 else 0
        config["dynamic_batching"] = ({"max_queue_delay_microseconds": int(self.batch_wait_timeout_s * 1e6)}
                                      if self.max_batch_size > 1 else None)
        return config

    def statistics(self) -> dict:
        """Triton's statistics shape, for this replica (a request reaches one
        replica of several): rows inferred, pipeline runs, runs by rows."""
        s = self.stats
        return {"model_stats": [{
            "name": self.name, "version": "1", "inference_count": s["inference_count"],
            "execution_count": s["execution_count"], "largest_batch_requests": s["largest_batch"],
            "batch_stats": [{"batch_size": k, "compute_infer": {"count": v}} for k, v in sorted(s["batches"].items())],
        }]}


def deployment(directory, *, name: Optional[str] = None, num_replicas: int = 1, max_batch_size: int = 8,
               batch_wait_timeout_s: float = 0.002, device: int = -1, ray_actor_options: Optional[dict] = None,
               trusted_keys=None, **kw):
    """The folder as a bound Ray Serve application, for `serve.run(app,
    route_prefix=...)`. name: the model's name in the routes (default the
    folder's name; also the deployment's). max_batch_size: rows merged into
    one run (1: off); batch_wait_timeout_s: how long the first request waits
    for more. device: -1 the CPU, N cuda:N as the replica sees it (Ray
    shows an actor with num_gpus=1 its GPU as 0); with device >= 0 the
    replica asks for one GPU unless ray_actor_options says otherwise. kw:
    further `Deployment.options` (max_ongoing_requests, autoscaling_config...)."""
    directory = Path(directory).resolve()
    if not (directory / "model.spec.json").is_file():
        raise FileNotFoundError(f"{directory} is not a saved pipeline folder (no model.spec.json)")
    name = name or directory.name
    options = dict(ray_actor_options or {})
    if device >= 0:
        options.setdefault("num_gpus", 1)
    # enough requests in flight per replica for @serve.batch to fill a batch
    kw.setdefault("max_ongoing_requests", max(8, 2 * max_batch_size))
    if options:
        kw["ray_actor_options"] = options
    app = serve.deployment(KServeReplica).options(name=name, num_replicas=num_replicas, **kw)
    return app.bind(os.fspath(directory), name, max_batch_size, batch_wait_timeout_s, device, trusted_keys)


__all__ = ["deployment", "KServeReplica"]
