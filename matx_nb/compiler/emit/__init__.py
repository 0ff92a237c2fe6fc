"""C++ generation, by construct: how C++ spells names, types and literals (cpp),
statements, expressions and operators, calls, loops and folds, the builtin
functions' specializers, NDArray, the C ABI the host calls, and the split of a
program into translation units. emitter.Emitter assembles them; it runs on a
program the checker typed and driver.passes analysed."""
