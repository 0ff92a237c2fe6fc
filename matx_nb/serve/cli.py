"""`matx-serve [NAME=]DIR ... [options]`: serves saved pipeline folders over the
KServe v2 protocol (docs/serving.md).

It loads each folder (checked as matx_nb.load checks it), warms each instance
up on the example saved with the folder, prints one line,

    matx-serve: ready at http://127.0.0.1:8000 (models: text)

and serves until SIGTERM or Ctrl-C, which stop accepting connections, finish
the requests in flight (up to --drain-timeout seconds) and exit 0.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence

log = logging.getLogger("matx_nb.serve")

_MISSING = ("matx-serve needs uvicorn, starlette and prometheus_client: pip install 'matx_nb[serve]'")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="matx-serve", description="Serve saved matx_nb pipelines (KServe v2 over HTTP).")
    ap.add_argument("folders", nargs="+", metavar="[NAME=]DIR",
                    help="a folder written by TracedModule.save(); NAME= names the model (by default --name, "
                         "else the folder's name)")
    ap.add_argument("--name", help="the model's name when one folder is served")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=8000, help="port (0: any free port; the ready line says which)")
    ap.add_argument("--max-batch-size", type=int, default=8,
                    help="rows dynamic batching merges into one run (1: off; default 8)")
    ap.add_argument("--max-queue-delay-us", type=int, default=2000,
                    help="how long the first queued request waits for more (default 2000 us)")
    ap.add_argument("--max-queue", type=int, default=256,
                    help="requests a model queues; more are answered 429 at once (default 256)")
    ap.add_argument("--instances", type=int, default=1,
                    help="pipeline instances per model (per worker) run concurrently in threads (default 1)")
    ap.add_argument("--workers", type=int, default=1,
                    help="server processes sharing the port, each with its own event loop and instances: "
                         "the protocol work of one process is bound to one core (default 1)")
    ap.add_argument("--device", type=int, default=-1, help="-1 the CPU (default), N cuda:N for torch models")
    ap.add_argument("--timeout-ms", type=int, default=0,
                    help="answer 504 to a request not done in this time (0: no limit; a request's `timeout` "
                         "parameter may ask for less)")
    ap.add_argument("--drain-timeout", type=float, default=30.0,
                    help="seconds SIGTERM waits for requests in flight before closing them (default 30)")
    ap.add_argument("--trusted-key", action="append", default=None, metavar="PEM",
                    help="serve only folders signed by this Ed25519 public key (repeatable)")
    ap.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return ap


def model_names(folders: Sequence[str], name: Optional[str]) -> List[tuple]:
    out = []
    for f in folders:
        if "=" in f and not os.path.exists(f):
            n, d = f.split("=", 1)
        else:
            n, d = (name if name and len(folders) == 1 else Path(f).resolve().name), f
        out.append((n, d))
    return out


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import importlib.util
    missing = [m for m in ("uvicorn", "starlette", "prometheus_client") if importlib.util.find_spec(m) is None]
    if missing:  # (not imported here: prometheus_client must first see PROMETHEUS_MULTIPROC_DIR)
        print(f"matx-serve: {_MISSING} (missing: {', '.join(missing)})", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="matx-serve: %(message)s")
    if args.workers < 1:
        print(f"matx-serve: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    shared = None
    if args.workers > 1:
        shared = tempfile.mkdtemp(prefix="matx-serve-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared  # before prometheus_client is first imported
    try:
        return _serve(args, shared)
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def _serve(args, shared) -> int:
    from ..pipeline.export import PipelineError
    from .app import Server
    from .metrics import Metrics
    from .model import ServedModel
    metrics = Metrics(multiprocess_dir=shared)
    keys = None
    if args.trusted_key:
        keys = [Path(k).read_bytes() for k in args.trusted_key]
    try:
        models = [ServedModel(n, d, instances=args.instances, device=args.device,
                              max_batch_size=args.max_batch_size, max_queue_delay_us=args.max_queue_delay_us,
                              max_queue=args.max_queue, timeout_ms=args.timeout_ms, metrics=metrics,
                              trusted_keys=keys)
                  for n, d in model_names(args.folders, args.name)]
        server = Server(models, metrics)
    except (PipelineError, OSError, ValueError) as e:
        print(f"matx-serve: {e}", file=sys.stderr)
        return 1
    try:
        # IPPROTO_TCP: the event loop then sets TCP_NODELAY on each connection (with
        # proto 0 it does not, and a response's second write waits ~40 ms for an ACK)
        sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as e:
        print(f"matx-serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    url = f"http://{args.host}:{port}"
    if args.workers == 1:
        return run(server, sock, url, args.drain_timeout, args.log_level)
    return run_workers(args.workers, server, sock, url, args.drain_timeout, args.log_level, Path(shared))


def run_workers(n: int, server, sock, url: str, drain_timeout: float, log_level: str, shared: Path) -> int:
    """n forked processes serve the one socket (the kernel spreads the
    connections); SIGTERM/SIGINT are passed on to them, and each drains."""
    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:  # a worker: the models were loaded before the fork, nothing runs yet
            code = 1
            try:
                code = run(server, sock, url, drain_timeout, log_level, ready_file=shared / f"ready-{os.getpid()}")
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def forward(sig, frame):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    announced, codes = False, {}
    while len(codes) < n:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            codes[pid] = os.waitstatus_to_exitcode(status)
            if not announced or codes[pid] != 0:
                forward(None, None)  # one worker failed: stop them all
            continue
        if not announced and len(list(shared.glob("ready-*"))) == n:
            print(f"matx-serve: ready at {url} (models: {', '.join(server.models)}; {n} workers)", flush=True)
            announced = True
        time.sleep(0.05)
    ok = announced and all(c == 0 for c in codes.values())
    print("matx-serve: stopped" if ok else f"matx-serve: workers exited with {sorted(codes.values())}", flush=True)
    return 0 if ok else 1


def _http_protocol(server):
    """matx-serve's protocol over uvicorn's httptools one (serve/fast_http.py);
    uvicorn's own choice where httptools is missing or this uvicorn's protocol
    lacks the hooks it uses."""
    if os.environ.get("MATX_SERVE_ASGI_ONLY"):
        return "auto"
    try:
        from . import fast_http  # uvicorn's httptools protocol: needs httptools
    except ImportError:
        return "auto"
    return fast_http.protocol_for(server) if fast_http.usable() else "auto"


def run(server, sock, url: str, drain_timeout: float, log_level: str = "warning", ready_file=None) -> int:
    """Serves on the bound socket until SIGTERM/SIGINT; 0 when it drained cleanly.
    ready_file: a worker's sign that it is ready (instead of the ready line)."""
    import uvicorn

    from .app import create_app
    from . import front as native_front
    app = create_app(server)
    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=drain_timeout,
                            access_log=False, lifespan="on", proxy_headers=False, http=_http_protocol(server))
    front = native_front.NativeFront(server, sock, config.timeout_keep_alive) if native_front.available() else None
    if front is not None and not front.models:
        front = None

    class _Uvicorn(uvicorn.Server):
        def handle_exit(self, sig, frame):
            server.draining = True  # /v2/health/ready answers 503 from now on
            if front is not None:
                front.stop_accepting()
            super().handle_exit(sig, frame)

        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.should_exit:
                return
            if front is not None:  # after the warm-up (the lifespan's startup)
                adopted = native_front.adopting(self.config.http_protocol_class)
                loop = asyncio.get_running_loop()
                front.start(loop, lambda data: adopted(config=self.config, server_state=self.server_state,
                                                       app_state=self.lifespan.state, _loop=loop, prefill=data))
            if ready_file is not None:
                Path(ready_file).touch()
            else:
                print(f"matx-serve: ready at {url} (models: {', '.join(server.models)})", flush=True)

        async def shutdown(self, sockets=None):
            if front is not None:  # the front's requests first, then uvicorn's own drain
                await front.drain(drain_timeout)
            await super().shutdown(sockets=sockets)

    userver = _Uvicorn(config)
    # uvicorn handles SIGTERM/SIGINT while it serves (a graceful drain), then
    # re-raises the signal to the handlers it found: these make that a clean exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    if front is not None:  # the front accepts; uvicorn serves the connections it hands over
        sock.listen(config.backlog)
    try:
        userver.run(sockets=[] if front is not None else [sock])  # on uvloop when installed (uvicorn[standard])
    except KeyboardInterrupt:
        pass
    if not userver.started:
        print("matx-serve: the server did not start (see the messages above)", file=sys.stderr)
        return 1
    if ready_file is None:
        print("matx-serve: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
