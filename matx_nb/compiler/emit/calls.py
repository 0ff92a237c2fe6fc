"""Calls: functions, methods, constructors, module members, builtins, and the methods of builtin types on typed and on Any receivers (primitives.py).
Free functions over the emitter's state `em` (emitter.Emitter): they write
through it (output lines, temporaries, headers).
"""
from __future__ import annotations

from typing import List

from . import builtins as builtin_emit
from .. import ir, primitives
from ..specs import GENERIC, spec_type
from ..types import ANY, BOOL, BYTES, INT, NONE, STR, AnyType, DictType, ListType, SetType, Type, resolve
from .cpp import ctype, cstr_literal
from . import expressions as expr_rules
from . import loops as loop_rules
from . import hooks

# Receivers of a builtin method called on an Any (dyn_method_call): the kind's
# type tag, the accessor of its value, its type, and the runtime function's name
# ({cpp}: the declared one; a tuple's items are a list of Any).
DYN_RECEIVERS = {
    "str": ("Str", "str", STR, "{cpp}"),
    "bytes": ("Bytes", "bytes", BYTES, "{cpp}"),
    "list": ("List", "list", ListType(ANY), "{cpp}"),
    "tuple": ("Tuple", "list", ListType(ANY), "list_{name}"),
    "dict": ("Dict", "dict", DictType(ANY, ANY), "{cpp}"),
    "set": ("Set", "set", SetType(ANY), "{cpp}"),
}


def expr_Call(em, e: ir.Call) -> str:
    r = e.resolved
    if expr_rules.orders_any(e):
        em.headers.add("matx_nb/dyn.h")  # mx::lt(Any, Any): CPython's ordering at run time
    if isinstance(r, ir.FuncCall):
        return f"f_{r.func.name}({expr_rules.call_args(em, e, r.func.params)})"
    if isinstance(r, ir.NewCall):
        init = ir.find_method(r.cls, "__init__")
        params = init.params[1:] if init else []
        return f"C_{r.cls.name}::new_({expr_rules.call_args(em, e, params)})"
    if isinstance(r, ir.MethodCall):
        obj = e.func.value
        target = "this" if expr_rules.is_self(em, obj) else expr_rules.expr(em, obj)
        return f"{target}->m_{r.method.name}({expr_rules.call_args(em, e, r.method.params[1:])})"
    if isinstance(r, ir.StaticCall) and not r.virtual:  # C.m(...), cls.m(...)
        return f"C_{r.cls.name}::s_{r.method.name}({expr_rules.call_args(em, e, r.method.params)})"
    if isinstance(r, ir.StaticCall):  # obj.m(...): the class of obj decides
        obj = e.func.value
        target = "this" if expr_rules.is_self(em, obj) else expr_rules.expr(em, obj)
        return f"{target}->v_{r.method.name}({expr_rules.call_args(em, e, r.method.params)})"
    if isinstance(r, ir.BuiltinCall):
        return builtin_emit.emit_builtin(em, e, r.name)
    if isinstance(r, ir.PrimitiveCall):
        return rt_method(em, e, r.kind, r.name)
    if isinstance(r, ir.FormatCall):
        return loop_rules.str_format(em, e)
    if isinstance(r, ir.ModuleCall):
        return module_call(em, e, r.member)
    if isinstance(r, ir.SuperCall):
        m = r.method
        return f"this->C_{r.owner.name}::m_{m.name}({expr_rules.call_args(em, e, m.params[1:])})"
    if isinstance(r, ir.NoOp):
        return "mx::None{}"
    if isinstance(r, ir.DynMethodCall):
        em.headers.add("matx_nb/dyn.h")
        return dyn_method_call(em, e, r.name)
    if isinstance(r, ir.DynBuiltinCall):
        em.headers.add("matx_nb/dyn.h")
        return f"mx::{r.cpp}({expr_rules.coerced(em, e.args[0], ANY)}, {em.loc(e)})"
    if isinstance(r, ir.ValueCall):
        ft = resolve(e.func.ty)
        args = ", ".join(expr_rules.coerced(em, a, t) for a, t in zip(e.args, ft.params))
        return f"{expr_rules.expr(em, e.func)}({args})"
    return 'static_assert(sizeof(int) == 0, "unresolved call")'


def module_call(em, e: ir.Call, mf) -> str:
    em.headers.add(mf.header)
    args = []
    for p, pt, a in zip(mf.params, mf.types, e.bound_args):
        if a is None:
            args.append(expr_rules.const_value(em, p.default))
        else:
            args.append(expr_rules.expr(em, a) if pt == GENERIC else expr_rules.coerced(em, a, pt))
    return f"{mf.cpp}({', '.join(args + [em.loc(e)])})"


