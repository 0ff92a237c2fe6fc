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

__all__ = ["load_ipython_extension", "unload_ipython_extension", "extension"]


def load_ipython_extension(ip) -> None:
    """Called by IPython on ``%load_ext``; registers %%matx and %matx_export once."""
    if extension(ip) is None:
        from .magics import MatxMagics
        ip.register_magics(MatxMagics(ip))


def unload_ipython_extension(ip) -> None:
    m = extension(ip)
    if m is not None:
        m.manager.shutdown()


def extension(ip):
    """The shell's MatxMagics instance (its builds and views), or None."""
    return ip.magics_manager.registry.get("MatxMagics")
