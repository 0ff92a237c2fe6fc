"""The background build manager: each %%matx cell's objects are compiled by
``matx_nb.script`` in a thread pool while the kernel goes on running cells.

Names of the cell are bound at once to a ``Pending`` stand-in that waits for
its build when called, then rebound to the compiled object when it is ready.
Nothing here ever lets an exception escape a worker thread: a failure is data
(``ObjectBuild.error``) shown in the status line and raised on a call.
"""
from __future__ import annotations

import signal
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from matx_nb.compiler.driver import PHASES

from .cell import Cell, error_text


class BuildFailed(RuntimeError):
    """Calling a %%matx name whose build failed; ``__cause__`` is the compile error."""

    def _render_traceback_(self):  # IPython shows the message, not our internals
        return [f"\x1b[31m\x1b[1mBuildFailed\x1b[0m: {self}"]


# The quick tier of a cell built at the default level: g++ -Og compiles in about
# 60% of -O3's time (it shares -O3's precompiled runtime) and runs the code
# 1.0-1.5x slower; the -O3 build replaces it in the background.
QUICK_OPT = "-Og"


@dataclass
class Options:
    opt: str = "-O3"
    force: bool = False
    bench: List[str] = field(default_factory=list)
    check: List[str] = field(default_factory=list)
    show_cpp: bool = True
    sync: bool = False
    name: str = ""
    quick: str = ""  # a first, quicker build level (QUICK_OPT), replaced by `opt`'s; "" for one build

    @property
    def tiers(self) -> List[str]:
        """The levels each object is built at, in order: the last one stays bound."""
        return [self.quick, self.opt] if self.quick and self.quick != self.opt else [self.opt]


class ObjectBuild:
    """One top-level function or class of a cell and its compilation."""

    def __init__(self, name: str, py_obj, cell: Cell):
        self.name, self.py_obj, self.cell = name, py_obj, cell
        self.compiled = None
        self.error: Optional[BaseException] = None
        self.result = None  # matx_nb CompileResult, details loaded
        self.seconds = 0.0
        self.done = threading.Event()
        # "queued" -> "checking" -> "generating" -> "compiling" -> "loading" -> "done" | "failed";
        # phase_since is time.time() when it began (the panel ticks from it).
        self.phase = "queued"
        self.phase_since = time.time()
        self.on_phase: Callable[[], None] = lambda: None
        # The level of the bound build; `final` is set once no later tier will
        # replace it (the last tier is bound, or it failed: final_error).
        self.tier = ""
        self.final = threading.Event()
        self.final_seconds: Optional[float] = None
        self.final_error: Optional[BaseException] = None

    def enter(self, phase: str) -> None:
        self.phase, self.phase_since = phase, time.time()
        self.on_phase()

    def fail(self, error: BaseException) -> None:
        """Marks a build that will never run (or died) as failed: a call raises, never waits."""
        if not self.done.is_set():
            self.error = error
            self.phase, self.phase_since = "failed", time.time()
            self.done.set()
            self.final.set()

    @property
    def line(self) -> int:
        return self.cell.lines.get(self.name, 0)

    def finish(self, compiled, bind: Callable[[str, object], None], t0: float, tier: str = "") -> None:
        """Ends the build with its compiled object (bound to the name) or its error."""
        try:
            if isinstance(compiled, BaseException):
                raise compiled
            self.compiled = compiled
            self.tier = tier
            self.result = compiled.matx.load_details()
            bind(self.name, compiled)  # before `done`: a waiting call then finds the name bound
            self.phase = "done"
        except BaseException as e:  # noqa: BLE001 - a failed build must never reach the kernel
            self.error = e
            self.phase = "failed"
        finally:
            self.seconds = time.perf_counter() - t0
            self.phase_since = time.time()
            self.done.set()

    def upgrade(self, compiled, bind: Callable[[str, object], None], t0: float, tier: str) -> None:
        """Binds a later tier's compiled object in place of the one bound; a
        failure keeps the bound one (final_error says why)."""
        try:
            if isinstance(compiled, BaseException):
                raise compiled
            result = compiled.matx.load_details()
            bind(self.name, compiled)
            self.compiled, self.result, self.tier = compiled, result, tier
        except BaseException as e:  # noqa: BLE001 - the quick build stays bound
            self.final_error = e
        finally:
            self.final_seconds = time.perf_counter() - t0
            self.final.set()

    def wait(self):
        """The compiled object, once built; interruptible (Ctrl-C / kernel interrupt)."""
        while not self.done.wait(0.05):
            pass
        if self.error is not None:
            raise BuildFailed(f"{self.name} (line {self.line} of {self.cell.label}) did not compile:\n"
                              f"{error_text(self.error)}") from self.error
        return self.compiled


