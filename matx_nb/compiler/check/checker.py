"""Type checker and inference over the IR.

Fills `ty` on every expression, `resolved` on names, calls and attributes, and
each function's table of locals. Every problem becomes a diagnostic; checking
goes on after an error so that all problems of a program are reported at once.
"""
from __future__ import annotations

from typing import Dict, Optional

from ..analysis import definite as flow
from .. import ir
from ..kinds import ir_walk
from ..diagnostics import DiagnosticSink, Span, a_or_an
from ..types import (NONE, ClassType, GenType, OptionalType, Type, TypeVar, deep_resolve, fresh, has_unknown,
                     resolve, unify)


from .common import Restart, Scope, always_returns, assigned_names, base_first, closures_in
from . import expressions as expr_rules
from . import statements as stmt_rules
from . import hooks
from . import builtin_calls as bcalls, builtins as builtin_rules, calls as call_rules, methods as method_rules, ndarray as nd_rules

# Every rule module enters its rules into hooks on import: they all are, from here.
RULE_MODULES = (bcalls, nd_rules, method_rules, builtin_rules, call_rules, expr_rules, stmt_rules)


class Checker:
    """The checker's state: the program, where it stands (function, class, scope,
    loop depth, narrowed locals) and the diagnostics. The rules are free functions
    over it in the modules of this package; check() below is the entry."""

    def __init__(self, program: ir.Program, sink: DiagnosticSink, sources, constants, modules=None):
        self.program = program
        self.modules = modules or {}  # (object, global name) -> module name | (module, function)
        self.sink = sink
        self.sources = sources  # name -> frontend.Source, for source lines
        self.constants = constants  # (object name, global name) -> value
        self.funcs = {f.name: f for f in program.functions}
        self.classes = {c.name: c for c in program.classes}
        self.func: Optional[ir.Function] = None
        self.cls: Optional[ir.ClassDef] = None
        self.scope: Optional[Scope] = None
        self.loop_depth = 0
        self.widen: Dict[str, Type] = {}
        self.annotated: set = set()
        self.owner = ""  # name of the top-level object being checked
        self.nested: Dict[int, ir.Function] = {}  # functions defined inside others, by id
        self.narrowed: frozenset = frozenset()  # Optional locals known not to be None here
        self.handler_depth = 0  # inside except clauses: a bare raise is allowed
        self.cls_ref: Optional[str] = None  # the name of `cls` in the classmethod being checked

    # ---- reporting
    def error(self, span: Span, message: str, hint: str = ""):
        line = ""
        for src in self.sources.values():
            if src.file == span.file and src.first_line <= span.line < src.first_line + len(src.lines):
                line = src.line_text(span.line)
                break
        self.sink.error(span, message, hint, line)


# ---- entry
def check(chk):
    # Signatures first: calls may go in any order.
    for f in chk.program.functions:
        if f.returns is None:
            f.returns = GenType(fresh()) if f.is_generator else fresh()
    chk.program.classes = base_first(chk.program.classes)
    for c in chk.program.classes:
        if c.base is not None and c.base.info is not None:
            c.base.info.has_subclasses = True
        for m in c.methods.values():
            if m.returns is None:
                m.returns = NONE if m.name == "__init__" else GenType(fresh()) if m.is_generator else fresh()
            m.params[0].ty = ClassType(c.name, c)
        for m in c.statics.values():
            if m.inherited_from is not None:  # the copy keeps the original's signature
                m.returns = m.inherited_from.returns
            elif m.returns is None:
                m.returns = GenType(fresh()) if m.is_generator else fresh()
        if "__init__" in c.methods:
            infer_init_attrs(chk, c)
        for name in c.attrs:
            if c.base is not None and ir.find_attr(c.base.info, name) is not None:
                if not (ir.find_attr(c.base.info, name) == c.attrs[name]):
                    chk.error(c.attr_spans.get(name, c.span),
                               f"attribute '{name}' is {a_or_an(ir.find_attr(c.base.info, name))} in "
                               f"{c.base.name}; {c.name} cannot make it {a_or_an(c.attrs[name])}")
    for c in chk.program.classes:
        c.const_types = {k: expr_rules.const_type(chk, v, c.span) for k, v in c.consts.items()}
        check_overrides(chk, c)
    for c in chk.program.classes:
        chk.owner = c.name
        for m in c.methods.values():
            chk.cls = c
            check_function(chk, m)
        for m in c.statics.values():
            chk.cls = c
            check_static(chk, c, m)
        chk.cls = None
    for f in chk.program.functions:
        chk.owner = f.name
        check_function(chk, f)
    for f in all_functions(chk):
        if has_unknown(f.returns):
            unify(f.returns, NONE)
        for t in f.locals.values():
            r = resolve(t)
            if isinstance(r, OptionalType) and isinstance(resolve(r.inner), TypeVar):
                unify(r.inner, NONE)  # only ever None
        f.returns = deep_resolve(f.returns)
        for name, t in list(f.locals.items()):
            if has_unknown(t):
                chk.error(f.span, f"cannot infer the type of '{name}' in {f.qualname}()",
                           f"annotate it, e.g. '{name}: List[int] = []'")
            f.locals[name] = deep_resolve(t)
        flow.analyze(f)
    for f in list(all_functions(chk)):
        check_captures(chk, f)


