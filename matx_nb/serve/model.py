"""One served pipeline: K loaded instances of a saved folder, the tensors its
inputs and outputs are (the spec's `serving` section), and the dynamic
batcher that merges queued requests along dimension 0 and runs them on a free
instance.

The batcher lives on the server's event loop; the pipeline runs in a thread
per instance (the C++ Session releases the GIL while it runs), so K instances
run K batches at once.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from ..pipeline import tensors
from ..pipeline.export import LoadedPipeline, _FolderCheck

log = logging.getLogger("matx_nb.serve")


# A batch expected to run in less than this runs on the event loop's thread:
# handing it to an instance's thread (and the GIL back) costs more than it does.
# With a native runner (_Runner), only while no other request waits: then the
# loop has nothing to do meanwhile, and the handoff's wake-up is pure latency.
# Below NATIVE_HANDOFF a run costs less than handing it over, waiting or not.
INLINE_BELOW = 0.001
NATIVE_HANDOFF = 0.0001


class RequestError(ValueError):
    """A malformed request: answered 400 with this message."""


class Overloaded(RuntimeError):
    """The queue is full: answered 429."""


class TimedOut(RuntimeError):
    """The request's time ran out: answered 504."""


class Request:
    """A queued request. key: its one-value inputs; only requests with equal keys
    merge (their batch inputs are concatenated, the others must agree)."""
    __slots__ = ("feeds", "n", "future", "enqueued", "deadline", "started", "key")

    def __init__(self, feeds: Dict[str, Any], n: int, future: asyncio.Future, deadline: Optional[float],
                 key=()):
        self.feeds, self.n, self.future, self.deadline, self.key = feeds, n, future, deadline, key
        self.enqueued = time.perf_counter()
        self.started = None


_ANNOTATIONS = {"bytes": ("BYTES", "bytes"), "str": ("BYTES", "str"), "int": ("INT64", "int"),
                "float": ("FP64", "float"), "bool": ("BOOL", "bool")}


def _fallback_inputs(spec: dict) -> List[dict]:
    """A folder saved without a `serving` section: inputs typed from the
    annotations in the spec's signature (`process(texts: List[str])`), lists of
    bytes where there are none."""
    import re
    sig = spec.get("signature") or ""
    out = []
    for name in spec["inputs"]:
        m = re.search(r"[(,]\s*" + re.escape(name) + r"\s*:\s*([\w.\[\], ]+?)\s*(?:=[^,)]*)?[,)]", sig)
        ann = m.group(1).replace("typing.", "") if m else "List[bytes]"
        inner = re.fullmatch(r"List\[(\w+)\]", ann) or re.fullmatch(r"list\[(\w+)\]", ann)
        datatype, item = _ANNOTATIONS.get(inner.group(1) if inner else ann, ("BYTES", "bytes"))
        out.append({"name": name, "datatype": datatype, "shape": [-1] if inner or not m else [1],
                    "kind": "list" if inner or not m else "scalar", "item": item})
    return out


