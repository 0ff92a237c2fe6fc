// matx_nb::Session: runs a saved pipeline folder (model.spec.json + op
// libraries) from C++, with no Python in the process. matx_nb.load() in Python
// runs the same code through the binding.
//
//   auto sess = matx_nb::Session::Load("out/text2ids", "model.spec.json", -1);
//   mx::Any out = sess->Run({{"texts", matx_nb::List{matx_nb::Str("hello")}}});
//
// Run() only reads the session's state, so it may be called from many threads.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "host_any.h"
#include "json.h"
#include "sha256.h"

namespace matx_nb {

using Any = mx::Any;
using List = mx::List<mx::Any>;
using Dict = mx::Dict<mx::Any, mx::Any>;
using Feeds = std::unordered_map<std::string, mx::Any>;

// A str from UTF-8 text.
inline mx::Str Str(const std::string& utf8) { return mx::str_from_utf8(utf8); }

constexpr int kSpecVersion = 1;

inline std::string platform_tag() {
#if defined(__linux__)
  std::string os = "linux";
#elif defined(__APPLE__)
  std::string os = "darwin";
#else
  std::string os = "unknown";
#endif
#if defined(__x86_64__)
  return os + "-x86_64";
#elif defined(__aarch64__)
  return os + "-aarch64";
#else
  return os + "-unknown";
#endif
}

[[noreturn]] inline void pipeline_error(const std::string& msg) { mx::raise(mx::ErrKind::ValueError, msg); }

class Session {
 public:
  static std::unique_ptr<Session> Load(const std::string& dir, const std::string& spec_name = "model.spec.json",
                                       int device = -1) {
    std::unique_ptr<Session> s(new Session());
    s->dir_ = dir;
    s->device_ = device;
    s->load(spec_name);
    return s;
  }

  const std::vector<std::string>& InputNames() const { return inputs_; }
  // -1 the CPU, N cuda:N: where the pipeline's torch nodes run (whatever device
  // they were traced on). Their outputs stay in that device's memory.
  int Device() const { return device_; }

  // `v` with every array in device memory (a torch op's output on cuda:N)
  // copied to the CPU, through lists, tuples and dicts; CPU arrays are shared.
  // The copy is libtorch's (the folder's runner), so a program needs no CUDA
  // headers, and it waits for the device.
  Any ToHost(const Any& v) const {
    switch (v.tag()) {
      case mx::TypeTag::Instance: {
        if (!mx::is_ndarray_object(v.obj())) return v;
        auto* a = static_cast<mx::NDArrayObj*>(v.obj());
        if (a->device.device_type == kDLCPU) return v;
        if (!torch_runner_ || !torch_runner_->to_cpu)
          pipeline_error("an array on device " + std::to_string(int(a->device.device_type)) + ":" +
                         std::to_string(a->device.device_id) + " needs the folder's libtorch runner to reach the CPU");
        DLManagedTensor* out = nullptr;
        char* err = nullptr;
        if (torch_runner_->to_cpu(a->to_dlpack(), &out, &err) != 0) {
          std::string msg = err ? err : "unknown error";
          std::free(err);
          mx::raise(mx::ErrKind::RuntimeError, "copying an array to the CPU failed: " + msg);
        }
        return Any(mx::NDArray::from_dlpack(out).ref());
      }
      case mx::TypeTag::List:
      case mx::TypeTag::Tuple: {
        List out;
        for (auto& x : v.list().vec()) out.push_back(ToHost(x));
        return v.tag() == mx::TypeTag::Tuple ? Any::tuple_of(out) : Any(out);
      }
      case mx::TypeTag::Dict: {
        Dict out;
        for (auto& e : v.dict().table().entries())
          if (e.live) out.set(e.key, ToHost(e.value));
        return Any(out);
      }
      default:
        return v;
    }
  }

  // With a token: token->cancel() from another thread stops the request's
  // compiled loops at their next iteration, and Run throws mx::Error of kind
  // KeyboardInterrupt. A Ctrl-C in the main thread does the same to a run there.
  Any Run(const Feeds& feeds, mx::CancelToken* token) const {
    mx::InterruptScope scope(token);
    return Run(feeds);
  }

