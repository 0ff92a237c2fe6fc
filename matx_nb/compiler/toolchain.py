"""Toolchain: drives g++ with a precompiled runtime header, and keeps compiled
libraries in a content-addressed cache.

The cache key covers everything that changes the library: the program's key
(normalized source of the object and its dependencies), the compiler's version,
the flags and a hash of the runtime headers. Entries are written to a temporary
file and renamed into place under a file lock, so concurrent processes that
compile the same code all succeed and share one result. Each entry's meta.json
holds the sha256 of its lib.so, checked before the library is loaded: a damaged
entry (truncated, patched, overwritten) is rebuilt instead of crashing the
process that maps it. A cache folder that cannot be written is replaced by a
private temporary one, with a warning.

Every g++ run is bounded (run_compiler): MATX_NB_CXX_TIMEOUT seconds,
MATX_NB_CXX_MEMORY_MB of address space, and it dies with the process that
started it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from .system_libs import MissingSystemLibrary, library_for

RUNTIME_VERSION = "0.1.0"
DEFAULT_OPT = "-O3"  # -O3 lets g++ unroll recursion (fib: ~4x faster than -O2)


def include_dir() -> Path:
    """The runtime headers: installed next to the package, or in the source tree."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "include", here.parent / "runtime" / "include"):
        if (cand / "matx_nb" / "runtime.h").exists():
            return cand
    raise RuntimeError("matx_nb runtime headers not found; reinstall the package")


def configured_cache_dir() -> Path:
    """The cache folder the environment asks for (MATX_NB_CACHE, XDG_CACHE_HOME)."""
    env = os.environ.get("MATX_NB_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "matx_nb"


_usable: dict = {}  # configured cache folder -> the folder used for it in this process


def cache_dir() -> Path:
    """The configured cache folder, or, if it cannot be written (a read-only file
    system or home), a private temporary one (with a warning, once per process)."""
    wanted = configured_cache_dir()
    got = _usable.get(wanted)
    if got is None:
        got = _usable[wanted] = _usable_cache(wanted)
    return got


def _writable(d: Path) -> None:
    """Raises OSError unless files can be created in d (made if missing)."""
    d.mkdir(parents=True, exist_ok=True)
    probe = d / f".probe-{os.getpid()}-{threading.get_ident()}"
    probe.write_bytes(b"")
    probe.unlink()


def _usable_cache(wanted: Path) -> Path:
    try:
        _writable(wanted)
        return wanted
    except OSError as e:
        why = e.strerror or type(e).__name__
    fallback = _private_temp_cache()
    import warnings
    warnings.warn(f"the matx_nb cache folder {wanted} cannot be written ({why}): compiled "
                  f"libraries go to {fallback} instead, for this process (set MATX_NB_CACHE "
                  "to a writable folder to keep them)", RuntimeWarning, stacklevel=3)
    return fallback


def _private_temp_cache() -> Path:
    """<tmp>/matx_nb-cache-<uid>, if it is this user's own and private (libraries in
    it are loaded as code), else a new folder made by mkdtemp."""
    import stat
    import tempfile
    d = Path(tempfile.gettempdir()) / f"matx_nb-cache-{os.getuid()}"
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(d)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077:
            _writable(d)
            return d
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="matx_nb-cache-"))


def compiler() -> str:
    return os.environ.get("MATX_NB_CXX") or shutil.which("g++") or shutil.which("c++") or "g++"


_memo: dict = {}


def compiler_version(cxx: str) -> str:
    """`cxx --version`, remembered in the cache directory per compiler binary
    (path, size and mtime), so a cache hit in a new process runs no subprocess."""
    key = ("version", cxx)
    if key in _memo:
        return _memo[key]
    path = shutil.which(cxx) or cxx
    try:
        st = os.stat(os.path.realpath(path))
        ident = f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        ident = None
    memo_file = cache_dir() / "compilers.json"
    known = {}
    if ident:
        try:
            known = json.loads(memo_file.read_text())
            if ident in known:
                _memo[key] = known[ident]
                return _memo[key]
        except (OSError, ValueError):
            known = {}
    import subprocess
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30,
                             env=compiler_env()).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise RuntimeError(f"C++ compiler '{cxx}' not usable: {e}; install g++ "
                           "or set MATX_NB_CXX") from e
    _memo[key] = out.splitlines()[0] if out else cxx
    if ident:
        known[ident] = _memo[key]
        try:
            memo_file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(memo_file, json.dumps(known))
        except OSError:
            pass
    return _memo[key]


