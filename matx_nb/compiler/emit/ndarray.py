"""C++ for numpy-style NDArray syntax (see check/ndarray.py): indexing,
item assignment, `a[i] op= v`, loops over the first axis and read-only
attributes of opaque types; free functions over the emitter's state `em`. The
runtime side is
runtime/include/matx_nb/mod/ndarray.h.
"""
from __future__ import annotations

from .. import ir
from ..modules import NDARRAY
from ..check.ndarray import index_items, is_index_marker
from ..types import ANY, BOOL, INT, NONE, AnyType, resolve
from . import hooks
from . import loops as loop_rules

_ND = "matx_nb/mod/ndarray.h"
_OPS = {"+": "Add", "-": "Sub", "*": "Mul", "/": "TrueDiv"}


def nd_single_int(em, index: ir.Expr) -> bool:
    """a[i] with one integer: the fast path (no index list)."""
    return not isinstance(index, (ir.TupleLit, ir.Slice)) and resolve(index.ty) in (INT, BOOL)


def nd_index(em, index: ir.Expr, loc: str) -> str:
    """The index as the runtime's NdIndex: {nd_ix(i), nd_sl(lo, hi, step)...}."""
    parts = []
    for item in index_items(index):
        if isinstance(item, ir.Slice):
            bounds = [hooks.coerced(em, x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                      for x in (item.lower, item.upper, item.step)]
            parts.append(f"mx::pymod::nd_sl({', '.join(bounds)}, {loc})")
        elif is_index_marker(item):
            parts.append(f"mx::pymod::nd_{'ellipsis' if item.value is Ellipsis else 'newaxis'}({loc})")
        else:
            want = ANY if isinstance(resolve(item.ty), AnyType) else INT
            parts.append(f"mx::pymod::nd_ix({hooks.coerced(em, item, want)}, {loc})")
    return "mx::pymod::NdIndex{" + ", ".join(parts) + "}"


def nd_subscript(em, e: ir.Subscript, array: str) -> str:
    em.headers.add(_ND)
    loc = em.loc(e)
    if nd_single_int(em, e.index):
        return f"mx::pymod::ndarray_getitem({array}, {hooks.coerced(em, e.index, INT)}, {loc})"
    fn = "ndarray_view" if resolve(e.ty) == NDARRAY else "ndarray_item"
    return f"mx::pymod::{fn}({array}, {nd_index(em, e.index, loc)}, {loc})"


def nd_setitem(em, t: ir.Subscript, value: str):
    em.headers.add(_ND)
    loc = em.loc(t)
    array = hooks.expr(em, t.value)
    index = hooks.coerced(em, t.index, INT) if nd_single_int(em, t.index) else nd_index(em, t.index, loc)
    em.line(f"mx::pymod::ndarray_setitem({array}, {index}, {value}, {loc});")


def nd_augassign(em, s: ir.AugAssign):
    """a[i] op= v, a op= v: in place (an array target is the index `...`)."""
    em.headers.add(_ND)
    t = s.target
    loc = em.loc(t)
    if not isinstance(t, ir.Subscript):
        array, index = hooks.expr(em, t), f"mx::pymod::NdIndex{{mx::pymod::nd_ellipsis({loc})}}"
    elif nd_single_int(em, t.index):
        array, index = hooks.expr(em, t.value), f"int64_t({hooks.coerced(em, t.index, INT)})"
    else:
        array, index = hooks.expr(em, t.value), nd_index(em, t.index, loc)
    em.line(f"mx::pymod::ndarray_augitem({array}, {index}, mx::pymod::NdOp::{_OPS[s.op]}, "
              f"{hooks.expr(em, s.value)}, {loc});")


def nd_binop(em, op: str, lcode: str, lt, rcode: str, node) -> str:
    """a + b, a * 2, 2 - a (a number on the left is the reflected operation)."""
    em.headers.add(_ND)
    node.binop_ty = NDARRAY
    fn = {"+": "add", "-": "sub", "*": "mul", "/": "truediv"}[op]
    loc = em.loc(node)
    if resolve(lt) == NDARRAY:
        return f"mx::pymod::ndarray_{fn}({lcode}, {rcode}, {loc})"
    if op in ("+", "*"):
        return f"mx::pymod::ndarray_{fn}({rcode}, {lcode}, {loc})"
    return f"mx::pymod::ndarray_r{fn}({rcode}, {lcode}, {loc})"


@hooks.provide
def nd_iterate(em, it: ir.Expr, on_item):
    """for x in a: rows of the first axis (numbers for a 1-d array), read as the loop goes."""
    em.headers.add(_ND)
    seq, n, k = em.new_tmp("arr"), em.new_tmp("n"), em.new_tmp("k")
    loc = em.loc(it)
    loop_rules.block_open(em)
    em.line(f"auto {seq} = {hooks.expr(em, it)};")
    em.line(f"const int64_t {n} = mx::pymod::ndarray_iter_len({seq}, {loc});")
    em.line(f"for (int64_t {k} = 0; {k} < {n}; ++{k}) {{")
    em.ind += 1
    on_item(f"mx::pymod::ndarray_getitem({seq}, {k}, {loc})", ANY)
    loop_rules.block_close(em)
    loop_rules.block_close(em)


def opaque_attribute(em, e: ir.Attribute) -> str:
    mf = e.resolved.member
    em.headers.add(mf.header)
    return f"{mf.cpp}({hooks.expr(em, e.value)}, {em.loc(e)})"
