"""Attributes, module members and calls: argument binding, functions, methods, constructors, builtins. Free functions over the checker's
state `chk` (checker.Checker: scope, function, diagnostics).
"""
from __future__ import annotations

from typing import List, Optional

from . import builtins as builtin_rules
from .. import ir, modules, primitives
from .builtin_calls import COMPAT_CONSTRUCTORS
from ..kinds import MAGIC_BUILTINS, elem_type, kind_of
from ..diagnostics import a_or_an
from ..specs import GENERIC
from ..types import (ANY, ERROR, is_error, NONE, AnyType, ClassType, FuncType, Prim, TupleType, Type, assignable,
                     resolve)
from .common import BUILTINS, EXCEPTIONS, METHOD_KINDS, _is_super, ir_text, missing_arguments, too_many_positional
from . import hooks
from . import builtin_calls as bcalls
from . import methods as method_rules
from . import ndarray as nd_rules


def module_of(chk, e: ir.Expr) -> Optional[str]:
    """The module a global name refers to (`math` after `import math`)."""
    if isinstance(e, ir.Name) and chk.scope.lookup(e.id) is None:
        m = chk.modules.get((chk.owner, e.id))
        if isinstance(m, str):
            return m
    return None


def class_named(chk, e: ir.Expr) -> Optional[ir.ClassDef]:
    """The class a name refers to: a compiled class, or a classmethod's cls."""
    if not isinstance(e, ir.Name) or chk.scope.lookup(e.id) is not None:
        return None
    if e.id == chk.cls_ref:
        return chk.cls
    return chk.classes.get(e.id)


def expr_Attribute(chk, e: ir.Attribute, expected):
    c = class_named(chk, e.value)
    if c is not None:
        cv = ir.find_const(c, e.attr)
        if cv is not None:
            e.resolved = ir.ConstRef(cv)
            return hooks.const_type(chk, cv, e.span)
        if ir.find_static(c, e.attr) is not None or ir.find_method(c, e.attr) is not None:
            chk.error(e.span, f"{c.name}.{e.attr} can only be called here, not used as a value",
                       f"or wrap it: lambda x: {ir_text(e)}(x)")
            return ERROR
        chk.error(e.span, f"class {c.name} has no constant '{e.attr}'")
        return ERROR
    mod = module_of(chk, e.value)
    if mod is not None:
        consts = modules.CONSTANTS.get(mod, {})
        if e.attr in consts:
            v = consts[e.attr]
            e.resolved = ir.ConstRef(v)
            return hooks.const_type(chk, v, e.span)
        if modules.lookup(mod, e.attr):
            chk.error(e.span, f"'{mod}.{e.attr}' can only be called here, not used as a value")
        else:
            chk.error(e.span, f"'{mod}.{e.attr}' is not supported in compiled code",
                       module_hint(chk, mod))
        return ERROR
    ot = resolve(hooks.value(chk, e.value, f"'NoneType' object has no attribute '{e.attr}'", kind="AttributeError"))
    if is_error(ot):
        return ERROR
    if isinstance(ot, ClassType) and ot.info is not None:
        at = ir.find_attr(ot.info, e.attr)
        if at is not None:
            e.resolved = ir.InstanceAttr(ot.info)
            return at
        cv = ir.find_const(ot.info, e.attr)
        if cv is not None:  # read through the instance: a subclass may redefine it
            e.resolved = ir.ClassConst(e.attr)
            return hooks.const_type(chk, cv, e.span)
        if ir.find_method(ot.info, e.attr) is not None or ir.find_static(ot.info, e.attr) is not None:
            chk.error(e.span, "bound methods as values are not supported yet; call the method",
                       f"or wrap it: lambda x: obj.{e.attr}(x)")
            return ERROR
        chk.error(e.span, f"'{ot.name}' object has no attribute '{e.attr}'")
        return ERROR
    if isinstance(ot, Prim) and ot.name in modules.TYPES:
        return nd_rules.nd_attribute(chk, e, ot)
    chk.error(e.span, f"'{ot}' object has no attribute '{e.attr}'")
    return ERROR


