"""matx-run on saved folders, and a C++ project built with CMake against the runtime."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import export_ops as ops
import matx_nb

ROOT = Path(__file__).resolve().parents[1]


def matx_run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "matx_nb.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def seed_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("seed") / "text2ids"
    matx_nb.trace(ops.WorkFlow().process, ["hello", "world"]).save(d)
    return d


def test_matx_run_prints_json(seed_folder, tmp_path):
    r = matx_run(seed_folder, "--feed", '{"texts": ["hello", "x"]}')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [0, 2]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"texts": ["world"]}))
    for spelled in (f"@{feed}", str(feed)):
        r = matx_run(seed_folder, "--feed", spelled)
        assert r.returncode == 0 and json.loads(r.stdout) == [1], r.stderr


def test_matx_run_bench_prints_percentiles(seed_folder):
    r = matx_run(seed_folder, "--feed", '{"texts": ["hello"]}', "--bench", 200)
    assert r.returncode == 0, r.stderr
    assert "p50" in r.stderr and "p99" in r.stderr and "runs/s" in r.stderr


def test_matx_run_bad_input_is_a_clear_error(seed_folder, tmp_path):
    r = matx_run(seed_folder, "--feed", "{not json")
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    r = matx_run(seed_folder, "--feed", '{"text": []}')
    assert r.returncode == 1 and "missing pipeline input 'texts'" in r.stderr and "Traceback" not in r.stderr
    r = matx_run(tmp_path / "nowhere", "--feed", "{}")
    assert r.returncode == 1 and "no pipeline folder" in r.stderr
    for bad in ('{"texts": {"$b64": "not base64!"}}', '{"texts": {"dtype": "flot", "shape": [1], "data": [1]}}',
                '{"texts": {"dtype": "int64", "shape": [3], "data": [1, 2]}}'):
        r = matx_run(seed_folder, "--feed", bad)
        assert r.returncode == 2 and r.stderr.startswith("matx-run: ValueError") and "Traceback" not in r.stderr


def test_matx_run_feeds_arrays_as_it_prints_them():
    """{"dtype", "shape", "data"} in the feed is an NDArray: the output of one
    run fed back in is the same array."""
    from matx_nb.cli import decode_feed, encode_output
    import numpy as np
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = decode_feed(json.loads(json.dumps(encode_output(matx_nb.NDArray(a)))))
    assert isinstance(back, matx_nb.NDArray) and np.array_equal(back.numpy(), a) and back.numpy().dtype == a.dtype
    nested = decode_feed({"xs": [{"dtype": "int64", "shape": [2], "data": [4, 5]}], "n": 3})
    assert nested["n"] == 3 and nested["xs"][0].numpy().tolist() == [4, 5]


def test_console_script_is_installed():
    exe = shutil.which("matx-run") or str(Path(sys.executable).parent / "matx-run")
    assert Path(exe).exists()


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_cmake_project_builds_and_runs_without_python(seed_folder, tmp_path):
    cmake_dir = subprocess.run([sys.executable, "-m", "matx_nb", "--cmake-dir"], capture_output=True,
                               text=True, check=True).stdout.strip()
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(ROOT / "examples" / "cpp"), "-B", str(build), f"-Dmatx_nb_DIR={cmake_dir}",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "text2ids"], check=True, capture_output=True)
    exe = build / "text2ids"
    assert "libpython" not in subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
    out = subprocess.run([str(exe), str(seed_folder)], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == matx_nb.load(seed_folder).run({"texts": ["hello", "x"]}) == [0, 2]


def test_includes_flag_points_at_the_headers():
    flag = subprocess.run([sys.executable, "-m", "matx_nb", "--includes"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert flag.startswith("-I") and (Path(flag[2:]) / "matx_nb" / "session.h").exists()
