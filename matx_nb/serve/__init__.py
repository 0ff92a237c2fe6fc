"""Serving saved pipelines: `matx-serve` (KServe v2 over HTTP with dynamic
batching and Prometheus metrics) and its scale-out on Ray (matx_nb.serve.ray,
matx_nb.ray). See docs/serving.md.

From Python (a notebook, a test):

    with matx_nb.serve.launch("out/text", port=0) as server:
        client = tritonclient.http.InferenceServerClient(server.address)

runs `matx-serve` in a child process and stops it (SIGTERM: in-flight
requests finish) when the block ends. The layers: protocol.py (request and
response bodies), model.py (a served folder and its batcher), metrics.py,
app.py (the routes), cli.py (the command); ray.py builds on model.py only.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence, Union


class ServerProcess:
    """A running `matx-serve`: .url, .address (host:port, tritonclient's form),
    .stop() (SIGTERM, then waits), .output (what it printed so far)."""

    def __init__(self, proc: subprocess.Popen, url: Optional[str]):
        self.proc, self.url = proc, url
        self.address = url.split("://", 1)[1] if url else None
        self._lines: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM: the server drains its requests, then exits; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        state = "running" if self.proc.poll() is None else f"exited {self.proc.returncode}"
        return f"<matx-serve at {self.url}, {state}>"


def launch(folders: Union[str, os.PathLike, Dict[str, Union[str, os.PathLike]], Sequence], *,
           port: int = 0, host: str = "127.0.0.1", start_timeout: float = 120, **options) -> ServerProcess:
    """Starts `matx-serve` on folders (a folder, a list, or {name: folder}) and
    waits until it is ready. options are the command's, as keywords:
    max_batch_size=8, max_queue_delay_us=2000, instances=2, timeout_ms=...,
    name="text", max_queue=..., device=..., drain_timeout=..., log_level=..."""
    if isinstance(folders, dict):
        args = [f"{n}={d}" for n, d in folders.items()]
    elif isinstance(folders, (str, os.PathLike)):
        args = [str(folders)]
    else:
        args = [str(f) for f in folders]
    args += ["--host", host, "--port", str(port)]
    for k, v in options.items():
        if v is None or v is False:
            continue
        args += [f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)])
    proc = subprocess.Popen([sys.executable, "-m", "matx_nb.serve.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    server = ServerProcess(proc, None)
    deadline = time.monotonic() + start_timeout
    while True:
        m = re.search(r"ready at (\S+)", server.output)
        if m:
            server.url = m.group(1)
            server.address = server.url.split("://", 1)[1]
            return server
        if proc.poll() is not None:
            server._reader.join(5)
            raise RuntimeError(f"matx-serve exited with status {proc.returncode}:\n{server.output}")
        if time.monotonic() > deadline:
            server.stop(10)
            raise RuntimeError(f"matx-serve was not ready in {start_timeout} s:\n{server.output}")
        time.sleep(0.05)


__all__ = ["launch", "ServerProcess"]