# ---- calls
def module_hint(chk, mod: str) -> str:
    names = sorted(modules.MODULES.get(mod, {})) + sorted(modules.CONSTANTS.get(mod, {}))
    if not names:
        return "supported modules: " + ", ".join(sorted(set(modules.MODULES) | set(modules.CONSTANTS)))
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"'{mod}' in compiled code has: {shown}"


def module_function(chk, f: ir.Expr) -> Optional[modules.ModuleFunction]:
    """The supported module function a call's callee names, or None; reports
    unsupported ones (then returns a dummy so the caller stops)."""
    if isinstance(f, ir.Attribute):
        mod = module_of(chk, f.value)
        if mod is None:
            return None
        mf = modules.lookup(mod, f.attr)
        if mf is None and f.attr in modules.CONSTANTS.get(mod, {}):
            chk.error(f.span, f"'{mod}.{f.attr}' is a constant and cannot be called")
            return modules.UNSUPPORTED
        if mf is None:
            chk.error(f.span, f"'{mod}.{f.attr}' is not supported in compiled code",
                       module_hint(chk, mod))
            return modules.UNSUPPORTED
        return mf
    if isinstance(f, ir.Name) and chk.scope.lookup(f.id) is None and \
            f.id not in chk.funcs and f.id not in chk.classes:
        m = chk.modules.get((chk.owner, f.id))
        if isinstance(m, tuple):
            mf = modules.lookup(*m)
            if mf is None and modules.is_supported_module(m[0]):
                chk.error(f.span, f"'{m[0]}.{m[1]}' is not supported in compiled code",
                           module_hint(chk, m[0]))
                return modules.UNSUPPORTED
            return mf
    return None


def call_module(chk, e: ir.Call, mf: modules.ModuleFunction, receiver: Optional[ir.Expr] = None) -> Type:
    if mf is modules.UNSUPPORTED:
        for a in e.args:
            hooks.expr(chk, a)
        for kw in e.keywords:
            hooks.expr(chk, kw.value)
        return ERROR
    what = f"{mf.module}.{mf.name}"
    params = mf.params
    if mf.varargs:
        nd_rules.gather_varargs(chk, e, len(params) - (receiver is not None))
    given = ([receiver] if receiver is not None else []) + list(e.args)
    b = primitives.bind(params, given, e.keywords, what + "()")
    slots = b.slots
    if b.extra:
        n = sum(1 for p in params if not p.kwonly) - (receiver is not None)
        chk.error(e.span, f"{what}() takes at most {n} positional argument{'s' if n != 1 else ''} "
                           f"but {len(e.args)} were given")
    for kw, message in b.errors:
        chk.error(kw.span, message)
        hooks.expr(chk, kw.value)
    ts: List[Type] = []
    ok = True
    for p, pt, a in zip(params, mf.types, slots):
        if a is None:
            if p.required:
                chk.error(e.span, f"{what}() missing argument '{p.name}'")
                ok = False
            ts.append(NONE)
            continue
        if pt == GENERIC and mf.module == "json" and isinstance(a, (ir.ListLit, ir.DictLit, ir.SetLit)):
            t = hooks.expr(chk, a, ANY)  # json.dumps({"s": s, "n": [1, None]}): items of any types
        else:
            t = hooks.expr(chk, a, None if pt == GENERIC else pt)
        ts.append(resolve(t))
        if is_error(t):
            ok = False
        elif pt != GENERIC and not assignable(pt, t):
            chk.error(a.span, f"argument '{p.name}' of {what}() must be {pt}, got {t}")
            ok = False
    for a in b.extra:
        hooks.expr(chk, a)
    e.bound_args = slots
    e.resolved = ir.ModuleCall(mf)
    if not ok:
        return ERROR
    rt = mf.result_type(ts)
    if rt is None:
        shown = ", ".join(str(t) for t, a in zip(ts, slots) if a is not None)
        chk.error(e.span, f"{what}() does not accept ({shown})")
        return ERROR
    if mf.refine is not None:  # checks needing constant arguments (a constant regex)
        rt, cpp, err = mf.refine(ts, modules.constant_args(mf, slots))
        if err is not None:
            chk.error((slots[err[0]] or e).span, err[1])
            return ERROR
        e.resolved = ir.ModuleCall(modules.with_callee(mf, cpp))
    return rt


