"""The analyses between checking and emitting (passes.py runs them in order):
definite assignment (UnboundLocalError where CPython raises it), purity, the
call graph and recursion, module state shared between threads, read-only
parameters, borrowed loop variables and moved values, and the write-back of
mutated arguments. Each writes only the IR fields ir.filled() declares."""
