"""MATXScript's public names, so code written for `import matx` runs with
`import matx_nb as matx`: the container types (usable as constructors, as
annotations and inside compiled code), NDArray as an annotation, and
serialize/deserialize.

serialize(obj) writes Python literal syntax (what repr() gives, which compiled
code produces too); deserialize() reads it back with the types intact: list,
dict, set, tuple, str, bytes, int, float (nan, inf), bool, None.
"""
from __future__ import annotations

import ast
import math
from typing import Any as _Any


def _reserve(self, n: int) -> None:
    """MATXScript's reserve(n): capacity only; nothing to do for a Python container."""
    if n < 0:
        raise ValueError("reserve() argument must not be negative")


class List(list):
    """matx.List([1, 2]): a Python list (compares equal to one); List[int] as an annotation."""
    reserve = _reserve


class Dict(dict):
    """matx.Dict({"a": 1}) / matx.Dict(a=1): a Python dict; Dict[str, int] as an annotation."""
    reserve = _reserve


class Set(set):
    """matx.Set([1, 2]): a Python set; Set[int] as an annotation."""
    reserve = _reserve


class Tuple(tuple):
    """matx.Tuple(1, 2) == (1, 2), as in MATXScript (items as arguments)."""

    def __new__(cls, *items):
        return super().__new__(cls, items)

    def __class_getitem__(cls, params):
        import typing
        return typing.Tuple[params] if isinstance(params, tuple) else typing.Tuple[(params,)]


# Typed containers of MATXScript: the same containers here.
FTList = List
FTDict = Dict
FTSet = Set


class NDArray:
    """Placeholder so `matx.NDArray` annotations evaluate; arrays are another issue."""

    def __class_getitem__(cls, params):
        return cls


def serialize(obj: _Any) -> str:
    """A text form of obj (Python literal syntax) that deserialize() reads back."""
    _check_serializable(obj)
    return repr(obj)


def _check_serializable(obj, depth=0):
    if depth > 1000:
        raise ValueError("serialize: nesting too deep")
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for x in obj:
            _check_serializable(x, depth + 1)
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_serializable(k, depth + 1)
            _check_serializable(v, depth + 1)
        return
    raise TypeError(f"serialize: objects of type {type(obj).__name__} are not supported")


_NAMES = {"True": True, "False": False, "None": None, "nan": math.nan, "inf": math.inf}


def deserialize(s: str) -> _Any:
    """The value serialize() wrote."""
    try:
        tree = ast.parse(s.strip(), mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"deserialize: not a serialized value: {s!r}") from e
    return _value(tree, s)


def _value(n, s):
    if isinstance(n, ast.Constant) and not isinstance(n.value, (complex, type(...))):
        return n.value
    if isinstance(n, ast.Name) and n.id in _NAMES:
        return _NAMES[n.id]
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
        v = _value(n.operand, s)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v if isinstance(n.op, ast.USub) else v
    if isinstance(n, ast.List):
        return [_value(x, s) for x in n.elts]
    if isinstance(n, ast.Tuple):
        return tuple(_value(x, s) for x in n.elts)
    if isinstance(n, ast.Set):
        return {_value(x, s) for x in n.elts}
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "set" and not n.args:
        return set()
    if isinstance(n, ast.Dict) and None not in n.keys:
        return {_value(k, s): _value(v, s) for k, v in zip(n.keys, n.values)}
    raise ValueError(f"deserialize: not a serialized value: {s!r}")
