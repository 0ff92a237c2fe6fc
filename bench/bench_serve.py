"""matx-serve under load, side by side with its peers in one run; writes
bench/SERVE_RESULTS.md.

    .venv/bin/python bench/bench_serve.py [--rounds 3] [--seconds 4] [--soak 100000]   # or: make bench-serve

The pipeline is the seed's TextPipeline (bytes -> input_ids, segment_ids,
mask; max_len 32), saved with matx_nb. Servers, all on 127.0.0.1, each in its
own process (groups), each with 1 and with 2 server processes:
- matx-serve with dynamic batching, and with --max-batch-size 1 (no merging);
- matx-serve with dynamic batching and MATX_SERVE_NO_FRONT=1 (1 process): every
  request answered by uvicorn and the Python batcher, as before the native front;
- the baseline a team writes today: FastAPI on uvicorn, the same TextPipeline
  in CPython (bench/serve_baseline.py), the same KServe v2 JSON in and out;
and the ceiling: the saved pipeline called in process (matx_nb.load), no HTTP.

The client is wrk (`apt-get install wrk`; a C client, so that the 2 cores go
to the servers rather than to the load generator): 1, 8 and 32 keep-alive
connections in a closed loop; bench/serve_check.lua checks each answer byte
for byte against one verified beforehand against the pipeline run in
process. Requests hold 1 text, or 8 texts for the server-overhead comparison.
Every case runs once per round, servers in a rotating order; medians of the
rounds, and the spread (min-max of the rounds). Then a soak of --soak requests
with the server's RSS at its start and end.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
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


def payload(batch, rid=None):
    doc = {"inputs": [{"name": "text", "shape": [len(batch)], "datatype": "BYTES", "data": batch}]}
    if rid is not None:
        doc["id"] = str(rid)
    return json.dumps(doc).encode()


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
    """Each payload's answer (request ids 1..N), checked against the pipeline run in process."""
    answers = []
    for k, batch in enumerate(batches, 1):
        body = post(url + "/v2/models/text/infer", payload(batch, k))
        doc = json.loads(body)
        want = loaded.run({"text": [t.encode() for t in batch]})
        for out, w in zip(doc["outputs"], want):
            got = np.asarray(out["data"], dtype=np.int64).reshape(out["shape"])
            if not np.array_equal(got, w.numpy()):
                raise SystemExit(f"{url}: output {out['name']} differs from the pipeline run in process")
        if doc.get("id") != str(k):
            raise SystemExit(f"{url}: the answer does not carry the request's id")
        answers.append(body)
    return answers


class Baseline:
    def __init__(self, vocab: Path, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve_baseline.py"), str(vocab),
                                      str(MAX_LEN), str(self.port), str(workers)], stdout=subprocess.DEVNULL)
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


