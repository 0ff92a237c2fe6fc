"""Statements: function bodies, generators, control flow, try/finally, assignment. A mixin of emitter.Emitter: it
writes through the emitter's state (output lines, temporaries, headers).
"""
from __future__ import annotations

from typing import Optional

from .. import ir
from ..modules import NDARRAY
from ..kinds import EXC, elem_type
from ..types import ANY, INT, NONE, STR, AnyType, DictType, FuncType, ListType, TupleType, Type, resolve
from .cpp import cname, bound_flag, ctype
from ..exceptions import caught_kinds
from ..analysis.program import first_statement_using


class StmtEmitter:
    """Mixin of Emitter."""

    def emit_generator_body(self, f: ir.Function):
        """The body runs lazily in a coroutine (matx_nb/gen.h); it keeps copies of
        the arguments (and the instance, for a method) alive while it exists."""
        self.headers.add("matx_nb/gen.h")
        et = ctype(resolve(f.returns).elem)
        keep = f", keep_ = mx::Ref<C_{self.cls.name}>::borrow(this)" \
            if self.cls is not None and not self.in_static else ""
        self.line(f"return mx::make_gen<{et}>([={keep}](mx::GenObj<{et}>& gen_) mutable -> void {{")
        self.ind += 1
        self.emit_body(f)
        self.ind -= 1
        self.line("});")

    def slice_args(self, sl: ir.Slice) -> str:
        return ", ".join(self.coerced(x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                         for x in (sl.lower, sl.upper, sl.step))

    def stmt_Delete(self, s: ir.Delete):
        self.headers.add("matx_nb/mutate.h")
        for t in s.targets:
            c, ct, loc = self.expr(t.value), resolve(t.value.ty), self.loc(t)
            if isinstance(t.index, ir.Slice):
                self.line(f"mx::list_delslice({c}, {self.slice_args(t.index)}, {loc});")
            elif isinstance(ct, DictType):
                self.line(f"mx::dict_delitem({c}, {self.coerced(t.index, ct.key)}, {loc});")
            else:
                self.line(f"mx::list_delitem({c}, {self.coerced(t.index, INT)}, {loc});")

    def stmt_Yield(self, s: ir.Yield):
        et = resolve(self.func.returns).elem
        if not s.is_from:
            value = self.coerced(s.value, et) if s.value is not None else "mx::None{}"
            self.line(f"gen_.yield({value});")
            return

        def on_item(item, t):
            self.line(f"gen_.yield({self.coerce(item, t, et)});")
        self.iterate(s.value, s, on_item)

    def stmt_FuncDef(self, s: ir.FuncDef):
        f = s.func
        for name in sorted(getattr(s, "check_bound", ())):
            self.line(f'(void)mx::bound_read({cname(name)}, {bound_flag(name)}, "{name}", {self.loc(s)});')
        ps = ", ".join(f"{ctype(p.ty)} {cname(p.name)}" for p in f.params)
        target = cname(f.name)
        if f.name in self.declared_late:
            target = f"{ctype(FuncType(tuple(p.ty for p in f.params), f.returns))} {target}"
        self.line(f"{target} = [=]({ps}) mutable -> {ctype(f.returns)} {{")
        saved = (self.func, self.declared_late, self.loop_flags, self.finally_stack, self.break_exits)
        self.func, self.loop_flags, self.finally_stack, self.break_exits = f, [], [], {}
        self.ind += 1
        self.emit_body(f)
        self.ind -= 1
        self.func, self.declared_late, self.loop_flags, self.finally_stack, self.break_exits = saved
        self.line("};")
        if f.name in getattr(self.func, "maybe_unbound", ()):
            self.mark_bound(f.name)

    def expr_Lambda(self, e: ir.Lambda) -> str:
        ft = resolve(e.ty)
        ps = ", ".join(f"{ctype(p.ty)} {cname(p.name)}" for p in e.params)
        body = self.coerced(e.body, ft.ret)
        return f"{ctype(ft)}([=]({ps}) mutable -> {ctype(ft.ret)} {{ return {body}; }})"

    def emit_body(self, f: ir.Function):
        first_use = first_statement_using(f)
        self.declared_late = set()
        unbound = getattr(f, "maybe_unbound", set())
        for v, t in f.locals.items():
            st = first_use.get(v)
            if v in unbound:
                # Python raises UnboundLocalError on a read before assignment.
                self.line(f"bool {bound_flag(v)} = false;")
            elif isinstance(st, ir.Assign) and st in f.body and len(st.targets) == 1 and \
                    isinstance(st.targets[0], ir.Name) and st.targets[0].id == v:
                self.declared_late.add(v)
                continue
            self.line(f"{ctype(t)} {cname(v)}{{}};")
        self.block(f.body)
        if resolve(f.returns) == NONE:
            self.line("return mx::None{};")

    def block(self, stmts):
        for s in stmts:
            self.mark(s)
            getattr(self, "stmt_" + type(s).__name__)(s)

    # ---- statements
    def stmt_Pass(self, s):
        pass

    def stmt_ExprStmt(self, s: ir.ExprStmt):
        self.line(f"{self.expr(s.value)};")

    def stmt_Return(self, s: ir.Return):
        if self.func is not None and self.func.is_generator:
            self.run_finally(None)
            self.line("return;")
            return
        if self.finally_stack:
            if s.value is None:
                self.run_finally(None)
                self.line("return mx::None{};")
                return
            t = self.new_tmp("ret")
            self.line(f"{ctype(self.func.returns)} {t} = {self.coerced(s.value, self.func.returns)};")
            self.run_finally(None)
            self.line(f"return {t};")
            return
        if s.value is None:
            self.line("return mx::None{};")
        else:
            self.line(f"return {self.coerced(s.value, self.func.returns)};")

    def stmt_Break(self, s):
        self.run_finally(len(self.loop_flags))
        flag = self.loop_flags[-1] if self.loop_flags else None
        if flag:
            self.line(f"{flag} = true;")
        leave = self.break_exits.get(len(self.loop_flags))
        if leave:
            self.line(leave)
        self.line("break;")

    def stmt_Continue(self, s):
        self.run_finally(len(self.loop_flags))
        self.line("continue;")

    def stmt_Try(self, s: ir.Try):
        fin = bool(s.finalbody)
        if fin:
            self.line("{  // try/finally")
            self.ind += 1
            self.line("try {")
            self.ind += 1
            self.finally_stack.append((s.finalbody, len(self.loop_flags)))
        ok = None
        if s.handlers:
            if s.orelse:
                ok = self.new_tmp("try_ok")
                self.line(f"bool {ok} = false;")
            exc = self.new_tmp("exc")
            self.line("try {")
            self.ind += 1
            self.block(s.body)
            if ok:
                self.line(f"{ok} = true;")
            self.ind -= 1
            self.line(f"}} catch (mx::Error& {exc}) {{")
            self.ind += 1
            for i, h in enumerate(s.handlers):
                kinds = [k for t in h.types for k in caught_kinds(t)]
                cond = " || ".join(f"mx::errkind_is({exc}.kind(), mx::ErrKind::{k})" for k in kinds) or "true"
                self.line(f"{'} else ' if i else ''}if ({cond}) {{")
                self.ind += 1
                if h.name:
                    self.line(f"{cname(h.name)} = {exc};")
                    self.mark_bound(h.name)
                self.block(h.body)
                self.ind -= 1
            self.line("} else {")
            self.line("  throw;")
            self.line("}")
            self.ind -= 1
            self.line("}")
            if ok:
                self.line(f"if ({ok}) {{")
                self.ind += 1
                self.block(s.orelse)
                self.ind -= 1
                self.line("}")
        else:
            self.block(s.body)
            self.block(s.orelse)
        if fin:
            self.finally_stack.pop()
            self.ind -= 1
            self.line("} catch (...) {")
            self.ind += 1
            self.block(s.finalbody)
            self.line("throw;")
            self.ind -= 1
            self.line("}")
            self.block(s.finalbody)
            self.ind -= 1
            self.line("}")

    def run_finally(self, loop_level: Optional[int]):
        """Before a return (loop_level None) or a break/continue leaving try
        blocks with a finally clause: runs those clauses, innermost first."""
        saved = self.finally_stack
        for i in range(len(saved) - 1, -1, -1):
            body, level = saved[i]
            if loop_level is not None and level < loop_level:
                break
            self.finally_stack = saved[:i]
            self.block(body)
        self.finally_stack = saved

    def stmt_Raise(self, s: ir.Raise):
        e = s.exc
        if e is None:
            self.line("throw;")
            return
        if isinstance(e, ir.Name) and resolve(e.ty) == EXC:
            self.line(f"throw {self.expr(e)};")
            return
        if isinstance(e, ir.Call):
            kind = e.func.id
            msg = self.expr(e.args[0]) if e.args else None
            t = e.args[0].ty if e.args else None
        else:
            kind, msg, t = e.id, None, None
        if msg is None:
            text = '""'
        elif resolve(t) == STR:
            text = f"mx::utf8_encode({msg})"
        else:
            text = f"mx::utf8_encode(mx::repr({msg}))" if kind == "KeyError" else \
                f"mx::utf8_encode(mx::to_str({msg}))"
        if kind == "KeyError" and resolve(t) == STR:
            text = f"mx::utf8_encode(mx::repr({msg}))"
        self.line(f"mx::raise(mx::ErrKind::{kind}, {text}, {self.loc(s)});")

    def stmt_Assert(self, s: ir.Assert):
        msg = f"mx::utf8_encode(mx::to_str({self.expr(s.msg)}))" if s.msg is not None else '""'
        self.line(f"if (!{self.truth(s.test)}) mx::raise(mx::ErrKind::AssertionError, {msg}, {self.loc(s)});")

    def stmt_If(self, s: ir.If):
        self.line(f"if ({self.truth(s.test)}) {{")
        self.ind += 1
        self.block(s.body)
        self.ind -= 1
        if s.orelse:
            if len(s.orelse) == 1 and isinstance(s.orelse[0], ir.If):
                self.line("} else {")
                self.ind += 1
                self.block(s.orelse)
                self.ind -= 1
                self.line("}")
                return
            self.line("} else {")
            self.ind += 1
            self.block(s.orelse)
            self.ind -= 1
        self.line("}")

    def stmt_While(self, s: ir.While):
        flag = self.new_tmp("broke") if s.orelse else None
        if flag:
            self.line(f"bool {flag} = false;")
        budget = self.new_tmp("polls")
        self.line(f"int32_t {budget} = 0;")  # the first iteration polls
        self.line(f"while ({self.truth(s.test)}) {{")
        self.loop_flags.append(flag)
        self.ind += 1
        self.line(f"mx::poll_every({budget}, {self.loc(s)});")
        self.block(s.body)
        self.ind -= 1
        self.loop_flags.pop()
        self.line("}")
        self.emit_loop_else(flag, s.orelse)

    def emit_loop_else(self, flag, orelse):
        if flag:
            self.line(f"if (!{flag}) {{")
            self.ind += 1
            self.block(orelse)
            self.ind -= 1
            self.line("}")

    def stmt_For(self, s: ir.For):
        flag = self.new_tmp("broke") if s.orelse else None
        if flag:
            self.line(f"bool {flag} = false;")
        self.loop_flags.append(flag)

        def body():
            self.block(s.body)

        self.emit_for(s.target, s.iter, body, s, borrow=s.borrowed)
        self.loop_flags.pop()
        self.emit_loop_else(flag, s.orelse)

    def bind(self, target: ir.Expr, value: str, vt: Type, declare: bool):
        """Assigns a C++ value of type vt to a loop or comprehension target."""
        if isinstance(target, ir.Name):
            tt = target.ty if target.ty is not None else vt
            v = self.coerce(value, vt, tt)
            if declare:
                self.line(f"{ctype(tt)} {cname(target.id)} = {v};")
            else:
                self.line(f"{cname(target.id)} = {v};")
                self.mark_bound(target.id)
            return
        if isinstance(target, ir.TupleLit):
            tmp = self.new_tmp("u")
            self.line(f"auto {tmp} = {value};")
            r = resolve(vt)
            for i, sub in enumerate(target.elts):
                if isinstance(r, TupleType):
                    self.bind(sub, f"std::get<{i}>({tmp})", r.items[i], declare)
                else:
                    if i == 0:
                        self.line(f"mx::check_unpack({tmp}.size(), {len(target.elts)}, {self.loc(target)});")
                    self.bind(sub, f"{tmp}[{i}]", elem_type(r), declare)
            return
        self.assign_to(target, value, vt)

    def stmt_Assign(self, s: ir.Assign):
        if len(s.targets) == 1:
            t = s.targets[0]
            want = t.ty if t.ty is not None else s.value.ty
            if isinstance(t, ir.Name) and t.id in self.declared_late:
                self.declared_late.discard(t.id)
                lt = self.func.locals[t.id]
                self.line(f"{ctype(lt)} {cname(t.id)} = {self.coerced(s.value, lt)};")
                return
            if isinstance(t, ir.TupleLit):
                self.bind(t, self.expr(s.value), s.value.ty, False)
                return
            if isinstance(t, ir.Name) and self.renews_list(t, s.value):
                self.line(f"mx::list_renew({cname(t.id)});")
                self.mark_bound(t.id)
                return
            self.assign_to(t, self.coerced(s.value, want), want)
            return
        tmp = self.new_tmp("v")
        self.line(f"auto {tmp} = {self.expr(s.value)};")
        for t in s.targets:
            if isinstance(t, ir.TupleLit):
                self.bind(t, tmp, s.value.ty, False)
            else:
                self.assign_to(t, self.coerce(tmp, s.value.ty, t.ty), t.ty)

    def renews_list(self, t: ir.Name, value: ir.Expr) -> bool:
        """`x = []` for a list-typed local of this function: mx::list_renew empties the
        old list in place when nobody else holds it (a loop's `kept = []`)."""
        f = self.func
        return isinstance(value, ir.ListLit) and not value.elts and f is not None and \
            isinstance(resolve(f.locals.get(t.id)), ListType) and \
            resolve(f.locals.get(t.id)) == resolve(value.ty) and \
            all(p.name != t.id for p in f.params)

    def mark_bound(self, name: str):
        if self.func is not None and name in getattr(self.func, "maybe_unbound", ()):
            self.line(f"{bound_flag(name)} = true;")

    def assign_to(self, t: ir.Expr, value: str, vt: Type):
        if isinstance(t, ir.Name):
            self.line(f"{cname(t.id)} = {value};")
            self.mark_bound(t.id)
        elif isinstance(t, ir.Attribute):
            self.line(f"{self.attr_ref(t)} = {value};")
        elif isinstance(t, ir.Subscript) and resolve(t.value.ty) == NDARRAY:
            self.nd_setitem(t, value)
        elif isinstance(t, ir.Subscript) and isinstance(t.index, ir.Slice):
            self.headers.add("matx_nb/mutate.h")
            self.line(f"mx::list_setslice({self.expr(t.value)}, {self.slice_args(t.index)}, "
                      f"{self.coerce(value, vt, t.ty)}, {self.loc(t)});")
        elif isinstance(t, ir.Subscript) and isinstance(resolve(t.value.ty), AnyType):
            self.headers.add("matx_nb/dyn.h")
            self.line(f"mx::dyn_setitem({self.expr(t.value)}, {self.coerced(t.index, ANY)}, "
                      f"{self.coerce(value, vt, ANY)}, {self.loc(t)});")
        elif isinstance(t, ir.Subscript) and getattr(t, "magic", None) is not None:
            m = t.magic
            self.line(f"{self.expr(t.value)}->m___setitem__({self.coerced(t.index, m.params[1].ty)}, {value});")
        elif isinstance(t, ir.Subscript):
            c = self.expr(t.value)
            ct = resolve(t.value.ty)
            key = self.coerced(t.index, INT if isinstance(ct, ListType) else ct.key)
            self.line(f"mx::setitem({c}, {key}, {value}, {self.loc(t)});")
        else:
            self.line(f'static_assert(sizeof(int) == 0, "bad assignment target");')

    def stmt_AugAssign(self, s: ir.AugAssign):
        t = s.target
        if getattr(s, "nd_inplace", False):  # a[i] += v, a += v on an NDArray
            self.nd_augassign(s)
            return
        tt = resolve(t.ty)
        if isinstance(tt, ListType) and s.op == "+":
            self.line(f"mx::list_iadd({self.expr(t)}, {self.expr(s.value)}, {self.loc(s)});")
            return
        if self.inplace_container_op(s):
            return
        if isinstance(t, ir.Subscript):
            ref = self.new_tmp("ref")
            c = self.expr(t.value)
            ct = resolve(t.value.ty)
            key = self.coerced(t.index, INT if isinstance(ct, ListType) else ct.key)
            self.line(f"auto& {ref} = mx::getitem({c}, {key}, {self.loc(t)});")
            self.line(f"{ref} = {self.coerce(self.binop(s.op, ref, tt, s.value, s), s.binop_ty, tt)};")
            return
        target = self.expr(t) if isinstance(t, ir.Name) else self.attr_ref(t)
        self.line(f"{target} = {self.coerce(self.binop(s.op, target, tt, s.value, s), s.binop_ty, tt)};")

    # ---- expressions