  Any Run(const Feeds& feeds) const {
    for (auto& n : inputs_)
      if (!feeds.count(n)) mx::raise(mx::ErrKind::KeyError, "missing pipeline input '" + n + "'");
    for (auto& kv : feeds)
      if (std::find(inputs_.begin(), inputs_.end(), kv.first) == inputs_.end())
        mx::raise(mx::ErrKind::KeyError, "unknown pipeline input '" + kv.first + "'");
    std::unordered_map<std::string, Any> env(feeds.begin(), feeds.end());
    for (const Node& node : nodes_) env[node.id] = run_node(node, env);
    return value(outputs_, env);
  }

 private:
  struct Node {
    std::string id, kind, target, name;  // target: instance id or library id
    Any args, kwargs;                    // spec argument lists, resolved at run time
  };

  static const Any& get(const Any& dict, const char* key) {
    static const Any none;
    if (dict.tag() != mx::TypeTag::Dict) return none;
    Any* v = dict.dict().lookup(Any(mx::str_from_utf8(key)));
    return v ? *v : none;
  }
  static std::string text(const Any& v) {
    return v.tag() == mx::TypeTag::Str ? mx::utf8_encode(v.str()) : std::string();
  }

  void load(const std::string& spec_name) {
    std::string path = dir_ + "/" + spec_name;
    FILE* probe = std::fopen(path.c_str(), "rb");
    if (!probe) pipeline_error(dir_ + " is not a saved pipeline: " + spec_name + " is missing");
    std::fclose(probe);
    Any spec;
    try {
      spec = mx::json::load_file(path);
    } catch (const mx::Error& e) {
      pipeline_error(path + " is corrupt: " + e.message());
    }
    if (text(get(spec, "format")) != "matx_nb.pipeline") pipeline_error(path + " is not a matx_nb pipeline spec");
    const Any& ver = get(spec, "version");
    if (ver.tag() != mx::TypeTag::Int || ver.i() > kSpecVersion)
      pipeline_error(path + " has a spec version this runtime cannot read");
    verify_checksums(get(spec, "checksums"));
    for (auto& e : get(spec, "inputs").list().vec()) inputs_.push_back(text(e));
    load_libraries(get(spec, "libraries"));
    for (auto& rec : get(spec, "instances").list().vec()) {
      auto it = libs_.find(text(get(rec, "library")));
      if (it == libs_.end()) pipeline_error("instance " + text(get(rec, "id")) + " names an unknown library");
      auto& l = *it->second;
      std::unordered_map<std::string, Any> no_env;
      List args = value_list(get(rec, "args"), no_env);
      std::vector<Any> pos(args.vec().begin(), args.vec().end());
      std::vector<bool> given(pos.size(), true);
      append_kwargs(pos, given, l.find_function(""), get(rec, "kwargs"), no_env, nullptr,
                    l.find_class(text(get(rec, "class"))));
      instances_[text(get(rec, "id"))] = l.construct(text(get(rec, "class")), pos, &given);
    }
    for (auto& n : get(spec, "nodes").list().vec()) {
      Node node;
      node.id = text(get(n, "id"));
      const Any& op = get(n, "op");
      node.kind = text(get(op, "kind"));
      node.name = text(get(op, "name"));
      node.target = node.kind == "method" ? text(get(op, "instance")) : text(get(op, "library"));
      if (node.kind == "torch") {
        node.target = text(get(op, "model"));
        if (!torch_models_.count(node.target)) load_torch(node.target, text(get(op, "path")), text(get(op, "runner")));
      }
      node.args = get(n, "args");
      node.kwargs = get(n, "kwargs");
      nodes_.push_back(node);
    }
    outputs_ = get(spec, "outputs");
  }

  void verify_checksums(const Any& sums) {
    if (sums.tag() != mx::TypeTag::Dict) return;
    for (auto& e : sums.dict().table().entries()) {
      if (!e.live) continue;
      std::string rel = text(e.key), want = text(e.value);
      std::string got = mx::sha256_file(dir_ + "/" + rel);
      if (got.empty()) pipeline_error(dir_ + ": " + rel + " is missing (the folder is incomplete)");
      if (got != want) pipeline_error(dir_ + ": checksum mismatch for " + rel + ": the folder was modified after it was saved");
    }
  }

