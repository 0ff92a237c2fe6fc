// Runs a saved matx_nb pipeline from C++ (no Python in the process):
//
//   run_pipeline DIR '{"texts": ["hello", "x"]}' [--device N] [--bench N] [--rebuild]
//   run_pipeline DIR @feed.json ...      (the feed read from a file, as matx-run's --feed @file)
//
// prints the outputs as JSON (and with --bench, latency percentiles). As with
// matx-run, {"$bytes": "text"} in the feed is the text's UTF-8 bytes, {"$b64": "..."}
// any bytes (an image file, base64), and an
// array output prints as {"dtype": ..., "shape": [...], "data": [...]}.
// --device N runs the pipeline's torch model on cuda:N (default -1, the CPU);
// its outputs are copied to the CPU (Session::ToHost) to be printed.
// --rebuild lets the Session compile a library built for another platform from
// the folder's source (LoadOptions::rebuild; like matx-run --rebuild).
#include <matx_nb/mod/base64.h>
#include <matx_nb/mod/ndarray.h>
#include <matx_nb/session.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

// {"$bytes": s} -> s's UTF-8 bytes, {"$b64": s} -> base64-decoded bytes (an image
// file), recursively.
mx::Any decode_feed(const mx::Any& v) {
  if (v.tag() == mx::TypeTag::Dict) {
    auto d = v.dict();
    if (d.size() == 1) {
      mx::Any* b = d.lookup(mx::Any(mx::Str(U"$bytes", 6)));
      if (b && b->tag() == mx::TypeTag::Str) {
        std::string u = mx::utf8_encode(b->str());
        return mx::Any(mx::Bytes(u.data(), u.size()));
      }
      mx::Any* b64 = d.lookup(mx::Any(mx::Str(U"$b64", 4)));
      if (b64 && b64->tag() == mx::TypeTag::Str)
        return mx::Any(mx::pymod::base64_standard_b64decode(b64->str(), nullptr));
    }
    mx::Dict<mx::Any, mx::Any> out;
    for (auto& e : d.table().entries())
      if (e.live) out.set(e.key, decode_feed(e.value));
    return mx::Any(out);
  }
  if (v.tag() == mx::TypeTag::List) {
    mx::List<mx::Any> out;
    auto l = v.list();
    for (int64_t i = 0; i < l.size(); ++i) out.push_back(decode_feed(l[i]));
    return mx::Any(out);
  }
  return v;
}

// Arrays -> {"dtype", "shape", "data"}, recursively through lists and tuples.
mx::Any encode_output(const mx::Any& v) {
  if (v.tag() == mx::TypeTag::Instance && mx::is_ndarray_object(v.obj())) {
    mx::NDArray a(mx::Ref<mx::NDArrayObj>::borrow(static_cast<mx::NDArrayObj*>(v.obj())));
    std::string dt = mx::dtype_name(a->dtype);
    mx::List<mx::Any> shape;
    for (int64_t n : a->shape) shape.push_back(mx::Any(n));
    mx::Dict<mx::Any, mx::Any> out;
    auto text = [](const std::string& k) {
      std::u32string u(k.begin(), k.end());
      return mx::Any(mx::Str(u.data(), u.size()));
    };
    out.set(text("dtype"), text(dt));
    out.set(text("shape"), mx::Any(shape));
    out.set(text("data"), mx::pymod::ndarray_tolist(a, nullptr));
    return mx::Any(out);
  }
  if (v.tag() == mx::TypeTag::List || v.tag() == mx::TypeTag::Tuple) {
    mx::List<mx::Any> out;
    auto l = v.list();
    for (int64_t i = 0; i < l.size(); ++i) out.push_back(encode_output(l[i]));
    return mx::Any(out);
  }
  return v;
}

// FEED, or the contents of the file FEED names after an '@'.
std::string feed_text(const char* arg) {
  if (arg[0] != '@') return arg;
  std::ifstream f(arg + 1, std::ios::binary);
  if (!f) throw mx::Error(mx::ErrKind::OSError, std::string("cannot read the feed file ") + (arg + 1));
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

int main(int argc, char** argv) {
  int device = -1, bench = 0;
  matx_nb::LoadOptions options;
  bool ok = argc >= 3;
  for (int i = 3; ok && i < argc; i += 2) {
    if (std::strcmp(argv[i], "--rebuild") == 0) {
      options.rebuild = true;
      --i;
      continue;
    }
    ok = i + 1 < argc;
    if (ok && std::strcmp(argv[i], "--device") == 0) device = std::atoi(argv[i + 1]);
    else if (ok && std::strcmp(argv[i], "--bench") == 0) bench = std::atoi(argv[i + 1]);
    else ok = false;
  }
  if (!ok) {
    std::fprintf(stderr, "usage: %s DIR FEED_JSON|@FILE [--device N] [--bench N] [--rebuild]\n", argv[0]);
    return 2;
  }
  try {
    auto sess = matx_nb::Session::Load(argv[1], "model.spec.json", device, options);
    mx::Any feed = mx::json::loads(feed_text(argv[2]));
    if (feed.tag() != mx::TypeTag::Dict) throw mx::Error(mx::ErrKind::TypeError, "the feed must be a JSON object");
    matx_nb::Feeds feeds;
    for (auto& e : feed.dict().table().entries())
      if (e.live) feeds[mx::utf8_encode(e.key.str())] = decode_feed(e.value);
    mx::Any out = encode_output(sess->ToHost(sess->Run(feeds)));
    std::cout << mx::json::dumps(out, false) << std::endl;
    if (bench > 0) {
      int n = bench;
      std::vector<double> us;
      for (int i = 0; i < n; ++i) {
        auto t = std::chrono::steady_clock::now();
        sess->ToHost(sess->Run(feeds));  // the host copy waits for the device
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
      }
      std::sort(us.begin(), us.end());
      auto pct = [&](double p) { return us[std::min(us.size() - 1, size_t(p * us.size()))]; };
      std::printf("p50 %.1f us  p90 %.1f us  p99 %.1f us\n", pct(0.5), pct(0.9), pct(0.99));
    }
  } catch (const matx_nb::PipelineError& e) {  // the folder or its spec
    std::fprintf(stderr, "PipelineError: %s\n", e.what());
    return 1;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "%s: %s\n", mx::errkind_name(e.kind()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
