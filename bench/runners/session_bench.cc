// Per-call cost of a one-op saved pipeline from C++: the op called directly
// through mx::CompiledLibrary (on the library saved in the folder) versus the
// same call through matx_nb::Session::Run. Used by bench/export_overhead.py.
//
//   g++ -O2 -std=c++17 -I runtime/include bench/runners/session_bench.cc -o session_bench -ldl -lpthread
//   session_bench ADD_DIR TEXT2IDS_DIR WORD... [--batches B] [--batch-ms MS]
//
// ADD_DIR holds the saved pipeline process(a, b) = add(a, b); TEXT2IDS_DIR the
// one process(words) = Text2Ids()(words). Prints one JSON object: per op,
// direct_ns and session_ns (median over B batches of the per-call mean; each
// batch about MS ms of calls, the two ways interleaved batch by batch), the
// calls per batch and both results (for the caller to check).
#include <matx_nb/session.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile int64_t g_sink = 0;  // keeps every result observed

void consume(const mx::Any& r) {
  if (r.tag() == mx::TypeTag::Int) g_sink = g_sink + r.i();
  else if (r.tag() == mx::TypeTag::List) g_sink = g_sink + r.list().size();
}

template <class F>
double batch_ns(const F& call, int64_t n) {
  auto t = Clock::now();
  for (int64_t i = 0; i < n; ++i) consume(call());
  return std::chrono::duration<double, std::nano>(Clock::now() - t).count() / double(n);
}

// Calls per batch so that the slower of the two ways takes about batch_ms.
template <class F>
int64_t calibrate(const F& slow, double batch_ms) {
  int64_t n = 1;
  for (;;) {
    auto t = Clock::now();
    for (int64_t i = 0; i < n; ++i) consume(slow());
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    if (ms >= batch_ms || n >= (int64_t(1) << 26)) return n;
    n *= 2;
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string json_num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

// The op library of a one-library saved folder, as the Session finds it.
std::string saved_library(const std::string& dir) {
  mx::Any spec = mx::json::load_file(dir + "/model.spec.json");
  mx::Any* libs = spec.dict().lookup(mx::Any(mx::str_from_utf8("libraries")));
  if (!libs || libs->tag() != mx::TypeTag::Dict) throw mx::Error(mx::ErrKind::ValueError, dir + ": no libraries");
  for (auto& e : libs->dict().table().entries()) {
    if (!e.live) continue;
    mx::Any* path = e.value.dict().lookup(mx::Any(mx::str_from_utf8("path")));
    return dir + "/" + mx::utf8_encode(path->str());
  }
  throw mx::Error(mx::ErrKind::ValueError, dir + ": no libraries");
}

template <class D, class S>
std::string measure(const char* name, const D& direct, const S& session, int batches, double batch_ms) {
  mx::Any r_direct = direct(), r_session = session();  // warm-up, reported for the check
  int64_t n = calibrate(session, batch_ms);
  std::vector<double> d, s;
  for (int b = 0; b < batches; ++b) {
    d.push_back(batch_ns(direct, n));
    s.push_back(batch_ns(session, n));
  }
  return std::string("\"") + name + "\": {\"direct_ns\": " + json_num(median(d)) +
         ", \"session_ns\": " + json_num(median(s)) + ", \"direct_min_ns\": " +
         json_num(*std::min_element(d.begin(), d.end())) + ", \"session_min_ns\": " +
         json_num(*std::min_element(s.begin(), s.end())) + ", \"calls_per_batch\": " + std::to_string(n) +
         ", \"batches\": " + std::to_string(batches) + ", \"direct_result\": " + mx::json::dumps(r_direct) +
         ", \"session_result\": " + mx::json::dumps(r_session) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ADD_DIR TEXT2IDS_DIR WORD... [--batches B] [--batch-ms MS]\n", argv[0]);
    return 2;
  }
  std::string add_dir = argv[1], t2i_dir = argv[2];
  std::vector<std::string> words;
  int batches = 15;
  double batch_ms = 20;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--batches") == 0 && i + 1 < argc) batches = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--batch-ms") == 0 && i + 1 < argc) batch_ms = std::atof(argv[++i]);
    else words.push_back(argv[i]);
  }
  try {
    // add(1, 2)
    auto add_sess = matx_nb::Session::Load(add_dir, "model.spec.json", -1);
    mx::CompiledLibrary add_lib(saved_library(add_dir));
    const std::vector<mx::Any> add_args{mx::Any(int64_t(1)), mx::Any(int64_t(2))};
    const matx_nb::Feeds add_feeds{{"a", mx::Any(int64_t(1))}, {"b", mx::Any(int64_t(2))}};
    std::string add_json = measure(
        "add", [&] { return add_lib.call("add", add_args); }, [&] { return add_sess->Run(add_feeds); },
        batches, batch_ms);

    // Text2Ids()(words): the direct way constructs its own instance from the saved library.
    auto t2i_sess = matx_nb::Session::Load(t2i_dir, "model.spec.json", -1);
    mx::CompiledLibrary t2i_lib(saved_library(t2i_dir));
    mx::Any inst = t2i_lib.construct("Text2Ids", {});
    matx_nb::List wl;
    for (auto& w : words) wl.push_back(mx::Any(matx_nb::Str(w)));
    const std::vector<mx::Any> t2i_args{mx::Any(wl)};
    const matx_nb::Feeds t2i_feeds{{"words", mx::Any(wl)}};
    std::string t2i_json = measure(
        "text2ids", [&] { return t2i_lib.call_method(inst, "__call__", t2i_args); },
        [&] { return t2i_sess->Run(t2i_feeds); }, batches, batch_ms);

    std::printf("{%s, %s}\n", add_json.c_str(), t2i_json.c_str());
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "%s: %s\n", mx::errkind_name(e.kind()), e.what());
    return 1;
  }
  return 0;
}
