"""ThreadSanitizer run of matx-serve's native front (runtime/python/serve_front.h)
over a C++ Session, no Python in the process: its I/O thread, two instance
threads sharing the Session, four client threads sending requests (pipelined,
and one route it hands over) and this thread reading the front's counts and
taking the handovers, as the Python server does. No data race is reported and
every answer is right; with the lock of its counts removed, the race is
reported (so the test can fail)."""
import sys
from pathlib import Path

import pytest

import matx_nb

sys.path.insert(0, str(Path(__file__).parent))
import serve_ops  # noqa: E402
from test_tsan import build_driver, run, tsan_available  # noqa: E402

pytestmark = pytest.mark.skipif(not tsan_available(), reason="g++ with ThreadSanitizer is needed")

DRIVER = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "serve_front.h"

static std::string request(int k, bool bad_route) {
  std::string texts = "[\"Text " + std::to_string(k) + " A\", \"  B" + std::to_string(k % 7) + " \"]";
  std::string body = "{\"id\": \"" + std::to_string(k) + "\", \"inputs\": [{\"name\": \"texts\", "
                     "\"datatype\": \"BYTES\", \"shape\": [2], \"data\": " + texts + "}]}";
  std::string path = bad_route ? "/v2/health/ready" : "/v2/models/words/infer";
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

static std::string expected(int k) {
  std::string a = "text " + std::to_string(k) + " a", b = "b" + std::to_string(k % 7);
  return "{\"model_name\":\"words\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"output_0\",\"datatype\":\"BYTES\","
         "\"shape\":[2],\"data\":[\"" + a + "|" + std::to_string(a.size()) + "\",\"" + b + "|" +
         std::to_string(b.size() + 3) + "\"]}],\"id\":\"" + std::to_string(k) + "\"}";
}

// Reads one Content-Length framed answer; its body.
static bool answer(int fd, std::string& buf, std::string* body) {
  for (;;) {
    size_t end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = buf.find("content-length: ");
      size_t n = std::stoul(buf.substr(cl + 16));
      if (buf.size() >= end + 4 + n) {
        *body = buf.substr(end + 4, n);
        buf.erase(0, end + 4 + n);
        return true;
      }
    }
    char tmp[65536];
    ssize_t got = ::read(fd, tmp, sizeof tmp);
    if (got <= 0) return false;
    buf.append(tmp, size_t(got));
  }
}

int main(int argc, char** argv) {
  auto sess = matx_nb::Session::Load(argv[1], "model.spec.json", -1);
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(lfd, 64);
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);

  serve_front::Front front(lfd, 5.0);
  auto m = std::make_unique<serve_front::Model>();
  m->name = "words";
  m->inputs = {{"texts", false}};
  serve_v2::OutputSpec out;
  out.name = "output_0";
  out.datatype = "BYTES";
  m->outputs = {out};
  m->sessions = {sess.get(), sess.get()};  // two instances sharing the Session
  m->max_batch = 8;
  m->delay = 0.001;
  for (auto* h : {&m->stats.latency, &m->stats.queue, &m->stats.batch}) {
    h->bounds = {0.001, 0.01, 1, 8};
    h->counts.assign(5, 0);
  }
  serve_front::Model* model = m.get();
  front.add_model(std::move(m));
  front.start();

  std::atomic<int> bad{0}, done{0}, handed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&, t] {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) { ++bad; return; }
      std::string buf, body;
      for (int i = 0; i < 60; i += 3) {  // three pipelined requests at a time
        int k = t * 1000 + i;
        std::string reqs = request(k, false) + request(k + 1, false) + request(k + 2, false);
        if (::write(fd, reqs.data(), reqs.size()) != ssize_t(reqs.size())) { ++bad; break; }
        for (int j = 0; j < 3; ++j) {
          if (!answer(fd, buf, &body)) { ++bad; break; }
          bad += body != expected(k + j);
          ++done;
        }
      }
      // a route the front does not answer: the connection is handed over
      std::string other = request(t, true);
      (void)!::write(fd, other.data(), other.size());
      ::close(fd);
    });
  std::thread reader([&] {  // the Python server: reads the counts, takes the handovers
    while (handed < 4) {
      serve_front::Stats s;
      {
        std::lock_guard<std::mutex> g(model->stats_mu);
        s = model->stats;
      }
      for (auto& h : front.take_handovers()) {
        ::close(h.first);
        ++handed;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (auto& c : clients) c.join();
  reader.join();
  front.stop_accepting();
  while (front.busy() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  uint64_t ok;
  {
    std::lock_guard<std::mutex> g(model->stats_mu);
    ok = model->stats.outcomes["success"];
  }
  front.close();
  std::cout << "done " << done << " bad " << bad << " handed " << handed << " success " << ok << std::endl;
  return 0;
}
"""

SERVE_FRONT_H = Path(__file__).resolve().parents[1] / "runtime" / "python" / "serve_front.h"
SERVE_V2_H = SERVE_FRONT_H.parent / "serve_v2.h"
STATS_LOCK = ("  void done(const std::string& outcome, double started) {\n"
              "    std::lock_guard<std::mutex> g(stats_mu);\n")


@pytest.fixture(scope="module")
def words_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("front") / "words"
    matx_nb.trace(matx_nb.script(serve_ops.words), ["a", "b"]).save(d, batch_dim0=True)
    return d


def _driver(tmp_path: Path, header: str) -> Path:
    return build_driver(tmp_path, DRIVER, {"serve_front.h": header, "serve_v2.h": SERVE_V2_H.read_text()})


def test_the_front_is_race_free(words_folder, tmp_path):
    exe = _driver(tmp_path, SERVE_FRONT_H.read_text())
    r = run(exe, [str(words_folder)])
    assert r.returncode == 0 and "ThreadSanitizer" not in r.stderr, r.stdout + r.stderr[-3000:]
    assert r.stdout.strip() == "done 240 bad 0 handed 4 success 240"


def test_the_front_without_the_lock_of_its_counts_races(words_folder, tmp_path):
    header = SERVE_FRONT_H.read_text()
    assert STATS_LOCK in header
    exe = _driver(tmp_path, header.replace(STATS_LOCK, STATS_LOCK.replace("std::lock_guard", "// std::lock_guard")))
    r = run(exe, [str(words_folder)])
    assert r.returncode == 66 and "data race" in r.stderr, r.stdout + r.stderr[-3000:]
