"""The C ABI of a library: its entry points, the wrappers that convert host values, class descriptors and attribute accessors.
Free functions over the emitter's state `em` (emitter.Emitter): they write
through it (output lines, temporaries, headers).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from .. import ir
from ..types import NONE, ClassType, DictType, GenType, ListType, SetType, resolve
from .cpp import MAX_HOST_ARGS, host_symbol, ctype, host_convertible, cstr_literal
from . import expressions as expr_rules


def emit_abi(em):
    em.line("// ---- entry points called by the host (Python or the C++ Session) ----")
    for c in em.p.classes:
        em.line(f"const mx_class_desc* class_desc_{c.name}();")
    em.line(em.ns_close)
    em.line()
    em.line("namespace mx {")
    if em.ns_name:
        em.line(f"using namespace ::{em.ns_name};")
    for c in em.p.classes:
        em.line(f"template <> struct Conv<mx::Ref<C_{c.name}>> {{")
        em.line(f'  static std::string name() {{ return "{c.name}"; }}')
        em.line(f"  static mx::Ref<C_{c.name}> from_host(const mx_host_api* h, mx_host_obj o) {{")
        subs = descendants(em, c)
        em.line(f"    mx::Object* p = h->object_ptr(o, class_desc_{c.name}());")
        em.line(f"    if (p) return mx::Ref<C_{c.name}>::borrow(static_cast<C_{c.name}*>(p));")
        for d in subs:  # an instance of a subclass is an instance of c
            em.line(f"    if ((p = h->object_ptr(o, class_desc_{d.name}())))")
            em.line(f"      return mx::Ref<C_{c.name}>::borrow(static_cast<C_{d.name}*>(p));")
        em.line(f'    conv_fail(h, o, "{c.name}");')
        em.line("  }")
        em.line(f"  static mx_host_obj to_host(const mx_host_api* h, const mx::Ref<C_{c.name}>& v) {{")
        em.line("    v->incref();")
        for d in reversed(subs):  # the most derived class first
            em.line(f"    if (dynamic_cast<C_{d.name}*>(v.get())) return h->new_object(class_desc_{d.name}(), v.get());")
        em.line(f"    return h->new_object(class_desc_{c.name}(), v.get());")
        em.line("  }")
        em.line("};")
    em.line("}  // namespace mx")
    em.line()
    em.line(em.ns_open)
    func_descs = []
    for f in em.p.functions:
        if host_callable(f):
            func_descs.append(emit_wrapper(em, f, f"f_{f.name}", None))
    for c in em.p.classes:  # static and class methods: functions named "C.m"
        for name, m in ir.all_statics(c).items():
            if host_callable(m):
                func_descs.append(emit_wrapper(em, m, "", c, static_call=f"C_{c.name}::s_{name}",
                                                    pyname=f"{c.name}.{name}"))
        func_descs.append(emit_alloc(em, c))
    class_descs = []
    for c in em.p.classes:
        class_descs.append(emit_class_abi(em, c))
    em.line(f"const mx_func_desc k_funcs[] = {{{', '.join(func_descs) or '{}'}}};")
    em.line(f"const mx_class_desc k_classes[] = {{{', '.join(class_descs) or '{}'}}};")
    for i, c in enumerate(em.p.classes):
        em.line(f"const mx_class_desc* class_desc_{c.name}() {{ return &k_classes[{i}]; }}")
    em.line("void set_host(const mx_host_api* h) { mx::detail::g_write_stdout = h->write_stdout; "
              "mx::bind_interrupts(h); }")
    em.line("const mx_module_desc k_module = {MATX_NB_ABI_VERSION, MATX_NB_RUNTIME_VERSION, "
              f"{len(func_descs)}, k_funcs, {len(class_descs)}, k_classes, "
              f"{len(em.p.origins)}, g_origins, set_host}};")
    em.line(em.ns_close)
    em.line()
    em.line('extern "C" __attribute__((visibility("default"))) const mx_module_desc* matx_nb_module() {')
    em.line(f"  return &{em.ns_name + '::' if em.ns_name else ''}k_module;")
    em.line("}")


def descendants(em, c: ir.ClassDef) -> List[ir.ClassDef]:
    """c's subclasses in the program, bases before subclasses."""
    return [d for d in em.p.classes if d is not c and c in ir.class_chain(d)]


