"""The exception classes compiled code knows, in one table shared by the
checker (what `raise` and `except` may name), the emitter (the runtime kinds an
except clause catches) and the runtime (`ErrKind` in runtime/include/matx_nb/
error.h, in the same order; tests/test_layout.py checks that they agree).
"""
from __future__ import annotations

# The runtime's ErrKind, in its order (error.h).
ERR_KINDS = ("Exception", "TypeError", "ValueError", "IndexError", "KeyError", "ZeroDivisionError",
             "OverflowError", "AttributeError", "RuntimeError", "NotImplementedError", "AssertionError",
             "StopIteration", "UnicodeDecodeError", "UnicodeEncodeError", "MemoryError", "RecursionError",
             "LookupError", "ArithmeticError", "NameError", "UnboundLocalError", "OSError", "FileNotFoundError",
             "JSONDecodeError", "BinasciiError", "ReError", "KeyboardInterrupt")

# Kinds whose Python name differs from the C++ one (errkind_name in error.h).
PYTHON_NAMES = {"BinasciiError": "binascii.Error", "ReError": "re.error"}

# Classes a `raise` in compiled code may name.
RAISABLE = frozenset({"Exception", "TypeError", "ValueError", "IndexError", "KeyError", "ZeroDivisionError",
                      "OverflowError", "AttributeError", "RuntimeError", "NotImplementedError", "AssertionError",
                      "StopIteration", "LookupError", "ArithmeticError", "NameError"})

# Names an except clause may use that catch other kinds than their own.
CATCHES = {"BaseException": ("Exception", "KeyboardInterrupt"),
           "UnicodeError": ("UnicodeDecodeError", "UnicodeEncodeError"),
           "IOError": ("OSError",), "json.JSONDecodeError": ("JSONDecodeError",),
           "binascii.Error": ("BinasciiError",), "re.error": ("ReError",)}

# Every name an except clause may use.
CATCHABLE = frozenset({k for k in ERR_KINDS if k not in PYTHON_NAMES} | set(CATCHES))


def caught_kinds(name: str):
    """The runtime kinds `except <name>` catches."""
    return CATCHES.get(name, (name,))
