"""Expressions: coercions between C++ types, constants and data tables, names, operators, comparisons, literals, comprehensions, subscripts, call arguments. A mixin of emitter.Emitter: it
writes through the emitter's state (output lines, temporaries, headers).
"""
from __future__ import annotations

from typing import List, Optional

from .. import ir, modules
from ..modules import NDARRAY
from ..kinds import RANGE, MAGIC_COMPARE, const_int
from .units import module_constant
from ..types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, ClassType, DictType, OptionalType, ListType,
                     Prim, SetType, TupleType, Type, VarTupleType, children, resolve)
from .cpp import (DYN_BINOPS, LITERAL_TABLE_MIN, TABLE_ROW, cname, bound_flag, ctype, cstr_literal, literal_values,
                  table_scalar, u32_literal, bytes_literal, float_literal, int_literal)
from ..analysis.program import evaluation_operands, needs_ordering


class ExprEmitter:
    """Mixin of Emitter."""

    def expr(self, e: ir.Expr) -> str:
        preset = self.preset.get(id(e))
        if preset is not None:
            return preset
        ops = evaluation_operands(e)
        if ops and needs_ordering(ops, self.pure):
            code = self.ordered(e, ops)
        else:
            code = getattr(self, "expr_" + type(e).__name__)(e)
        t = resolve(e.ty) if e.ty is not None else None
        if isinstance(t, Prim) and t.name in modules.TYPES:  # list(a) on an NDArray needs mod/ndarray.h
            self.headers.add(modules.TYPES[t.name].header)
        unwrap = getattr(e, "unwrap", None)
        if unwrap:  # an Optional used as its value: None raises as in CPython
            fn = "unwrap_attr" if unwrap[0] == "AttributeError" else "unwrap"
            code = f"mx::{fn}({code}, {cstr_literal(unwrap[1])}, {self.loc(e)})"
        return code

    def ordered(self, e: ir.Expr, ops: List[ir.Expr]) -> str:
        """Evaluates e's operands left to right, as Python does (C++ leaves the
        order of function arguments unspecified), then e itself."""
        lines = []
        for o in ops:
            code = self.expr(o)
            t = self.new_tmp("o")
            lines.append(f"auto {t} = {code};")
            self.preset[id(o)] = t
        try:
            inner = getattr(self, "expr_" + type(e).__name__)(e)
        finally:
            for o in ops:
                self.preset.pop(id(o), None)
        return f"([&]() {{ {' '.join(lines)} return {inner}; }}())"

    def coerce(self, code: str, frm: Type, to: Optional[Type]) -> str:
        if to is None:
            return code
        f, t = resolve(frm), resolve(to)
        if f == t:
            return code
        if isinstance(t, ClassType) and isinstance(f, ClassType) and t.name != f.name:
            return f"{ctype(t)}({code})"  # an instance of a subclass as its base
        if isinstance(t, OptionalType):
            if f == NONE:
                return f"{ctype(t)}()"
            if isinstance(f, OptionalType):
                return f"mx::opt_cast<{ctype(t.inner)}>({code})"
            return f"{ctype(t)}({self.coerce(code, f, t.inner)})"
        if isinstance(f, OptionalType):
            if isinstance(t, AnyType):
                return f"mx::opt_to_any({code})"
            inner = f"mx::unwrap({code}, \"'NoneType' object cannot be used as {t}\", {self.loc(self.cur_node) if self.cur_node is not None else 'nullptr'})"
            return self.coerce(inner, f.inner, t)
        if isinstance(t, VarTupleType) and isinstance(f, TupleType):  # (a, b) as a Tuple[T, ...]
            tmp = self.new_tmp("t")
            items = ", ".join(self.coerce(f"std::get<{i}>({tmp})", x, t.elem) for i, x in enumerate(f.items))
            return f"([&]() {{ auto {tmp} = {code}; return {ctype(t)}{{{items}}}; }}())"
        if t == FLOAT and f in (INT, BOOL):
            return f"double({code})"
        if t == INT and f == BOOL:
            return f"int64_t({code})"
        if isinstance(t, AnyType):
            return f"mx::Any({code})"
        if isinstance(f, AnyType):
            return f"mx::any_cast<{ctype(t)}>({code})"
        return code

    def coerced(self, e: ir.Expr, to: Optional[Type]) -> str:
        return self.coerce(self.expr(e), e.ty, to)

    def truth(self, e: ir.Expr) -> str:
        if resolve(e.ty) == BOOL:
            return self.expr(e)
        return f"mx::truth({self.expr(e)})"

    def expr_Const(self, e: ir.Const) -> str:
        return self.const_value(e.value)

    def const_value(self, v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return int_literal(v)
        if isinstance(v, float):
            return float_literal(v)
        if isinstance(v, (str, bytes)):
            return self.const_str(v)
        if v is None:
            return "mx::None{}"
        if isinstance(v, tuple):
            return "mx::make_tuple(" + ", ".join(self.const_value(x) for x in v) + ")"
        return "mx::None{}"

    def module_constant(self, value, ty: Type) -> str:
        """A container constant becomes one object built when the library loads."""
        if self.split_abi is not None:  # one object for the library, in the entry-point unit
            return module_constant(self, value, ty)
        key = (id(value), str(ty))
        if key not in self.str_index:
            name = f"{self.tprefix}K{len(self.strs)}"
            self.strs.append(f"const {ctype(ty)} {name} = {self.typed_const(value, ty)};")
            self.str_index[key] = name
        return self.str_index[key]

    def typed_const(self, v, ty: Type) -> str:
        t = resolve(ty)
        if isinstance(v, (list, set, frozenset, tuple, dict)) and len(v) >= LITERAL_TABLE_MIN:
            table = self.table_container(t, list(v.items()) if isinstance(v, dict) else list(v))
            if table is not None:
                return table
        if isinstance(t, VarTupleType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, t.elem) for x in v)}}}"
        if isinstance(t, ListType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, t.elem) for x in v)}}}"
        if isinstance(t, SetType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, t.elem) for x in v)}}}"
        if isinstance(t, DictType):
            return f"{ctype(t)}{{{', '.join('{' + self.typed_const(k, t.key) + ', ' + self.typed_const(x, t.value) + '}' for k, x in v.items())}}}"
        if isinstance(t, TupleType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, it) for x, it in zip(v, t.items))}}}"
        if t == FLOAT and not isinstance(v, float):
            return float_literal(float(v))
        return self.const_value(v)

    def expr_Name(self, e: ir.Name) -> str:
        r = e.resolved
        if isinstance(r, ir.FuncRef):  # a module-level function as a value
            return f"{ctype(e.ty)}(f_{r.func.name})"
        if isinstance(r, ir.ConstRef):
            if isinstance(r.value, (list, dict, set, frozenset, tuple)):
                return self.module_constant(r.value, e.ty)
            return self.const_value(r.value)
        if e.id == "self" and self.cls is not None and not self.in_static:
            return f"mx::Ref<C_{self.cls.name}>::borrow(this)"
        if e.id in ("True", "False"):
            return "true" if e.id == "True" else "false"
        if e.id == "None":
            return "mx::None{}"
        if e.check_bound:
            return f'mx::bound_read({cname(e.id)}, {bound_flag(e.id)}, "{e.id}", {self.loc(e)})'
        if e.move_from:
            return f"std::move({cname(e.id)})"
        return cname(e.id)

    @staticmethod
    def orders_any(e: ir.Call) -> bool:
        """sorted/min/max/list.sort over items that are (or hold) Any values."""
        if not (ir.builtin_named(e, ("sorted", "min", "max")) or ir.primitive_named(e, "list", "sort")):
            return False
        vals = list(e.args) + ([e.func.value] if isinstance(e.func, ir.Attribute) else [])

        def has_any(t, depth=0):
            t = resolve(t)
            return isinstance(t, AnyType) or (depth < 4 and any(has_any(c, depth + 1) for c in children(t)))
        return any(v.ty is not None and has_any(v.ty) for v in vals)

    def is_self(self, e: ir.Expr) -> bool:
        return isinstance(e, ir.Name) and e.id == "self" and self.cls is not None and not self.in_static and \
            ir.is_local(e)

    def attr_ref(self, e: ir.Attribute) -> str:
        if self.is_self(e.value):
            return f"this->a_{e.attr}"
        return f"{self.expr(e.value)}->a_{e.attr}"

    def expr_Attribute(self, e: ir.Attribute) -> str:
        if isinstance(e.resolved, ir.ConstRef):  # a module constant: math.pi
            return self.typed_const(e.resolved.value, e.ty)
        if isinstance(e.resolved, ir.ClassConst):
            obj = "this" if self.is_self(e.value) else self.expr(e.value)
            return f"{obj}->k_{e.attr}()"
        if isinstance(e.resolved, ir.OpaqueAttr):  # a.shape
            return self.opaque_attribute(e)
        return self.attr_ref(e)

    def expr_BinOp(self, e: ir.BinOp) -> str:
        m = getattr(e, "magic", None)
        if m is not None:  # a class's __add__ and the like
            return f"{self.expr(e.left)}->m_{m.name}({self.coerced(e.right, m.params[1].ty)})"
        if getattr(e, "percent", None) is not None:
            return self.percent_format(e)
        return self.binop(e.op, self.expr(e.left), e.left.ty, e.right, e, result_ty=e.ty)

    def binop(self, op: str, lcode: str, lt: Type, right: ir.Expr, node, result_ty=None) -> str:
        l, r = resolve(lt), resolve(right.ty)
        rcode = self.expr(right)
        if isinstance(l, AnyType) or isinstance(r, AnyType):
            self.headers.add("matx_nb/dyn.h")
            node.binop_ty = ANY  # s += a[i]: the Any result is cast back to s's type
            return (f"mx::dyn_{DYN_BINOPS[op]}({self.coerce(lcode, l, ANY)}, {self.coerce(rcode, r, ANY)}, "
                    f"{self.loc(node)})")
        if NDARRAY in (l, r):
            return self.nd_binop(op, lcode, l, rcode, node)
        num = (INT, FLOAT, BOOL)
        loc = self.loc(node)
        if l in num and r in num:
            if op == "/":
                if FLOAT in (l, r):
                    res = f"mx::truediv({self.coerce(lcode, l, FLOAT)}, {self.coerce(rcode, r, FLOAT)}, {loc})"
                else:
                    res = f"mx::truediv({self.coerce(lcode, l, INT)}, {self.coerce(rcode, r, INT)}, {loc})"
                node.binop_ty = FLOAT
                return res
            if op in ("&", "|", "^") and l == BOOL and r == BOOL:
                node.binop_ty = BOOL
                return f"bool({lcode} {op} {rcode})"
            if op in ("&", "|", "^"):
                node.binop_ty = INT
                return f"({self.coerce(lcode, l, INT)} {op} {self.coerce(rcode, r, INT)})"
            if op in ("<<", ">>"):
                node.binop_ty = INT
                fn = "lshift" if op == "<<" else "rshift"
                return f"mx::{fn}({self.coerce(lcode, l, INT)}, {self.coerce(rcode, r, INT)}, {loc})"
            rt = FLOAT if FLOAT in (l, r) else INT
            if op == "**" and rt == INT and result_ty is not None and resolve(result_ty) == FLOAT:
                node.binop_ty = FLOAT
                return f"mx::pow_to_float({self.coerce(lcode, l, INT)}, {self.coerce(rcode, r, INT)}, {loc})"
            node.binop_ty = rt
            a, b = self.coerce(lcode, l, rt), self.coerce(rcode, r, rt)
            if rt == FLOAT and op in "+-*":
                return f"({a} {op} {b})"
            if rt == INT and op in "+-" and isinstance(right, ir.Const) and \
                    isinstance(right.value, int) and not isinstance(right.value, bool) and right.value >= 0:
                return f"mx::{'add' if op == '+' else 'sub'}_c({a}, {b}, {loc})"
            fn = {"+": "add", "-": "sub", "*": "mul", "//": "floordiv", "%": "mod", "**": "pow"}[op]
            return f"mx::{fn}({a}, {b}, {loc})"
        node.binop_ty = result_ty if result_ty is not None else l
        if isinstance(l, SetType) and op in ("|", "&", "-", "^"):
            fn = {"|": "union_", "&": "intersection", "-": "difference", "^": "symmetric_difference"}[op]
            return f"mx::set_{fn}({lcode}, {rcode})"
        vt = resolve(result_ty) if result_ty is not None else l
        if isinstance(vt, VarTupleType) and op == "+":
            return f"mx::add({self.coerce(lcode, l, vt)}, {self.coerce(rcode, r, vt)}, {self.loc(node)})"
        if isinstance(vt, VarTupleType) and op == "*":
            return f"mx::mul({self.coerce(lcode, l, INT if l in (INT, BOOL) else l)}, " \
                   f"{self.coerce(rcode, r, INT if r in (INT, BOOL) else r)}, {self.loc(node)})"
        if isinstance(l, TupleType) and op == "+":
            return f"mx::tuple_cat({lcode}, {rcode})"
        if isinstance(l, TupleType) and op == "*":
            tmp = self.new_tmp("t")
            items = ", ".join(f"std::get<{i}>({tmp})" for i in range(len(l.items))) if l.items else ""
            n = max(0, const_int(right))
            return (f"([&]() {{ auto {tmp} = {lcode}; (void)({rcode}); return "
                    f"{ctype(node.ty)}({', '.join([items] * n if items else [])}); }}())")
        if isinstance(l, DictType) and op == "|":
            return f"mx::dict_merge({lcode}, {rcode})"
        fn = {"+": "add", "*": "mul"}[op]
        if op == "*" and r in (INT, BOOL):
            rcode = self.coerce(rcode, r, INT)
        if op == "*" and l in (INT, BOOL):
            lcode = self.coerce(lcode, l, INT)
        return f"mx::{fn}({lcode}, {rcode}, {loc})"

    def expr_UnaryOp(self, e: ir.UnaryOp) -> str:
        t = resolve(e.operand.ty)
        if e.op == "not":
            return f"(!{self.truth(e.operand)})"
        v = self.expr(e.operand)
        if isinstance(t, AnyType):
            self.headers.add("matx_nb/dyn.h")
            return f"mx::dyn_{ {'-': 'neg', '+': 'pos', '~': 'invert'}[e.op]}({v}, {self.loc(e)})"
        if e.op == "+":
            return self.coerce(v, t, INT) if t == BOOL else v
        if e.op == "-":
            if t == FLOAT:
                return f"(-{v})"
            return f"mx::neg({self.coerce(v, t, INT)}, {self.loc(e)})"
        return f"(~{self.coerce(v, t, INT)})"

    def expr_BoolOp(self, e: ir.BoolOp) -> str:
        rt = resolve(e.ty)
        if rt == BOOL and all(resolve(v.ty) == BOOL for v in e.values):
            op = " && " if e.op == "and" else " || "
            return "(" + op.join(self.expr(v) for v in e.values) + ")"
        # Python returns the deciding operand itself.
        code = self.coerced(e.values[-1], rt)
        for v in reversed(e.values[:-1]):
            tmp = self.new_tmp("b")
            test = f"mx::truth({tmp})" if resolve(v.ty) != BOOL else tmp
            first = self.coerce(tmp, v.ty, rt)
            if e.op == "and":
                code = f"([&]() -> {ctype(rt)} {{ auto {tmp} = {self.expr(v)}; return {test} ? {code} : {first}; }}())"
            else:
                code = f"([&]() -> {ctype(rt)} {{ auto {tmp} = {self.expr(v)}; return {test} ? {first} : {code}; }}())"
        return code

    def expr_Compare(self, e: ir.Compare) -> str:
        parts = []
        prelude = []
        left_code, left_t = self.expr(e.left), e.left.ty
        for i, (op, c) in enumerate(zip(e.ops, e.comparators)):
            rcode = self.expr(c)
            if i < len(e.ops) - 1 and not isinstance(c, (ir.Name, ir.Const)):
                tmp = self.new_tmp("c")
                prelude.append(f"auto {tmp} = {rcode};")
                rcode = tmp
            parts.append(self.compare(op, left_code, left_t, rcode, c.ty, c))
            left_code, left_t = rcode, c.ty
        if len(parts) == 1:
            return parts[0]
        if not prelude:
            return "(" + " && ".join(parts) + ")"
        # Each middle operand is evaluated once, and only if the chain gets that far.
        body = parts[0]
        code = f"([&]() -> bool {{ "
        steps = []
        for i, p in enumerate(parts):
            if i < len(prelude):
                steps.append(f"if (!({p})) return false; ")
                if i + 1 < len(parts):
                    pass
        # rebuild with interleaved temporaries
        out = "([&]() -> bool { "
        for i, p in enumerate(parts[:-1]):
            if i < len(prelude):
                out += prelude[i] + " "
            out += f"if (!({p})) return false; "
        out += f"return {parts[-1]}; }}())"
        return out

    def compare(self, op: str, a: str, at: Type, b: str, bt: Type, node) -> str:
        l, r = resolve(at), resolve(bt)
        if (isinstance(l, AnyType) or isinstance(r, AnyType)) and op not in ("is", "is not"):
            self.headers.add("matx_nb/dyn.h")
            a, b = self.coerce(a, l, ANY), self.coerce(b, r, ANY)
            if op in ("==", "!="):
                return f"({a} {op} {b})"
            if op in ("in", "not in"):
                return f"({'!' if op == 'not in' else ''}mx::dyn_contains({b}, {a}, {self.loc(node)}))"
            fn = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
            return f"mx::dyn_{fn}({a}, {b}, {self.loc(node)})"
        if op in ("in", "not in") and isinstance(r, ClassType):
            m = ir.find_method(r.info, "__contains__")
            code = f"mx::truth({b}->m___contains__({self.coerce(a, l, m.params[1].ty)}))"
            return code if op == "in" else f"(!{code})"
        if isinstance(l, ClassType) and op in MAGIC_COMPARE:
            name, reflected = MAGIC_COMPARE[op]
            m = ir.find_method(l.info, name)
            if m is not None:
                return f"mx::truth({a}->m_{name}({self.coerce(b, r, m.params[1].ty)}))"
            if isinstance(r, ClassType) and ir.find_method(r.info, reflected) is not None:
                m = ir.find_method(r.info, reflected)
                return f"mx::truth({b}->m_{reflected}({self.coerce(a, l, m.params[1].ty)}))"
            if op == "!=" and ir.find_method(l.info, "__eq__") is not None:
                return f"(!{self.compare('==', a, at, b, bt, node)})"
            if op in ("==", "!="):  # identity, Python's default
                neg = "!" if op == "!=" else ""
                return f"({neg}mx::same_object({a}, {b}))"
        if op in ("in", "not in"):
            neg = "!" if op == "not in" else ""
            if r == RANGE:
                args = [self.coerced(x, INT) for x in node.args]
                return f"{neg}mx::range_contains({self.coerce(a, l, INT)}, {', '.join(args)})"
            if isinstance(r, (ListType, SetType, VarTupleType)):
                a = self.coerce(a, l, r.elem)
            elif isinstance(r, DictType):
                a = self.coerce(a, l, r.key)
            if r == BYTES and l in (INT, BOOL):
                return f"{neg}mx::contains({b}, {self.coerce(a, l, INT)}, {self.loc(node)})"
            if isinstance(r, TupleType):
                return f"{neg}mx::tuple_contains({b}, {a})"
            return f"{neg}mx::contains({b}, {a})"
        if op in ("is", "is not"):
            neg = "!" if op == "is not" else ""
            if isinstance(l, OptionalType) and r == NONE:
                return f"({neg}mx::is_none({a}))"
            if isinstance(r, OptionalType) and l == NONE:
                return f"({neg}mx::is_none({b}))"
            if isinstance(l, ClassType) and isinstance(r, ClassType):
                return f"({neg}(static_cast<const mx::Object*>(({a}).get()) == ({b}).get()))"
            if isinstance(l, (ListType, DictType, SetType)) and isinstance(r, (ListType, DictType, SetType)):
                return f"({neg}(static_cast<const mx::Object*>(({a}).object()) == ({b}).object()))"
            for x, xt, y in ((a, l, r), (b, r, l)):  # re.Match and the like: None is a null handle
                if isinstance(xt, Prim) and xt.name in modules.TYPES and y == NONE:
                    return f"({'' if neg else '!'}mx::truth({x}))"
            same = (l == NONE) == (r == NONE) and l == NONE
            val = same if op == "is" else not same
            return f"((void)({a}), (void)({b}), {'true' if val else 'false'})"
        if isinstance(l, OptionalType) or isinstance(r, OptionalType):
            if l == NONE:
                a = "mx::None{}"
            if r == NONE:
                b = "mx::None{}"
            if isinstance(l, OptionalType) and isinstance(r, OptionalType) and not (l == r):
                b = f"mx::opt_cast<{ctype(l.inner)}>({b})"
            code = f"mx::opt_eq({a}, {b})"
            return code if op == "==" else f"(!{code})"
        num = (INT, FLOAT, BOOL)
        if l in num and r in num:
            if FLOAT in (l, r):
                if l != FLOAT or r != FLOAT:
                    fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
                    return f"mx::num_{fn}({a}, {b})"
            elif l == BOOL or r == BOOL:
                a, b = self.coerce(a, l, INT), self.coerce(b, r, INT)
            return f"({a} {op} {b})"
        for x, y in ((l, r), (r, l)):  # (1, 2) == args: the fixed tuple as a Tuple[T, ...]
            if isinstance(x, VarTupleType) and isinstance(y, TupleType) and not (x == y):
                from ..types import assignable
                if assignable(x, y):
                    if y is r:
                        b, r = self.coerce(b, r, x), x
                    else:
                        a, l = self.coerce(a, l, x), x
                    break
        if not (l == r):
            if op in ("==", "!="):
                return f"((void)({a}), (void)({b}), {'false' if op == '==' else 'true'})"
        fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
        if fn == "ne":
            return f"(!mx::eq({a}, {b}))"
        return f"mx::{fn}({a}, {b})"

    def expr_IfExp(self, e: ir.IfExp) -> str:
        return f"({self.truth(e.test)} ? {self.coerced(e.body, e.ty)} : {self.coerced(e.orelse, e.ty)})"

    def expr_ListLit(self, e: ir.ListLit) -> str:
        t = resolve(e.ty)
        table = self.table_container(t, literal_values(e.elts))
        if table is not None:
            return table
        items = ", ".join(self.coerced(x, t.elem) for x in e.elts)
        return f"{ctype(t)}{{{items}}}" if e.elts else f"{ctype(t)}()"

    def expr_SetLit(self, e: ir.SetLit) -> str:
        t = resolve(e.ty)
        table = self.table_container(t, literal_values(e.elts))
        if table is not None:
            return table
        items = ", ".join(self.coerced(x, t.elem) for x in e.elts)
        return f"{ctype(t)}{{{items}}}"

    def expr_TupleLit(self, e: ir.TupleLit) -> str:
        t = resolve(e.ty)
        if isinstance(t, VarTupleType):
            table = self.table_container(t, literal_values(e.elts))
            if table is not None:
                return table
            items = ", ".join(self.coerced(x, t.elem) for x in e.elts)
            return f"{ctype(t)}{{{items}}}" if e.elts else f"{ctype(t)}()"
        items = ", ".join(self.coerced(x, it) for x, it in zip(e.elts, t.items))
        return f"{ctype(t)}{{{items}}}"

    def expr_DictLit(self, e: ir.DictLit) -> str:
        t = resolve(e.ty)
        if not e.keys:
            return f"{ctype(t)}()"
        keys, values = literal_values(e.keys), literal_values(e.values)
        if keys is not None and values is not None:
            table = self.table_container(t, list(zip(keys, values)))
            if table is not None:
                return table
        items = ", ".join(f"{{{self.coerced(k, t.key)}, {self.coerced(v, t.value)}}}"
                          for k, v in zip(e.keys, e.values))
        return f"{ctype(t)}{{{items}}}"

    # ---- large literals as data tables (runtime table.h)
    def table_container(self, t: Type, items) -> Optional[str]:
        """A new list/set/tuple/dict of the constant items (Python values; (key,
        value) pairs for a dict) built from data tables, or None where the literal
        is small or its items are not all scalars of one table kind."""
        if items is None or len(items) < LITERAL_TABLE_MIN:
            return None
        if isinstance(t, DictType):
            keys = self.table([k for k, _ in items], t.key)
            values = keys and self.table([v for _, v in items], t.value)
            if not values:
                return None
            return f"mx::table_dict<{ctype(t.key)}, {ctype(t.value)}>({keys}, {values}, {len(items)})"
        if not isinstance(t, (ListType, SetType, VarTupleType)):
            return None
        ptr = self.table(list(items), t.elem)
        if ptr is None:
            return None
        fn = "table_set" if isinstance(t, SetType) else "table_list"
        code = f"mx::{fn}<{ctype(t.elem)}>({ptr}, {len(items)})"
        return f"{ctype(t)}::adopt({code})" if isinstance(t, VarTupleType) else code

    def table(self, values: list, t: Type) -> Optional[str]:
        """Emits the values as a static table of C++ items of type t; returns a
        pointer to its first item, or None if some value is not a t scalar."""
        t = resolve(t)
        values = [table_scalar(v, t) for v in values]
        if any(v is None for v in values) or not values:
            return None
        self.headers.add("matx_nb/table.h")
        name = f"{self.tprefix}T{len(self.strs)}"
        rows = [values[i:i + TABLE_ROW] for i in range(0, len(values), TABLE_ROW)]
        if t in (STR, BYTES):
            ends, n = [], 0
            for v in values:
                n += len(v)
                ends.append(n)
            lit = u32_literal if t == STR else bytes_literal
            unit, kind = ("char32_t", "StrTable") if t == STR else ("char", "BytesTable")
            text = "\n  ".join(lit("".join(r) if t == STR else b"".join(r)) for r in rows)
            self.strs.append(f"// the {len(values)} items of a literal: their text and where each ends")
            self.strs.append(f"const {unit} {name}_text[] =\n  {text};")
            self.strs.append(self.table_rows(f"const uint32_t {name}_ends[]", [str(x) for x in ends]))
            self.strs.append(f"const mx::{kind} {name}({name}_text, {name}_ends, {len(values)});")
            return f"{name}.data()"
        self.strs.append(self.table_rows(f"const {ctype(t)} {name}[]", [self.typed_const(v, t) for v in values]))
        return name

    @staticmethod
    def table_rows(decl: str, items: List[str]) -> str:
        rows = [", ".join(items[i:i + TABLE_ROW]) for i in range(0, len(items), TABLE_ROW)]
        return f"{decl} = {{\n  " + ",\n  ".join(rows) + "};"

    def comprehension(self, e, result_t: Type, add) -> str:
        """An immediately-invoked lambda: loops and filters, then add(out) per item."""
        saved_out, saved_ind = self.out, self.ind
        self.out, self.ind = [], 1
        out = self.new_tmp("r")
        self.line(f"{ctype(result_t)} {out};")
        self.loop_flags.append(None)
        self.each_generated(e.generators, lambda: self.line(add(out) + ";"))
        self.loop_flags.pop()
        self.line(f"return {out};")
        body = " ".join(x.strip() for x in self.out)
        self.out, self.ind = saved_out, saved_ind
        return f"([&]() {{ {body} }}())"

    def expr_GenExp(self, e: ir.GenExp) -> str:
        return self.expr_ListComp(e)

    def expr_ListComp(self, e: ir.ListComp) -> str:
        t = resolve(e.ty)
        return self.comprehension(e, t, lambda out: f"{out}.push_back({self.coerced(e.elt, t.elem)})")

    def expr_SetComp(self, e: ir.SetComp) -> str:
        t = resolve(e.ty)
        return self.comprehension(e, t, lambda out: f"{out}.add({self.coerced(e.elt, t.elem)})")

    def expr_DictComp(self, e: ir.DictComp) -> str:
        t = resolve(e.ty)
        return self.comprehension(
            e, t, lambda out: f"{out}.set({self.coerced(e.key, t.key)}, {self.coerced(e.value, t.value)})")

    def expr_Subscript(self, e: ir.Subscript) -> str:
        ct = resolve(e.value.ty)
        c = self.expr(e.value)
        m = getattr(e, "magic", None)
        if m is not None:
            return f"{c}->m___getitem__({self.coerced(e.index, m.params[1].ty)})"
        if ct == NDARRAY:
            return self.nd_subscript(e, c)
        if isinstance(ct, AnyType):
            self.headers.add("matx_nb/dyn.h")
            return f"mx::dyn_getitem({c}, {self.coerced(e.index, ANY)}, {self.loc(e)})"
        if isinstance(e.index, ir.Slice):
            s = e.index
            parts = [self.coerced(x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                     for x in (s.lower, s.upper, s.step)]
            return f"mx::getslice({c}, {', '.join(parts)}, {self.loc(e)})"
        if isinstance(ct, TupleType):
            idx = const_int(e.index)
            if idx is not None:
                if idx < 0:
                    idx += len(ct.items)
                return f"std::get<{idx}>({c})"
            return f"mx::tuple_getitem<{ctype(ct.items[0])}>({c}, {self.coerced(e.index, INT)}, {self.loc(e)})"
        if isinstance(ct, DictType):
            return f"mx::getitem({c}, {self.coerced(e.index, ct.key)}, {self.loc(e)})"
        return f"mx::getitem({c}, {self.coerced(e.index, INT)}, {self.loc(e)})"

    def expr_Slice(self, e):
        return "mx::None{}"

    # ---- calls
    def call_args(self, e: ir.Call, params: List[ir.Param]) -> str:
        return ", ".join(self.vararg_value(a, p.ty) if p.kind == "vararg" else
                         self.kwarg_value(a, p.ty) if p.kind == "kwarg" else
                         self.coerced(a if a is not None else p.default, p.ty)
                         for a, p in zip(e.bound_args, params))

    def kwarg_value(self, kws: List[ir.Keyword], dt: Type) -> str:
        """The dict **kwargs collects: the keywords no parameter takes, in order."""
        vt = resolve(dt).value
        items = ", ".join(f"{{{self.const_str(kw.name)}, {self.coerced(kw.value, vt)}}}" for kw in kws)
        return f"{ctype(dt)}{{{items}}}" if kws else f"{ctype(dt)}()"

    def vararg_value(self, items: List[ir.Expr], vt: Type) -> str:
        """The tuple *args collects: the extra positional arguments, with the
        items of each *iterable in its place."""
        et = resolve(vt).elem
        if not any(isinstance(a, ir.Starred) for a in items):
            codes = ", ".join(self.coerced(a, et) for a in items)
            return f"{ctype(vt)}{{{codes}}}" if items else f"{ctype(vt)}()"
        saved_out, saved_ind = self.out, self.ind
        self.out, self.ind = [], 1
        out = self.new_tmp("va")
        self.line(f"{ctype(vt)} {out};")
        self.loop_flags.append(None)
        for a in items:
            if isinstance(a, ir.Starred):
                self.iterate(a.value, a, lambda item, t: self.line(f"{out}.push_back({self.coerce(item, t, et)});"))
            else:
                self.line(f"{out}.push_back({self.coerced(a, et)});")
        self.loop_flags.pop()
        self.line(f"return {out};")
        body = " ".join(x.strip() for x in self.out)
        self.out, self.ind = saved_out, saved_ind
        return f"([&]() {{ {body} }}())"
