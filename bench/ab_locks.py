"""The cost of the thread model (runtime lock.h): a call from Python into a
method of a compiled instance takes the instance's lock. This builds a class
twice in one process, as generated and with the locks stripped from the C++,
and times 1M method calls of each, interleaved (medians of 15 rounds, min–max).
Run: .venv/bin/python bench/ab_locks.py"""
import os
import statistics
import tempfile
import time
from typing import Dict

import matx_nb
from matx_nb.compiler.emit import emitter


class Vocab:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"hello": 0, "world": 1}

    def lookup(self, w: str) -> int:
        return self.table.get(w, 2)


def build(strip: bool):
    os.environ["MATX_NB_CACHE"] = tempfile.mkdtemp(prefix="matx_ab_lock_")
    emit = emitter.Emitter.emit
    if strip:
        emitter.Emitter.emit = lambda self: emit(self).replace(
            "mx::HostLock held(h, static_cast<mx::Instance*>(self)->host_lock);", "")
    try:
        return matx_nb.script(Vocab, force=True)()
    finally:
        emitter.Emitter.emit = emit


def main(rounds: int = 15, calls: int = 1_000_000) -> None:
    locked, bare = build(False), build(True)
    words = ["hello", "world", "x"] * (calls // 3)
    times = {"locked": [], "bare": []}
    for _ in range(rounds):
        for key, obj in (("locked", locked), ("bare", bare)):
            f = obj.lookup
            t = time.perf_counter()
            for w in words:
                f(w)
            times[key].append(time.perf_counter() - t)
    span = lambda ts: f"{statistics.median(ts) * 1e3:7.1f} ms ({min(ts) * 1e3:.1f}–{max(ts) * 1e3:.1f})"
    p, b = statistics.median(times["locked"]), statistics.median(times["bare"])
    print(f"{len(words)} calls of Vocab.lookup: locked {span(times['locked'])}, "
          f"without locks {span(times['bare'])}, cost {100 * (p / b - 1):+.1f}%")


if __name__ == "__main__":
    main()
