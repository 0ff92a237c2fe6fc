"""Loops whose variable can borrow the list's item instead of holding its own reference.

`for w in words:` normally copies each item into `w`: an atomic increment and
decrement of the item's reference count per iteration, which dominates loops that
do little else (a word count, a filter). When nothing in the loop can change the
list being walked, the item stays in its slot for the whole iteration, and `w`
can be a `const T&` to that slot instead. This module decides, per function,
which `for` statements are safe; codegen binds their variable by reference.

A loop borrows when all of these hold (each is conservative):
- it walks a typed list (not a str, a file or an iterator) into a plain name of
  the item type, and the item type is reference-counted;
- the name is used nowhere else in the function (not before the loop, not after
  it, not in its `else`), and the loop binds it only through its target;
- the function is not a generator (a suspended loop lets the caller run);
- nobody can mutate the list object during the loop:
  - a fresh list (`s.split()`, a list display or comprehension, `sorted(...)`,
    `list(...)`) is held by the loop alone;
  - a local that only ever holds fresh lists and never escapes (is not stored,
    passed to user code, captured, ...) can be changed only through its name:
    the loop body must not mutate it;
  - a parameter the function never rebinds can be reached by others: the body
    must not run user code (calls of user functions, methods, closures, magic
    methods of class instances, dynamic `Any` operations, modules) and may mutate
    lists of the same type only through fresh, non-escaping locals (which can
    never be the parameter's object).
"""
from typing import Dict, List, Optional, Set

from .. import ir, primitives
from ..types import AnyType, BOOL, ClassType, FLOAT, FuncType, INT, ListType, NONE, STR, children, resolve

# Methods of list that change it (the only way typed code mutates a list in place,
# with subscript and slice assignment, `del`, and `+=`).
LIST_MUTATORS = frozenset(("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"))
# str methods returning a new list.
FRESH_STR_METHODS = primitives.FRESH_STR
FRESH_BUILTINS = primitives.FRESH_BUILTINS
# Builtins that read a list argument without keeping it.
READING_BUILTINS = primitives.READING_BUILTINS
# Calls that run no user code (a compiled function could change the list).
SAFE_CALLS = (ir.BuiltinCall, ir.PrimitiveCall, ir.FormatCall, ir.NoOp)


def _walk(node, parent=None, out=None):
    """(node, parent) for every node under node, nested functions and lambdas included."""
    if out is None:
        out = []
    if isinstance(node, list):
        for x in node:
            _walk(x, parent, out)
        return out
    if isinstance(node, ir.FuncDef):
        out.append((node, parent))
        _walk(node.func.body, node, out)
        return out
    if isinstance(node, ir.Node):
        out.append((node, parent))
        for v in ir.child_nodes(node):
            _walk(v, node, out)
    return out


def _store_targets(node) -> List[ir.Name]:
    """The names a statement binds."""
    def names(t):
        if isinstance(t, ir.Name):
            return [t]
        if isinstance(t, (ir.TupleLit, ir.ListLit)):
            return [n for e in t.elts for n in names(e)]
        return []
    if isinstance(node, ir.Assign):
        return [n for t in node.targets for n in names(t)]
    if isinstance(node, (ir.AugAssign, ir.For)):
        return names(node.target)
    if isinstance(node, ir.Delete):
        return [n for t in node.targets for n in names(t)]
    if isinstance(node, ir.Comprehension):
        return names(node.target)
    return []


def _is_fresh(e) -> bool:
    """An expression that makes a new list nobody else refers to."""
    if isinstance(e, (ir.ListLit, ir.ListComp)) and not isinstance(e, ir.GenExp):
        return True
    return ir.primitive_named(e, "str", FRESH_STR_METHODS) or ir.builtin_named(e, FRESH_BUILTINS)


def _mentions_objects(t) -> bool:
    """Whether values of type t may run user code (class instances) or dispatch at run time (Any)."""
    t = resolve(t)
    if isinstance(t, (ClassType, AnyType, FuncType)):
        return True  # instances (magic methods), Any (dynamic dispatch), functions (user code)
    return any(_mentions_objects(c) for c in children(t))