def rt_method(em, e: ir.Call, kind: str, name: str) -> str:
    """A builtin type's method on a typed receiver: mx::<cpp>(receiver, args..., loc),
    each argument converted to its declared parameter's type."""
    obj = expr_rules.expr(em, e.func.value)
    ot = resolve(e.func.value.ty)
    loc = em.loc(e)
    m = primitives.lookup(kind, name)
    kw = getattr(e, "kwonly", {})
    if kind == "list" and name == "sort" and "key" in kw:
        rev = expr_rules.truth(em, kw["reverse"]) if "reverse" in kw else "false"
        return f"mx::list_sort_by_key({obj}, {expr_rules.expr(em, kw['key'])}, {rev}, {loc})"
    if kind == "list" and name == "sort" and "reverse" in kw:
        return f"mx::list_sort({obj}, {expr_rules.truth(em, e.kwonly['reverse'])}, {loc})"
    args = []
    for i, a in enumerate(e.args):
        spec = m.params[i].type if i < len(m.params) else "any"
        at = resolve(a.ty)
        if primitives.spec_iter(spec) is not None and not isinstance(at, ListType):
            args.append(loop_rules.as_list(em, a))  # any iterable, as the list the runtime takes
        elif spec in ("T", "K", "V"):
            args.append(expr_rules.coerced(em, a, spec_type(spec, ot)))
        elif at == NONE and spec == "index":
            args.append(primitives.INDEX_DEFAULTS[m.params[i].name])
        elif at == NONE:
            args.append("mx::None{}")
        elif at == BOOL and spec in ("int", "index"):
            args.append(expr_rules.coerce(em, expr_rules.expr(em, a), at, INT))
        else:
            args.append(expr_rules.expr(em, a))
    all_args = ", ".join([obj] + args + [loc])
    return f"mx::{m.cpp}({all_args})"


def dyn_method_call(em, e: ir.Call, name: str) -> str:
    """x.name(args...) where x is an Any: a switch on the value's type, with a
    branch for every builtin type that declares the method (primitives.py),
    each calling the same runtime function as a typed receiver does; other
    values go to mx::dyn_method (arrays, errors)."""
    loc = em.loc(e)
    n = len(e.args)
    recv = em.new_tmp("r")
    names = [em.new_tmp("a") for _ in e.args]
    evals = [f"mx::Any {recv} = {expr_rules.coerced(em, e.func.value, ANY)};"]
    evals += [f"mx::Any {t} = {expr_rules.coerced(em, a, ANY)};" for t, a in zip(names, e.args)]
    cases = []
    for kind, m in primitives.named(name).items():
        if kind not in DYN_RECEIVERS or m.check is not None:
            continue  # a rule of its own: mx::dyn_method has it, or raises
        tag, get, rt, cpp = DYN_RECEIVERS[kind]
        lo, hi = m.arity
        if not lo <= n <= hi:
            cases.append(f"case mx::TypeTag::{tag}: mx::dyn_nargs({cstr_literal(name)}, {n}, {lo}, {hi}, {loc}); "
                         "break;")
            continue
        branch = dyn_branch(em, m, cpp.format(name=m.name, cpp=m.cpp), f"{recv}.{get}()", rt, names, loc)
        cases.append(f"case mx::TypeTag::{tag}: {{ {branch} }}")
    fallback = (f"return mx::dyn_method({recv}, {cstr_literal(name)}, "
                f"mx::List<mx::Any>{{{', '.join(names)}}}, {loc});")
    body = " ".join(evals) + f" switch ({recv}.tag()) {{ {' '.join(cases)} default: break; }} {fallback}"
    return f"([&]() -> mx::Any {{ {body} }}())"


def dyn_branch(em, m: primitives.Method, cpp: str, obj: str, rt: Type, args: List[str], loc: str) -> str:
    """One receiver type's branch of dyn_method_call: the arguments converted
    to the declared parameters (a TypeError where they do not fit), the call,
    its result as an Any."""
    conv = []
    pre = []
    for i, a in enumerate(args):
        spec = m.params[i].type
        item = primitives.spec_iter(spec)
        if item is not None:
            want = ListType(spec_type(item, rt))
            conv.append(f"mx::dyn_as<{ctype(want)}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})")
            continue
        parts = primitives.spec_union(spec)
        if len(parts) > 1:  # the C++ function has an overload per alternative: pick at run time
            pre.append((i, parts))
            conv.append(None)
            continue
        if spec == "any":
            conv.append(a)
            continue
        if spec == "index":
            conv.append(f"mx::dyn_index({a}, {primitives.INDEX_DEFAULTS[m.params[i].name]}, "
                        f"{cstr_literal(f'{m.name}() argument')}, {loc})")
            continue
        want = spec_type(spec, rt)
        if isinstance(resolve(want), AnyType):
            conv.append(a)
        else:
            conv.append(f"mx::dyn_as<{ctype(want)}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})")
    result = spec_type(m.result, rt)

    def call(values):
        code = f"mx::{cpp}({', '.join([obj] + values + [loc])})"
        if resolve(result) == NONE:
            return f"{code}; return mx::Any();"
        return f"return {expr_rules.coerce(em, code, result, ANY)};"

    def expand(k, values):
        if k == len(conv):
            return call(values)
        if conv[k] is not None:
            return expand(k + 1, values + [conv[k]])
        a = args[k]
        branches = []
        for part in primitives.spec_union(m.params[k].type):
            if part == "None":
                test, value = f"{a}.tag() == mx::TypeTag::None", "mx::None{}"
            elif part.startswith("tuple["):
                item = spec_type(part[6:-1], rt)
                test, value = f"{a}.tag() == mx::TypeTag::Tuple", \
                    f"mx::dyn_as<{ctype(ListType(item))}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})"
            else:
                want = spec_type(part, rt)
                test = f"mx::dyn_is<{ctype(want)}>({a})"
                value = f"mx::dyn_as<{ctype(want)}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})"
            branches.append(f"if ({test}) {{ {expand(k + 1, values + [value])} }}")
        what = " or ".join(primitives.spec_union(m.params[k].type))
        branches.append(f"mx::dyn_arg_error({a}, {cstr_literal(f'{m.name}() argument {k + 1} must be {what}')}, "
                        f"{loc});")
        return " ".join(branches)
    return expand(0, [])


hooks.rules(globals())
