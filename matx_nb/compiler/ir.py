"""The typed IR: small plain data classes built by the front end.

Every node carries the Span of the Python code it came from. The type checker
fills `ty` on expressions and `resolved` on names, calls and attributes; the
code generator reads only this IR, never the Python AST.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any as _Any, Dict, List, Optional, Tuple

from .diagnostics import Span
from .types import Type


@dataclass(eq=False)
class Node:
    span: Span


# ---- expressions ---------------------------------------------------------------

@dataclass(eq=False)
class Expr(Node):
    ty: Optional[Type] = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class Const(Expr):
    value: _Any


@dataclass(eq=False)
class Name(Expr):
    id: str
    # filled by the checker: ("local", sym) | ("func", FuncInfo) | ("class", ClassInfo)
    # | ("const", value) | ("builtin", name) | ("module", name)
    resolved: _Any = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class BinOp(Expr):
    op: str  # + - * / // % ** << >> & | ^
    left: Expr
    right: Expr


@dataclass(eq=False)
class UnaryOp(Expr):
    op: str  # - + not ~
    operand: Expr


@dataclass(eq=False)
class BoolOp(Expr):
    op: str  # and / or
    values: List[Expr]


@dataclass(eq=False)
class Compare(Expr):
    left: Expr
    ops: List[str]  # == != < <= > >= in "not in" is "is not"
    comparators: List[Expr]


@dataclass(eq=False)
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@dataclass(eq=False)
class Starred(Expr):
    """`*xs` among a call's positional arguments."""
    value: Expr


@dataclass(eq=False)
class Keyword(Node):
    name: str
    value: Expr


@dataclass(eq=False)
class Call(Expr):
    func: Expr
    args: List[Expr]
    keywords: List[Keyword]
    # filled by the checker, read by codegen: (kind, payload)
    resolved: _Any = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class Attribute(Expr):
    value: Expr
    attr: str
    resolved: _Any = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class Subscript(Expr):
    value: Expr
    index: Expr


@dataclass(eq=False)
class Slice(Expr):
    lower: Optional[Expr]
    upper: Optional[Expr]
    step: Optional[Expr]


@dataclass(eq=False)
class ListLit(Expr):
    elts: List[Expr]


@dataclass(eq=False)
class SetLit(Expr):
    elts: List[Expr]


@dataclass(eq=False)
class TupleLit(Expr):
    elts: List[Expr]


@dataclass(eq=False)
class DictLit(Expr):
    keys: List[Expr]
    values: List[Expr]


@dataclass(eq=False)
class Comprehension(Node):
    target: Expr
    iter: Expr
    ifs: List[Expr]


@dataclass(eq=False)
class ListComp(Expr):
    elt: Expr
    generators: List[Comprehension]


@dataclass(eq=False)
class GenExp(ListComp):
    """(elt for x in xs): typed as the list it would produce; builtins that take
    an iterable (sum, any, all, min, max) consume it item by item instead."""


@dataclass(eq=False)
class FormatField(Expr):
    """One replacement field of an f-string or str.format: value, !conversion, :spec."""
    value: Expr
    conversion: str  # "" r s a
    spec: Optional["FString"]
    shared: bool = False  # value is a str.format argument, evaluated once before the text


@dataclass(eq=False)
class FString(Expr):
    """Text built from literal parts (Const str) and FormatFields, in order."""
    parts: List[_Any]


@dataclass(eq=False)
class SetComp(Expr):
    elt: Expr
    generators: List[Comprehension]


@dataclass(eq=False)
class DictComp(Expr):
    key: Expr
    value: Expr
    generators: List[Comprehension]


@dataclass(eq=False)
class Lambda(Expr):
    params: List["Param"]
    body: Expr
    # filled by the checker: names of the enclosing function's locals it reads
    captures: List[str] = field(default_factory=list, init=False, repr=False)


# ---- statements ----------------------------------------------------------------

@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Assign(Stmt):
    targets: List[Expr]  # a = b = value
    value: Expr
    annotation: Optional[Type] = None


@dataclass(eq=False)
class AugAssign(Stmt):
    target: Expr
    op: str
    value: Expr


@dataclass(eq=False)
class ExprStmt(Stmt):
    value: Expr