def related_groups(builds: List[ObjectBuild]) -> List[List[ObjectBuild]]:
    """The cell's objects in groups that call one another (directly or through
    other code): each group is one library, so a function and the cell functions
    it calls compile once, while an edit to an unrelated function of the cell
    rebuilds only that one."""
    from matx_nb.compiler import driver
    from matx_nb.compiler.diagnostics import DiagnosticSink
    names = {b.name for b in builds}
    parent = {b.name: b.name for b in builds}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n
    for b in builds:
        try:
            uses = set(driver.collect(b.py_obj, DiagnosticSink()).sources) & names
        except Exception:  # noqa: BLE001 - its own build reports what is wrong
            continue
        for other in uses:
            parent[root(other)] = root(b.name)
    groups: Dict[str, List[ObjectBuild]] = {}
    for b in builds:
        groups.setdefault(root(b.name), []).append(b)
    return list(groups.values())


def compile_group(builds: List[ObjectBuild], opt: str, force: bool, prefer_cached: str = "") -> list:
    """The compiled objects of one group (matx_nb.script_together: one library,
    one g++ run per changed function, not one per object with its callees
    compiled again in each), or for each the exception that stopped it: an object
    that can have no Python face fails alone. prefer_cached: a level whose
    library the cache may already have, taken instead."""
    from matx_nb.scripting import script_together
    from matx_nb.compiler.driver import reporting
    from .render import prerender

    def enter(phase: str) -> None:
        for b in builds:
            b.enter(phase)
    try:
        with reporting(enter, prerender):
            return script_together([b.py_obj for b in builds], opt=opt, force=force, prefer_cached=prefer_cached)
    except BaseException as e:  # noqa: BLE001 - a failed build must never reach the kernel
        return [e] * len(builds)


def build_group(builds: List[ObjectBuild], tiers: List[str], force: bool,
                bind: Callable[[str, object], None]) -> bool:
    """Builds a group at its first tier and binds it; True when a later tier is
    still to build. A cache hit at the last tier skips the quick one."""
    t0 = time.perf_counter()
    faces = compile_group(builds, tiers[0], force, prefer_cached=tiers[-1] if len(tiers) > 1 else "")
    built = [f.matx.opt for f in faces if not isinstance(f, BaseException) and getattr(f, "matx", None)]
    tier = built[0] if built and built[0] else tiers[0]
    for b, face in zip(builds, faces):
        b.finish(face, bind, t0, tier)
        if tier == tiers[-1] or b.error is not None:
            b.final.set()
    return any(not b.final.is_set() for b in builds)


def finish_group(builds: List[ObjectBuild], opt: str, force: bool, bind: Callable[[str, object], None],
                 changed: Callable[[], None]) -> None:
    """The last tier of a group bound in place of the quick one."""
    t0 = time.perf_counter()
    todo = [b for b in builds if not b.final.is_set()]
    try:
        faces = compile_group(builds, opt, force)
        for b, face in zip(builds, faces):
            if b in todo:
                b.upgrade(face, bind, t0, opt)
    finally:
        for b in todo:
            b.final.set()
        changed()


class Pending:
    """Stands for a %%matx function or class until its build is done: calling it
    (or reading an attribute of the compiled object) waits for the build. There
    is no fallback to Python; the original is ``.py_func`` / ``.py_class``."""

    def __init__(self, build: ObjectBuild):
        obj = build.py_obj
        self.__dict__.update(_matx_build=build, __matx_py__=obj, __wrapped__=obj,
                             __name__=obj.__name__, __qualname__=obj.__qualname__,
                             __doc__=obj.__doc__, __module__=obj.__module__)
        self.__dict__["py_class" if isinstance(obj, type) else "py_func"] = obj

    def __call__(self, *args, **kwargs):
        return self._matx_build.wait()(*args, **kwargs)

    def __getattr__(self, attr):
        return getattr(self._matx_build.wait(), attr)

    def __repr__(self):
        b = self._matx_build
        state = f"compiling: {b.phase}" if not b.done.is_set() else ("failed" if b.error else "compiled")
        return f"<%%matx {b.name} ({state})>"


