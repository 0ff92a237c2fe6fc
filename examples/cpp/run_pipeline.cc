// Runs a saved matx_nb pipeline from C++ (no Python in the process):
//
//   run_pipeline DIR '{"texts": ["hello", "x"]}' [--bench N]
//
// prints the outputs as JSON (and with --bench, latency percentiles).
#include <matx_nb/session.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR FEED_JSON [--bench N]\n", argv[0]);
    return 2;
  }
  try {
    auto sess = matx_nb::Session::Load(argv[1], "model.spec.json", -1);
    mx::Any feed = mx::json::loads(std::string(argv[2]));
    if (feed.tag() != mx::TypeTag::Dict) throw mx::Error(mx::ErrKind::TypeError, "the feed must be a JSON object");
    matx_nb::Feeds feeds;
    for (auto& e : feed.dict().table().entries())
      if (e.live) feeds[mx::utf8_encode(e.key.str())] = e.value;
    mx::Any out = sess->Run(feeds);
    std::cout << mx::json::dumps(out, false) << std::endl;
    if (argc >= 5 && std::strcmp(argv[3], "--bench") == 0) {
      int n = std::atoi(argv[4]);
      std::vector<double> us;
      for (int i = 0; i < n; ++i) {
        auto t = std::chrono::steady_clock::now();
        sess->Run(feeds);
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
      }
      std::sort(us.begin(), us.end());
      auto pct = [&](double p) { return us[std::min(us.size() - 1, size_t(p * us.size()))]; };
      std::printf("p50 %.1f us  p90 %.1f us  p99 %.1f us\n", pct(0.5), pct(0.9), pct(0.99));
    }
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "%s: %s\n", mx::errkind_name(e.kind()), e.what());
    return 1;
  }
  return 0;
}
