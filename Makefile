# Developer entry points. `make demo` and `make test` work on a fresh machine
# with python3 (>= 3.10, with venv), g++ and cmake; the first one creates .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: setup test demo bench bench-export bench-magic bench-text labextension

# Create .venv and install matx_nb editable, with the test and notebook extras
# (the %%matx magic's tests run a kernel and JupyterLab). Re-run after
# editing runtime/python/native.cc or CMakeLists.txt (Python files and the
# runtime headers are picked up from the checkout without reinstalling).
setup:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[test,notebook]'
	mkdir -p $(VENV)/share/jupyter/labextensions
	rm -rf $(VENV)/share/jupyter/labextensions/matx-nb-labextension
	cp -r labextension/prebuilt/matx-nb-labextension $(VENV)/share/jupyter/labextensions/

$(PY):
	$(MAKE) setup

test: | $(PY)
	$(PY) -m pytest -q tests

demo: | $(PY)
	$(PY) examples/demo.py

# Benchmarks against CPython and the peers (MATXScript, TorchScript, Numba, HF
# tokenizers, hand-written C++), each peer in its own venv under bench/_work/
# (created on the first run); writes bench/RESULTS.md. See bench/run.py.
bench: | $(PY)
	$(PY) bench/run.py

# Per-call overhead of a one-op saved pipeline (matx_nb.load().run, the traced
# module's run, C++ Session::Run) versus calling the op directly, from Python
# and from C++; writes bench/EXPORT_RESULTS.md. See bench/export_overhead.py.
bench-export: | $(PY)
	$(PY) bench/export_overhead.py

# %%matx latency in an IPython shell: cold build of the fib cell and re-run of
# an unchanged cell, against the targets (1.0 s, 50 ms); writes
# bench/MAGIC_RESULTS.md. See bench/bench_magic.py.
bench-magic: | $(PY)
	$(PY) bench/bench_magic.py

# WordPiece vs HF tokenizers and CPython; the text pipeline in 1 and 2 threads (bench/TEXT_RESULTS.md).
bench-text: | $(PY)
	$(PY) bench/bench_text.py

# Rebuild the JupyterLab extension's committed assets (labextension/prebuilt/)
# from labextension/src with @jupyter/builder; users and CI need no npm.
labextension: | $(PY)
	cd labextension && npm ci --no-audit --no-fund && npm run build