def host_callable(f: ir.Function) -> bool:
    params = f.params[1:] if f.is_method else f.params
    ret = resolve(f.returns)
    ret = ret.elem if isinstance(ret, GenType) else ret  # a generator reaches Python as a list
    return all(host_convertible(p.ty) and not isinstance(resolve(p.ty), GenType) for p in params) \
        and host_convertible(ret)


def host_slots(em, f: ir.Function, params: List[ir.Param]) -> List[Tuple[str, Optional[ir.Param]]]:
    """The argument slots the host fills, by position or by name: the
    positional parameters, then unnamed guard slots where parameters must
    not be filled by position (keyword-only ones; a classmethod's, whose
    CPython messages count cls) or the slots of *args, then the keyword-only
    parameters. (kind, param) each: "param", "guard" or "vararg"."""
    pos = [p for p in params if p.kind == "pos"]
    kwonly = [p for p in params if p.kind == "kwonly"]
    var = next((p for p in params if p.kind == "vararg"), None)
    kwarg = [("kwarg", p) for p in params if p.kind == "kwarg"]
    slots: List[Tuple[str, Optional[ir.Param]]] = [("param", p) for p in pos]
    room = max(0, MAX_HOST_ARGS - len(pos) - len(kwonly) - len(kwarg))
    if var is not None:
        slots += [("vararg", var)] * room
    elif kwonly or kwarg or f.decorator == "classmethod":
        slots += [("guard", None)] * room
    return slots + [("param", p) for p in kwonly] + kwarg


