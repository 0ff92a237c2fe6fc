"""Front end: lowers the Python AST of the collected sources (sources.py) to our
IR (ir.py) with source spans, reporting unsupported syntax."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from . import ir
from .diagnostics import DiagnosticSink, Span
from .sources import (Collector, Source, SourceUnavailable, get_source, is_constant,  # noqa: F401
                      program_key, unwrap)
from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, ClassType, DictType, FuncType,
                    GenType, ListType, SetType, TupleType, Type, VarTupleType, optional)
from .modules import NDARRAY  # the opaque array type (runtime/include/matx_nb/ndarray.h)

# ---- annotations --------------------------------------------------------------

_PRIMS = {"int": INT, "float": FLOAT, "bool": BOOL, "str": STR, "bytes": BYTES, "None": NONE,
          "NoneType": NONE, "Any": ANY, "object": ANY,
          "NDArray": NDARRAY}
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
                return VarTupleType(parse_annotation(args[0], classes))
            if len(args) == 1 and isinstance(args[0], ast.Tuple) and not args[0].elts:
                return TupleType(())
            return TupleType(tuple(parse_annotation(a, classes) for a in args))
        if name in ("Iterator", "Iterable", "Generator") and args:
            return GenType(parse_annotation(args[0], classes))
        if name == "Optional" and len(args) == 1:
            return optional(parse_annotation(args[0], classes))
        if name == "Union":
            return _union(node, [parse_annotation(a, classes) for a in args])
        if name == "Callable" and len(args) == 2 and isinstance(args[0], ast.List):
            return FuncType(tuple(parse_annotation(a, classes) for a in args[0].elts),
                            parse_annotation(args[1], classes))
        raise AnnotationError(node, f"unsupported annotation '{ast.unparse(node)}'")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union(node, [parse_annotation(node.left, classes), parse_annotation(node.right, classes)])
    raise AnnotationError(node, f"unsupported annotation '{ast.unparse(node)}'")


def _union(node, types: List[Type]) -> Type:
    """Union[T, None] is Optional[T]; other unions are not supported."""
    rest = [t for t in types if t != NONE]
    if len(rest) == 1:
        return optional(rest[0]) if len(rest) < len(types) else rest[0]
    raise AnnotationError(node, f"union types other than Optional are not supported: "
                                f"'{ast.unparse(node)}'", "use Any for values of several types")


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
        self.depth = 0
        self.qualname = src.name

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
    def function(self, node: ast.FunctionDef, qualname: str, is_method: bool = False,
                 nested: bool = False) -> ir.Function:
        if isinstance(node, ast.AsyncFunctionDef):
            self.error(node, "async functions are not supported")
        a = node.args
        if a.posonlyargs:
            self.error(a.posonlyargs[0], "positional-only parameters (before '/') are not supported yet",
                       "remove the '/'")
        params = []
        first_default = len(a.args) - len(a.defaults)
        for i, p in enumerate(a.args):
            if is_method and i == 0:
                params.append(ir.Param(self.src.span(p), p.arg, None))
                continue
            d = a.defaults[i - first_default] if i >= first_default else None
            params.append(self.param(p, d, "pos"))
        if a.vararg is not None and not nested:
            v = self.param(a.vararg, None, "vararg")
            v.ty = VarTupleType(v.ty)  # *args: T collects a Tuple[T, ...]
            params.append(v)
        if nested and (a.kwonlyargs or a.vararg or a.kwarg):
            self.error(a.vararg or (a.kwonlyargs[0] if a.kwonlyargs else a.kwarg),
                       "*args, **kwargs and keyword-only parameters of nested functions are not supported",
                       "define the function at module level")
        for p, d in zip(a.kwonlyargs if not nested else (), a.kw_defaults):
            params.append(self.param(p, d, "kwonly"))
        if a.kwarg is not None and not nested:
            k = self.param(a.kwarg, None, "kwarg")
            k.ty = DictType(STR, k.ty)  # **kwargs: T collects a Dict[str, T]
            params.append(k)
        returns = self.annotation(node.returns) if node.returns is not None else None
        for d in node.decorator_list if nested else ():
            self.error(d, "decorators on nested functions are not supported")
        body = self.block(node.body)
        gen = _contains_yield(node)
        if gen and nested:
            self.error(node, "generators defined inside functions are not supported",
                       "define the generator at module level")
        if gen and returns is not None and not isinstance(returns, GenType):
            self.error(node.returns, f"a generator function returns an Iterator, not {returns}",
                       "annotate it as Iterator[T] (from typing)")
            returns = None
        return ir.Function(self.src.span(node), node.name, qualname, params, returns, body,
                           origin=self.origin, is_method=is_method, nested=nested, is_generator=gen)

    def param(self, p: ast.arg, d: Optional[ast.expr], kind: str) -> ir.Param:
        """A typed parameter with its default value (d, or None)."""
        # An unannotated parameter is gradually typed: Any, checked where it is used
        # as a typed value (the Annotate view marks those lines dynamic).
        ty = self.annotation(p.annotation) if p.annotation is not None else ANY
        default = None
        if d is not None:
            if isinstance(d, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
                self.error(d, "a mutable default value is shared by all calls in Python; "
                              "compiled code does not support it",
                           f"use None: '{p.arg}: Optional[...] = None' and create it in the body")
            default = self.expr(d)
        return ir.Param(self.src.span(p), p.arg, ty, default, kind)

    def classdef(self, node: ast.ClassDef) -> ir.ClassDef:
        base = None
        for b in node.bases:
            name = b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)
            if name == "object":
                continue
            if name in self.classes and name != node.name and base is None:
                base = self.classes[name]
            elif base is not None:
                self.error(b, "a compiled class has at most one base class")
            else:
                self.error(b, f"a compiled class can derive only from another compiled class, not "
                              f"'{ast.unparse(b)}'", "compile the base class too (define it with its source)")
        if node.keywords:
            self.error(node.keywords[0], "class keywords (metaclass=...) are not supported")
        attrs: Dict[str, Type] = {}
        spans: Dict[str, Span] = {}
        methods: Dict[str, ir.Function] = {}
        consts: Dict[str, object] = {}
        statics: Dict[str, ir.Function] = {}
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = self.method_kind(item)
                if kind is None:
                    continue
                if kind == "staticmethod":
                    fn = self.function(item, f"{node.name}.{item.name}")
                    fn.decorator = kind
                    statics[item.name] = fn
                    methods.pop(item.name, None)
                elif kind == "classmethod":
                    statics[item.name] = self.classmethod(item, f"{node.name}.{item.name}")
                    methods.pop(item.name, None)
                else:
                    methods[item.name] = self.function(item, f"{node.name}.{item.name}", is_method=True)
                    statics.pop(item.name, None)
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                if item.value is not None:  # X: int = 3 — a class constant
                    self.class_const(item.target.id, item.value, consts)
                    continue
                attrs[item.target.id] = self.annotation(item.annotation)
                spans[item.target.id] = self.src.span(item.target)
            elif isinstance(item, ast.Assign) and len(item.targets) == 1 and \
                    isinstance(item.targets[0], ast.Name):
                self.class_const(item.targets[0].id, item.value, consts)
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
        return ir.ClassDef(self.src.span(node), node.name, attrs, spans, methods, origin=self.origin,
                           base=base, consts=consts, statics=statics)

    def method_kind(self, item: ast.FunctionDef) -> Optional[str]:
        """"staticmethod", "classmethod", "method", or None (reported: not compiled)."""
        kind = "method"
        for d in item.decorator_list:
            if isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") and kind == "method":
                kind = d.id
            else:
                self.error(d, "decorators on methods other than @staticmethod and @classmethod are "
                              "not supported yet")
        if kind != "staticmethod" and not item.args.args:
            what = "'cls'" if kind == "classmethod" else "'self'"
            self.error(item, f"a {'class method' if kind == 'classmethod' else 'method'} needs {what} "
                             "as its first parameter", "" if kind == "classmethod" else
                       "mark it @staticmethod if it takes no instance")
            return None
        return kind

    def classmethod(self, item: ast.FunctionDef, qualname: str) -> ir.Function:
        """A @classmethod: its first parameter (cls) is left out of params."""
        fn = self.function(item, qualname, is_method=True)
        fn.cls_name = fn.params.pop(0).name
        fn.is_method = False
        fn.decorator = "classmethod"
        return fn

    def class_const(self, name: str, value: ast.expr, consts: Dict[str, object]):
        try:
            v = ast.literal_eval(value)
        except ValueError:
            self.error(value, "a class-level value must be a constant (a number, a string, or a "
                              "tuple of them)", "assign other values in __init__: self.x = ...")
            return
        if not is_constant(v) or isinstance(v, (list, dict, set)):
            self.error(value, "class-level lists, dicts and sets are shared by all instances in "
                              "Python; compiled code does not support them",
                       "create it in __init__: self.x = [...]")
            return
        consts[name] = v

    # -- statements
    def block(self, stmts) -> List[ir.Stmt]:
        out = []
        for s in stmts:
            r = self.stmt(s)
            if isinstance(r, list):  # a statement lowered to several (with)
                out.extend(r)
            elif r is not None:
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
        if isinstance(s.value, (ast.Yield, ast.YieldFrom)):
            v = s.value.value
            return ir.Yield(self.src.span(s), self.expr(v) if v is not None else None,
                            isinstance(s.value, ast.YieldFrom))
        return ir.ExprStmt(self.src.span(s), self.expr(s.value))

    def stmt_Assign(self, s):
        if len(s.targets) == 1 and isinstance(s.targets[0], (ast.Tuple, ast.List)):
            stars = [e for e in s.targets[0].elts if isinstance(e, ast.Starred)]
            if len(stars) == 1:
                return self.star_assign(s, s.targets[0])
        targets = [self.target(t) for t in s.targets]
        return ir.Assign(self.src.span(s), targets, self.expr(s.value))

    def star_assign(self, s, t):
        """`a, *rest, z = value` as the statements Python performs: the value once,
        at least len(targets) - 1 items (else ValueError), `rest` always a list."""
        i = next(j for j, e in enumerate(t.elts) if isinstance(e, ast.Starred))
        before, star, after = t.elts[:i], t.elts[i].value, t.elts[i + 1:]
        k = len(before) + len(after)
        self._fresh = getattr(self, "_fresh", 0) + 1
        tmp = f"_mxstar{self._fresh}"

        def name(ctx=None):
            return ast.Name(id=tmp, ctx=ctx or ast.Load())

        def length():
            return ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[name()], keywords=[])

        def from_end(m):
            return ast.BinOp(left=length(), op=ast.Sub(), right=ast.Constant(m))

        msg = ast.BinOp(
            left=ast.BinOp(left=ast.Constant(f"not enough values to unpack (expected at least {k}, got "),
                           op=ast.Add(),
                           right=ast.Call(func=ast.Name(id="str", ctx=ast.Load()), args=[length()], keywords=[])),
            op=ast.Add(), right=ast.Constant(")"))
        stmts = [
            ast.Assign(targets=[name(ast.Store())], value=s.value),
            ast.If(test=ast.Compare(left=length(), ops=[ast.Lt()], comparators=[ast.Constant(k)]),
                   body=[ast.Raise(exc=ast.Call(func=ast.Name(id="ValueError", ctx=ast.Load()), args=[msg],
                                                keywords=[]), cause=None)],
                   orelse=[]),
        ]
        for j, e in enumerate(before):
            stmts.append(ast.Assign(targets=[e], value=ast.Subscript(value=name(), slice=ast.Constant(j),
                                                                     ctx=ast.Load())))
        rest = ast.Subscript(value=name(), slice=ast.Slice(lower=ast.Constant(len(before)),
                                                           upper=from_end(len(after)) if after else None),
                             ctx=ast.Load())
        stmts.append(ast.Assign(targets=[star], value=ast.Call(func=ast.Name(id="list", ctx=ast.Load()),
                                                               args=[rest], keywords=[])))
        for j, e in enumerate(after):
            stmts.append(ast.Assign(targets=[e], value=ast.Subscript(value=name(), slice=from_end(len(after) - j),
                                                                     ctx=ast.Load())))
        for st in stmts:  # the new nodes point at the user's statement
            _locate(st, s)
        return self.block(stmts)

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
        self.depth += 1
        try:
            f = self.function(s, f"{self.qualname}.<locals>.{s.name}", nested=True)
        finally:
            self.depth -= 1
        return ir.FuncDef(self.src.span(s), f)

    def stmt_Delete(self, s):
        return ir.Delete(self.src.span(s), [self.target(t) for t in s.targets])

    def stmt_With(self, s):
        """`with open(...) as f: body` is `f = open(...)` then body, closing f
        however the body ends (a try/finally)."""
        items = s.items
        ok = len(items) == 1 and isinstance(items[0].context_expr, ast.Call) and \
            isinstance(items[0].context_expr.func, ast.Name) and items[0].context_expr.func.id == "open" and \
            isinstance(items[0].optional_vars, ast.Name)
        if not ok:
            self.error(s, "'with' is supported for 'with open(...) as f:' only",
                       "call the object's methods explicitly, in a try/finally")
            return None
        span = self.src.span(s)
        name = items[0].optional_vars.id
        opened = ir.Assign(span, [ir.Name(self.src.span(items[0].optional_vars), name)],
                           self.expr(items[0].context_expr))
        close = ir.ExprStmt(span, ir.Call(span, ir.Attribute(span, ir.Name(span, name), "close"), [], []))
        return [opened, ir.Try(span, self.block(s.body), [], [], [close])]

    def stmt_Import(self, s):
        """The names an import inside a function binds resolve like the module's
        own imports (sources.py); a module compiled code has no version of is an
        error here, at the import."""
        from . import modules
        names = [a.name for a in s.names] if isinstance(s, ast.Import) else [s.module or ""]
        for n in names:
            root = n.split(".")[0]
            if n not in modules.MODULES and root not in ("typing", "matx_nb", "math", "collections"):
                self.error(s, f"import of module '{n}': the module is not supported in compiled code",
                           "supported: " + ", ".join(sorted(modules.MODULES)))
        return None

    stmt_ImportFrom = stmt_Import

    def stmt_Global(self, s):
        self.error(s, "'global' is not supported: compiled code reads module constants by value",
                   "pass the value as an argument or keep state in a class instance")

    def stmt_Nonlocal(self, s):
        self.error(s, "'nonlocal' is not supported: closures capture by value",
                   "keep the state in a list or a class instance")

    def stmt_ClassDef(self, s):
        self.error(s, "nested classes are not supported", "define it at module level")

    def stmt_Try(self, s):
        handlers = []
        for h in s.handlers:
            types = []
            nodes = h.type.elts if isinstance(h.type, ast.Tuple) else ([h.type] if h.type else [])
            for t in nodes:
                if isinstance(t, ast.Name):
                    types.append(t.id)
                elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                    types.append(f"{t.value.id}.{t.attr}")
                else:
                    self.error(t, "an except clause names exception classes")
            handlers.append(ir.Handler(self.src.span(h), types, h.name, self.block(h.body)))
        for node in _finally_jumps(s.finalbody):
            self.error(node, f"'{type(node).__name__.lower()}' inside 'finally' is not supported")
        return ir.Try(self.src.span(s), self.block(s.body), handlers, self.block(s.orelse),
                      self.block(s.finalbody))

    stmt_TryStar = None

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
        if isinstance(e.func, ast.Name) and e.func.id in ("map", "filter") and not e.keywords and \
                len(e.args) >= 2 and not any(isinstance(a, ast.Starred) for a in e.args):
            return self.map_filter(e)
        args = []
        for a in e.args:
            if isinstance(a, ast.Starred):
                args.append(ir.Starred(self.src.span(a), self.expr(a.value)))
                continue
            args.append(self.expr(a))
        kws = []
        for k in e.keywords:
            if k.arg == "key" and isinstance(k.value, ast.Attribute):
                k = ast.keyword(arg="key", value=self.method_ref(k.value))
                ast.copy_location(k, e)
            if k.arg is None:
                self.error(k, f"**{ast.unparse(k.value)} in calls is not supported yet",
                           "pass the keyword arguments one by one")
                continue
            kws.append(ir.Keyword(self.src.span(k), k.arg, self.expr(k.value)))
        return ir.Call(self.src.span(e), self.expr(e.func), args, kws)

    def method_ref(self, node: ast.Attribute) -> ast.expr:
        """A method or module function passed as a one-argument function
        (`key=d.get`, `key=str.lower`, `map(math.floor, xs)`): the lambda that
        calls it, `lambda v: d.get(v)` / `lambda v: v.lower()`."""
        v = "_mxarg"
        if isinstance(node.value, ast.Name) and node.value.id in ("str", "bytes", "int", "float", "list",
                                                                  "dict", "set", "tuple"):
            body = ast.Call(func=ast.Attribute(value=ast.Name(id=v, ctx=ast.Load()), attr=node.attr,
                                               ctx=ast.Load()), args=[], keywords=[])
        else:
            body = ast.Call(func=node, args=[ast.Name(id=v, ctx=ast.Load())], keywords=[])
        lam = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=v)], vararg=None, kwonlyargs=[],
                                            kw_defaults=[], kwarg=None, defaults=[]), body=body)
        return _locate(lam, node)

    def map_filter(self, e) -> ir.Expr:
        """map(f, xs, ...) and filter(f, xs) as the generator expressions they
        equal: `(f(x) for x in xs)`, `(x for x in xs if f(x))`, with a lambda's
        body inlined (`map(lambda x: x * x, xs)` is `(x * x for x in xs)`).
        Both are lazy, like the iterators map() and filter() return."""
        span = self.src.span(e)
        fn, its = e.args[0], e.args[1:]
        if isinstance(fn, ast.Attribute) and len(its) == 1:
            fn = self.method_ref(fn)
        if e.func.id == "filter" and len(its) != 1:
            self.error(e, f"filter() takes 2 arguments ({len(e.args)} given)")
            return ir.Const(span, None)
        if isinstance(fn, ast.Lambda):
            a = fn.args
            if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults or len(a.args) != len(its):
                self.error(fn, f"this lambda must take exactly {len(its)} plain parameter"
                               f"{'s' if len(its) > 1 else ''} here")
                return ir.Const(span, None)
            names = [p.arg for p in a.args]
        else:
            self._fresh = getattr(self, "_fresh", 0) + 1
            names = [f"_mxmap{self._fresh}_{k}" for k in range(len(its))]
        vars_ = [ir.Name(span, n) for n in names]
        if len(its) == 1:
            target, source = vars_[0], self.expr(its[0])
        else:
            target = ir.TupleLit(span, vars_)
            source = ir.Call(span, ir.Name(span, "zip"), [self.expr(x) for x in its], [])
        if isinstance(fn, ast.Lambda):
            value = self.expr(fn.body)
        elif isinstance(fn, ast.Constant) and fn.value is None:
            value = None  # filter(None, xs): the true items
        else:
            value = ir.Call(span, self.expr(fn), [ir.Name(span, n) for n in names], [])
        if e.func.id == "map":
            return ir.GenExp(span, value, [ir.Comprehension(span, target, source, [])])
        cond = value if value is not None else ir.Name(span, names[0])
        return ir.GenExp(span, ir.Name(span, names[0]), [ir.Comprehension(span, target, source, [cond])])

    def expr_Attribute(self, e):
        return ir.Attribute(self.src.span(e), self.expr(e.value), e.attr)

    def index(self, s) -> ir.Expr:
        if isinstance(s, ast.Slice):
            return ir.Slice(self.src.span(s), self.expr(s.lower) if s.lower else None,
                            self.expr(s.upper) if s.upper else None,
                            self.expr(s.step) if s.step else None)
        if isinstance(s, ast.Tuple):  # a[i, lo:hi]: slices inside (NDArray)
            return ir.TupleLit(self.src.span(s), [self.index(x) for x in s.elts])
        if isinstance(s, ast.Constant) and s.value is Ellipsis:  # a[..., 0] (NDArray; the checker decides)
            return ir.Const(self.src.span(s), Ellipsis)
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
        return ir.GenExp(self.src.span(e), self.expr(e.elt), self.comprehension(e.generators))

    def expr_Yield(self, e):
        self.error(e, "'yield' is supported as a statement only", "write 'yield value' on its own line")
        return ir.Const(self.src.span(e), None)

    expr_YieldFrom = expr_Yield

    def expr_Lambda(self, e):
        a = e.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
            self.error(e, "lambda parameters with defaults, *args or **kwargs are not supported")
        params = [ir.Param(self.src.span(p), p.arg, None) for p in a.args]
        return ir.Lambda(self.src.span(e), params, self.expr(e.body))

    def expr_JoinedStr(self, e):
        parts = []
        for v in e.values:
            if isinstance(v, ast.FormattedValue):
                conv = chr(v.conversion) if v.conversion != -1 else ""
                spec = self.expr_JoinedStr(v.format_spec) if v.format_spec is not None else None
                parts.append(ir.FormatField(self.src.span(v.value), self.expr(v.value), conv, spec))
            else:
                parts.append(ir.Const(self.src.span(v), v.value))
        return ir.FString(self.src.span(e), parts)


def _locate(tree: ast.AST, at: ast.AST) -> ast.AST:
    """Gives the nodes of a tree built by the lowering (those without a position)
    the position of the user's node it stands for, for error messages."""
    for n in ast.walk(tree):
        if "lineno" in n._attributes and not hasattr(n, "lineno"):
            ast.copy_location(n, at)
    return tree