def expr_Call(chk, e: ir.Call, expected):
    t = call_type(chk, e, expected)
    if not short_call(e):  # the wrapper releases the GIL around a body that may run long
        chk.func.has_loops_or_calls = True
    return t


def short_call(e: ir.Call) -> bool:
    """A call of a builtin or builtin method declared `short` (primitives.py):
    constant time, like dict.get or len. A body of such calls and no loops runs
    for about as long as the GIL takes to release and retake, so it keeps it."""
    r = e.resolved
    if isinstance(r, ir.PrimitiveCall):
        m = primitives.lookup(r.kind, r.name)
        return m is not None and m.short
    if isinstance(r, ir.BuiltinCall):
        f = primitives.FUNCTIONS.get(r.name)
        return f is not None and f.short
    return False


def call_type(chk, e: ir.Call, expected):
    f = e.func
    if isinstance(f, ir.Attribute) and f.attr in COMPAT_CONSTRUCTORS and \
            module_of(chk, f.value) == "matx_nb":
        return bcalls.call_compat_constructor(chk, e, COMPAT_CONSTRUCTORS[f.attr], expected)
    if isinstance(f, ir.Name) and f.id in MAGIC_BUILTINS and chk.scope.lookup(f.id) is None and \
            len(e.args) == 1 and not e.keywords and f.id not in chk.funcs:
        at = resolve(hooks.expr(chk, e.args[0]))
        decl = primitives.FUNCTIONS[f.id]
        if isinstance(at, AnyType) and not is_error(at) and decl.dyn:
            e.resolved = ir.DynBuiltinCall(decl.dyn)  # dispatched on the value's type at run time
            return builtin_rules.result_type(decl.result)
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
    mf = module_function(chk, f)
    if mf is not None:
        return call_module(chk, e, mf)
    if isinstance(f, ir.Name) and f.id == chk.cls_ref and chk.scope.lookup(f.id) is None:
        return call_constructor(chk, e, chk.cls)  # cls(...) in a classmethod
    if isinstance(f, ir.Attribute) and class_named(chk, f.value) is not None:
        return call_on_class(chk, e, class_named(chk, f.value), f)
    if isinstance(f, ir.Name) and chk.scope.lookup(f.id) is None:
        if f.id in chk.funcs:
            return call_function(chk, e, chk.funcs[f.id])
        if f.id in chk.classes:
            return call_constructor(chk, e, chk.classes[f.id])
        if f.id in BUILTINS:
            return call_builtin(chk, e, f.id, expected)
        if f.id in EXCEPTIONS:
            chk.error(e.span, "exceptions can only be raised here")
            return ERROR
    if isinstance(f, ir.Attribute) and _is_super(f.value):
        return call_super(chk, e, f)
    if isinstance(f, ir.Attribute):
        ot = resolve(hooks.value(chk, f.value, f"'NoneType' object has no attribute '{f.attr}'",
                                kind="AttributeError"))
        if isinstance(ot, ClassType) and ot.info is not None:
            m = ir.find_method(ot.info, f.attr)
            sm = ir.find_static(ot.info, f.attr)
            if m is None and sm is not None:  # obj.static(...): dispatched on obj's class
                return call_static(chk, e, ot.info, sm, via_instance=True)
            if m is None and ir.find_attr(ot.info, f.attr) is not None:
                at = resolve(hooks.expr(chk, f))  # self.fn(...): an attribute holding a callable
                if isinstance(at, FuncType):
                    return hooks.call_value(chk, e, at)
                if isinstance(at, ClassType) and at.info is not None and \
                        ir.find_method(at.info, "__call__"):
                    e.func = ir.Attribute(f.span, f, "__call__")
                    return expr_Call(chk, e, expected)
            if m is None:
                chk.error(f.span, f"'{ot.name}' object has no method '{f.attr}'")
                for a in e.args:
                    hooks.expr(chk, a)
                return ERROR
            bind_args(chk, e, m.params[1:], f"{ot.name}.{f.attr}", 1)
            e.resolved = ir.MethodCall(ot.info, m)
            return m.returns
        return call_method(chk, e, ot, f.attr, expected)
    if not isinstance(f, ir.Name) or chk.scope.lookup(f.id) is not None:
        ct = resolve(hooks.expr(chk, f))
        if isinstance(ct, FuncType):
            return hooks.call_value(chk, e, ct)
        if isinstance(ct, ClassType) and ct.info is not None and ir.find_method(ct.info, "__call__"):
            e.func = ir.Attribute(f.span, f, "__call__")  # obj(...) is obj.__call__(...)
            return expr_Call(chk, e, expected)
        if not is_error(ct):
            chk.error(f.span, f"'{ir_text(f)}' is {a_or_an(ct)} and cannot be called")
        for a in e.args:
            hooks.expr(chk, a)
        return ERROR
    if isinstance(f, ir.Name):
        for a in e.args:
            hooks.expr(chk, a)
        key = (chk.owner, f.id)
        if key in chk.constants:
            chk.error(f.span, f"'{f.id}' is a module constant and cannot be called")
        else:
            chk.error(f.span, f"name '{f.id}' is not defined",
                       "compiled code can call builtins and the functions and classes "
                       "defined in the same module")
        return ERROR
    chk.error(e.span, "this call is not supported in compiled code")
    for a in e.args:
        hooks.expr(chk, a)
    return ERROR