def runtime_hash() -> str:
    key = "runtime_hash"
    if key not in _memo:
        _memo[key] = tree_hash(include_dir() / "matx_nb", ".h", RUNTIME_VERSION)
    return _memo[key]


def compiler_hash() -> str:
    """Hash of the compiler's own sources: a change to code generation must not
    be served an old library from the cache."""
    key = "compiler_hash"
    if key not in _memo:
        _memo[key] = tree_hash(Path(__file__).resolve().parent, ".py", "")  # with check/, emit/, analysis/
    return _memo[key]


def tree_hash(root: Path, suffix: str, salt: str, recursive: bool = True) -> str:
    """sha256 over the names and contents of root's files ending in suffix
    (sorted by relative path). Remembered in the cache folder against each file's
    size and mtime, so a new process reads the files again only when one changed
    (a cache hit in a new process is otherwise mostly this)."""
    files = []
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(root / rel if rel else root))
        except OSError:
            continue
        for e in entries:
            name = f"{rel}/{e.name}" if rel else e.name
            if e.is_dir():
                if recursive and e.name != "__pycache__":
                    stack.append(name)
            elif e.name.endswith(suffix):
                st = e.stat()
                files.append((name, st.st_size, st.st_mtime_ns))
    files.sort()
    stamp = hashlib.sha256(repr((str(root), salt, files)).encode()).hexdigest()[:32]
    memo_file = cache_dir() / "hashes.json"
    try:
        known = json.loads(memo_file.read_text())
        if stamp in known:
            return known[stamp]
    except (OSError, ValueError):
        known = {}
    h = hashlib.sha256(salt.encode())
    for name, _, _ in files:
        h.update(name.encode())
        h.update((root / name).read_bytes())
    value = h.hexdigest()[:16]
    if len(known) > 256:  # old stamps of edited trees
        known = {}
    known[stamp] = value
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(memo_file, json.dumps(known))
    except OSError:
        pass
    return value


def base_flags(opt: str) -> List[str]:
    """g++ flags of every library and of the precompiled header; MATX_NB_CXXFLAGS
    adds some (-fsanitize=address,undefined for tests/test_sanitizers.py), and is
    part of the cache key."""
    import shlex
    return ["-std=c++17", opt, "-fPIC", "-fvisibility=hidden", "-fno-semantic-interposition",
            "-fno-plt", "-w", "-pipe", *shlex.split(os.environ.get("MATX_NB_CXXFLAGS", ""))]


# Optimization levels whose code can share one built runtime: g++ accepts a
# precompiled header made at another of them (they predefine the same macros),
# and the runtime object is linked whatever level the library is built at.
SHARED_RUNTIME_LEVELS = ("-Og", "-O1", "-O2", "-O3")


def runtime_opt(opt: str) -> str:
    """The -O level the built runtime (precompiled header, runtime object) for
    libraries built at opt is made with: the default's where g++ can share it,
    else opt's own (-O0 and -Os predefine other macros, which a precompiled
    header must match)."""
    return DEFAULT_OPT if opt in SHARED_RUNTIME_LEVELS else opt


