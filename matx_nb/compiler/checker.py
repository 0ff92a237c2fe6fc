"""Type checker and inference over the IR.

Fills `ty` on every expression, `resolved` on names, calls and attributes, and
each function's table of locals. Every problem becomes a diagnostic; checking
goes on after an error so that all problems of a program are reported at once.
"""
from __future__ import annotations

import reprlib
from typing import Dict, List, Optional, Tuple

from . import flow, ir, modules, primitives
from .builtins_checker import COMPAT_CONSTRUCTORS, BuiltinChecks
from .method_checks import MethodChecks
from .ndarray_checker import NDArrayChecks
from .diagnostics import DiagnosticSink, Span, a_or_an, count_of
from .types import (ANY, BOOL, ERROR, is_error, BYTES, FLOAT, INT, NONE, STR, AnyType, ClassType, DictType,
                    FuncType, GenType, ListType, OptionalType, Prim, SetType, TupleType, Type, TypeVar, VarTupleType,
                    assignable, children,
                    deep_resolve, fresh, has_unknown, is_hashable, is_numeric, optional, resolve, unify)

RANGE = Prim("range")
EXC = Prim("exception")  # a caught exception (`except E as e`)
FILE = Prim("file")  # a text file opened for reading

BUILTINS = {"len", "range", "min", "max", "abs", "int", "float", "str", "bool", "print", "list",
            "dict", "set", "tuple", "sorted", "sum", "repr", "ord", "chr", "isinstance",
            "enumerate", "zip", "reversed", "any", "all", "round", "hash", "divmod", "pow",
            "bytes", "hex", "oct", "bin", "iter", "next", "map", "filter", "type", "id", "open",
            "format"}

EXCEPTIONS = {"Exception", "TypeError", "ValueError", "IndexError", "KeyError",
              "ZeroDivisionError", "OverflowError", "AttributeError", "RuntimeError",
              "NotImplementedError", "AssertionError", "StopIteration", "LookupError",
              "ArithmeticError", "NameError"}

# Exception classes an except clause can name; the runtime's ErrKind has each.
CATCHABLE = EXCEPTIONS | {"BaseException", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError",
                          "MemoryError", "RecursionError", "UnboundLocalError", "OSError", "IOError",
                          "FileNotFoundError", "json.JSONDecodeError", "JSONDecodeError",
                          "binascii.Error", "re.error", "KeyboardInterrupt"}

METHOD_KINDS = frozenset(m.kind for m in primitives.METHODS.values())


class Restart(Exception):
    """A local must be widened (int -> float); the function is checked again."""


def kind_of(t: Type) -> str:
    t = resolve(t)
    if isinstance(t, Prim):
        return t.name
    if isinstance(t, ListType):
        return "list"
    if isinstance(t, DictType):
        return "dict"
    if isinstance(t, SetType):
        return "set"
    if isinstance(t, (TupleType, VarTupleType)):
        return "tuple"
    if isinstance(t, ClassType):
        return "class"
    if isinstance(t, AnyType):
        return "any"
    return "unknown"


def elem_type(t: Type) -> Optional[Type]:
    """The type produced by iterating over t, or None if t is not iterable."""
    t = resolve(t)
    if isinstance(t, (ListType, SetType, VarTupleType)):
        return t.elem
    if isinstance(t, DictType):
        return t.key
    if t == STR:
        return STR
    if t == BYTES:
        return INT
    if t == RANGE:
        return INT
    if t == FILE:
        return STR
    if isinstance(t, AnyType):
        return ANY
    if isinstance(t, GenType):
        return t.elem
    if t == modules.NDARRAY:
        return ANY  # rows: numbers or arrays, known at run time
    if isinstance(t, TupleType):
        items = [resolve(x) for x in t.items]
        if items and all(x == items[0] for x in items):
            return items[0]
        return None
    return None


class Scope:
    boundary = False  # the scope of a nested function or lambda
    own: frozenset = frozenset()  # names a nested function assigns: its locals, never the outer ones

    def __init__(self, parent: Optional["Scope"] = None):
        self.vars: Dict[str, Type] = {}
        self.parent = parent

    def lookup(self, name: str) -> Optional[Type]:
        s = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            if s.boundary and name in s.own:
                return None
            s = s.parent
        return None


