"""A light HTTP/1.1 load generator for bench/bench_serve.py: C keep-alive
connections to 127.0.0.1, each sending its next request as soon as the last
answer arrived (closed loop), for at most N requests and at most S seconds.
Every answer is checked: status 200 and a body equal, byte for byte, to the
one the bench verified for that payload beforehand (the servers' answers are
deterministic), so a lost or wrong response is counted, never assumed away.

    python bench/serve_load.py CASE.pickle   -> one JSON line on stdout

CASE.pickle holds {"host", "port", "path", "payloads": [bytes], "expected":
[bytes], "concurrency", "requests", "seconds"}.
"""
from __future__ import annotations

import asyncio
import json
import pickle
import sys
import time


async def connection(case, counter, latencies, failures, deadline):
    reader, writer = await asyncio.open_connection(case["host"], case["port"])
    head = (f"POST {case['path']} HTTP/1.1\r\nHost: {case['host']}\r\nContent-Type: application/json\r\n"
            "Content-Length: {}\r\n\r\n")
    requests = [head.format(len(p)).encode() + p for p in case["payloads"]]
    expected = case["expected"]
    try:
        while True:
            i = counter[0]
            if i >= case["requests"] or time.perf_counter() > deadline:
                return
            counter[0] += 1
            k = i % len(requests)
            t0 = time.perf_counter()
            writer.write(requests[k])
            status_line = await reader.readline()
            length = None
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length is not None else b""
            latencies.append(time.perf_counter() - t0)
            if not status_line.startswith(b"HTTP/1.1 200") or body != expected[k]:
                failures.append(status_line.decode(errors="replace").strip() + " " +
                                body[:200].decode(errors="replace"))
    finally:
        writer.close()


async def run(case):
    counter, latencies, failures = [0], [], []
    t0 = time.perf_counter()
    deadline = t0 + case["seconds"]
    results = await asyncio.gather(*[connection(case, counter, latencies, failures, deadline)
                                     for _ in range(case["concurrency"])], return_exceptions=True)
    elapsed = time.perf_counter() - t0
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return {"requests": len(latencies), "sent": counter[0], "seconds": elapsed,
            "throughput": len(latencies) / elapsed, "p50": pct(0.50), "p99": pct(0.99),
            "failures": len(failures), "failure_sample": failures[:3], "connection_errors": errors[:3]}


def main():
    with open(sys.argv[1], "rb") as f:
        case = pickle.load(f)
    try:
        import uvloop
        result = uvloop.run(run(case))
    except ImportError:
        result = asyncio.run(run(case))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
