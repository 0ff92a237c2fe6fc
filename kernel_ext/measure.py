"""--check and --bench: each expression evaluated by the Python originals and by
the compiled objects, results compared, per-call times measured."""
from __future__ import annotations

import ast
import statistics
import timeit
from typing import Dict, List

REPEATS = 5
SAMPLE_S = 0.01  # a sample runs the expression this long at least


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
    """Median seconds per evaluation: REPEATS samples of at least SAMPLE_S each."""
    timer = timeit.Timer(expr, globals=ns)
    n, t = 1, timer.timeit(1)
    while t < SAMPLE_S and n < 1 << 24:
        n = n * 2 if t <= 0 else min(max(n * 2, int(n * SAMPLE_S / t * 1.2) + 1), n * 100)
        t = timer.timeit(n)
    samples = [t / n] + [timer.timeit(n) / n for _ in range(REPEATS - 1)]
    return statistics.median(samples)


def bench(texts: List[str], py_ns: Dict, c_ns: Dict) -> List[dict]:
    rows = []
    for expr in split_exprs(texts):
        row = {"expr": expr, "python_s": None, "compiled_s": None, "speedup": None, "error": ""}
        try:
            eval(expr, c_ns)
            row["compiled_s"] = per_call(expr, c_ns)
            eval(expr, py_ns)
            row["python_s"] = per_call(expr, py_ns)
            row["speedup"] = row["python_s"] / row["compiled_s"]
        except Exception as e:  # shown in the table instead of a number
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows


def seconds(s) -> str:
    """A duration for people: 31.2 ms, 4.1 µs."""
    if s is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"