def _contains_yield(fn: ast.AST) -> bool:
    """Whether a function's own body (not nested functions or lambdas) yields."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(n))
    return False


def _finally_jumps(stmts):
    """return/break/continue leaving a finally block (not those of loops inside it)."""
    for s in stmts:
        if isinstance(s, ast.Return):
            yield s
        elif isinstance(s, (ast.Break, ast.Continue)):
            yield s
        elif isinstance(s, (ast.If, ast.With, ast.Try)):
            for attr in ("body", "orelse", "finalbody"):
                yield from _finally_jumps(getattr(s, attr, []) or [])
            for h in getattr(s, "handlers", []) or []:
                yield from _finally_jumps(h.body)
        elif isinstance(s, (ast.For, ast.While)):
            for x in ast.walk(s):
                if isinstance(x, ast.Return):
                    yield x


def _walk_stmts(stmts):
    for s in stmts:
        yield s
        for attr in ("body", "orelse", "finalbody"):
            sub = getattr(s, attr, None)
            if isinstance(sub, list):
                yield from _walk_stmts(sub)
        for h in getattr(s, "handlers", None) or ():
            yield from _walk_stmts(h.body)


def lower_program(col: Collector, sink: DiagnosticSink, entry: str) -> ir.Program:
    classes = {n: ClassType(n) for n, s in col.sources.items() if isinstance(s.tree, ast.ClassDef)}
    functions, classdefs, origins = [], [], []
    lowerers: Dict[str, Lowerer] = {}
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
        lowerers[name] = low
    for cd in classdefs:
        inherit_classmethods(cd, lowerers, col)
    return ir.Program(functions, classdefs, origins, entry)


def inherit_classmethods(cd: ir.ClassDef, lowerers, col: Collector):
    """A subclass calling an inherited classmethod gets cls = the subclass: each
    class that inherits one gets its own copy, lowered again from the source of
    the class that defines it (ir.Function.inherited_from)."""
    names = {n for k in list(ir.class_chain(cd))[1:] for n, f in k.statics.items()
             if f.decorator == "classmethod"}
    for name in sorted(names):
        if name in cd.statics or name in cd.methods:
            continue
        for k in list(ir.class_chain(cd))[1:]:
            if name in k.methods:
                break  # a plain method overrides it on the way up
            f = k.statics.get(name)
            if f is None or f.inherited_from is not None:
                continue
            if f.decorator != "classmethod":
                break
            node = [n for n in col.sources[k.name].tree.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name][-1]
            copy = lowerers[k.name].classmethod(node, f.qualname)
            copy.inherited_from = f
            cd.statics[name] = copy
            break
