"""The compile pipeline: collect sources -> (cache hit? load) -> lower -> check
-> generate C++ -> build -> load. The compiler stages never import Jupyter."""
from __future__ import annotations

import hashlib
import json
import linecache
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import sources
from .diagnostics import CompileError, Diagnostic, DiagnosticSink, Span
from .toolchain import DEFAULT_OPT, CompilerKilled, LibraryCache, Toolchain

# The later stages (IR, checker, codegen) are imported on a cache miss only,
# so a cache hit in a new process stays cheap.

PHASES = ("checking", "generating", "compiling", "loading")
_progress = threading.local()


@contextmanager
def reporting(callback, on_source=None):
    """Calls callback(phase) on this thread as a compile enters each of PHASES
    (the notebook's status line and side panel show it), and on_source(cpp)
    with the generated C++ before g++ starts on it (the notebook renders it
    meanwhile)."""
    previous = getattr(_progress, "callback", None), getattr(_progress, "on_source", None)
    _progress.callback, _progress.on_source = callback, on_source
    try:
        yield
    finally:
        _progress.callback, _progress.on_source = previous


def report(phase: str, *args) -> None:
    callback = getattr(_progress, "on_source" if phase == "source" else "callback", None)
    if callback is not None:
        try:
            callback(*args) if phase == "source" else callback(phase)
        except Exception:  # a display problem never fails a compile
            pass


@dataclass
class CompileResult:
    """What one compilation produced; kept on the compiled object as `.matx`."""
    entry: str
    library: Path
    cpp: Optional[str]  # generated source (read from the cache on a hit)
    cache_hit: bool
    seconds: Dict[str, float] = field(default_factory=dict)
    line_map: List = field(default_factory=list)  # (cpp line, python file, python line)
    program: Optional[object] = None  # ir.Program
    # Per Python line: "typed" (static C++) or "dynamic" (some value is an Any
    # dispatched at run time); [(file, line, kind)] in source order.
    annotate: List = field(default_factory=list)
    opt: str = ""  # the optimization level it was built at

    def load_details(self) -> "CompileResult":
        """Fills cpp, line_map and annotate from the cache on a cache hit."""
        if self.cpp is None and self.library:
            d = Path(self.library).parent
            try:
                self.cpp = (d / "source.cc").read_text()
                meta = json.loads((d / "meta.json").read_text())
            except (OSError, ValueError):
                return self
            # Stored relative to each object's first line: the cached library is
            # shared by copies of the code at other places (see library.load_library).
            where = {name: (file, int(first)) for file, first, name in getattr(self, "origins", [])}

            def place(name, rel):
                file, first = where.get(name, (name, 0))
                return file, first + rel
            self.line_map = [(n, *place(o, r)) for n, o, r in meta.get("line_map", [])]
            self.annotate = [(*place(o, r), k) for o, r, k in meta.get("annotate", [])]
        return self


def _source_line(sources):
    def get(file: str, line: int) -> str:
        for s in sources.values():
            if s.file == file and s.first_line <= line < s.first_line + len(s.lines):
                return s.line_text(line)
        return linecache.getline(file, line)
    return get


def _relative(sources, file: str, line: int) -> tuple:
    for name, s in sources.items():
        if s.file == file and s.first_line <= line < s.first_line + len(s.lines):
            return name, line - s.first_line
    return file, line


def class_layouts(program) -> Dict[str, str]:
    """An id per class that changes whenever its C++ field layout changes."""
    from .emit.cpp import ctype
    from . import ir
    out = {}
    for c in program.classes:
        chain = "<".join(k.name for k in ir.class_chain(c))
        desc = chain + "|" + ";".join(f"{k}:{ctype(t)}" for k, t in ir.all_attrs(c).items())
        out[c.name] = c.name + "-" + hashlib.sha256(desc.encode()).hexdigest()[:12]
    return out


