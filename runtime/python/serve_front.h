// matx-serve's native front (matx_nb/serve/front.py): the listening socket's
// HTTP/1.1 connections on one epoll thread, inference requests parsed and
// answered in C++ (serve_v2.h), and per model a dynamic batcher whose threads
// run the C++ Session. No Python and no GIL on any of these threads.
//
// The front answers `POST /v2/models/{name}[/versions/1]/infer` for the
// models registered with it, when the request is plain: Content-Length, no
// Transfer-Encoding, Expect or Content-Encoding, and a body serve_v2::parse
// understands. On anything else (another route, another model, an odd header,
// a request Python would refuse, a pipeline error) it hands the connection
// over: the socket and the bytes read from it but not answered go to the
// Python server (uvicorn), which serves the connection from then on. So
// every answer the front does not give is the Python server's, unchanged.
//
// Batching follows ServedModel's rules (model.py): the first queued request
// waits up to the queue delay for max_batch rows, the batch runs on a free
// instance, its outputs are cut back by rows; a batch that fails runs again
// one request at a time; a full queue answers 429 and a request past its
// time 504, with the Python server's messages.
#pragma once
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "serve_v2.h"

namespace serve_front {

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A Prometheus histogram's counts (metrics.py's buckets: the first with v <= bound).
struct Hist {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
  void observe(double v) {
    counts[size_t(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin())] += 1;
    sum += v;
  }
};

struct Stats {
  std::map<std::string, uint64_t> outcomes;  // success, overloaded, timeout
  Hist latency, queue, batch;
  int64_t inflight = 0;
};

class Front;

struct Req {
  uint64_t conn = 0;
  struct Model* model = nullptr;
  std::string raw;  // the request's bytes: a handover gives them to Python
  bool close_after = false;
  serve_v2::Parsed in;
  double arrived = 0, deadline = 0, limit = 0;
  bool started = false, abandoned = false;  // under the model's lock
  bool ok = false;                          // written by the instance thread before it posts the request
  bool answered = false;                    // the I/O thread's
  std::vector<serve_v2::OutValue> outs;     // the instance thread's, until it writes the answer
  std::string body;                         // the answer (ok), written by the instance thread
  int64_t head = -1;                        // its JSON header's length with binary outputs, else -1
};
using ReqPtr = std::shared_ptr<Req>;

struct Model {
  std::string name;
  std::vector<serve_v2::InputSpec> inputs;
  std::vector<serve_v2::OutputSpec> outputs;
  std::vector<const matx_nb::Session*> sessions;
  int64_t max_batch = 1;
  double delay = 0, timeout = 0;
  size_t max_queue = 256;
  Front* front = nullptr;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<ReqPtr> queue;
  bool closing = false;
  std::vector<std::thread> threads;

  std::mutex stats_mu;
  Stats stats;

  void done(const std::string& outcome, double started) {
    std::lock_guard<std::mutex> g(stats_mu);
    stats.outcomes[outcome] += 1;
    stats.latency.observe(now() - started);
    stats.inflight -= 1;
  }
};

// The Python server's messages (model.py's Overloaded and TimedOut).
inline std::string error_body(const std::string& message) {
  std::string o = "{\"error\":";
  serve_v2::detail::put_string(o, message);
  return o + "}";
}

class Front {
 public:
  // listen_fd: a bound, listening socket (the front works on its own copy).
  // keep_alive: seconds an idle connection stays open (uvicorn's timeout_keep_alive).
  Front(int listen_fd, double keep_alive) : keep_alive_(keep_alive) {
    listen_ = ::dup(listen_fd);
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    done_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    handover_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (listen_ < 0 || ep_ < 0 || wake_ < 0 || done_fd_ < 0 || handover_fd_ < 0)
      throw std::system_error(errno, std::generic_category(), "matx-serve front");
    // accept() must not wait: the socket (shared with its Python object) becomes non-blocking
    ::fcntl(listen_, F_SETFL, ::fcntl(listen_, F_GETFL) | O_NONBLOCK);
  }
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;
  ~Front() { close(); }

  void add_model(std::unique_ptr<Model> m) {
    m->front = this;
    models_[m->name] = std::move(m);
  }
  // A GET route the front answers itself: health, readiness (ready: 503 while
  // draining) and metadata, with the body the Python server gives.
  struct Route {
    std::string ctype, body;
    bool ready = false;
  };
  void add_route(const std::string& path, const std::string& ctype, const std::string& body, bool ready) {
    routes_[path] = Route{ctype, body, ready};
  }

