"""Front end: lowers the Python AST of the collected sources (sources.py) to our
IR (ir.py) with source spans, reporting unsupported syntax."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from . import ir
from .diagnostics import DiagnosticSink, Span
from .sources import (Collector, Source, SourceUnavailable, get_source, is_constant,  # noqa: F401
                      program_key, unwrap)
from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, ClassType, DictType, ListType,
                    SetType, TupleType, Type)

# ---- annotations --------------------------------------------------------------

_PRIMS = {"int": INT, "float": FLOAT, "bool": BOOL, "str": STR, "bytes": BYTES, "None": NONE,
          "NoneType": NONE, "Any": ANY, "object": ANY}
_GENERICS = {"List": "List", "list": "List", "FTList": "List", "Dict": "Dict", "dict": "Dict",
             "FTDict": "Dict", "Set": "Set", "set": "Set", "FTSet": "Set", "Tuple": "Tuple",
             "tuple": "Tuple"}


class AnnotationError(Exception):
    def __init__(self, node, message, hint=""):
        super().__init__(message)
        self.node, self.message, self.hint = node, message, hint


def parse_annotation(node: ast.AST, classes: Dict[str, ClassType]) -> Type:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return NONE
        if isinstance(node.value, str):
            try:
                inner = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                raise AnnotationError(node, f"cannot parse the annotation {node.value!r}")
            return parse_annotation(inner, classes)
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in _PRIMS:
            return _PRIMS[name]
        if name in classes:
            return classes[name]
        if name in _GENERICS:
            g = _GENERICS[name]
            return {"List": ListType(ANY), "Dict": DictType(ANY, ANY), "Set": SetType(ANY)}.get(
                g, TupleType(()))
        raise AnnotationError(node, f"unknown type '{name}' in annotation",
                              "use int, float, bool, str, bytes, List[T], Dict[K, V], Set[T], "
                              "Tuple[...], Any or a compiled class")
    if isinstance(node, ast.Subscript):
        base = node.value
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        g = _GENERICS.get(name)
        if g == "List" and len(args) == 1:
            return ListType(parse_annotation(args[0], classes))
        if g == "Set" and len(args) == 1:
            return SetType(parse_annotation(args[0], classes))
        if g == "Dict" and len(args) == 2:
            return DictType(parse_annotation(args[0], classes), parse_annotation(args[1], classes))
        if g == "Tuple":
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                raise AnnotationError(node, "variable-length Tuple[T, ...] is not supported yet",
                                      "use List[T]")
            if len(args) == 1 and isinstance(args[0], ast.Tuple) and not args[0].elts:
                return TupleType(())
            return TupleType(tuple(parse_annotation(a, classes) for a in args))
        if name == "Optional":
            raise AnnotationError(node, "Optional[T] is not supported yet")
        raise AnnotationError(node, f"unsupported annotation '{ast.unparse(node)}'")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        raise AnnotationError(node, "union types are not supported yet")
    raise AnnotationError(node, f"unsupported annotation '{ast.unparse(node)}'")


# ---- lowering ---------------------------------------------------------------------

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
           ast.BitOr: "|", ast.BitXor: "^"}
_UNOPS = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not", ast.Invert: "~"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}


class Lowerer:
    """Turns one Source's AST into IR, reporting unsupported syntax."""

    def __init__(self, src: Source, sink: DiagnosticSink, classes: Dict[str, ClassType], origin: int):
        self.src, self.sink, self.classes, self.origin = src, sink, classes, origin

    def error(self, node, message, hint=""):
        span = self.src.span(node)
        self.sink.error(span, message, hint, self.src.line_text(span.line))

    def annotation(self, node) -> Optional[Type]:
        if node is None:
            return None
        try:
            return parse_annotation(node, self.classes)
        except AnnotationError as e:
            self.error(e.node, e.message, e.hint)
            return ANY

    # -- definitions
    def function(self, node: ast.FunctionDef, qualname: str, is_method: bool = False) -> ir.Function:
        if isinstance(node, ast.AsyncFunctionDef):
            self.error(node, "async functions are not supported")
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
            bad = a.vararg or a.kwarg or (a.kwonlyargs[0] if a.kwonlyargs else None) or \
                (a.posonlyargs[0] if a.posonlyargs else None) or a.defaults[0]
            self.error(bad, "default values, *args, **kwargs and keyword-only parameters are not "
                            "supported yet", "pass every argument explicitly")
        params = []
        for i, p in enumerate(a.args):
            if is_method and i == 0:
                params.append(ir.Param(self.src.span(p), p.arg, None))
                continue
            ty = self.annotation(p.annotation)
            if p.annotation is None:
                self.error(p, f"parameter '{p.arg}' needs a type annotation",
                           f"write e.g. '{p.arg}: int' or '{p.arg}: Any'")
                ty = ANY
            params.append(ir.Param(self.src.span(p), p.arg, ty))
        returns = self.annotation(node.returns) if node.returns is not None else None
        body = self.block(node.body)
        return ir.Function(self.src.span(node), node.name, qualname, params, returns, body,
                           origin=self.origin, is_method=is_method)

    def classdef(self, node: ast.ClassDef) -> ir.ClassDef:
        if node.bases or node.keywords:
            self.error(node.bases[0] if node.bases else node, "class inheritance is not supported yet")
        attrs: Dict[str, Type] = {}
        spans: Dict[str, Span] = {}
        methods: Dict[str, ir.Function] = {}
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if item.decorator_list:
                    self.error(item.decorator_list[0], "decorators on methods are not supported yet")
                if not item.args.args:
                    self.error(item, "a method needs 'self' as its first parameter",
                               "static and class methods are not supported yet")
                    continue
                methods[item.name] = self.function(item, f"{node.name}.{item.name}", is_method=True)
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                attrs[item.target.id] = self.annotation(item.annotation)
                spans[item.target.id] = self.src.span(item.target)
                if item.value is not None:
                    self.error(item.value, "class-level attribute values are not supported yet",
                               "assign it in __init__: self.x: T = value")
            elif isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant) and \
                    isinstance(item.value.value, str):
                continue  # docstring
            elif isinstance(item, ast.Pass):
                continue
            else:
                self.error(item, "only methods and attribute annotations are supported in a class body")
        # Attributes declared in methods: self.x: T = ... or self.x = ...
        for m in methods.values():
            for st in _walk_stmts(m.body):
                if isinstance(st, ir.Assign):
                    for t in st.targets:
                        if isinstance(t, ir.Attribute) and isinstance(t.value, ir.Name) and \
                                t.value.id == "self" and st.annotation is not None:
                            prev = attrs.get(t.attr)
                            if prev is not None and prev != st.annotation:
                                self.sink.error(t.span, f"attribute '{t.attr}' declared as {prev} "
                                                        f"and as {st.annotation}", "",
                                                self.src.line_text(t.span.line))
                            attrs.setdefault(t.attr, st.annotation)
                            spans.setdefault(t.attr, t.span)
        return ir.ClassDef(self.src.span(node), node.name, attrs, spans, methods, origin=self.origin)

    # -- statements
    def block(self, stmts) -> List[ir.Stmt]:
        out = []
        for s in stmts:
            r = self.stmt(s)
            if r is not None:
                out.append(r)
        return out

    def stmt(self, s: ast.stmt) -> Optional[ir.Stmt]:
        m = getattr(self, "stmt_" + type(s).__name__, None)
        if m is None:
            self.error(s, f"'{type(s).__name__}' statements are not supported in compiled code")
            return None
        return m(s)

    def stmt_Expr(self, s):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return None  # docstring or comment string
        return ir.ExprStmt(self.src.span(s), self.expr(s.value))

    def stmt_Assign(self, s):
        targets = [self.target(t) for t in s.targets]
        return ir.Assign(self.src.span(s), targets, self.expr(s.value))

    def stmt_AnnAssign(self, s):
        ty = self.annotation(s.annotation)
        if s.value is None:
            if isinstance(s.target, ast.Name):
                self.error(s, "a variable declaration needs a value",
                           f"write '{ast.unparse(s)} = ...'")
            return None
        return ir.Assign(self.src.span(s), [self.target(s.target)], self.expr(s.value), annotation=ty)

    def stmt_AugAssign(self, s):
        return ir.AugAssign(self.src.span(s), self.target(s.target), _BINOPS[type(s.op)],
                            self.expr(s.value))

    def stmt_Return(self, s):
        return ir.Return(self.src.span(s), self.expr(s.value) if s.value is not None else None)

    def stmt_If(self, s):
        return ir.If(self.src.span(s), self.expr(s.test), self.block(s.body), self.block(s.orelse))

    def stmt_While(self, s):
        return ir.While(self.src.span(s), self.expr(s.test), self.block(s.body), self.block(s.orelse))

    def stmt_For(self, s):
        return ir.For(self.src.span(s), self.target(s.target), self.expr(s.iter),
                      self.block(s.body), self.block(s.orelse))

    def stmt_Break(self, s):
        return ir.Break(self.src.span(s))

    def stmt_Continue(self, s):
        return ir.Continue(self.src.span(s))

    def stmt_Pass(self, s):
        return ir.Pass(self.src.span(s))

    def stmt_Raise(self, s):
        if s.cause is not None:
            self.error(s.cause, "'raise ... from ...' is not supported yet")
        return ir.Raise(self.src.span(s), self.expr(s.exc) if s.exc is not None else None)

    def stmt_Assert(self, s):
        return ir.Assert(self.src.span(s), self.expr(s.test),
                         self.expr(s.msg) if s.msg is not None else None)

    def stmt_FunctionDef(self, s):
        self.error(s, "nested functions are not supported yet", "define it at module level")

    def stmt_ClassDef(self, s):
        self.error(s, "nested classes are not supported", "define it at module level")

    def stmt_Try(self, s):
        self.error(s, "try/except is not supported yet")

    # -- targets
    def target(self, t) -> ir.Expr:
        if isinstance(t, ast.Name):
            return ir.Name(self.src.span(t), t.id)
        if isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                if isinstance(e, ast.Starred):
                    self.error(e, "starred assignment is not supported yet")
            return ir.TupleLit(self.src.span(t), [self.target(e) for e in t.elts
                                                  if not isinstance(e, ast.Starred)])
        if isinstance(t, ast.Attribute):
            return ir.Attribute(self.src.span(t), self.expr(t.value), t.attr)
        if isinstance(t, ast.Subscript):
            return ir.Subscript(self.src.span(t), self.expr(t.value), self.index(t.slice))
        self.error(t, f"cannot assign to {type(t).__name__}")
        return ir.Name(self.src.span(t), "_")

    # -- expressions
    def expr(self, e: ast.expr) -> ir.Expr:
        m = getattr(self, "expr_" + type(e).__name__, None)
        if m is None:
            self.error(e, f"'{type(e).__name__}' expressions are not supported in compiled code")
            return ir.Const(self.src.span(e), None)
        return m(e)

    def expr_Constant(self, e):
        if e.value is Ellipsis or isinstance(e.value, complex):
            self.error(e, f"the constant {e.value!r} is not supported")
        return ir.Const(self.src.span(e), e.value)

    def expr_Name(self, e):
        return ir.Name(self.src.span(e), e.id)

    def expr_BinOp(self, e):
        op = _BINOPS.get(type(e.op))
        if op is None:
            self.error(e, "the '@' operator is not supported")
            op = "+"
        return ir.BinOp(self.src.span(e), op, self.expr(e.left), self.expr(e.right))

    def expr_UnaryOp(self, e):
        return ir.UnaryOp(self.src.span(e), _UNOPS[type(e.op)], self.expr(e.operand))

    def expr_BoolOp(self, e):
        return ir.BoolOp(self.src.span(e), "and" if isinstance(e.op, ast.And) else "or",
                         [self.expr(v) for v in e.values])

    def expr_Compare(self, e):
        return ir.Compare(self.src.span(e), self.expr(e.left), [_CMPOPS[type(o)] for o in e.ops],
                          [self.expr(c) for c in e.comparators])

    def expr_IfExp(self, e):
        return ir.IfExp(self.src.span(e), self.expr(e.test), self.expr(e.body), self.expr(e.orelse))

    def expr_Call(self, e):
        args = []
        for a in e.args:
            if isinstance(a, ast.Starred):
                self.error(a, "*args in calls is not supported yet")
                continue
            args.append(self.expr(a))
        kws = []
        for k in e.keywords:
            if k.arg is None:
                self.error(k, "**kwargs in calls is not supported yet")
                continue
            kws.append(ir.Keyword(self.src.span(k), k.arg, self.expr(k.value)))
        return ir.Call(self.src.span(e), self.expr(e.func), args, kws)

    def expr_Attribute(self, e):
        return ir.Attribute(self.src.span(e), self.expr(e.value), e.attr)

    def index(self, s) -> ir.Expr:
        if isinstance(s, ast.Slice):
            return ir.Slice(self.src.span(s), self.expr(s.lower) if s.lower else None,
                            self.expr(s.upper) if s.upper else None,
                            self.expr(s.step) if s.step else None)
        return self.expr(s)

    def expr_Subscript(self, e):
        return ir.Subscript(self.src.span(e), self.expr(e.value), self.index(e.slice))

    def expr_List(self, e):
        return ir.ListLit(self.src.span(e), [self.expr(x) for x in e.elts])

    def expr_Tuple(self, e):
        return ir.TupleLit(self.src.span(e), [self.expr(x) for x in e.elts])

    def expr_Set(self, e):
        return ir.SetLit(self.src.span(e), [self.expr(x) for x in e.elts])

    def expr_Dict(self, e):
        keys = []
        for k in e.keys:
            if k is None:
                self.error(e, "'**' unpacking in dict literals is not supported yet")
                return ir.DictLit(self.src.span(e), [], [])
            keys.append(self.expr(k))
        return ir.DictLit(self.src.span(e), keys, [self.expr(v) for v in e.values])

    def comprehension(self, gens) -> List[ir.Comprehension]:
        out = []
        for g in gens:
            if g.is_async:
                self.error(g, "async comprehensions are not supported")
            out.append(ir.Comprehension(self.src.span(g.target), self.target(g.target),
                                        self.expr(g.iter), [self.expr(c) for c in g.ifs]))
        return out

    def expr_ListComp(self, e):
        return ir.ListComp(self.src.span(e), self.expr(e.elt), self.comprehension(e.generators))

    def expr_SetComp(self, e):
        return ir.SetComp(self.src.span(e), self.expr(e.elt), self.comprehension(e.generators))

    def expr_DictComp(self, e):
        return ir.DictComp(self.src.span(e), self.expr(e.key), self.expr(e.value),
                           self.comprehension(e.generators))

    def expr_GeneratorExp(self, e):
        self.error(e, "generator expressions are not supported yet", "use a list comprehension")
        return ir.ListComp(self.src.span(e), self.expr(e.elt), self.comprehension(e.generators))

    def expr_Lambda(self, e):
        self.error(e, "lambda is not supported yet")
        return ir.Const(self.src.span(e), None)

    def expr_JoinedStr(self, e):
        self.error(e, "f-strings are not supported yet", "use str() and +")
        return ir.Const(self.src.span(e), "")


def _walk_stmts(stmts):
    for s in stmts:
        yield s
        for attr in ("body", "orelse"):
            sub = getattr(s, attr, None)
            if isinstance(sub, list):
                yield from _walk_stmts(sub)


def lower_program(col: Collector, sink: DiagnosticSink, entry: str) -> ir.Program:
    classes = {n: ClassType(n) for n, s in col.sources.items() if isinstance(s.tree, ast.ClassDef)}
    functions, classdefs, origins = [], [], []
    for i, name in enumerate(col.order):
        src = col.sources[name]
        origins.append((src.file, src.first_line, name))
        low = Lowerer(src, sink, classes, i)
        if isinstance(src.tree, ast.ClassDef):
            cd = low.classdef(src.tree)
            classes[name].info = cd
            classdefs.append(cd)
        elif isinstance(src.tree, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(low.function(src.tree, name))
        else:
            low.error(src.tree, "only functions and classes can be compiled")
    return ir.Program(functions, classdefs, origins, entry)