def annotate_lines(program) -> List[tuple]:
    """(file, line, "typed" | "dynamic") for every Python line holding code:
    dynamic where an expression's value is an `Any` (run-time dispatch)."""
    from .types import AnyType, ErrorType, resolve
    from . import ir
    kinds: Dict[tuple, str] = {}

    def visit(node):
        if isinstance(node, ir.Node):
            key = (node.span.file, node.span.line)
            if isinstance(node, ir.Expr) and node.ty is not None:
                t = resolve(node.ty)
                if isinstance(t, AnyType) and not isinstance(t, ErrorType):
                    kinds[key] = "dynamic"
            kinds.setdefault(key, "typed")
            children = vars(node).items()
        elif isinstance(node, (list, tuple)):
            children = enumerate(node)
        else:
            return
        for k, v in children:
            if k not in ("ty", "resolved", "span", "info") and isinstance(v, (ir.Node, list, tuple)):
                visit(v)

    def function(f):
        dynamic = any(isinstance(resolve(p.ty), AnyType) for p in f.params if p.ty is not None)
        kinds[(f.span.file, f.span.line)] = "dynamic" if dynamic else "typed"
        visit(f.body)

    for c in program.classes:
        for m in list(c.methods.values()) + list(c.statics.values()):
            function(m)
    for f in program.functions:
        function(f)
    return [(f, l, k) for (f, l), k in sorted(kinds.items())]


def collect(obj: Any, sink: DiagnosticSink) -> "sources.Collector":
    col = sources.Collector(sink)
    try:
        col.add(obj)
    except sources.SourceUnavailable as e:
        raise CompileError([Diagnostic(Span("<unknown>", 0, 0), str(e))]) from None
    except SyntaxError as e:
        raise CompileError([Diagnostic(Span(e.filename or "<unknown>", e.lineno or 0, (e.offset or 1) - 1),
                                       f"syntax error: {e.msg}", source_line=e.text or "")]) from None
    return col


def analyze(obj: Any) -> tuple:
    """Front end and type checker only: (program, collector); raises CompileError."""
    from . import frontend
    from .check import checker
    sink = DiagnosticSink()
    col = collect(obj, sink)
    entry = sources.unwrap(obj).__name__

    def check():
        sink = DiagnosticSink()  # each attempt its own (deeply() may run this twice)
        program = frontend.lower_program(col, sink, entry)
        checker.check(checker.Checker(program, sink, col.sources, col.constants, col.modules))
        sink.raise_if_any()
        return program
    return deeply(check, col, entry), col


def generate_cpp(obj: Any) -> str:
    """The C++ that compiling obj would build, without building it (front end,
    checker, analyses and emitter only): for reading, and for the golden tests
    of code generation (tests/codegen/)."""
    from . import frontend, passes
    from .check import checker
    from .emit import emitter
    col = collect(obj, DiagnosticSink())
    entry = sources.unwrap(obj).__name__

    def stages():
        sink = DiagnosticSink()
        program = frontend.lower_program(col, sink, entry)
        checker.check(checker.Checker(program, sink, col.sources, col.constants, col.modules))
        sink.raise_if_any()
        passes.run(program)
        return emitter.emit(emitter.Emitter(program, _source_line(col.sources), class_layouts(program)))
    return deeply(stages, col, entry)


# The stages after the cache key walk the tree recursively, and nesting is as deep
# as the code: each branch of an elif chain is one level (~10 Python frames), so
# a 400-branch chain passes the default limit of 1000 frames. Code that does runs
# again on a thread of its own with a large stack and a high limit (the limit is
# the process's: raised only for such code, and only while it compiles); deeper
# code still is a clear error.
DEEP_RECURSION_LIMIT = 40000
DEEP_STACK_BYTES = 1 << 30  # address space only: pages are committed as the stack grows
_deep_lock = threading.Lock()
_deep_users = [0, 0]  # threads inside deeply(), the recursion limit to restore


def deeply(fn, col: "sources.Collector", entry: str):
    """fn(), where a RecursionError makes it run again with room for deep
    recursion, then becomes a CompileError naming the object. fn must not change
    what it reads (the stages build a new program from col each time)."""
    try:
        return fn()
    except RecursionError:
        pass
    out: Dict[str, Any] = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    with _deep_lock:
        if _deep_users[0] == 0:
            _deep_users[1] = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_deep_users[1], DEEP_RECURSION_LIMIT))
        _deep_users[0] += 1
        previous = threading.stack_size(DEEP_STACK_BYTES)
        try:
            worker = threading.Thread(target=run, name="matx_nb-compile-stages", daemon=True)
            worker.start()
        finally:
            threading.stack_size(previous)
    try:
        worker.join()
    finally:
        with _deep_lock:
            _deep_users[0] -= 1
            if _deep_users[0] == 0:
                sys.setrecursionlimit(_deep_users[1])
    error = out.get("error")
    if isinstance(error, RecursionError):
        src = col.sources[entry]
        raise CompileError([Diagnostic(
            src.span(src.tree), f"'{entry}' nests too deeply to compile (its statements or expressions "
            f"go more than a few thousand levels deep)", "split it into smaller functions",
            source_line=src.line_text(src.first_line))]) from None
    if error is not None:
        raise error
    return out["value"]


