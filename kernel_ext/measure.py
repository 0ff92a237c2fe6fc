"""--check and --bench: each expression evaluated by the Python originals and by
the compiled objects, results compared, per-call times measured."""
from __future__ import annotations

import ast
import math
import statistics
import time
import timeit
from typing import Callable, Dict, List, Optional


def split_exprs(texts: List[str]) -> List[str]:
    """'fib(10), fib(20)' is two expressions; '(1, 2)' (parenthesized) is one."""
    out = []
    for text in texts:
        text = text.strip()
        node = ast.parse(text, "<expression>", "eval").body
        if isinstance(node, ast.Tuple) and node.elts and not (text.startswith("(") and text.endswith(")")):
            out += [ast.get_source_segment(text, e) for e in node.elts]
        else:
            out.append(text)
    return out


def _outcome(expr: str, ns: Dict) -> tuple:
    """('value', v) or ('raises', exception)."""
    try:
        return "value", eval(expr, ns)
    except Exception as e:  # the comparison shows it
        return "raises", e


def _same(a: tuple, b: tuple) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "raises":
        return type(a[1]) is type(b[1])
    x, y = a[1], b[1]
    try:
        return type(x) is type(y) and (x == y or repr(x) == repr(y))
    except Exception:
        return repr(x) == repr(y)


def _show(o: tuple) -> str:
    if o[0] == "raises":
        msg = str(o[1]).splitlines()[0] if str(o[1]) else ""
        return f"raises {type(o[1]).__name__}: {msg}" if msg else f"raises {type(o[1]).__name__}"
    text = repr(o[1])
    return text if len(text) <= 300 else text[:297] + "..."


def check(texts: List[str], py_ns: Dict, c_ns: Dict) -> List[dict]:
    rows = []
    for expr in split_exprs(texts):
        py, c = _outcome(expr, py_ns), _outcome(expr, c_ns)
        rows.append({"expr": expr, "python": _show(py), "compiled": _show(c), "same": _same(py, c)})
    return rows


def per_call(expr: str, ns: Dict) -> float:
    """Median seconds per evaluation of one expression alone (see ``timings``)."""
    return timings(expr, ns, ns)["python"]["median"]


# ---- --bench: the sampling scheme
#
# Each side (Python, compiled) gets its own loop count, calibrated so that one
# sample runs the expression for at least SAMPLE_S: timer resolution and loop
# overhead are then negligible. Samples are taken in pairs, Python and compiled
# interleaved (ABBA order), so background noise and frequency changes hit both
# sides alike; the garbage collector is off while a sample runs (timeit).
# Sampling stops after MIN_SAMPLES pairs once TARGET_S has passed, or after
# MAX_SAMPLES pairs. A slow expression, whose samples are long (a call of a
# second or more), stops at BUDGET_S once it has MIN_SLOW_SAMPLES pairs.
# Reported per side: median, min–max and the interquartile range (IQR); the
# speedup is median / median, with the middle half of the paired ratios.
SAMPLE_S = 0.01
MIN_SAMPLES = 20
MAX_SAMPLES = 200
TARGET_S = 0.5
BUDGET_S = 4.0
MIN_SLOW_SAMPLES = 5
NOISY_IQR = 0.10     # IQR above 10 % of the median ...
NOISY_LOW = 0.20     # ... or the minimum 20 % under the median: flagged as noisy
TINY_S = 1e-6        # a compiled call this short is mostly call overhead
BIG_ARG = 1000       # items (or characters / 10) of an argument whose conversion dominates


def _loops(timer: timeit.Timer) -> int:
    """The loop count that makes one sample last SAMPLE_S (warms the code up too)."""
    n, t = 1, timer.timeit(1)
    while t < SAMPLE_S and n < 1 << 24:
        n = n * 2 if t <= 0 else min(max(n * 2, int(n * SAMPLE_S / t * 1.2) + 1), n * 100)
        t = timer.timeit(n)
    return n


def _quartiles(xs: List[float]) -> tuple:
    if len(xs) < 2:
        return xs[0], xs[0]
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q3


def summary(samples: List[float], loops: int) -> dict:
    """Median, min, max, quartiles (seconds per call) of one side, and whether it is noisy."""
    med = statistics.median(samples)
    q1, q3 = _quartiles(samples)
    lo, hi = min(samples), max(samples)
    iqr = (q3 - q1) / med if med > 0 else 0.0
    low = (med - lo) / med if med > 0 else 0.0
    return {"median": med, "min": lo, "max": hi, "q1": q1, "q3": q3, "iqr": iqr, "n": len(samples),
            "loops": loops, "noisy": iqr > NOISY_IQR or low > NOISY_LOW}


