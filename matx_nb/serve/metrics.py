"""Prometheus metrics of a server (prometheus_client), in a registry of its own
so that two servers in one process do not mix their counts:

- matx_requests_total{model, outcome}: outcome is success, bad_request,
  overloaded (429), timeout (504), error (500) or not_found (404);
- matx_request_seconds{model}: from the request's arrival to its response;
- matx_queue_seconds{model}: from joining the queue to leaving it in a batch;
- matx_batch_size{model}: rows per batch run (dynamic batching merges requests);
- matx_inflight_requests{model}: requests received and not yet answered.

One server process keeps its values in plain numbers on its event loop's
thread (every update happens there) and hands them to prometheus_client when
/metrics is read. The native front (front.py) counts in C++; absorb() adds its
counts since the last call: prometheus_client's own metrics take a lock per update, a
tenth of a small request's cost on the loop. With several processes
(--workers) it uses prometheus_client's multiprocess mode.
"""
from __future__ import annotations

import time
from typing import Optional

from bisect import bisect_left

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 (the app's content type)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = _LATENCY = (.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30)
BATCH_BUCKETS = _BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_DOCS = {"matx_requests": "Inference requests by model and outcome",
         "matx_request_seconds": "Inference request latency (arrival to response)",
         "matx_queue_seconds": "Time a request waited in the queue",
         "matx_batch_size": "Rows per batch the pipeline ran",
         "matx_inflight_requests": "Requests received and not yet answered"}


class _Hist:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds):
        self.bounds, self.counts, self.sum = bounds, [0] * (len(bounds) + 1), 0.0

    def observe(self, v: float) -> None:
        self.counts[bisect_left(self.bounds, v)] += 1  # the first bucket with v <= le
        self.sum += v

    def cumulative(self):
        out, acc = [], 0
        for b, c in zip(self.bounds, self.counts):
            acc += c
            out.append((floatToGoString(b), acc))
        out.append(("+Inf", acc + self.counts[-1]))
        return out


class _Count:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0

    def inc(self) -> None:
        self.value += 1

    def dec(self) -> None:
        self.value -= 1


class _Local:
    """One process's values, as a prometheus_client collector."""

    def __init__(self):
        self.requests, self.latency, self.queue, self.batch, self.inflight = {}, {}, {}, {}, {}

    def hist(self, table, model, bounds) -> _Hist:
        h = table.get(model)
        if h is None:
            h = table[model] = _Hist(bounds)
        return h

    def collect(self):
        c = CounterMetricFamily("matx_requests", _DOCS["matx_requests"], labels=["model", "outcome"])
        for (model, outcome), n in self.requests.items():
            c.add_metric([model, outcome], n.value)
        yield c
        for name, table in (("matx_request_seconds", self.latency), ("matx_queue_seconds", self.queue),
                            ("matx_batch_size", self.batch)):
            h = HistogramMetricFamily(name, _DOCS[name], labels=["model"])
            for model, hist in table.items():
                h.add_metric([model], hist.cumulative(), hist.sum)
            yield h
        g = GaugeMetricFamily("matx_inflight_requests", _DOCS["matx_inflight_requests"], labels=["model"])
        for model, n in self.inflight.items():
            g.add_metric([model], n.value)
        yield g


class Metrics:
    """multiprocess_dir: with several server processes (--workers), each writes
    its values there and /metrics adds them up (prometheus_client's
    multiprocess mode; PROMETHEUS_MULTIPROC_DIR must name the same folder
    before prometheus_client is imported)."""

    def __init__(self, multiprocess_dir=None):
        self.multiprocess_dir = multiprocess_dir
        self._done, self._inflight = {}, {}
        if multiprocess_dir is None:
            self.registry = CollectorRegistry()
            self._local = _Local()
            self.registry.register(self._local)
            return
        self._local = None
        self.requests = Counter("matx_requests", _DOCS["matx_requests"], ["model", "outcome"], registry=None)
        self.latency = Histogram("matx_request_seconds", _DOCS["matx_request_seconds"], ["model"],
                                 buckets=_LATENCY, registry=None)
        self.queue = Histogram("matx_queue_seconds", _DOCS["matx_queue_seconds"], ["model"], buckets=_LATENCY,
                               registry=None)
        self.batch_size = Histogram("matx_batch_size", _DOCS["matx_batch_size"], ["model"], buckets=_BATCH,
                                    registry=None)
        self.inflight = Gauge("matx_inflight_requests", _DOCS["matx_inflight_requests"], ["model"], registry=None,
                              multiprocess_mode="livesum")

    def batch(self, model: str, batch) -> None:
        now = time.perf_counter()
        if self._local is not None:
            q = self._local.hist(self._local.queue, model, _LATENCY)
            b = self._local.hist(self._local.batch, model, _BATCH)
        else:
            q, b = self.queue.labels(model), self.batch_size.labels(model)
        for req in batch:
            q.observe(now - req.enqueued)
        b.observe(sum(max(1, req.n) for req in batch))

    def inflight_of(self, model: str):
        """The in-flight count of a model: .inc() and .dec()."""
        g = self._inflight.get(model)
        if g is None:
            if self._local is not None:
                g = self._local.inflight.setdefault(model, _Count())
            else:
                g = self.inflight.labels(model)
            self._inflight[model] = g
        return g

    def done(self, model: str, outcome: str, started: float) -> None:
        key = (model, outcome)
        pair = self._done.get(key)
        if pair is None:  # looked up once per model and outcome
            if self._local is not None:
                count = self._local.requests.setdefault(key, _Count())
                pair = (count.inc, self._local.hist(self._local.latency, model, _LATENCY).observe)
            else:
                pair = (self.requests.labels(model, outcome).inc, self.latency.labels(model).observe)
            self._done[key] = pair
        pair[0]()
        pair[1](time.perf_counter() - started)

    def absorb(self, model: str, now: dict, prev: Optional[dict]) -> None:
        """Adds a native front's counts for a model (serve_front_py.h's stats():
        outcomes, latency/queue/batch histograms as (counts, sum), inflight),
        less those it had at `prev`, its previous stats."""
        prev = prev or {"outcomes": {}, "inflight": 0}
        for outcome, n in now["outcomes"].items():
            d = n - prev["outcomes"].get(outcome, 0)
            if d:
                if self._local is not None:
                    self._local.requests.setdefault((model, outcome), _Count()).value += d
                else:
                    self.requests.labels(model, outcome).inc(d)
        for key, table, bounds, metric in (("latency", "latency", _LATENCY, "latency"),
                                           ("queue", "queue", _LATENCY, "queue"),
                                           ("batch", "batch", _BATCH, "batch_size")):
            counts, total = now[key]
            before, before_total = prev.get(key, ([0] * len(counts), 0.0))
            deltas = [c - b for c, b in zip(counts, before)]
            if not any(deltas):
                continue
            if self._local is not None:
                h = self._local.hist(getattr(self._local, table), model, bounds)
                h.counts = [c + d for c, d in zip(h.counts, deltas)]
                h.sum += total - before_total
            else:  # prometheus_client's histogram keeps one value per bucket and the sum
                child = getattr(self, metric).labels(model)
                for bucket, d in zip(child._buckets, deltas):
                    if d:
                        bucket.inc(d)
                child._sum.inc(total - before_total)
        d = now["inflight"] - prev["inflight"]
        g = self.inflight_of(model)  # listed from the first request on, as the Python server's
        if d:
            if self._local is not None:
                g.value += d
            else:
                g.inc(d)

    def text(self) -> bytes:
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        return generate_latest(registry)
