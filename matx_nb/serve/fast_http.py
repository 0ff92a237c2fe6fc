"""matx-serve's HTTP protocol: uvicorn's httptools protocol, with inference
requests answered without the ASGI round trip.

Everything HTTP stays uvicorn's: parsing (httptools), keep-alive, pipelining,
flow control, the 100-continue handshake, timeouts and the graceful drain.
Only the request/response cycle of `POST /v2/models/{name}/infer` differs:
instead of the ASGI app's `receive()`/`send()` messages (a scope walked by the
router, a dict per message, headers checked one by one, the status line and the
body written separately), a task reads the body from uvicorn's cycle, runs
`Server.infer` and writes the response in one write. Its bytes are what the
ASGI path sends, uvicorn's default headers included (tests/test_serve_http.py
compares the two). The task sits in uvicorn's task set, so SIGTERM waits for it
like any request.

It saves work on the event loop's thread, which does the HTTP and protocol
work of every request (docs/serving.md, "The HTTP layer", has the figures).
"""
from __future__ import annotations

import logging
from typing import Optional, Tuple

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from .protocol import MAX_BODY, infer_headers, infer_route

log = logging.getLogger("matx_nb.serve")


# What the cycle task uses of uvicorn's request cycle (its constructor's
# parameters name the state it keeps); another uvicorn gets the ASGI path.
_CYCLE_STATE = {"scope", "transport", "flow", "default_headers", "message_event", "expect_100_continue",
                "keep_alive", "on_response"}


def usable() -> bool:
    """Whether this uvicorn's httptools protocol has the hooks used here."""
    import inspect
    if not callable(getattr(HttpToolsProtocol, "_start_asgi_task", None)):
        return False
    return _CYCLE_STATE <= set(inspect.signature(RequestResponseCycle.__init__).parameters)


def protocol_for(server) -> type:
    """uvicorn's http protocol class, answering server's inference requests itself."""

    class InferProtocol(HttpToolsProtocol):
        def _start_asgi_task(self, cycle: RequestResponseCycle, app) -> None:
            route = infer_route(cycle.scope["path"]) if cycle.scope["method"] == "POST" else None
            if route is None:
                super()._start_asgi_task(cycle, app)
                return
            task = self.loop.create_task(_infer(server, cycle, *route))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

    return InferProtocol


async def _body(cycle: RequestResponseCycle):
    """The request body, as ASGI's receive() would give it; None when the client left."""
    chunks, size = [], 0
    while True:
        if cycle.waiting_for_100_continue and not cycle.transport.is_closing():
            cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            cycle.waiting_for_100_continue = False
        if not cycle.disconnected and not cycle.response_complete:
            cycle.flow.resume_reading()
            await cycle.message_event.wait()
            cycle.message_event.clear()
        if cycle.disconnected or cycle.response_complete:
            return None
        chunk = bytes(cycle.body)
        cycle.body = bytearray()
        size += len(chunk)
        if size > MAX_BODY:
            return size
        chunks.append(chunk)
        if not cycle.more_body:
            return b"".join(chunks)


async def _infer(server, cycle: RequestResponseCycle, name: str, version: Optional[str]) -> None:
    try:
        encoding, header_length = infer_headers(cycle.scope["headers"])
        body = await _body(cycle)
        if body is None:
            return
        if isinstance(body, int):
            status, payload, ctype, head = server.too_large()
        else:
            status, payload, ctype, head = await server.infer(name, version, body, encoding, header_length)
        await _respond(cycle, status, payload, ctype, head)
    except BaseException as e:  # as uvicorn's run_asgi: logged, a 500 if nothing was sent yet
        log.error("Exception in the inference handler", exc_info=e)
        if not cycle.response_started and not cycle.disconnected:
            cycle.keep_alive = False
            await _respond(cycle, 500, b"Internal Server Error", b"text/plain; charset=utf-8", None)
        else:
            cycle.transport.close()
        if not isinstance(e, Exception):
            raise
    finally:
        cycle.on_response = lambda: None


async def _respond(cycle: RequestResponseCycle, status: int, payload: bytes, ctype: bytes,
                   head: Optional[int]) -> None:
    """The status line, uvicorn's default headers, ours and the body, in one write."""
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    content = [STATUS_LINE[status]]
    for k, v in cycle.default_headers:
        content += [k, b": ", v, b"\r\n"]
    content += [b"content-type: ", ctype, b"\r\ncontent-length: ", str(len(payload)).encode(), b"\r\n"]
    if head is not None:
        content += [b"inference-header-content-length: ", str(head).encode(), b"\r\n"]
    if not cycle.keep_alive:
        content.append(b"connection: close\r\n")
    content += [b"\r\n", payload]
    cycle.transport.write(b"".join(content))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