  void load_libraries(const Any& libs) {
    if (libs.tag() != mx::TypeTag::Dict) return;
    for (auto& e : libs.dict().table().entries()) {
      if (!e.live) continue;
      std::string id = text(e.key);
      const Any& entry = e.value;
      std::string lib_path = dir_ + "/" + text(get(entry, "path"));
      if (text(get(entry, "platform")) != platform_tag() || get(entry, "abi").i() != MATX_NB_ABI_VERSION)
        lib_path = rebuild(entry);
      auto lib = std::make_unique<mx::CompiledLibrary>(lib_path);
      const Any& origins = get(entry, "origins");
      if (origins.tag() == mx::TypeTag::List) {
        int i = 0;
        for (auto& o : origins.list().vec()) {
          List parts = o.list();
          if (parts.size() >= 2) lib->set_origin(i, text(parts[0]), int(parts[1].i()));
          ++i;
        }
      }
      libs_[id] = std::move(lib);
    }
  }

  // Libraries the generated source asks for: its `// matx_nb-link: <flags>` lines
  // (only -l names are taken, so a source cannot inject shell text).
  static std::string link_flags(const std::string& src) {
    std::string out, line;
    std::ifstream in(src);
    const std::string mark = "// matx_nb-link: ";
    while (std::getline(in, line)) {
      if (line.compare(0, mark.size(), mark) != 0) continue;
      std::istringstream words(line.substr(mark.size()));
      std::string w;
      while (words >> w) {
        bool ok = w.size() > 2 && w.compare(0, 2, "-l") == 0;
        for (char c : w.substr(2)) ok = ok && (std::isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.');
        if (ok) out += " " + w;
      }
    }
    return out;
  }

  // A library built for another platform or ABI is compiled again from the
  // source saved next to it, into the user's cache (once per source).
  std::string rebuild(const Any& entry) const {
    std::string what = text(get(entry, "path")) + " was built for " + text(get(entry, "platform")) +
                       " (ABI " + std::to_string(get(entry, "abi").i()) + ")";
    std::string source = text(get(entry, "source"));
    if (source.empty()) pipeline_error(what + " and the folder has no source to rebuild it");
    std::string src = dir_ + "/" + source;
    const char* inc = std::getenv("MATX_NB_INCLUDE");
#ifdef MATX_NB_INCLUDE_DIR
    if (!inc) inc = MATX_NB_INCLUDE_DIR;
#endif
    if (!inc)
      pipeline_error(what + "; to rebuild it from " + source + " set MATX_NB_INCLUDE to the runtime headers "
                     "(python -m matx_nb --includes) or build with matx_nb's CMake config");
    std::string cache;
    if (const char* c = std::getenv("MATX_NB_CACHE")) cache = c;
    else if (const char* h = std::getenv("HOME")) cache = std::string(h) + "/.cache/matx_nb";
    else cache = "/tmp/matx_nb";
    cache += "/rebuilt";
    std::string out = cache + "/" + mx::sha256_file(src).substr(0, 32) + ".so";
    if (FILE* f = std::fopen(out.c_str(), "rb")) {
      std::fclose(f);
      return out;
    }
    auto quote = [](const std::string& x) {
      std::string q = "'";
      for (char c : x) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      return q + "'";
    };
    const char* cxx = std::getenv("MATX_NB_CXX");
    std::string tmp = out + ".tmp" + std::to_string(::getpid());
    std::string cmd = "mkdir -p " + quote(cache) + " && " + (cxx ? cxx : "g++") +
                      " -std=c++17 -O3 -fPIC -shared -fvisibility=hidden -w -I" + quote(inc) + " " + quote(src) +
                      " -o " + quote(tmp) + link_flags(src) + " && mv -f " + quote(tmp) + " " + quote(out);
    if (std::system(cmd.c_str()) != 0) pipeline_error(what + "; rebuilding it from " + source + " failed");
    return out;
  }

  Any value(const Any& arg, const std::unordered_map<std::string, Any>& env) const {
    if (arg.tag() != mx::TypeTag::Dict) pipeline_error("bad argument in spec");
    auto d = arg.dict();
    for (auto& e : d.table().entries()) {
      if (!e.live) continue;
      std::string k = text(e.key);
      if (k == "ref") {
        auto it = env.find(text(e.value));
        if (it == env.end()) pipeline_error("spec refers to unknown value '" + text(e.value) + "'");
        return it->second;
      }
      if (k == "const") return e.value;
      if (k == "instance") return instances_.at(text(e.value));
      if (k == "resource") return Any(mx::str_from_utf8(dir_ + "/" + text(e.value)));
      if (k == "tuple") return Any::tuple_of(value_list(e.value, env));
      if (k == "list") return Any(value_list(e.value, env));
      if (k == "dict") {
        Dict out;
        for (auto& kv : e.value.dict().table().entries())
          if (kv.live) out.set(kv.key, value(kv.value, env));
        return Any(out);
      }
    }
    pipeline_error("bad argument in spec");
  }

  List value_list(const Any& args, const std::unordered_map<std::string, Any>& env) const {
    List out;
    if (args.tag() == mx::TypeTag::List)
      for (auto& a : args.list().vec()) out.push_back(value(a, env));
    return out;
  }

  // Keyword arguments go to their parameter's position; `given` marks the
  // positions that hold an argument (the others take their defaults).
  void append_kwargs(std::vector<Any>& pos, std::vector<bool>& given, const mx_func_desc* fn, const Any& kwargs,
                     const std::unordered_map<std::string, Any>& env, const mx_func_desc* method,
                     const mx_class_desc* cls) const {
    if (kwargs.tag() != mx::TypeTag::Dict || kwargs.dict().size() == 0) return;
    const mx_func_desc* d = method ? method : cls ? &cls->init : fn;
    if (!d) pipeline_error("keyword arguments for an unknown op");
    pos.resize(size_t(d->nargs));
    given.resize(size_t(d->nargs), false);
    for (auto& e : kwargs.dict().table().entries()) {
      if (!e.live) continue;
      std::string k = text(e.key);
      int at = -1;
      for (int i = 0; i < d->nargs; ++i)
        if (k == d->param_names[i]) at = i;
      if (at < 0) pipeline_error("unknown keyword argument '" + k + "'");
      pos[size_t(at)] = value(e.value, env);
      given[size_t(at)] = true;
    }
  }

  static Any getitem(const Any& v, const Any& key) {
    switch (v.tag()) {
      case mx::TypeTag::List:
      case mx::TypeTag::Tuple: {
        List items = v.list();
        int64_t i = mx::any_cast<int64_t>(key);
        return items[mx::norm_index(i, items.size(), v.tag() == mx::TypeTag::Tuple ? "tuple" : "list", nullptr)];
      }
      case mx::TypeTag::Dict: {
        Any* x = v.dict().lookup(key);
        if (!x) mx::raise(mx::ErrKind::KeyError, mx::utf8_encode(mx::repr(key)));
        return *x;
      }
      case mx::TypeTag::Str:
        return Any(mx::getitem(v.str(), mx::any_cast<int64_t>(key), nullptr));
      default:
        mx::raise(mx::ErrKind::TypeError, std::string("'") + v.type_name() + "' object is not subscriptable");
    }
  }

  Any run_node(const Node& node, const std::unordered_map<std::string, Any>& env) const {
    List args = value_list(node.args, env);
    std::vector<Any> pos(args.vec().begin(), args.vec().end());
    std::vector<bool> given(pos.size(), true);
    if (node.kind == "method") {
      const Any& inst = instances_.at(node.target);
      for (auto& kv : libs_) {
        const mx_class_desc* cls = kv.second->find_class_for(inst);
        if (!cls) continue;
        const mx_func_desc* m = nullptr;
        for (int i = 0; i < cls->n_methods; ++i)
          if (node.name == cls->methods[i].name) m = &cls->methods[i];
        append_kwargs(pos, given, nullptr, node.kwargs, env, m, nullptr);
        return kv.second->call_method(inst, node.name, pos, &given);
      }
      pipeline_error("no library holds the class of instance " + node.target);
    }
    if (node.kind == "function") {
      auto& lib = *libs_.at(node.target);
      append_kwargs(pos, given, lib.find_function(node.name), node.kwargs, env, nullptr, nullptr);
      return lib.call(node.name, pos, &given);
    }
    if (node.kind == "torch") return run_torch(torch_models_.at(node.target), pos);
    if (node.kind == "getitem") return getitem(pos.at(0), pos.at(1));
    if (node.kind == "getattr") {
      for (auto& kv : libs_)
        if (kv.second->find_class_for(pos.at(0))) return kv.second->get_attr(pos.at(0), text(pos.at(1)));
      pipeline_error("getattr on a value that is not a compiled instance");
    }
    pipeline_error("unknown op kind '" + node.kind + "'");
  }

  // ---- torch nodes: a TorchScript model run by the libtorch runner
  // (runtime/torch/torch_runner.cc, bundled in the folder), opened with dlopen so
  // that this header needs no libtorch.
  struct TorchRunner {
    void* (*load)(const char*, int, char**);
    int (*forward)(void*, DLManagedTensor**, int, DLManagedTensor***, int*, char**);
    int (*to_cpu)(DLManagedTensor*, DLManagedTensor**, char**);  // null in runners older than ToHost
  };
  struct TorchModel {
    const TorchRunner* runner;
    void* model;
  };

  void load_torch(const std::string& id, const std::string& model, const std::string& runner) {
    if (runner.empty()) pipeline_error("torch op " + id + " has no libtorch runner in " + dir_);
    std::string rpath = dir_ + "/" + runner;
    void* h = dlopen(rpath.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) pipeline_error("cannot load the libtorch runner " + rpath + ": " + dlerror());
    auto* r = new TorchRunner{reinterpret_cast<void* (*)(const char*, int, char**)>(dlsym(h, "mx_torch_load")),
                              reinterpret_cast<int (*)(void*, DLManagedTensor**, int, DLManagedTensor***, int*, char**)>(
                                  dlsym(h, "mx_torch_forward")),
                              reinterpret_cast<int (*)(DLManagedTensor*, DLManagedTensor**, char**)>(
                                  dlsym(h, "mx_torch_to_cpu"))};
    if (!r->load || !r->forward) pipeline_error(rpath + " is not a libtorch runner");
    if (!torch_runner_ || (!torch_runner_->to_cpu && r->to_cpu)) torch_runner_ = r;
    char* err = nullptr;
    void* m = r->load((dir_ + "/" + model).c_str(), device_, &err);
    if (!m) {
      std::string msg = err ? err : "unknown error";
      std::free(err);
      pipeline_error("cannot load torch model " + model + ": " + msg);
    }
    torch_models_[id] = TorchModel{r, m};  // runner and model live as long as the process (like libraries)
  }

  static Any run_torch(const TorchModel& tm, const std::vector<Any>& args) {
    std::vector<DLManagedTensor*> in;
    for (const Any& a : args) {
      if (a.tag() != mx::TypeTag::Instance || !mx::is_ndarray_object(a.obj())) {
        for (auto* t : in) t->deleter(t);
        mx::raise(mx::ErrKind::TypeError, std::string("a torch op takes NDArrays, got ") + a.type_name());
      }
      in.push_back(static_cast<mx::NDArrayObj*>(a.obj())->to_dlpack());
    }
    DLManagedTensor** out = nullptr;
    int n_out = 0;
    char* err = nullptr;
    if (tm.runner->forward(tm.model, in.data(), int(in.size()), &out, &n_out, &err) != 0) {
      std::string msg = err ? err : "unknown error";
      std::free(err);
      mx::raise(mx::ErrKind::RuntimeError, "torch op failed: " + msg);
    }
    List items;
    for (int i = 0; i < n_out; ++i) items.push_back(Any(mx::NDArray::from_dlpack(out[i]).ref()));
    std::free(out);
    return n_out == 1 ? items[0] : Any::tuple_of(items);
  }

  std::unordered_map<std::string, TorchModel> torch_models_;
  const TorchRunner* torch_runner_ = nullptr;  // for ToHost
  std::string dir_;
  int device_ = -1;
  std::vector<std::string> inputs_;
  std::map<std::string, std::unique_ptr<mx::CompiledLibrary>> libs_;
  std::unordered_map<std::string, Any> instances_;
  std::vector<Node> nodes_;
  Any outputs_;
};

}  // namespace matx_nb
