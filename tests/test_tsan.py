"""ThreadSanitizer run of the thread model (runtime lock.h): the generated C++
of a class shared by threads (methods that change it, under the exclusive lock,
and one that reads it, under the shared lock) and of a function changing a module-level list,
built with -fsanitize=thread and called from 4 threads through the C++ host
(mx::CompiledLibrary, no Python in the process), reports no data race; the same
code with its locks removed does (so the test can fail)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import matx_nb

sys.path.insert(0, str(Path(__file__).parent))
import test_threads  # noqa: E402

INCLUDE = Path(__file__).resolve().parents[1] / "runtime" / "include"
LOCKS = ("mx::HostLock held(h, static_cast<mx::Instance*>(self)->host_lock);",
         "mx::HostLockShared held(h, static_cast<mx::Instance*>(self)->host_lock);",
         "mx::HostLock module_held(h, mx::detail::g_module_lock);")

DRIVER = r"""
#include <matx_nb/host_any.h>
#include <iostream>
#include <thread>
#include <vector>
int main(int argc, char** argv) {
  mx::CompiledLibrary counter(argv[1]), remember(argv[2]);
  mx::Any c = counter.construct("Counter", {});
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        mx::Any k(mx::str_from_utf8("k" + std::to_string(i % 50)));
        counter.call_method(c, "add", {k});
        counter.call_method(c, "note", {k});
        counter.call_method(c, "peek", {k});  // a shared hold, racing the exclusive ones
        if (i % 100 == 0) counter.get_attr(c, "d");
        remember.call("remember", {k});
      }
    });
  for (auto& t : ts) t.join();
  std::cout << remember.call("remember", {mx::Any(mx::str_from_utf8("x"))}).i() << std::endl;
  return 0;
}
"""


def tsan_available() -> bool:
    r = subprocess.run(["g++", "-fsanitize=thread", "-x", "c++", "-", "-o", os.devnull],
                       input="int main(){}", capture_output=True, text=True)
    return r.returncode == 0


pytestmark = pytest.mark.skipif(shutil.which("g++") is None or not tsan_available(),
                                reason="g++ with ThreadSanitizer is needed")


def build(tmp_path: Path, locked: bool) -> list:
    libs = []
    for name, obj in (("counter", test_threads.Counter), ("remember", test_threads.remember)):
        cpp = matx_nb.script(obj).matx.load_details().cpp
        if not locked:
            for lock in LOCKS:
                cpp = cpp.replace(lock, "")
        src = tmp_path / f"{name}{'' if locked else '_nolock'}.cc"
        src.write_text(cpp)
        lib = src.with_suffix(".so")
        subprocess.run(["g++", "-std=c++17", "-O1", "-g", "-fsanitize=thread", "-fPIC", "-shared", "-I", str(INCLUDE),
                        str(src), "-o", str(lib)], check=True, capture_output=True, text=True)
        libs.append(str(lib))
    return libs


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    d = tmp_path_factory.mktemp("tsan")
    (d / "driver.cc").write_text(DRIVER)
    exe = d / "driver"
    subprocess.run(["g++", "-std=c++17", "-O1", "-g", "-fsanitize=thread", "-I", str(INCLUDE), str(d / "driver.cc"),
                    "-o", str(exe), "-ldl", "-lpthread"], check=True, capture_output=True, text=True)
    return exe


def run(exe, libs):
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1:exitcode=66")
    return subprocess.run([str(exe), *libs], capture_output=True, text=True, timeout=600, env=env)


def test_shared_instance_and_module_state_are_race_free(driver, tmp_path):
    r = run(driver, build(tmp_path, locked=True))
    assert r.returncode == 0 and "ThreadSanitizer" not in r.stderr, r.stderr[-3000:]
    assert r.stdout.strip() == str(4 * 2000 + 1)


def test_without_the_locks_tsan_reports_the_race(driver, tmp_path):
    r = run(driver, build(tmp_path, locked=False))
    assert r.returncode == 66 and "data race" in r.stderr
