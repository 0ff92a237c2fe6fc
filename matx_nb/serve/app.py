"""The server's ASGI application (Starlette): KServe v2's routes over the
served models, and Prometheus' /metrics.

    GET  /v2                                   server metadata
    GET  /v2/health/live, /v2/health/ready     200, or 503 before warm-up and while draining
    GET  /v2/models/{name}[/versions/1]        model metadata (inputs, outputs)
    GET  /v2/models/{name}[/versions/1]/ready
    GET  /v2/models/{name}[/versions/1]/config Triton's model configuration
    POST /v2/models/{name}[/versions/1]/infer  inference (JSON or binary tensors)
    POST /v2/repository/index                  the models and their state
    GET  /metrics                              Prometheus text format

Errors are `{"error": message}`: 400 for a malformed request (naming what is
wrong), 404 for an unknown model, 429 when the model's queue is full, 504 when
the request's time ran out, 500 for the pipeline's own error (the server keeps
serving).
"""
from __future__ import annotations

import contextlib
import logging
import time
from typing import Dict, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .model import Overloaded, RequestError, ServedModel, TimedOut
from .protocol import MAX_BODY, decompress, dumps, infer_headers, infer_response, infer_route, parse_infer

log = logging.getLogger("matx_nb.serve")

EXTENSIONS = ["binary_tensor_data", "model_configuration", "model_repository"]


