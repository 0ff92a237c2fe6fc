"""matx-serve's native front: the listening socket served by C++ threads
(runtime/python/serve_front.h), with the Python server behind it.

The front reads each connection's requests on an epoll thread. A plain
inference request for a model it serves (BYTES inputs the pipeline takes as
lists of str or bytes; JSON or binary tensors) is parsed, batched and run on
the model's C++ Sessions, and answered, without Python; so are the health,
readiness and metadata GETs (Server.fixed_routes). Anything else hands
the connection over: its socket and the bytes read but not answered go to
uvicorn's protocol in this process, which serves the connection from then on
(health, metadata, /metrics, gzip bodies, a pipeline error's 500, ...). The
answers are the Python server's by construction: the front answers only what
it fully understands, as the Python server would (tests/test_serve_front.py
checks both give the same).

`MATX_SERVE_NO_FRONT=1` turns it off: uvicorn then listens itself.
docs/serving.md, "The HTTP layer", has the measurements.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Callable, List, Optional

log = logging.getLogger("matx_nb.serve")

# Output datatypes the front writes (serve_v2.h); other models are the Python server's.
DATATYPES = {"BYTES", "INT64", "INT32", "FP64", "FP32", "BOOL"}


def available() -> bool:
    if os.environ.get("MATX_SERVE_NO_FRONT"):
        return False
    from .. import _native
    return hasattr(_native, "ServeFront")


def model_entry(model) -> Optional[tuple]:
    """(sessions, inputs, outputs) as the front takes them, or None for a model
    whose requests all go to the Python server."""
    sessions = [getattr(p, "_session", None) for p in model.pipes]
    if not sessions or any(s is None for s in sessions):
        return None
    inputs = []
    for i in model.inputs:
        if i["datatype"] != "BYTES" or i["kind"] != "list" or i.get("item") not in ("str", "bytes"):
            return None
        inputs.append((i["name"], i["item"] == "bytes"))
    outputs = []
    for o in model.outputs:
        key = o.get("key")
        if o["datatype"] not in DATATYPES or isinstance(key, bool) or not (key is None or isinstance(key, (int, str))):
            return None
        outputs.append((o["name"], o["datatype"], key))
    return sessions, inputs, outputs


def adopting(protocol_class: type) -> type:
    """uvicorn's protocol class, fed first with the bytes the front had read."""

    class Adopted(protocol_class):
        def __init__(self, *args, prefill: bytes = b"", **kwargs):
            super().__init__(*args, **kwargs)
            self._matx_prefill = prefill

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            data, self._matx_prefill = self._matx_prefill, b""
            if data:
                self.data_received(data)

    return Adopted


class NativeFront:
    """The front over `sock` (bound) for `server`'s models it can serve;
    keep_alive: seconds an idle connection stays open (uvicorn's timeout_keep_alive)."""

    def __init__(self, server, sock: socket.socket, keep_alive: float = 5.0):
        from .. import _native
        from .metrics import BATCH_BUCKETS, LATENCY_BUCKETS
        self.server, self.sock = server, sock
        self.front = _native.ServeFront(sock.fileno(), keep_alive)
        self.models: List[str] = []
        for m in server.models.values():
            entry = model_entry(m)
            if entry is None:
                log.info("%s: served by the Python server only (inputs or outputs the native front does not "
                         "handle)", m.name)
                continue
            sessions, inputs, outputs = entry
            self.front.add_model(m.name, sessions, inputs, outputs, m.max_batch_size, m.max_queue_delay,
                                 m.max_queue, m.timeout or 0.0, list(LATENCY_BUCKETS), list(BATCH_BUCKETS))
            self.models.append(m.name)
        if self.models:  # the GET answers of every model: a client's pooled connections stay here
            for path, ctype, body, ready in server.fixed_routes():
                self.front.add_route(path, ctype, body, ready)
        self._last: dict = {}
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._factory: Optional[Callable] = None
        self._tasks: set = set()
        self._started = False

    def start(self, loop: asyncio.AbstractEventLoop, factory: Callable[[bytes], asyncio.Protocol]) -> None:
        """Starts serving; factory(prefill) makes the Python server's protocol
        for a connection handed over."""
        self._loop, self._factory = loop, factory
        self.front.start()
        self._started = True
        loop.add_reader(self.front.handover_fd, self._take)
        self.server.metrics_sources.append(self.sync)
        if self.server.metrics.multiprocess_dir is not None:  # the other workers read this one's counts from files
            self._tick()

    def _tick(self) -> None:
        if self._started:
            self.sync()
            self._loop.call_later(1.0, self._tick)

    def _take(self) -> None:
        for fd, data in self.front.take_handovers():
            sock = socket.socket(fileno=fd)
            task = self._loop.create_task(self._adopt(sock, data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _adopt(self, sock: socket.socket, data: bytes) -> None:
        try:
            await self._loop.connect_accepted_socket(lambda: self._factory(data), sock)
        except OSError:  # the client left meanwhile
            sock.close()

    def sync(self) -> None:
        """Adds what the front counted since the last call to the server's metrics."""
        now = self.front.stats()
        for model, s in now.items():
            prev = self._last.get(model)
            self.server.metrics.absorb(model, s, prev)
        self._last = now

    def stop_accepting(self) -> None:
        """The drain begins: no new connections (the port refuses them once the
        front has closed its copy of the socket too), idle ones close."""
        if self._started:
            self.front.stop_accepting()
        self.sock.close()

    async def drain(self, timeout: float) -> None:
        """Waits for the requests the front is answering (up to timeout), then stops it."""
        if not self._started:
            return
        loop = asyncio.get_running_loop()
        self.front.stop_accepting()
        until = loop.time() + timeout
        while self.front.busy > 0 and loop.time() < until:
            await asyncio.sleep(0.01)
        self._loop.remove_reader(self.front.handover_fd)
        self._take()
        self.sync()
        self._started = False  # a second SIGTERM no longer reaches the front while it closes
        await loop.run_in_executor(None, self.front.close)
