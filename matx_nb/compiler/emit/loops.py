"""C++ for loops over any iterable (incl. enumerate, zip, reversed and generator
expressions), the folds of the builtins that consume iterables item by item
(sum, any, all, min, max: emit/builtins.py calls them) and string formatting.
A mixin of emitter.Emitter.
"""
from __future__ import annotations

from typing import Callable, List

from . import cpp
from .. import ir, kinds, modules
from ..types import (BOOL, BYTES, FLOAT, INT, STR, AnyType, DictType, GenType, ListType, SetType, TupleType, Type,
                     VarTupleType, resolve)

OnItem = Callable[[str, Type], None]  # emits the code for one item (C++ value, its type)


from .builtins import builtin_name  # noqa: E402  (re-exported for the loop emitters)


class LoopEmitter:
    """Mixin of Emitter."""

    def emit_for(self, target: ir.Expr, it: ir.Expr, body, node, declare=False, borrow=False):
        """A loop binding `target` to each item of `it`; body() emits the inside.
        borrow: `target` is a reference to the list's slot (see analysis/borrow.py)."""
        def on_item(item, et):
            if borrow:
                # moves_item: an append takes the loop's own item (borrow.mark_item_moves)
                ref = "auto&" if getattr(node, "moves_item", False) else "const auto&"
                self.line(f"{ref} {cpp.cname(target.id)} = {item};")
            elif declare:
                # A comprehension's target is declared in a block of its own: the
                # item may read a same-named variable of an inner comprehension
                # (`(x * x for x in (x for x in xs if x))`).
                tmp = self.new_tmp("item")
                self.line(f"auto&& {tmp} = {item};")
                self.block_open()
                self.bind(target, tmp, et, declare)
                body()
                self.block_close()
                return
            else:
                self.bind(target, item, et, declare)
            body()
        self.iterate(it, node, on_item)

    def block_open(self):
        self.line("{")
        self.ind += 1

    def block_close(self):
        self.ind -= 1
        self.line("}")

    def iterate(self, it: ir.Expr, node, on_item: OnItem):
        """Emits a loop over the items of `it`, calling on_item inside it. Each
        iteration first polls for an interrupt (Ctrl-C, a cancelled request:
        runtime interrupt.h), except where the loop is another one's (enumerate,
        a generator expression), which polls itself."""
        ctype, elem_type = cpp.ctype, kinds.elem_type
        t = resolve(it.ty)
        bname = builtin_name(it)
        special = ir.primitive_named(it, "str", "split") or ir.primitive_named(it, "dict", ("items", "keys", "values"))
        strip_mined = (t == kinds.RANGE and (len(it.args) <= 2 or kinds.const_int(it.args[2]) == 1)) or \
            isinstance(t, (ListType, VarTupleType)) or t in (STR, BYTES, kinds.FILE)
        if bname not in ("enumerate", "zip", "reversed") and strip_mined and not special:
            pass  # polls once per block (blocked_loop)
        elif bname != "enumerate" and not (isinstance(it, ir.GenExp) and len(it.generators) == 1):
            inner, loc, budget = on_item, self.loc(node), self.new_tmp("polls")
            self.line(f"int32_t {budget} = 0;")  # the first iteration polls

            def on_item(item, et):
                self.line(f"mx::poll_every({budget}, {loc});")
                inner(item, et)
        if ir.primitive_named(it, "str", "split") and not it.args and not it.kwonly:
            # for w in s.split(): the words one at a time, no list
            w, item = self.new_tmp("words"), self.new_tmp("word")
            self.block_open()
            self.line(f"mx::SplitWords {w}({self.expr(it.func.value)});")
            self.line(f"mx::Str {item};")
            self.line(f"while ({w}.next({item})) {{")
            self.ind += 1
            on_item(item, STR)
            self.block_close()
            self.block_close()
            return
        if ir.primitive_named(it, "dict", ("items", "keys", "values")):
            # for k, v in d.items(): walk the table without copying it
            d = self.new_tmp("d")
            self.block_open()
            self.line(f"auto {d} = {self.expr(it.func.value)};")
            what = it.resolved.name
            self.emit_table_loop(d, node, lambda e: {
                "items": f"{ctype(t.elem)}{{{e}.key, {e}.value}}",
                "keys": f"{e}.key", "values": f"{e}.value"}[what], on_item, elem_t=t.elem)
            self.block_close()
            return
        if bname == "enumerate":
            self.iterate_enumerate(it, node, on_item)
            return
        if bname == "zip":
            self.iterate_zip(it, node, on_item)
            return
        if bname == "reversed":
            self.iterate_reversed(it, node, on_item)
            return
        if isinstance(it, ir.GenExp) and len(it.generators) == 1:
            self.iterate_genexp(it, on_item)
            return
        if t == kinds.RANGE:
            args = [self.coerced(a, INT) for a in it.args]
            k = self.new_tmp("i")
            if len(args) <= 2 or kinds.const_int(it.args[2]) == 1:
                lo, hi = ("0L", args[0]) if len(args) == 1 else (args[0], args[1])
                e = self.new_tmp("end")
                start, marks = len(self.out), len(self.line_map)
                b = self.new_tmp("block")
                self.blocked_loop(f"int64_t {k} = {lo}, {e} = {hi}", f"{k} < {e}",
                                  f"const int64_t {b} = mx::block_end({k}, {e})", f"{k} < {b}",
                                  k, e, lambda: on_item(k, INT), node)
                self.version_small_range(start, marks, k, e, lo, hi)
                return
            else:
                n, st, lo = self.new_tmp("n"), self.new_tmp("step"), self.new_tmp("start")
                self.line(f"int64_t {lo} = {args[0]}, {st} = {args[2]};")
                self.line(f"int64_t {n} = mx::range_len({lo}, {args[1]}, {st}, {self.loc(it)});")
                c = self.new_tmp("k")
                self.line(f"for (int64_t {c} = 0, {k} = {lo}; {c} < {n}; ++{c}, {k} += ({c} < {n} ? {st} : 0)) {{")
            self.ind += 1
            on_item(k, INT)
            self.block_close()
            return
        seq = self.new_tmp("seq")
        k = self.new_tmp("k")
        if isinstance(t, (ListType, VarTupleType)) or t in (STR, BYTES, kinds.FILE):
            self.block_open()
            if t == kinds.FILE:  # a text file iterates over its lines
                self.line(f"auto {seq} = mx::file_readlines({self.expr(it)}, {self.loc(it)});")
            else:
                self.line(f"auto {seq} = {self.expr(it)};")
            if isinstance(t, (ListType, VarTupleType)) or t == kinds.FILE:
                item, et = f"{seq}[{k}]", t.elem if isinstance(t, (ListType, VarTupleType)) else STR
            elif t == STR:
                item, et = f"mx::str_char({seq}[size_t({k})])", STR
            else:
                item, et = f"int64_t(static_cast<unsigned char>({seq}[size_t({k})]))", INT
            b = self.new_tmp("block")
            # the size is read at each step, as Python's iterator does (a list may grow)
            self.blocked_loop(f"int64_t {k} = 0", f"{k} < int64_t({seq}.size())",
                              f"const int64_t {b} = {k} + mx::kPollBlock",
                              f"{k} < {b} && {k} < int64_t({seq}.size())",
                              k, "INT64_MAX", lambda: on_item(item, et), node)
            self.block_close()
            return
        if isinstance(t, (DictType, SetType)):
            self.block_open()
            self.line(f"auto {seq} = {self.expr(it)};")
            self.emit_table_loop(seq, node, lambda e: f"{e}.key", on_item,
                                 elem_t=t.key if isinstance(t, DictType) else t.elem)
            self.block_close()
            return
        if isinstance(t, TupleType):
            self.block_open()
            et = elem_type(t)
            self.line(f"auto {seq} = mx::tuple_items<{ctype(et)}>({self.expr(it)});")
            self.line(f"for (size_t {k} = 0; {k} < {seq}.size(); ++{k}) {{")
            self.ind += 1
            on_item(f"{seq}[{k}]", et)
            self.block_close()
            self.block_close()
            return
        if isinstance(t, GenType):  # pull values one at a time
            self.block_open()
            g, v = self.new_tmp("gen"), self.new_tmp("v")
            self.line(f"auto {g} = {self.expr(it)};")
            self.line(f"{ctype(t.elem)} {v}{{}};")
            self.line(f"while ({g}.next({v})) {{")
            self.ind += 1
            on_item(v, t.elem)
            self.block_close()
            self.block_close()
            return
        if t == modules.NDARRAY:
            self.nd_iterate(it, on_item)
            return
        if isinstance(t, AnyType):  # iterated at run time over a snapshot of its items
            self.headers.add("matx_nb/dyn.h")
            self.block_open()
            self.line(f"auto {seq} = mx::dyn_iter({self.expr(it)}, {self.loc(it)});")
            self.line(f"for (int64_t {k} = 0; {k} < {seq}.size(); ++{k}) {{")
            self.ind += 1
            on_item(f"{seq}[{k}]", t)
            self.block_close()
            self.block_close()
            return
        self.line(f'static_assert(sizeof(int) == 0, "cannot iterate over {t}");')

    def blocked_loop(self, init: str, cond: str, block: str, block_cond: str, k: str, stop: str, body, node):
        """A counted loop polling for an interrupt once per block of iterations:

            for (init; cond;) {            // one block at a time
              mx::poll(loc);
              for (block; block_cond; ++k) { body }
            }

        `continue` steps the inner loop; a `break` aimed at this loop must leave
        both, so it sets the counter to `stop` (where `cond` is false) before
        breaking the inner one (stmt_Break reads break_exits)."""
        level = len(self.loop_flags)
        saved = self.break_exits.get(level)
        self.break_exits[level] = f"{k} = {stop};"
        self.line(f"for ({init}; {cond};) {{")
        self.line(f"  mx::poll({self.loc(node)});")
        self.line(f"  for ({block}; {block_cond}; ++{k}) {{")
        self.ind += 2
        body()
        self.ind -= 1
        self.line("}")
        self.block_close()
        if saved is None:
            del self.break_exits[level]
        else:
            self.break_exits[level] = saved

    def emit_table_loop(self, holder, node, item_of, on_item: OnItem, elem_t):
        tab, n0, k = self.new_tmp("tab"), self.new_tmp("n0"), self.new_tmp("k")
        self.line(f"auto& {tab} = {holder}.table();")
        self.line(f"const int64_t {n0} = {tab}.size();")
        self.line(f"for (size_t {k} = 0; {k} < {tab}.entries().size(); ++{k}) {{")
        self.ind += 1
        self.line(f"if ({tab}.size() != {n0}) mx::raise_changed_size({self.loc(node)});")
        self.line(f"if (!{tab}.entries()[{k}].live) continue;")
        on_item(item_of(f"{tab}.entries()[{k}]"), elem_t)
        self.block_close()

    def iterate_enumerate(self, it: ir.Call, node, on_item: OnItem):
        ctype = cpp.ctype
        cnt = self.new_tmp("cnt")
        self.block_open()
        start = self.coerced(it.args[1], INT) if len(it.args) > 1 else "0L"
        self.line(f"int64_t {cnt} = {start};")

        def item(code, et):
            i = self.new_tmp("i")
            self.line(f"int64_t {i} = {cnt}++;")
            on_item(f"mx::Tuple<int64_t, {ctype(et)}>({i}, {code})", TupleType((INT, et)))
        self.iterate(it.args[0], node, item)
        self.block_close()

    def as_list(self, a: ir.Expr) -> str:
        """a's items as an mx::List (the list itself for a list: no copy)."""
        t = resolve(a.ty)
        if isinstance(t, (ListType, VarTupleType)):  # a VTuple is a List
            return self.expr(a)
        if t == kinds.RANGE:
            rargs = [self.coerced(x, INT) for x in a.args]
            return f"mx::range_list({', '.join(rargs)}, {self.loc(a)})"
        if t == kinds.FILE:
            return f"mx::file_readlines({self.expr(a)}, {self.loc(a)})"
        return f"mx::list_from<{cpp.ctype(kinds.elem_type(t))}>({self.expr(a)})"

    def iterate_zip(self, it: ir.Call, node, on_item: OnItem):
        ctype = cpp.ctype
        self.block_open()
        zs = []
        for a in it.args:
            z = self.new_tmp("z")
            self.line(f"auto {z} = {self.as_list(a)};")
            zs.append(z)
        k = self.new_tmp("k")
        cond = " && ".join(f"{k} < {z}.size()" for z in zs)
        self.line(f"for (int64_t {k} = 0; {cond}; ++{k}) {{")
        self.ind += 1
        tt = resolve(it.ty).elem
        on_item(f"{ctype(tt)}({', '.join(f'{z}[{k}]' for z in zs)})", tt)
        self.block_close()
        self.block_close()

    def version_small_range(self, start: int, marks: int, k: str, e: str, lo: str, hi: str):
        """The range loop just emitted (self.out[start:]), when its body multiplies
        with an overflow check, gets a second copy for bounds within 32 bits, where
        g++ knows the counter's range and drops the checks it can prove (`i * i`):
        `sum(i * i % 7 for i in range(n))` runs about 25% faster. Bounds are
        evaluated once, lo before hi, as before."""
        body = self.out[start:]
        if len(body) > 80 or not any("mx::mul(" in ln for ln in body[1:]):
            return
        ind = "  " * self.ind
        lo_t, hi_t = self.new_tmp("lo"), self.new_tmp("hi")
        header = body[0].replace(f"{k} = {lo}, {e} = {hi};", f"{k} = {lo_t}, {e} = {hi_t};", 1)
        fast = [header, f"{ind}  mx::assume_small_range({k});"] + body[1:]
        head = [f"{ind}int64_t {lo_t} = {lo}, {hi_t} = {hi};",
                f"{ind}if (mx::small_range({lo_t}, {hi_t})) {{"] + fast + [f"{ind}}} else {{"]
        self.out[start:] = head + [header] + body[1:] + [f"{ind}}}"]
        # the body's source-line marks (made since `marks`) now point into the second copy
        self.line_map[marks:] = [(i + len(head), f, ln) for i, f, ln in self.line_map[marks:]]

    def iterate_reversed(self, it: ir.Call, node, on_item: OnItem):
        et = resolve(it.ty).elem
        seq, k = self.new_tmp("seq"), self.new_tmp("k")
        self.block_open()
        a = it.args[0]
        if isinstance(resolve(a.ty), ListType):
            # Like CPython's list_reverseiterator: stops if the list shrinks below the index.
            self.line(f"auto {seq} = {self.expr(a)};")
            self.line(f"for (int64_t {k} = {seq}.size() - 1; {k} >= 0 && {k} < {seq}.size(); --{k}) {{")
        else:
            self.line(f"auto {seq} = {self.as_list(a)};")
            self.line(f"for (int64_t {k} = {seq}.size() - 1; {k} >= 0; --{k}) {{")
        self.ind += 1
        on_item(f"{seq}[{k}]", et)
        self.block_close()
        self.block_close()

    def iterate_genexp(self, e: ir.GenExp, on_item: OnItem):
        """The items of a generator expression, computed as the loop asks for them."""
        self.each_generated(e.generators, lambda: on_item(self.expr(e.elt), e.elt.ty))

    def each_generated(self, generators: List[ir.Comprehension], leaf: Callable[[], None]):
        """Nested loops and filters of a comprehension; leaf() emits the innermost code."""
        def level(i):
            if i == len(generators):
                leaf()
                return
            g = generators[i]

            def inner():
                for cond in g.ifs:
                    self.line(f"if (!{self.truth(cond)}) continue;")
                level(i + 1)
            self.emit_for(g.target, g.iter, inner, g, declare=True)
        level(0)

    # ---- builtins that fold an iterable --------------------------------------------
    def fold(self, arg: ir.Expr, ret: str, init: List[str], step: OnItem, final: str) -> str:
        """An immediately-invoked lambda looping over arg's items; step may return early
        (any/all stop at the deciding item, as Python does)."""
        saved_out, saved_ind = self.out, self.ind
        self.out, self.ind = [], 1
        for x in init:
            self.line(x)
        self.loop_flags.append(None)
        if isinstance(arg, ir.GenExp):
            self.iterate_genexp(arg, step)
        else:
            self.iterate(arg, arg, step)
        self.loop_flags.pop()
        self.line(final)
        body = " ".join(x.strip() for x in self.out)
        self.out, self.ind = saved_out, saved_ind
        return f"([&]() -> {ret} {{ {body} }}())"

    def fold_any_all(self, e: ir.Call, name: str) -> str:
        want = "" if name == "any" else "!"
        hit = "true" if name == "any" else "false"

        def step(item, et):
            test = item if resolve(et) == BOOL else f"mx::truth({item})"
            self.line(f"if ({want}({test})) return {hit};")
        return self.fold(e.args[0], "bool", [], step, f"return {'false' if name == 'any' else 'true'};")

    def fold_sum(self, e: ir.Call) -> str:
        ctype = cpp.ctype
        rt = resolve(e.ty)
        total = self.new_tmp("total")
        start = self.coerced(e.args[1], rt) if len(e.args) > 1 else ("0.0" if rt == FLOAT else "0L")
        loc = self.loc(e)

        def step(item, et):
            self.line(f"{total} = mx::add({total}, {self.coerce(item, et, rt)}, {loc});")
        return self.fold(e.args[0], ctype(rt), [f"{ctype(rt)} {total} = {start};"], step, f"return {total};")

    def fold_min_max(self, e: ir.Call, name: str) -> str:
        ctype = cpp.ctype
        rt = resolve(e.ty)
        best = self.new_tmp("best")
        init = [f"std::optional<{ctype(rt)}> {best};"]
        dflt = e.kwonly.get("default") if getattr(e, "kwonly", None) else None
        if dflt is not None:
            d = self.new_tmp("dflt")
            init.append(f"{ctype(rt)} {d} = {self.coerced(dflt, rt)};")
            final = f"return {best} ? *{best} : {d};"
        else:
            final = (f"if (!{best}) mx::raise_empty_arg(\"{name}\", {self.loc(e)}); return *{best};")

        key = e.kwonly.get("key") if getattr(e, "kwonly", None) else None
        if key is not None:  # compare key(item); keep the first best item, as CPython does
            kf, bk = self.new_tmp("key"), self.new_tmp("best_key")
            init += [f"auto {kf} = {self.expr(key)};", f"std::optional<{ctype(e.key_type)}> {bk};"]

        def step(item, et):
            v = self.new_tmp("v")
            self.line(f"{ctype(rt)} {v} = {self.coerce(item, et, rt)};")
            if key is not None:
                k = self.new_tmp("k")
                self.line(f"auto {k} = {kf}({v});")
                cmp = f"mx::lt({k}, *{bk})" if name == "min" else f"mx::lt(*{bk}, {k})"
                self.line(f"if (!{best} || {cmp}) {{ {best} = {v}; {bk} = {k}; }}")
                return
            cmp = f"mx::lt({v}, *{best})" if name == "min" else f"mx::lt(*{best}, {v})"
            self.line(f"if (!{best} || {cmp}) {best} = {v};")
        return self.fold(e.args[0], ctype(rt), init, step, final)

    # ---- other builtins -------------------------------------------------------------
    # ---- string formatting --------------------------------------------------------------
    def expr_FormatField(self, e) -> str:  # only reached through FString
        return self.expr(e.value)

    def expr_FString(self, e: ir.FString, shared=None) -> str:
        """Builds the text part by part, evaluating each field in order."""
        b = self.new_tmp("fb")
        stmts = [f"mx::StrBuilder {b};"]
        loc = self.loc(e)
        for p in e.parts:
            if isinstance(p, ir.Const):
                stmts.append(f"{b}.put({self.const_str(p.value)});")
                continue
            v = shared[id(p.value)] if shared is not None and p.shared else self.expr(p.value)
            if p.conversion == "r":
                v = f"mx::repr({v})"
            elif p.conversion == "s":
                v = f"mx::to_str({v})"
            elif p.conversion == "a":
                v = f"mx::ascii({v})"
            if p.spec is None:
                stmts.append(f"{b}.put(mx::to_str({v}));")
            else:
                tmp = self.new_tmp("fv")
                stmts.append(f"auto {tmp} = {v};")
                spec = self.expr_FString(p.spec, shared)
                stmts.append(f"{b}.put(mx::format_value({tmp}, {spec}, {loc}));")
        stmts.append(f"return {b}.build();")
        return f"([&]() -> mx::Str {{ {' '.join(stmts)} }}())"

    def str_format(self, e: ir.Call) -> str:
        """'...'.format(args): the arguments once each, in order, then the text."""
        shared = {}
        stmts = []
        for a in list(e.args) + [kw.value for kw in getattr(e, "format_kws", [])]:
            if id(a) in shared:
                continue
            tmp = self.new_tmp("fa")
            stmts.append(f"auto {tmp} = {self.expr(a)};")
            shared[id(a)] = tmp
        text = self.expr_FString(e.formatted, shared)
        return f"([&]() -> mx::Str {{ {' '.join(stmts)} return {text}; }}())"

    def percent_format(self, e: ir.BinOp) -> str:
        """'fmt' % args: each conversion becomes a call on the matching item."""
        pc = e.percent
        loc = self.loc(e)
        rt = resolve(e.right.ty)
        args = self.new_tmp("pa")
        stmts = [f"auto {args} = {self.expr(e.right)};"]
        if pc.arity_error:
            stmts.append(f'mx::raise_type_error("{pc.arity_error}", {loc});')
        b = self.new_tmp("pb")
        stmts.append(f"mx::StrBuilder {b};")
        for piece in pc.pieces:
            if isinstance(piece, str):
                stmts.append(f"{b}.put({self.const_str(piece)});")
                continue
            flags, width, prec, conv, i = piece
            if pc.arity_error:
                break
            item = f"std::get<{i}>({args})" if isinstance(rt, TupleType) else args
            p = -1 if prec is None else int(prec or "0")
            stmts.append(f'{b}.put(mx::percent_one({item}, "{flags}", {int(width or "0")}, {p}, '
                         f"'{conv}', {loc}));")
        stmts.append(f"return {b}.build();")
        return f"([&]() -> mx::Str {{ {' '.join(stmts)} }}())"

    def inplace_container_op(self, s: ir.AugAssign) -> bool:
        """s |= t, d |= e, xs *= n change the object itself (other names see it)."""
        tt = resolve(s.target.ty)
        fn = None
        if isinstance(tt, SetType) and s.op in ("|", "&", "-", "^"):
            fn = {"|": "set_ior", "&": "set_iand", "-": "set_isub", "^": "set_ixor"}[s.op]
        elif isinstance(tt, DictType) and s.op == "|":
            fn = "dict_ior"
        elif isinstance(tt, ListType) and s.op == "*":
            fn = "list_imul"
        if fn is None:
            return False
        value = self.coerced(s.value, INT) if fn == "list_imul" else self.expr(s.value)
        self.line(f"mx::{fn}({self.expr(s.target)}, {value}, {self.loc(s)});")
        return True