def compile_object(obj: Any, opt: str = DEFAULT_OPT, force: bool = False, together: tuple = (),
                   split: bool = False, prefer_cached: str = "") -> tuple:
    """Compiles obj and its dependencies, and the objects `together` and theirs,
    into one library (a notebook cell's functions and classes); returns
    (CompileResult of obj, collector). split: one translation unit per function
    and class (emit/units.py), each object reused while its code is unchanged, so
    that editing one function of a cell recompiles only it. prefer_cached: an
    optimization level whose library, if the cache has one, is taken instead
    (a notebook's quick build, when the optimized one is already built)."""
    t0 = time.perf_counter()
    report("checking")
    sink = DiagnosticSink()
    col = collect(obj, sink)
    for other in together:
        try:
            col.add(other)
        except sources.SourceUnavailable as e:
            raise CompileError([Diagnostic(Span("<unknown>", 0, 0), str(e))]) from None
    entry = sources.unwrap(obj).__name__
    tc = Toolchain(opt)
    cache = LibraryCache(tc)
    key = sources.program_key(col) + "|entry=" + entry + ("|split" if split else "")
    times = {"collect": time.perf_counter() - t0}
    if not force:
        for level in dict.fromkeys([prefer_cached, opt] if prefer_cached else [opt]):
            lib = (cache if level == opt else LibraryCache(Toolchain(level))).lookup(key)
            if lib is not None:
                times["total"] = time.perf_counter() - t0
                return CompileResult(entry, lib, None, True, times, opt=level), col

    from . import frontend, passes
    from .check import checker
    from .emit import emitter

    def stages():
        # Each attempt from the sources (deeply() may run this twice): the code
        # generator changes the program as it goes.
        t1 = time.perf_counter()
        sink = DiagnosticSink()
        program = frontend.lower_program(col, sink, entry)
        checker.check(checker.Checker(program, sink, col.sources, col.constants, col.modules))
        sink.raise_if_any()
        t2 = time.perf_counter()
        times["check"] = t2 - t1
        report("generating")
        passes.run(program)
        em = emitter.Emitter(program, _source_line(col.sources), class_layouts(program), split=split)
        cpp = emitter.emit(em)
        annotate = annotate_lines(program)
        times["codegen"] = time.perf_counter() - t2
        return program, em, cpp, annotate
    program, em, cpp, annotate = deeply(stages, col, entry)

    if force:
        d = cache.entry(key)
        (d / "lib.so").unlink(missing_ok=True)
    meta = {"entry": entry, "objects": list(col.order), "toolchain": tc.key(), "opt": opt,
            "line_map": [(n, *_relative(col.sources, f, l)) for n, f, l in em.line_map],
            "annotate": [(*_relative(col.sources, f, l), k) for f, l, k in annotate]}
    report("compiling")
    report("source", cpp)
    try:
        res = cache.build(key, cpp, meta, units=em.units, reuse=not force)
    except CompilerKilled as e:  # a limit or a signal: say which function's build it was
        src = col.sources[entry]
        raise CompilerKilled(f"compiling '{entry}' ({src.file}, line {src.first_line}): {e}") from None
    times["cxx"] = res.seconds
    if res.units:
        times["units"] = res.units  # (compiled, in all)
    if not res.ok:
        src = col.sources[entry]
        diag = Diagnostic(src.span(src.tree), f"the C++ compiler rejected the code generated for "
                          f"'{entry}' (a matx_nb bug: please report it with this message)",
                          source_line=src.line_text(src.first_line))
        raise CompileError([diag], log=res.log[-6000:])
    times["total"] = time.perf_counter() - t0
    return CompileResult(entry, res.path, cpp, False, times, em.line_map, program, annotate, opt=opt), col
