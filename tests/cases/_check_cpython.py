#!/usr/bin/env python3
"""CPython-only sanity checker for the differential test corpus (tests/cases/*.test).

It does NOT involve matx_nb.  It checks that every case is well formed and that
its calls behave sensibly under plain CPython:

  * format: `[case NAME]` headers (snake_case, unique across all files), optional
    `[xfail REASON]` right after the header, source, `[calls]`, >= 1 call;
  * the source compiles and executes; every call expression compiles;
  * a call either returns a value or raises one of the *intended* exception
    classes (IndexError, KeyError, ZeroDivisionError, ValueError, OverflowError).
    Anything else (NameError, SyntaxError, TypeError, AttributeError,
    RecursionError, a timeout, ...) means the case itself is broken;
  * every int the program produces stays inside the signed 64-bit range.  The
    source and call expressions are instrumented so that the result of every
    arithmetic operation and every call is checked, not only the final result;
  * results contain only comparable values (no NaN, no instances of case
    classes, no dict views / iterators);
  * results do not depend on the order in which calls run (each call is also
    run in a freshly executed namespace) nor on string hashing (the whole
    corpus is re-run under several PYTHONHASHSEED values and compared);
  * a lint pass over the source for constructs outside the currently supported
    subset (imports, augmented assignment, slices, f-strings, keyword
    arguments, unknown builtins or methods, missing annotations, ...).

Usage:
    python3 tests/cases/_check_cpython.py [-v] [--show] [FILE.test ...]
(--show prints every call with its CPython outcome)
Exit status 0 when clean, 1 otherwise.
"""

import ast
import contextlib
import glob
import inspect
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import typing
from typing import Any, Dict, List, Optional, Set, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
EXPECTED_EXCEPTIONS = (IndexError, KeyError, ZeroDivisionError, ValueError, OverflowError)
TYPING_NAMES = {"List": List, "Dict": Dict, "Set": Set, "Tuple": Tuple,
                "Any": Any, "Optional": Optional}
ALLOWED_BUILTINS = {"len", "range", "min", "max", "abs", "int", "float", "str",
                    "bool", "print"}
ALLOWED_METHODS = {"get", "keys", "values", "items", "append", "pop", "extend",
                   "split", "join", "lower", "upper", "strip", "replace", "find",
                   "startswith", "endswith"}
TYPE_NAMES = {"int", "float", "bool", "str", "bytes", "List", "Dict", "Set", "Tuple",
              "Any", "Optional"}
CALL_TIMEOUT_S = 10
HASH_SEEDS = ("0", "1", "12345")
CASE_RE = re.compile(r"\[case ([^\]]*)\]\s*$")
XFAIL_RE = re.compile(r"\[xfail(?: (.*))?\]\s*$")
NAME_RE = re.compile(r"[a-z][a-z0-9_]*$")


class Case:
    def __init__(self, name: str, path: str, line: int) -> None:
        self.name = name
        self.path = path
        self.line = line
        self.xfail: Optional[str] = None
        self.source_lines: List[str] = []
        self.source_start = line + 1
        self.calls: List[Tuple[int, str]] = []
        self.saw_calls = False

    @property
    def source(self) -> str:
        return "\n".join(self.source_lines) + "\n"

    def where(self, lineno: Optional[int] = None) -> str:
        rel = os.path.relpath(self.path)
        return f"{rel}:{lineno if lineno is not None else self.line}"


def parse_file(path: str, problems: List[str]) -> List[Case]:
    cases: List[Case] = []
    cur: Optional[Case] = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        m = CASE_RE.match(line)
        if m:
            cur = Case(m.group(1), path, lineno)
            if not NAME_RE.match(cur.name):
                problems.append(f"{cur.where()}: case name {cur.name!r} is not snake_case")
            cases.append(cur)
            continue
        if cur is None:
            if line.strip() and not line.startswith("#"):
                problems.append(f"{os.path.relpath(path)}:{lineno}: text before the first [case]")
            continue
        m = XFAIL_RE.match(line)
        if m and not cur.saw_calls:
            if cur.source_lines or cur.xfail is not None:
                problems.append(f"{cur.where(lineno)}: [xfail] must directly follow the [case] header")
            cur.xfail = m.group(1) or ""
            cur.source_start = lineno + 1
            continue
        if line.strip() == "[calls]":
            if cur.saw_calls:
                problems.append(f"{cur.where(lineno)}: second [calls] section")
            cur.saw_calls = True
            continue
        if not cur.saw_calls:
            cur.source_lines.append(line)
        else:
            s = line.strip()
            if s and not s.startswith("#"):
                cur.calls.append((lineno, s))
    for c in cases:
        if not c.saw_calls:
            problems.append(f"{c.where()}: case {c.name} has no [calls] section")
        elif not c.calls:
            problems.append(f"{c.where()}: case {c.name} has no calls")
    return cases


