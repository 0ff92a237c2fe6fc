"""Differential test harness: a case is a Python snippet plus calls; each call runs
under CPython and compiled by matx_nb, and both must agree on the result (same
value, same types all the way down) or raise the same exception class.

Case files (tests/cases/*.test) hold many cases:

    [case fib_recursion]
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    [calls]
    fib(10)
"""
from __future__ import annotations

import importlib.util
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Tuple

PRELUDE = "from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union\n"
CASE_RE = re.compile(r"\[case ([^\]]*)\]\s*$")
XFAIL_RE = re.compile(r"\[xfail(?: (.*))?\]\s*$")


@dataclass
class Case:
    name: str
    file: str
    line: int
    source: List[str] = field(default_factory=list)
    calls: List[Tuple[int, str]] = field(default_factory=list)
    xfail: Optional[str] = None


def parse_file(path: Path) -> List[Case]:
    cases: List[Case] = []
    cur: Optional[Case] = None
    in_calls = False
    for no, raw in enumerate(path.read_text().splitlines(), 1):
        m = CASE_RE.match(raw)
        if m:
            cur = Case(m.group(1).strip(), str(path), no)
            cases.append(cur)
            in_calls = False
            continue
        if cur is None:
            continue
        if not cur.source and not in_calls and (x := XFAIL_RE.match(raw)):
            cur.xfail = x.group(1) or "expected to fail"
            continue
        if raw.strip() == "[calls]":
            in_calls = True
            continue
        if in_calls:
            s = raw.strip()
            if s and not s.startswith("#"):
                cur.calls.append((no, s))
        else:
            cur.source.append(raw)
    return cases


def load_cases(directory: Path) -> List[Case]:
    out = []
    for p in sorted(directory.glob("*.test")):
        out.extend(parse_file(p))
    return out


# A container attribute of a compiled instance reads as a live handle on it
# (matx_nb.List/Dict/Set, native.cc live_container.h): it stands for the Python
# attribute's own list/dict/set, so it is compared as the plain container.
LIVE_TYPES = ("matx_nb.List", "matx_nb.Dict", "matx_nb.Set")


def plain(v: Any) -> Any:
    t = type(v)
    return v.copy() if f"{t.__module__}.{t.__name__}" in LIVE_TYPES else v


def same(a: Any, b: Any) -> bool:
    """Equal values with equal types, recursively (1 vs True vs 1.0 differ)."""
    a, b = plain(a), plain(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, set):
        return a == b
    return a == b


def outcome(fn) -> Tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:  # the exception class is the comparable outcome
        return "raise", e


def write_module(case: Case, directory: Path):
    """Writes the case's source to a real file (compiled code needs source) and imports it."""
    path = directory / f"case_{case.name}.py"
    path.write_text(PRELUDE + "\n".join(case.source) + "\n")
    spec = importlib.util.spec_from_file_location(f"case_{case.name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def compiled_namespace(mod, calls=None) -> dict:
    """The module's namespace with its functions and classes compiled (only those
    the calls name, when given: helpers may be callable from compiled code only)."""
    from matx_nb.scripting import script_together
    ns = dict(vars(mod))
    used = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", " ".join(calls))) if calls is not None else None
    names = [name for name, v in vars(mod).items()
             if (used is None or name in used) and getattr(v, "__module__", None) == mod.__name__
             and (callable(v) or isinstance(v, type))]
    # One library for them all, as a notebook cell's objects (one g++ run per case)
    for name, compiled in zip(names, script_together([getattr(mod, n) for n in names]) if names else []):
        if isinstance(compiled, Exception):
            raise compiled
        ns[name] = compiled
    return ns


def run_case(case: Case, directory: Path) -> List[str]:
    """Runs every call both ways; returns a description of each disagreement."""
    mod = write_module(case, directory)
    cns = compiled_namespace(mod, [c for _, c in case.calls])
    problems = []
    for line, call in case.calls:
        py = outcome(lambda: eval(call, dict(vars(mod))))
        mx = outcome(lambda: eval(call, dict(cns)))
        where = f"{case.file}:{line}: {call}"
        if py[0] == "ok" and mx[0] == "ok":
            if not same(py[1], mx[1]):
                problems.append(f"{where}\n  python:   {py[1]!r}\n  compiled: {mx[1]!r}")
        elif py[0] == "raise" and mx[0] == "raise":
            if type(py[1]) is not type(mx[1]):
                problems.append(f"{where}\n  python raised   {type(py[1]).__name__}: {py[1]}\n"
                                f"  compiled raised {type(mx[1]).__name__}: {mx[1]}")
        else:
            def show(o):
                return f"returned {o[1]!r}" if o[0] == "ok" else f"raised {type(o[1]).__name__}: {o[1]}"
            problems.append(f"{where}\n  python:   {show(py)}\n  compiled: {show(mx)}")
    return problems


def load_source(directory, name: str, source: str):
    """A module written to directory/name.py (typing's names imported on its first
    line) and imported under name: code that inspect can read, as a user's file."""
    import importlib.util
    import sys
    path = directory / f"{name}.py"
    path.write_text("from typing import Any, Callable, Dict, List, Optional, Set, Tuple\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