class _Facts:
    def __init__(self, f: ir.Function):
        self.f = f
        self.pairs = _walk(f.body)
        self.parent: Dict[int, object] = {id(n): p for n, p in self.pairs}
        self.stores: Dict[str, List[ir.Node]] = {}  # name -> binding statements
        self.uses: Dict[str, List[ir.Name]] = {}
        for n, _ in self.pairs:
            for t in _store_targets(n):
                self.stores.setdefault(t.id, []).append(n)
            if isinstance(n, ir.Name):
                self.uses.setdefault(n.id, []).append(n)
        self.params = {p.name for p in f.params}
        self._fresh_local: Dict[str, bool] = {}

    def fresh_local(self, name: str) -> bool:
        """A local whose every binding is `name = <fresh list>` and whose object never escapes."""
        if name in self._fresh_local:
            return self._fresh_local[name]
        ok = name not in self.params and name not in getattr(self.f, "captures", ()) and \
            bool(self.stores.get(name)) and \
            all(isinstance(s, ir.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name)
                and _is_fresh(s.value) for s in self.stores[name])
        if ok:
            ok = all(self._keeps_inside(u) for u in self.uses.get(name, ()))
        self._fresh_local[name] = ok
        return ok

    def _keeps_inside(self, use: ir.Name) -> bool:
        """A use of a list-holding name that does not hand its object to anyone."""
        p = self.parent.get(id(use))
        if isinstance(p, ir.Assign):
            return use in p.targets  # a binding; `x = name` would alias it
        if isinstance(p, (ir.For, ir.Comprehension)):
            return p.iter is use or p.target is use
        if isinstance(p, ir.Attribute):
            call = self.parent.get(id(p))
            return isinstance(call, ir.Call) and call.func is p and ir.primitive_named(call, "list")
        if isinstance(p, ir.Subscript):
            return p.value is use
        if isinstance(p, ir.Compare):
            return use in p.comparators and all(op in ("in", "not in") for op in p.ops)
        if isinstance(p, ir.Call):
            if use in p.args and ir.builtin_named(p, READING_BUILTINS):
                return True
            return use in p.args and ir.primitive_named(p, "str", "join")
        if isinstance(p, ir.Return):
            return True
        if isinstance(p, ir.AugAssign):
            return p.target is use
        if isinstance(p, ir.Delete):
            return False
        return False

    def mutations(self, body, list_ty) -> List[ir.Expr]:
        """The receivers of every in-place change of a list of type list_ty in body."""
        out = []
        for n, p in _walk(body):
            if isinstance(n, ir.Call) and ir.primitive_named(n, "list", LIST_MUTATORS) and \
                    isinstance(n.func, ir.Attribute) and resolve(n.func.value.ty) == list_ty:
                out.append(n.func.value)
            targets = []
            if isinstance(n, ir.Assign):
                targets = n.targets
            elif isinstance(n, ir.Delete):
                targets = n.targets
            elif isinstance(n, ir.AugAssign):
                targets = [n.target]
            for t in targets:
                if isinstance(t, ir.Subscript) and resolve(t.value.ty) == list_ty:
                    out.append(t.value)
                elif isinstance(t, ir.Name) and isinstance(n, ir.AugAssign) and resolve(t.ty) == list_ty:
                    out.append(t)
        return out

    def runs_user_code(self, body) -> bool:
        for n, _ in _walk(body):
            if isinstance(n, ir.Call):
                if not isinstance(n.resolved, SAFE_CALLS):
                    return True
                values = list(n.args) + [k.value for k in n.keywords]
                if any(_mentions_objects(a.ty) for a in values if getattr(a, "ty", None) is not None):
                    return True  # print(obj), sorted(objs), ...: magic methods
            elif isinstance(n, (ir.BinOp, ir.Compare, ir.UnaryOp, ir.Subscript, ir.For, ir.AugAssign)):
                operands = [getattr(n, k, None) for k in ("left", "right", "operand", "value", "iter", "target")]
                operands += list(getattr(n, "comparators", ()))
                if any(o is not None and getattr(o, "ty", None) is not None and _mentions_objects(o.ty)
                       for o in operands):
                    return True
            elif isinstance(n, (ir.Yield, ir.FuncDef, ir.Lambda)):
                return True
        return False

    def borrows(self, s: ir.For) -> bool:
        t = resolve(s.iter.ty)
        if not isinstance(s.target, ir.Name) or not isinstance(t, ListType):
            return False
        x = s.target.id
        elem = resolve(t.elem)
        if elem in (INT, FLOAT, BOOL, NONE):
            return False  # nothing to save
        if s.target.ty is not None and resolve(s.target.ty) != elem:
            return False
        if x in getattr(self.f, "maybe_unbound", ()) or x in self.params or \
                x in getattr(self.f, "captures", ()):
            return False
        if self.stores.get(x) != [s]:
            return False
        inside = {id(n) for n, _ in _walk(s.body)}
        if any(u is not s.target and id(u) not in inside for u in self.uses.get(x, ())):
            return False
        it = s.iter
        if _is_fresh(it):
            return True
        if not isinstance(it, ir.Name):
            return False
        if self.fresh_local(it.id):
            return not any(isinstance(r, ir.Name) and r.id == it.id for r in self.mutations(s.body, t))
        if it.id in self.params and not self.stores.get(it.id) and it.id not in self.f.assigned_params:
            if self.runs_user_code(s.body):
                return False
            return all(isinstance(r, ir.Name) and r.id != it.id and self.fresh_local(r.id)
                       for r in self.mutations(s.body, t))
        return False