def check_static(chk, c: ir.ClassDef, m: ir.Function):
    """A static or class method; a classmethod's `cls` is c. The copy of an
    inherited classmethod is checked with cls = the subclass: what does not
    hold there is reported once, naming the subclass."""
    chk.owner = m.qualname.split(".")[0]  # the class whose source holds it
    chk.cls_ref = m.cls_name if m.decorator == "classmethod" else None
    mark = len(chk.sink.items)
    try:
        check_function(chk, m)
    finally:
        chk.cls_ref = None
        chk.owner = c.name
    new = chk.sink.items[mark:]
    if m.inherited_from is None or not new:
        return
    del chk.sink.items[mark:]
    chk.error(new[0].span, f"{m.qualname}() inherited by {c.name} (where {m.cls_name} is {c.name}): "
                            f"{new[0].message}",
               f"override {m.name}() in {c.name}, or give {c.name} what {m.qualname}() needs")


def all_functions(chk):
    for c in chk.program.classes:
        yield from c.methods.values()
        yield from c.statics.values()
    yield from chk.program.functions
    yield from chk.nested.values()


def check_overrides(chk, c: ir.ClassDef):
    """An overriding method keeps the signature of the one it replaces, so a
    call through the base class type-checks for every subclass."""
    if c.base is None or c.base.info is None:
        return
    for name, v in c.consts.items():
        old = ir.find_const(c.base.info, name)
        if old is not None and not (expr_rules.const_type(chk, old, c.span) == expr_rules.const_type(chk, v, c.span)):
            chk.error(c.span, f"{c.name}.{name} is {a_or_an(expr_rules.const_type(chk, v, c.span))} but "
                               f"{c.base.name}.{name} is {a_or_an(expr_rules.const_type(chk, old, c.span))}")
    for name, m in list(c.methods.items()) + list(c.statics.items()):
        if name == "__init__" or m.inherited_from is not None:
            continue
        old = ir.find_method(c.base.info, name) or ir.find_static(c.base.info, name)
        if old is None:
            continue
        if old.decorator != m.decorator:
            kinds = {"": "a method", "staticmethod": "a staticmethod", "classmethod": "a classmethod"}
            chk.error(m.span, f"{c.name}.{name}() is {kinds[m.decorator]} but {c.base.name}.{name}() is "
                               f"{kinds[old.decorator]}", "keep the kind of the base method")
            continue
        ps, qs = (m.params[1:], old.params[1:]) if m.is_method else (m.params, old.params)
        same = len(ps) == len(qs) and all(a.ty == b.ty and a.kind == b.kind and
                                          (a.kind != "kwonly" or a.name == b.name) for a, b in zip(ps, qs))
        if not same:
            chk.error(m.span, f"{c.name}.{name}() overrides {c.base.name}.{name}() with different "
                               "parameters", "keep the parameter types of the base method")
        elif not (isinstance(resolve(m.returns), TypeVar) or isinstance(resolve(old.returns), TypeVar)):
            if not (resolve(m.returns) == resolve(old.returns)):
                chk.error(m.span, f"{c.name}.{name}() returns {m.returns} but {c.base.name}.{name}() "
                                   f"returns {old.returns}")
        else:
            unify(m.returns, old.returns)