def _json(obj, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json")


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


class Server:
    """The served models and their shared state (readiness, draining, metrics)."""

    def __init__(self, models: Iterable[ServedModel], metrics: Metrics):
        self.models: Dict[str, ServedModel] = {}
        for m in models:
            if m.name in self.models:
                raise ValueError(f"two models are named {m.name!r}; give each folder its own name")
            self.models[m.name] = m
        self.metrics = metrics
        self.metrics_sources = []  # callables that add their counts to metrics (front.NativeFront.sync)
        self.draining = False
        self.datatypes = {m.name: {o["name"]: o["datatype"] for o in m.outputs} for m in self.models.values()}

    def ready(self) -> bool:
        return not self.draining and all(m.ready for m in self.models.values())

    # ---- routes
    @staticmethod
    def _server_metadata() -> dict:
        return {"name": "matx_nb", "version": __version__, "extensions": EXTENSIONS}

    async def server_metadata(self, request: Request) -> Response:
        return _json(self._server_metadata())

    def fixed_routes(self):
        """The GET answers that do not change while the server serves, for the
        native front (front.py): (path, content type, body, readiness: 503
        while draining). The routes below give the same."""
        out = [("/v2", "application/json", dumps(self._server_metadata()), False),
               ("/v2/health/live", "", b"", False), ("/v2/health/ready", "", b"", True)]
        for name, m in self.models.items():
            for base in (f"/v2/models/{name}", f"/v2/models/{name}/versions/1"):
                out += [(base, "application/json", dumps(m.metadata()), False), (base + "/ready", "", b"", True)]
        return out

    async def live(self, request: Request) -> Response:
        return Response(status_code=200)

    async def health_ready(self, request: Request) -> Response:
        return Response(status_code=200 if self.ready() else 503)

    def _model(self, request: Request):
        name = request.path_params["name"]
        version = request.path_params.get("version")
        m = self.models.get(name)
        if m is None:
            return None, _error(f"unknown model '{name}'; this server serves {', '.join(self.models)}", 404)
        if version not in (None, "", "1"):
            return None, _error(f"model '{name}' has only version 1, not {version!r}", 404)
        return m, None

    async def model_metadata(self, request: Request) -> Response:
        m, err = self._model(request)
        return err or _json(m.metadata())

    async def model_ready(self, request: Request) -> Response:
        m, err = self._model(request)
        return err or Response(status_code=200 if m.ready and not self.draining else 503)

    async def model_config(self, request: Request) -> Response:
        m, err = self._model(request)
        return err or _json(m.config())

    async def repository_index(self, request: Request) -> Response:
        return _json([{"name": n, "version": "1", "state": "READY" if m.ready else "UNAVAILABLE"}
                      for n, m in self.models.items()])

    async def metrics_text(self, request: Request) -> Response:
        for sync in self.metrics_sources:
            sync()
        return Response(self.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    async def infer(self, name: str, version, body: bytes, encoding, header_length):
        """One inference request: (status, body, content type, JSON header length or None)."""
        started = time.perf_counter()
        m = self.models.get(name)
        if m is None or version not in (None, "", "1"):
            self.metrics.done("(unknown)" if m is None else name, "not_found", started)
            what = (f"unknown model '{name}'; this server serves {', '.join(self.models)}" if m is None
                    else f"model '{name}' has only version 1, not {version!r}")
            return 404, dumps({"error": what}), _JSON, None
        inflight = self.metrics.inflight_of(m.name)
        inflight.inc()
        outcome, status = "error", 500
        try:
            req = parse_infer(decompress(body, encoding), header_length)
            feeds, n = m.feeds(req.tensors)
            outs = await m.infer(feeds, n, req.timeout())
            payload, head = infer_response(m.name, req, outs, self.datatypes[m.name])
            outcome = "success"
            return 200, payload, (_JSON if head is None else _BINARY), head
        except RequestError as e:
            outcome, status, message = "bad_request", 400, str(e)
        except Overloaded as e:
            outcome, status, message = "overloaded", 429, str(e)
        except TimedOut as e:
            outcome, status, message = "timeout", 504, str(e)
        except Exception as e:  # the pipeline's error: reported, and the server goes on
            log.warning("%s: %s: %s", m.name, type(e).__name__, e)
            message = f"{type(e).__name__}: {e}"
        finally:
            inflight.dec()
            self.metrics.done(m.name, outcome, started)
        return status, dumps({"error": message}), _JSON, None

    @staticmethod
    def too_large():
        return 413, dumps({"error": f"the request body is over {MAX_BODY >> 20} MiB"}), _JSON, None

    async def infer_asgi(self, name: str, version, scope, receive, send) -> None:
        """The hot path, straight from ASGI: no Request object, middleware or routing table."""
        encoding, header_length = infer_headers(scope["headers"])
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                status, payload, ctype, head = self.too_large()
                break
            chunks.append(chunk)
            if not msg.get("more_body", False):
                status, payload, ctype, head = await self.infer(name, version, b"".join(chunks), encoding,
                                                                header_length)
                break
        headers = [(b"content-type", ctype), (b"content-length", str(len(payload)).encode())]
        if head is not None:
            headers.append((b"inference-header-content-length", str(head).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


_JSON, _BINARY = b"application/json", b"application/octet-stream"


class _App:
    """Inference requests go to Server.infer_asgi; everything else to Starlette."""

    def __init__(self, server: Server, app: Starlette):
        self.server, self.app, self.state = server, app, app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            route = infer_route(scope["path"])
            if route is not None:
                await self.server.infer_asgi(*route, scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(server: Server) -> "_App":
    """The ASGI app; its lifespan warms the models up and stops them."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        for m in server.models.values():
            await m.start()
        log.info("ready: %s", ", ".join(server.models))
        yield
        server.draining = True
        for m in server.models.values():
            await m.stop()

    s = server
    routes = [Route("/v2", s.server_metadata), Route("/v2/health/live", s.live),
              Route("/v2/health/ready", s.health_ready), Route("/metrics", s.metrics_text),
              Route("/v2/repository/index", s.repository_index, methods=["POST", "GET"])]
    for base in ("/v2/models/{name}", "/v2/models/{name}/versions/{version}"):
        routes += [Route(base, s.model_metadata), Route(base + "/ready", s.model_ready),
                   Route(base + "/config", s.model_config)]
    async def http_error(request, exc):  # unknown routes and methods: errors in the protocol's form
        return _error(exc.detail if isinstance(exc.detail, str) else "error", exc.status_code)

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.server = server
    return _App(server, app)
