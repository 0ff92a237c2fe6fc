"""The type checker, by construct: statements, expressions and operators, calls
(functions, methods, constructors), the builtin functions' rules and their
keyword arguments and formatting, the builtin types' methods, and NDArray.
checker.Checker assembles them over one state: the program, the scope of the
function being checked and the diagnostics."""
