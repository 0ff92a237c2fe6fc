import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Each test run gets its own compile cache unless one is given, so results never
# depend on what an earlier run left behind.
os.environ.setdefault("MATX_NB_CACHE", tempfile.mkdtemp(prefix="matx_nb_cache_"))

# Modules whose tests only compile and compare (no wall-clock limits, no signals,
# no kernels, no sanitizers): `make test` runs them on every core (pytest-xdist),
# then everything else one test at a time, so timing tests never share the CPU
# with them. A new module runs serially until it is listed here.
PARALLEL_MODULES = {
    "test_cases.py", "test_error_corpus.py", "test_errors.py", "test_modules.py",
    "test_modules_hypothesis.py", "test_params.py", "test_ndarray.py", "test_str_hypothesis.py",
    "test_range_overflow.py", "test_identifier_names.py", "test_source_text_fuzz.py",
    "test_boundary.py", "test_boundary_fuzz.py", "test_boundary_bulk.py", "test_instances.py", "test_live_attributes.py",
    "test_export_security.py", "test_export_fuzz.py",
    "test_host_any.py", "test_json.py", "test_numconv.py", "test_sha256.py", "test_unicode.py",
    "test_unicodedata.py", "test_source_lines.py", "test_units.py",
    # builds and runs with generous timeouts only: exported pipelines, CMake, torch,
    # notebooks run by nbclient, the sanitizer and ThreadSanitizer builds
    "test_serve_runner.py", "test_serve_http.py", "test_serve_front.py",
    "test_export.py", "test_cli_cmake.py", "test_torch.py", "test_text.py", "test_notebook.py",
    "test_nbconvert.py", "test_sanitizers.py", "test_str_sanitize.py", "test_tsan.py", "test_tsan_front.py",
    "test_vision.py", "test_vision_pipeline.py", "test_vision_fusion.py", "test_primitives.py", "test_codegen_golden.py", "test_layout.py",
    "test_builtin_functions.py", "test_ir_contract.py", "test_multimodal.py",
}


def pytest_collection_modifyitems(config, items):
    import pytest
    for item in items:
        if item.path.name in PARALLEL_MODULES:
            item.add_marker(pytest.mark.parallel)