class Checker(BuiltinChecks, MethodChecks, NDArrayChecks):
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
    def check(self):
        # Signatures first: calls may go in any order.
        for f in self.program.functions:
            if f.returns is None:
                f.returns = GenType(fresh()) if f.is_generator else fresh()
        self.program.classes = base_first(self.program.classes)
        for c in self.program.classes:
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
                self.infer_init_attrs(c)
            for name in c.attrs:
                if c.base is not None and ir.find_attr(c.base.info, name) is not None:
                    if not (ir.find_attr(c.base.info, name) == c.attrs[name]):
                        self.error(c.attr_spans.get(name, c.span),
                                   f"attribute '{name}' is {a_or_an(ir.find_attr(c.base.info, name))} in "
                                   f"{c.base.name}; {c.name} cannot make it {a_or_an(c.attrs[name])}")
        for c in self.program.classes:
            c.const_types = {k: self.const_type(v, c.span) for k, v in c.consts.items()}
            self.check_overrides(c)
        for c in self.program.classes:
            self.owner = c.name
            for m in c.methods.values():
                self.cls = c
                self.check_function(m)
            for m in c.statics.values():
                self.cls = c
                self.check_static(c, m)
            self.cls = None
        for f in self.program.functions:
            self.owner = f.name
            self.check_function(f)
        for f in self.all_functions():
            if has_unknown(f.returns):
                unify(f.returns, NONE)
            for t in f.locals.values():
                r = resolve(t)
                if isinstance(r, OptionalType) and isinstance(resolve(r.inner), TypeVar):
                    unify(r.inner, NONE)  # only ever None
            f.returns = deep_resolve(f.returns)
            for name, t in list(f.locals.items()):
                if has_unknown(t):
                    self.error(f.span, f"cannot infer the type of '{name}' in {f.qualname}()",
                               f"annotate it, e.g. '{name}: List[int] = []'")
                f.locals[name] = deep_resolve(t)
            flow.analyze(f)
        for f in list(self.all_functions()):
            self.check_captures(f)

    def check_static(self, c: ir.ClassDef, m: ir.Function):
        """A static or class method; a classmethod's `cls` is c. The copy of an
        inherited classmethod is checked with cls = the subclass: what does not
        hold there is reported once, naming the subclass."""
        self.owner = m.qualname.split(".")[0]  # the class whose source holds it
        self.cls_ref = m.cls_name if m.decorator == "classmethod" else None
        mark = len(self.sink.items)
        try:
            self.check_function(m)
        finally:
            self.cls_ref = None
            self.owner = c.name
        new = self.sink.items[mark:]
        if m.inherited_from is None or not new:
            return
        del self.sink.items[mark:]
        self.error(new[0].span, f"{m.qualname}() inherited by {c.name} (where {m.cls_name} is {c.name}): "
                                f"{new[0].message}",
                   f"override {m.name}() in {c.name}, or give {c.name} what {m.qualname}() needs")

    def all_functions(self):
        for c in self.program.classes:
            yield from c.methods.values()
            yield from c.statics.values()
        yield from self.program.functions
        yield from self.nested.values()

    def check_overrides(self, c: ir.ClassDef):
        """An overriding method keeps the signature of the one it replaces, so a
        call through the base class type-checks for every subclass."""
        if c.base is None or c.base.info is None:
            return
        for name, v in c.consts.items():
            old = ir.find_const(c.base.info, name)
            if old is not None and not (self.const_type(old, c.span) == self.const_type(v, c.span)):
                self.error(c.span, f"{c.name}.{name} is {a_or_an(self.const_type(v, c.span))} but "
                                   f"{c.base.name}.{name} is {a_or_an(self.const_type(old, c.span))}")
        for name, m in list(c.methods.items()) + list(c.statics.items()):
            if name == "__init__" or m.inherited_from is not None:
                continue
            old = ir.find_method(c.base.info, name) or ir.find_static(c.base.info, name)
            if old is None:
                continue
            if old.decorator != m.decorator:
                kinds = {"": "a method", "staticmethod": "a staticmethod", "classmethod": "a classmethod"}
                self.error(m.span, f"{c.name}.{name}() is {kinds[m.decorator]} but {c.base.name}.{name}() is "
                                   f"{kinds[old.decorator]}", "keep the kind of the base method")
                continue
            ps, qs = (m.params[1:], old.params[1:]) if m.is_method else (m.params, old.params)
            same = len(ps) == len(qs) and all(a.ty == b.ty and a.kind == b.kind and
                                              (a.kind != "kwonly" or a.name == b.name) for a, b in zip(ps, qs))
            if not same:
                self.error(m.span, f"{c.name}.{name}() overrides {c.base.name}.{name}() with different "
                                   "parameters", "keep the parameter types of the base method")
            elif not (isinstance(resolve(m.returns), TypeVar) or isinstance(resolve(old.returns), TypeVar)):
                if not (resolve(m.returns) == resolve(old.returns)):
                    self.error(m.span, f"{c.name}.{name}() returns {m.returns} but {c.base.name}.{name}() "
                                       f"returns {old.returns}")
            else:
                unify(m.returns, old.returns)

    def check_captures(self, f: ir.Function):
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
                    self.error(node.span, f"this closure reads '{name}', which {f.qualname}() assigns "
                                          f"more than once; compiled closures copy the value when "
                                          f"they are created",
                               "pass the value as a parameter instead")

    def infer_init_attrs(self, c: ir.ClassDef):
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
        saved = (self.func, self.scope, self.cls)
        self.func, self.cls = init, c
        self.scope = Scope()
        for p in init.params:
            self.scope.vars[p.name] = p.ty
        sink_len = len(self.sink.items)
        for t, value in pending:
            if t.attr in c.attrs:
                continue
            ty = self.expr(value)
            if not has_unknown(ty):
                c.attrs[t.attr] = deep_resolve(ty)
                c.attr_spans[t.attr] = t.span
        # Errors are reported again when __init__ is checked for real.
        del self.sink.items[sink_len:]
        self.func, self.scope, self.cls = saved

    def check_function(self, f: ir.Function):
        for attempt in range(8):
            mark = len(self.sink.items)
            try:
                self._check_function_once(f)
                return
            except Restart:
                del self.sink.items[mark:]  # the next pass reports what still holds
                self.sink._seen = {(d.span.file, d.span.line, d.span.col, d.message)
                                   for d in self.sink.items}

    def _check_function_once(self, f: ir.Function):
        self.func = f
        f.locals = {}
        f.assigned_params = set()
        self.scope = Scope()
        self.annotated = set()
        for p in f.params:
            self.scope.vars[p.name] = p.ty
        for prm in f.params:
            if prm.default is not None:
                self.check_default(prm)
        self.block(f.body)
        f.locals = {k: v for k, v in self.scope.vars.items()
                    if k not in {p.name for p in f.params}}
        self.check_function_end(f)

    def check_function_end(self, f: ir.Function):
        if f.is_generator:
            return  # a generator ends by falling off its end
        r = resolve(f.returns)
        if not (r == NONE or isinstance(r, TypeVar)) and not always_returns(f.body):
            self.error(f.span, f"{f.qualname}() may reach its end without returning {a_or_an(r)}",
                       "add a return statement at the end")
        if isinstance(r, TypeVar) and not always_returns(f.body):
            # Falling off the end returns None.
            if not unify(r, NONE):
                self.error(f.span, f"{f.qualname}() returns a value on some paths and None on others")

    # ---- statements
    def block(self, stmts: List[ir.Stmt]):
        saved = self.narrowed
        try:
            for s in stmts:
                getattr(self, "stmt_" + type(s).__name__)(s)
                # `if x is None: return` leaves x not None for the rest of the block.
                if isinstance(s, ir.If) and always_returns(s.body) and not s.orelse:
                    self.narrowed = self.narrowed | self.none_tests(s.test, False)
        finally:
            self.narrowed = saved

    def stmt_ExprStmt(self, s: ir.ExprStmt):
        self.expr(s.value)

    def stmt_Pass(self, s):
        pass

    def stmt_Break(self, s):
        if self.loop_depth == 0:
            self.error(s.span, "'break' outside a loop")

    def stmt_Continue(self, s):
        if self.loop_depth == 0:
            self.error(s.span, "'continue' outside a loop")

    def stmt_Delete(self, s: ir.Delete):
        for t in s.targets:
            if not isinstance(t, ir.Subscript):
                what = f"a local ('del {t.id}')" if isinstance(t, ir.Name) else "an attribute"
                self.error(s.span, f"cannot delete {what}: only 'del container[index]' is supported",
                           "a local keeps its value until the function returns")
                continue
            ct = resolve(self.value(t.value, "'NoneType' object does not support item deletion"))
            if is_error(ct):
                continue
            idx = self.expr(t.index)
            if isinstance(ct, ListType):
                if not isinstance(t.index, ir.Slice) and not assignable(INT, idx):
                    self.error(t.index.span, f"list indices must be int, not {idx}")
            elif isinstance(ct, DictType):
                if isinstance(t.index, ir.Slice) or not assignable(ct.key, idx):
                    self.error(t.index.span, f"key of type {idx} does not fit {a_or_an(ct)}")
            elif isinstance(ct, AnyType):
                self.error(t.span, "del on an Any value is not supported", "convert it to a typed container")
            else:
                self.error(t.span, f"'{ct}' object doesn't support item deletion")

    def stmt_Yield(self, s: ir.Yield):
        g = resolve(self.func.returns)
        self.func.has_loops_or_calls = True
        if not isinstance(g, GenType):
            self.error(s.span, "'yield' outside a generator function")
            return
        if s.is_from:
            t = self.value(s.value, "'NoneType' object is not iterable")
            et = elem_type(t)
            if et is None:
                self.error(s.value.span, f"'yield from' needs an iterable, got {t}")
                return
        else:
            et = self.expr(s.value, g.elem) if s.value is not None else NONE
        if not assignable(g.elem, et):
            self.error(s.span, f"{self.func.qualname}() yields {g.elem} values; this yields {a_or_an(et)}",
                       "a generator yields values of one type (use Any for several)")

    def stmt_Return(self, s: ir.Return):
        if self.func.is_generator:
            if s.value is not None and not (isinstance(s.value, ir.Const) and s.value.value is None):
                self.error(s.span, "'return value' in a generator is not supported", "use a bare 'return'")
            return
        want = self.func.returns
        if s.value is None:
            if not assignable(want, NONE):
                self.error(s.span, f"{self.func.qualname}() must return {want}, this returns None")
            return
        got = self.expr(s.value, expected=want)
        if isinstance(resolve(want), TypeVar) and isinstance(resolve(got), AnyType):
            unify(want, got)  # an unannotated function returning a dynamic value returns Any
        if not assignable(want, got):
            hint = ""
            if type(resolve(want)) is type(resolve(got)) and isinstance(resolve(want), (ListType, DictType)):
                hint = (f"{a_or_an(got)} is not {a_or_an(want)}: code holding it could add items of another type; "
                        f"declare the function '-> {got}'")
            self.error(s.value.span, f"{self.func.qualname}() must return {want}, got {got}", hint)

    def stmt_FuncDef(self, s: ir.FuncDef):
        f = s.func
        self.func.has_loops_or_calls = True
        if f.returns is None:
            f.returns = fresh()
        for prm in f.params:
            if prm.default is not None:
                self.check_default(prm)
        ft = FuncType(tuple(p.ty for p in f.params), f.returns)
        saved = (self.func, self.scope, self.annotated, self.loop_depth)
        outer = self.scope
        self.nested[id(f)] = f
        self.loop_depth = 0
        self.func = f
        f.locals, f.assigned_params = {}, set()
        self.scope = Scope(outer)
        self.scope.boundary = True
        self.scope.own = frozenset(n for st in ir_walk(f.body) for n in assigned_names(st))
        # The function may call itself: its name is visible inside.
        self.scope.vars[f.name] = ft
        self.annotated = set()
        for prm in f.params:
            self.scope.vars[prm.name] = prm.ty
        try:
            self.block(f.body)
            names = {p.name for p in f.params} | {f.name}
            f.locals = {k: v for k, v in self.scope.vars.items() if k not in names}
            self.check_function_end(f)
        finally:
            self.func, self.scope, self.annotated, self.loop_depth = saved
        if f.name in {n for n in flow.free_names(f)} or self.calls_itself(f):
            self.error(s.span, f"nested function {f.name}() calls itself; recursive functions must be "
                               "defined at module level")
        self.assign_target(ir.Name(s.span, f.name), ft, s.span)

    def calls_itself(self, f: ir.Function) -> bool:
        for call in ir.iter_calls(f.body):
            if isinstance(call.func, ir.Name) and call.func.id == f.name:
                return True
        return False

    def check_default(self, prm: ir.Param):
        t = self.expr(prm.default, prm.ty)
        if not assignable(prm.ty, t):
            self.error(prm.default.span, f"default value of '{prm.name}' must be {prm.ty}, got {t}")

    def stmt_Try(self, s: ir.Try):
        self.block(s.body)
        for h in s.handlers:
            for t in h.types:
                if t not in CATCHABLE:
                    self.error(h.span, f"'except {t}' is not supported in compiled code",
                               "catch a builtin exception class: " + ", ".join(sorted(CATCHABLE)[:8]) + ", ...")
            if h.name:
                self.assign_target(ir.Name(h.span, h.name), EXC, h.span)
            self.handler_depth += 1
            try:
                self.block(h.body)
            finally:
                self.handler_depth -= 1
        self.block(s.orelse)
        self.block(s.finalbody)

    def stmt_If(self, s: ir.If):
        self.cond(s.test)
        self.narrowed_block(s.body, self.none_tests(s.test, True))
        self.narrowed_block(s.orelse, self.none_tests(s.test, False))

    def stmt_While(self, s: ir.While):
        self.cond(s.test)
        self.func.has_loops_or_calls = True
        self.loop_depth += 1
        self.block(s.body)
        self.loop_depth -= 1
        self.block(s.orelse)

    def iter_protocol(self, node, attr: str):
        """`for x in obj` over an instance with __iter__: iterates obj.__iter__()."""
        t = resolve(self.value(getattr(node, attr), "'NoneType' object is not iterable"))
        if isinstance(t, ClassType) and t.info is not None and ir.find_method(t.info, "__iter__"):
            it = getattr(node, attr)
            setattr(node, attr, ir.Call(it.span, ir.Attribute(it.span, it, "__iter__"), [], []))
            t = self.expr(getattr(node, attr))
        return t

    def stmt_For(self, s: ir.For):
        it = self.iter_protocol(s, "iter")
        self.func.has_loops_or_calls = True
        et = elem_type(it)
        if et is None:
            self.error(s.iter.span, f"cannot iterate over a value of type {it}")
            et = ANY
        self.assign_target(s.target, et, s.iter.span)
        self.loop_depth += 1
        self.block(s.body)
        self.loop_depth -= 1
        self.block(s.orelse)

    def stmt_Assign(self, s: ir.Assign):
        ann = s.annotation
        if ann is not None and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name):
            name = s.targets[0].id
            prev = self.scope.lookup(name)
            if prev is None:
                self.scope.vars[name] = ann
                self.annotated.add(name)
            elif not (prev == ann):
                self.error(s.span, f"'{name}' is already {a_or_an(prev)}; it cannot be redeclared as {ann}")
        expected = ann
        if expected is None and len(s.targets) == 1:
            expected = self.target_type(s.targets[0])
        if expected is None and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name) and \
                self.scope.lookup(s.targets[0].id) is None:
            expected = self.returned_as(s.targets[0].id, s.value)
        vt = self.expr(s.value, expected=expected)
        for t in s.targets:
            self.assign_target(t, vt if ann is None else ann, s.value.span, value_type=vt)

    def returned_as(self, name: str, value: ir.Expr) -> Optional[Type]:
        """`out = []` ... `return out` in a function declared `-> list` or `-> List`
        (List[Any]; likewise dicts): `out` holds what the function returns, so it is a
        List[Any] from the start, rather than a list of its first items' type, which
        the return would then reject."""
        want = resolve(self.func.returns) if self.func.returns is not None else None
        if isinstance(want, ListType) and isinstance(value, ir.ListLit):
            empty = not value.elts
        elif isinstance(want, DictType) and isinstance(value, ir.DictLit):
            empty = not value.keys
        else:
            return None
        if not empty or not any(isinstance(resolve(c), AnyType) for c in children(want)):
            return None
        returns = any(isinstance(r, ir.Return) and isinstance(r.value, ir.Name) and r.value.id == name
                      for r in ir_walk(self.func.body))
        return want if returns else None

    def stmt_AugAssign(self, s: ir.AugAssign):
        if self.nd_augassign(s):
            return
        cur = self.expr(s.target)
        rhs = self.expr(s.value)
        rt = self.binop_type(s.op, cur, rhs, s.span)
        if isinstance(s.target, ir.Name) and resolve(cur) == INT and resolve(rt) == FLOAT:
            self.widen_local(s.target.id, s.span)
        if rt is not None and not assignable(cur, rt):
            self.error(s.span, f"'{s.op}=' gives {a_or_an(rt)}, which cannot be stored in {a_or_an(cur)}")
        if isinstance(s.target, ir.Name) and s.target.id in {p.name for p in self.func.params}:
            self.func.assigned_params.add(s.target.id)

    def stmt_Raise(self, s: ir.Raise):
        if s.exc is None:
            if not self.handler_depth:
                self.error(s.span, "a bare 'raise' re-raises the exception being handled; "
                                   "it belongs in an except clause")
            return
        e = s.exc
        name = None
        if isinstance(e, ir.Name) and resolve(self.scope.lookup(e.id) or NONE) == EXC:
            self.expr(e)
            return  # re-raise a caught exception
        if isinstance(e, ir.Call) and isinstance(e.func, ir.Name):
            name = e.func.id
            for a in e.args:
                self.expr(a)
            if len(e.args) > 1 or e.keywords:
                self.error(e.span, "exceptions take at most one argument here")
        elif isinstance(e, ir.Name):
            name = e.id
        if name not in EXCEPTIONS:
            self.error(e.span, f"can only raise builtin exceptions ({', '.join(sorted(EXCEPTIONS))})")

    def stmt_Assert(self, s: ir.Assert):
        self.cond(s.test)
        if s.msg is not None:
            self.expr(s.msg)

    # ---- assignment targets
    def target_type(self, t: ir.Expr) -> Optional[Type]:
        """The declared type of an existing target, used as the expected type."""
        if isinstance(t, ir.Name):
            return self.scope.lookup(t.id)
        if isinstance(t, ir.Attribute):
            base = resolve(self.peek_type(t.value))
            if isinstance(base, ClassType):
                return ir.find_attr(base.info, t.attr) if base.info else None
        return None

    def peek_type(self, e: ir.Expr) -> Type:
        if isinstance(e, ir.Name):
            t = self.scope.lookup(e.id)
            if t is not None:
                return t
        return ANY

    def widen_local(self, name: str, span: Span):
        if name in self.annotated or name in {p.name for p in self.func.params}:
            return
        self.widen[(self.func.qualname, name)] = FLOAT
        raise Restart()

    def assign_target(self, t: ir.Expr, vt: Type, span: Span, value_type: Optional[Type] = None):
        if isinstance(t, ir.Name) and t.id in self.narrowed and \
                (resolve(vt) == NONE or isinstance(resolve(vt), OptionalType)):
            self.narrowed = self.narrowed - {t.id}  # may be None again
        if isinstance(t, ir.Name):
            if t.id in {p.name for p in self.func.params}:
                self.func.assigned_params.add(t.id)
            if t.id in BUILTINS and self.scope.lookup(t.id) is None and t.id not in ("id", "type"):
                self.error(t.span, f"assigning to the builtin name '{t.id}' is not supported",
                           "use another variable name")
            cur = self.scope.lookup(t.id)
            if cur is None:
                wide = self.widen.get((self.func.qualname, t.id))
                cur = wide if wide is not None else vt
                if wide is None and resolve(vt) == NONE:
                    cur = OptionalType(fresh())  # `x = None` now, a value later
                self.scope.vars[t.id] = cur
            elif not assignable(cur, vt):
                if resolve(cur) == INT and resolve(vt) == FLOAT:
                    self.widen_local(t.id, span)
                self.error(span, f"'{t.id}' holds {a_or_an(cur)}; it cannot be assigned {a_or_an(vt)}",
                           "a local keeps one type; use another name")
            t.ty = self.scope.lookup(t.id)
            t.resolved = ("local", t.id)
            return
        if isinstance(t, ir.TupleLit):
            vr = resolve(vt)
            if isinstance(vr, TupleType):
                if len(vr.items) != len(t.elts):
                    self.error(span, f"cannot unpack {count_of(len(vr.items), 'value')} "
                                     f"into {count_of(len(t.elts), 'target')}")
                    return
                for sub, st in zip(t.elts, vr.items):
                    self.assign_target(sub, st, span)
            else:
                et = elem_type(vr)
                if et is None or isinstance(vr, (DictType, SetType)):
                    self.error(span, f"cannot unpack {a_or_an(vt)}")
                    return
                for sub in t.elts:
                    self.assign_target(sub, et, span)
            t.ty = vt
            return
        if isinstance(t, ir.Attribute):
            ot = self.expr(t.value)
            ob = resolve(ot)
            if isinstance(ob, ClassType) and ob.info is not None:
                at = ir.find_attr(ob.info, t.attr)
                if at is None:
                    self.error(t.span, f"'{ob.name}' has no attribute '{t.attr}'",
                               f"declare it in __init__: self.{t.attr}: T = ...")
                    return
                if not assignable(at, vt):
                    self.error(span, f"attribute '{t.attr}' is {a_or_an(at)}; it cannot be assigned {a_or_an(vt)}")
                t.ty = at
                t.resolved = ("attr", ob.info)
                return
            self.error(t.span, f"cannot set attributes on {a_or_an(ot)}")
            return
        if isinstance(t, ir.Subscript):
            ct = resolve(self.expr(t.value))
            t.magic = None
            if ct == modules.NDARRAY:
                self.nd_assign_target(t, value_type if value_type is not None else vt, span)
                return
            if isinstance(ct, AnyType) and not isinstance(t.index, ir.Slice):
                self.expr(t.index)
                t.ty = ANY
                return
            if isinstance(ct, ClassType) and ct.info is not None:
                m = ir.find_method(ct.info, "__setitem__")
                if m is None or len(m.params) != 3:
                    self.error(t.span, f"'{ct.name}' object does not support item assignment",
                               "define __setitem__()")
                    return
                it = self.expr(t.index, m.params[1].ty)
                if not assignable(m.params[1].ty, it) or not assignable(m.params[2].ty, vt):
                    self.error(span, f"{ct.name}.__setitem__() takes ({m.params[1].ty}, {m.params[2].ty}), "
                                     f"got ({it}, {vt})")
                t.magic = m
                t.ty = m.params[2].ty
                return
            if isinstance(t.index, ir.Slice):
                self.expr(t.index)
                if not isinstance(ct, ListType):
                    self.error(t.span, f"'{ct}' does not support slice assignment")
                elif not (isinstance(resolve(vt), ListType) and assignable(ct, vt)):
                    self.error(span, f"a slice of {a_or_an(ct)} can be assigned {a_or_an(ct)}, got {vt}",
                               "convert it first: list(...)")
                t.ty = ct
                return
            it = self.expr(t.index)
            if isinstance(ct, ListType):
                if not assignable(INT, it):
                    self.error(t.index.span, f"list indices must be int, not {it}")
                if not assignable(ct.elem, vt):
                    self.error(span, f"cannot store {a_or_an(vt)} in {a_or_an(ct)}")
                t.ty = ct.elem
            elif isinstance(ct, DictType):
                if not assignable(ct.key, it):
                    self.error(t.index.span, f"key of type {it} does not fit {a_or_an(ct)}")
                if not assignable(ct.value, vt):
                    self.error(span, f"cannot store {a_or_an(vt)} in {a_or_an(ct)}")
                t.ty = ct.value
            else:
                self.error(t.span, f"'{ct}' does not support item assignment")
            return
        self.error(t.span, "cannot assign to this expression")

    # ---- expressions
    def cond(self, e: ir.Expr) -> Type:
        t = self.expr(e)
        return t

    def expr(self, e: ir.Expr, expected: Optional[Type] = None) -> Type:
        e.unwrap = None
        t = getattr(self, "expr_" + type(e).__name__)(e, expected)
        e.ty = t
        return t

    # ---- narrowing: `if x is not None:` makes x a T inside (an Optional[T] local)
    def none_tests(self, test: ir.Expr, positive: bool) -> set:
        """Locals that are not None when `test` is `positive` (true or false)."""
        if isinstance(test, ir.BoolOp) and (test.op == "and") == positive:
            out = set()
            for v in test.values:
                out |= self.none_tests(v, positive)
            return out
        if isinstance(test, ir.UnaryOp) and test.op == "not":
            return self.none_tests(test.operand, not positive)
        if isinstance(test, ir.Compare) and len(test.ops) == 1 and test.ops[0] in ("is", "is not"):
            a, b = test.left, test.comparators[0]
            if _is_none_const(a):
                a, b = b, a
            if isinstance(a, ir.Name) and _is_none_const(b) and (test.ops[0] == "is not") == positive:
                if isinstance(resolve(self.scope.lookup(a.id) or NONE), OptionalType):
                    return {a.id}
        if positive and isinstance(test, ir.Name):  # `if x:` — a None x is false
            if isinstance(resolve(self.scope.lookup(test.id) or NONE), OptionalType):
                return {test.id}
        return set()

    def narrowed_block(self, stmts, names: set):
        saved = self.narrowed
        self.narrowed = saved | names
        try:
            self.block(stmts)
        finally:
            self.narrowed = saved

    def unopt(self, e: ir.Expr, t: Type, message: str, kind: str = "TypeError") -> Type:
        """An Optional[T] used where a T is needed: checked for None at run time,
        raising `kind` with CPython's `message` (codegen reads e.unwrap)."""
        r = resolve(t)
        if isinstance(r, OptionalType):
            e.unwrap = (kind, message)
            e.ty = r.inner
            return r.inner
        return t

    def value(self, e: ir.Expr, message: str, expected: Optional[Type] = None, kind: str = "TypeError") -> Type:
        return self.unopt(e, self.expr(e, expected), message, kind)

    def expr_Const(self, e: ir.Const, expected):
        v = e.value
        if isinstance(v, bool):
            return BOOL
        if isinstance(v, int):
            if not -(2 ** 63) <= v < 2 ** 63:
                self.error(e.span, "integer constant does not fit in 64 bits")
            return INT
        if isinstance(v, float):
            return FLOAT
        if isinstance(v, str):
            return STR
        if isinstance(v, bytes):
            return BYTES
        if v is None:
            return NONE
        self.error(e.span, f"constant {v!r} is not supported")
        return ERROR

    def expr_Name(self, e: ir.Name, expected):
        t = self.scope.lookup(e.id)
        if t is not None:
            e.resolved = ("local", e.id)
            r = resolve(t)
            if e.id in self.narrowed and isinstance(r, OptionalType):
                e.unwrap = ("TypeError", f"'{e.id}' is None")  # proven not None: never raises
                return r.inner
            return t
        if e.id in self.funcs:
            fn = self.funcs[e.id]
            e.resolved = ("func", fn)
            if any(p.kind != "pos" for p in fn.params):
                self.error(e.span, f"{fn.name}() has keyword-only or * parameters, so it cannot be used as "
                                   "a value yet", f"wrap it: lambda x: {fn.name}(x)")
                return ERROR
            return FuncType(tuple(p.ty for p in fn.params), fn.returns)
        if e.id in self.classes or e.id == self.cls_ref:
            e.resolved = ("class", self.class_named(e))
            self.error(e.span, f"classes as values are not supported yet; call {e.id}(...) directly")
            return ERROR
        key = (self.owner, e.id)
        if key in self.constants:
            v = self.constants[key]
            e.resolved = ("const", v)
            return self.const_type(v, e.span)
        if key in self.modules:
            m = self.modules[key]
            what = f"module '{m}'" if isinstance(m, str) else f"'{m[0]}.{m[1]}'"
            self.error(e.span, f"{what} can only be called here, not used as a value")
            return ERROR
        if e.id in ("True", "False", "None"):
            return BOOL if e.id != "None" else NONE
        if e.id in BUILTINS or e.id in EXCEPTIONS:
            self.error(e.span, f"'{e.id}' can only be called here")
            return ERROR
        self.error(e.span, f"name '{e.id}' is not defined",
                   "compiled code sees its parameters, locals, module constants and other "
                   "functions and classes of the module")
        return ERROR

    def const_type(self, v, span) -> Type:
        if isinstance(v, bool):
            return BOOL
        if isinstance(v, int):
            return INT
        if isinstance(v, float):
            return FLOAT
        if isinstance(v, str):
            return STR
        if isinstance(v, bytes):
            return BYTES
        if v is None:
            return NONE
        if isinstance(v, tuple):
            items = [self.const_type(x, span) for x in v]
            # A long tuple of one item type is a Tuple[T, ...]: as a fixed tuple, a
            # 100,000-item constant would be a C++ std::tuple of 100,000 types.
            if len(items) >= 64 and all(resolve(t) == resolve(items[0]) for t in items):
                return VarTupleType(items[0])
            return TupleType(tuple(items))
        if isinstance(v, (list, set, frozenset)):
            et = self.unify_const_items([self.const_type(x, span) for x in v], span, v)
            return ListType(et) if isinstance(v, list) else SetType(et)
        if isinstance(v, dict):
            kt = self.unify_const_items([self.const_type(x, span) for x in v.keys()], span, v)
            vt = self.unify_const_items([self.const_type(x, span) for x in v.values()], span, v)
            return DictType(kt, vt)
        return ANY

    def unify_const_items(self, ts, span, v) -> Type:
        if not ts:
            self.error(span, f"cannot infer the item type of the empty module constant {short_repr(v)}",
                       "pass it as an annotated argument instead")
            return ERROR
        rs = [resolve(t) for t in ts]
        if all(is_numeric(t) for t in rs) and FLOAT in rs:
            return FLOAT
        for t in rs[1:]:
            if not unify(rs[0], t):
                self.error(span, f"module constant {short_repr(v)} mixes item types {rs[0]} and {t}")
                break
        return rs[0]

    def expr_BinOp(self, e: ir.BinOp, expected):
        lt, rt = self.expr(e.left), self.expr(e.right)

        def tname(t):
            r = resolve(t)
            r = r.inner if isinstance(r, OptionalType) else r
            return {"List": "list", "Dict": "dict", "Set": "set", "Tuple": "tuple"}.get(
                str(r).split("[")[0], str(r))
        op = "** or pow()" if e.op == "**" else e.op
        lt = self.unopt(e.left, lt, f"unsupported operand type(s) for {op}: 'NoneType' and '{tname(rt)}'")
        rt = self.unopt(e.right, rt, f"unsupported operand type(s) for {op}: '{tname(lt)}' and 'NoneType'")
        e.magic = None
        if isinstance(resolve(lt), ClassType) and resolve(lt).info is not None:
            name = MAGIC_BINOPS.get(e.op)
            m = ir.find_method(resolve(lt).info, name) if name else None
            if m is not None and len(m.params) == 2:
                if not assignable(m.params[1].ty, rt):
                    self.error(e.right.span, f"{resolve(lt).name}.{name}() takes {a_or_an(m.params[1].ty)}, got {rt}")
                e.magic = m
                return m.returns
        if e.op == "%" and resolve(lt) == STR:
            return self.check_percent(e, rt)
        t = self.binop_type(e.op, lt, rt, e.span, e)
        if e.op == "**" and t == INT and expected is not None and resolve(expected) == FLOAT:
            # Where a float is wanted, int ** int follows Python for negative exponents too.
            t = FLOAT
        return t if t is not None else ANY

    def binop_type(self, op: str, lt: Type, rt: Type, span: Span, node=None) -> Optional[Type]:
        l, r = resolve(lt), resolve(rt)
        if is_error(l) or is_error(r):
            return ERROR
        if isinstance(l, AnyType) or isinstance(r, AnyType):
            return ANY  # dispatched at run time (matx_nb/dyn.h)
        nd = self.nd_binop_type(op, l, r, span)
        if nd is not None:
            return nd
        num = (INT, FLOAT, BOOL)
        if l in num and r in num:
            if op == "/":
                return FLOAT
            if op in ("<<", ">>", "&", "|", "^"):
                if FLOAT in (l, r):
                    self.error(span, f"unsupported operand types for {op}: '{l}' and '{r}'")
                    return INT
                if l == BOOL and r == BOOL and op in ("&", "|", "^"):
                    return BOOL
                return INT
            if op == "**" and FLOAT not in (l, r):
                if node is not None and isinstance(node.right, ir.Const) and \
                        isinstance(node.right.value, int) and node.right.value < 0:
                    return FLOAT
                if node is not None and isinstance(node.right, ir.UnaryOp) and node.right.op == "-" \
                        and isinstance(node.right.operand, ir.Const):
                    return FLOAT
                return INT
            return FLOAT if FLOAT in (l, r) else INT
        if op == "+" and l == r and l in (STR, BYTES):
            return l
        if op == "+" and isinstance(l, ListType) and isinstance(r, ListType):
            if not unify(l, r):
                self.error(span, f"cannot add {l} and {r}")
            return l
        if op == "+" and isinstance(l, TupleType) and isinstance(r, TupleType):
            return TupleType(tuple(l.items) + tuple(r.items))
        if op == "+" and VarTupleType in (type(l), type(r)) and \
                all(isinstance(x, (TupleType, VarTupleType)) for x in (l, r)):
            vt = l if isinstance(l, VarTupleType) else r
            if not (assignable(vt, l) and assignable(vt, r)):
                self.error(span, f"cannot add {l} and {r}")
            return vt
        if op == "*" and any(isinstance(a, VarTupleType) and b in (INT, BOOL) for a, b in ((l, r), (r, l))):
            return l if isinstance(l, VarTupleType) else r
        if op == "*":
            for a, b in ((l, r), (r, l)):
                if (a in (STR, BYTES) or isinstance(a, ListType)) and b in (INT, BOOL):
                    return a
        if op == "%" and l == STR:
            self.error(span, "%-formatting is not supported yet", "use str() and +")
            return STR
        if op == "|" and isinstance(l, DictType) and isinstance(r, DictType):
            if not unify(l, r):
                self.error(span, f"cannot merge {l} and {r}")
            return l
        if op == "*" and isinstance(l, TupleType) and node is not None and \
                const_int(node.right) is not None:
            return TupleType(tuple(l.items) * max(0, const_int(node.right)))
        if isinstance(l, SetType) and isinstance(r, SetType) and op in ("|", "&", "-", "^"):
            if not unify(l, r):
                self.error(span, f"cannot combine {l} and {r}")
            return l
        self.error(span, f"unsupported operand types for {op}: '{l}' and '{r}'")
        return None

    def expr_UnaryOp(self, e: ir.UnaryOp, expected):
        if e.op == "not":
            self.cond(e.operand)
            return BOOL
        t = resolve(self.value(e.operand, f"bad operand type for unary {e.op}: 'NoneType'"))
        if is_error(t):
            return ERROR
        if e.op == "not":
            return BOOL
        if e.op in ("-", "+"):
            if t == BOOL:
                return INT
            if t in (INT, FLOAT):
                return t
        if e.op == "~" and t in (INT, BOOL):
            return INT
        if isinstance(t, AnyType):
            return ANY
        self.error(e.span, f"bad operand type for unary {e.op}: '{t}'")
        return ERROR

    def expr_BoolOp(self, e: ir.BoolOp, expected):
        ts = []
        saved = self.narrowed
        try:
            for v in e.values:  # `x is not None and x > 0`: later operands see x narrowed
                ts.append(resolve(self.expr(v)))
                self.narrowed = self.narrowed | self.none_tests(v, e.op == "and")
        finally:
            self.narrowed = saved
        first = ts[0]
        if all(t == first for t in ts):
            return first
        if all(is_numeric(t) for t in ts):
            # `a or 0.5` mixing int and float: the result is a number of either kind.
            return FLOAT if FLOAT in ts else INT
        self.error(e.span, f"'{e.op}' operands have different types ({', '.join(map(str, ts))})",
                   "compiled code needs one result type; compare explicitly, e.g. 'x != 0 and ...'")
        return first

    def expr_Compare(self, e: ir.Compare, expected):
        left = self.expr(e.left)
        prev = e.left
        for op, c in zip(e.ops, e.comparators):
            right = self.expr(c)
            if op not in ("==", "!=", "is", "is not"):
                msg = f"'{op}' not supported with 'NoneType'"
                left = self.unopt(prev, left, msg)
                right = self.unopt(c, right, msg)
            self.check_compare(op, left, right, c.span)
            left, prev = right, c
        return BOOL

    def check_compare(self, op, lt, rt, span):
        l, r = resolve(lt), resolve(rt)
        if is_error(l) or is_error(r):
            return
        if isinstance(l, AnyType) or isinstance(r, AnyType):
            return  # compared at run time
        if modules.NDARRAY in (l, r) and op in ("==", "!=", "<", "<=", ">", ">="):
            self.error(span, f"'{op}' on NDArrays (numpy compares elementwise) is not supported yet",
                       "compare a.tolist(), or 'a is None' for a missing array")
            return
        if isinstance(l, ClassType) and l.info is not None and op in MAGIC_COMPARE:
            name, reflected = MAGIC_COMPARE[op]
            if ir.find_method(l.info, name) is None and not (
                    isinstance(r, ClassType) and r.info is not None and ir.find_method(r.info, reflected)):
                if op not in ("==", "!="):
                    self.error(span, f"'{op}' is not supported between instances of '{l}' and '{r}'",
                               f"define {name}() in {l.name}")
            return
        if op in ("in", "not in") and isinstance(r, ClassType) and r.info is not None:
            m = ir.find_method(r.info, "__contains__")
            if m is None:
                self.error(span, f"argument of type '{r.name}' is not iterable", "define __contains__()")
            elif not assignable(m.params[1].ty, l):
                self.error(span, f"{r.name}.__contains__() takes {a_or_an(m.params[1].ty)}, got {l}")
            return
        if op in ("in", "not in"):
            rk = kind_of(r)
            if rk in ("list", "set"):
                if not (assignable(r.elem, l) or (is_numeric(l) and is_numeric(r.elem))):
                    self.error(span, f"'{op}' tests {a_or_an(l)} against {a_or_an(r)}")
            elif rk == "dict":
                if not assignable(r.key, l):
                    self.error(span, f"'{op}' tests {a_or_an(l)} key against {a_or_an(r)}")
            elif rk in ("str", "bytes"):
                if rk == "bytes" and l in (INT, BOOL):
                    return
                if l != r:
                    self.error(span, f"'{op} <{r}>' needs {a_or_an(r)} on the left, got {l}")
            elif r == RANGE:
                if l not in (INT, BOOL):
                    self.error(span, f"'{op} range' needs an int on the left")
            elif rk == "tuple":
                pass
            else:
                self.error(span, f"'{op}' is not supported on {a_or_an(r)}")
            return
        if op in ("is", "is not"):
            if l == NONE or r == NONE:
                return  # (an opaque module value such as re.Match is None when its handle is null)
            if isinstance(l, ClassType) and isinstance(r, ClassType):
                return  # identity of instances
            if isinstance(l, (ListType, DictType, SetType)) and l == r:
                return  # identity of containers of one type
            self.error(span, f"'{op}' is only supported with None and class instances here",
                       "use == for values")
            return
        if isinstance(l, OptionalType) or isinstance(r, OptionalType):
            li = l.inner if isinstance(l, OptionalType) else l
            ri = r.inner if isinstance(r, OptionalType) else r
            if li == NONE or ri == NONE or resolve(li) == resolve(ri) or (is_numeric(li) and is_numeric(ri)):
                return
            unify(li, ri)
            return
        if is_numeric(l) and is_numeric(r):
            return
        if isinstance(l, VarTupleType) and isinstance(r, TupleType) and assignable(l, r) or \
                isinstance(r, VarTupleType) and isinstance(l, TupleType) and assignable(r, l):
            return  # compared as two Tuple[T, ...]
        if l == r or unify(l, r):
            if op in ("<", "<=", ">", ">=") and isinstance(l, (DictType, ClassType)) or \
                    (op in ("<", "<=", ">", ">=") and l in (NONE,)):
                self.error(span, f"'{op}' is not supported between instances of '{l}' and '{r}'")
            return
        if op in ("==", "!="):
            return  # different types are simply unequal, as in Python
        self.error(span, f"'{op}' is not supported between instances of '{l}' and '{r}'")

    def expr_IfExp(self, e: ir.IfExp, expected):
        self.cond(e.test)
        saved = self.narrowed
        try:
            self.narrowed = saved | self.none_tests(e.test, True)
            a = resolve(self.expr(e.body, expected))
            self.narrowed = saved | self.none_tests(e.test, False)
            b = resolve(self.expr(e.orelse, expected))
        finally:
            self.narrowed = saved
        if is_numeric(a) and is_numeric(b) and a != b:
            return FLOAT if FLOAT in (a, b) else INT
        if (a == NONE) != (b == NONE):  # `x if c else None`: an Optional
            other = b if a == NONE else a
            if isinstance(resolve(other), TypeVar):
                return optional(other)
            return optional(other)
        if not unify(a, b):
            if expected is not None and assignable(expected, a) and assignable(expected, b):
                return expected
            self.error(e.span, f"the two branches have different types ({a} and {b})")
        return a

    def expr_ListLit(self, e: ir.ListLit, expected):
        ex = resolve(expected) if expected is not None else None
        et = ex.elem if isinstance(ex, ListType) else (ANY if isinstance(ex, AnyType) else None)
        return ListType(self.unify_items(e.elts, et, e.span))

    def expr_SetLit(self, e: ir.SetLit, expected):
        ex = resolve(expected) if expected is not None else None
        et = ex.elem if isinstance(ex, SetType) else (ANY if isinstance(ex, AnyType) else None)
        t = self.unify_items(e.elts, et, e.span)
        if not is_hashable(t):
            self.error(e.span, f"unhashable type: '{t}'")
        return SetType(t)

    def unify_items(self, elts, et: Optional[Type], span) -> Type:
        ts = [self.expr(x, et) for x in elts]
        if et is not None:
            for x, t in zip(elts, ts):
                if not assignable(et, t):
                    self.error(x.span, f"{a_or_an(t)} item in a container of {et}")
            return et
        if not ts:
            return fresh()
        rs = [resolve(t) for t in ts]
        if all(is_numeric(t) for t in rs) and FLOAT in rs:
            return FLOAT
        first = rs[0]
        for x, t in zip(elts[1:], rs[1:]):
            if not unify(first, t):
                self.error(x.span, f"items of one container must share a type: {first} and {t}",
                           "annotate the container as List[Any] for mixed items")
        return first

    def expr_TupleLit(self, e: ir.TupleLit, expected):
        ex = resolve(expected) if expected is not None else None
        if isinstance(ex, VarTupleType):  # (a, b) where a Tuple[T, ...] is wanted
            ts = [self.expr(x, ex.elem) for x in e.elts]
            if all(assignable(ex.elem, t) for t in ts):
                return ex
            return TupleType(tuple(ts))
        exs = ex.items if isinstance(ex, TupleType) and len(ex.items) == len(e.elts) else [None] * len(e.elts)
        return TupleType(tuple(self.expr(x, t) for x, t in zip(e.elts, exs)))

    def expr_DictLit(self, e: ir.DictLit, expected):
        ex = resolve(expected) if expected is not None else None
        kt = ex.key if isinstance(ex, DictType) else None
        vt = ex.value if isinstance(ex, DictType) else None
        if isinstance(ex, AnyType):  # a literal where Any is wanted (json.dumps({...})): mixed items are fine
            kt = vt = ANY
        k = self.unify_items(e.keys, kt, e.span)
        v = self.unify_items(e.values, vt, e.span)
        if not is_hashable(k):
            self.error(e.span, f"unhashable type: '{k}'")
        return DictType(k, v)

    def expr_Lambda(self, e: ir.Lambda, expected):
        ex = resolve(expected) if expected is not None else None
        if isinstance(ex, FuncType) and len(ex.params) == len(e.params):
            pts = list(ex.params)
        else:
            if not isinstance(ex, FuncType):
                self.error(e.span, "the parameter types of this lambda are unknown here",
                           "store it in an annotated variable (f: Callable[[int], int] = lambda x: ...) "
                           "or pass it where a function is expected")
            else:
                self.error(e.span, f"this lambda takes {count_of(len(e.params), 'parameter')} "
                                   f"where {a_or_an(ex)} is expected")
            pts = [ERROR for _ in e.params]
        for prm, t in zip(e.params, pts):
            prm.ty = t
        saved = self.scope
        self.scope = Scope(saved)
        self.scope.boundary = True
        for prm in e.params:
            self.scope.vars[prm.name] = prm.ty
        try:
            rt = self.expr(e.body, ex.ret if isinstance(ex, FuncType) else None)
        finally:
            self.scope = saved
        if isinstance(ex, FuncType) and not assignable(ex.ret, rt):
            self.error(e.body.span, f"this lambda must return {ex.ret}, got {rt}")
        self.func.has_loops_or_calls = True
        return FuncType(tuple(pts), rt)

    def call_value(self, e: ir.Call, ft: FuncType) -> Type:
        """Calls a function value (a lambda, a closure, a function passed in)."""
        if e.keywords:
            self.error(e.keywords[0].span, "keyword arguments cannot be passed to a function value")
        if len(e.args) != len(ft.params):
            self.error(e.span, f"this {ft} takes {len(ft.params)} argument"
                               f"{'s' if len(ft.params) != 1 else ''}, got {len(e.args)}")
        for a, pt in zip(e.args, ft.params):
            t = self.expr(a, pt)
            if not assignable(pt, t):
                self.error(a.span, f"argument must be {pt}, got {t}")
        for a in e.args[len(ft.params):]:
            self.expr(a)
        e.resolved = ("callvalue",)
        return ft.ret

    def comprehension_scope(self, gens: List[ir.Comprehension]):
        self.scope = Scope(self.scope)
        self.func.has_loops_or_calls = True
        for g in gens:
            it = self.iter_protocol(g, "iter")
            et = elem_type(it)
            if et is None:
                self.error(g.iter.span, f"cannot iterate over a value of type {it}")
                et = ANY
            self.bind_comp_target(g.target, et, g.span)
            for c in g.ifs:
                self.cond(c)

    def bind_comp_target(self, t: ir.Expr, et: Type, span):
        if isinstance(t, ir.Name):
            self.scope.vars[t.id] = et
            t.ty = et
            t.resolved = ("local", t.id)
        elif isinstance(t, ir.TupleLit):
            r = resolve(et)
            if isinstance(r, TupleType) and len(r.items) == len(t.elts):
                for sub, st in zip(t.elts, r.items):
                    self.bind_comp_target(sub, st, span)
            else:
                self.error(span, f"cannot unpack {a_or_an(et)} into {count_of(len(t.elts), 'name')}")
            t.ty = et
        else:
            self.error(span, "comprehension targets must be names")

    def expr_GenExp(self, e: ir.GenExp, expected):
        return self.expr_ListComp(e, expected)

    def expr_ListComp(self, e: ir.ListComp, expected):
        outer = self.scope
        self.comprehension_scope(e.generators)
        ex = resolve(expected) if expected is not None else None
        t = self.expr(e.elt, ex.elem if isinstance(ex, ListType) else None)
        e.comp_vars = dict(self.scope.vars)
        self.scope = outer
        if isinstance(ex, ListType) and assignable(ex.elem, t):
            return ex
        return ListType(t)

    def expr_SetComp(self, e: ir.SetComp, expected):
        outer = self.scope
        self.comprehension_scope(e.generators)
        t = self.expr(e.elt)
        e.comp_vars = dict(self.scope.vars)
        self.scope = outer
        return SetType(t)

    def expr_DictComp(self, e: ir.DictComp, expected):
        outer = self.scope
        self.comprehension_scope(e.generators)
        k = self.expr(e.key)
        v = self.expr(e.value)
        e.comp_vars = dict(self.scope.vars)
        self.scope = outer
        return DictType(k, v)

    def zip_star(self, e: ir.Call) -> Type:
        """zip(*rows): the columns of rows whose items share one type (a list of
        lists, of Tuple[T, ...] or of tuples with one item type), as tuples."""
        star = e.args[0]
        rows = resolve(self.expr(star.value))
        star.ty = rows
        row = resolve(elem_type(rows)) if isinstance(rows, (ListType, VarTupleType)) else None
        item = None
        if isinstance(row, (ListType, VarTupleType)):
            item = row.elem
        elif isinstance(row, TupleType) and row.items and all(x == row.items[0] for x in row.items):
            item = row.items[0]
        if item is None:
            if not is_error(rows):
                self.error(e.span, f"zip(*rows) needs rows whose items share one type here, got {rows}",
                           "for pairs of different types, take the columns with comprehensions: "
                           "[p[0] for p in pairs]")
            return ERROR
        e.resolved = ("builtin", "zip_star")
        return ListType(VarTupleType(item))

    def expr_Starred(self, e: ir.Starred, expected):
        t = self.expr(e.value)
        self.error(e.span, f"*{ir_text(e.value)} is supported in calls of compiled functions with *args only",
                   "pass the items one by one, or a list")
        return t

    def expr_Slice(self, e: ir.Slice, expected):
        for part in (e.lower, e.upper, e.step):
            if part is not None:
                t = self.expr(part)
                if resolve(t) not in (INT, BOOL, NONE):
                    self.error(part.span, f"slice indices must be int, got {t}")
        return ERROR

    def expr_Subscript(self, e: ir.Subscript, expected):
        ct = resolve(self.value(e.value, "'NoneType' object is not subscriptable"))
        e.magic = None
        if is_error(ct):
            self.expr(e.index)
            return ERROR
        if isinstance(ct, AnyType):
            if isinstance(e.index, ir.Slice):
                self.error(e.span, "slicing an Any value is not supported", "convert it first: list(x)[a:b]")
            self.expr(e.index)
            return ANY
        if ct == modules.NDARRAY:
            return self.nd_subscript(e)
        if isinstance(e.index, ir.TupleLit) and any(isinstance(x, ir.Slice) for x in e.index.elts):
            self.error(e.index.span, f"'{ct}' indices cannot be tuples with slices (only NDArray has them)")
            return ERROR
        if isinstance(ct, ClassType) and ct.info is not None:
            m = ir.find_method(ct.info, "__getitem__")
            if m is None or len(m.params) != 2:
                self.error(e.span, f"'{ct.name}' object is not subscriptable", "define __getitem__()")
                self.expr(e.index)
                return ERROR
            it = self.expr(e.index, m.params[1].ty)
            if not assignable(m.params[1].ty, it):
                self.error(e.index.span, f"{ct.name}.__getitem__() takes {a_or_an(m.params[1].ty)}, got {it}")
            e.magic = m
            return m.returns
        if isinstance(e.index, ir.Slice):
            self.expr(e.index)
            if ct in (STR, BYTES) or isinstance(ct, (ListType, VarTupleType)):
                return ct
            self.error(e.span, f"'{ct}' cannot be sliced")
            return ERROR
        it = resolve(self.expr(e.index))
        if isinstance(ct, (ListType, VarTupleType)) or ct in (STR, BYTES):
            if it not in (INT, BOOL):
                self.error(e.index.span, f"{kind_of(ct)} indices must be integers, not {it}")
            return ct.elem if isinstance(ct, (ListType, VarTupleType)) else (STR if ct == STR else INT)
        if isinstance(ct, DictType):
            if not assignable(ct.key, it):
                self.error(e.index.span, f"key of type {it} does not fit {a_or_an(ct)}")
            return ct.value
        if isinstance(ct, TupleType):
            idx = const_int(e.index)
            if idx is None:
                items = [resolve(x) for x in ct.items]
                if items and all(x == items[0] for x in items):
                    return items[0]
                self.error(e.index.span, "a tuple with mixed item types needs a constant index")
                return ERROR
            n = len(ct.items)
            if not -n <= idx < n:
                self.error(e.index.span, f"tuple index {idx} out of range for {a_or_an(ct)}")
                return ERROR
            return ct.items[idx]
        self.error(e.span, f"'{ct}' is not subscriptable")
        return ERROR

    def module_of(self, e: ir.Expr) -> Optional[str]:
        """The module a global name refers to (`math` after `import math`)."""
        if isinstance(e, ir.Name) and self.scope.lookup(e.id) is None:
            m = self.modules.get((self.owner, e.id))
            if isinstance(m, str):
                return m
        return None

    def class_named(self, e: ir.Expr) -> Optional[ir.ClassDef]:
        """The class a name refers to: a compiled class, or a classmethod's cls."""
        if not isinstance(e, ir.Name) or self.scope.lookup(e.id) is not None:
            return None
        if e.id == self.cls_ref:
            return self.cls
        return self.classes.get(e.id)

    def expr_Attribute(self, e: ir.Attribute, expected):
        c = self.class_named(e.value)
        if c is not None:
            cv = ir.find_const(c, e.attr)
            if cv is not None:
                e.resolved = ("const", cv)
                return self.const_type(cv, e.span)
            if ir.find_static(c, e.attr) is not None or ir.find_method(c, e.attr) is not None:
                self.error(e.span, f"{c.name}.{e.attr} can only be called here, not used as a value",
                           f"or wrap it: lambda x: {ir_text(e)}(x)")
                return ERROR
            self.error(e.span, f"class {c.name} has no constant '{e.attr}'")
            return ERROR
        mod = self.module_of(e.value)
        if mod is not None:
            consts = modules.CONSTANTS.get(mod, {})
            if e.attr in consts:
                v = consts[e.attr]
                e.resolved = ("const", v)
                return self.const_type(v, e.span)
            if modules.lookup(mod, e.attr):
                self.error(e.span, f"'{mod}.{e.attr}' can only be called here, not used as a value")
            else:
                self.error(e.span, f"'{mod}.{e.attr}' is not supported in compiled code",
                           self.module_hint(mod))
            return ERROR
        ot = resolve(self.value(e.value, f"'NoneType' object has no attribute '{e.attr}'", kind="AttributeError"))
        if is_error(ot):
            return ERROR
        if isinstance(ot, ClassType) and ot.info is not None:
            at = ir.find_attr(ot.info, e.attr)
            if at is not None:
                e.resolved = ("attr", ot.info)
                return at
            cv = ir.find_const(ot.info, e.attr)
            if cv is not None:  # read through the instance: a subclass may redefine it
                e.resolved = ("classconst", e.attr)
                return self.const_type(cv, e.span)
            if ir.find_method(ot.info, e.attr) is not None or ir.find_static(ot.info, e.attr) is not None:
                self.error(e.span, "bound methods as values are not supported yet; call the method",
                           f"or wrap it: lambda x: obj.{e.attr}(x)")
                return ERROR
            self.error(e.span, f"'{ot.name}' object has no attribute '{e.attr}'")
            return ERROR
        if isinstance(ot, Prim) and ot.name in modules.TYPES:
            return self.nd_attribute(e, ot)
        self.error(e.span, f"'{ot}' object has no attribute '{e.attr}'")
        return ERROR

    # ---- calls
    def module_hint(self, mod: str) -> str:
        names = sorted(modules.MODULES.get(mod, {})) + sorted(modules.CONSTANTS.get(mod, {}))
        if not names:
            return "supported modules: " + ", ".join(sorted(set(modules.MODULES) | set(modules.CONSTANTS)))
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        return f"'{mod}' in compiled code has: {shown}"

    def module_function(self, f: ir.Expr) -> Optional[modules.ModuleFunction]:
        """The supported module function a call's callee names, or None; reports
        unsupported ones (then returns a dummy so the caller stops)."""
        if isinstance(f, ir.Attribute):
            mod = self.module_of(f.value)
            if mod is None:
                return None
            mf = modules.lookup(mod, f.attr)
            if mf is None and f.attr in modules.CONSTANTS.get(mod, {}):
                self.error(f.span, f"'{mod}.{f.attr}' is a constant and cannot be called")
                return modules.UNSUPPORTED
            if mf is None:
                self.error(f.span, f"'{mod}.{f.attr}' is not supported in compiled code",
                           self.module_hint(mod))
                return modules.UNSUPPORTED
            return mf
        if isinstance(f, ir.Name) and self.scope.lookup(f.id) is None and \
                f.id not in self.funcs and f.id not in self.classes:
            m = self.modules.get((self.owner, f.id))
            if isinstance(m, tuple):
                mf = modules.lookup(*m)
                if mf is None and modules.is_supported_module(m[0]):
                    self.error(f.span, f"'{m[0]}.{m[1]}' is not supported in compiled code",
                               self.module_hint(m[0]))
                    return modules.UNSUPPORTED
                return mf
        return None

    def call_module(self, e: ir.Call, mf: modules.ModuleFunction, receiver: Optional[ir.Expr] = None) -> Type:
        if mf is modules.UNSUPPORTED:
            for a in e.args:
                self.expr(a)
            for kw in e.keywords:
                self.expr(kw.value)
            return ERROR
        what = f"{mf.module}.{mf.name}"
        params = mf.params
        if mf.varargs:
            self.gather_varargs(e, len(params) - (receiver is not None))
        slots: List[Optional[ir.Expr]] = [None] * len(params)
        given = ([receiver] if receiver is not None else []) + list(e.args)
        if len(given) > len(params):
            self.error(e.span, f"{what}() takes at most {len(params) - (receiver is not None)} argument"
                               f"{'s' if len(params) != 1 else ''} but {len(e.args)} were given")
        for i, a in enumerate(given[:len(params)]):
            slots[i] = a
        names = [p[0] for p in params]
        for kw in e.keywords:
            if kw.name not in names:
                self.error(kw.span, f"{what}() got an unexpected keyword argument '{kw.name}'")
                self.expr(kw.value)
                continue
            i = names.index(kw.name)
            if slots[i] is not None:
                self.error(kw.span, f"{what}() got multiple values for argument '{kw.name}'")
            slots[i] = kw.value
        ts: List[Type] = []
        ok = True
        for i, ((pname, pt), a) in enumerate(zip(params, slots)):
            if a is None:
                if i < mf.n_required:
                    self.error(e.span, f"{what}() missing argument '{pname}'")
                    ok = False
                ts.append(NONE)
                continue
            if pt == modules.GENERIC and mf.module == "json" and isinstance(a, (ir.ListLit, ir.DictLit, ir.SetLit)):
                t = self.expr(a, ANY)  # json.dumps({"s": s, "n": [1, None]}): items of any types
            else:
                t = self.expr(a, None if pt == modules.GENERIC else pt)
            ts.append(resolve(t))
            if is_error(t):
                ok = False
            elif pt != modules.GENERIC and not assignable(pt, t):
                self.error(a.span, f"argument '{pname}' of {what}() must be {pt}, got {t}")
                ok = False
        for a in given[len(params):]:
            self.expr(a)
        e.bound_args = slots
        e.resolved = ("module", mf)
        if not ok:
            return ERROR
        rt = mf.result_type(ts)
        if rt is None:
            shown = ", ".join(str(t) for t, a in zip(ts, slots) if a is not None)
            self.error(e.span, f"{what}() does not accept ({shown})")
            return ERROR
        if mf.refine is not None:  # checks needing constant arguments (a constant regex)
            rt, cpp, err = mf.refine(ts, modules.constant_args(mf, slots))
            if err is not None:
                self.error((slots[err[0]] or e).span, err[1])
                return ERROR
            e.resolved = ("module", modules.with_callee(mf, cpp))
        return rt

    def expr_Call(self, e: ir.Call, expected):
        f = e.func
        self.func.has_loops_or_calls = True
        if isinstance(f, ir.Attribute) and f.attr in COMPAT_CONSTRUCTORS and \
                self.module_of(f.value) == "matx_nb":
            return self.call_compat_constructor(e, COMPAT_CONSTRUCTORS[f.attr], expected)
        if isinstance(f, ir.Name) and f.id in MAGIC_BUILTINS and self.scope.lookup(f.id) is None and \
                len(e.args) == 1 and not e.keywords and f.id not in self.funcs:
            at = resolve(self.expr(e.args[0]))
            if isinstance(at, AnyType) and not is_error(at) and f.id == "len":
                e.resolved = ("dynbuiltin", "len")
                return INT
            if isinstance(at, Prim) and at.name in modules.TYPES and \
                    MAGIC_BUILTINS[f.id] in modules.TYPES[at.name].methods:
                e.func = ir.Attribute(f.span, e.args[0], MAGIC_BUILTINS[f.id])  # len(a) -> a.__len__()
                e.args = []
                f = e.func
            if isinstance(at, ClassType) and at.info is not None and \
                    ir.find_method(at.info, MAGIC_BUILTINS[f.id]) is not None:
                e.func = ir.Attribute(f.span, e.args[0], MAGIC_BUILTINS[f.id])  # len(x) -> x.__len__()
                e.args = []
                f = e.func
        mf = self.module_function(f)
        if mf is not None:
            return self.call_module(e, mf)
        if isinstance(f, ir.Name) and f.id == self.cls_ref and self.scope.lookup(f.id) is None:
            return self.call_constructor(e, self.cls)  # cls(...) in a classmethod
        if isinstance(f, ir.Attribute) and self.class_named(f.value) is not None:
            return self.call_on_class(e, self.class_named(f.value), f)
        if isinstance(f, ir.Name) and self.scope.lookup(f.id) is None:
            if f.id in self.funcs:
                return self.call_function(e, self.funcs[f.id])
            if f.id in self.classes:
                return self.call_constructor(e, self.classes[f.id])
            if f.id in BUILTINS:
                return self.call_builtin(e, f.id, expected)
            if f.id in EXCEPTIONS:
                self.error(e.span, "exceptions can only be raised here")
                return ERROR
        if isinstance(f, ir.Attribute) and _is_super(f.value):
            return self.call_super(e, f)
        if isinstance(f, ir.Attribute):
            ot = resolve(self.value(f.value, f"'NoneType' object has no attribute '{f.attr}'",
                                    kind="AttributeError"))
            if isinstance(ot, ClassType) and ot.info is not None:
                m = ir.find_method(ot.info, f.attr)
                sm = ir.find_static(ot.info, f.attr)
                if m is None and sm is not None:  # obj.static(...): dispatched on obj's class
                    return self.call_static(e, ot.info, sm, via_instance=True)
                if m is None and ir.find_attr(ot.info, f.attr) is not None:
                    at = resolve(self.expr(f))  # self.fn(...): an attribute holding a callable
                    if isinstance(at, FuncType):
                        return self.call_value(e, at)
                    if isinstance(at, ClassType) and at.info is not None and \
                            ir.find_method(at.info, "__call__"):
                        e.func = ir.Attribute(f.span, f, "__call__")
                        return self.expr_Call(e, expected)
                if m is None:
                    self.error(f.span, f"'{ot.name}' object has no method '{f.attr}'")
                    for a in e.args:
                        self.expr(a)
                    return ERROR
                self.bind_args(e, m.params[1:], f"{ot.name}.{f.attr}", 1)
                e.resolved = ("method", ot.info, m)
                return m.returns
            return self.call_method(e, ot, f.attr, expected)
        if not isinstance(f, ir.Name) or self.scope.lookup(f.id) is not None:
            ct = resolve(self.expr(f))
            if isinstance(ct, FuncType):
                return self.call_value(e, ct)
            if isinstance(ct, ClassType) and ct.info is not None and ir.find_method(ct.info, "__call__"):
                e.func = ir.Attribute(f.span, f, "__call__")  # obj(...) is obj.__call__(...)
                return self.expr_Call(e, expected)
            if not is_error(ct):
                self.error(f.span, f"'{ir_text(f)}' is {a_or_an(ct)} and cannot be called")
            for a in e.args:
                self.expr(a)
            return ERROR
        if isinstance(f, ir.Name):
            for a in e.args:
                self.expr(a)
            key = (self.owner, f.id)
            if key in self.constants:
                self.error(f.span, f"'{f.id}' is a module constant and cannot be called")
            else:
                self.error(f.span, f"name '{f.id}' is not defined",
                           "compiled code can call builtins and the functions and classes "
                           "defined in the same module")
            return ERROR
        self.error(e.span, "this call is not supported in compiled code")
        for a in e.args:
            self.expr(a)
        return ERROR

    def bind_args(self, e: ir.Call, params: List[ir.Param], what: str, offset: int = 0) -> list:
        """Matches positional and keyword arguments to parameters as CPython does
        and stores the result in e.bound_args, one slot per parameter: the
        argument, None (the default is used), or for *args the list of the
        arguments it collects (ir.Starred ones unpack an iterable). `offset` is 1
        where CPython counts self in its messages."""
        slots: list = [None] * len(params)
        index = {id(p): i for i, p in enumerate(params)}
        pos = [p for p in params if p.kind == "pos"]
        var = next((p for p in params if p.kind == "vararg"), None)
        extra: List[ir.Expr] = []
        k = 0
        e.args = self.spread_known_lengths(e.args)
        unpacked_named = False
        for a in e.args:
            if isinstance(a, ir.Starred) and k < len(pos):
                self.error(a.span, f"*{ir_text(a.value)} would fill named parameters of {what}(); compiled "
                                   "calls unpack an iterable of unknown length into *args only",
                           "pass the named parameters one by one, or a tuple of known length")
                self.expr(a.value)
                k = len(pos)
                unpacked_named = True
                continue
            if k < len(pos):
                slots[index[id(pos[k])]] = a
                k += 1
            else:
                extra.append(a)
        if var is not None:
            slots[index[id(var)]] = extra
        elif extra:
            given = len(e.args)
            kw_given = sum(1 for kw in e.keywords
                           if any(p.name == kw.name and p.kind == "kwonly" for p in params))
            if any(isinstance(a, ir.Starred) for a in extra):
                bad = next(a for a in extra if isinstance(a, ir.Starred))
                self.error(bad.span, f"{what}() has no *args parameter to unpack *{ir_text(bad.value)} into")
            else:
                self.error(e.span, too_many_positional(what, pos, given, kw_given, offset))
            for a in extra:
                self.expr(a.value if isinstance(a, ir.Starred) else a)
        names = {p.name: i for i, p in enumerate(params) if p.kind in ("pos", "kwonly")}
        kwarg = next((i for i, p in enumerate(params) if p.kind == "kwarg"), None)
        if kwarg is not None:
            slots[kwarg] = []
        for kw in e.keywords:
            i = names.get(kw.name)
            if i is None and kwarg is not None:  # **kwargs collects the other keywords
                slots[kwarg].append(kw)
                continue
            if i is None:
                self.error(kw.span, f"{what}() got an unexpected keyword argument '{kw.name}'")
                self.expr(kw.value)
                continue
            if slots[i] is not None:
                self.error(kw.span, f"{what}() got multiple values for argument '{kw.name}'")
            slots[i] = kw.value
        for kind, label in (("pos", "positional"), ("kwonly", "keyword-only")):
            missing = [p.name for p, a in zip(params, slots)
                       if p.kind == kind and a is None and p.default is None]
            if missing and not (unpacked_named and kind == "pos"):
                self.error(e.span, missing_arguments(what, missing, label))
        for p, a in zip(params, slots):
            if p.kind == "vararg":
                self.check_vararg_items(a, p, what)
                continue
            if p.kind == "kwarg":
                vt = resolve(p.ty).value
                for kw in a:
                    t = self.expr(kw.value, vt)
                    if not assignable(vt, t):
                        self.error(kw.value.span, f"keyword argument '{kw.name}' of {what}() goes to "
                                                  f"**{p.name} and must be {vt}, got {t}")
                continue
            if a is None:
                continue
            t = self.expr(a, p.ty)
            if not assignable(p.ty, t):
                self.error(a.span, f"argument '{p.name}' of {what}() must be {p.ty}, got {t}")
        e.bound_args = slots
        return slots

    def spread_known_lengths(self, args: List[ir.Expr]) -> List[ir.Expr]:
        """*[a, b], *(a, b) and *t for a local t of a fixed-length tuple type are
        their items, one argument each (so they may fill named parameters)."""
        out: List[ir.Expr] = []
        for a in args:
            v = a.value if isinstance(a, ir.Starred) else None
            if isinstance(v, (ir.ListLit, ir.TupleLit)):
                out.extend(v.elts)
                continue
            if isinstance(v, ir.Name) and self.scope.lookup(v.id) is not None:
                t = resolve(self.scope.lookup(v.id))
                if isinstance(t, TupleType) and v.id not in self.narrowed:
                    out.extend(ir.Subscript(v.span, ir.Name(v.span, v.id), ir.Const(v.span, i))
                               for i in range(len(t.items)))
                    continue
            out.append(a)
        return out

    def check_vararg_items(self, items: List[ir.Expr], p: ir.Param, what: str):
        et = resolve(p.ty).elem
        for a in items:
            if isinstance(a, ir.Starred):
                t = self.value(a.value, "argument after * must be an iterable, not NoneType")
                it = elem_type(t)
                if it is None:
                    self.error(a.value.span, f"{what}() argument after * must be an iterable, not {t}")
                elif not assignable(et, it):
                    self.error(a.value.span, f"*{p.name} of {what}() takes {et} items, got {t}")
                a.ty = t
                continue
            t = self.expr(a, et)
            if not assignable(et, t):
                self.error(a.span, f"argument of *{p.name} of {what}() must be {et}, got {t}")

    def call_function(self, e: ir.Call, fn: ir.Function) -> Type:
        self.bind_args(e, fn.params, fn.name)
        e.resolved = ("func", fn)
        return fn.returns

    def call_on_class(self, e: ir.Call, c: ir.ClassDef, f: ir.Attribute) -> Type:
        """C.m(...) or cls.m(...): a static or class method of c."""
        sm = ir.find_static(c, f.attr)
        if sm is not None:
            return self.call_static(e, c, sm)
        if ir.find_method(c, f.attr) is not None:
            self.error(f.span, f"calling the method {c.name}.{f.attr}() through the class is not supported",
                       f"call it on an instance: obj.{f.attr}(...)")
        elif ir.find_const(c, f.attr) is not None:
            self.error(f.span, f"'{c.name}.{f.attr}' is a class constant and cannot be called")
        else:
            self.error(f.span, f"type object '{c.name}' has no attribute '{f.attr}'")
        for a in e.args:
            self.expr(a.value if isinstance(a, ir.Starred) else a)
        for kw in e.keywords:
            self.expr(kw.value)
        return ERROR

    def call_static(self, e: ir.Call, c: ir.ClassDef, m: ir.Function, via_instance: bool = False) -> Type:
        """A static or class method called on class c (cls is c), or on an
        instance (the instance's class decides, at run time)."""
        self.bind_args(e, m.params, m.qualname, 1 if m.decorator == "classmethod" else 0)
        e.resolved = ("staticvirt" if via_instance else "static", c, m)
        return m.returns

    def call_super(self, e: ir.Call, f: ir.Attribute) -> Type:
        """super().m(...) calls the base class's m on self."""
        c = self.cls
        if c is None or self.func is None or not self.func.is_method:
            self.error(f.value.span, "super() is only supported in methods")
            return ERROR
        if c.base is None or c.base.info is None:
            self.error(f.value.span, f"{c.name} has no base class for super() to call")
            return ERROR
        m = ir.find_method(c.base.info, f.attr)
        if m is None:
            if f.attr == "__init__":  # object.__init__(): nothing to do
                e.resolved = ("noop",)
                return NONE
            self.error(f.span, f"'{c.base.name}' has no method '{f.attr}'")
            return ERROR
        self.bind_args(e, m.params[1:], f"{c.base.name}.{f.attr}", 1)
        e.resolved = ("super", ir.method_owner(c.base.info, f.attr), m)
        return m.returns

    def call_constructor(self, e: ir.Call, c: ir.ClassDef) -> Type:
        init = ir.find_method(c, "__init__")
        params = init.params[1:] if init else []
        self.bind_args(e, params, c.name, 1)
        e.resolved = ("new", c)
        return ClassType(c.name, c)

    def args_types(self, e: ir.Call, expected=None) -> List[Type]:
        if isinstance(e.func, ir.Name) and e.func.id == "open":
            for kw in e.keywords:
                if kw.name != "encoding" or not (isinstance(kw.value, ir.Const) and
                                                 str(kw.value.value).lower().replace("_", "-") in ("utf-8", "utf8")):
                    self.error(kw.span, "open() in compiled code takes a path, a mode and encoding='utf-8'")
            e.keywords = []
            return [self.expr(a) for a in e.args]
        name = e.func.id if isinstance(e.func, ir.Name) else ""
        unknown = self.take_builtin_keywords(e, name)
        if unknown:
            self.error(unknown[0].span, f"{name}() got an unexpected keyword argument '{unknown[0].name}'")
        return [self.expr(a) for a in e.args]

    def call_builtin(self, e: ir.Call, name: str, expected) -> Type:
        e.resolved = ("builtin", name)
        n = len(e.args)
        if name == "zip" and n == 1 and isinstance(e.args[0], ir.Starred) and not e.keywords:
            return self.zip_star(e)
        if name == "print":
            for a in e.args:
                self.expr(a)
            for kw in e.keywords:
                if kw.name == "flush":
                    self.expr(kw.value)
                elif kw.name not in ("sep", "end"):
                    self.error(kw.span, f"print() keyword '{kw.name}' is not supported")
                elif resolve(self.expr(kw.value)) not in (STR, NONE):
                    self.error(kw.span, f"{kw.name} must be None or a string, not {kw.value.ty}")
            return NONE
        if name == "isinstance":  # the second argument names types, it is not evaluated
            return self.check_isinstance(e, [resolve(self.expr(a)) for a in e.args[:1]])
        ts = self.args_types(e)
        rs = [resolve(t) for t in ts]
        n = len(e.args)

        def need(k: int, lo: Optional[int] = None):
            lo = k if lo is None else lo
            if not lo <= n <= k:
                exp = str(k) if lo == k else f"{lo} to {k}"
                self.error(e.span, f"{name}() takes {exp} argument{'s' if k != 1 else ''}, got {n}")
                return False
            return True

        if name == "len":
            if need(1) and kind_of(rs[0]) not in ("str", "bytes", "list", "dict", "set", "tuple") \
                    and rs[0] != RANGE:
                self.error(e.args[0].span, f"object of type '{rs[0]}' has no len()")
            return INT
        if name == "range":
            if need(3, 1):
                for a, t in zip(e.args, rs):
                    if t not in (INT, BOOL):
                        self.error(a.span, f"range() arguments must be int, got {t}")
            return RANGE
        if name in ("min", "max"):
            if n == 0:
                self.error(e.span, f"{name}() expects at least one argument")
                return ERROR
            if n == 1:
                et = elem_type(rs[0])
                if et is None:
                    self.error(e.args[0].span, f"'{rs[0]}' is not iterable")
                    return ERROR
                if rs[0] == modules.NDARRAY:
                    return self.nd_unordered(e, name)
                self.check_key_kw(e, et)
                return self.check_min_max_default(e, name, et)
            if getattr(e, "kwonly", {}).get("key") is not None:
                self.error(e.kwonly["key"].span, f"{name}(a, b, key=...) is not supported; "
                                                 f"use {name}([a, b], key=...)")
            self.check_min_max_default(e, name, ANY)
            if all(is_numeric(t) for t in rs):
                return FLOAT if FLOAT in rs else (INT if INT in rs else BOOL)
            first = rs[0]
            for a, t in zip(e.args[1:], rs[1:]):
                if not unify(first, t):
                    self.error(a.span, f"{name}() arguments must share a type: {first} and {t}")
            return first
        if name == "abs":
            if need(1) and rs[0] not in (INT, FLOAT, BOOL):
                self.error(e.args[0].span, f"bad operand type for abs(): '{rs[0]}'")
            return FLOAT if rs and rs[0] == FLOAT else INT
        if name == "int":
            if n == 0:
                return INT
            if need(2, 1):
                if rs[0] not in (INT, FLOAT, BOOL, STR, BYTES):
                    self.error(e.args[0].span, f"int() argument must be a string or a number, not '{rs[0]}'")
                if n == 2 and (rs[0] != STR or rs[1] not in (INT, BOOL)):
                    self.error(e.span, "int(x, base) needs a str and an int")
            return INT
        if name == "float":
            if n == 0:
                return FLOAT
            if need(1) and rs[0] not in (INT, FLOAT, BOOL, STR):
                self.error(e.args[0].span, f"float() argument must be a string or a number, not '{rs[0]}'")
            return FLOAT
        if name == "str":
            if n == 0:
                return STR
            need(1)
            return STR
        if name == "repr":
            need(1)
            return STR
        if name == "bool":
            if n:
                need(1)
            return BOOL
        if name == "ord":
            if need(1) and rs[0] != STR:
                self.error(e.args[0].span, f"ord() expected a str, got {rs[0]}")
            return INT
        if name == "chr":
            if need(1) and rs[0] not in (INT, BOOL):
                self.error(e.args[0].span, f"chr() expected an int, got {rs[0]}")
            return STR
        if name == "list":
            if n == 0:
                ex = resolve(expected) if expected is not None else None
                return ex if isinstance(ex, ListType) else ListType(fresh())
            if need(1):
                et = elem_type(rs[0])
                if et is None:
                    self.error(e.args[0].span, f"'{rs[0]}' object is not iterable")
                    return ListType(ANY)
                return ListType(et)
            return ListType(ANY)
        if name == "set":
            if n == 0:
                ex = resolve(expected) if expected is not None else None
                return ex if isinstance(ex, SetType) else SetType(fresh())
            if need(1):
                et = elem_type(rs[0])
                if et is None:
                    self.error(e.args[0].span, f"'{rs[0]}' object is not iterable")
                    return SetType(ANY)
                return SetType(et)
            return SetType(ANY)
        if name == "dict":
            if n == 0:
                ex = resolve(expected) if expected is not None else None
                return ex if isinstance(ex, DictType) else DictType(fresh(), fresh())
            if need(1) and isinstance(rs[0], DictType):
                return rs[0]
            pair = resolve(elem_type(rs[0]) or ANY) if n == 1 else None
            if isinstance(pair, TupleType) and len(pair.items) == 2:
                if not is_hashable(pair.items[0]):
                    self.error(e.args[0].span, f"unhashable type: '{pair.items[0]}'")
                return DictType(pair.items[0], pair.items[1])
            self.error(e.span, "dict() takes no argument or a dict here")
            return DictType(ANY, ANY)
        if name == "sorted":
            self.check_reverse_kw(e, elem_type(rs[0]) if rs else None)
            if need(1):
                et = elem_type(rs[0])
                if et is None:
                    self.error(e.args[0].span, f"'{rs[0]}' object is not iterable")
                    return ListType(ANY)
                if rs[0] == modules.NDARRAY:
                    return self.nd_unordered(e, name)
                return ListType(et)
            return ListType(ANY)
        if name == "open":
            if need(2, 1):
                if rs[0] != STR:
                    self.error(e.args[0].span, f"open() needs a str path, got {rs[0]}")
                if n == 2 and rs[1] != STR:
                    self.error(e.args[1].span, "open() mode must be a str")
            return FILE
        if name == "sum":
            return self.check_sum(e, rs, need)
        if name == "format":
            if need(2, 1) and n == 2 and rs[1] != STR:
                self.error(e.args[1].span, f"format() argument 2 must be str, not {rs[1]}")
            return STR
        if name == "iter":
            if not need(1):
                return ERROR
            if isinstance(rs[0], GenType):
                return rs[0]
            et = elem_type(rs[0])
            if et is None:
                self.error(e.args[0].span, f"'{rs[0]}' object is not iterable")
                return ERROR
            return GenType(et)  # an iterator over the items
        if name == "next":
            if not need(2, 1):
                return ERROR
            if not isinstance(rs[0], GenType):
                self.error(e.args[0].span, f"'{rs[0]}' object is not an iterator",
                           "call iter() on it first, or use a generator")
                return ERROR
            if n == 2 and not assignable(rs[0].elem, rs[1]):
                self.error(e.args[1].span, f"next() default must be {rs[0].elem}, got {rs[1]}")
            return rs[0].elem
        more = self.call_builtin_more(e, name, rs, need, expected)
        if more is not None:
            return more
        self.error(e.span, f"{name}() is not supported yet")
        return ERROR

    def call_method(self, e: ir.Call, ot: Type, name: str, expected) -> Type:
        if is_error(ot):
            for a in e.args:
                self.expr(a)
            return ERROR
        k = kind_of(ot)
        rt = resolve(ot)
        if isinstance(rt, AnyType):  # x.name(...) dispatched on the value's type at run time
            for a in e.args:
                self.expr(a)
            if e.keywords:
                self.error(e.keywords[0].span, "keyword arguments to methods of an Any value are not supported")
            e.resolved = ("dynmethod", name)
            return ANY
        if isinstance(rt, Prim) and rt.name in modules.TYPES:
            mf = modules.TYPES[rt.name].methods.get(name)
            if mf is None:
                self.error(e.func.span, f"'{rt.name}' object has no method '{name}'")
                mf = modules.UNSUPPORTED
            return self.call_module(e, mf, receiver=e.func.value)
        m = primitives.lookup(k, name)
        if m is None:
            self.error(e.func.span, f"'{ot}' object has no method '{name}'" if k in METHOD_KINDS
                       else f"methods of {ot} are not supported")
            for a in e.args:
                self.expr(a)
            return ERROR
        lo, hi = m.arity
        if k == "list" and name == "sort":
            e.kwonly = {kw.name: kw.value for kw in e.keywords}
            for kw in e.keywords:
                if kw.name not in ("key", "reverse"):
                    self.error(kw.span, f"sort() got an unexpected keyword argument '{kw.name}'")
            self.check_reverse_kw(e, getattr(resolve(ot), "elem", None))
        elif e.keywords and not m.variadic:
            self.take_method_keywords(e, m)
        n = len(e.args)
        if not lo <= n <= hi:
            exp = str(lo) if lo == hi else f"{lo} to {hi}"
            self.error(e.span, f"{k}.{name}() takes {exp} argument{'s' if hi != 1 else ''}, got {n}")
        e.resolved = ("rtmethod", k, name)
        if m.check is not None:
            return getattr(self, m.check)(e, rt)
        return self.check_primitive(e, m, rt)

    def _arg(self, e, i, want: Type, what: str):
        if i >= len(e.args):
            return None
        t = self.expr(e.args[i], want)
        if not assignable(want, t):
            self.error(e.args[i].span, f"{what} must be {want}, got {t}")
        return t