@dataclass
class Toolchain:
    opt: str = DEFAULT_OPT

    def __post_init__(self):
        self.cxx = compiler()

    def key(self) -> str:
        """Hash of compiler, flags and runtime: part of every cache key."""
        return self._key(self.opt)

    def runtime_key(self) -> str:
        """key() of the level the built runtime is made at (runtime_opt): names
        the folder of the precompiled header and runtime object."""
        return self._key(runtime_opt(self.opt))

    def _key(self, opt: str) -> str:
        k = ("toolkey", self.cxx, opt, os.environ.get("MATX_NB_CXXFLAGS", ""))
        if k not in _memo:
            h = hashlib.sha256()
            for part in (compiler_version(self.cxx), " ".join(base_flags(opt)), runtime_hash(),
                         sys.platform, os.uname().machine):
                h.update(part.encode())
                h.update(b"\0")
            _memo[k] = h.hexdigest()[:20]
        return _memo[k]

    # ---- the built runtime: precompiled header and runtime object (linkage.h)
    def pch_dir(self) -> Path:
        return cache_dir() / "pch" / self.runtime_key()

    def pch(self) -> Optional[Path]:
        """The folder of the built runtime (the precompiled header, as an include
        dir, and the runtime object): the cache's, else the one built when the
        package was installed (same key: same compiler, flags and headers), else
        None (not built yet)."""
        d = self.pch_dir()
        if runtime_built(d):
            return d
        return installed_pch(self.runtime_key())

    def pch_command(self, out: Path) -> List[str]:
        """The g++ command that precompiles the runtime header into out, for
        generated code linked with the runtime object."""
        return [self.cxx, *base_flags(runtime_opt(self.opt)), LINKED_FLAG, "-x", "c++-header",
                str(include_dir() / "matx_nb" / "runtime.h"), "-o", str(out)]

    def runtime_object_command(self, src: Path, out: Path) -> List[str]:
        """The g++ command that compiles the runtime's out-of-line code (MX_RT
        functions and prebuilt.h's instantiations) into the object every library
        links, one section per function so a library keeps only what it calls."""
        return [self.cxx, *base_flags(runtime_opt(self.opt)), "-DMATX_NB_RT_ARCHIVE", "-ffunction-sections",
                "-fdata-sections", *RT_OBJECT_INLINING, "-I", str(include_dir()), "-c", str(src), "-o", str(out)]

    def build_runtime(self, d: Path, timeout: float = 900) -> Optional[str]:
        """Builds the runtime into d (header, then object), each file moved into
        place when complete. Returns None, or the failing command's log."""
        import subprocess
        gch = d / "matx_nb" / "runtime.h.gch"
        gch.parent.mkdir(parents=True, exist_ok=True)
        src = d / RT_SOURCE_NAME
        src.write_text(RT_SOURCE)
        for out, cmd in ((gch, self.pch_command), (d / RT_OBJECT, lambda o: self.runtime_object_command(src, o))):
            if out.exists():
                continue
            tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
            r = subprocess.run(cmd(tmp), capture_output=True, text=True, timeout=timeout, env=compiler_env())
            if r.returncode != 0:
                tmp.unlink(missing_ok=True)
                return r.stderr[-4000:] or f"exit status {r.returncode}"
            os.replace(tmp, out)
        return None

    def ensure_pch(self) -> Optional[Path]:
        """Starts building the precompiled header in the background if missing.

        A first compile does not wait for it (building it costs more than one
        compile without it); it is started after that compile, so the two do
        not compete for the CPU, and later compiles use it.
        """
        d = self.pch_dir()
        if runtime_built(d):
            return d
        if installed_pch(self.runtime_key()) is not None:
            return installed_pch(self.runtime_key())
        if os.environ.get("MATX_NB_NO_PCH"):
            return None
        d.mkdir(parents=True, exist_ok=True)
        marker = d / "building"
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.close(fd)
        except FileExistsError:
            try:
                if time.time() - marker.stat().st_mtime < 120:
                    return None  # another process is building it
                marker.unlink()
            except FileNotFoundError:
                pass
            return None
        import shlex
        import subprocess
        gch = d / "matx_nb" / "runtime.h.gch"
        gch.parent.mkdir(parents=True, exist_ok=True)
        src = d / RT_SOURCE_NAME
        src.write_text(RT_SOURCE)
        rt = d / RT_OBJECT
        # Bounded as run_compiler's builds are (it outlives its starter on purpose:
        # the runtime serves every later process).
        memory = memory_limit_mb()
        seconds = float(os.environ.get("MATX_NB_CXX_TIMEOUT") or 600)
        q = shlex.quote
        steps = []
        for out, make in ((gch, self.pch_command), (rt, lambda o: self.runtime_object_command(src, o))):
            tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
            cmd = make(tmp)
            if shutil.which("timeout"):
                cmd = ["timeout", "-s", "KILL", f"{seconds:g}", *cmd]
            steps.append(f"{{ [ -e {q(str(out))} ] || {{ {' '.join(q(c) for c in cmd)} && mv -f {q(str(tmp))} "
                         f"{q(str(out))}; }}; }}; rm -f {q(str(tmp))}")
        script = ((f"ulimit -v {memory * 1024} 2>/dev/null; " if memory else "") + "; ".join(steps) +
                  f"; rm -f {q(str(marker))}")
        subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, env=compiler_env())
        return None

    def wait_for_pch(self, timeout: float = 60.0) -> bool:
        """Blocks until the background runtime build is done (tests, benchmarks)."""
        if self.ensure_pch() is not None:
            return True
        end = time.time() + timeout
        while time.time() < end:
            if runtime_built(self.pch_dir()):
                return True
            if not (self.pch_dir() / "building").exists():
                self.ensure_pch()
            time.sleep(0.05)
        return runtime_built(self.pch_dir())

    # ---- compile
    def compile(self, source: str, out: Path) -> "BuildResult":
        import tempfile
        pch = self.pch()
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, src_path = tempfile.mkstemp(suffix=".cc", dir=out.parent)
        with os.fdopen(fd, "w") as f:
            f.write(source)
        tmp_out = out.with_name(out.name + f".tmp{os.getpid()}")
        cmd = [self.cxx, *base_flags(self.opt), "-shared", *linker_flags()]
        if pch is not None:  # linked with the built runtime; else header-only, as the runtime is built
            cmd += [LINKED_FLAG, "-I", str(pch)]
        cmd += ["-I", str(include_dir()), src_path, "-o", str(tmp_out)]
        if pch is not None:
            cmd += [str(pch / RT_OBJECT), "-Wl,--gc-sections"]
        cmd += self.extra_link(object_names(source))
        cmd += link_flags(source)
        t0 = time.perf_counter()
        try:
            r = run_compiler(cmd)
        except BaseException:
            os.unlink(src_path)
            tmp_out.unlink(missing_ok=True)
            raise
        elapsed = time.perf_counter() - t0
        try:
            failed = check_build(r, elapsed, tmp_out)
            if failed is not None:
                return failed
            os.replace(tmp_out, out)
            return BuildResult(True, out, r.stderr, elapsed, cmd)
        finally:
            os.unlink(src_path)
            if pch is None:
                self.ensure_pch()

    def extra_object(self, name: str) -> Path:
        """The object of a runtime part kept out of generated code (`// matx_nb-object:
        vision`: mod/vision_impl.h over OpenCV), compiled once per toolchain, runtime
        and mode into the object cache, under a lock."""
        if name not in EXTRA_OBJECTS:
            raise ValueError(f"unknown runtime object {name!r}")
        cflags = EXTRA_OBJECTS[name]()[0]
        pch = self.pch()
        text = f'#include "matx_nb/mod/{name}_impl.h"\n'
        mode = ("linked" if pch is not None else "header-only") + f":{name}:" + " ".join(cflags)
        obj = object_path(self.runtime_key(), mode, text)
        if obj.exists():
            return obj
        obj.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(obj.with_name(obj.name + ".lock")):
            if obj.exists():
                return obj
            src = obj.with_name(obj.stem + f".{os.getpid()}.cc")
            src.write_text(text)
            tmp = obj.with_name(obj.name + f".tmp{os.getpid()}")
            cmd = [self.cxx, *base_flags(runtime_opt(self.opt))]
            if pch is not None:
                cmd += [LINKED_FLAG, "-I", str(pch)]
            cmd += ["-I", str(include_dir()), *cflags, "-c", str(src), "-o", str(tmp)]
            t0 = time.perf_counter()
            try:
                r = run_compiler(cmd)
            finally:
                src.unlink(missing_ok=True)
            failed = check_build(r, time.perf_counter() - t0, tmp)
            if failed is not None:
                raise RuntimeError(f"building the runtime's {name} object failed (a matx_nb bug):\n"
                                   + failed.log[-3000:])
            os.replace(tmp, obj)
        return obj

    def extra_link(self, names: List[str]) -> List[str]:
        """What a link adds for the runtime objects `names`: each object, then its libraries."""
        return [str(self.extra_object(n)) for n in names] + [f for n in names for f in EXTRA_OBJECTS[n]()[1]]

    def compile_units(self, units: List[tuple], out: Path, reuse: bool = True) -> "BuildResult":
        """A library from several translation units (emit/units.py: [(name, text)]).
        Each unit's object is reused from the cache (<cache>/obj/) when its text
        was compiled before, with this toolchain (unless reuse is False); the
        others compile in parallel, one g++ per core, and the objects are linked
        into out."""
        from concurrent.futures import ThreadPoolExecutor
        pch = self.pch()
        flags = [*base_flags(self.opt)] + ([LINKED_FLAG, "-I", str(pch)] if pch is not None else [])
        flags += ["-I", str(include_dir())]
        objs, todo = [], []
        for name, text in units:
            obj = object_path(self.key(), "linked" if pch is not None else "header-only", text)
            objs.append(obj)
            if not reuse or not obj.exists():
                todo.append((name, text, obj))
        t0 = time.perf_counter()

        def build(job):
            name, text, obj = job
            obj.parent.mkdir(parents=True, exist_ok=True)
            src = obj.with_name(obj.stem + f".{os.getpid()}.{threading.get_ident()}.cc")
            src.write_text(text)
            tmp = obj.with_name(obj.name + f".tmp{os.getpid()}.{threading.get_ident()}")
            cmd = [self.cxx, *flags, "-c", str(src), "-o", str(tmp)]
            try:
                r = run_compiler(cmd)
            finally:
                src.unlink(missing_ok=True)
            failed = check_build(r, time.perf_counter() - t0, tmp)
            if failed is None:
                os.replace(tmp, obj)
            return failed, cmd

        with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
            results = list(pool.map(build, todo))
        for failed, cmd in results:
            if failed is not None:
                failed.command = cmd
                return failed
        link = [self.cxx, *base_flags(self.opt), "-shared", *linker_flags(), *map(str, objs)]
        if pch is not None:
            link += [str(pch / RT_OBJECT), "-Wl,--gc-sections"]
        tmp_out = out.with_name(out.name + f".tmp{os.getpid()}")
        link += self.extra_link(object_names(units[-1][1]))
        link += ["-o", str(tmp_out), *link_flags(units[-1][1])]
        out.parent.mkdir(parents=True, exist_ok=True)
        r = run_compiler(link)
        if r.returncode != 0 and not todo:
            # A cached object that does not link (damaged): compile them all again, once.
            for obj in objs:
                obj.unlink(missing_ok=True)
            return self.compile_units(units, out)
        failed = check_build(r, time.perf_counter() - t0, tmp_out)
        if pch is None:
            self.ensure_pch()
        if failed is not None:
            failed.command = link
            return failed
        os.replace(tmp_out, out)
        res = BuildResult(True, out, r.stderr, time.perf_counter() - t0, link)
        res.units = (len(todo), len(units))
        return res


