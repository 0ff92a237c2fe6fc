"""The checker's calls from a rule module to a rule in a module above it, and
the tables of the rules by node class.

The rule modules are layered (builtin_calls, ndarray < methods < builtins <
calls < expressions < statements < checker): each imports only the ones below
it. A rule below that needs one above (every rule checks subexpressions
with expressions.expr) calls it through the hook of the same name here; the
module that defines the rule registers it with @provide when it is imported,
and checker.py imports them all."""
from __future__ import annotations

from ..dispatch import RuleTables

TABLES = RuleTables()
_impl = TABLES.impl
provide = TABLES.provide  # @hooks.provide on a rule that a hook below calls
rules = TABLES.rules  # hooks.rules(globals()) at the end of a module with expr_/stmt_ rules
EXPR = TABLES.expr
STMT = TABLES.stmt


# expressions.binop_type
def binop_type(chk, op, lt, rt, span, node=None):
    return _impl["binop_type"](chk, op, lt, rt, span, node)


# statements.block
def block(chk, stmts):
    return _impl["block"](chk, stmts)


# calls.call_builtin
def call_builtin(chk, e, name, expected):
    return _impl["call_builtin"](chk, e, name, expected)


# expressions.call_value
def call_value(chk, e, ft):
    return _impl["call_value"](chk, e, ft)


# checker.check_function_end
def check_function_end(chk, f):
    return _impl["check_function_end"](chk, f)


# expressions.const_type
def const_type(chk, v, span):
    return _impl["const_type"](chk, v, span)


# expressions.expr
def expr(chk, e, expected=None):
    return _impl["expr"](chk, e, expected)


# statements.iter_protocol
def iter_protocol(chk, node, attr):
    return _impl["iter_protocol"](chk, node, attr)


# expressions.value
def value(chk, e, message, expected=None, kind='TypeError'):
    return _impl["value"](chk, e, message, expected, kind)


# expressions.zip_star
def zip_star(chk, e):
    return _impl["zip_star"](chk, e)