# --------------------------------------------------------------------------- lint

class Linter(ast.NodeVisitor):
    BANNED = {
        ast.Import: "import", ast.ImportFrom: "import", ast.AugAssign: "augmented assignment",
        ast.Delete: "del", ast.Lambda: "lambda", ast.JoinedStr: "f-string",
        ast.Slice: "slice", ast.SetComp: "set comprehension",
        ast.DictComp: "dict comprehension", ast.GeneratorExp: "generator expression",
        ast.Try: "try", ast.Raise: "raise", ast.With: "with", ast.Assert: "assert",
        ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Yield: "yield",
        ast.YieldFrom: "yield", ast.Await: "await", ast.Starred: "starred expression",
        ast.NamedExpr: "walrus", ast.AsyncFunctionDef: "async",
    }
    if hasattr(ast, "Match"):
        BANNED[ast.Match] = "match"

    def __init__(self, case: Case, report) -> None:
        self.case = case
        self.report = report
        self.defined: Set[str] = set()
        self.methods: Set[str] = set()
        self.annotation_names: Set[int] = set()

    def lint(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.defined.add(node.id)
            elif isinstance(node, ast.arg):
                self.defined.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                self.defined.add(node.name)
        classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        for node in ast.walk(tree):
            anns: List[Optional[ast.expr]] = []
            if isinstance(node, ast.arg):
                anns.append(node.annotation)
            elif isinstance(node, ast.FunctionDef):
                anns.append(node.returns)
            elif isinstance(node, ast.AnnAssign):
                anns.append(node.annotation)
            for ann in anns:
                for sub in ast.walk(ann) if ann is not None else ():
                    if isinstance(sub, ast.Name):
                        self.annotation_names.add(id(sub))
                        if sub.id not in TYPE_NAMES and sub.id not in classes:
                            self.bad(sub, f"type {sub.id!r} in annotation is outside the supported subset")
                    elif isinstance(sub, ast.Constant) and sub.value is not None:
                        self.bad(sub, "string / constant annotation")
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        self.methods.add(item.name)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)):
                self.bad(node, f"top-level {type(node).__name__} (only functions, classes, constants)")
        self.visit(tree)

    def bad(self, node: ast.AST, msg: str) -> None:
        line = self.case.source_start + getattr(node, "lineno", 1) - 1
        self.report(f"{self.case.where(line)}: [{self.case.name}] lint: {msg}")

    def generic_visit(self, node: ast.AST) -> None:
        for typ, what in self.BANNED.items():
            if isinstance(node, typ):
                self.bad(node, f"{what} is outside the supported subset")
        if isinstance(node, (ast.For, ast.While)) and node.orelse:
            self.bad(node, "for/while ... else is outside the supported subset")
        if isinstance(node, ast.FunctionDef):
            self.check_function(node)
        if isinstance(node, ast.ClassDef) and (node.bases or node.keywords or node.decorator_list):
            self.bad(node, "class bases/decorators are outside the supported subset")
        if isinstance(node, ast.Call):
            if node.keywords:
                self.bad(node, "keyword arguments are outside the supported subset")
            if isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name not in ALLOWED_METHODS and name not in self.methods:
                    self.bad(node, f"method .{name}() is outside the supported subset")
        if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                and id(node) not in self.annotation_names):
            if (node.id not in self.defined and node.id not in ALLOWED_BUILTINS
                    and node.id not in TYPING_NAMES):
                self.bad(node, f"name {node.id!r} is neither defined in the case nor a supported builtin")
        if isinstance(node, ast.Constant) and type(node.value) is int:
            if not INT_MIN <= node.value <= INT_MAX:
                self.bad(node, f"int literal {node.value} outside int64")
        super().generic_visit(node)

    def check_function(self, fn: ast.FunctionDef) -> None:
        a = fn.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            self.bad(fn, f"{fn.name}: *args/**kwargs/keyword-only/positional-only parameters")
        if a.defaults or a.kw_defaults:
            self.bad(fn, f"{fn.name}: default parameter values are outside the supported subset")
        if fn.decorator_list:
            self.bad(fn, f"{fn.name}: decorators are outside the supported subset")
        for i, arg in enumerate(a.args):
            if i == 0 and arg.arg == "self":
                continue
            if arg.annotation is None:
                self.bad(fn, f"{fn.name}: parameter {arg.arg!r} is not annotated")
        if fn.returns is None:
            self.bad(fn, f"{fn.name}: missing return annotation")


