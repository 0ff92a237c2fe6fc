// Runs a Session's requests on a native thread that never takes the GIL
// (matx-serve's instances: matx_nb/serve/model.py).
//
// The event loop's thread, which holds the GIL, converts a request's inputs and
// submits them; the runner's thread runs Session::Run and signals an eventfd
// that the loop watches; the loop's thread takes the result and converts it.
// A Python thread running the same work would need the GIL back after the run
// (and to start), and wait for it while the loop's thread is busy parsing
// requests: up to the interpreter's switch interval (5 ms) per batch, longer
// than the batch itself. Here the handoff is an eventfd write.
//
// Inputs and outputs are destroyed on the loop's thread too (take()): an array
// borrowed from numpy or torch frees through Python. No Python here: a C++
// program can use it over its Session (tests/test_tsan.py does, under
// ThreadSanitizer).
#pragma once
#include <sys/eventfd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace native_runner {

class AsyncRunner {
 public:
  explicit AsyncRunner(const matx_nb::Session* session) : session_(session) {
    fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    thread_ = std::thread([this] { work(); });
  }
  AsyncRunner(const AsyncRunner&) = delete;
  AsyncRunner& operator=(const AsyncRunner&) = delete;
  // Waits for the queued runs (the Python binding releases the GIL first: a
  // print() in a running request may wait for it).
  ~AsyncRunner() { close(); }

  // Readable when a request has finished (an eventfd: a counter).
  int fd() const { return fd_; }

  uint64_t submit(matx_nb::Feeds feeds) {
    std::lock_guard<std::mutex> g(mu_);
    if (closing_) throw std::runtime_error("the runner is closed");
    uint64_t id = ++next_;
    queue_.push_back(Job{id, std::move(feeds), {}, nullptr});
    cv_.notify_one();
    return id;
  }

  // The ids of the finished requests not taken yet, oldest first. Clears the
  // eventfd.
  std::vector<uint64_t> ready() {
    uint64_t n;
    while (::read(fd_, &n, sizeof n) == sizeof n) {
    }
    std::lock_guard<std::mutex> g(mu_);
    std::vector<uint64_t> ids;
    for (auto& j : done_) ids.push_back(j.id);
    return ids;
  }

  // The output of a finished request (once), and the seconds its run took;
  // rethrows its run's error.
  mx::Any take(uint64_t id, double* seconds) {
    Job job;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = done_.begin();
      while (it != done_.end() && it->id != id) ++it;
      if (it == done_.end()) throw std::out_of_range("no finished request " + std::to_string(id));
      job = std::move(*it);
      done_.erase(it);
    }
    job.feeds.clear();
    if (seconds) *seconds = job.seconds;
    if (job.error) std::rethrow_exception(job.error);
    return std::move(job.out);
  }

  // Finishes the queued requests, then stops the thread.
  void close() {
    {
      std::lock_guard<std::mutex> g(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  struct Job {
    uint64_t id = 0;
    matx_nb::Feeds feeds;
    mx::Any out;
    std::exception_ptr error;
    double seconds = 0;
  };

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      auto t0 = std::chrono::steady_clock::now();
      try {
        job.out = session_->Run(job.feeds);
      } catch (...) {
        job.error = std::current_exception();
      }
      job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      {
        std::lock_guard<std::mutex> g(mu_);
        done_.push_back(std::move(job));
      }
      uint64_t one = 1;
      while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
      }
    }
  }

  const matx_nb::Session* session_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::deque<Job> done_;
  uint64_t next_ = 0;
  bool closing_ = false;
  std::thread thread_;
};

}  // namespace native_runner