@dataclass(eq=False)
class Return(Stmt):
    value: Optional[Expr]


@dataclass(eq=False)
class If(Stmt):
    test: Expr
    body: List[Stmt]
    orelse: List[Stmt]


@dataclass(eq=False)
class While(Stmt):
    test: Expr
    body: List[Stmt]
    orelse: List[Stmt]


@dataclass(eq=False)
class For(Stmt):
    target: Expr
    iter: Expr
    body: List[Stmt]
    orelse: List[Stmt]


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Pass(Stmt):
    pass


@dataclass(eq=False)
class Delete(Stmt):
    targets: List[Expr]


@dataclass(eq=False)
class Yield(Stmt):
    """`yield value` (a statement), or `yield from value` (is_from)."""
    value: Optional[Expr]
    is_from: bool = False


@dataclass(eq=False)
class FuncDef(Stmt):
    """A function defined inside another: a local holding a closure."""
    func: "Function"


@dataclass(eq=False)
class Handler(Node):
    """`except (A, B) as name:`; types is empty for a bare `except:`."""
    types: List[str]
    name: Optional[str]
    body: List[Stmt]


@dataclass(eq=False)
class Try(Stmt):
    body: List[Stmt]
    handlers: List[Handler]
    orelse: List[Stmt]
    finalbody: List[Stmt]


@dataclass(eq=False)
class Raise(Stmt):
    exc: Optional[Expr]


@dataclass(eq=False)
class Assert(Stmt):
    test: Expr
    msg: Optional[Expr]


# ---- definitions -----------------------------------------------------------------

@dataclass(eq=False)
class Param(Node):
    name: str
    ty: Optional[Type]
    default: Optional[Expr] = None  # evaluated at each call (only immutable values are allowed)
    # "pos" (positional or keyword), "kwonly" (after * or *args), "vararg" (*args:
    # a Tuple[T, ...] of the extra positional arguments), "kwarg" (**kwargs)
    kind: str = "pos"


@dataclass(eq=False)
class Function(Node):
    name: str
    qualname: str
    params: List[Param]
    returns: Optional[Type]
    body: List[Stmt]
    origin: int = 0  # index of the Origin (file, first line) of this object
    is_method: bool = False
    # filled by the checker
    locals: Dict[str, Type] = field(default_factory=dict, repr=False)
    assigned_params: set = field(default_factory=set, repr=False)
    has_loops_or_calls: bool = field(default=False, repr=False)
    captures: List[str] = field(default_factory=list, repr=False)  # nested functions only
    nested: bool = False
    is_generator: bool = False  # contains yield
    # "staticmethod" or "classmethod" for decorated methods (ClassDef.statics);
    # a classmethod's first parameter is not in params: its name is cls_name.
    decorator: str = ""
    cls_name: str = ""
    # a classmethod copied into a subclass that inherits it (cls is that subclass)
    inherited_from: Optional["Function"] = field(default=None, repr=False)


@dataclass(eq=False)
class ClassDef(Node):
    name: str
    attrs: Dict[str, Type]  # declared attributes in declaration order
    attr_spans: Dict[str, Span]
    methods: Dict[str, Function]
    origin: int = 0
    base: Optional[_Any] = None  # ClassType of the base class, if any
    consts: Dict[str, _Any] = field(default_factory=dict)  # class-level constants (X = 3)
    has_subclasses: bool = False  # filled by the checker: methods become virtual
    # @staticmethod and @classmethod functions by name (not in methods: no self)
    statics: Dict[str, Function] = field(default_factory=dict)


def class_chain(c: "ClassDef"):
    """c, its base, its base's base..."""
    seen = set()
    while c is not None and id(c) not in seen:
        seen.add(id(c))
        yield c
        c = c.base.info if c.base is not None else None


def find_attr(c: "ClassDef", name: str):
    for k in class_chain(c):
        if name in k.attrs:
            return k.attrs[name]
    return None


def find_method(c: "ClassDef", name: str) -> Optional["Function"]:
    for k in class_chain(c):
        if name in k.methods:
            return k.methods[name]
    return None


def find_static(c: "ClassDef", name: str) -> Optional["Function"]:
    """The static or class method `name` of c or its nearest base."""
    for k in class_chain(c):
        if name in k.statics:
            return k.statics[name]
    return None


