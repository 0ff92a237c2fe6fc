"""Statements: function bodies, generators, control flow, try/finally, assignment.
Free functions over the emitter's state `em` (emitter.Emitter): they write
through it (output lines, temporaries, headers).
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
from . import expressions as expr_rules
from . import loops as loop_rules
from . import ndarray as nd_rules
from . import hooks


def emit_generator_body(em, f: ir.Function):
    """The body runs lazily in a coroutine (matx_nb/gen.h); it keeps copies of
    the arguments (and the instance, for a method) alive while it exists."""
    em.headers.add("matx_nb/gen.h")
    et = ctype(resolve(f.returns).elem)
    keep = f", keep_ = mx::Ref<C_{em.cls.name}>::borrow(this)" \
        if em.cls is not None and not em.in_static else ""
    em.line(f"return mx::make_gen<{et}>([={keep}](mx::GenObj<{et}>& gen_) mutable -> void {{")
    em.ind += 1
    emit_body(em, f)
    em.ind -= 1
    em.line("});")


def slice_args(em, sl: ir.Slice) -> str:
    return ", ".join(expr_rules.coerced(em, x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                     for x in (sl.lower, sl.upper, sl.step))


def stmt_Delete(em, s: ir.Delete):
    em.headers.add("matx_nb/mutate.h")
    for t in s.targets:
        c, ct, loc = expr_rules.expr(em, t.value), resolve(t.value.ty), em.loc(t)
        if isinstance(t.index, ir.Slice):
            em.line(f"mx::list_delslice({c}, {slice_args(em, t.index)}, {loc});")
        elif isinstance(ct, DictType):
            em.line(f"mx::dict_delitem({c}, {expr_rules.coerced(em, t.index, ct.key)}, {loc});")
        else:
            em.line(f"mx::list_delitem({c}, {expr_rules.coerced(em, t.index, INT)}, {loc});")


def stmt_Yield(em, s: ir.Yield):
    et = resolve(em.func.returns).elem
    if not s.is_from:
        value = expr_rules.coerced(em, s.value, et) if s.value is not None else "mx::None{}"
        em.line(f"gen_.yield({value});")
        return

    def on_item(item, t):
        em.line(f"gen_.yield({expr_rules.coerce(em, item, t, et)});")
    loop_rules.iterate(em, s.value, s, on_item)


def stmt_FuncDef(em, s: ir.FuncDef):
    f = s.func
    for name in sorted(getattr(s, "check_bound", ())):
        em.line(f'(void)mx::bound_read({cname(name)}, {bound_flag(name)}, "{name}", {em.loc(s)});')
    ps = ", ".join(f"{ctype(p.ty)} {cname(p.name)}" for p in f.params)
    target = cname(f.name)
    if f.name in em.declared_late:
        target = f"{ctype(FuncType(tuple(p.ty for p in f.params), f.returns))} {target}"
    em.line(f"{target} = [=]({ps}) mutable -> {ctype(f.returns)} {{")
    saved = (em.func, em.declared_late, em.loop_flags, em.finally_stack, em.break_exits)
    em.func, em.loop_flags, em.finally_stack, em.break_exits = f, [], [], {}
    em.ind += 1
    emit_body(em, f)
    em.ind -= 1
    em.func, em.declared_late, em.loop_flags, em.finally_stack, em.break_exits = saved
    em.line("};")
    if f.name in getattr(em.func, "maybe_unbound", ()):
        mark_bound(em, f.name)


def expr_Lambda(em, e: ir.Lambda) -> str:
    ft = resolve(e.ty)
    ps = ", ".join(f"{ctype(p.ty)} {cname(p.name)}" for p in e.params)
    body = expr_rules.coerced(em, e.body, ft.ret)
    return f"{ctype(ft)}([=]({ps}) mutable -> {ctype(ft.ret)} {{ return {body}; }})"


def emit_body(em, f: ir.Function):
    first_use = first_statement_using(f)
    em.declared_late = set()
    unbound = getattr(f, "maybe_unbound", set())
    for v, t in f.locals.items():
        st = first_use.get(v)
        if v in unbound:
            # Python raises UnboundLocalError on a read before assignment.
            em.line(f"bool {bound_flag(v)} = false;")
        elif isinstance(st, ir.Assign) and st in f.body and len(st.targets) == 1 and \
                isinstance(st.targets[0], ir.Name) and st.targets[0].id == v:
            em.declared_late.add(v)
            continue
        em.line(f"{ctype(t)} {cname(v)}{{}};")
    block(em, f.body)
    if resolve(f.returns) == NONE:
        em.line("return mx::None{};")


def block(em, stmts):
    for s in stmts:
        em.mark(s)
        hooks.STMT[type(s).__name__](em, s)


# ---- statements
def stmt_Pass(em, s):
    pass


def stmt_ExprStmt(em, s: ir.ExprStmt):
    em.line(f"{expr_rules.expr(em, s.value)};")


def stmt_Return(em, s: ir.Return):
    if em.func is not None and em.func.is_generator:
        run_finally(em, None)
        em.line("return;")
        return
    if em.finally_stack:
        if s.value is None:
            run_finally(em, None)
            em.line("return mx::None{};")
            return
        t = em.new_tmp("ret")
        em.line(f"{ctype(em.func.returns)} {t} = {expr_rules.coerced(em, s.value, em.func.returns)};")
        run_finally(em, None)
        em.line(f"return {t};")
        return
    if s.value is None:
        em.line("return mx::None{};")
    else:
        em.line(f"return {expr_rules.coerced(em, s.value, em.func.returns)};")


def stmt_Break(em, s):
    run_finally(em, len(em.loop_flags))
    flag = em.loop_flags[-1] if em.loop_flags else None
    if flag:
        em.line(f"{flag} = true;")
    leave = em.break_exits.get(len(em.loop_flags))
    if leave:
        em.line(leave)
    em.line("break;")


def stmt_Continue(em, s):
    run_finally(em, len(em.loop_flags))
    em.line("continue;")


def stmt_Try(em, s: ir.Try):
    fin = bool(s.finalbody)
    if fin:
        em.line("{  // try/finally")
        em.ind += 1
        em.line("try {")
        em.ind += 1
        em.finally_stack.append((s.finalbody, len(em.loop_flags)))
    ok = None
    if s.handlers:
        if s.orelse:
            ok = em.new_tmp("try_ok")
            em.line(f"bool {ok} = false;")
        exc = em.new_tmp("exc")
        em.line("try {")
        em.ind += 1
        block(em, s.body)
        if ok:
            em.line(f"{ok} = true;")
        em.ind -= 1
        em.line(f"}} catch (mx::Error& {exc}) {{")
        em.ind += 1
        for i, h in enumerate(s.handlers):
            kinds = [k for t in h.types for k in caught_kinds(t)]
            cond = " || ".join(f"mx::errkind_is({exc}.kind(), mx::ErrKind::{k})" for k in kinds) or "true"
            em.line(f"{'} else ' if i else ''}if ({cond}) {{")
            em.ind += 1
            if h.name:
                em.line(f"{cname(h.name)} = {exc};")
                mark_bound(em, h.name)
            block(em, h.body)
            em.ind -= 1
        em.line("} else {")
        em.line("  throw;")
        em.line("}")
        em.ind -= 1
        em.line("}")
        if ok:
            em.line(f"if ({ok}) {{")
            em.ind += 1
            block(em, s.orelse)
            em.ind -= 1
            em.line("}")
    else:
        block(em, s.body)
        block(em, s.orelse)
    if fin:
        em.finally_stack.pop()
        em.ind -= 1
        em.line("} catch (...) {")
        em.ind += 1
        block(em, s.finalbody)
        em.line("throw;")
        em.ind -= 1
        em.line("}")
        block(em, s.finalbody)
        em.ind -= 1
        em.line("}")


def run_finally(em, loop_level: Optional[int]):
    """Before a return (loop_level None) or a break/continue leaving try
    blocks with a finally clause: runs those clauses, innermost first."""
    saved = em.finally_stack
    for i in range(len(saved) - 1, -1, -1):
        body, level = saved[i]
        if loop_level is not None and level < loop_level:
            break
        em.finally_stack = saved[:i]
        block(em, body)
    em.finally_stack = saved


def stmt_Raise(em, s: ir.Raise):
    e = s.exc
    if e is None:
        em.line("throw;")
        return
    if isinstance(e, ir.Name) and resolve(e.ty) == EXC:
        em.line(f"throw {expr_rules.expr(em, e)};")
        return
    if isinstance(e, ir.Call):
        kind = e.func.id
        msg = expr_rules.expr(em, e.args[0]) if e.args else None
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
    em.line(f"mx::raise(mx::ErrKind::{kind}, {text}, {em.loc(s)});")


def stmt_Assert(em, s: ir.Assert):
    msg = f"mx::utf8_encode(mx::to_str({expr_rules.expr(em, s.msg)}))" if s.msg is not None else '""'
    em.line(f"if (!{expr_rules.truth(em, s.test)}) mx::raise(mx::ErrKind::AssertionError, {msg}, {em.loc(s)});")


def stmt_If(em, s: ir.If):
    em.line(f"if ({expr_rules.truth(em, s.test)}) {{")
    em.ind += 1
    block(em, s.body)
    em.ind -= 1
    if s.orelse:
        if len(s.orelse) == 1 and isinstance(s.orelse[0], ir.If):
            em.line("} else {")
            em.ind += 1
            block(em, s.orelse)
            em.ind -= 1
            em.line("}")
            return
        em.line("} else {")
        em.ind += 1
        block(em, s.orelse)
        em.ind -= 1
    em.line("}")


def stmt_While(em, s: ir.While):
    flag = em.new_tmp("broke") if s.orelse else None
    if flag:
        em.line(f"bool {flag} = false;")
    budget = em.new_tmp("polls")
    em.line(f"int32_t {budget} = 0;")  # the first iteration polls
    em.line(f"while ({expr_rules.truth(em, s.test)}) {{")
    em.loop_flags.append(flag)
    em.ind += 1
    em.line(f"mx::poll_every({budget}, {em.loc(s)});")
    block(em, s.body)
    em.ind -= 1
    em.loop_flags.pop()
    em.line("}")
    emit_loop_else(em, flag, s.orelse)


def emit_loop_else(em, flag, orelse):
    if flag:
        em.line(f"if (!{flag}) {{")
        em.ind += 1
        block(em, orelse)
        em.ind -= 1
        em.line("}")


def stmt_For(em, s: ir.For):
    flag = em.new_tmp("broke") if s.orelse else None
    if flag:
        em.line(f"bool {flag} = false;")
    em.loop_flags.append(flag)

    def body():
        block(em, s.body)

    loop_rules.emit_for(em, s.target, s.iter, body, s, borrow=s.borrowed)
    em.loop_flags.pop()
    emit_loop_else(em, flag, s.orelse)


@hooks.provide
def bind(em, target: ir.Expr, value: str, vt: Type, declare: bool):
    """Assigns a C++ value of type vt to a loop or comprehension target."""
    if isinstance(target, ir.Name):
        tt = target.ty if target.ty is not None else vt
        v = expr_rules.coerce(em, value, vt, tt)
        if declare:
            em.line(f"{ctype(tt)} {cname(target.id)} = {v};")
        else:
            em.line(f"{cname(target.id)} = {v};")
            mark_bound(em, target.id)
        return
    if isinstance(target, ir.TupleLit):
        tmp = em.new_tmp("u")
        em.line(f"auto {tmp} = {value};")
        r = resolve(vt)
        for i, sub in enumerate(target.elts):
            if isinstance(r, TupleType):
                bind(em, sub, f"std::get<{i}>({tmp})", r.items[i], declare)
            else:
                if i == 0:
                    em.line(f"mx::check_unpack({tmp}.size(), {len(target.elts)}, {em.loc(target)});")
                bind(em, sub, f"{tmp}[{i}]", elem_type(r), declare)
        return
    assign_to(em, target, value, vt)


def stmt_Assign(em, s: ir.Assign):
    if len(s.targets) == 1:
        t = s.targets[0]
        want = t.ty if t.ty is not None else s.value.ty
        if isinstance(t, ir.Name) and t.id in em.declared_late:
            em.declared_late.discard(t.id)
            lt = em.func.locals[t.id]
            em.line(f"{ctype(lt)} {cname(t.id)} = {expr_rules.coerced(em, s.value, lt)};")
            return
        if isinstance(t, ir.TupleLit):
            bind(em, t, expr_rules.expr(em, s.value), s.value.ty, False)
            return
        if isinstance(t, ir.Name) and renews_list(em, t, s.value):
            em.line(f"mx::list_renew({cname(t.id)});")
            mark_bound(em, t.id)
            return
        assign_to(em, t, expr_rules.coerced(em, s.value, want), want)
        return
    tmp = em.new_tmp("v")
    em.line(f"auto {tmp} = {expr_rules.expr(em, s.value)};")
    for t in s.targets:
        if isinstance(t, ir.TupleLit):
            bind(em, t, tmp, s.value.ty, False)
        else:
            assign_to(em, t, expr_rules.coerce(em, tmp, s.value.ty, t.ty), t.ty)


def renews_list(em, t: ir.Name, value: ir.Expr) -> bool:
    """`x = []` for a list-typed local of this function: mx::list_renew empties the
    old list in place when nobody else holds it (a loop's `kept = []`)."""
    f = em.func
    return isinstance(value, ir.ListLit) and not value.elts and f is not None and \
        isinstance(resolve(f.locals.get(t.id)), ListType) and \
        resolve(f.locals.get(t.id)) == resolve(value.ty) and \
        all(p.name != t.id for p in f.params)


def mark_bound(em, name: str):
    if em.func is not None and name in getattr(em.func, "maybe_unbound", ()):
        em.line(f"{bound_flag(name)} = true;")


def assign_to(em, t: ir.Expr, value: str, vt: Type):
    if isinstance(t, ir.Name):
        em.line(f"{cname(t.id)} = {value};")
        mark_bound(em, t.id)
    elif isinstance(t, ir.Attribute):
        em.line(f"{expr_rules.attr_ref(em, t)} = {value};")
    elif isinstance(t, ir.Subscript) and resolve(t.value.ty) == NDARRAY:
        nd_rules.nd_setitem(em, t, value)
    elif isinstance(t, ir.Subscript) and isinstance(t.index, ir.Slice):
        em.headers.add("matx_nb/mutate.h")
        em.line(f"mx::list_setslice({expr_rules.expr(em, t.value)}, {slice_args(em, t.index)}, "
                  f"{expr_rules.coerce(em, value, vt, t.ty)}, {em.loc(t)});")
    elif isinstance(t, ir.Subscript) and isinstance(resolve(t.value.ty), AnyType):
        em.headers.add("matx_nb/dyn.h")
        em.line(f"mx::dyn_setitem({expr_rules.expr(em, t.value)}, {expr_rules.coerced(em, t.index, ANY)}, "
                  f"{expr_rules.coerce(em, value, vt, ANY)}, {em.loc(t)});")
    elif isinstance(t, ir.Subscript) and getattr(t, "magic", None) is not None:
        m = t.magic
        em.line(f"{expr_rules.expr(em, t.value)}->m___setitem__({expr_rules.coerced(em, t.index, m.params[1].ty)}, {value});")
    elif isinstance(t, ir.Subscript):
        c = expr_rules.expr(em, t.value)
        ct = resolve(t.value.ty)
        key = expr_rules.coerced(em, t.index, INT if isinstance(ct, ListType) else ct.key)
        em.line(f"mx::setitem({c}, {key}, {value}, {em.loc(t)});")
    else:
        em.line(f'static_assert(sizeof(int) == 0, "bad assignment target");')


def stmt_AugAssign(em, s: ir.AugAssign):
    t = s.target
    if getattr(s, "nd_inplace", False):  # a[i] += v, a += v on an NDArray
        nd_rules.nd_augassign(em, s)
        return
    tt = resolve(t.ty)
    if isinstance(tt, ListType) and s.op == "+":
        em.line(f"mx::list_iadd({expr_rules.expr(em, t)}, {expr_rules.expr(em, s.value)}, {em.loc(s)});")
        return
    if loop_rules.inplace_container_op(em, s):
        return
    if isinstance(t, ir.Subscript):
        ref = em.new_tmp("ref")
        c = expr_rules.expr(em, t.value)
        ct = resolve(t.value.ty)
        key = expr_rules.coerced(em, t.index, INT if isinstance(ct, ListType) else ct.key)
        em.line(f"auto& {ref} = mx::getitem({c}, {key}, {em.loc(t)});")
        em.line(f"{ref} = {expr_rules.coerce(em, expr_rules.binop(em, s.op, ref, tt, s.value, s), s.binop_ty, tt)};")
        return
    target = expr_rules.expr(em, t) if isinstance(t, ir.Name) else expr_rules.attr_ref(em, t)
    em.line(f"{target} = {expr_rules.coerce(em, expr_rules.binop(em, s.op, target, tt, s.value, s), s.binop_ty, tt)};")

    # ---- expressions


hooks.rules(globals())