def load(url: str, batches, answers, concurrency: int, seconds: float, limit: int = 0) -> dict:
    """wrk (one thread, `concurrency` keep-alive connections, closed loop) with
    bench/serve_check.lua checking every answer."""
    with tempfile.TemporaryDirectory() as d:
        for k, (batch, ans) in enumerate(zip(batches, answers), 1):
            Path(d, f"req{k}").write_bytes(payload(batch, k))
            Path(d, f"ans{k}").write_bytes(ans)
        env = dict(os.environ, MATX_BENCH_DIR=d, MATX_BENCH_N=str(len(batches)), MATX_BENCH_LIMIT=str(limit),
                   MATX_BENCH_PATH="/v2/models/text/infer")
        proc = subprocess.Popen(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "30s",
                                 "--latency", "-s", str(ROOT / "bench" / "serve_check.lua"), url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if limit:  # wrk runs for its duration: end it once the script has seen `limit` answers
            deadline = time.monotonic() + seconds
            while proc.poll() is None and not Path(d, "limit").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=seconds + 120)
    line = next((x for x in stdout.splitlines() if x.startswith("WRKRESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {stdout[-1500:]} {stderr[-1500:]}")
    r = json.loads(line.split(" ", 1)[1])
    r["throughput"] = r["answers"] / r["seconds"]
    r["lost"] = r["errors"]
    return r


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


BATCHING, NO_BATCHING, FASTAPI = "matx-serve, dynamic batching", "matx-serve, no batching", "FastAPI + CPython"
PYTHON_HTTP = "matx-serve without its native front, dynamic batching"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--soak", type=int, default=100_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "SERVE_RESULTS.md"))
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench_serve.py drives the servers with wrk: apt-get install wrk")
    import matx_nb
    import matx_nb.serve
    work = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    vocab, folder = build(work)
    loaded = matx_nb.load(folder)
    batches = {1: [texts(1, s) for s in range(64)], 8: [texts(8, 100 + s) for s in range(16)]}
    opts = dict(max_queue_delay_us=500, max_queue=4096)
    servers = {}
    for w in (1, 2):  # like for like: the same number of processes on each side
        servers[(BATCHING, w)] = matx_nb.serve.launch({"text": folder}, max_batch_size=64, workers=w, **opts)
        servers[(NO_BATCHING, w)] = matx_nb.serve.launch({"text": folder}, max_batch_size=1, workers=w, **opts)
        servers[(FASTAPI, w)] = Baseline(vocab, w)
    # the same server with uvicorn answering every request (serve/front.py's switch)
    os.environ["MATX_SERVE_NO_FRONT"] = "1"
    try:
        servers[(PYTHON_HTTP, 1)] = matx_nb.serve.launch({"text": folder}, max_batch_size=64, **opts)
    finally:
        del os.environ["MATX_SERVE_NO_FRONT"]
    try:
        answers = {key: {rows: verified_answers(s.url, bs, loaded) for rows, bs in batches.items()}
                   for key, s in servers.items()}
        cases = [(1, 1), (1, 8), (1, 32), (8, 8), (8, 32)]
        results = {}  # (server, workers, rows, concurrency) -> [round results]
        ceiling = {(rows, th): [] for rows in batches for th in (1, 2)}
        keys = list(servers)
        for r in range(args.rounds):
            for rows, conc in cases:
                for key in keys[r % len(keys):] + keys[:r % len(keys)]:
                    if key[0] == FASTAPI and rows == 8:
                        continue
                    res = load(servers[key].url, batches[rows], answers[key][rows], conc, args.seconds)
                    results.setdefault((*key, rows, conc), []).append(res)
                    print(f"round {r + 1} {key[0]:30s} {key[1]}w rows {rows} c {conc:2d}: "
                          f"{res['throughput']:8.0f} req/s p50 {res['p50'] * 1e3:6.2f} ms "
                          f"p99 {res['p99'] * 1e3:6.2f} ms failures {res['failures']} errors {res['errors']}",
                          flush=True)
            for (rows, th) in ceiling:
                ceiling[(rows, th)].append(in_process(loaded, batches[rows], args.seconds / 2, th))
        soak = None
        if args.soak:
            s = servers[(BATCHING, 1)]
            rss0 = rss_kb(s.proc.pid)
            res = load(s.url, batches[1], answers[(BATCHING, 1)][1], 32, 3600, args.soak)
            soak = {"rss0": rss0, "rss1": rss_kb(s.proc.pid), **res}
            print(f"soak: {res['answers']} answers in {res['seconds']:.0f} s, failures {res['failures']}, "
                  f"errors {res['errors']}, RSS {rss0} -> {soak['rss1']} kB", flush=True)
    finally:
        for s in servers.values():
            s.stop()
    write(args, results, ceiling, soak)


def write(args, results, ceiling, soak):
    med = statistics.median

    def m(name, w, rows, conc, key):
        return med(r[key] for r in results[(name, w, rows, conc)])

    lines = ["# matx-serve under load (bench/bench_serve.py)", "",
             f"The seed's TextPipeline (max_len {MAX_LEN}) over KServe v2 JSON on 127.0.0.1. Client: wrk (one "
             f"thread, keep-alive connections in a closed loop; bench/serve_check.lua checks every answer byte for "
             f"byte against one verified beforehand against the pipeline run in process). {args.rounds} rounds of "
             f"{args.seconds:g} s per case, servers in a rotating order; medians of the rounds; spread = min-max of "
             f"the rounds' throughput. Each side runs with 1 and with 2 server processes (matx-serve --workers, "
             f"uvicorn --workers). matx-serve: 1 instance per worker, --max-queue-delay-us 500; with batching "
             f"--max-batch-size 64, without --max-batch-size 1. {platform.machine()}, {os.cpu_count()} cores shared "
             f"by the servers and wrk; figures on a shared VM are noisy.", "",
             "## One text per request", "",
             "| server | processes | connections | throughput (req/s) | spread | p50 | p99 | p99/p50 | lost | wrong |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for w in (1, 2):
        for conc in (1, 8, 32):
            for name in (BATCHING, NO_BATCHING, PYTHON_HTTP, FASTAPI):
                if (name, w, 1, conc) not in results:
                    continue
                rs = results[(name, w, 1, conc)]
                p50, p99 = m(name, w, 1, conc, "p50"), m(name, w, 1, conc, "p99")
                lines.append(f"| {name} | {w} | {conc} | {m(name, w, 1, conc, 'throughput'):,.0f} | "
                             f"{spread([r['throughput'] for r in rs])} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms | "
                             f"{p99 / p50:.1f} | {sum(r['lost'] for r in rs)} | {sum(r['failures'] for r in rs)} |")
    lines.append("")
    for w in (1, 2):
        best, base = m(BATCHING, w, 1, 32, "throughput"), m(FASTAPI, w, 1, 32, "throughput")
        ratio = m(BATCHING, w, 1, 32, "p99") / m(BATCHING, w, 1, 32, "p50")
        lines.append(f"- {w} process{'es' if w > 1 else ''} each, 32 connections: matx-serve with dynamic batching "
                     f"serves **{best / base:.1f}x** the FastAPI + CPython throughput (target >= 5x); its p99/p50 "
                     f"is **{ratio:.1f}** (target <= 3).")
    lines.append(f"- matx-serve with 2 workers against FastAPI with 1: "
                 f"**{m(BATCHING, 2, 1, 32, 'throughput') / m(FASTAPI, 1, 1, 32, 'throughput'):.1f}x**.")
    lines.append(f"- The native front against uvicorn answering every request (1 process, 32 connections): "
                 f"**{m(BATCHING, 1, 1, 32, 'throughput') / m(PYTHON_HTTP, 1, 1, 32, 'throughput'):.1f}x**.")
    lines += ["", "## Eight texts per request: the server against the pipeline in process", "",
              "| runner | processes / threads | connections | texts/s | spread | overhead vs in process |",
              "|---|---|---|---|---|---|"]
    for th in (1, 2):
        xs = ceiling[(8, th)]
        lines.append(f"| in process (matx_nb.load, no HTTP), batches of 8 | {th} thread{'s' if th > 1 else ''} | | "
                     f"{med(xs):,.0f} | {spread(xs)} | |")
    for w in (1, 2):
        ceil = med(ceiling[(8, w)])
        for name in (BATCHING, NO_BATCHING, PYTHON_HTTP):
            for conc in (8, 32):
                if (name, w, 8, conc) not in results:
                    continue
                tput = [r["throughput"] * 8 for r in results[(name, w, 8, conc)]]
                lines.append(f"| {name} | {w} | {conc} | {med(tput):,.0f} | {spread(tput)} | "
                             f"{(1 - med(tput) / ceil) * 100:.0f}% (vs {w} thread{'s' if w > 1 else ''}) |")
    lines += ["", f"In process, one text per call: {med(ceiling[(1, 1)]):,.0f} texts/s (1 thread), "
              f"{med(ceiling[(1, 2)]):,.0f} (2 threads). A negative overhead is a server whose merged batches "
              "(dynamic batching) run faster than batches of 8 in process."]
    if soak:
        lines += ["", "## Soak", "",
                  f"{soak['answers']:,} requests (one text each, 32 connections) to matx-serve with dynamic batching "
                  f"(1 process) in {soak['seconds']:.0f} s ({soak['throughput']:,.0f} req/s): {soak['errors']} "
                  f"lost, {soak['failures']} wrong; the server's RSS {soak['rss0'] / 1024:.1f} MiB at the start, "
                  f"{soak['rss1'] / 1024:.1f} MiB at the end."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
