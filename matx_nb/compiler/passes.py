"""The analyses and IR rewrites between checking and emitting, run by driver.py
in this order. Each writes its results into fields declared in ir.py; the
emitter only reads them.

Program-wide:
- shared_state.changes_module_state: whether compiled code may change a
  module-level container (the library then holds the module lock);
- analysis.recursion_needing_checks: functions on a call cycle that check the
  stack, and those that reach one;
- readonly.shared_methods: methods whose callers may hold their instance's
  lock shared (they only read it);
- analysis.pure_functions: calls whose operands may be evaluated in any order;
- writeback.mutated_params, per function: the list/dict/set parameters it may
  change in place (the host writes them back to Python's objects).

Per function, outer before nested (analysis/borrow.py):
- inline_split_temps: `parts = s.split(); for p in parts` walks s.split() itself;
- borrowed_loops: `for` loops whose variable may refer to the list's slot
  (For.borrowed);
- mark_item_moves: a streamed word appended at its last read is moved (For.moves_item,
  Name.move_from);
- mark_self_move: `s = s.replace(a, b)` edits s's buffer in place (Name.move_from).
"""
from __future__ import annotations

from . import ir
from .analysis import readonly, shared_state
from .analysis.program import pure_functions, recursion_needing_checks
from .analysis.borrow import _walk, borrowed_loops, inline_split_temps, mark_item_moves, mark_self_move
from .analysis.writeback import mutated_params


def run(program: ir.Program) -> None:
    """Runs every pass over the checked program, once."""
    if program.analyzed:
        return
    program.locks_module = shared_state.changes_module_state(program)
    program.checked_recursion, program.may_recurse = recursion_needing_checks(program)
    program.shared_methods = readonly.shared_methods(program, program.may_recurse)
    program.pure = pure_functions(program)
    for f in functions(program):
        optimize(f)
    for f in functions(program):
        f.mutated_params = mutated_params(f)
    program.analyzed = True


def functions(program: ir.Program):
    """Every function the library defines at the top: class methods and static
    methods, then module-level functions (nested ones are reached from them)."""
    for c in program.classes:
        yield from c.methods.values()
        yield from c.statics.values()
    yield from program.functions


def optimize(f: ir.Function) -> None:
    """The borrow rewrites of f, then of the functions defined in it."""
    inline_split_temps(f)
    loops = borrowed_loops(f)
    mark_item_moves(f, loops)
    nested = []
    for node, _ in own_nodes(f.body):
        if isinstance(node, ir.For):
            node.borrowed = id(node) in loops
        elif isinstance(node, ir.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ir.Name):
            mark_self_move(node.targets[0], node.value, f)
        elif isinstance(node, ir.FuncDef):
            nested.append(node.func)
    for g in nested:
        optimize(g)


def own_nodes(body):
    """(node, parent) under body, not descending into nested functions."""
    out = []
    skip = set()
    for node, parent in _walk(body):
        if parent is not None and id(parent) in skip:
            skip.add(id(node))
            continue
        out.append((node, parent))
        if isinstance(node, (ir.FuncDef, ir.Lambda)):
            skip.add(id(node))
    return out
