# Developer entry points. `make demo` and `make test` work on a fresh Debian or
# Ubuntu machine: the first one installs the system prerequisites
# (scripts/install_system_deps.sh, apt) and creates .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Written by `make setup`; older than what the install is built from, it is redone.
SETUP  := $(VENV)/.matx_nb-setup

.PHONY: setup system-deps test demo lab bench bench-export bench-magic bench-text bench-vision bench-multimodal bench-serve bench-boundary labextension

# The system packages pip cannot install (g++, cmake, PCRE2, chromium...); see README.md.
system-deps:
	PYTHON=$(PYTHON) bash scripts/install_system_deps.sh

# Create .venv and install matx_nb editable, with the test extras (the tests run
# kernels, JupyterLab and chromium). pip also installs the JupyterLab extension
# into .venv/share/jupyter/labextensions. Python files and the runtime headers are
# used straight from the checkout; the targets below redo this step by themselves
# when the C++ module, the build or the dependencies change.
setup: system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[test]'
	touch $(SETUP)

# The runtime headers too: the install precompiles them (CMakeLists.txt).
$(SETUP): scripts/install_system_deps.sh pyproject.toml CMakeLists.txt runtime/python/native.cc \
          labextension/prebuilt/matx-nb-labextension/package.json \
          $(wildcard runtime/include/matx_nb/*.h runtime/include/matx_nb/*/*.h)
	$(MAKE) setup

# Compile-bound tests on every core, then the timing-sensitive rest one at a time.
test: $(SETUP)
	$(PY) -m pytest -q -n auto -m parallel tests
	$(PY) -m pytest -q -m "not parallel" tests

demo: $(SETUP)
	$(PY) examples/demo.py

# JupyterLab on the tutorial notebooks, from .venv (its kernel, the matx_nb
# extension and the widgets are there); `make lab LAB_ARGS=--no-browser` on a server.
lab: $(SETUP)
	$(PY) -m jupyterlab --ServerApp.root_dir=notebooks $(LAB_ARGS)

# Benchmarks against CPython and the peers (MATXScript, TorchScript, Numba, HF
# tokenizers, hand-written C++), each peer in its own venv under bench/_work/
# (created on the first run); writes bench/RESULTS.md. See bench/run.py. Then the
# boundary workloads of issue #21 against CPython (bench/BOUNDARY_RESULTS.md).
bench: $(SETUP)
	$(PY) bench/run.py
	$(PY) bench/bench_boundary.py

# Per-call overhead of a one-op saved pipeline (matx_nb.load().run, the traced
# module's run, C++ Session::Run) versus calling the op directly, from Python
# and from C++; writes bench/EXPORT_RESULTS.md. See bench/export_overhead.py.
bench-export: $(SETUP)
	$(PY) bench/export_overhead.py

# %%matx latency in an IPython shell: cold build of the fib cell and re-run of
# an unchanged cell, against the targets (1.0 s, 50 ms); writes
# bench/MAGIC_RESULTS.md. See bench/bench_magic.py.
bench-magic: $(SETUP)
	$(PY) bench/bench_magic.py

# WordPiece vs HF tokenizers and CPython; the text pipeline in 1 and 2 threads (bench/TEXT_RESULTS.md).
bench-text: $(SETUP)
	$(PY) bench/bench_text.py

# The eval chain (decode, resize, crop, normalize, NCHW) on 64 photos: our traced
# pipeline against a cv2 loop and PIL + torchvision, 1 and 2 threads
# (bench/VISION_RESULTS.md). See bench/bench_vision.py.
bench-vision: $(SETUP)
	$(PY) bench/bench_vision.py

# Text workloads where the Python <-> C++ boundary weighs (issue #21's kinds) and
# what crossing it alone costs, against CPython in one run (bench/BOUNDARY_RESULTS.md).
bench-boundary: $(SETUP)
	$(PY) bench/bench_boundary.py

# The seed's multimodal pipeline (examples/multimodal) saved and run by the C++
# Session against eager Python (HF tokenizers, PIL + torchvision, eager torch), at
# batches of 1, 8 and 32; both model formats (bench/MULTIMODAL_RESULTS.md).
bench-multimodal: $(SETUP)
	$(PY) bench/bench_multimodal.py

# matx-serve under load (1, 8, 32 connections; with and without dynamic batching)
# against a FastAPI + CPython server and the pipeline in process, then a soak of
# 100,000 requests (bench/SERVE_RESULTS.md). See bench/bench_serve.py.
bench-serve: $(SETUP)
	$(PY) bench/bench_serve.py

# Rebuild the JupyterLab extension's committed assets (labextension/prebuilt/)
# from labextension/src with @jupyter/builder; users and CI need no npm.
labextension: $(SETUP)
	cd labextension && npm ci --no-audit --no-fund && npm run build