class ServedModel:
    """A saved pipeline behind a queue. options: max_batch_size (1: no merging),
    max_queue_delay_us, max_queue (requests waiting; more answer 429),
    timeout_ms (0: none; a request may ask for less with `timeout`)."""

    def __init__(self, name: str, directory, *, instances: int = 1, device: int = -1, max_batch_size: int = 8,
                 max_queue_delay_us: int = 2000, max_queue: int = 256, timeout_ms: int = 0, metrics=None,
                 trusted_keys=None):
        if instances < 1:
            raise ValueError(f"instances must be at least 1, got {instances}")
        self.name, self.directory, self.device = name, Path(directory), device
        self.pipes = [LoadedPipeline(self.directory, device, trusted_keys=trusted_keys) for _ in range(instances)]
        spec = self.spec = self.pipes[0].spec
        serving = spec.get("serving") or {}
        if serving.get("problems"):
            raise ValueError(f"{name}: the pipeline cannot be served over KServe v2: "
                             f"{'; '.join(serving['problems'])}")
        self.inputs = serving.get("inputs") or _fallback_inputs(spec)
        self.outputs = serving.get("outputs") or [
            {"name": n, "datatype": "BYTES", "shape": [-1], "kind": "list", "item": "bytes", "key": k}
            for n, k in tensors.output_paths(spec["outputs"])]
        self.output_keys = {o["name"]: o.get("key") for o in self.outputs}
        self.batch_dim0 = bool(serving.get("batch_dim0"))
        if max_batch_size > 1 and not self.batch_dim0:
            log.warning("%s: dynamic batching is off: the spec does not say the pipeline is batchable along "
                        "dimension 0 (save(..., batch_dim0=True) declares it)", name)
        self.max_batch_size = max(1, max_batch_size) if self.batch_dim0 else 1
        self.max_queue_delay = max(0, max_queue_delay_us) / 1e6
        self.max_queue = max(1, max_queue)
        self.timeout = timeout_ms / 1e3 if timeout_ms and timeout_ms > 0 else None
        self.metrics = metrics
        self.example = None
        if serving.get("example"):
            path = _FolderCheck(self.directory, spec).file(serving["example"], "serving.example")
            self.example = tensors.from_json(json.loads(Path(path).read_text()))
        self.queue: collections.deque = collections.deque()
        self.pool = ThreadPoolExecutor(max_workers=instances, thread_name_prefix=f"matx-serve-{name}")
        self.ready = False
        self._row_seconds = None  # a run's time per row, averaged: runs expected to be short go inline
        self._arrived: Optional[asyncio.Event] = None
        self._collect_lock: Optional[asyncio.Lock] = None
        self._workers: List[asyncio.Task] = []
        self._runners: List[_Runner] = []
        self._batches: set = set()  # batches running on a runner's thread (_run_batch)

    # ---- metadata
    def metadata(self) -> dict:
        strip = ("name", "datatype", "shape")
        return {"name": self.name, "versions": ["1"], "platform": "matx_nb",
                "inputs": [{k: i[k] for k in strip} for i in self.inputs],
                "outputs": [{k: o[k] for k in strip} for o in self.outputs]}

    def config(self) -> dict:
        """Triton's model configuration, as far as it applies."""
        return {"name": self.name, "platform": "matx_nb", "backend": "matx_nb",
                "max_batch_size": self.max_batch_size if self.batch_dim0 else 0,
                "input": [{"name": i["name"], "data_type": "TYPE_" + ("STRING" if i["datatype"] == "BYTES"
                                                                       else i["datatype"]),
                           "dims": i["shape"]} for i in self.inputs],
                "output": [{"name": o["name"], "data_type": "TYPE_" + ("STRING" if o["datatype"] == "BYTES"
                                                                        else o["datatype"]),
                            "dims": o["shape"]} for o in self.outputs],
                "dynamic_batching": {"max_queue_delay_microseconds": int(self.max_queue_delay * 1e6)}
                if self.max_batch_size > 1 else None,
                "instance_group": [{"count": len(self.pipes), "kind": "KIND_CPU" if self.device < 0 else "KIND_GPU",
                                    **({"gpus": [self.device]} if self.device >= 0 else {})}]}

    # ---- life cycle
    async def start(self) -> None:
        """Warm-up (each instance runs the saved example, at batch 1 and at the
        largest batch), then the batcher's workers."""
        loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._collect_lock = asyncio.Lock()
        if self.example is not None:
            t0 = time.perf_counter()
            feeds = [self.example]
            if self.max_batch_size > 1:
                feeds.append(self._merge([self.example] * self.max_batch_size))
            for pipe in self.pipes:
                for f in feeds:
                    await loop.run_in_executor(self.pool, pipe.run, dict(f))
            log.info("%s: warmed up %d instance(s) in %.0f ms", self.name, len(self.pipes),
                     (time.perf_counter() - t0) * 1e3)
        self._runners = [_Runner(pipe, loop) for pipe in self.pipes]
        self._workers = [asyncio.create_task(self._worker(pipe, runner))
                         for pipe, runner in zip(self.pipes, self._runners)]
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for w in self._workers:
            w.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await asyncio.gather(*self._batches, return_exceptions=True)  # runs in flight finish
        for r in self._runners:
            r.close()
        self.pool.shutdown(wait=True)

    # ---- requests
    def feeds(self, tensors_in: Dict[str, Any]) -> (Dict[str, Any], int):
        """Decoded request tensors (numpy arrays, lists of bytes) to the
        pipeline's inputs, and the batch size (rows of dimension 0)."""
        missing = [i["name"] for i in self.inputs if i["name"] not in tensors_in]
        if missing:
            raise RequestError(f"input '{missing[0]}' is missing; model '{self.name}' takes "
                               f"{', '.join(i['name'] for i in self.inputs)}")
        unknown = [n for n in tensors_in if n not in {i["name"] for i in self.inputs}]
        if unknown:
            raise RequestError(f"unknown input '{unknown[0]}'; model '{self.name}' takes "
                               f"{', '.join(i['name'] for i in self.inputs)}")
        out, n = {}, None
        for i in self.inputs:
            v = _to_pipeline(i, _checked(i, tensors_in[i["name"]]))
            out[i["name"]] = v
            if i["kind"] != "scalar":
                rows = tensors.rows(v)
                if n is not None and rows != n and self.max_batch_size > 1:
                    raise RequestError(f"input '{i['name']}' has {rows} rows and another input {n}: "
                                       "the inputs of one request share their batch size (dimension 0)")
                n = rows if n is None else n
        return out, (1 if n is None else n)

    def key(self, feeds: Dict[str, Any]):
        """What must be equal for two requests to merge: their one-value inputs."""
        return tuple(repr(feeds[i["name"]]) for i in self.inputs if i["kind"] == "scalar")

    async def infer(self, feeds: Dict[str, Any], n: int, timeout: Optional[float] = None) -> Dict[str, np.ndarray]:
        """Queues one request; its outputs as numpy arrays by name."""
        if len(self.queue) >= self.max_queue:
            raise Overloaded(f"model '{self.name}' has {len(self.queue)} requests queued (--max-queue "
                             f"{self.max_queue}); retry later")
        limit = min(t for t in (timeout, self.timeout) if t) if (timeout or self.timeout) else None
        loop = asyncio.get_running_loop()
        req = Request(feeds, n, loop.create_future(), time.perf_counter() + limit if limit else None,
                      self.key(feeds) if self.max_batch_size > 1 else ())
        self.queue.append(req)
        self._arrived.set()
        try:
            if limit is None:
                return await req.future
            return await asyncio.wait_for(asyncio.shield(req.future), limit)
        except asyncio.TimeoutError:
            req.future.cancel()
            where = "queued" if req.started is None else "running"
            if req.started is None:
                try:  # it no longer counts against --max-queue
                    self.queue.remove(req)
                except ValueError:
                    pass
            raise TimedOut(f"model '{self.name}': the request timed out after {limit * 1e3:.0f} ms ({where})") \
                from None
        finally:
            if not req.future.done():
                req.future.cancel()

    async def _next_batch(self) -> List[Request]:
        """Waits for requests, then for up to max_queue_delay (until the batch
        is full) and takes as many as fit in max_batch_size."""
        while True:
            while not self.queue:
                self._arrived.clear()
                await self._arrived.wait()
            first = self.queue[0]
            if self.max_batch_size > 1:
                wait_until = first.enqueued + self.max_queue_delay
                while sum(r.n for r in self.queue) < self.max_batch_size:
                    left = wait_until - time.perf_counter()
                    if left <= 0:
                        break
                    self._arrived.clear()
                    try:
                        await asyncio.wait_for(self._arrived.wait(), left)
                    except asyncio.TimeoutError:
                        break
            batch, size, later = [], 0, []
            now = time.perf_counter()
            while self.queue:
                r = self.queue.popleft()
                if r.future.done():  # cancelled while queued
                    continue
                if batch and r.key != batch[0].key:  # other one-value inputs: a batch of their own
                    later.append(r)
                    continue
                if batch and size + r.n > self.max_batch_size:
                    self.queue.appendleft(r)
                    break
                r.started = now
                batch.append(r)
                size += r.n
            self.queue.extendleft(reversed(later))
            if batch:
                return batch

    async def _worker(self, pipe: LoadedPipeline, runner: "_Runner") -> None:
        """Forms batches and runs them. A batch expected to be short runs here,
        on the loop's thread, when nothing else is waiting or running; with a
        native runner up to two others are in flight (one runs while the next
        waits in the runner's queue, so that its thread goes from one run to the
        next without waiting for the loop)."""
        slots = asyncio.Semaphore(2 if runner.native is not None else 1)
        while True:
            await slots.acquire()
            try:
                async with self._collect_lock:
                    batch = await self._next_batch()
            except BaseException:
                slots.release()
                raise
            if self.metrics is not None:
                self.metrics.batch(self.name, batch)
            rows = max(1, sum(r.n for r in batch))
            expected = self._row_seconds * rows if self._row_seconds is not None else None
            if expected is not None and (expected < NATIVE_HANDOFF or (
                    expected < INLINE_BELOW and (runner.native is None or not (self.queue or slots.locked()
                                                                             or runner.pending)))):
                t0 = time.perf_counter()
                try:
                    results = self._run(pipe, batch)
                    self._timed(time.perf_counter() - t0, rows)
                except Exception as e:
                    results = await self._alone(pipe, batch, e)
                self._deliver(batch, results)
                slots.release()
                continue
            task = asyncio.ensure_future(self._run_batch(pipe, runner, batch, rows))
            task.add_done_callback(lambda _t: slots.release())
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _run_batch(self, pipe: LoadedPipeline, runner: "_Runner", batch: List[Request], rows: int) -> None:
        t0 = time.perf_counter()
        try:
            if runner.native is not None:  # the loop's thread converts, a native thread runs
                result, ran = await runner.run(self._merge([r.feeds for r in batch]))
                results = self._split(batch, result)
            else:
                results, ran = await asyncio.get_running_loop().run_in_executor(self.pool, self._run, pipe, batch), None
            self._timed(ran if ran is not None else time.perf_counter() - t0, rows)
        except Exception as e:
            results = await self._alone(pipe, batch, e)
        self._deliver(batch, results)

    def _timed(self, seconds: float, rows: int) -> None:
        took = seconds / rows
        self._row_seconds = took if self._row_seconds is None else 0.8 * self._row_seconds + 0.2 * took

    async def _alone(self, pipe: LoadedPipeline, batch: List[Request], error: Exception) -> list:
        """The results of a batch whose run raised: the error, for a batch of one
        request; else each request runs again alone, so only those whose own
        input fails get an error."""
        if len(batch) == 1:
            return [error]
        loop = asyncio.get_running_loop()
        results = []
        for r in batch:
            try:
                results.append((await loop.run_in_executor(self.pool, self._run, pipe, [r]))[0])
            except Exception as e1:
                results.append(e1)
        return results

    @staticmethod
    def _deliver(batch: List[Request], results: list) -> None:
        for r, res in zip(batch, results):
            if not r.future.done():
                if isinstance(res, Exception):
                    r.future.set_exception(res)
                else:
                    r.future.set_result(res)

    # ---- the work (in an instance's thread)
    def _merge(self, feeds_list: List[Dict[str, Any]]) -> Dict[str, Any]:
        if len(feeds_list) == 1:
            return feeds_list[0]
        merged = {}
        for i in self.inputs:
            vals = [f[i["name"]] for f in feeds_list]
            if i["kind"] == "ndarray":
                from ..ndarray import NDArray
                merged[i["name"]] = NDArray(np.concatenate([v.numpy() for v in vals]))
            elif i["kind"] == "list":
                merged[i["name"]] = [x for v in vals for x in v]
            else:
                merged[i["name"]] = vals[0]
        return merged

    def _run(self, pipe: LoadedPipeline, batch: List[Request]) -> List[Dict[str, np.ndarray]]:
        return self._split(batch, pipe.run(self._merge([r.feeds for r in batch])))

    def _split(self, batch: List[Request], result) -> List[Dict[str, np.ndarray]]:
        """A batch's outputs as numpy arrays, cut back into its requests' rows."""
        outs = {o["name"]: _to_numpy(o, tensors.pick(result, o.get("key"))) for o in self.outputs}
        if len(batch) == 1:
            return [outs]
        split, lo = [], 0
        for r in batch:
            split.append({k: v[lo:lo + r.n] for k, v in outs.items()})
            lo += r.n
        return split

    # ---- in process (Ray, benchmarks): the same conversions without HTTP
    def run_now(self, feeds: Dict[str, Any], instance: int = 0) -> Dict[str, np.ndarray]:
        req = Request(feeds, 0, None, None)
        return self._run(self.pipes[instance], [req])[0]


