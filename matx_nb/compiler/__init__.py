"""The compiler, in stages (driver.py runs them): sources (a function or class
and what it uses), frontend (ast -> IR), check/ (types), passes.py with
analysis/ (facts the emitter reads), emit/ (C++), toolchain (g++, precompiled
header, cache). primitives.py and modules.py declare the builtins and the
supported modules that the checker and the emitter both read."""