def too_many_positional(what: str, pos: List[ir.Param], given: int, kwonly_given: int, offset: int) -> str:
    """CPython's message for too many positional arguments (ceval.c)."""
    takes = len(pos) + offset
    least = sum(1 for p in pos if p.default is None) + offset
    sig = f"from {least} to {takes}" if least < takes else str(takes)
    plural = "s" if least < takes or takes != 1 else ""
    given += offset
    kw = ""
    if kwonly_given:
        kw = (f" positional argument{'s' if given != 1 else ''} (and {kwonly_given} keyword-only "
              f"argument{'s' if kwonly_given != 1 else ''})")
    was = "was" if given == 1 and not kwonly_given else "were"
    return f"{what}() takes {sig} positional argument{plural} but {given}{kw} {was} given"


def missing_arguments(what: str, names: List[str], label: str) -> str:
    """CPython's message for missing arguments: "f() missing 2 required positional
    arguments: 'a' and 'b'"."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = f"{quoted[0]} and {quoted[1]}"
    else:
        listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    return (f"{what}() missing {len(names)} required {label} argument{'s' if len(names) != 1 else ''}: "
            f"{listed}")


def const_int(e: ir.Expr) -> Optional[int]:
    if isinstance(e, ir.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, ir.UnaryOp) and e.op == "-" and isinstance(e.operand, ir.Const) and \
            isinstance(e.operand.value, int):
        return -e.operand.value
    return None


MAGIC_BINOPS = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__",
                "//": "__floordiv__", "%": "__mod__", "**": "__pow__", "<<": "__lshift__",
                ">>": "__rshift__", "&": "__and__", "|": "__or__", "^": "__xor__"}
# op -> (method, the right operand's reflected method)
MAGIC_COMPARE = {"<": ("__lt__", "__gt__"), "<=": ("__le__", "__ge__"), ">": ("__gt__", "__lt__"),
                 ">=": ("__ge__", "__le__"), "==": ("__eq__", "__eq__"), "!=": ("__ne__", "__ne__")}
MAGIC_BUILTINS = {"len": "__len__", "hash": "__hash__"}


def _is_super(e: ir.Expr) -> bool:
    return isinstance(e, ir.Call) and isinstance(e.func, ir.Name) and e.func.id == "super" and \
        len(e.args) in (0, 2) and not e.keywords


def base_first(classes: List[ir.ClassDef]) -> List[ir.ClassDef]:
    """Classes ordered so that each base comes before its subclasses."""
    out, seen = [], set()

    def visit(c):
        if id(c) in seen:
            return
        seen.add(id(c))
        if c.base is not None and c.base.info is not None and c.base.info in classes:
            visit(c.base.info)
        out.append(c)

    for c in classes:
        visit(c)
    return out


def _is_none_const(e: ir.Expr) -> bool:
    return (isinstance(e, ir.Const) and e.value is None) or (isinstance(e, ir.Name) and e.id == "None")


def assigned_names(st: ir.Stmt) -> set:
    if isinstance(st, ir.Assign):
        return set().union(*(flow._names(t) for t in st.targets))
    if isinstance(st, (ir.AugAssign, ir.For)):
        return flow._names(st.target)
    if isinstance(st, ir.FuncDef):
        return {st.func.name}
    return set()


def ir_text(e: ir.Expr) -> str:
    if isinstance(e, ir.Name):
        return e.id
    if isinstance(e, ir.Attribute):
        return f"{ir_text(e.value)}.{e.attr}"
    return "this value"


def closures_in(f: ir.Function):
    """(node, free names) for each lambda and nested function directly in f."""
    out = []

    def visit(node):
        if isinstance(node, list):
            for x in node:
                visit(x)
            return
        if isinstance(node, ir.FuncDef):
            out.append((node, flow.free_names(node.func)))
            return
        if isinstance(node, ir.Lambda):
            fake = ir.Function(node.span, "<lambda>", "<lambda>", node.params, None,
                               [ir.Return(node.span, node.body)])
            out.append((node, flow.free_names(fake)))
            return
        if isinstance(node, ir.Node):
            for v in ir.child_nodes(node):
                visit(v)

    visit(f.body)
    return out


def short_repr(v, limit: int = 80) -> str:
    """repr(v) cut to a message's length (a module constant may hold 100,000 items)."""
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxtuple, r.maxdict, r.maxset = limit, limit, 6, 6, 4, 6
    return r.repr(v)