PCH_DIR_NAME = "pch"  # next to the installed native module: <key>/matx_nb/runtime.h.gch, <key>/RT_OBJECT
LINKED_FLAG = "-DMATX_NB_LINKED_RUNTIME"
# The runtime object is one large translation unit, where g++ caps inlining at
# 40% growth of the unit: the boundary's conversions (a str inlined into the loop
# over a list's items) fell under the cap, 15% slower per list of str.
RT_OBJECT_INLINING = ["--param", "inline-unit-growth=400"]
RT_OBJECT = "libmatx_nb_rt.o"
RT_SOURCE_NAME = "matx_nb_rt.cc"
# Every header whose MX_RT functions generated code may call (not the modules
# that need system libraries: those stay header-only).
RT_SOURCE = ("// The runtime's out-of-line code (linkage.h).\n"
             "#include <matx_nb/runtime.h>\n#include <matx_nb/live.h>\n#include <matx_nb/dyn.h>\n")


def runtime_built(d: Path) -> bool:
    """Whether d holds a complete built runtime: the header and the object."""
    return (d / "matx_nb" / "runtime.h.gch").is_file() and (d / RT_OBJECT).is_file()


def installed_pch_roots() -> List[Path]:
    """Where an install put precompiled headers: next to the native module (a wheel,
    or an editable install's build), and next to this package."""
    roots = []
    try:
        import importlib.util
        spec = importlib.util.find_spec("matx_nb._native")
        if spec is not None and spec.origin:
            roots.append(Path(spec.origin).parent / PCH_DIR_NAME)
    except (ImportError, ValueError):
        pass
    here = Path(__file__).resolve().parent.parent / PCH_DIR_NAME
    if here not in roots:
        roots.append(here)
    return roots