def check_captures(chk, f: ir.Function):
    """Closures copy the outer locals they read when they are created; Python
    reads them when called. The two agree when each such local is assigned
    once, so a closure over a rebound local (a loop variable, say) is refused."""
    sites: Dict[str, int] = {}

    def count(stmts, weight):
        for st in stmts:
            w = weight * 2 if isinstance(st, (ir.For, ir.While)) else weight
            names = assigned_names(st)
            if isinstance(st, ir.For):
                names = flow._names(st.target)
            for n in names:
                sites[n] = sites.get(n, 0) + w
            for attr in ("body", "orelse", "finalbody"):
                sub = getattr(st, attr, None)
                if isinstance(sub, list):
                    count(sub, w if attr != "orelse" or not isinstance(st, (ir.For, ir.While)) else weight)
            for h in getattr(st, "handlers", None) or ():
                count(h.body, weight)

    count(f.body, 1)
    for p in f.params:
        if p.name in f.assigned_params:
            sites[p.name] = sites.get(p.name, 0) + 2
    for node, free in closures_in(f):
        for name in sorted(free):
            if sites.get(name, 0) > 1:
                chk.error(node.span, f"this closure reads '{name}', which {f.qualname}() assigns "
                                      f"more than once; compiled closures copy the value when "
                                      f"they are created",
                           "pass the value as a parameter instead")


def infer_init_attrs(chk, c: ir.ClassDef):
    """Unannotated `self.x = value` in __init__ declares x with the value's type."""
    init = c.methods["__init__"]
    pending = []
    for st in ir_walk(init.body):
        if isinstance(st, ir.Assign) and st.annotation is None:
            for t in st.targets:
                if isinstance(t, ir.Attribute) and isinstance(t.value, ir.Name) and \
                        t.value.id == "self" and t.attr not in c.attrs and \
                        ir.find_attr(c, t.attr) is None:
                    pending.append((t, st.value))
    if not pending:
        return
    # Type the values in a provisional scope holding __init__'s parameters.
    saved = (chk.func, chk.scope, chk.cls)
    chk.func, chk.cls = init, c
    chk.scope = Scope()
    for p in init.params:
        chk.scope.vars[p.name] = p.ty
    sink_len = len(chk.sink.items)
    for t, value in pending:
        if t.attr in c.attrs:
            continue
        ty = expr_rules.expr(chk, value)
        if not has_unknown(ty):
            c.attrs[t.attr] = deep_resolve(ty)
            c.attr_spans[t.attr] = t.span
    # Errors are reported again when __init__ is checked for real.
    del chk.sink.items[sink_len:]
    chk.func, chk.scope, chk.cls = saved


def check_function(chk, f: ir.Function):
    for attempt in range(8):
        mark = len(chk.sink.items)
        try:
            _check_function_once(chk, f)
            return
        except Restart:
            del chk.sink.items[mark:]  # the next pass reports what still holds
            chk.sink._seen = {(d.span.file, d.span.line, d.span.col, d.message)
                               for d in chk.sink.items}


def _check_function_once(chk, f: ir.Function):
    chk.func = f
    f.locals = {}
    f.assigned_params = set()
    chk.scope = Scope()
    chk.annotated = set()
    for p in f.params:
        chk.scope.vars[p.name] = p.ty
    for prm in f.params:
        if prm.default is not None:
            stmt_rules.check_default(chk, prm)
    stmt_rules.block(chk, f.body)
    f.locals = {k: v for k, v in chk.scope.vars.items()
                if k not in {p.name for p in f.params}}
    check_function_end(chk, f)


@hooks.provide
def check_function_end(chk, f: ir.Function):
    if f.is_generator:
        return  # a generator ends by falling off its end
    r = resolve(f.returns)
    if not (r == NONE or isinstance(r, TypeVar)) and not always_returns(f.body):
        chk.error(f.span, f"{f.qualname}() may reach its end without returning {a_or_an(r)}",
                   "add a return statement at the end")
    if isinstance(r, TypeVar) and not always_returns(f.body):
        # Falling off the end returns None.
        if not unify(r, NONE):
            chk.error(f.span, f"{f.qualname}() returns a value on some paths and None on others")

    # ---- statements
