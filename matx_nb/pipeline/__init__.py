"""The pipeline side: what `matx_nb.trace` records, `.save` writes and
`matx_nb.load`, `matx-run` and the C++ Session run. graph.py (the spec's format
and version, TraceError, traced values and the graph they record) is at the
bottom; torch_op.py (the torch model op) and export.py (save, load, the
executor) build on it; trace.py (`trace`, `TracedModule`) is on top. No module
here imports upward."""
