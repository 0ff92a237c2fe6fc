"""IPython kernel extension for matx_nb (placeholder).

Load it in IPython / Jupyter with::

    %load_ext kernel_ext        # or: %load_ext matx_nb

The real extension (cell magics that compile annotated Python with
matx_nb.script) is filled in later. For now ``load_ipython_extension`` accepts
the shell, registers nothing and returns, so ``%load_ext`` already succeeds.
"""

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ip) -> None:
    """Called by IPython on ``%load_ext``; ``ip`` is the InteractiveShell.

    Placeholder: registers nothing yet.
    """
    return None


def unload_ipython_extension(ip) -> None:
    """Called by IPython on ``%unload_ext``; nothing to undo yet."""
    return None
