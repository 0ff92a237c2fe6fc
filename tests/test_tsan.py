"""ThreadSanitizer run of the thread model (runtime lock.h): the generated C++
of a class shared by threads (methods that change it, under the exclusive lock,
and one that reads it, under the shared lock) and of a function changing a module-level list,
built with -fsanitize=thread and called from 4 threads through the C++ host
(mx::CompiledLibrary, no Python in the process), reports no data race; the same
code with its locks removed does (so the test can fail). Likewise matx-serve's
native runner (runtime/python/native_runner.h) over a C++ Session, with a
thread of its own running requests on the same Session: race-free, and racy
without the lock on its finished runs."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import matx_nb

sys.path.insert(0, str(Path(__file__).parent))
import serve_ops  # noqa: E402
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


# ---- matx-serve's native runner (runtime/python/native_runner.h) over a C++ Session
RUNNER_DRIVER = r"""
#include <matx_nb/session.h>
#include "native_runner.h"
#include <poll.h>
#include <iostream>
#include <map>
#include <thread>

static mx::Any words(int k) {
  matx_nb::List xs;
  for (int i = 0; i < k; ++i) xs.push_back(mx::Any(int64_t(i % 7 == 6 && k % 5 == 0 ? -i : i)));
  return mx::Any(xs);
}

static std::string outcome(const std::function<mx::Any()>& run) {
  try {
    return mx::utf8_encode(mx::repr(run()));
  } catch (const mx::Error& e) {
    return std::string(mx::errkind_name(e.kind())) + ": " + e.what();
  }
}

int main(int argc, char** argv) {
  auto sess = matx_nb::Session::Load(argv[1], "model.spec.json", -1);
  // Two runners share the session, as a loop's thread shares its instances;
  // this thread converts, submits, waits on the eventfds and takes, while a
  // second thread runs requests of its own on the same session.
  native_runner::AsyncRunner a(sess.get()), b(sess.get());
  std::thread neighbour([&] {
    for (int k = 0; k < 300; ++k) outcome([&] { return sess->Run({{"xs", words(k % 40)}}); });
  });
  std::map<uint64_t, int> sizes_a, sizes_b;
  for (int k = 0; k < 400; ++k) {
    auto& r = k % 2 ? a : b;
    (k % 2 ? sizes_a : sizes_b)[r.submit({{"xs", words(k % 40)}})] = k % 40;
  }
  int bad = 0, done = 0;
  while (done < 400) {
    pollfd fds[2] = {{a.fd(), POLLIN, 0}, {b.fd(), POLLIN, 0}};
    if (::poll(fds, 2, 30000) <= 0) { std::cout << "timed out" << std::endl; return 1; }
    for (auto* rs : {&a, &b}) {
      auto& sizes = rs == &a ? sizes_a : sizes_b;
      for (uint64_t id : rs->ready()) {
        std::string got = outcome([&] { double s; return rs->take(id, &s); });
        std::string want = outcome([&] { return sess->Run({{"xs", words(sizes[id])}}); });
        bad += got != want;
        ++done;
      }
    }
  }
  neighbour.join();
  // The loop's thread reads the finished list (ready, take) while the runner
  // runs a long request it took after a short one: a push that skips the lock
  // is then unordered with those reads, whatever the scheduling (the loop
  // polls until the long one is back, without the eventfd).
  for (int round = 0; round < 4; ++round) {
    uint64_t quick = a.submit({{"xs", words(3)}}), slow = a.submit({{"xs", words(400001)}});
    for (bool back = false; !back;) {
      for (uint64_t id : a.ready()) {
        double s;
        bad += a.take(id, &s).tag() != mx::TypeTag::List;
        back = back || id == slow;
        ++done;
      }
    }
    (void)quick;
  }
  std::cout << "done " << done << " bad " << bad << std::endl;
  return 0;
}
"""


def build_driver(tmp_path: Path, source: str, headers: dict) -> Path:
    """A C++ program over the runtime and a C++ Session, built with
    ThreadSanitizer; headers: {file name: text} written beside it."""
    for name, text in headers.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "driver.cc").write_text(source)
    includes = subprocess.run([sys.executable, "-m", "matx_nb", "--includes"], capture_output=True, text=True,
                              check=True).stdout.split()
    exe = tmp_path / "driver"
    r = subprocess.run(["g++", "-std=c++17", "-O1", "-g", "-fsanitize=thread", *includes, "-I", str(tmp_path),
                        str(tmp_path / "driver.cc"), "-o", str(exe), "-ldl", "-lpthread"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return exe


def _runner_driver(tmp_path: Path, header: str) -> Path:
    return build_driver(tmp_path, RUNNER_DRIVER, {"native_runner.h": header})


RUNNER_H = Path(__file__).resolve().parents[1] / "runtime" / "python" / "native_runner.h"
DONE_LOCK = "      {\n        std::lock_guard<std::mutex> g(mu_);\n        done_.push_back(std::move(job));\n      }"


@pytest.fixture(scope="module")
def runner_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("runner") / "checked"
    matx_nb.trace(matx_nb.script(serve_ops.checked), [1, 2]).save(d)
    return d


def test_native_runner_is_race_free(runner_folder, tmp_path):
    exe = _runner_driver(tmp_path, RUNNER_H.read_text())
    r = run(exe, [str(runner_folder)])
    assert r.returncode == 0 and "ThreadSanitizer" not in r.stderr, r.stdout + r.stderr[-3000:]
    assert r.stdout.strip() == "done 408 bad 0"


def test_native_runner_without_its_lock_races(runner_folder, tmp_path):
    header = RUNNER_H.read_text()
    assert DONE_LOCK in header
    exe = _runner_driver(tmp_path, header.replace(DONE_LOCK, "      done_.push_back(std::move(job));"))
    r = run(exe, [str(runner_folder)])
    assert r.returncode == 66 and "data race" in r.stderr, r.stdout + r.stderr[-3000:]
