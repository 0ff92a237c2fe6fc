"""Prometheus metrics of a server (prometheus_client), in a registry of its own
so that two servers in one process do not mix their counts:

- matx_requests_total{model, outcome}: outcome is success, bad_request,
  overloaded (429), timeout (504), error (500) or not_found (404);
- matx_request_seconds{model}: from the request's arrival to its response;
- matx_queue_seconds{model}: from joining the queue to leaving it in a batch;
- matx_batch_size{model}: rows per batch run (dynamic batching merges requests);
- matx_inflight_requests{model}: requests received and not yet answered.
"""
from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 (the app's content type)

_LATENCY = (.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30)
_BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """multiprocess_dir: with several server processes (--workers), each writes
    its values there and /metrics adds them up (prometheus_client's
    multiprocess mode; PROMETHEUS_MULTIPROC_DIR must name the same folder
    before prometheus_client is imported)."""

    def __init__(self, multiprocess_dir=None):
        self.multiprocess_dir = multiprocess_dir
        self.registry = r = CollectorRegistry() if multiprocess_dir is None else None
        self.requests = Counter("matx_requests", "Inference requests by model and outcome", ["model", "outcome"],
                                registry=r)
        self.latency = Histogram("matx_request_seconds", "Inference request latency (arrival to response)",
                                 ["model"], buckets=_LATENCY, registry=r)
        self.queue = Histogram("matx_queue_seconds", "Time a request waited in the queue", ["model"],
                               buckets=_LATENCY, registry=r)
        self.batch_size = Histogram("matx_batch_size", "Rows per batch the pipeline ran", ["model"],
                                    buckets=_BATCH, registry=r)
        self._done, self._inflight = {}, {}
        self.inflight = Gauge("matx_inflight_requests", "Requests received and not yet answered", ["model"],
                              registry=r, multiprocess_mode="livesum")

    def batch(self, model: str, batch) -> None:
        now = time.perf_counter()
        q = self.queue.labels(model)
        for req in batch:
            q.observe(now - req.enqueued)
        self.batch_size.labels(model).observe(sum(max(1, req.n) for req in batch))

    def inflight_of(self, model: str):
        g = self._inflight.get(model)
        if g is None:
            g = self._inflight[model] = self.inflight.labels(model)
        return g

    def done(self, model: str, outcome: str, started: float) -> None:
        key = (model, outcome)
        pair = self._done.get(key)
        if pair is None:  # labels() is a lookup with locks: once per model and outcome
            pair = self._done[key] = (self.requests.labels(model, outcome).inc, self.latency.labels(model).observe)
        pair[0]()
        pair[1](time.perf_counter() - started)

    def text(self) -> bytes:
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        return generate_latest(registry)