  Model* model(const std::string& name) {
    auto it = models_.find(name);
    return it == models_.end() ? nullptr : it->second.get();
  }
  std::vector<Model*> models() {
    std::vector<Model*> out;
    for (auto& kv : models_) out.push_back(kv.second.get());
    return out;
  }

  void start() {
    for (auto& kv : models_) {
      Model* m = kv.second.get();
      for (const matx_nb::Session* s : m->sessions) m->threads.emplace_back([this, m, s] { instance(m, s); });
    }
    add(listen_, EPOLLIN);
    add(wake_, EPOLLIN);
    add(done_fd_, EPOLLIN);
    io_ = std::thread([this] { loop(); });
  }

  // Readable when connections wait to be handed over (take_handovers).
  int handover_fd() const { return handover_fd_; }
  std::vector<std::pair<int, std::string>> take_handovers() {
    uint64_t n;
    while (::read(handover_fd_, &n, sizeof n) == sizeof n) {
    }
    std::lock_guard<std::mutex> g(hand_mu_);
    std::vector<std::pair<int, std::string>> out;
    out.swap(handovers_);
    return out;
  }

  // The drain: no new connections; idle ones close, the others after their answer.
  void stop_accepting() {
    draining_ = true;
    poke();
  }
  // Requests received and not answered yet, and connections whose answer is
  // not all written yet (the drain waits for both).
  int64_t busy() const { return busy_.load() + writing_.load(); }

  // Stops the threads (queued requests run first) and closes every connection.
  void close() {
    if (closed_) return;
    closed_ = true;
    for (auto& kv : models_) {
      Model* m = kv.second.get();
      {
        std::lock_guard<std::mutex> g(m->mu);
        m->closing = true;
      }
      m->cv.notify_all();
      for (auto& t : m->threads) t.join();
      m->threads.clear();
    }
    stopping_ = true;
    poke();
    if (io_.joinable()) io_.join();
    for (auto& kv : conns_) ::close(kv.second->fd);
    conns_.clear();
    for (auto& h : handovers_) ::close(h.first);  // never taken by the Python server
    handovers_.clear();
    for (int fd : {listen_, ep_, wake_, done_fd_, handover_fd_})
      if (fd >= 0) ::close(fd);
    listen_ = ep_ = wake_ = done_fd_ = handover_fd_ = -1;
  }

