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
import logging
import os
import signal
import socket
import sys
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
    ap.add_argument("--instances", type=int, default=1, help="pipeline instances per model run concurrently")
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
    try:
        import uvicorn  # noqa: F401
        from .app import Server
        from .metrics import Metrics
        from .model import ServedModel
    except ImportError as e:
        print(f"matx-serve: {_MISSING} ({e})", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="matx-serve: %(message)s")
    from ..pipeline.export import PipelineError
    metrics = Metrics()
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
        sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as e:
        print(f"matx-serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    return run(server, sock, f"http://{args.host}:{port}", args.drain_timeout, args.log_level)


def run(server, sock, url: str, drain_timeout: float, log_level: str = "warning") -> int:
    """Serves on the bound socket until SIGTERM/SIGINT; 0 when it drained cleanly."""
    import asyncio

    import uvicorn

    from .app import create_app
    app = create_app(server)

    class _Uvicorn(uvicorn.Server):
        def handle_exit(self, sig, frame):
            server.draining = True  # /v2/health/ready answers 503 from now on
            super().handle_exit(sig, frame)

        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if not self.should_exit:
                print(f"matx-serve: ready at {url} (models: {', '.join(server.models)})", flush=True)

    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=drain_timeout,
                            access_log=False, lifespan="on")
    userver = _Uvicorn(config)
    # uvicorn handles SIGTERM/SIGINT while it serves (a graceful drain), then
    # re-raises the signal to the handlers it found: these make that a clean exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        asyncio.run(userver.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    if not userver.started:
        print("matx-serve: the server did not start (see the messages above)", file=sys.stderr)
        return 1
    print("matx-serve: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