def borrowed_loops(f: ir.Function) -> Set[int]:
    """ids of the `for` statements of f (not of its nested functions) whose variable
    can be a reference to the list's slot."""
    if f.is_generator:
        return set()
    facts = _Facts(f)
    out = set()
    for n, _ in facts.pairs:
        if isinstance(n, ir.For) and _owner(facts, n) is None and facts.borrows(n):
            out.add(id(n))
    return out


def mark_item_moves(f: ir.Function, loops: Set[int]) -> None:
    """`for w in s.split(): ... kept.append(w)`: a streamed word belongs to the loop
    (SplitWords) and is dead after its last read in the iteration, so an append that
    is that last read moves it into the list (no reference count update). Marks the
    read (Name.move_from) and the loop (For.moves_item: its variable is bound as a
    mutable reference). Only borrowed loops qualify: their variable is read nowhere
    else and bound only by the loop."""
    for n, _ in _walk(f.body):
        if isinstance(n, ir.For) and id(n) in loops and _is_split_words(n.iter) and \
                isinstance(n.target, ir.Name):
            _mark_last_appends(n, n.target.id)


def _mark_last_appends(loop: ir.For, name: str) -> None:
    def reads(node) -> int:
        return sum(1 for x, _ in _walk(node) if isinstance(x, ir.Name) and x.id == name)

    def moved_append(st) -> Optional[ir.Name]:
        """`lst.append(name)` with name read once, of the list's exact item type."""
        c = st.value if isinstance(st, ir.ExprStmt) else None
        if not (isinstance(c, ir.Call) and ir.primitive_named(c, "list", "append")
                and len(c.args) == 1 and not c.keywords and isinstance(c.func, ir.Attribute)):
            return None
        a, lt = c.args[0], resolve(c.func.value.ty)
        if not (isinstance(a, ir.Name) and a.id == name and reads(st) == 1 and isinstance(lt, ListType)
                and resolve(lt.elem) == STR and resolve(a.ty) == STR and
                ir.is_local(a) and not a.check_bound):
            return None
        return a

    def visit(block, after_clean: bool):
        for i, st in enumerate(block):
            clean = after_clean and not any(reads(x) for x in block[i + 1:])
            if isinstance(st, ir.If):  # the test runs first; one branch runs
                visit(st.body, clean)
                visit(st.orelse, clean)
            elif clean:
                a = moved_append(st)
                if a is not None:
                    a.move_from = True
                    loop.moves_item = True

    visit(loop.body, True)