class CellBuild:
    """Everything one run of a %%matx cell does after it returns: build each
    object, bind the compiled ones, then run --check and --bench."""

    def __init__(self, cell: Cell, options: Options, places: Dict[str, str]):
        self.cell, self.options, self.places = cell, options, places
        self.name = options.name or ", ".join(cell.names) or cell.label
        self.objects = {n: ObjectBuild(n, o, cell) for n, o in cell.objects().items()}
        self.state = "compiling"  # -> "measuring" -> "compiled" | "failed"
        self.started = time.perf_counter()
        self.build_seconds: Optional[float] = None
        self.timing: List[dict] = []
        self.timing_tiers: List[str] = []  # the levels of the builds timed
        self.checks: List[dict] = []
        self.measure_error = ""
        self.finished = threading.Event()
        # Set once no object is parsing, checking or generating C++ any more
        # (g++ runs, or it is done): wait_front.
        self.front_done = threading.Event()
        self.listeners: List[Callable[["CellBuild"], None]] = []
        self.listener_errors: List[str] = []
        self.quiet = Quiet(lambda: [])  # the manager gives the real one
        for b in self.objects.values():
            b.on_phase = self._changed

    # ---- progress
    @property
    def phase(self) -> str:
        """The least advanced phase among the objects still building ("done" when none is)."""
        running = [b.phase for b in self.objects.values() if not b.done.is_set()]
        if not running:
            return "failed" if self.failed else "done"
        order = ("queued",) + PHASES
        return min(running, key=lambda p: order.index(p) if p in order else len(order))

    @property
    def phase_since(self) -> float:
        running = [b for b in self.objects.values() if not b.done.is_set() and b.phase == self.phase]
        return min((b.phase_since for b in running), default=time.time())

    # ---- state
    @property
    def done(self) -> bool:
        return self.state in ("compiled", "failed")

    @property
    def failed(self) -> List[ObjectBuild]:
        return [b for b in self.objects.values() if b.error is not None]

    @property
    def cache_hits(self) -> bool:
        return all(b.result is not None and b.result.cache_hit for b in self.objects.values())

    def subscribe(self, fn: Callable[["CellBuild"], None]) -> None:
        self.listeners.append(fn)
        self._tell(fn)

    def _changed(self) -> None:
        if all(b.done.is_set() or b.phase in ("compiling", "loading") for b in self.objects.values()):
            self.front_done.set()
        for fn in list(self.listeners):
            self._tell(fn)

    def _tell(self, fn) -> None:
        try:
            fn(self)
        except Exception:  # a display problem must not stop the build
            self.listener_errors.append(traceback.format_exc())

    def wait_front(self, timeout: float) -> bool:
        """Blocks until g++ runs for every object (or the build is over), at most
        timeout seconds; interruptible. Its parsing, checking and C++ generation
        are Python, on the build's thread: anything else the kernel does in Python
        meanwhile (making the cell's view) delays g++ by as much."""
        end = time.perf_counter() + timeout
        while not self.front_done.wait(0.01):
            if self.finished.is_set() or time.perf_counter() > end:
                return self.finished.is_set()
        return True

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until everything is done; interruptible."""
        end = None if timeout is None else time.perf_counter() + timeout
        while not self.finished.wait(0.05):
            if end is not None and time.perf_counter() > end:
                return False
        return True

    # ---- the work, on background threads
    def run(self, pool: ThreadPoolExecutor, bind: Callable[[str, object], None], namespaces,
            background: Optional[ThreadPoolExecutor] = None) -> None:
        """Builds every object at the first tier and binds it, runs --check, and
        --bench on the last tier (built first, here); the cell is done then. The
        last tier of a cell without --bench is built after, in the background, so
        that nothing of this cell runs beside it while the cell is being shown."""
        later: List[List[ObjectBuild]] = []
        o = self.options
        try:
            groups = related_groups(list(self.objects.values()))
            jobs = [pool.submit(build_group, g, o.tiers, o.force, bind) for g in groups]
            later = [g for g, job in zip(groups, jobs) if job.result()]
            self.build_seconds = time.perf_counter() - self.started
            if self.failed:
                self.state = "failed"
                return
            if o.bench:  # timed on the last tier
                for g in later:
                    finish_group(g, o.tiers[-1], o.force, bind, self._changed)
                later = []
            if o.check or o.bench:
                self.state = "measuring"
                self._changed()
                self._measure(namespaces)
            self.state = "compiled"
        except BaseException:  # noqa: BLE001 - keep the kernel alive whatever happens
            self.measure_error = traceback.format_exc()
            self.state = "failed"
        finally:
            self.abort(RuntimeError("the build stopped before compiling this object"))
            for g in later:
                try:
                    if self.state == "failed":
                        raise RuntimeError("the cell failed")
                    (background or pool).submit(finish_group, g, o.tiers[-1], o.force, bind, self._changed)
                except BaseException:  # noqa: BLE001 - no later tier then: nothing waits for it
                    for b in g:
                        b.final.set()
                    self._changed()

    @property
    def optimizing(self) -> bool:
        """A later tier is still being built (the quick one is bound meanwhile)."""
        return any(not b.final.is_set() for b in self.objects.values())

    @property
    def tiers_bound(self) -> List[str]:
        """The levels of the bound builds, e.g. ["-Og"] or ["-O3"]."""
        return sorted({b.tier for b in self.objects.values() if b.tier})

    def wait_final(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the last tier of every object is bound (or failed)."""
        end = None if timeout is None else time.perf_counter() + timeout
        for b in self.objects.values():
            while not b.final.wait(0.05):
                if end is not None and time.perf_counter() > end:
                    return False
        return True

    def abort(self, error: BaseException) -> None:
        """Ends the build: objects that never ran fail with `error`, so no call
        waits for them; views show the final state before anyone waiting wakes up."""
        for b in self.objects.values():
            b.fail(error)
        if self.state not in ("compiled", "failed"):
            self.state = "failed"
        if self.build_seconds is None:
            self.build_seconds = time.perf_counter() - self.started
        self._changed()
        self.finished.set()

    def _measure(self, namespaces) -> None:
        from . import measure
        py_ns, c_ns = namespaces()
        try:
            if self.options.check:
                self.checks = measure.check(self.options.check, py_ns, c_ns)
                self._changed()
            if self.options.bench:
                # The last tier's objects, timed one cell at a time, and only while
                # no build competes for the CPU.
                self.wait_final()
                py_ns, c_ns = namespaces()
                with self.quiet.timing():
                    self.timing = measure.bench(self.options.bench, py_ns, c_ns, quiet=self.quiet.wait)
                self.timing_tiers = self.tiers_bound
        except SyntaxError as e:
            self.measure_error = f"--bench/--check expression: {e}"