def installed_pch(key: str) -> Optional[Path]:
    """The include dir of a precompiled header made at install time for this key, or None."""
    memo = ("installed_pch", key)
    if memo not in _memo:
        _memo[memo] = next((r / key for r in installed_pch_roots() if runtime_built(r / key)), None)
    return _memo[memo]


def build_installed_pch(dest: Path) -> int:
    """`python -m matx_nb.compiler.toolchain --build-pch DEST` (CMake, at install time): builds the
    runtime (precompiled header and runtime object) for the default flags into DEST/<key>/, so
    that the first cell of a fresh install does not pay for it. A machine where this fails gets
    it built in the background on first use instead: never an install error."""
    import subprocess
    tc = Toolchain()
    d = dest / tc.runtime_key()
    t0 = time.perf_counter()
    try:
        failed = tc.build_runtime(d)
    except (OSError, subprocess.SubprocessError) as e:
        failed = str(e)
    if failed is not None:
        for f in (d / "matx_nb" / "runtime.h.gch", d / RT_OBJECT):
            f.unlink(missing_ok=True)
        print("matx_nb: runtime not prebuilt; it will be built on first use\n" + failed[-2000:])
        return 0
    print(f"matx_nb: built the runtime (precompiled header and object) in {time.perf_counter() - t0:.1f} s: {d}")
    return 0


class CompilerKilled(RuntimeError):
    """g++ did not finish: killed by a signal, over MATX_NB_CXX_TIMEOUT seconds or
    MATX_NB_CXX_MEMORY_MB of memory."""