def bind_args(chk, e: ir.Call, params: List[ir.Param], what: str, offset: int = 0) -> list:
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
    e.args = spread_known_lengths(chk, e.args)
    unpacked_named = False
    for a in e.args:
        if isinstance(a, ir.Starred) and k < len(pos):
            chk.error(a.span, f"*{ir_text(a.value)} would fill named parameters of {what}(); compiled "
                               "calls unpack an iterable of unknown length into *args only",
                       "pass the named parameters one by one, or a tuple of known length")
            hooks.expr(chk, a.value)
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
            chk.error(bad.span, f"{what}() has no *args parameter to unpack *{ir_text(bad.value)} into")
        else:
            chk.error(e.span, too_many_positional(what, pos, given, kw_given, offset))
        for a in extra:
            hooks.expr(chk, a.value if isinstance(a, ir.Starred) else a)
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
            chk.error(kw.span, f"{what}() got an unexpected keyword argument '{kw.name}'")
            hooks.expr(chk, kw.value)
            continue
        if slots[i] is not None:
            chk.error(kw.span, f"{what}() got multiple values for argument '{kw.name}'")
        slots[i] = kw.value
    for kind, label in (("pos", "positional"), ("kwonly", "keyword-only")):
        missing = [p.name for p, a in zip(params, slots)
                   if p.kind == kind and a is None and p.default is None]
        if missing and not (unpacked_named and kind == "pos"):
            chk.error(e.span, missing_arguments(what, missing, label))
    for p, a in zip(params, slots):
        if p.kind == "vararg":
            check_vararg_items(chk, a, p, what)
            continue
        if p.kind == "kwarg":
            vt = resolve(p.ty).value
            for kw in a:
                t = hooks.expr(chk, kw.value, vt)
                if not assignable(vt, t):
                    chk.error(kw.value.span, f"keyword argument '{kw.name}' of {what}() goes to "
                                              f"**{p.name} and must be {vt}, got {t}")
            continue
        if a is None:
            continue
        t = hooks.expr(chk, a, p.ty)
        if not assignable(p.ty, t):
            chk.error(a.span, f"argument '{p.name}' of {what}() must be {p.ty}, got {t}")
    e.bound_args = slots
    return slots