def _owner(facts: _Facts, node):
    """The nested FuncDef a node belongs to, or None for f itself."""
    p = facts.parent.get(id(node))
    while p is not None:
        if isinstance(p, ir.FuncDef):
            return p
        p = facts.parent.get(id(p))
    return None


# str methods with an overload taking a temporary, which edits it in place when
# nobody else holds it (runtime str_methods.h).
IN_PLACE_STR_METHODS = primitives.IN_PLACE_STR


def mark_self_move(target: ir.Name, value: ir.Expr, f) -> None:
    """`s = s.replace(a, b)...`: the old value of s is dead once the right side has
    read it, so its one read may move it into a method that then edits the buffer in
    place. Marks that read (Name.move_from) when it is the receiver of such a method
    and s appears nowhere else in the statement."""
    if f is None or target.id not in f.locals or getattr(target, "check_bound", False) or \
            target.id in getattr(f, "maybe_unbound", ()) or resolve(target.ty) != STR:
        return
    pairs = _walk(value)
    if any(isinstance(n, (ir.Lambda, ir.FuncDef)) for n, _ in pairs):
        return
    uses = [(n, p) for n, p in pairs if isinstance(n, ir.Name) and n.id == target.id]
    if len(uses) != 1:
        return
    use, p = uses[0]
    if use.check_bound or not ir.is_local(use):
        return
    call = next((c for c, _ in pairs if isinstance(c, ir.Call) and c.func is p), None)
    if isinstance(p, ir.Attribute) and p.value is use and call is not None and \
            ir.primitive_named(call, "str", IN_PLACE_STR_METHODS) and resolve(use.ty) == STR:
        use.move_from = True


def _is_split_words(e) -> bool:
    """`name.split()` of a str: the call `for` can stream (SplitWords)."""
    return isinstance(e, ir.Call) and ir.primitive_named(e, "str", "split") and not e.args and \
        not e.kwonly and isinstance(e.func, ir.Attribute) and isinstance(e.func.value, ir.Name)


def inline_split_temps(f: ir.Function) -> None:
    """`parts = s.split()` followed (later in the same block) by `for p in parts:`,
    with `parts` bound and read nowhere else and `s` not rebound in between: the
    loop walks `s.split()` itself, so that codegen streams the words instead of
    building a list. The value is the same: s holds the same str at both places,
    and a str never changes."""
    if f.is_generator:
        return
    pairs = _walk(f.body)
    stores: Dict[str, int] = {}
    store_ids = set()
    for n, _ in pairs:
        for t in _store_targets(n):
            stores[t.id] = stores.get(t.id, 0) + 1
            store_ids.add(id(t))
    loads: Dict[str, int] = {}
    for n, _ in pairs:
        if isinstance(n, ir.Name) and id(n) not in store_ids:
            loads[n.id] = loads.get(n.id, 0) + 1
    blocks = [f.body] + [v for n, _ in pairs if not isinstance(n, ir.FuncDef)
                         for v in ir.child_nodes(n) if isinstance(v, list) and v and isinstance(v[0], ir.Stmt)]
    for block in blocks:
        i = 0
        while i < len(block):
            s = block[i]
            i += 1
            if not (isinstance(s, ir.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name)
                    and _is_split_words(s.value)):
                continue
            tmp, src = s.targets[0].id, s.value.func.value.id
            if stores.get(tmp) != 1 or loads.get(tmp) != 1 or tmp == src:
                continue
            for j in range(i, len(block)):
                st = block[j]
                if isinstance(st, ir.For) and isinstance(st.iter, ir.Name) and st.iter.id == tmp:
                    st.iter = s.value
                    del block[i - 1]
                    i -= 1
                    break
                touched = {t.id for n, _ in _walk(st) for t in _store_targets(n)}
                if src in touched or tmp in touched or any(isinstance(n, ir.FuncDef) for n, _ in _walk(st)):
                    break
