"""C++ for numpy-style NDArray syntax (see check/ndarray.py): indexing,
item assignment, `a[i] op= v`, loops over the first axis and read-only
attributes of opaque types. A mixin of emitter.Emitter; the runtime side is
runtime/include/matx_nb/mod/ndarray.h.
"""
from __future__ import annotations

from .. import ir
from ..modules import NDARRAY
from ..check.ndarray import index_items, is_index_marker
from ..types import ANY, BOOL, INT, NONE, AnyType, resolve

_ND = "matx_nb/mod/ndarray.h"
_OPS = {"+": "Add", "-": "Sub", "*": "Mul", "/": "TrueDiv"}


class NDArrayEmitter:
    """Mixin of Emitter."""

    def nd_single_int(self, index: ir.Expr) -> bool:
        """a[i] with one integer: the fast path (no index list)."""
        return not isinstance(index, (ir.TupleLit, ir.Slice)) and resolve(index.ty) in (INT, BOOL)

    def nd_index(self, index: ir.Expr, loc: str) -> str:
        """The index as the runtime's NdIndex: {nd_ix(i), nd_sl(lo, hi, step)...}."""
        parts = []
        for item in index_items(index):
            if isinstance(item, ir.Slice):
                bounds = [self.coerced(x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                          for x in (item.lower, item.upper, item.step)]
                parts.append(f"mx::pymod::nd_sl({', '.join(bounds)}, {loc})")
            elif is_index_marker(item):
                parts.append(f"mx::pymod::nd_{'ellipsis' if item.value is Ellipsis else 'newaxis'}({loc})")
            else:
                want = ANY if isinstance(resolve(item.ty), AnyType) else INT
                parts.append(f"mx::pymod::nd_ix({self.coerced(item, want)}, {loc})")
        return "mx::pymod::NdIndex{" + ", ".join(parts) + "}"

    def nd_subscript(self, e: ir.Subscript, array: str) -> str:
        self.headers.add(_ND)
        loc = self.loc(e)
        if self.nd_single_int(e.index):
            return f"mx::pymod::ndarray_getitem({array}, {self.coerced(e.index, INT)}, {loc})"
        fn = "ndarray_view" if resolve(e.ty) == NDARRAY else "ndarray_item"
        return f"mx::pymod::{fn}({array}, {self.nd_index(e.index, loc)}, {loc})"

    def nd_setitem(self, t: ir.Subscript, value: str):
        self.headers.add(_ND)
        loc = self.loc(t)
        array = self.expr(t.value)
        index = self.coerced(t.index, INT) if self.nd_single_int(t.index) else self.nd_index(t.index, loc)
        self.line(f"mx::pymod::ndarray_setitem({array}, {index}, {value}, {loc});")

    def nd_augassign(self, s: ir.AugAssign):
        """a[i] op= v, a op= v: in place (an array target is the index `...`)."""
        self.headers.add(_ND)
        t = s.target
        loc = self.loc(t)
        if not isinstance(t, ir.Subscript):
            array, index = self.expr(t), f"mx::pymod::NdIndex{{mx::pymod::nd_ellipsis({loc})}}"
        elif self.nd_single_int(t.index):
            array, index = self.expr(t.value), f"int64_t({self.coerced(t.index, INT)})"
        else:
            array, index = self.expr(t.value), self.nd_index(t.index, loc)
        self.line(f"mx::pymod::ndarray_augitem({array}, {index}, mx::pymod::NdOp::{_OPS[s.op]}, "
                  f"{self.expr(s.value)}, {loc});")

    def nd_binop(self, op: str, lcode: str, lt, rcode: str, node) -> str:
        """a + b, a * 2, 2 - a (a number on the left is the reflected operation)."""
        self.headers.add(_ND)
        node.binop_ty = NDARRAY
        fn = {"+": "add", "-": "sub", "*": "mul", "/": "truediv"}[op]
        loc = self.loc(node)
        if resolve(lt) == NDARRAY:
            return f"mx::pymod::ndarray_{fn}({lcode}, {rcode}, {loc})"
        if op in ("+", "*"):
            return f"mx::pymod::ndarray_{fn}({rcode}, {lcode}, {loc})"
        return f"mx::pymod::ndarray_r{fn}({rcode}, {lcode}, {loc})"

    def nd_iterate(self, it: ir.Expr, on_item):
        """for x in a: rows of the first axis (numbers for a 1-d array), read as the loop goes."""
        self.headers.add(_ND)
        seq, n, k = self.new_tmp("arr"), self.new_tmp("n"), self.new_tmp("k")
        loc = self.loc(it)
        self.block_open()
        self.line(f"auto {seq} = {self.expr(it)};")
        self.line(f"const int64_t {n} = mx::pymod::ndarray_iter_len({seq}, {loc});")
        self.line(f"for (int64_t {k} = 0; {k} < {n}; ++{k}) {{")
        self.ind += 1
        on_item(f"mx::pymod::ndarray_getitem({seq}, {k}, {loc})", ANY)
        self.block_close()
        self.block_close()

    def opaque_attribute(self, e: ir.Attribute) -> str:
        mf = e.resolved.member
        self.headers.add(mf.header)
        return f"{mf.cpp}({self.expr(e.value)}, {self.loc(e)})"
