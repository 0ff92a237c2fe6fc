"""IPython kernel extension for matx_nb: the `%%matx` cell magic.

    %load_ext matx_nb        # or: %load_ext kernel_ext

    %%matx --bench "fib(25)" --check "fib(10), fib(20)"
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)

`cell.py` runs and type checks a cell, `builds.py` compiles it in the background,
`view.py`/`render.py` show it, `measure.py` runs --check/--bench, `export.py`
traces and saves pipelines. The compiler (matx_nb.compiler) knows nothing of this.
See docs/notebook.md.
"""

import importlib.util
import shlex
import sys

__all__ = ["load_ipython_extension", "unload_ipython_extension", "extension",
           "MissingNotebookPackages", "missing_packages"]

# What the magic imports while a cell runs (module -> pip package); all are
# dependencies of matx_nb in pyproject.toml, so only a broken or partial
# environment lacks one.
RUNTIME_MODULES = {"ipywidgets": "ipywidgets", "matplotlib": "matplotlib",
                   "pygments": "pygments", "comm": "comm"}


def missing_packages() -> list:
    """The pip packages of RUNTIME_MODULES this Python cannot import (found, not imported)."""
    importlib.invalidate_caches()  # packages installed since the kernel started count
    missing = []
    for module, package in RUNTIME_MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


class MissingNotebookPackages(ModuleNotFoundError):
    """%%matx without the packages it displays with: one line, and how to fix it."""

    def __init__(self, packages):
        self.packages = list(packages)
        fix = f"{shlex.quote(sys.executable)} -m pip install {' '.join(self.packages)}"
        super().__init__(f"matx_nb: the %%matx magic needs {', '.join(self.packages)}, which "
                         f"this kernel cannot import; install with: {fix}  (then restart the kernel)")
        self.fix = fix

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


def load_ipython_extension(ip) -> None:
    """Called by IPython on ``%load_ext``; registers %%matx and %matx_export once.
    Without a package they need, it says so in one line and registers stand-ins
    that raise the same error, instead of magics that fail deep inside a view
    (`%reload_ext matx_nb` after installing them registers the real ones)."""
    if extension(ip) is not None:
        return
    missing = missing_packages()
    if missing:
        print(MissingNotebookPackages(missing), file=sys.stderr)

        def unavailable(line, cell=None):
            raise MissingNotebookPackages(missing)

        ip.register_magic_function(unavailable, "cell", "matx")
        ip.register_magic_function(unavailable, "line", "matx_export")
        return
    from .magics import MatxMagics
    ip.register_magics(MatxMagics(ip))
    prepare_toolchain()


def prepare_toolchain() -> None:
    """Starts building the precompiled runtime header now, in the background, if
    neither the cache nor the install has it: the first cells then find it ready
    instead of each paying to parse the runtime (a daemon thread: %load_ext
    returns at once, and the build itself outlives nothing but its own g++)."""
    import threading

    def start():
        try:
            from matx_nb.compiler.toolchain import Toolchain
            Toolchain().ensure_pch()
        except Exception:  # noqa: BLE001 - a cell's build reports a broken toolchain
            pass
    threading.Thread(target=start, name="matx_nb-pch", daemon=True).start()


def unload_ipython_extension(ip) -> None:
    m = extension(ip)
    if m is not None:
        m.manager.shutdown()


def extension(ip):
    """The shell's MatxMagics instance (its builds and views), or None."""
    return ip.magics_manager.registry.get("MatxMagics")
