"""The cost of interruptible loops (runtime interrupt.h): each loop iteration of
compiled code polls one word. This builds the loop workloads twice in one
process, as generated and with the polls stripped from the C++, and times both
interleaved (medians of 15 rounds, with min–max), so the two see the same
machine. Run: .venv/bin/python bench/ab_interrupt.py"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import workloads  # noqa: E402
from typing import List  # noqa: E402

import matx_nb  # noqa: E402
from matx_nb.compiler.emit import emitter  # noqa: E402

def while_loop(n: int) -> int:
    s, i = 0, 0
    while i < n:
        s = (s + i * 3) % 1000003
        i += 1
    return s


def list_sum(xs: List[int]) -> int:
    s = 0
    for x in xs:
        s += x & 7
    return s


CASES = [("int_loop", workloads.int_loop, (10_000_000,)),
         ("gen_sum", workloads.gen_sum, (10_000_000,)),
         ("while", while_loop, (10_000_000,)),
         ("list_sum", list_sum, (list(range(3_000_000)),))]


def plain_loop(self, init, cond, block, block_cond, k, stop, body, node):
    """The loop as it was before polling: one C++ for, no blocks."""
    self.line(f"for ({init}; {cond}; ++{k}) {{")
    self.ind += 1
    body()
    self.block_close()


def build(fn, strip: bool):
    """fn compiled in a cache of its own; strip: as generated before loops polled."""
    os.environ["MATX_NB_CACHE"] = tempfile.mkdtemp(prefix="matx_ab_irq_")
    emit, blocked = emitter.Emitter.emit, emitter.Emitter.blocked_loop
    if strip:
        emitter.Emitter.blocked_loop = plain_loop
        emitter.Emitter.emit = lambda self: "\n".join(
            ln for ln in emit(self).split("\n") if not ln.strip().startswith(("mx::poll(", "mx::poll_every(")))
    try:
        return matx_nb.script(fn, force=True)
    finally:
        emitter.Emitter.emit, emitter.Emitter.blocked_loop = emit, blocked


def main(rounds: int = 15) -> None:
    print(f"{'workload':10} {'polled':>24} {'as before':>24} {'cost':>8}")
    for name, fn, args in CASES:
        polled, bare = build(fn, False), build(fn, True)
        assert polled(*args) == bare(*args)
        times = {"polled": [], "bare": []}
        for _ in range(rounds):
            for key, f in (("polled", polled), ("bare", bare)):
                t = time.perf_counter()
                f(*args)
                times[key].append(time.perf_counter() - t)
        p, b = statistics.median(times["polled"]), statistics.median(times["bare"])
        span = lambda ts: f"{statistics.median(ts) * 1e3:6.2f} ms ({min(ts) * 1e3:.2f}–{max(ts) * 1e3:.2f})"
        print(f"{name:10} {span(times['polled']):>24} {span(times['bare']):>24} {100 * (p / b - 1):+7.1f}%")


if __name__ == "__main__":
    main()