def emit_wrapper(em, f: ir.Function, callee: str, cls: Optional[ir.ClassDef], kind="func",
                 static_call: Optional[str] = None, pyname: Optional[str] = None) -> str:
    """Emits the host-facing wrapper of f; returns its mx_func_desc initializer.
    kind: "func" (a method where cls is given), "init"; static_call: the C++
    callee for static and class methods (called without self)."""
    params = f.params[1:] if f.is_method else f.params
    if pyname is None:
        pyname = f.name if cls is None else f"{cls.name}.{f.name}"
    wname = host_symbol("w", cls.name, f.name) if cls else host_symbol("w", f.name)
    if kind == "init":
        wname = host_symbol("w", cls.name) + "_new"
        pyname = cls.name
    elif static_call is not None:
        wname = host_symbol("w", *pyname.split("."))
    slots = host_slots(em, f, params)
    em.line(f"int {wname}(const mx_host_api* h, mx::Object* self, const mx_host_obj* args, "
              "int64_t nargs, mx_host_obj* result, mx_error* err) {")
    em.ind += 1
    em.line("(void)self; (void)args; (void)nargs;")
    em.line("return mx::guarded(err, [&] {")
    em.ind += 1
    if em.locks_module:  # this library's code may change module-level containers
        em.line("mx::HostLock module_held(h, mx::detail::g_module_lock);")
    if cls is not None and kind != "init" and static_call is None:
        # the instance's lock for the whole call, conversions included (runtime lock.h);
        # shared where the method only reads the instance (analysis/readonly.py)
        lock = "HostLockShared" if id(f) in em.shared_methods else "HostLock"
        em.line(f"mx::{lock} held(h, static_cast<mx::Instance*>(self)->host_lock);")
    # CPython's name for the function in bad-call messages, and whether it counts self/cls
    msg_name = f"{cls.name}.__init__" if kind == "init" else (
        f.qualname if f.inherited_from is None else f.inherited_from.qualname)
    offset = 1 if kind == "init" or f.is_method or f.decorator == "classmethod" else 0
    pos = [p for p in params if p.kind == "pos"]
    guards = sum(1 for k, _ in slots if k == "guard")
    if guards:
        em.line(f"// slots {len(pos)}..{len(pos) + guards - 1} take no argument: the parameters after "
                  "them come by name only")
        least = sum(1 for p in pos if p.default is None)
        nkwonly = sum(1 for p in params if p.kind == "kwonly")
        em.line(f"mx::check_positional(args, {len(pos)}, {least}, {guards}, {nkwonly}, "
                  f"{offset}, {cstr_literal(msg_name)});")
    required = [(i, p) for i, (k, p) in enumerate(slots) if k == "param" and p.kind == "kwonly"
                and p.default is None]
    if required:
        names = ", ".join(f'args[{i}] ? nullptr : "{p.name}"' for i, p in required)
        em.line(f"mx::check_kwonly_given({cstr_literal(msg_name)}, {{{names}}});")
    if em.checked_recursion:
        em.line("mx::enter_stack();")
    saved_func, em.func = em.func, f
    at = {id(p): i for i, (k, p) in enumerate(slots) if k == "param"}
    call_args = []
    for j, p in enumerate(params):
        if p.kind == "vararg":
            call_args.append(vararg_from_host(em, p, slots, pyname))
            continue
        if p.kind == "kwarg":  # the host passes the other keywords as a dict (matx_nb/library.py)
            i = next(i for i, (k, _) in enumerate(slots) if k == "kwarg")
            conv = f'mx::arg_from_host<{ctype(p.ty)}>(h, args[{i}], "{pyname}", "**{p.name}")'
            em.line(f"auto a{j} = args[{i}] ? {conv} : {ctype(p.ty)}();")
            call_args.append(f"a{j}")
            continue
        i = at[id(p)]
        conv = f'mx::arg_from_host<{ctype(p.ty)}>(h, args[{i}], "{pyname}", "{p.name}")'
        if p.default is not None:
            conv = f"(args[{i}] ? {conv} : {ctype(p.ty)}({expr_rules.coerced(em, p.default, p.ty)}))"
        em.line(f"auto a{j} = {conv};")
        call_args.append(f"a{j}")
    em.func = saved_func
    call_args = ", ".join(call_args)
    if kind == "init":
        rt_c, call = f"mx::Ref<C_{cls.name}>", f"C_{cls.name}::new_({call_args})"
    elif static_call is not None:
        rt_c, call = ctype(f.returns), f"{static_call}({call_args})"
    elif cls is not None:
        rt_c, call = ctype(f.returns), f"static_cast<C_{cls.name}*>(self)->m_{f.name}({call_args})"
    else:
        rt_c, call = ctype(f.returns), f"{callee}({call_args})"
    releases = f.has_loops_or_calls or kind == "init"
    if releases:
        em.line(f"{rt_c} r{{}};")
        em.line("{")
        em.line(f"  mx::NoGil nogil(h);")
        em.line(f"  r = {call};")
        em.line("}")
    else:
        em.line(f"{rt_c} r = {call};")
    if kind != "init":
        # Python sees in-place changes of its list/dict/set arguments (analysis/writeback.py)
        changed = f.mutated_params
        for j, p in enumerate(params):
            if p.name in changed and id(p) in at:  # a named parameter (not *args, **kwargs)
                em.line(f"mx::write_back(h, args[{at[id(p)]}], a{j});")
    if kind == "init":
        em.line(f"*result = h->new_object(class_desc_{cls.name}(), r.release());")
    else:
        em.line("*result = mx::result_to_host(h, r);")
    em.ind -= 1
    em.line("});")
    em.ind -= 1
    em.line("}")
    names = ", ".join(f'"{p.name}"' if k == "param" else f'"*{p.name}"' if k == "vararg" else
                      f'"**{p.name}"' if k == "kwarg" else '"*"' for k, p in slots) or "nullptr"
    types = ", ".join(f'"{p.ty}"' if k in ("param", "kwarg") else f'"{resolve(p.ty).elem}"'
                      if k == "vararg" else '""' for k, p in slots) or "nullptr"
    em.line(f"const char* const {wname}_names[] = {{{names}}};")
    em.line(f"const char* const {wname}_types[] = {{{types}}};")
    flag_list = ["MX_FN_RELEASES_GIL"] if releases else []
    if f in em.may_recurse or (kind == "init" and em.may_recurse):
        flag_list.append("MX_FN_MAY_RECURSE")
    flags = " | ".join(flag_list) or "0"
    rt = cls.name if kind == "init" else str(f.returns)
    pyfn = "__init__" if kind == "init" else pyname if static_call is not None else f.name
    required = sum(1 for p in pos if p.default is None)
    lock = "&mx::detail::g_module_lock" if em.locks_module else "nullptr"
    return (f'{{"{pyfn}", {len(slots)}, {wname}_names, {wname}_types, "{rt}", {wname}, {flags}, '
            f'{required}, {lock}}}')