def signal_name(n: int) -> str:
    import signal
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def memory_limit_mb() -> int:
    """MATX_NB_CXX_MEMORY_MB, the address space a g++ run may use (0: no limit);
    by default half the machine's memory, between 2 and 8 GiB."""
    env = os.environ.get("MATX_NB_CXX_MEMORY_MB")
    if env:
        return max(0, int(float(env)))
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (ValueError, OSError):
        total = 8192
    return max(2048, min(8192, total // 2))


# Runs "$@" (g++) in this shell's process group, which run_compiler's Popen makes
# a session of its own: under an address-space limit ($1 KiB, 0 for none; a
# lower hard limit of the host's stays as it is), and
# with a watcher that kills the whole group (g++, cc1plus, as, ld) as soon as
# the pipe on fd $2 reaches end of file, which is when the process that started
# the build closes it after the build, or dies (SIGKILL included). A watch by
# PR_SET_PDEATHSIG would fire when the starting *thread* exits (builds run on
# pool threads) and would not reach cc1plus.
_BOUNDED = r"""
if [ "$1" -gt 0 ]; then ulimit -v "$1" 2>/dev/null; fi
fd=$2
shift 2
{ read _ <&$fd; kill -KILL 0; } </dev/null >/dev/null 2>&1 &
"$@" </dev/null &
wait $!
"""
# Signs in g++'s output that it ran out of its address space.
# g++'s words for running out of its address space (the last: mapping the precompiled header)
_OUT_OF_MEMORY = ("out of memory allocating", "virtual memory exhausted", "cannot allocate memory",
                  "std::bad_alloc", "memory exhausted", "pch allocation failure")


def compiler_env() -> dict:
    """The environment g++ runs in: the host's, less sanitizer runtimes preloaded
    into the host (tests/test_sanitizers.py loads ASan-built libraries into
    Python): g++ would run under them, and ASan cannot map its shadow memory
    under the address-space limit."""
    env = dict(os.environ)
    preload = env.get("LD_PRELOAD")
    if preload:
        kept = [p for p in preload.replace(":", " ").split() if not re.search(r"lib[atlu]+san\.so", p)]
        if kept:
            env["LD_PRELOAD"] = " ".join(kept)
        else:
            del env["LD_PRELOAD"]
    return env


_STARTS = threading.Condition()
_started = 0


def compiler_starts() -> int:
    """How many g++ runs this process has started (wait_for_compiler)."""
    return _started


def wait_for_compiler(since: int, timeout: float) -> bool:
    """Blocks until a g++ run starts after compiler_starts() gave `since`, at
    most timeout seconds: Python work meant to run beside g++ (highlighting the
    C++ it compiles) waits for it, not to hold the GIL while the build thread
    still prepares it."""
    with _STARTS:
        return _STARTS.wait_for(lambda: _started > since, timeout)


def run_compiler(cmd: List[str]):
    """Runs g++ in a session of its own (a Ctrl-C aimed at the host does not kill
    the build), at most MATX_NB_CXX_TIMEOUT seconds (default 600) and
    MATX_NB_CXX_MEMORY_MB of address space (memory_limit_mb), and never longer
    than the process that started it. Over time, the whole process group
    (cc1plus, as, ld) is killed; over either limit, CompilerKilled is raised.
    A g++ killed by a signal gives a negative returncode, as from Popen."""
    import signal
    import subprocess
    limit = float(os.environ.get("MATX_NB_CXX_TIMEOUT") or 600)
    memory = memory_limit_mb()
    watch_r, watch_w = os.pipe()
    try:
        p = subprocess.Popen(["/bin/sh", "-c", _BOUNDED, "sh", str(memory * 1024), str(watch_r), *cmd],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, pass_fds=(watch_r,), env=compiler_env())
    finally:
        os.close(watch_r)
    global _started
    with _STARTS:
        _started += 1
        _STARTS.notify_all()
    try:
        try:
            out, err = p.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise CompilerKilled(f"the C++ compiler did not finish in {limit:g} s and was stopped "
                                 "(MATX_NB_CXX_TIMEOUT sets the limit)") from None
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
    finally:
        os.close(watch_w)  # the watcher ends the group (g++ has exited by now)
    rc = p.returncode
    if rc > 128:  # the shell reports a g++ killed by signal N as 128 + N
        rc = -(rc - 128)
    if rc > 0 and "killed signal terminated program" in err.lower():  # cc1plus killed (the OOM killer)
        raise CompilerKilled("the C++ compiler was killed (out of memory?): " + err.strip()[-300:])
    if memory and rc != 0 and any(s in err.lower() for s in _OUT_OF_MEMORY):
        raise CompilerKilled(f"the C++ compiler ran out of memory: it may use {memory} MB "
                             "(MATX_NB_CXX_MEMORY_MB sets the limit; a smaller function, or a "
                             "large literal moved to a file, needs less)")
    return subprocess.CompletedProcess(cmd, rc, out, err)


LINK_MARK = "// matx_nb-link: "


def check_build(r, elapsed: float, tmp_out: Path) -> Optional["BuildResult"]:
    """None where the g++ run r succeeded; else removes its output and returns the
    failed BuildResult, or raises where the machine, not the code, is at fault."""
    if r.returncode < 0:  # killed (out of memory, a timeout, by hand): not the code's fault
        tmp_out.unlink(missing_ok=True)
        sig = signal_name(-r.returncode)
        why = "was killed (out of memory?)" if sig == "SIGKILL" else "crashed"
        raise CompilerKilled(f"the C++ compiler {why}: {sig} after {elapsed:.1f} s; "
                             "try again, or build with less optimization (-O1)")
    if r.returncode != 0:
        tmp_out.unlink(missing_ok=True)
        missing = MissingSystemLibrary.from_log(r.stderr)
        if missing is not None:  # the machine's fault, not the generated code's
            raise missing
        return BuildResult(False, None, r.stderr, elapsed, list(r.args))
    return None


# `// line 12: ...` marks: a unit's object does not depend on where its code sits in the cell.
_LINE_MARK = re.compile(r"^\s*// line \d+: .*$", re.M)


def object_path(toolchain_key: str, mode: str, text: str) -> Path:
    """Where the object of a translation unit of this text is cached."""
    h = hashlib.sha256(f"{toolchain_key}\0{mode}\0{_LINE_MARK.sub('', text)}".encode()).hexdigest()[:32]
    return cache_dir() / "obj" / h[:2] / f"{h}.o"


OBJECT_MARK = "// matx_nb-object: "


def object_names(source: str) -> List[str]:
    """Runtime objects the generated source asks for (`// matx_nb-object: vision`)."""
    return [line[len(OBJECT_MARK):].strip() for line in source.splitlines() if line.startswith(OBJECT_MARK)]


def opencv_include() -> Optional[str]:
    """The folder holding opencv2/ (OpenCV 4's headers), or None. MATX_NB_OPENCV_INCLUDE
    overrides the usual places."""
    env = os.environ.get("MATX_NB_OPENCV_INCLUDE")
    cands = [env] if env else []
    cands += [os.path.join(p, "include", "opencv4") for p in
              (os.environ.get("CONDA_PREFIX"), sys.prefix, "/usr/local", "/usr") if p]
    return next((c for c in cands if os.path.isfile(os.path.join(c, "opencv2", "core.hpp"))), None)


_has_header_memo: dict = {}


def has_header(header: str, cxx: str = "g++") -> bool:
    """Whether the C++ compiler finds <header> on its own include path."""
    key = (header, cxx)
    if key not in _has_header_memo:
        import subprocess
        probe = f"#if !__has_include(<{header}>)\n#error missing\n#endif\n"
        try:
            r = subprocess.run([cxx, "-x", "c++", "-std=c++17", "-E", "-", "-o", os.devnull], input=probe,
                               capture_output=True, text=True, timeout=60)
            _has_header_memo[key] = r.returncode == 0
        except (OSError, subprocess.SubprocessError):
            _has_header_memo[key] = False
    return _has_header_memo[key]


def _vision_flags() -> tuple:
    """(compile flags, link flags) of the vision object: OpenCV's headers, and
    libjpeg's for its direct JPEG path where they are there (mod/vision_jpeg.h)."""
    inc = opencv_include()
    if inc is None:
        raise MissingSystemLibrary("opencv2/core.hpp", library_for(header="opencv2/core.hpp"))
    if has_header("jpeglib.h"):
        return ["-I", inc, "-DMATX_NB_HAVE_LIBJPEG"], ["-ljpeg"]
    return ["-I", inc], []


# Runtime parts compiled into an object of their own: name -> (compile flags,
# flags of each link that uses it).
EXTRA_OBJECTS = {"vision": _vision_flags}


def linker_flags() -> List[str]:
    """The quicker linker where the system has it: gold links a library in about
    half of ld.bfd's time (25 against 50 ms for a notebook cell's four objects).
    MATX_NB_LINKER names another (bfd, lld, mold), or "default"."""
    choice = os.environ.get("MATX_NB_LINKER", "gold")
    if choice == "default":
        return []
    key = ("linker", choice)
    if key not in _memo:
        _memo[key] = [f"-fuse-ld={choice}"] if shutil.which(f"ld.{choice}") or shutil.which(choice) else []
    return _memo[key]


def link_flags(source: str) -> List[str]:
    """Libraries the generated source asks for (`// matx_nb-link: -lpcre2-32` lines)."""
    return [flag for line in source.splitlines() if line.startswith(LINK_MARK)
            for flag in line[len(LINK_MARK):].split()]


@dataclass
class BuildResult:
    ok: bool
    path: Optional[Path]
    log: str
    seconds: float
    command: List[str]
    units: Optional[tuple] = None  # (units compiled, units in all) of a library built from units


class file_lock:
    """An exclusive lock on a file (fcntl), held for a `with` block."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __enter__(self):
        import fcntl
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_verified: dict = {}  # lib.so path -> (device, inode, size, mtime) whose sha256 matched meta.json


class LibraryCache:
    """Compiled libraries by key: <cache>/lib/<key[:2]>/<key>/{lib.so,source.cc,meta.json}.

    meta.json's "sha256" is the library's checksum, written before lib.so is renamed
    into place; a library whose file does not match it is never loaded (mapping a
    truncated one is a SIGBUS, a patched one runs its patch) but rebuilt."""

    def __init__(self, toolchain: Toolchain):
        self.tc = toolchain

    def entry(self, program_key: str) -> Path:
        # The precompiled header's key (tc.key) ignores the compiler's Python;
        # a library also depends on the code generator that wrote it.
        k = hashlib.sha256((program_key + self.tc.key() + compiler_hash()).encode()).hexdigest()[:32]
        return cache_dir() / "lib" / k[:2] / k

    def lookup(self, program_key: str) -> Optional[Path]:
        """The entry's library if it is there and intact; a damaged one is removed."""
        d = self.entry(program_key)
        lib = d / "lib.so"
        if not lib.exists():
            return None
        if self.intact(d):
            return lib
        with file_lock(d.with_name(d.name + ".lock")):  # not while another process rebuilds it
            if self.intact(d):
                return lib
            self.discard(d)
        return None

    @staticmethod
    def intact(d: Path) -> bool:
        """Whether d/lib.so matches the checksum in d/meta.json (hashed once per
        process and file version)."""
        lib = d / "lib.so"
        try:
            st = os.stat(lib)
            ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if _verified.get(lib) == ident:
                return True
            want = json.loads((d / "meta.json").read_text()).get("sha256")
            if not isinstance(want, str) or file_sha256(lib) != want:
                return False
        except (OSError, ValueError, AttributeError):
            return False
        _verified[lib] = ident
        return True

    @staticmethod
    def discard(d: Path) -> None:
        """Removes a damaged library (a process that has it mapped keeps its copy)."""
        import warnings
        warnings.warn(f"matx_nb: the cached library {d / 'lib.so'} is damaged (its checksum does "
                      "not match meta.json); it is rebuilt", RuntimeWarning, stacklevel=3)
        _verified.pop(d / "lib.so", None)
        (d / "lib.so").unlink(missing_ok=True)

    def build(self, program_key: str, source: str, meta: dict, units: Optional[list] = None,
              reuse: bool = True) -> BuildResult:
        d = self.entry(program_key)
        lib = d / "lib.so"
        if self.lookup(program_key) is not None:
            return BuildResult(True, lib, "", 0.0, [])
        d.mkdir(parents=True, exist_ok=True)
        with file_lock(d.with_name(d.name + ".lock")):
            if lib.exists() and self.intact(d):  # another process finished it while we waited
                return BuildResult(True, lib, "", 0.0, [])
            atomic_write(d / "source.cc", source)
            fresh = d / "lib.so.new"
            res = self.tc.compile_units(units, fresh, reuse) if units else self.tc.compile(source, fresh)
            if not res.ok:
                atomic_write(d / "meta.json", json.dumps(meta, indent=1))
                return res
            # The checksum is in place before the library is: a reader that finds
            # lib.so finds its checksum.
            atomic_write(d / "meta.json", json.dumps({**meta, "sha256": file_sha256(fresh)}, indent=1))
            os.replace(fresh, lib)
            res.path = lib
            return res


def atomic_write(path: Path, text: str):
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":  # CMake at install time
    if len(sys.argv) == 3 and sys.argv[1] == "--build-pch":
        sys.exit(build_installed_pch(Path(sys.argv[2])))
    sys.exit("usage: python -m matx_nb.compiler.toolchain --build-pch DEST")