  // ---- the instance threads
  // Hands a finished batch to the I/O thread. The batch is emptied under the
  // lock: a request's inputs, made by the I/O thread, are then freed there too
  // (the runtime's allocator keeps freed blocks per thread: blocks made on one
  // thread and freed on another would pile up in the second one's cache).
  void post(std::vector<ReqPtr>& batch) {
    {
      std::lock_guard<std::mutex> g(done_mu_);
      for (auto& r : batch) done_.push_back(std::move(r));
      batch.clear();
    }
    uint64_t one = 1;
    while (::write(done_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

 private:
  struct Conn {
    int fd = -1;
    uint64_t id = 0;
    std::string in, out;
    ReqPtr req;  // the request being answered (one at a time: pipelined ones wait in `in`)
    bool want_write = false, handing = false, closing = false, paused = false;
    double active = 0;  // when it last sent or was answered
  };

  // Bytes a connection may send ahead while its request is answered; then it is
  // not read until the answer is written (as uvicorn pauses a transport).
  static constexpr size_t kReadAhead = 1 << 20;

  // What epoll watches of a connection: its answers waiting to be written, and
  // its requests unless it has sent too much ahead.
  void watch(Conn* c) {
    bool paused = (c->req || !c->out.empty()) && c->in.size() > kReadAhead;
    bool want_write = !c->out.empty();
    if (paused == c->paused && want_write == c->want_write) return;
    epoll_event ev{};
    ev.events = (paused ? 0u : uint32_t(EPOLLIN | EPOLLRDHUP)) | (want_write ? uint32_t(EPOLLOUT) : 0u);
    ev.data.u64 = c->id;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &ev);
    c->paused = paused;
    if (want_write != c->want_write) writing_ += want_write ? 1 : -1;
    c->want_write = want_write;
  }

  void add(int fd, uint32_t events, uint64_t data = 0) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data ? data : uint64_t(fd) | (uint64_t(1) << 63);
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  void poke() {
    uint64_t one = 1;
    if (wake_ >= 0) (void)!::write(wake_, &one, sizeof one);
  }

  // ---- batching (an instance's thread)
  std::vector<ReqPtr> next_batch(Model* m) {
    std::unique_lock<std::mutex> l(m->mu);
    for (;;) {
      m->cv.wait(l, [&] { return m->closing || !m->queue.empty(); });
      if (m->queue.empty()) return {};
      if (m->max_batch > 1) {
        double until = m->queue.front()->arrived + m->delay;
        for (;;) {
          int64_t rows = 0;
          for (auto& r : m->queue) rows += r->in.rows;
          double left = until - now();
          if (m->queue.empty() || rows >= m->max_batch || m->closing || left <= 0) break;
          m->cv.wait_for(l, std::chrono::duration<double>(left));
        }
        if (m->queue.empty()) continue;
      }
      std::vector<ReqPtr> batch;
      int64_t size = 0;
      while (!m->queue.empty()) {
        ReqPtr r = m->queue.front();
        if (!batch.empty() && size + r->in.rows > m->max_batch) break;
        m->queue.pop_front();
        r->started = true;
        size += r->in.rows;
        batch.push_back(std::move(r));
      }
      if (batch.empty()) continue;
      double t = now();
      std::lock_guard<std::mutex> g(m->stats_mu);
      int64_t rows = 0;
      for (auto& r : batch) {
        m->stats.queue.observe(t - r->arrived);
        rows += std::max<int64_t>(1, r->in.rows);
      }
      m->stats.batch.observe(double(rows));
      return batch;
    }
  }

  // Each finished request's answer, written here: its outputs, made on this
  // thread, are freed on it.
  static void answer(Model* m, std::vector<ReqPtr>& batch) {
    for (auto& r : batch) {
      if (r->ok) {
        try {
          r->ok = serve_v2::encode(m->name, m->outputs, r->in, r->outs, &r->body, &r->head);
        } catch (...) {
          r->ok = false;
        }
      }
      r->outs.clear();
    }
  }

  static bool split(Model* m, std::vector<ReqPtr>& batch, const mx::Any& result) {
    std::vector<mx::Any> values(m->outputs.size());
    for (size_t i = 0; i < m->outputs.size(); ++i)
      if (!serve_v2::pick(result, m->outputs[i], &values[i])) return false;
    if (batch.size() == 1) {
      batch[0]->outs.clear();
      for (auto& v : values) batch[0]->outs.push_back({v, -1, -1});
      batch[0]->ok = true;
      return true;
    }
    for (auto& v : values)
      if (serve_v2::rows_of(v) < 0) return false;
    int64_t lo = 0;
    for (auto& r : batch) {
      r->outs.clear();
      for (auto& v : values) r->outs.push_back({v, lo, lo + r->in.rows});
      r->ok = true;
      lo += r->in.rows;
    }
    return true;
  }

  void instance(Model* m, const matx_nb::Session* s) {
    for (;;) {
      std::vector<ReqPtr> batch = next_batch(m);
      if (batch.empty()) return;
      bool done = false;
      try {
        matx_nb::Feeds feeds;
        if (batch.size() == 1) {
          feeds = batch[0]->in.feeds;
        } else {
          for (auto& spec : m->inputs) {
            mx::List<mx::Any> all;
            for (auto& r : batch) {
              mx::List<mx::Any> part = r->in.feeds[spec.name].list();
              for (int64_t i = 0; i < part.size(); ++i) all.push_back(part[i]);
            }
            feeds[spec.name] = mx::Any(all);
          }
        }
        done = split(m, batch, s->Run(feeds));
      } catch (...) {
      }
      if (!done && batch.size() > 1) {  // each alone: only a request whose own input fails is declined
        for (auto& r : batch) {
          std::vector<ReqPtr> one{r};
          try {
            if (!split(m, one, s->Run(r->in.feeds))) r->ok = false;
          } catch (...) {
            r->ok = false;
          }
        }
      }
      answer(m, batch);
      post(batch);
    }
  }

  // ---- the I/O thread
  void loop() {
    std::vector<epoll_event> events(128);
    while (!stopping_) {
      int timeout = next_timeout();
      int n = ::epoll_wait(ep_, events.data(), int(events.size()), timeout);
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) {
        uint64_t d = events[i].data.u64;
        if (d & (uint64_t(1) << 63)) {
          int fd = int(d & 0xffffffff);
          if (fd == listen_) accept_all();
          else if (fd == done_fd_) answer_done();
          else if (fd == wake_) woken();
          continue;
        }
        auto it = conns_.find(d);
        if (it == conns_.end()) continue;
        Conn* c = it->second.get();
        if (events[i].events & (EPOLLERR | EPOLLHUP)) {
          drop(c);
          continue;
        }
        if (events[i].events & EPOLLOUT) after_answer(c);
        if (conns_.count(d) && (events[i].events & (EPOLLIN | EPOLLRDHUP))) readable(conns_[d].get());
      }
      expire();
      sweep();
    }
  }

  // Closes the connections idle for longer than keep_alive (no request being
  // answered, nothing to write): uvicorn's keep-alive timeout.
  void sweep() {
    double t = now();
    if (accept_again_ > 0 && t >= accept_again_ && listen_ >= 0) {
      accept_again_ = 0;
      add(listen_, EPOLLIN);
    }
    if (t < next_sweep_) return;
    next_sweep_ = t + 0.5;
    std::vector<Conn*> idle;
    for (auto& kv : conns_) {
      Conn* c = kv.second.get();
      if (!c->req && c->out.empty() && t - c->active > keep_alive_) idle.push_back(c);
    }
    for (Conn* c : idle) drop(c);
  }

  void woken() {
    uint64_t n;
    while (::read(wake_, &n, sizeof n) == sizeof n) {
    }
    if (draining_ && listen_ >= 0) {
      // Our copy of the socket closes; once the Python server closes its own,
      // the port refuses new connections (front.py).
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, listen_, nullptr);
      ::close(listen_);
      listen_ = -1;
      std::vector<Conn*> idle;
      for (auto& kv : conns_)
        if (!kv.second->req && kv.second->out.empty()) idle.push_back(kv.second.get());
      for (Conn* c : idle) drop(c);
    }
  }