def vararg_from_host(em, p: ir.Param, slots, pyname: str) -> str:
    """*args from the host: the filled vararg slots, in order, as a tuple."""
    first = next(i for i, (k, _) in enumerate(slots) if k == "vararg")
    n = sum(1 for k, _ in slots if k == "vararg")
    em.line(f"// slots {first}..{first + n - 1}: the positional arguments *{p.name} collects")
    et = ctype(resolve(p.ty).elem)
    v = f"a_{p.name}"
    em.line(f"{ctype(p.ty)} {v};")
    em.line(f"for (int64_t i = {first}; i < {first + n} && args[i]; ++i)")
    em.line(f'  {v}.push_back(mx::arg_from_host<{et}>(h, args[i], "{pyname}", "*{p.name}"));')
    return v


def emit_alloc(em, c: ir.ClassDef) -> str:
    """"C.__matx_alloc__": a new instance whose __init__ has not run (its
    attributes hold their types' defaults). Python builds instances this way,
    then calls __init__ (the compiled one, or a Python subclass's), as
    object.__new__ and __init__ do."""
    w = host_symbol("w", c.name) + "_alloc"
    em.line(f"int {w}(const mx_host_api* h, mx::Object*, const mx_host_obj*, int64_t, mx_host_obj* result, "
              "mx_error* err) {")
    em.line(f"  return mx::guarded(err, [&] {{ *result = h->new_object(class_desc_{c.name}(), "
              f"mx::Ref<C_{c.name}>::make().release()); }});")
    em.line("}")
    lock = "&mx::detail::g_module_lock" if em.locks_module else "nullptr"
    return f'{{"{c.name}.__matx_alloc__", 0, nullptr, nullptr, "{c.name}", {w}, 0, 0, {lock}}}'


def emit_class_abi(em, c: ir.ClassDef) -> str:
    init = ir.find_method(c, "__init__")
    if init is None:
        init = ir.Function(c.span, "__init__", f"{c.name}.__init__",
                           [ir.Param(c.span, "self", ClassType(c.name, c))], NONE, [],
                           origin=c.origin, is_method=True)
    init_desc = emit_wrapper(em, init, "", c, kind="init")
    methods = []
    for m in ir.all_methods(c).values():
        if not host_callable(m):
            continue
        # __init__ too: run again on an existing instance, or by a Python subclass's super().__init__
        methods.append(emit_wrapper(em, m, "", c))
    attrs = []
    for name, t in ir.all_attrs(c).items():
        if not host_convertible(t):
            continue
        g, s = host_symbol("g", c.name, name), host_symbol("s", c.name, name)
        em.line(f"int {g}(const mx_host_api* h, mx::Object* self, mx_host_obj* result, mx_error* err) {{")
        held = "mx::HostLock held(h, static_cast<mx::Instance*>(self)->host_lock);"
        em.line(f"  return mx::guarded(err, [&] {{ {held} *result = mx::Conv<{ctype(t)}>::to_host(h, "
                  f"static_cast<C_{c.name}*>(self)->a_{name}); }});")
        em.line("}")
        em.line(f"int {s}(const mx_host_api* h, mx::Object* self, mx_host_obj value, mx_error* err) {{")
        em.line(f"  return mx::guarded(err, [&] {{ auto v = mx::attr_from_host<{ctype(t)}>(h, value, "
                  f'"{c.name}", "{name}"); {held} static_cast<C_{c.name}*>(self)->a_{name} = std::move(v); }});')
        em.line("}")
        live = "nullptr, nullptr"
        if isinstance(resolve(t), (ListType, DictType, SetType)):  # a live handle for the host (live.h)
            em.headers.add("matx_nb/live.h")
            r = f"r_{c.name}_{name}"
            em.line(f"mx::Object* {r}(mx::Object* self) {{ mx::Object* o = "
                      f"static_cast<C_{c.name}*>(self)->a_{name}.object(); if (o) o->incref(); return o; }}")
            live = f"{r}, mx::live::ops_of<{ctype(t)}>()"
        attrs.append(f'{{"{name}", "{t}", {g}, {s}, {live}}}')
    em.line(f"const mx_func_desc k_methods_{c.name}[] = {{{', '.join(methods) or '{}'}}};")
    em.line(f"const mx_attr_desc k_attrs_{c.name}[] = {{{', '.join(attrs) or '{}'}}};")
    layout = em.layouts.get(c.name, c.name)
    return (f'{{"{c.name}", "{layout}", {init_desc}, {len(methods)}, k_methods_{c.name}, '
            f'{len(attrs)}, k_attrs_{c.name}}}')
