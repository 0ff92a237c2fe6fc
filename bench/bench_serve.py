"""matx-serve under load, side by side with its peers in one run; writes
bench/SERVE_RESULTS.md.

    .venv/bin/python bench/bench_serve.py [--rounds 3] [--seconds 4] [--soak 100000]   # or: make bench-serve

The pipeline is the seed's TextPipeline (bytes -> input_ids, segment_ids,
mask; max_len 32), saved with matx_nb. Servers, all on 127.0.0.1, each in its
own process:
- matx-serve with dynamic batching, and with --max-batch-size 1 (no merging);
- the baseline a team writes today: FastAPI on uvicorn, the same TextPipeline
  in CPython (bench/serve_baseline.py), the same KServe v2 JSON in and out;
and the ceiling: the saved pipeline called in process (matx_nb.load), no HTTP.

Clients are bench/serve_load.py processes: 1, 8 and 32 keep-alive
connections in a closed loop, each answer checked byte for byte against an
answer verified beforehand against the pipeline run in process. Requests hold
1 text, or 8 texts for the server-overhead comparison. Every case runs once
per round, servers in a rotating order; medians of the rounds, and the
spread (min-max of the rounds). Then a soak of --soak requests with the
server's RSS at its start and end.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "multimodal"))
sys.path.insert(0, str(ROOT / "examples" / "text_pipeline"))
MAX_LEN = 32
SENTENCES = [
    "hello, world! the quick brown fox jumps over the lazy dog.",
    "Café crème brûlée; naïve résumé — 中文分词测试，你好世界。",
    "tokenizers split words into word pieces: token ##izer ##s",
    "The seed's text pipeline decodes bytes, cuts words, maps them through a vocabulary and builds tensors.",
    "Résumé of naïve café owners in Zürich: 12 interviews, 3 déjà-vu moments, 1 crème brûlée.",
    "我们在北京的自然语言处理实验室里测试分词器的速度和正确性。",
]


def texts(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return [SENTENCES[i] + f" #{seed}-{k}" for k, i in enumerate(rng.integers(0, len(SENTENCES), n))]


def payload(batch):
    return json.dumps({"inputs": [{"name": "text", "shape": [len(batch)], "datatype": "BYTES",
                                   "data": batch}]}).encode()


def build(work: Path):
    import matx_nb
    import pipeline as example
    from pipelines import TextPipeline
    vocab = example.write_vocab(work / "vocab.txt")
    tp = TextPipeline(str(vocab), MAX_LEN)
    folder = work / "text"
    matx_nb.trace(tp.process, [s.encode() for s in SENTENCES]).save(
        folder, output_names=["input_ids", "segment_ids", "mask"])
    return vocab, folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{url}: {e.code} {e.read()[:500]!r}") from None


def verified_answers(url, batches, loaded):
    """Each payload's answer, checked against the pipeline run in process."""
    answers = []
    for batch in batches:
        body = post(url + "/v2/models/text/infer", payload(batch))
        doc = json.loads(body)
        want = loaded.run({"text": [t.encode() for t in batch]})
        for out, w in zip(doc["outputs"], want):
            got = np.asarray(out["data"], dtype=np.int64).reshape(out["shape"])
            if not np.array_equal(got, w.numpy()):
                raise SystemExit(f"{url}: output {out['name']} differs from the pipeline run in process")
        answers.append(body)
    return answers