  void accept_all() {
    for (;;) {
      int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        // out of descriptors: the socket stays readable, so stop watching it for a second
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, listen_, nullptr);
        accept_again_ = now() + 1.0;
        return;
      }
      if (fd < 0) return;  // EAGAIN, or an error the next connection may not have
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->id = ++next_conn_;
      c->active = now();
      add(fd, EPOLLIN | EPOLLRDHUP, c->id);
      conns_[c->id] = std::move(c);
    }
  }

  void drop(Conn* c) {
    if (c->want_write) writing_ -= 1;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    conns_.erase(c->id);  // a request in flight is answered to no one
  }

  void readable(Conn* c) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(c->fd, buf, sizeof buf);
      if (n > 0) {
        c->in.append(buf, size_t(n));
        c->active = now();
        if (size_t(n) < sizeof buf || ((c->req || !c->out.empty()) && c->in.size() > kReadAhead)) break;
        continue;
      }
      if (n == 0) {  // the client closed: nothing more to answer
        drop(c);
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      drop(c);
      return;
    }
    uint64_t id = c->id;
    next_request(c);
    auto it = conns_.find(id);  // next_request may have closed it or handed it over
    if (it != conns_.end()) watch(it->second.get());
  }

  // RFC 9110's token (a method, a header's name) and field value (visible
  // characters, spaces, tabs and obs-text: no CR, LF, NUL or other controls).
  static bool token(const char* p, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; ++i) {
      unsigned char ch = static_cast<unsigned char>(p[i]);
      if (!(std::isalnum(ch) || std::strchr("!#$%&'*+-.^_`|~", ch)) || ch == 0) return false;
    }
    return true;
  }
  static bool field_value(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      unsigned char ch = static_cast<unsigned char>(p[i]);
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return false;
    }
    return true;
  }
  static bool visible(const char* p, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; ++i) {
      unsigned char ch = static_cast<unsigned char>(p[i]);
      if (ch <= 0x20 || ch == 0x7f) return false;
    }
    return true;
  }

  static bool iequals(const char* a, size_t n, const char* b) {
    if (std::strlen(b) != n) return false;
    for (size_t i = 0; i < n; ++i)
      if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return true;
  }
  static std::string trimmed_lower(const char* p, size_t n) {
    while (n && (*p == ' ' || *p == '\t')) ++p, --n;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) --n;
    std::string s(p, n);
    for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }
  static bool digits(const std::string& s, int64_t* v) {
    if (s.empty() || s.size() > 15) return false;
    int64_t x = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
      x = x * 10 + (ch - '0');
    }
    *v = x;
    return true;
  }

  // The head of a request: its line and the headers the front acts on.
  struct Head {
    std::string method, target;
    int64_t length = -1, header_length = -1;
    bool close_after = false, plain = true;
  };

  // Parses c->in's first request head (ending at `end`); plain is false for
  // anything the front leaves to the Python server.
  Head head_of(const Conn* c, size_t end) const {
    Head h;
    const char* p = c->in.data();
    size_t line_end = c->in.find("\r\n");
    std::string line(p, line_end);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 <= sp1 || line.compare(sp2 + 1, std::string::npos, "HTTP/1.1") != 0) {
      h.plain = false;
      return h;
    }
    h.method = line.substr(0, sp1);
    h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!token(h.method.data(), h.method.size()) || !visible(h.target.data(), h.target.size())) {
      h.plain = false;  // what llhttp refuses is uvicorn's to answer (a 400), never read another way here
      return h;
    }
    size_t pos = line_end + 2;
    while (h.plain && pos < end) {
      size_t eol = c->in.find("\r\n", pos);
      const char* k = p + pos;
      size_t kn_all = eol - pos;
      pos = eol + 2;
      const char* colon = static_cast<const char*>(std::memchr(k, ':', kn_all));
      if (colon == nullptr || kn_all == 0 || k[0] == ' ' || k[0] == '\t') {
        h.plain = false;
        break;
      }
      size_t kn = size_t(colon - k);
      if (!token(k, kn) || !field_value(colon + 1, kn_all - kn - 1)) {  // "Name :", bare CR or LF, NUL...
        h.plain = false;
        break;
      }
      std::string value = trimmed_lower(colon + 1, kn_all - kn - 1);
      if (iequals(k, kn, "content-length")) {
        if (h.length >= 0 || !digits(value, &h.length)) h.plain = false;
      } else if (iequals(k, kn, "inference-header-content-length")) {
        if (h.header_length >= 0 || !digits(value, &h.header_length)) h.plain = false;
      } else if (iequals(k, kn, "connection")) {
        if (value == "close") h.close_after = true;
        else if (value != "keep-alive") h.plain = false;
      } else if (iequals(k, kn, "content-encoding")) {
        if (value != "identity" && !value.empty()) h.plain = false;
      } else if (iequals(k, kn, "transfer-encoding") || iequals(k, kn, "expect") || iequals(k, kn, "upgrade")) {
        h.plain = false;
      }
    }
    return h;
  }

  // The model of an inference path (/v2/models/NAME[/versions/1]/infer), or null.
  Model* infer_model(const std::string& target) {
    const std::string prefix = "/v2/models/", suffix = "/infer";
    if (target.size() <= prefix.size() + suffix.size() || target.compare(0, prefix.size(), prefix) != 0 ||
        target.compare(target.size() - suffix.size(), suffix.size(), suffix) != 0)
      return nullptr;
    std::string name = target.substr(prefix.size(), target.size() - prefix.size() - suffix.size());
    size_t slash = name.find('/');
    if (slash != std::string::npos) {
      if (name.compare(slash, std::string::npos, "/versions/1") != 0) return nullptr;
      name.resize(slash);
    }
    return name.empty() ? nullptr : model(name);
  }

  // The next request in c->in: answered here, queued, or the connection handed over.
  void next_request(Conn* c) {
    while (!c->req && !c->handing && !c->closing && !c->in.empty()) {
      size_t end = c->in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c->in.size() > 16384) hand_over(c);
        return;
      }
      Head h = head_of(c, end);
      if (!h.plain) {
        hand_over(c);
        return;
      }
      if (h.method == "GET") {  // health, readiness, metadata: the answers the Python server gave it
        auto route = routes_.find(h.target);
        if (route == routes_.end() || h.length > 0) {
          hand_over(c);
          return;
        }
        c->in.erase(0, end + 4);
        const Route& rt = route->second;
        bool ok = !(rt.ready && draining_);
        write_answer(c, ok ? 200 : 503, ok ? rt.ctype : "", ok ? rt.body : "", -1, h.close_after);
        if (!flush(c) || !c->out.empty()) return;  // a client not reading: its next request waits (EPOLLOUT)
        continue;
      }
      Model* m = h.method == "POST" ? infer_model(h.target) : nullptr;
      if (m == nullptr || h.length < 0 || h.length > (int64_t(256) << 20)) {
        hand_over(c);
        return;
      }
      size_t total = end + 4 + size_t(h.length);
      if (c->in.size() < total) return;  // the rest of the body is on its way
      auto r = std::make_shared<Req>();
      r->conn = c->id;
      r->model = m;
      r->close_after = h.close_after;
      r->arrived = now();
      bool parsed = false;
      try {
        parsed = serve_v2::parse(m->inputs, m->outputs, m->max_batch > 1, c->in.data() + end + 4,
                                 size_t(h.length), h.header_length, &r->in);
      } catch (...) {
      }
      if (!parsed) {
        hand_over(c);
        return;
      }
      r->raw = c->in.substr(0, total);
      c->in.erase(0, total);
      c->req = r;
      busy_ += 1;
      if (!submit(c, r) || !c->out.empty()) return;  // answered 429: closed, or not all written yet
    }
  }

  // Queues r; false when it was answered at once (429) and the connection is gone.
  bool submit(Conn* c, const ReqPtr& r) {
    Model* m = r->model;
    {
      std::lock_guard<std::mutex> g(m->stats_mu);
      m->stats.inflight += 1;
    }
    double limit = r->in.timeout;
    if (m->timeout > 0 && (limit <= 0 || m->timeout < limit)) limit = m->timeout;
    size_t queued = 0;
    {
      std::lock_guard<std::mutex> g(m->mu);
      if (m->queue.size() < m->max_queue) {
        if (limit > 0) {
          r->limit = limit;
          r->deadline = r->arrived + limit;
          timers_.emplace(r->deadline, r);
        }
        m->queue.push_back(r);
        m->cv.notify_all();
        return true;
      }
      queued = m->queue.size();
    }
    respond(c, r, 429, error_body("model '" + m->name + "' has " + std::to_string(queued) +
                                  " requests queued (--max-queue " + std::to_string(m->max_queue) +
                                  "); retry later"),
            "application/json", -1, "overloaded");
    return flush(c);  // the loop in next_request goes on with the next request
  }

  void answer_done() {
    uint64_t n;
    while (::read(done_fd_, &n, sizeof n) == sizeof n) {
    }
    std::deque<ReqPtr> done;
    {
      std::lock_guard<std::mutex> g(done_mu_);
      done.swap(done_);
    }
    for (auto& r : done) {
      if (r->answered) continue;  // answered 504 already
      auto it = conns_.find(r->conn);
      if (it == conns_.end()) {  // the client left
        finish(r);
        continue;
      }
      Conn* c = it->second.get();
      if (!r->ok) {  // the Python server runs it again and answers, with its own error if it fails
        r->answered = true;
        c->in.insert(0, r->raw);
        c->req.reset();
        hand_over(c);
        finish(r);  // after: the drain must not see it done before the handover is queued
        continue;
      }
      respond(c, r, 200, r->body, r->head >= 0 ? "application/octet-stream" : "application/json", r->head,
              "success");
      r->body.clear();
      after_answer(c);
    }
  }

  void finish(const ReqPtr& r) {
    {
      std::lock_guard<std::mutex> g(r->model->stats_mu);
      r->model->stats.inflight -= 1;
    }
    busy_ -= 1;
  }

  void respond(Conn* c, const ReqPtr& r, int status, const std::string& body, const char* ctype, int64_t head,
               const char* outcome) {
    r->answered = true;
    r->model->done(outcome, r->arrived);  // counted before busy() can say it is done
    busy_ -= 1;
    c->req.reset();
    write_answer(c, status, ctype, body, head, r->close_after);
  }

  // An answer's bytes, as uvicorn writes them (ctype "": no Content-Type, as
  // Starlette's empty responses).
  void write_answer(Conn* c, int status, const std::string& ctype, const std::string& body, int64_t head,
                    bool close_after) {
    close_after = close_after || draining_;
    static const std::map<int, const char*> reasons = {
        {200, "OK"}, {429, "Too Many Requests"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"}};
    std::string& o = c->out;
    o += "HTTP/1.1 " + std::to_string(status) + " " + reasons.at(status) + "\r\ndate: " + date() +
         "\r\nserver: matx-serve\r\n";
    if (!ctype.empty()) o += "content-type: " + ctype + "\r\n";
    o += "content-length: " + std::to_string(body.size()) + "\r\n";
    if (head >= 0) o += "inference-header-content-length: " + std::to_string(head) + "\r\n";
    if (close_after) o += "connection: close\r\n";
    o += "\r\n";
    o += body;
    c->active = now();
    if (close_after) c->closing = true;
  }

  // Writes what the connection has to write; false when it is gone (an error,
  // or its last answer written: `Connection: close`, the drain).
  bool flush(Conn* c) {
    size_t sent = 0;
    while (sent < c->out.size()) {
      ssize_t n = ::send(c->fd, c->out.data() + sent, c->out.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += size_t(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      c->out.erase(0, sent);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c);
        return true;
      }
      drop(c);
      return false;
    }
    c->out.clear();
    watch(c);
    if (c->closing || (draining_ && !c->req)) {
      drop(c);
      return false;
    }
    return true;
  }

  // After an answer: written, then the connection's next request (or its handover).
  void after_answer(Conn* c) {
    if (!flush(c) || !c->out.empty()) return;  // gone, or the rest is written when the socket takes it
    if (c->handing) {
      hand_over(c);
      return;
    }
    uint64_t id = c->id;
    next_request(c);
    auto it = conns_.find(id);
    if (it != conns_.end()) watch(it->second.get());
  }

  // The connection goes to the Python server, with what it sent and was not answered.
  void hand_over(Conn* c) {
    c->handing = true;
    if (!c->out.empty()) return;  // after the answers written so far (after_answer() comes back here)
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
    {
      std::lock_guard<std::mutex> g(hand_mu_);
      handovers_.emplace_back(c->fd, std::move(c->in));
    }
    conns_.erase(c->id);
    uint64_t one = 1;
    (void)!::write(handover_fd_, &one, sizeof one);
  }

  // ---- timeouts
  int next_timeout() {
    while (!timers_.empty()) {
      auto r = timers_.begin()->second.lock();
      if (r && !r->answered) break;
      timers_.erase(timers_.begin());
    }
    int idle = conns_.empty() && accept_again_ == 0 ? -1 : 500;  // sweep()
    if (draining_) idle = 50;
    if (timers_.empty()) return idle;
    double left = std::min(timers_.begin()->first - now(), 3600.0);  // a timeout of days: wake hourly
    int ms = left <= 0 ? 0 : int(left * 1e3) + 1;
    return idle < 0 ? ms : std::min(ms, idle);
  }

  void expire() {
    double t = now();
    while (!timers_.empty() && timers_.begin()->first <= t) {
      auto r = timers_.begin()->second.lock();
      timers_.erase(timers_.begin());
      if (!r || r->answered) continue;
      Model* m = r->model;
      bool started;
      {
        std::lock_guard<std::mutex> g(m->mu);
        started = r->started;
        r->abandoned = true;
        if (!started) m->queue.erase(std::remove(m->queue.begin(), m->queue.end(), r), m->queue.end());
      }
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.0f", r->limit * 1e3);
      std::string message = "model '" + m->name + "': the request timed out after " + ms + " ms (" +
                            (started ? "running" : "queued") + ")";
      auto it = conns_.find(r->conn);
      if (it == conns_.end()) {
        r->answered = true;
        m->done("timeout", r->arrived);
        busy_ -= 1;
        continue;
      }
      respond(it->second.get(), r, 504, error_body(message), "application/json", -1, "timeout");
      after_answer(it->second.get());
    }
  }

  // HTTP's Date, as uvicorn writes it.
  std::string date() {
    std::time_t t = std::time(nullptr);
    if (t != date_at_) {
      char buf[64];
      std::tm tm;
      gmtime_r(&t, &tm);
      std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      date_ = buf;
      date_at_ = t;
    }
    return date_;
  }

  int listen_ = -1, ep_ = -1, wake_ = -1, done_fd_ = -1, handover_fd_ = -1;
  std::map<std::string, std::unique_ptr<Model>> models_;
  std::map<std::string, Route> routes_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_conn_ = 0;
  std::thread io_;
  std::atomic<bool> draining_{false}, stopping_{false};
  bool closed_ = false;
  std::atomic<int64_t> busy_{0}, writing_{0};
  std::mutex done_mu_;
  std::deque<ReqPtr> done_;
  std::mutex hand_mu_;
  std::vector<std::pair<int, std::string>> handovers_;
  std::multimap<double, std::weak_ptr<Req>> timers_;
  std::string date_;
  std::time_t date_at_ = 0;
  double keep_alive_ = 5, next_sweep_ = 0, accept_again_ = 0;
};

}  // namespace serve_front
