"""The typed IR: small plain data classes built by the front end.

Every node carries the Span of the Python code it came from. The type checker
fills `ty` on expressions and `resolved` on names, calls and attributes (one of
the resolution classes below: BuiltinCall, FuncCall, MethodCall, PrimitiveCall,
ModuleCall, DynMethodCall...); it and the analyses fill the other fields marked
`filled()`, each declared on its node (tests/test_ir_contract.py checks that
nothing else is set). The code generator reads only this IR, never the Python AST.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any as _Any, Dict, List, Optional, Tuple

from .diagnostics import Span
from .types import Type


@dataclass(eq=False)
class Node:
    span: Span


def filled(default=None, factory=None):
    """A field the checker or an analysis fills in (not given when the front end
    builds the node). Every such field is declared here: tests/test_layout.py
    checks that the compiler sets no other attribute on a node."""
    if factory is not None:
        return field(default_factory=factory, init=False, repr=False)
    return field(default=default, init=False, repr=False)


# ---- what a name, attribute or call refers to ------------------------------------
# The checker fills `resolved` on Name, Attribute and Call nodes with one of
# these; the analyses and the emitter read them. None: not resolved (a local
# never assigned, an error already reported).

@dataclass(frozen=True, eq=False)
class Local:
    name: str  # a local variable or parameter


@dataclass(frozen=True, eq=False)
class FuncRef:
    func: "Function"  # a compiled function, named or called


@dataclass(frozen=True, eq=False)
class ClassRef:
    cls: "ClassDef"  # a compiled class, named (its constructor when called: NewCall)


@dataclass(frozen=True, eq=False)
class ConstRef:
    value: _Any  # a module-level or class-level constant, captured by value


@dataclass(frozen=True, eq=False)
class InstanceAttr:
    cls: "ClassDef"  # obj.attr: an attribute of an instance of cls


@dataclass(frozen=True, eq=False)
class ClassConst:
    name: str  # self.X or C.X: a class constant read through the class


@dataclass(frozen=True, eq=False)
class OpaqueAttr:
    member: _Any  # a.shape: an attribute of a module type (a modules.py member)


@dataclass(frozen=True, eq=False)
class BuiltinCall:
    name: str  # a builtin function (primitives.FUNCTIONS), or zip_star / tuple_of


@dataclass(frozen=True, eq=False)
class DynBuiltinCall:
    cpp: str  # a builtin on an Any argument: mx::<cpp>(value, loc)


@dataclass(frozen=True, eq=False)
class ModuleCall:
    member: _Any  # a module function (modules.py: math.sqrt, re.split...)


@dataclass(frozen=True, eq=False)
class FuncCall:
    func: "Function"  # f(...): a compiled function


@dataclass(frozen=True, eq=False)
class MethodCall:
    cls: "ClassDef"
    method: "Function"  # obj.m(...): a compiled method, virtual where overridden


@dataclass(frozen=True, eq=False)
class StaticCall:
    cls: "ClassDef"
    method: "Function"  # C.m(...) / cls.m(...); virtual: obj.m(...), decided by obj's class
    virtual: bool = False


@dataclass(frozen=True, eq=False)
class SuperCall:
    owner: "ClassDef"
    method: "Function"  # super().m(...): the base class's m


@dataclass(frozen=True, eq=False)
class NewCall:
    cls: "ClassDef"  # C(...): a new instance


@dataclass(frozen=True, eq=False)
class PrimitiveCall:
    kind: str  # a builtin type's method on a typed receiver (primitives.METHODS)
    name: str


@dataclass(frozen=True, eq=False)
class DynMethodCall:
    name: str  # x.m(...) on an Any: dispatched on the value's type at run time


@dataclass(frozen=True, eq=False)
class ValueCall:
    """f(...) where f is a value holding a function (a lambda, a parameter)."""


@dataclass(frozen=True, eq=False)
class FormatCall:
    """'...'.format(...) with a constant format string (read as an f-string)."""


@dataclass(frozen=True, eq=False)
class NoOp:
    """A call with no effect and no value (object.__init__(self))."""


def _among(name: str, names) -> bool:
    return names is None or (name == names if isinstance(names, str) else name in names)


def builtin_named(e, names=None) -> bool:
    """Whether e calls the builtin `names` (a name, or a collection of names; any builtin if None)."""
    r = getattr(e, "resolved", None)
    return isinstance(r, BuiltinCall) and _among(r.name, names)


def builtin_name(e) -> str:
    """The builtin an expression calls, or ''."""
    r = getattr(e, "resolved", None)
    return r.name if isinstance(e, Call) and isinstance(r, BuiltinCall) else ""


def primitive_named(e, kind: str, names=None) -> bool:
    """Whether e calls a method of builtin type `kind` named by `names` (a name or a
    collection of names; any of its methods if None)."""
    r = getattr(e, "resolved", None)
    return isinstance(r, PrimitiveCall) and r.kind == kind and _among(r.name, names)


def is_local(e) -> bool:
    """A name that is a local variable, or not resolved to anything else."""
    r = getattr(e, "resolved", None)
    return r is None or isinstance(r, Local)


# ---- expressions ---------------------------------------------------------------

@dataclass(eq=False)
class Expr(Node):
    ty: Optional[Type] = field(default=None, init=False, repr=False)
    # An Optional used as its value: (exception kind, CPython's message) raised
    # when it is None (checker), else None.
    unwrap: Optional[Tuple[str, str]] = filled()


@dataclass(eq=False)
class Const(Expr):
    value: _Any


@dataclass(eq=False)
class Name(Expr):
    id: str
    # filled by the checker: Local | FuncRef | ClassRef | ConstRef
    resolved: _Any = field(default=None, init=False, repr=False)
    check_bound: bool = filled(False)  # may be read before assignment: checked at run time (analysis/definite.py)
    move_from: bool = filled(False)    # its value is moved out at this last use (analysis/borrow.py)


@dataclass(eq=False)
class BinOp(Expr):
    op: str  # + - * / // % ** << >> & | ^
    left: Expr
    right: Expr
    magic: _Any = filled()        # the compiled class's method it calls (__add__...), checker
    percent: _Any = filled()      # 'fmt' % args: the parsed format (builtins_checker.Percent)
    binop_ty: Optional[Type] = filled()  # the type the operation is computed in (emitter)


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
    # filled by the checker: BuiltinCall | FuncCall | MethodCall | PrimitiveCall | ... (above)
    resolved: _Any = field(default=None, init=False, repr=False)
    bound_args: _Any = filled()       # each parameter's argument, after binding keywords and defaults
    kwonly: Dict[str, Expr] = filled(factory=dict)  # a builtin's keyword-only arguments (key=, reverse=)
    key_type: Optional[Type] = filled()  # the result type of key= (sorted, min, max, list.sort)
    formatted: _Any = filled()        # str.format with a constant format: the FString it reads as
    format_kws: List[Keyword] = filled(factory=list)  # str.format's keyword arguments
    isinstance_kinds: List[str] = filled(factory=list)    # isinstance: the type names asked about
    isinstance_static: Optional[bool] = filled()          # known when compiling, or None (run time)
    isinstance_classes: List[str] = filled(factory=list)  # subclasses a base reference may hold


@dataclass(eq=False)
class Attribute(Expr):
    value: Expr
    attr: str
    resolved: _Any = field(default=None, init=False, repr=False)  # InstanceAttr | ClassConst | ConstRef | OpaqueAttr


@dataclass(eq=False)
class Subscript(Expr):
    value: Expr
    index: Expr
    magic: _Any = filled()  # the compiled class's __getitem__/__setitem__ it calls (checker)


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
    comp_vars: Dict[str, Type] = filled(factory=dict)  # the scope's variables it sees (checker)


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
    comp_vars: Dict[str, Type] = filled(factory=dict)  # the scope's variables it sees (checker)


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
    binop_ty: Optional[Type] = filled()  # the type the operation is computed in (emitter)
    nd_inplace: bool = filled(False)      # an NDArray updated in place (ndarray_checker)


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
    moves_item: bool = filled(False)  # the body moves the item out of the sequence (analysis/borrow.py)
    borrowed: bool = filled(False)    # the variable may refer to the list's slot (analysis/borrow.py)


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
    # Outer locals the closure copies that may be unassigned here: checked when it is defined (analysis/definite.py).
    check_bound: set = filled(factory=set)


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
    maybe_unbound: set = field(default_factory=set, repr=False)  # locals read before a sure assignment (analysis/definite.py)
    mutated_params: set = filled(factory=set)  # list/dict/set parameters it may change in place (analysis/writeback.py)
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
    const_types: Dict[str, Type] = filled(factory=dict)  # the class constants' types (checker)


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
    # Filled by passes.py between checking and emitting:
    analyzed: bool = filled(False)
    locks_module: bool = filled(False)  # compiled code may change a module-level container
    checked_recursion: set = filled(factory=set)  # functions on a call cycle that check the stack
    may_recurse: set = filled(factory=set)        # functions that reach such a cycle
    shared_methods: set = filled(factory=set)     # ids of methods whose callers may share the lock
    pure: set = filled(factory=set)               # functions whose calls may be reordered


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
