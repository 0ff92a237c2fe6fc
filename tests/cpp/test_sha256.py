"""The runtime's SHA-256 (pipeline checksums) against hashlib."""
import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DRIVER = r"""
#include <matx_nb/sha256.h>
#include <cstdio>
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) std::printf("%s\n", mx::sha256_file(argv[i]).c_str());
}
"""


def test_sha256_matches_hashlib(tmp_path):
    src = tmp_path / "sha.cc"
    src.write_text(DRIVER)
    exe = tmp_path / "sha"
    subprocess.run(["g++", "-std=c++17", "-O1", "-I", str(ROOT / "runtime" / "include"), str(src), "-o", str(exe)],
                   check=True)
    files = []
    for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 65536, 65537, 300001]:
        f = tmp_path / f"f{n}.bin"
        f.write_bytes(os.urandom(n))
        files.append(f)
    out = subprocess.run([str(exe), *map(str, files)], capture_output=True, text=True, check=True).stdout.split()
    assert out == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    missing = subprocess.run([str(exe), str(tmp_path / "nope")], capture_output=True, text=True).stdout
    assert missing.strip() == ""
