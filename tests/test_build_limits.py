"""The compile cache survives damage and the C++ compiler is bounded (issue 15,
sections 3 and 5).

* A cached library whose bytes no longer match the sha256 in its meta.json
  (truncated: SIGBUS when mapped; patched: runs the patch; overwritten: an
  ImportError at every import) is rebuilt, with a warning, before anything maps it.
* A cache folder that cannot be written is replaced by a private temporary one.
* g++ runs under MATX_NB_CXX_MEMORY_MB of address space (a hit is a clear error
  naming the function) and dies with the process that started it.

Each scenario runs in child processes with a cache folder of its own.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent('''
    import json, sys, warnings
    sys.path.insert(0, sys.argv[1])
    warnings.simplefilter("always")
    import matx_nb, limits_mod
    f = matx_nb.script(limits_mod.bump)
    print("RESULT " + json.dumps({"value": f(41), "hit": f.matx.cache_hit, "library": str(f.matx.library)}),
          flush=True)
''')


@pytest.fixture
def module(tmp_path):
    """A module with a function unique to this test (no other test's cache entry)."""
    tag = uuid.uuid4().hex[:8]
    (tmp_path / "limits_mod.py").write_text(f"def bump(n: int) -> int:\n    return n + 1  # {tag}\n")
    return tmp_path


def child(module: Path, cache, timeout: float = 300, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATX_NB_CACHE=str(cache), MATX_NB_NO_PCH="1", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", CHILD, str(module)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(module))


def result(p: subprocess.CompletedProcess) -> dict:
    assert p.returncode == 0, f"child failed (rc={p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def damage_truncate(lib: Path):
    with open(lib, "r+b") as f:
        f.truncate(lib.stat().st_size // 3)


def damage_patch(lib: Path):
    # int3 over the middle of the file (code): the checksum no longer matches.
    data = bytearray(lib.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = b"\xcc" * 64
    lib.write_bytes(bytes(data))


def damage_garbage(lib: Path):
    lib.write_text("not an ELF file\n")


@pytest.mark.parametrize("damage", [damage_truncate, damage_patch, damage_garbage],
                         ids=["truncated", "patched", "garbage"])
def test_damaged_cache_entry_is_rebuilt(module, tmp_path, damage):
    cache = tmp_path / "cache"
    first = result(child(module, cache))
    assert first == {"value": 42, "hit": False, "library": first["library"]}
    lib = Path(first["library"])
    meta = json.loads((lib.parent / "meta.json").read_text())
    assert len(meta["sha256"]) == 64
    damage(lib)
    p = child(module, cache)
    again = result(p)
    assert again["value"] == 42 and again["hit"] is False, again
    assert "damaged" in p.stderr and "rebuilt" in p.stderr, p.stderr[-2000:]
    third = result(child(module, cache))
    assert third["value"] == 42 and third["hit"] is True


def test_unwritable_cache_falls_back_to_a_private_temporary_one(module, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    p = child(module, blocker / "cache")  # its parent is a file: nothing can be created there
    r = result(p)
    assert r["value"] == 42
    assert "cannot be written" in p.stderr and "MATX_NB_CACHE" in p.stderr, p.stderr[-2000:]
    assert not Path(r["library"]).is_relative_to(blocker)
    used = Path(r["library"]).parents[3]
    assert used.stat().st_uid == os.getuid() and not used.stat().st_mode & 0o077


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_falls_back(module, tmp_path):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o555)
    try:
        p = child(module, cache)
        assert result(p)["value"] == 42
        assert "cannot be written" in p.stderr
    finally:
        cache.chmod(0o755)


def test_memory_limit_is_a_clear_error_naming_the_function(module, tmp_path):
    p = child(module, tmp_path / "cache", MATX_NB_CXX_MEMORY_MB="48")
    assert p.returncode != 0
    err = p.stderr
    assert "CompilerKilled" in err and "ran out of memory" in err, err[-3000:]
    assert "MATX_NB_CXX_MEMORY_MB" in err and "48 MB" in err
    assert "'bump'" in err and "limits_mod.py" in err


FAKE_CXX = '''#!/bin/sh
if [ "$1" = "--version" ]; then echo "fake-g++ 1.0"; exit 0; fi
echo $$ > "{pidfile}"
sleep 120
'''


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (nobody may have reaped it yet).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_build_dies_with_its_owner(module, tmp_path):
    pidfile = tmp_path / "gxx.pid"
    fake = tmp_path / "fake-g++"
    fake.write_text(FAKE_CXX.format(pidfile=pidfile))
    fake.chmod(0o755)
    env = dict(os.environ, MATX_NB_CACHE=str(tmp_path / "cache"), MATX_NB_NO_PCH="1", MATX_NB_CXX=str(fake),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    owner = subprocess.Popen([sys.executable, "-c", CHILD, str(module)], env=env, cwd=str(module),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not (pidfile.exists() and pidfile.read_text().strip()) and time.time() < deadline:
            assert owner.poll() is None, "the owner exited before starting the build"
            time.sleep(0.05)
        gxx = int(pidfile.read_text())
        assert alive(gxx)
        owner.send_signal(signal.SIGKILL)  # no cleanup code of the owner runs
        owner.wait()
        deadline = time.time() + 15
        while alive(gxx) and time.time() < deadline:
            time.sleep(0.05)
        assert not alive(gxx), "the compiler outlived the process that started it"
    finally:
        if owner.poll() is None:
            owner.kill()
        if pidfile.exists() and pidfile.read_text().strip():
            try:
                os.killpg(os.getpgid(int(pidfile.read_text())), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