class Baseline:
    def __init__(self, vocab: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve_baseline.py"), str(vocab),
                                      str(MAX_LEN), str(self.port)], stdout=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(self.url + "/docs", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the FastAPI baseline did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def load(url: str, batches, answers, concurrency: int, seconds: float, requests: int = 10 ** 9) -> dict:
    host, port = url.split("://")[1].split(":")
    case = {"host": host, "port": int(port), "path": "/v2/models/text/infer",
            "payloads": [payload(b) for b in batches], "expected": answers, "concurrency": concurrency,
            "requests": requests, "seconds": seconds}
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as f:
        pickle.dump(case, f)
    try:
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "serve_load.py"), f.name],
                             capture_output=True, text=True, timeout=seconds + 600)
    finally:
        os.unlink(f.name)
    if out.returncode != 0:
        raise SystemExit(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def in_process(loaded, batches, seconds: float, threads: int) -> float:
    """Rows per second of the saved pipeline called in process by `threads` threads."""
    feeds = [{"text": [t.encode() for t in b]} for b in batches]
    rows = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(k):
        i = 0
        while time.perf_counter() < deadline:
            loaded.run(feeds[i % len(feeds)])
            rows[k] += len(batches[i % len(batches)])
            i += 1

    t0 = time.perf_counter()
    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(rows) / (time.perf_counter() - t0)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def spread(xs):
    return f"{min(xs):,.0f}-{max(xs):,.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--soak", type=int, default=100_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "SERVE_RESULTS.md"))
    args = ap.parse_args()
    import matx_nb
    import matx_nb.serve
    work = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    vocab, folder = build(work)
    loaded = matx_nb.load(folder)
    batches = {1: [texts(1, s) for s in range(64)], 8: [texts(8, 100 + s) for s in range(16)]}
    servers = {
        "matx-serve, dynamic batching": matx_nb.serve.launch(
            {"text": folder}, max_batch_size=64, max_queue_delay_us=500, instances=2, max_queue=4096),
        "matx-serve, no batching": matx_nb.serve.launch(
            {"text": folder}, max_batch_size=1, instances=2, max_queue=4096),
        "FastAPI + CPython": Baseline(vocab),
    }
    try:
        answers = {name: {rows: verified_answers(s.url, bs, loaded) for rows, bs in batches.items()}
                   for name, s in servers.items()}
        cases = [(1, 1), (1, 8), (1, 32), (8, 8), (8, 32)]
        results = {}  # (server, rows, concurrency) -> [round results]
        ceiling = {(rows, th): [] for rows in batches for th in (1, 2)}
        names = list(servers)
        for r in range(args.rounds):
            for rows, conc in cases:
                order = names[r % len(names):] + names[:r % len(names)]
                for name in order:
                    if name.startswith("FastAPI") and rows == 8:
                        continue
                    res = load(servers[name].url, batches[rows], answers[name][rows], conc, args.seconds)
                    results.setdefault((name, rows, conc), []).append(res)
                    print(f"round {r + 1} {name:32s} rows {rows} c {conc:2d}: {res['throughput']:8.0f} req/s "
                          f"p50 {res['p50'] * 1e3:6.2f} ms p99 {res['p99'] * 1e3:6.2f} ms "
                          f"failures {res['failures']}", flush=True)
            for (rows, th) in ceiling:
                ceiling[(rows, th)].append(in_process(loaded, batches[rows], args.seconds / 2, th))
        soak = None
        if args.soak:
            s = servers["matx-serve, dynamic batching"]
            pid = s.proc.pid
            rss0 = rss_kb(pid)
            res = load(s.url, batches[1], answers["matx-serve, dynamic batching"][1], 32, 3600, args.soak)
            soak = {"rss0": rss0, "rss1": rss_kb(pid), **res}
            print(f"soak: {res['requests']} requests in {res['seconds']:.0f} s, failures {res['failures']}, "
                  f"RSS {rss0} -> {soak['rss1']} kB", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    write(args, results, ceiling, soak)


def write(args, results, ceiling, soak):
    med = statistics.median

    def m(name, rows, conc, key):
        return med(r[key] for r in results[(name, rows, conc)])

    lines = ["# matx-serve under load (bench/bench_serve.py)", "",
             f"The seed's TextPipeline (max_len {MAX_LEN}) over KServe v2 JSON on 127.0.0.1; {args.rounds} rounds "
             f"of {args.seconds:g} s per case, servers in a rotating order; medians of the rounds, spread = min-max "
             f"of the rounds' throughput. Clients: bench/serve_load.py processes (keep-alive connections, closed "
             f"loop, every answer checked byte for byte). matx-serve: 2 instances; with batching "
             f"--max-batch-size 64 --max-queue-delay-us 500. {platform.machine()}, {os.cpu_count()} cores shared "
             f"by the server and the load generator; figures on a shared VM are noisy.", "",
             "## One text per request", "",
             "| server | connections | throughput (req/s) | spread | p50 | p99 | p99/p50 | lost or wrong |",
             "|---|---|---|---|---|---|---|---|"]
    for conc in (1, 8, 32):
        for name in dict.fromkeys(k[0] for k in results):
            if (name, 1, conc) not in results:
                continue
            rs = results[(name, 1, conc)]
            p50, p99 = m(name, 1, conc, "p50"), m(name, 1, conc, "p99")
            lines.append(f"| {name} | {conc} | {m(name, 1, conc, 'throughput'):,.0f} | "
                         f"{spread([r['throughput'] for r in rs])} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms | "
                         f"{p99 / p50:.1f} | {sum(r['failures'] + r['sent'] - r['requests'] for r in rs)} |")
    base = m("FastAPI + CPython", 1, 32, "throughput")
    best = m("matx-serve, dynamic batching", 1, 32, "throughput")
    lines += ["", f"At 32 connections matx-serve with dynamic batching serves **{best / base:.1f}x** the "
              f"FastAPI + CPython baseline's throughput (target >= 5x); its p99/p50 is "
              f"**{m('matx-serve, dynamic batching', 1, 32, 'p99') / m('matx-serve, dynamic batching', 1, 32, 'p50'):.1f}** "
              "(target <= 3).", "",
              "## Eight texts per request: the server against the pipeline in process", "",
              "| runner | connections / threads | texts/s | spread | overhead vs in process (1 thread) |",
              "|---|---|---|---|---|"]
    ceil1 = med(ceiling[(8, 1)])
    for th in (1, 2):
        xs = ceiling[(8, th)]
        lines.append(f"| in process (matx_nb.load, no HTTP), batches of 8 | {th} thread{'s' if th > 1 else ''} | "
                     f"{med(xs):,.0f} | {spread(xs)} | |")
    for name in ("matx-serve, dynamic batching", "matx-serve, no batching"):
        for conc in (8, 32):
            rs = results[(name, 8, conc)]
            tput = [r["throughput"] * 8 for r in rs]
            lines.append(f"| {name} | {conc} | {med(tput):,.0f} | {spread(tput)} | "
                         f"{max(0.0, 1 - med(tput) / ceil1) * 100:.0f}% |")
    lines += ["", f"In process, one text per call: {med(ceiling[(1, 1)]):,.0f} texts/s (1 thread), "
              f"{med(ceiling[(1, 2)]):,.0f} (2 threads)."]
    if soak:
        lines += ["", "## Soak", "",
                  f"{soak['requests']:,} requests (one text each, 32 connections) to matx-serve with dynamic "
                  f"batching in {soak['seconds']:.0f} s ({soak['throughput']:,.0f} req/s): "
                  f"{soak['failures'] + soak['sent'] - soak['requests']} lost or wrong; the server's RSS "
                  f"{soak['rss0'] / 1024:.1f} MiB at the start, {soak['rss1'] / 1024:.1f} MiB at the end."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
