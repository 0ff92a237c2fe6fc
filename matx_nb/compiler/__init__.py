"""The compiler, in stages: frontend (ast -> IR), checker (types), codegen (C++),
toolchain (g++, precompiled header, cache), driver (the pipeline)."""