def lint_calls(case: Case, tree: ast.Module, report) -> None:
    """Call expressions may use the case's functions and classes (and Python
    builtins to build arguments) but not its module constants, which need not
    exist in the compiled namespace."""
    constants = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Name):
                    constants.add(sub.id)
    for lineno, expr in case.calls:
        try:
            ctree = ast.parse(expr, mode="eval")
        except SyntaxError:
            continue  # reported when the call runs
        for sub in ast.walk(ctree):
            if isinstance(sub, ast.Name) and sub.id in constants:
                report(f"{case.where(lineno)}: [{case.name}] {expr}: call uses module constant {sub.id!r}")
            if isinstance(sub, (ast.Lambda, ast.NamedExpr)):
                report(f"{case.where(lineno)}: [{case.name}] {expr}: keep call expressions simple")


# ------------------------------------------------------------------ instrumentation

class Int64Instrumenter(ast.NodeTransformer):
    """Wrap every BinOp / UnaryOp / Call in __chk__(value, lineno)."""

    def __init__(self, line_offset: int) -> None:
        self.line_offset = line_offset

    def _wrap(self, node: ast.expr) -> ast.expr:
        line = self.line_offset + getattr(node, "lineno", 1) - 1
        new = ast.Call(func=ast.Name(id="__chk__", ctx=ast.Load()),
                       args=[node, ast.Constant(value=line)], keywords=[])
        return ast.copy_location(new, node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._wrap(node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return self._wrap(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        return self._wrap(node)

    def visit_Set(self, node):
        # every set display goes through __rset__ (identity unless --reverse-sets)
        self.generic_visit(node)
        new = ast.Call(func=ast.Name(id="__rset__", ctx=ast.Load()), args=[node], keywords=[])
        return ast.copy_location(new, node)


class ReversedSet(set):
    """A set whose iteration order is the reverse of CPython's, to detect cases
    whose result depends on set iteration order (which a compiled program need
    not share, even for ints)."""

    def __iter__(self):
        return reversed(list(set.__iter__(self)))


REVERSE_SETS = False


def rset(s):
    return ReversedSet(s) if REVERSE_SETS else s


class Checker:
    def __init__(self) -> None:
        self.violations: List[Tuple[int, int]] = []

    def __call__(self, value, line):
        if type(value) is int and not INT_MIN <= value <= INT_MAX and len(self.violations) < 5:
            self.violations.append((line, value))
        return value


def instrumented_code(src: str, filename: str, mode: str, line_offset: int):
    tree = ast.parse(src, filename, mode)
    tree = Int64Instrumenter(line_offset).visit(tree)
    ast.fix_missing_locations(tree)
    return compile(tree, filename, mode)


# ------------------------------------------------------------ annotation checking

def type_matches(v: Any, ann: Any, classes: Tuple[type, ...], budget: List[int]) -> bool:
    """Does v have exactly the annotated type (int is not float, bool is not int)?"""
    budget[0] -= 1
    if budget[0] < 0:
        return True  # stop checking very large values
    if ann is Any:
        return True
    if ann is None or ann is type(None):
        return v is None
    if isinstance(ann, type) and ann in classes:
        return isinstance(v, ann)
    if ann in (int, float, bool, str, bytes):
        return type(v) is ann
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Union:
        return any(type_matches(v, a, classes, budget) for a in args)
    if origin is list:
        return type(v) is list and all(type_matches(x, args[0], classes, budget) for x in v)
    if origin is set:
        return type(v) is set and all(type_matches(x, args[0], classes, budget) for x in set.__iter__(v))
    if origin is dict:
        return type(v) is dict and all(type_matches(k, args[0], classes, budget) and
                                       type_matches(x, args[1], classes, budget) for k, x in v.items())
    if origin is tuple:
        if type(v) is not tuple:
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(type_matches(x, args[0], classes, budget) for x in v)
        return len(v) == len(args) and all(type_matches(x, a, classes, budget) for x, a in zip(v, args))
    return True  # unknown annotation: the linter complains about it


def short_repr(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def add_annotation_checks(ns: Dict[str, Any], modname: str, sink: List[str]) -> None:
    """Replace every case function / method by a wrapper checking that arguments
    and results have exactly the annotated types.  A compiled function converts
    to its declared types, so e.g. `def f() -> float: return 1` would differ."""
    classes = tuple(v for v in ns.values() if isinstance(v, type) and v.__module__ == modname)

    def wrap(fn, qual: str, is_method: bool):
        try:
            hints = typing.get_type_hints(fn, globalns=ns)
        except Exception:  # noqa: BLE001
            return fn
        names = fn.__code__.co_varnames[:fn.__code__.co_argcount]

        def wrapper(*args):
            for i, (name, val) in enumerate(zip(names, args)):
                if is_method and i == 0:
                    continue
                if name in hints and not type_matches(val, hints[name], classes, [2000]):
                    sink.append(f"annotation mismatch: {qual}() argument {name}={short_repr(val)} "
                                f"is not {typing_name(hints[name])}")
            result = fn(*args)
            if "return" in hints and not type_matches(result, hints["return"], classes, [2000]):
                sink.append(f"annotation mismatch: {qual}() returned {short_repr(result)} "
                            f"({type(result).__name__}), declared {typing_name(hints['return'])}")
            return result
        return wrapper

    for name, obj in list(ns.items()):
        if inspect.isfunction(obj) and obj.__module__ == modname:
            ns[name] = wrap(obj, name, False)
        elif isinstance(obj, type) and obj in classes:
            for attr, val in list(vars(obj).items()):
                if inspect.isfunction(val):
                    setattr(obj, attr, wrap(val, f"{name}.{attr}", True))


def typing_name(ann: Any) -> str:
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace("typing.", "")


# ---------------------------------------------------------------------- execution

class CallTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CallTimeout()


def canonical(v: Any, case_classes: Tuple[type, ...], problems: List[str], path: str = "result") -> Any:
    """A hash-seed independent, JSON-able description of a value (type-exact)."""
    t = type(v)
    if v is None:
        return "None"
    if t is bool:
        return ["bool", v]
    if t is int:
        if not INT_MIN <= v <= INT_MAX:
            problems.append(f"{path} = {v} is outside int64")
        return ["int", v]
    if t is float:
        if math.isnan(v):
            problems.append(f"{path} is NaN (never compares equal)")
        return ["float", repr(v)]
    if t is str:
        return ["str", v]
    if t is bytes:
        return ["bytes", v.hex()]
    if t is list:
        return ["list", [canonical(x, case_classes, problems, f"{path}[{i}]") for i, x in enumerate(v)]]
    if t is tuple:
        return ["tuple", [canonical(x, case_classes, problems, f"{path}[{i}]") for i, x in enumerate(v)]]
    if t is dict:
        return ["dict", [[canonical(k, case_classes, problems, f"{path} key"),
                          canonical(x, case_classes, problems, f"{path}[{k!r}]")] for k, x in v.items()]]
    if isinstance(v, (set, frozenset)) and t in (set, frozenset, ReversedSet):
        items = [canonical(x, case_classes, problems, f"{path} elem") for x in set.__iter__(v)]
        return ["set", sorted(items, key=lambda x: json.dumps(x, sort_keys=True))]
    if isinstance(v, case_classes):
        problems.append(f"{path} is an instance of case class {t.__name__} (compared by identity)")
    else:
        problems.append(f"{path} has unsupported type {t.__name__}")
    return ["?", t.__name__]


def run_calls(case: Case, fresh_each: bool, report, typecheck: bool = False) -> List[Any]:
    """Run all calls; return canonical outcomes (None for a broken call).
    With typecheck, functions and methods check their annotations (this adds
    a wrapper frame per call, so the recursion limit is raised meanwhile)."""
    ns: Dict[str, Any] = {}
    chk = Checker()
    outcomes: List[Any] = []
    type_problems: List[str] = []

    def new_ns() -> Optional[Dict[str, Any]]:
        d: Dict[str, Any] = dict(TYPING_NAMES)
        d["__name__"] = "case_" + case.name
        d["__chk__"] = chk
        d["__rset__"] = rset
        code = instrumented_code(case.source, f"<case {case.name}>", "exec", case.source_start)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, d)
        if typecheck:
            add_annotation_checks(d, d["__name__"], type_problems)
        return d

    try:
        ns = new_ns()
    except BaseException as e:  # noqa: BLE001
        report(f"{case.where()}: [{case.name}] source does not execute: {type(e).__name__}: {e}")
        return [None] * len(case.calls)
    case_classes = tuple(v for v in ns.values() if isinstance(v, type) and
                         getattr(v, "__module__", None) == "case_" + case.name)
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for lineno, expr in case.calls:
            where = f"{case.where(lineno)}: [{case.name}] {expr}"
            try:
                code = instrumented_code(expr, f"<call {case.name}>", "eval", lineno)
            except SyntaxError as e:
                report(f"{where}: SyntaxError in call: {e.msg}")
                outcomes.append(None)
                continue
            try:
                use_ns = new_ns() if fresh_each else ns
            except BaseException as e:  # noqa: BLE001
                report(f"{where}: source does not execute: {e!r}")
                outcomes.append(None)
                continue
            out = io.StringIO()
            del chk.violations[:]
            del type_problems[:]
            old_limit = sys.getrecursionlimit()
            if typecheck:
                sys.setrecursionlimit(4 * old_limit)
            signal.alarm(CALL_TIMEOUT_S)
            try:
                with contextlib.redirect_stdout(out):
                    value = eval(code, use_ns)
                outcome: Any = ["ok"]
            except CallTimeout:
                report(f"{where}: call did not finish in {CALL_TIMEOUT_S}s")
                outcomes.append(None)
                continue
            except EXPECTED_EXCEPTIONS as e:
                value = None
                name = type(e).__name__
                # report the builtin class a compiled program must raise
                for cls in EXPECTED_EXCEPTIONS:
                    if type(e) is cls:
                        break
                else:
                    report(f"{where}: raises {name}, a subclass of an expected class; "
                           f"make the expected exception explicit")
                outcome = ["raise", name]
            except BaseException as e:  # noqa: BLE001
                report(f"{where}: broken call: {type(e).__name__}: {e}")
                outcomes.append(None)
                continue
            finally:
                signal.alarm(0)
                sys.setrecursionlimit(old_limit)
            for msg in dict.fromkeys(type_problems[:20]):
                report(f"{where}: {msg}")
            for line, v in chk.violations:
                report(f"{where}: intermediate int {v} outside int64 (line {line})")
            if outcome[0] == "ok":
                problems: List[str] = []
                outcome.append(canonical(value, case_classes, problems))
                for p in problems:
                    report(f"{where}: {p}")
            outcome.append(out.getvalue())
            outcomes.append(outcome)
    finally:
        signal.signal(signal.SIGALRM, old)
    return outcomes


def describe(outcome: Any) -> str:
    if outcome is None:
        return "BROKEN"
    if outcome[0] == "raise":
        return "raises " + outcome[1]
    text = plain(outcome[1])
    if outcome[2]:
        text += f"   (stdout {outcome[2]!r})"
    return text


def plain(c: Any) -> str:
    if c == "None":
        return "None"
    tag, v = c
    if tag in ("int", "bool", "str"):
        return repr(v)
    if tag == "float":
        return v
    if tag == "bytes":
        return repr(bytes.fromhex(v))
    if tag == "list":
        return "[" + ", ".join(plain(x) for x in v) + "]"
    if tag == "tuple":
        return "(" + ", ".join(plain(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if tag == "set":
        return "{" + ", ".join(plain(x) for x in v) + "}" if v else "set()"
    if tag == "dict":
        return "{" + ", ".join(plain(k) + ": " + plain(x) for k, x in v) + "}"
    return f"<{v}>"


SHOW = False


def check_files(paths: List[str], verbose: bool, dump: bool) -> int:
    problems: List[str] = []
    report = problems.append
    all_cases: List[Case] = []
    per_file: Dict[str, int] = {}
    for p in paths:
        cs = parse_file(p, problems)
        per_file[os.path.basename(p)] = len(cs)
        all_cases.extend(cs)

    seen: Dict[str, Case] = {}
    for c in all_cases:
        if c.name in seen:
            report(f"{c.where()}: duplicate case name {c.name} (first at {seen[c.name].where()})")
        else:
            seen[c.name] = c

    results: Dict[str, Any] = {}
    n_calls = 0
    for c in all_cases:
        try:
            tree = ast.parse(c.source, f"<case {c.name}>")
        except SyntaxError as e:
            line = c.source_start + (e.lineno or 1) - 1
            report(f"{c.where(line)}: [{c.name}] SyntaxError in source: {e.msg}")
            continue
        if not dump:
            Linter(c, report).lint(tree)
            lint_calls(c, tree, report)
        shared = run_calls(c, fresh_each=False, report=report)
        n_calls += len(c.calls)
        if not dump:
            # fresh namespace per call, with annotation checks
            fresh = run_calls(c, fresh_each=True, typecheck=True,
                              report=lambda m: report(m) if "annotation mismatch" in m else None)
            for (lineno, expr), a, b in zip(c.calls, shared, fresh):
                if a is not None and a != b:
                    report(f"{c.where(lineno)}: [{c.name}] {expr}: result depends on earlier calls "
                           f"(shared namespace {a!r} vs fresh {b!r})")
        results[f"{c.path}:{c.line}"] = shared
        if SHOW and not dump:
            print(f"[{c.name}]")
            for (lineno, expr), out in zip(c.calls, shared):
                print(f"    {expr}  ->  {describe(out)}")
        if verbose and not dump:
            print(f"{c.where()}: {c.name}: {len(c.calls)} calls")

    if dump:
        json.dump(results, sys.stdout)
        return 0

    # hash-seed independence (set iteration order of str/bytes/tuples etc.)
    # and set iteration order (every set display iterates in reverse)
    for seed, extra in [(s, []) for s in HASH_SEEDS] + [("0", ["--reverse-sets"])]:
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--dump", *extra, *paths],
                              env=env, capture_output=True, text=True)
        what = f"PYTHONHASHSEED={seed}" + (" with reversed set iteration" if extra else "")
        if proc.returncode != 0:
            report(f"--dump run with {what} failed: {proc.stderr[-2000:]}")
            continue
        other = json.loads(proc.stdout)
        for c in all_cases:
            key = f"{c.path}:{c.line}"
            mine, theirs = results.get(key), other.get(key)
            if mine is None or theirs is None:
                continue
            for (lineno, expr), a, b in zip(c.calls, mine, theirs):
                if a != b:
                    report(f"{c.where(lineno)}: [{c.name}] {expr}: result depends on the hash seed "
                           f"or set order ({a!r} vs {b!r} under {what})")

    for line in problems:
        print(line)
    print()
    for name, n in per_file.items():
        print(f"  {name:24s} {n:4d} cases")
    print(f"  {'total':24s} {len(all_cases):4d} cases, {n_calls} calls")
    xf = sum(1 for c in all_cases if c.xfail is not None)
    if xf:
        print(f"  ({xf} marked xfail)")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def main(argv: List[str]) -> int:
    verbose = "-v" in argv
    global SHOW
    SHOW = "--show" in argv
    dump = "--dump" in argv
    global REVERSE_SETS
    REVERSE_SETS = "--reverse-sets" in argv
    paths = [a for a in argv if not a.startswith("-")]
    if not paths:
        paths = sorted(glob.glob(os.path.join(HERE, "*.test")))
    if not paths:
        print("no .test files found")
        return 1
    return check_files(paths, verbose, dump)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