def spread_known_lengths(chk, args: List[ir.Expr]) -> List[ir.Expr]:
    """*[a, b], *(a, b) and *t for a local t of a fixed-length tuple type are
    their items, one argument each (so they may fill named parameters)."""
    out: List[ir.Expr] = []
    for a in args:
        v = a.value if isinstance(a, ir.Starred) else None
        if isinstance(v, (ir.ListLit, ir.TupleLit)):
            out.extend(v.elts)
            continue
        if isinstance(v, ir.Name) and chk.scope.lookup(v.id) is not None:
            t = resolve(chk.scope.lookup(v.id))
            if isinstance(t, TupleType) and v.id not in chk.narrowed:
                out.extend(ir.Subscript(v.span, ir.Name(v.span, v.id), ir.Const(v.span, i))
                           for i in range(len(t.items)))
                continue
        out.append(a)
    return out


def check_vararg_items(chk, items: List[ir.Expr], p: ir.Param, what: str):
    et = resolve(p.ty).elem
    for a in items:
        if isinstance(a, ir.Starred):
            t = hooks.value(chk, a.value, "argument after * must be an iterable, not NoneType")
            it = elem_type(t)
            if it is None:
                chk.error(a.value.span, f"{what}() argument after * must be an iterable, not {t}")
            elif not assignable(et, it):
                chk.error(a.value.span, f"*{p.name} of {what}() takes {et} items, got {t}")
            a.ty = t
            continue
        t = hooks.expr(chk, a, et)
        if not assignable(et, t):
            chk.error(a.span, f"argument of *{p.name} of {what}() must be {et}, got {t}")


def call_function(chk, e: ir.Call, fn: ir.Function) -> Type:
    bind_args(chk, e, fn.params, fn.name)
    e.resolved = ir.FuncCall(fn)
    return fn.returns


def call_on_class(chk, e: ir.Call, c: ir.ClassDef, f: ir.Attribute) -> Type:
    """C.m(...) or cls.m(...): a static or class method of c."""
    sm = ir.find_static(c, f.attr)
    if sm is not None:
        return call_static(chk, e, c, sm)
    if ir.find_method(c, f.attr) is not None:
        chk.error(f.span, f"calling the method {c.name}.{f.attr}() through the class is not supported",
                   f"call it on an instance: obj.{f.attr}(...)")
    elif ir.find_const(c, f.attr) is not None:
        chk.error(f.span, f"'{c.name}.{f.attr}' is a class constant and cannot be called")
    else:
        chk.error(f.span, f"type object '{c.name}' has no attribute '{f.attr}'")
    for a in e.args:
        hooks.expr(chk, a.value if isinstance(a, ir.Starred) else a)
    for kw in e.keywords:
        hooks.expr(chk, kw.value)
    return ERROR


def call_static(chk, e: ir.Call, c: ir.ClassDef, m: ir.Function, via_instance: bool = False) -> Type:
    """A static or class method called on class c (cls is c), or on an
    instance (the instance's class decides, at run time)."""
    bind_args(chk, e, m.params, m.qualname, 1 if m.decorator == "classmethod" else 0)
    e.resolved = ir.StaticCall(c, m, virtual=via_instance)
    return m.returns


def call_super(chk, e: ir.Call, f: ir.Attribute) -> Type:
    """super().m(...) calls the base class's m on self."""
    c = chk.cls
    if c is None or chk.func is None or not chk.func.is_method:
        chk.error(f.value.span, "super() is only supported in methods")
        return ERROR
    if c.base is None or c.base.info is None:
        chk.error(f.value.span, f"{c.name} has no base class for super() to call")
        return ERROR
    m = ir.find_method(c.base.info, f.attr)
    if m is None:
        if f.attr == "__init__":  # object.__init__(): nothing to do
            e.resolved = ir.NoOp()
            return NONE
        chk.error(f.span, f"'{c.base.name}' has no method '{f.attr}'")
        return ERROR
    bind_args(chk, e, m.params[1:], f"{c.base.name}.{f.attr}", 1)
    e.resolved = ir.SuperCall(ir.method_owner(c.base.info, f.attr), m)
    return m.returns


def call_constructor(chk, e: ir.Call, c: ir.ClassDef) -> Type:
    init = ir.find_method(c, "__init__")
    params = init.params[1:] if init else []
    bind_args(chk, e, params, c.name, 1)
    e.resolved = ir.NewCall(c)
    return ClassType(c.name, c)