def _ignore_interrupts() -> None:
    """Block SIGINT in build threads: g++ inherits the mask, so a kernel interrupt
    (sent to the whole process group) stops the user's code, not the build. The
    main thread still takes the signal as KeyboardInterrupt."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


class Quiet:
    """Keeps timings honest: `wait()` blocks until no object of any cell is still
    compiling (g++ would steal the CPU from the code being timed), and `timing()`
    lets one cell time at a time."""

    def __init__(self, builds: Callable[[], List[CellBuild]], limit_s: float = 600.0):
        self.builds, self.limit_s = builds, limit_s
        self.lock = threading.Lock()

    def busy(self) -> bool:
        return any(not b.final.is_set() for cb in self.builds() for b in cb.objects.values())

    def wait(self) -> None:
        end = time.perf_counter() + self.limit_s
        while self.busy() and time.perf_counter() < end:
            time.sleep(0.02)

    def timing(self):
        return self.lock


class BuildManager:
    """One per shell: the worker pool (one g++ per core), a pool of one worker
    for the later tiers (a new cell's first build never queues behind more than
    one of them), and the builds so far."""

    def __init__(self, workers: int = 2):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matx-build",
                                       initializer=_ignore_interrupts)
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matx-tier",
                                             initializer=_ignore_interrupts)
        self.builds: List[CellBuild] = []
        self.quiet = Quiet(lambda: list(self.builds))

    def start(self, build: CellBuild, bind, namespaces) -> None:
        """Starts the build on its own thread; if it cannot start, the build fails
        at once (its names raise, none waits) and the error propagates."""
        build.quiet = self.quiet
        self.builds.append(build)
        del self.builds[:-50]
        try:
            t = threading.Thread(target=build.run, args=(self.pool, bind, namespaces, self.background),
                                 name=f"matx-cell-{build.cell.number}", daemon=True)
            t.start()
        except BaseException as e:
            build.abort(e)
            raise

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.background.shutdown(wait=False, cancel_futures=True)
        for cb in self.builds:  # later tiers that will not run: nothing waits for them
            for b in cb.objects.values():
                b.final.set()
