"""Type rules of numpy-style NDArray syntax: `a.shape` and the other read-only
attributes, indexing `a[i]`, `a[i, j]`, `a[lo:hi:step]`, `a[..., None]`,
item assignment `a[i] = v` and `a[i] += v`, `len(a)` and `for x in a`.

An index of integers gives a number when it reaches every axis and a view
otherwise, and the number of axes is not static: its type is Any (a number at
run time, or an NDArray). An index with a slice, `...` or None always gives an
array, typed NDArray. Free functions over the checker's state `chk`
(runtime: mod/ndarray.h).
"""
from __future__ import annotations

from typing import List, Optional

from .. import ir, modules
from ..diagnostics import a_or_an
from ..types import ANY, BOOL, ERROR, FLOAT, INT, NONE, AnyType, ListType, Type, is_error, resolve
from . import hooks

NDARRAY = modules.NDARRAY
# What a[...] = v may store: a number, an array, an Any (checked at run time)
# or (nested) lists of numbers.
_VALUE_TYPES = (INT, FLOAT, BOOL, NDARRAY)
# a[...] op= v: numpy's operators that NDArray has.
AUG_OPS = ("+", "-", "*", "/")


def is_ndarray(t: Type) -> bool:
    return resolve(t) == NDARRAY


def index_items(index: ir.Expr) -> List[ir.Expr]:
    """The items of an index: a[i, j] has two, a[i] one."""
    return list(index.elts) if isinstance(index, ir.TupleLit) else [index]


def is_index_marker(e: ir.Expr) -> bool:
    """`...` or None in an index (numpy.newaxis)."""
    return isinstance(e, ir.Const) and (e.value is Ellipsis or e.value is None)


def _number_list(t: Type) -> bool:
    t = resolve(t)
    if not isinstance(t, ListType):
        return False
    while isinstance(t, ListType):
        t = resolve(t.elem)
    return t in (INT, FLOAT, BOOL)


def nd_index(chk, index: ir.Expr) -> Optional[bool]:
    """Checks an NDArray index; returns whether its result is always an
    array (a slice, `...` or None in it), or None after an error."""
    always_array, ok = False, True
    for item in index_items(index):
        if isinstance(item, ir.Slice):
            hooks.expr(chk, item)
            always_array = True
        elif is_index_marker(item):
            item.ty = NONE
            always_array = True
        else:
            t = resolve(hooks.expr(chk, item))
            if t == BOOL:
                chk.error(item.span, "boolean indexing of an NDArray is not supported",
                           "index with an int: a[int(flag)]")
                ok = False
            elif t != INT and not isinstance(t, AnyType) and not is_error(t):
                chk.error(item.span, f"NDArray indices must be integers or slices, not {t}",
                           "only integers, slices, ... and None index an NDArray here")
                ok = False
    if isinstance(index, ir.TupleLit):
        index.ty = ANY  # not a value of its own: codegen reads the items
    return always_array if ok else None


def nd_subscript(chk, e: ir.Subscript) -> Type:
    """a[...]: NDArray when the index has a slice, ... or None, else Any."""
    always_array = nd_index(chk, e.index)
    if always_array is None:
        return ERROR
    return NDARRAY if always_array else ANY


def nd_value(chk, value_t: Type, span) -> bool:
    t = resolve(value_t)
    if t in _VALUE_TYPES or isinstance(t, AnyType) or _number_list(t) or is_error(t):
        return True
    chk.error(span, f"cannot store {a_or_an(value_t)} in an NDArray",
               "store a number, an NDArray or (nested) lists of numbers")
    return False


def nd_assign_target(chk, t: ir.Subscript, vt: Type, span):
    """a[...] = v: the value keeps its own type (cast at run time, as numpy casts)."""
    nd_index(chk, t.index)
    nd_value(chk, vt, span)
    t.ty = vt


def nd_augassign(chk, s: ir.AugAssign) -> bool:
    """a[...] op= v and a op= v, in place as in numpy. False if s's target
    is neither an NDArray item nor an NDArray."""
    t = s.target
    s.nd_inplace = False
    if isinstance(t, ir.Subscript):
        if not is_ndarray(hooks.expr(chk, t.value)):
            return False
        nd_index(chk, t.index)
    elif not is_ndarray(hooks.expr(chk, t)):
        return False
    vt = hooks.expr(chk, s.value)
    if s.op not in AUG_OPS:
        chk.error(s.span, f"'{s.op}=' on NDArray items is not supported",
                   "NDArray has + - * /; write a[i] = a[i] ... v with an explicit type")
    else:
        nd_value(chk, vt, s.value.span)
    if isinstance(t, ir.Subscript):
        t.ty = ANY
    s.binop_ty = ANY
    s.nd_inplace = True
    return True


def nd_binop_type(chk, op: str, l: Type, r: Type, span) -> Optional[Type]:
    """a + b, a * 2, 1 - a: numpy's elementwise + - * / (None: not an NDArray operation)."""
    if NDARRAY not in (l, r):
        return None
    other = r if l == NDARRAY else l
    if op not in AUG_OPS or not (other in _VALUE_TYPES or isinstance(other, AnyType)):
        chk.error(span, f"unsupported operand types for {op}: '{l}' and '{r}'",
                   "NDArray has + - * / with numbers and NDArrays")
        return ERROR
    return NDARRAY


def nd_attribute(chk, e: ir.Attribute, ot: Type) -> Type:
    """a.shape, a.dtype...: the read-only attributes an opaque type declares."""
    info = modules.TYPES[ot.name]
    mf = info.attrs.get(e.attr)
    if mf is not None:
        e.resolved = ir.OpaqueAttr(mf)
        return mf.returns
    if e.attr in info.methods:
        chk.error(e.span, "bound methods as values are not supported yet; call the method",
                   f"{ot.name}.{e.attr}(...)")
    else:
        chk.error(e.span, f"'{ot.name}' object has no attribute '{e.attr}'")
    return ERROR


def nd_unordered(chk, e: ir.Call, name: str) -> Type:
    """sorted(a), min(a), max(a): the items are Any (numbers or rows), which have no static order."""
    chk.error(e.span, f"{name}() of an NDArray is not supported yet",
               f"give the items a type first: xs: List[float] = a.tolist(); {name}(xs)")
    return ERROR


def gather_varargs(chk, e: ir.Call, n_params: int):
    """reshape(2, 3) and reshape((2, 3)) as reshape([2, 3]), numpy's spellings."""
    args = e.args
    if len(args) > n_params:
        rest = args[n_params - 1:]
        e.args = args[:n_params - 1] + [ir.ListLit(rest[0].span, rest)]
    elif len(args) == n_params and isinstance(args[-1], ir.TupleLit):
        e.args = args[:-1] + [ir.ListLit(args[-1].span, list(args[-1].elts))]