def ir_walk(stmts):
    for s in stmts:
        yield s
        for attr in ("body", "orelse", "finalbody"):
            sub = getattr(s, attr, None)
            if isinstance(sub, list):
                yield from ir_walk(sub)
        for h in getattr(s, "handlers", None) or ():
            yield from ir_walk(h.body)


def always_returns(stmts: List[ir.Stmt]) -> bool:
    for s in stmts:
        if isinstance(s, (ir.Return, ir.Raise)):
            return True
        if isinstance(s, ir.If) and always_returns(s.body) and always_returns(s.orelse):
            return True
        if isinstance(s, ir.While) and isinstance(s.test, ir.Const) and s.test.value is True and \
                not any(isinstance(x, ir.Break) for x in _loop_level(s.body)):
            return True
        if isinstance(s, ir.Try):
            if always_returns(s.finalbody):
                return True
            if (always_returns(s.body) or always_returns(s.orelse)) and \
                    all(always_returns(h.body) for h in s.handlers):
                return True
    return False


def _loop_level(stmts):
    """Statements of a loop body, not descending into nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, ir.If):
            yield from _loop_level(s.body)
            yield from _loop_level(s.orelse)
        if isinstance(s, ir.Try):
            for part in [s.body, s.orelse, s.finalbody] + [h.body for h in s.handlers]:
                yield from _loop_level(part)