def args_types(chk, e: ir.Call, expected=None) -> List[Type]:
    if isinstance(e.func, ir.Name) and e.func.id == "open":
        for kw in e.keywords:
            if kw.name != "encoding" or not (isinstance(kw.value, ir.Const) and
                                             str(kw.value.value).lower().replace("_", "-") in ("utf-8", "utf8")):
                chk.error(kw.span, "open() in compiled code takes a path, a mode and encoding='utf-8'")
        e.keywords = []
        return [hooks.expr(chk, a) for a in e.args]
    name = e.func.id if isinstance(e.func, ir.Name) else ""
    unknown = bcalls.take_builtin_keywords(chk, e, name)
    if unknown:
        chk.error(unknown[0].span, f"{name}() got an unexpected keyword argument '{unknown[0].name}'")
    return [hooks.expr(chk, a) for a in e.args]


@hooks.provide
def call_builtin(chk, e: ir.Call, name: str, expected) -> Type:
    """A builtin function: its rule (check/builtins.py) or, where it has none,
    its declaration (primitives.function) decides the types."""
    e.resolved = ir.BuiltinCall(name)
    if name == "zip" and len(e.args) == 1 and isinstance(e.args[0], ir.Starred) and not e.keywords:
        return hooks.zip_star(chk, e)
    f = primitives.FUNCTIONS[name]
    rule = builtin_rules.RULES.get(name)
    if not f.supported:
        for a in e.args:
            hooks.expr(chk, a)
        chk.error(e.span, f"{name}() is not supported yet")
        return ERROR
    if name in builtin_rules.RAW:
        return rule(chk, e, expected)
    rs = [resolve(t) for t in args_types(chk, e)]
    call = builtin_rules.Call(chk, e, name, rs, expected)
    return rule(call) if rule is not None else builtin_rules.declared(call, f)


def call_method(chk, e: ir.Call, ot: Type, name: str, expected) -> Type:
    if is_error(ot):
        for a in e.args:
            hooks.expr(chk, a)
        return ERROR
    k = kind_of(ot)
    rt = resolve(ot)
    if isinstance(rt, AnyType):  # x.name(...) dispatched on the value's type at run time
        for a in e.args:
            hooks.expr(chk, a)
        if e.keywords:
            chk.error(e.keywords[0].span, "keyword arguments to methods of an Any value are not supported")
        e.resolved = ir.DynMethodCall(name)
        return ANY
    if isinstance(rt, Prim) and rt.name in modules.TYPES:
        mf = modules.TYPES[rt.name].methods.get(name)
        if mf is None:
            chk.error(e.func.span, f"'{rt.name}' object has no method '{name}'")
            mf = modules.UNSUPPORTED
        return call_module(chk, e, mf, receiver=e.func.value)
    m = primitives.lookup(k, name)
    if m is None:
        chk.error(e.func.span, f"'{ot}' object has no method '{name}'" if k in METHOD_KINDS
                   else f"methods of {ot} are not supported")
        for a in e.args:
            hooks.expr(chk, a)
        return ERROR
    lo, hi = m.arity
    if k == "list" and name == "sort":
        e.kwonly = {kw.name: kw.value for kw in e.keywords}
        for kw in e.keywords:
            if kw.name not in ("key", "reverse"):
                chk.error(kw.span, f"sort() got an unexpected keyword argument '{kw.name}'")
        bcalls.check_reverse_kw(chk, e, getattr(resolve(ot), "elem", None))
    elif e.keywords and not m.variadic:
        method_rules.take_method_keywords(chk, e, m)
    n = len(e.args)
    if not lo <= n <= hi:
        exp = str(lo) if lo == hi else f"{lo} to {hi}"
        chk.error(e.span, f"{k}.{name}() takes {exp} argument{'s' if hi != 1 else ''}, got {n}")
    e.resolved = ir.PrimitiveCall(k, name)
    if m.check is not None:
        return getattr(method_rules, m.check)(chk, e, rt)
    return method_rules.check_primitive(chk, e, m, rt)


hooks.rules(globals())
