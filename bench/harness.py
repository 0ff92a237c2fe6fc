"""What every Python runner shares: the workload table, the timing rule and the
JSON it prints. Standard library only (each runner lives in its own venv).

A runner builds, for each workload it supports, a zero-argument callable that
does one whole call from Python (argument conversion and result conversion
included, as a user pays them) and a function turning the result into plain
Python for the check. `run_all` times them and prints one JSON object.
"""
from __future__ import annotations

import gc
import json
import statistics
import sys
import time
import traceback
from itertools import repeat
from typing import Callable, Dict, Optional, Tuple

import data

# name -> (canonical kind of the result, how the cell is reported)
#   "call": one call is timed (s);  "ns"/"us": a tight loop of calls, per call.
WORKLOADS: Dict[str, Tuple[str, str]] = {
    "fib": ("int", "call"),
    "text2ids": ("ints", "call"),
    "wordpiece": ("intss", "call"),
    "str_pipeline": ("strs", "call"),
    "inverted_index": ("index", "call"),
    "class_method": ("int", "call"),
    "int_loop": ("int", "call"),
    "gen_sum": ("int", "call"),
    "add": ("int", "ns"),
    "list_len": ("int", "us"),
}
FIB_N = 30
LOOP_N = 3_000_000
GEN_N = 10_000_000  # sum(i * i % 7 for i in range(GEN_N))
LCG_SEED, LCG_N = 12345, 1_000_000
MAX_CHARS = 100  # BERT's max_input_chars_per_word

BUDGET_S = 1.5   # per cell: repeat until this much time is spent ...
MIN_REP, MAX_REP = 5, 41  # ... with at least / at most this many samples
SAMPLE_S = 0.02  # per sample of a tight loop of calls


def measure(call: Callable[[], object], mode: str) -> dict:
    """Median seconds per call. The caller has already made one call (warm-up)."""
    if mode == "call":
        ts = []
        t_end = time.perf_counter() + BUDGET_S
        while len(ts) < MAX_REP and (len(ts) < MIN_REP or time.perf_counter() < t_end):
            t = time.perf_counter()
            call()
            ts.append(time.perf_counter() - t)
            if len(ts) >= 3 and ts[0] > 3 * BUDGET_S:
                break  # very slow system: three samples are all it gets
        return {"time": statistics.median(ts), "samples": len(ts)}
    # tight loop: `call` is (fn, args); fn(*args) is timed n times per sample,
    # written out per arity so that no wrapper is timed (the for loop is: ~5 ns)
    loop = call_loop(*call)
    n = 1
    while loop(n) < SAMPLE_S and n < 1 << 22:
        n *= 2
    ts = [loop(n) / n for _ in range(15)]
    return {"time": statistics.median(ts), "samples": len(ts), "calls_per_sample": n}


def short_error(e: BaseException, limit: int = 300) -> str:
    msg = "%s: %s" % (type(e).__name__, str(e).strip())
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[:limit] + "…"


Builder = Callable[[dict], Tuple[Callable[[], object], Callable[[object], object]]]


def run_all(system: str, version: str, builders: Dict[str, Optional[Builder]],
            notes: Dict[str, str], only: Optional[set] = None, extra: Optional[dict] = None) -> None:
    """builders[name](inputs) -> (call, to_python) or raises; None: not applicable.

    `call` is a zero-argument callable, or (fn, args) for the per-call boundary cells.
    """
    inputs = data.load()
    cells = {}
    for name, (kind, mode) in WORKLOADS.items():
        if only and name not in only:
            continue
        b = builders.get(name)
        if b is None:
            cells[name] = {"na": notes.get(name, "not applicable")}
            continue
        cell: dict = {}
        t0 = time.perf_counter()
        try:
            call, to_py = b(inputs)
            cell["build_s"] = time.perf_counter() - t0
            result = call() if mode == "call" else call[0](*call[1])  # warm-up, checked
            cell["digest"] = data.digest(data.canon(kind, to_py(result)))
            del result
            gc.collect()
            cell.update(measure(call, mode))
        except Exception as e:  # a compile error or a failure at run time: shown in the cell
            cell = {"error": short_error(e)}
            print("[%s] %s failed:\n%s" % (system, name, traceback.format_exc()), file=sys.stderr)
        if name in notes:
            cell["note"] = notes[name]
        cells[name] = cell
        print("[%s] %s: %s" % (system, name, {k: v for k, v in cell.items() if k != "digest"}),
              file=sys.stderr, flush=True)
    out = {"system": system, "version": version, "cells": cells}
    if extra:
        out.update(extra)
    print(json.dumps(out))


def to_py(x):
    """Plain Python lists/dicts/ints/strs from a peer's containers (matx.List ...)."""
    if isinstance(x, (int, str, float, bool)) or x is None:
        return x
    if hasattr(x, "items"):
        return {to_py(k): to_py(v) for k, v in x.items()}
    return [to_py(v) for v in x]


def call_loop(fn, args):
    """loop(n): n back-to-back calls of fn(*args), written out per arity so that
    no wrapper is timed (the for loop itself is: ~5 ns)."""
    if len(args) == 2:
        a, b = args

        def loop(n):
            t = time.perf_counter()
            for _ in repeat(None, n):
                fn(a, b)
            return time.perf_counter() - t
    else:
        (a,) = args

        def loop(n):
            t = time.perf_counter()
            for _ in repeat(None, n):
                fn(a)
            return time.perf_counter() - t
    return loop