class _Runner:
    """An instance's runs. With a C++ Session, a native thread runs them
    (LoadedPipeline.async_runner): the loop's thread converts the inputs, submits
    them and goes on serving; the runner's eventfd wakes it when a run is done.
    No thread hands the GIL back and forth, which costs up to the interpreter's
    switch interval (5 ms) per batch while the loop is busy."""

    def __init__(self, pipe: LoadedPipeline, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.native = pipe.async_runner()
        self.pending: Dict[int, asyncio.Future] = {}
        if self.native is not None:
            loop.add_reader(self.native.fd, self._finished)

    async def run(self, feeds: Dict[str, Any]):
        fut = self.loop.create_future()
        self.pending[self.native.submit(feeds)] = fut
        return await fut

    def _finished(self) -> None:
        for rid in self.native.ready():
            fut = self.pending.pop(rid, None)
            try:
                out = self.native.take(rid)  # (outputs, seconds)
            except Exception as e:  # the run's error, for its batch
                if fut is not None and not fut.done():
                    fut.set_exception(e)
                continue
            if fut is not None and not fut.done():
                fut.set_result(out)

    def close(self) -> None:
        if self.native is None:
            return
        self.loop.remove_reader(self.native.fd)
        self.native.close()
        self._finished()
        self.native = None


def _checked(desc: dict, value):
    """A request tensor checked against the model's input: its datatype, and
    the dimensions the model fixes (all but the batch dimension)."""
    name = desc["name"]
    got = "BYTES" if isinstance(value, list) else tensors.DATATYPES.get(str(value.dtype), str(value.dtype))
    if got != desc["datatype"]:
        raise RequestError(f"input '{name}' must be {desc['datatype']}, got {got}")
    if desc["kind"] == "scalar":
        size = len(value) if isinstance(value, list) else value.size
        if size != 1:
            raise RequestError(f"input '{name}' is one value (shape [1]), got {size} elements")
    elif not isinstance(value, list):
        want = desc["shape"]
        if value.ndim != len(want) or any(w != -1 and w != g for w, g in zip(want[1:], value.shape[1:])):
            raise RequestError(f"input '{name}' must have shape {want} (-1: any), got {list(value.shape)}")
    return value


def _to_pipeline(desc: dict, value):
    """A decoded tensor (numpy array; a list of bytes for BYTES) as the pipeline takes it."""
    item, kind, name = desc["item"], desc["kind"], desc["name"]
    if desc["datatype"] == "BYTES":
        if isinstance(value, np.ndarray):
            value = value.reshape(-1).tolist()
        if item == "str":
            try:
                value = [v.decode("utf-8") if isinstance(v, bytes) else v for v in value]
            except UnicodeDecodeError as e:
                raise RequestError(f"input '{name}': an element is not UTF-8 text ({e})") from None
        else:
            value = [v.encode("utf-8") if isinstance(v, str) else v for v in value]
        return value[0] if kind == "scalar" else value
    a = value
    if kind == "ndarray":
        from ..ndarray import NDArray
        return NDArray(a)
    if kind == "scalar":
        if a.size != 1:
            raise RequestError(f"input '{name}' is one value; got shape {list(a.shape)}")
        return a.reshape(-1)[0].item()
    return a.tolist()


def _to_numpy(desc: dict, value) -> np.ndarray:
    if desc["datatype"] == "BYTES":
        if isinstance(value, (bytes, str)):
            value = [value]
        a = np.empty(len(value), dtype=object)
        a[:] = [v.encode("utf-8") if isinstance(v, str) else v for v in value]
        return a
    if tensors.is_array(value):
        return np.asarray(tensors._numpy(value))
    try:
        a = np.asarray(value, dtype=tensors.NUMPY_DTYPES[desc["datatype"]])
    except ValueError as e:
        raise tensors.NotATensor(f"output '{desc['name']}' has no tensor form ({e}); a ragged list must be "
                                 "padded in the pipeline") from None
    return a.reshape(1) if a.ndim == 0 else a