def timings(expr: str, py_ns: Dict, c_ns: Dict) -> dict:
    """Interleaved samples of one expression with both namespaces (see above)."""
    timers = timeit.Timer(expr, globals=py_ns), timeit.Timer(expr, globals=c_ns)
    loops = [_loops(t) for t in timers]
    samples: tuple = ([], [])
    start = time.perf_counter()
    while True:
        pairs = len(samples[0])
        elapsed = time.perf_counter() - start
        if (pairs >= MAX_SAMPLES or (pairs >= MIN_SAMPLES and elapsed >= TARGET_S)
                or (pairs >= MIN_SLOW_SAMPLES and elapsed >= BUDGET_S)):
            break
        for side in ((0, 1) if pairs % 2 == 0 else (1, 0)):
            samples[side].append(timers[side].timeit(loops[side]) / loops[side])
    py, c = (summary(s, n) for s, n in zip(samples, loops))
    ratios = [p / q for p, q in zip(*samples) if q > 0]
    return {"python": py, "compiled": c, "ratio_q": _quartiles(ratios) if ratios else None,
            "seconds": time.perf_counter() - start}


def _size(v, depth: int = 0) -> int:
    """Roughly how many items converting v at the call touches (numpy/torch arrays: none, no copy)."""
    if isinstance(v, (str, bytes, bytearray)):
        return len(v) // 10
    if isinstance(v, dict) and depth < 3:
        return len(v) + sum(_size(x, depth + 1) for x in list(v.values())[:100]) * max(len(v) // 100, 1)
    if isinstance(v, (list, tuple, set, frozenset)) and depth < 3:
        items = list(v)[:100]
        return len(v) + sum(_size(x, depth + 1) for x in items) * max(len(v) // 100, 1)
    return 0


def _why_slower(expr: str, ns: Dict, compiled_s: float) -> tuple:
    """(short reason, longer explanation) for a compiled expression slower than Python."""
    node = ast.parse(expr, "<expression>", "eval").body
    if isinstance(node, ast.Call):
        try:
            args = [eval(compile(ast.Expression(a.value if isinstance(a, ast.keyword) else a), "<arg>", "eval"), ns)
                    for a in [*node.args, *node.keywords] if not isinstance(a, ast.Starred)]
        except Exception:  # only an explanation: never fail the measurement for it
            args = []
        big = max(args, key=_size, default=None)
        if big is not None and _size(big) >= BIG_ARG:
            n = len(big) if hasattr(big, "__len__") else _size(big)
            return ("argument conversion dominates",
                    f"each call converts its arguments to C++ values (here a {type(big).__name__} of {n:,} "
                    f"items), which costs more than the work done on them; pass a compiled object or do "
                    f"more work per call")
    if compiled_s < TINY_S:
        return ("call overhead dominates",
                "the work per call is tiny, so the fixed cost of calling compiled code (converting the "
                "arguments and the result) dominates; time a bigger input")
    return ("Python is faster on this input",
            "no boundary cost explains it; look for dynamic (Any) lines in the Annotate tab")


def bench(texts: List[str], py_ns: Dict, c_ns: Dict, quiet: Optional[Callable[[], None]] = None) -> List[dict]:
    """Times each expression with the Python originals and the compiled objects.

    ``quiet`` is called before each expression is timed and blocks until the
    machine is quiet (no other build compiling). Rows keep ``python_s``,
    ``compiled_s`` (medians) and ``speedup`` (median / median), plus the
    spread of each side (``python``, ``compiled``: see ``summary``),
    ``speedup_q`` (quartiles of the paired ratios), ``noisy`` and, when the
    compiled side is slower, ``why`` and ``why_detail``."""
    rows = []
    for expr in split_exprs(texts):
        row = {"expr": expr, "python_s": None, "compiled_s": None, "speedup": None, "error": "",
               "python": None, "compiled": None, "speedup_q": None, "noisy": False, "why": "", "why_detail": ""}
        try:
            eval(expr, c_ns)
            eval(expr, py_ns)
            if quiet is not None:
                quiet()
            t = timings(expr, py_ns, c_ns)
            row.update(python=t["python"], compiled=t["compiled"], speedup_q=t["ratio_q"],
                       python_s=t["python"]["median"], compiled_s=t["compiled"]["median"])
            row["speedup"] = row["python_s"] / row["compiled_s"] if row["compiled_s"] > 0 else None
            row["noisy"] = t["python"]["noisy"] or t["compiled"]["noisy"]
            if slower(row):
                row["why"], row["why_detail"] = _why_slower(expr, c_ns, row["compiled_s"])
        except Exception as e:  # shown in the table instead of a number
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows


def slower(row: dict) -> bool:
    """Compiled is clearly slower: the median ratio and most paired ratios are under 1."""
    q = row.get("speedup_q")
    return row["speedup"] is not None and row["speedup"] < 1 and (q is None or q[1] < 1)


def ratio(x: float) -> str:
    """A speedup for people, in significant digits: 201×, 53.7×, 2.1×, 0.37×, 0.0001×."""
    if x is None or not math.isfinite(x) or x <= 0:
        return "–"
    if x >= 1:
        digits = 0 if x >= 100 else 1
    else:
        digits = 1 - math.floor(math.log10(x))  # two significant digits
    text = f"{x:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "×"


def seconds(s) -> str:
    """A duration for people: 31.2 ms, 4.1 µs."""
    if s is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"

