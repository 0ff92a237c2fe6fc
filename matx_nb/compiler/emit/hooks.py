"""The emitter's calls from a rule module to a rule in a module above it, and
the tables of the rules by node class.

The rule modules are layered (loops < ndarray < expressions < builtins <
calls < statements < abi < emitter): each imports only the ones below it. A
rule below that needs one above (a loop emits its body's expressions with
expressions.expr) calls it through the hook of the same name here; the module
that defines the rule registers it with @provide when it is imported, and
emitter.py imports them all."""
from __future__ import annotations

from ..dispatch import RuleTables

TABLES = RuleTables()
_impl = TABLES.impl
provide = TABLES.provide  # @hooks.provide on a rule that a hook below calls
rules = TABLES.rules  # hooks.rules(globals()) at the end of a module with expr_/stmt_ rules
EXPR = TABLES.expr
STMT = TABLES.stmt


# statements.bind
def bind(em, target, value, vt, declare):
    return _impl["bind"](em, target, value, vt, declare)


# expressions.coerce
def coerce(em, code, frm, to):
    return _impl["coerce"](em, code, frm, to)


# expressions.coerced
def coerced(em, e, to):
    return _impl["coerced"](em, e, to)


# expressions.expr
def expr(em, e):
    return _impl["expr"](em, e)


# ndarray.nd_iterate
def nd_iterate(em, it, on_item):
    return _impl["nd_iterate"](em, it, on_item)


# expressions.truth
def truth(em, e):
    return _impl["truth"](em, e)