def all_statics(c: "ClassDef") -> Dict[str, "Function"]:
    out: Dict[str, Function] = {}
    for k in reversed(list(class_chain(c))):
        out.update(k.statics)
    return out


def positional_params(params: List["Param"]) -> List["Param"]:
    return [p for p in params if p.kind == "pos"]


def method_owner(c: "ClassDef", name: str) -> Optional["ClassDef"]:
    for k in class_chain(c):
        if name in k.methods:
            return k
    return None


def find_const(c: "ClassDef", name: str):
    for k in class_chain(c):
        if name in k.consts:
            return k.consts[name]
    return None


def all_attrs(c: "ClassDef") -> Dict[str, Type]:
    """Every attribute of c's instances, the base's first (C++ field order)."""
    out: Dict[str, Type] = {}
    for k in reversed(list(class_chain(c))):
        out.update(k.attrs)
    return out


def all_methods(c: "ClassDef") -> Dict[str, "Function"]:
    out: Dict[str, Function] = {}
    for k in reversed(list(class_chain(c))):
        out.update(k.methods)
    return out


@dataclass(eq=False)
class Program:
    """Everything compiled into one library: the requested object and its deps."""
    functions: List[Function]
    classes: List[ClassDef]
    origins: List[Tuple[str, int, str]]  # (file, first_line, qualname)
    entry: str  # name of the requested object


# Fields that hold analysis results, not sub-nodes of the program.
NOT_CHILDREN = frozenset(("span", "ty", "resolved", "bound_args", "comp_vars", "binop_ty",
                          "inherited_from"))


def child_nodes(node):
    """The sub-nodes (and lists of them) of a node, in field order."""
    for k, v in vars(node).items():
        if k not in NOT_CHILDREN and isinstance(v, (Node, list)):
            yield v


def iter_calls(node):
    """Every Call under a node or list of nodes, nested functions and lambdas included."""
    if isinstance(node, list):
        for x in node:
            yield from iter_calls(x)
        return
    if isinstance(node, Call):
        yield node
    if isinstance(node, Node):
        for v in child_nodes(node):
            yield from iter_calls(v)


# ---- pretty printer (for tests and `matx_nb.explain`) -------------------------

def dump(node, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(node, list):
        return "\n".join(dump(n, indent) for n in node)
    if isinstance(node, Function):
        ps = ", ".join(f"{p.name}: {p.ty}" for p in node.params)
        head = f"{pad}def {node.qualname}({ps}) -> {node.returns}:"
        return head + "\n" + dump(node.body, indent + 1)
    if isinstance(node, ClassDef):
        lines = [f"{pad}class {node.name}:"]
        lines += [f"{pad}  {k}: {v}" for k, v in node.attrs.items()]
        lines += [dump(m, indent + 1) for m in node.methods.values()]
        return "\n".join(lines)
    if isinstance(node, Stmt):
        name = type(node).__name__
        parts = []
        for k, v in vars(node).items():
            if k == "span":
                continue
            if isinstance(v, list) and v and isinstance(v[0], Stmt):
                continue
            parts.append(f"{k}={_expr(v)}")
        text = f"{pad}{name}({', '.join(parts)})"
        for k, v in vars(node).items():
            if isinstance(v, list) and v and isinstance(v[0], Stmt):
                text += f"\n{pad}  {k}:\n" + dump(v, indent + 2)
        return text
    return pad + _expr(node)


def _expr(e) -> str:
    if isinstance(e, list):
        return "[" + ", ".join(_expr(x) for x in e) + "]"
    if isinstance(e, Const):
        return repr(e.value)
    if isinstance(e, Name):
        return e.id + (f":{e.ty}" if e.ty is not None else "")
    if isinstance(e, Expr):
        inner = ", ".join(_expr(v) for k, v in vars(e).items()
                          if k not in ("span", "ty", "resolved"))
        return f"{type(e).__name__}({inner})" + (f":{e.ty}" if e.ty is not None else "")
    if isinstance(e, Keyword):
        return f"{e.name}={_expr(e.value)}"
    if isinstance(e, Comprehension):
        return f"for {_expr(e.target)} in {_expr(e.iter)} if {_expr(e.ifs)}"
    return repr(e)
