#!/usr/bin/env bash
# The torch bridge on a GPU, in one run: builds and installs matx_nb, then
# scripts/gpu_check.py checks the text pipeline's model on cuda:0 (eager, traced,
# saved and loaded in Python, matx-run, the C++ program), DLPack zero-copy of CUDA
# tensors and the CPU-vs-CUDA timing, and prints PASS/FAIL/SKIP per check.
#
#   scripts/gpu_check.sh [--build=pip|cmake|none] [--cpu] [-- gpu_check.py options]
#
#   --build=pip    (default) python3 -m pip install --no-build-isolation --no-deps -e .
#                  and, if that fails, the cmake build below
#   --build=cmake  build matx_nb._native with CMake into build/gpu_check/native and
#                  run from the source tree (no install; nothing in site-packages)
#   --build=none   use the matx_nb the interpreter already imports
#   --cpu          skip the CUDA checks (SKIP), as where no GPU is found
#   -- ...         passed to gpu_check.py (--device N, --runs N, --pytest-after S)
#
# Environment: PYTHON (default python3), OUT (logs and summary.json; default
# build/gpu_check/out), MATX_NB_CACHE (compile cache; default /tmp/matx_nb_gpu_check_cache).
# Exit status: 0 when no check failed.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
OUT=${OUT:-$ROOT/build/gpu_check/out}
BUILD=$ROOT/build/gpu_check
MODE=pip
CHECK_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build=*) MODE=${1#--build=} ;;
    --cpu) CHECK_ARGS+=(--cpu) ;;
    --) shift; CHECK_ARGS+=("$@"); break ;;
    *) echo "usage: $0 [--build=pip|cmake|none] [--cpu] [-- gpu_check.py options]" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT" "$BUILD"
export MATX_NB_CACHE=${MATX_NB_CACHE:-/tmp/matx_nb_gpu_check_cache}
export PYTHONDONTWRITEBYTECODE=1
# cmake and ninja may live next to the interpreter (a venv's pip-installed ones).
# nvcc: a CUDA wheel's CMake config (the runner's build) enables the CUDA language.
PATH=$PATH:$(dirname "$(command -v "$PY")")
[ -x /usr/local/cuda/bin/nvcc ] && PATH=$PATH:/usr/local/cuda/bin
export PATH

SECONDS=0
{
  echo "== $(date -u +%FT%TZ) $PY: $("$PY" -c 'import sys; print(sys.version.split()[0])' 2>&1)"
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1
  "$PY" -c 'import scikit_build_core, pybind11; print("scikit-build-core", scikit_build_core.__version__, "pybind11", pybind11.__version__)' 2>&1
  echo "cmake: $(command -v cmake) $(cmake --version 2>/dev/null | head -1)"
  echo "ninja: $(command -v ninja) $(ninja --version 2>/dev/null)"
  echo "g++: $(g++ --version 2>/dev/null | head -1)"
  echo "nvcc: $(command -v nvcc) $(nvcc --version 2>/dev/null | tail -1)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
} > "$OUT/env.log" 2>&1
cat "$OUT/env.log"

# A source-tree build: _native with CMake, the package imported from the
# checkout (a sitecustomize puts it first, ahead of any editable install).
cmake_build() {
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  rm -rf "$BUILD/native"
  cmake -S "$ROOT" -B "$BUILD/native" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$(command -v "$PY")" &&
    cmake --build "$BUILD/native" --target _native --parallel "$(nproc)" &&
    cp "$BUILD"/native/_native*.so "$ROOT/matx_nb/" || return 1
  mkdir -p "$BUILD/pyshim"
  cat > "$BUILD/pyshim/sitecustomize.py" <<EOF
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "_editable_skbc" not in (getattr(type(f), "__module__", "") or "")]
sys.path.insert(0, "$ROOT")
EOF
  export PYTHONPATH=$BUILD/pyshim${PYTHONPATH:+:$PYTHONPATH}
}

BUILD_STATUS=ok
case "$MODE" in
  pip)
    echo "== building: $PY -m pip install --no-build-isolation --no-deps -e ."
    if ! "$PY" -m pip install --no-build-isolation --no-deps -e . > "$OUT/build.log" 2>&1; then
      tail -20 "$OUT/build.log"
      echo "== pip install failed; building with CMake from the source tree instead"
      BUILD_STATUS="pip failed, cmake fallback"
      cmake_build >> "$OUT/build.log" 2>&1 || BUILD_STATUS=failed
    fi ;;
  cmake)
    echo "== building _native with CMake (no install)"
    cmake_build > "$OUT/build.log" 2>&1 || BUILD_STATUS=failed ;;
  none) BUILD_STATUS="not built (--build=none)" ;;
  *) echo "unknown --build=$MODE" >&2; exit 2 ;;
esac
BUILD_SECONDS=$SECONDS
[ "$BUILD_STATUS" = failed ] && tail -30 "$OUT/build.log"
echo "== build: $BUILD_STATUS (${BUILD_SECONDS}s); log $OUT/build.log"

export GPU_CHECK_BUILD_STATUS=$BUILD_STATUS GPU_CHECK_BUILD_SECONDS=$BUILD_SECONDS GPU_CHECK_BUILD_MODE=$MODE
export OUT
# The checks run in a child process: the install above is seen by a fresh interpreter.
"$PY" "$ROOT/scripts/gpu_check.py" "${CHECK_ARGS[@]}" 2>&1 | tee "$OUT/gpu_check.log"
rc=${PIPESTATUS[0]}
echo "== total ${SECONDS}s, exit $rc; logs in $OUT"
exit "$rc"
