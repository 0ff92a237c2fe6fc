"""The tables behind check/hooks.py and emit/hooks.py: rules registered by name
for the calls from a rule module to one above it, and the rules of each node
class for expr()/block(). One instance per package."""
from __future__ import annotations

from typing import Callable, Dict


class RuleTables:
    def __init__(self) -> None:
        self.impl: Dict[str, Callable] = {}  # hook name -> the rule it calls
        # The rules of each node class, by the class's name: expr["BinOp"] is
        # expr_BinOp, stmt["If"] is stmt_If.
        self.expr: Dict[str, Callable] = {}
        self.stmt: Dict[str, Callable] = {}

    def provide(self, fn: Callable) -> Callable:
        """Decorates the rule that a hook calls; the defining module runs it on import."""
        self.impl[fn.__name__] = fn
        return fn

    def rules(self, namespace: Dict[str, object]) -> None:
        """Enters a module's expr_<Class> and stmt_<Class> functions into the tables."""
        for name, fn in list(namespace.items()):
            if callable(fn) and name.startswith(("expr_", "stmt_")):
                table = self.expr if name.startswith("expr_") else self.stmt
                assert name[5:] not in table, f"two rules for {name}"
                table[name[5:]] = fn
