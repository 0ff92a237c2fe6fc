// matx_nb::Session: runs a saved pipeline folder (model.spec.json + op
// libraries) from C++, with no Python in the process. matx_nb.load() in Python
// runs the same code through the binding.
//
//   auto sess = matx_nb::Session::Load("out/text2ids", "model.spec.json", -1);
//   mx::Any out = sess->Run({{"texts", matx_nb::List{matx_nb::Str("hello")}}});
//
// Run() only reads the session's state, so it may be called from many threads.
//
// A folder is code (its libraries run in this process), so Load() checks it
// before anything runs: the spec's fields by hand (a problem is a PipelineError
// naming the field), every path relative and resolving inside the folder
// (symlinks included), a checksum for every file the spec names, verified before
// any dlopen, library files that are whole ELF objects for this machine, and a
// rebuild from source only when LoadOptions::rebuild asks for it. Checksums prove
// the folder is as saved, not who saved it (signatures: matx_nb.load's
// trusted_keys, docs/export.md).
#pragma once
#include "linkage.h"
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "host_any.h"
#include "json.h"
#include "session_build.h"
#include "sha256.h"

namespace matx_nb {

using Any = mx::Any;
using List = mx::List<mx::Any>;
using Dict = mx::Dict<mx::Any, mx::Any>;
using Feeds = std::unordered_map<std::string, mx::Any>;

// A str from UTF-8 text.
MX_INLINE mx::Str Str(const std::string& utf8) { return mx::str_from_utf8(utf8); }

constexpr int kSpecVersion = 1;

MX_INLINE std::string platform_tag() {
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


struct LoadOptions {
  // A library built for another platform or ABI is compiled again from the
  // folder's source.cc only when set (matx_nb.load(..., rebuild=True),
  // matx-run --rebuild): compiling the folder's source is running its code.
  bool rebuild = false;
};

constexpr int kMaxArgDepth = 32;  // nesting of tuple/list/dict arguments in a spec

namespace spec_check {

[[noreturn]] inline void bad(const std::string& field, const std::string& what) {
  pipeline_error("spec field '" + field + "' " + what);
}
MX_INLINE std::string sub(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}
MX_INLINE std::string at(const std::string& where, size_t i) { return where + "[" + std::to_string(i) + "]"; }
MX_INLINE std::string utf8(const Any& v) { return mx::utf8_encode(v.str()); }

// v must have `tag`; `what` is "a string", "a list"...
MX_INLINE const Any& expect(const Any& v, mx::TypeTag tag, const char* what, const std::string& field) {
  if (v.tag() != tag) bad(field, std::string("must be ") + what + ", got " + v.type_name());
  return v;
}
// obj[key] of a dict (checked by the caller); null when the key is missing.
MX_INLINE const Any* find(const Any& obj, const char* key) {
  return obj.dict().lookup(Any(mx::str_from_utf8(key)));
}
MX_INLINE const Any& need(const Any& obj, const char* key, const std::string& where) {
  const Any* v = find(obj, key);
  if (!v) bad(sub(where, key), "is missing");
  return *v;
}
MX_INLINE const Any& need(const Any& obj, const char* key, mx::TypeTag tag, const char* what, const std::string& where) {
  return expect(need(obj, key, where), tag, what, sub(where, key));
}
MX_INLINE std::string need_str(const Any& obj, const char* key, const std::string& where) {
  return utf8(need(obj, key, mx::TypeTag::Str, "a string", where));
}
// A string or null (or missing): "" for null.
MX_INLINE std::string opt_str(const Any& obj, const char* key, const std::string& where) {
  const Any* v = find(obj, key);
  if (!v || v->tag() == mx::TypeTag::None) return "";
  return utf8(expect(*v, mx::TypeTag::Str, "a string or null", sub(where, key)));
}

// Whole, for this machine: an ELF shared object whose headers and segments lie
// inside the file. dlopen of a truncated library maps pages past its end and
// dies of SIGBUS on first touch; this refuses it first.
MX_INLINE void check_library_file(const std::string& path, const std::string& field, const std::string& rel) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) bad(field, "names " + rel + ", which cannot be opened: " + std::strerror(errno));
  struct stat st {};
  Elf64_Ehdr eh{};
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::pread(fd, &eh, sizeof eh, 0) == ssize_t(sizeof eh);
  const uint64_t size = uint64_t(st.st_size);
  auto within = [&](uint64_t off, uint64_t len) { return off <= size && len <= size - off; };
  std::string why = "is not a shared library for this machine";
#if defined(__x86_64__)
  const int machine = EM_X86_64;
#elif defined(__aarch64__)
  const int machine = EM_AARCH64;
#else
  const int machine = -1;
#endif
  ok = ok && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
       eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_type == ET_DYN && (machine < 0 || eh.e_machine == machine) &&
       eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0;
  if (ok) why = "is truncated or damaged (its headers lie past its end)";
  ok = ok && within(eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Elf64_Phdr));
  if (ok && eh.e_shoff != 0)
    ok = eh.e_shentsize == sizeof(Elf64_Shdr) && within(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr));
  bool loads = false;
  for (int i = 0; ok && i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    ok = ::pread(fd, &ph, sizeof ph, off_t(eh.e_phoff + uint64_t(i) * sizeof ph)) == ssize_t(sizeof ph);
    if (ok && !within(ph.p_offset, ph.p_filesz)) {
      ok = false;
      why = "is truncated or damaged (a segment lies past its end)";
    }
    if (ok && ph.p_type == PT_LOAD) {
      loads = true;
      ok = ph.p_filesz <= ph.p_memsz;
    }
  }
  ::close(fd);
  if (!ok || !loads) bad(field, "names " + rel + ", which " + why);
}

}  // namespace spec_check

class Session {
 public:
  static std::unique_ptr<Session> Load(const std::string& dir, const std::string& spec_name = "model.spec.json",
                                       int device = -1, LoadOptions options = {}) {
    std::unique_ptr<Session> s(new Session());
    s->dir_ = dir;
    s->device_ = device;
    s->options_ = options;
    s->check(spec_name);
    s->load();
    return s;
  }

  // Every check Load() makes before it loads anything (spec fields, paths,
  // checksums, library files), without loading: a PipelineError when one fails.
  // Returns the spec's SHA-256 (as SpecSha256()).
  static std::string Verify(const std::string& dir, const std::string& spec_name = "model.spec.json",
                            LoadOptions options = {}) {
    Session s;
    s.dir_ = dir;
    s.options_ = options;
    s.check(spec_name);
    return s.spec_sha256_;
  }

  // SHA-256 of the spec file's bytes as this session read them.
  const std::string& SpecSha256() const { return spec_sha256_; }

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
    std::string id, kind, target, name;  // target: instance id, library id or torch model id
    Any args, kwargs;                    // spec argument lists, resolved at run time
    std::string field;                   // "nodes[3]", for errors
    std::string torch_path, torch_real, runner, runner_real;  // torch nodes: folder-relative and resolved
  };

  // ---- checking the folder (nothing is loaded or run until all of it passes)

  struct LibEntry {
    std::string id, rel, path, source;  // path: `rel` resolved inside the folder; source: relative or ""
    std::string platform;
    int64_t abi = 0;
    bool native = false;           // built for this platform and ABI
    Any origins;                   // [[file, line, name]...], checked; None when absent
    std::string field;
  };
  struct InstanceEntry {
    std::string id, cls, lib;
    Any rec;
    std::string field;
  };

  [[noreturn]] void folder_error(const std::string& what) const { pipeline_error(dir_ + ": " + what); }

  // `rel`, a folder-relative path read from spec field `field`, resolved:
  // relative, without "..", and resolving (symlinks included) inside the folder,
  // to a regular file (or, with dir_ok, a folder).
  std::string resolve(const std::string& rel, const std::string& field, bool dir_ok = false) const {
    using spec_check::bad;
    if (rel.empty()) bad(field, "is an empty path");
    if (rel.find('\0') != std::string::npos || rel.size() > PATH_MAX) bad(field, "is not a usable path");
    if (rel[0] == '/') bad(field, "'" + rel + "' is an absolute path: paths in a spec are relative to its folder");
    std::stringstream parts(rel);
    for (std::string part; std::getline(parts, part, '/');)
      if (part == "..") bad(field, "'" + rel + "' leads outside the folder");
    std::string joined = root_ + "/" + rel;
    char* real = realpath(joined.c_str(), nullptr);
    if (!real) {
      int e = errno;
      bad(field, "names " + rel + ", which " +
                     (e == ENOENT ? std::string("is missing (the folder is incomplete)") : std::strerror(e)));
    }
    std::string r = real;
    std::free(real);
    if (r.compare(0, root_.size() + 1, root_ + "/") != 0)
      bad(field, "'" + rel + "' leads outside the folder (through a symbolic link)");
    struct stat st {};
    if (stat(r.c_str(), &st) != 0 || !(S_ISREG(st.st_mode) || (dir_ok && S_ISDIR(st.st_mode))))
      bad(field, "names " + rel + ", which is not a regular file");
    return r;
  }

  // A file the spec names must have a checksum (verified with all the others).
  void covered(const std::string& rel, const std::string& field) const {
    if (!sums_.count(rel)) spec_check::bad(field, "names " + rel + ", which has no checksum in 'checksums'");
  }

  // A resource folder: every file in it has a checksum; no links to folders.
  void covered_dir(const std::string& rel, const std::string& real, const std::string& field, int depth) const {
    if (depth > 16) spec_check::bad(field, "names " + rel + ", whose folders nest too deeply");
    DIR* d = opendir(real.c_str());
    if (!d) spec_check::bad(field, "names " + rel + ", which cannot be read");
    std::vector<std::string> names;
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    closedir(d);
    for (const std::string& n : names) {
      std::string child = rel + "/" + n;
      std::string r = resolve(child, field, true);
      struct stat st {}, lst {};
      stat(r.c_str(), &st);
      lstat((real + "/" + n).c_str(), &lst);
      if (S_ISDIR(st.st_mode)) {
        if (S_ISLNK(lst.st_mode)) spec_check::bad(field, "names " + rel + ", which links to a folder: " + child);
        covered_dir(child, r, field, depth + 1);
      } else {
        covered(child, field);
      }
    }
  }

  // An argument of the spec: {"ref"|"const"|"instance"|"resource"|"tuple"|"list"|"dict": ...}.
  void check_arg(const Any& a, const std::string& field, const std::string& top, int depth) const {
    using namespace spec_check;
    if (depth > kMaxArgDepth) bad(top, "nests arguments more than " + std::to_string(kMaxArgDepth) + " levels deep");
    expect(a, mx::TypeTag::Dict, "an argument object", field);
    if (a.dict().size() != 1) bad(field, "must have exactly one of ref, const, instance, resource, tuple, list, dict");
    for (auto& e : a.dict().table().entries()) {
      if (!e.live) continue;
      std::string k = e.key.tag() == mx::TypeTag::Str ? utf8(e.key) : "";
      std::string f = sub(field, k);
      if (k == "const") return;
      if (k == "ref") {
        std::string r = utf8(expect(e.value, mx::TypeTag::Str, "a string", f));
        if (!defined_.count(r)) bad(f, "refers to '" + r + "', which is not an input or an earlier node");
      } else if (k == "instance") {
        std::string r = utf8(expect(e.value, mx::TypeTag::Str, "a string", f));
        if (!instance_ids_.count(r)) bad(f, "refers to instance '" + r + "', which the spec does not have");
      } else if (k == "resource") {
        std::string rel = utf8(expect(e.value, mx::TypeTag::Str, "a string", f));
        std::string r = resolve(rel, f, true);
        struct stat st {};
        stat(r.c_str(), &st);
        if (S_ISDIR(st.st_mode)) covered_dir(rel, r, f, 0);
        else covered(rel, f);
      } else if (k == "tuple" || k == "list") {
        expect(e.value, mx::TypeTag::List, "a list", f);
        size_t i = 0;
        for (auto& x : e.value.list().vec()) check_arg(x, at(f, i++), top, depth + 1);
      } else if (k == "dict") {
        expect(e.value, mx::TypeTag::Dict, "an object", f);
        for (auto& kv : e.value.dict().table().entries())
          if (kv.live) check_arg(kv.value, sub(f, kv.key.tag() == mx::TypeTag::Str ? utf8(kv.key) : "?"), top, depth + 1);
      } else {
        bad(field, "has the unknown key '" + k + "'");
      }
    }
  }

  void check_args(const Any& rec, const std::string& where) const {
    using namespace spec_check;
    const Any& args = need(rec, "args", mx::TypeTag::List, "a list", where);
    size_t i = 0;
    for (auto& a : args.list().vec()) {
      std::string f = at(sub(where, "args"), i++);
      check_arg(a, f, f, 0);
    }
    const Any& kwargs = need(rec, "kwargs", mx::TypeTag::Dict, "an object", where);
    for (auto& e : kwargs.dict().table().entries()) {
      if (!e.live) continue;
      std::string f = sub(sub(where, "kwargs"), e.key.tag() == mx::TypeTag::Str ? utf8(e.key) : "?");
      check_arg(e.value, f, f, 0);
    }
  }

  // The SHA-256 of a regular file (read without blocking on a FIFO), or "".
  static std::string file_sha256(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return "";
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return "";
    }
    mx::Sha256 h;
    std::vector<char> buf(1 << 16);
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) h.update(buf.data(), size_t(n));
    ::close(fd);
    return n < 0 ? std::string() : h.hexdigest();
  }

  static bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  }

  Any read_spec(const std::string& spec_name) {
    char* real = realpath(dir_.c_str(), nullptr);
    struct stat st {};
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::free(real);
      pipeline_error(dir_ + " is not a saved pipeline: there is no such folder");
    }
    root_ = real;
    std::free(real);
    if (root_ == "/") root_.clear();  // "/" + rel below
    std::string path = dir_ + "/" + spec_name;
    if (spec_name.empty() || spec_name[0] == '/' || spec_name.find('/') != std::string::npos ||
        spec_name == "." || spec_name == "..")
      pipeline_error(path + ": the spec's name must be a file name in the folder");
    int fd = ::open((root_ + "/" + spec_name).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) {
      int e = errno;
      pipeline_error(dir_ + " is not a saved pipeline: " + spec_name +
                     (e == ENOENT ? std::string(" is missing") : std::string(": ") + std::strerror(e)));
    }
    std::string bytes;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (int64_t(1) << 30)) {
      ::close(fd);
      pipeline_error(path + " is not a regular file of a usable size");
    }
    bytes.resize(size_t(st.st_size));
    size_t got = 0;
    ssize_t n = 1;
    while (got < bytes.size() && (n = ::read(fd, &bytes[got], bytes.size() - got)) > 0) got += size_t(n);
    ::close(fd);
    bytes.resize(got);
    mx::Sha256 h;
    h.update(bytes.data(), bytes.size());
    spec_sha256_ = h.hexdigest();
    if (bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) bytes.erase(0, 3);
    try {
      return mx::json::loads(bytes);
    } catch (const mx::Error& e) {
      pipeline_error(path + " is corrupt: " + e.message());
    }
  }

  // Reads and checks the spec and the folder: fills the session's tables but
  // loads nothing. Every failure is a PipelineError.
  void check(const std::string& spec_name) {
    using namespace spec_check;
    Any spec = read_spec(spec_name);
    std::string path = dir_ + "/" + spec_name;
    if (spec.tag() != mx::TypeTag::Dict) pipeline_error(path + " is not a matx_nb pipeline spec (not a JSON object)");
    const Any* fmt = find(spec, "format");
    if (!fmt || fmt->tag() != mx::TypeTag::Str || utf8(*fmt) != "matx_nb.pipeline")
      pipeline_error(path + " is not a matx_nb pipeline spec");
    const Any& ver = need(spec, "version", mx::TypeTag::Int, "an integer", "");
    if (ver.i() < 1) bad("version", "must be 1 or more");
    if (ver.i() > kSpecVersion)
      pipeline_error(path + " has spec version " + std::to_string(ver.i()) + "; this runtime reads up to " +
                     std::to_string(kSpecVersion) + ": upgrade matx_nb");
    for (const char* k : {"name", "signature"})
      if (const Any* v = find(spec, k)) expect(*v, mx::TypeTag::Str, "a string", k);

    // checksums: mandatory; every key a file inside the folder
    const Any& sums = need(spec, "checksums", mx::TypeTag::Dict, "an object of file: SHA-256", "");
    for (auto& e : sums.dict().table().entries()) {
      if (!e.live) continue;
      std::string rel = utf8(e.key);
      std::string f = "checksums";
      if (e.value.tag() != mx::TypeTag::Str || !is_hex64(utf8(e.value)))
        bad(f, "must map each file to its SHA-256 (64 hex digits); " + rel + " has " + e.value.type_name());
      sums_[rel] = SumEntry{"", utf8(e.value)};  // resolved below, after the fields that name files
    }

    // libraries
    const Any& libs = need(spec, "libraries", mx::TypeTag::Dict, "an object of library entries", "");
    for (auto& e : libs.dict().table().entries()) {
      if (!e.live) continue;
      LibEntry lib;
      lib.id = utf8(e.key);
      lib.field = sub("libraries", lib.id);
      expect(e.value, mx::TypeTag::Dict, "an object", lib.field);
      std::string rel = lib.rel = need_str(e.value, "path", lib.field);
      lib.path = resolve(rel, sub(lib.field, "path"));
      covered(rel, sub(lib.field, "path"));
      lib.source = opt_str(e.value, "source", lib.field);
      if (!lib.source.empty()) {
        resolve(lib.source, sub(lib.field, "source"));
        covered(lib.source, sub(lib.field, "source"));
      }
      const Any& abi = need(e.value, "abi", mx::TypeTag::Int, "an integer", lib.field);
      std::string platform = lib.platform = need_str(e.value, "platform", lib.field);
      lib.abi = abi.i();
      lib.native = platform == platform_tag() && abi.i() == MATX_NB_ABI_VERSION;
      if (!lib.native) {
        std::string what = rel + " was built for " + platform + " (ABI " + std::to_string(abi.i()) + ")";
        if (lib.source.empty()) folder_error(what + " and the folder has no source to rebuild it");
        if (!options_.rebuild)
          folder_error(what + "; rebuilding it from " + lib.source + " compiles and runs the folder's code, so "
                       "it happens only when asked: load(..., rebuild=True), matx-run --rebuild, "
                       "LoadOptions{.rebuild = true}");
      }
      if (const Any* o = find(e.value, "origins")) {
        std::string f = sub(lib.field, "origins");
        expect(*o, mx::TypeTag::List, "a list of [file, line, name]", f);
        size_t j = 0;
        for (auto& x : o->list().vec()) {
          std::string fj = at(f, j++);
          expect(x, mx::TypeTag::List, "a list [file, line, name]", fj);
          auto& parts = x.list().vec();
          if (parts.size() < 2 || parts.size() > 3) bad(fj, "must be [file, line, name]");
          expect(parts[0], mx::TypeTag::Str, "a string", at(fj, 0));
          expect(parts[1], mx::TypeTag::Int, "an integer", at(fj, 1));
          if (parts.size() > 2) expect(parts[2], mx::TypeTag::Str, "a string", at(fj, 2));
        }
        lib.origins = *o;
      }
      libs_checked_.push_back(lib);
    }

    // instances, constructed in order at load (before any input exists: their
    // arguments refer to no value, and to earlier instances only)
    const Any& insts = need(spec, "instances", mx::TypeTag::List, "a list", "");
    size_t i = 0;
    for (auto& rec : insts.list().vec()) {
      InstanceEntry inst;
      inst.field = at("instances", i++);
      expect(rec, mx::TypeTag::Dict, "an object", inst.field);
      inst.id = need_str(rec, "id", inst.field);
      inst.cls = need_str(rec, "class", inst.field);
      inst.lib = need_str(rec, "library", inst.field);
      if (!has_lib(inst.lib)) bad(sub(inst.field, "library"), "names the unknown library '" + inst.lib + "'");
      check_args(rec, inst.field);
      if (!instance_ids_.insert(inst.id).second) bad(sub(inst.field, "id"), "repeats the id '" + inst.id + "'");
      inst.rec = rec;
      instances_checked_.push_back(inst);
    }

    // inputs
    const Any& inputs = need(spec, "inputs", mx::TypeTag::List, "a list of input names", "");
    i = 0;
    for (auto& x : inputs.list().vec()) {
      std::string name = utf8(expect(x, mx::TypeTag::Str, "a string", at("inputs", i++)));
      if (!defined_.insert(name).second) bad(at("inputs", i - 1), "repeats the input '" + name + "'");
      inputs_.push_back(name);
    }

    // nodes, in order: a node refers to the inputs and earlier nodes
    const Any& nodes = need(spec, "nodes", mx::TypeTag::List, "a list", "");
    i = 0;
    for (auto& n : nodes.list().vec()) {
      std::string f = at("nodes", i++);
      expect(n, mx::TypeTag::Dict, "an object", f);
      Node node;
      node.id = need_str(n, "id", f);
      const Any& op = need(n, "op", mx::TypeTag::Dict, "an object", f);
      std::string fo = sub(f, "op");
      node.kind = need_str(op, "kind", fo);
      node.field = f;
      check_args(n, f);
      node.args = need(n, "args", f);
      node.kwargs = need(n, "kwargs", f);
      if (node.kind == "function") {
        node.target = need_str(op, "library", fo);
        node.name = need_str(op, "name", fo);
        if (!has_lib(node.target)) bad(sub(fo, "library"), "names the unknown library '" + node.target + "'");
      } else if (node.kind == "method") {
        node.target = need_str(op, "instance", fo);
        node.name = need_str(op, "name", fo);
        if (!instance_ids_.count(node.target))
          bad(sub(fo, "instance"), "names the unknown instance '" + node.target + "'");
      } else if (node.kind == "torch") {
        node.target = need_str(op, "model", fo);
        node.torch_path = need_str(op, "path", fo);
        node.torch_real = resolve(node.torch_path, sub(fo, "path"));
        covered(node.torch_path, sub(fo, "path"));
        node.runner = opt_str(op, "runner", fo);
        if (!node.runner.empty()) {
          node.runner_real = resolve(node.runner, sub(fo, "runner"));
          covered(node.runner, sub(fo, "runner"));
        }
        if (const Any* d = find(op, "device")) expect(*d, mx::TypeTag::Int, "an integer", sub(fo, "device"));
      } else if (node.kind == "getitem" || node.kind == "getattr") {
        if (node.args.list().size() != 2 || node.kwargs.dict().size() != 0)
          bad(sub(f, "args"), "must hold 2 arguments for " + node.kind);
      } else {
        bad(sub(fo, "kind"), "is the unknown op kind '" + node.kind + "'");
      }
      if (!defined_.insert(node.id).second) bad(sub(f, "id"), "repeats the name '" + node.id + "'");
      nodes_.push_back(node);
    }
    outputs_ = need(spec, "outputs", "");
    check_arg(outputs_, "outputs", "outputs", 0);

    // Only now the files: every checksum (before any dlopen), then the libraries' ELF headers.
    for (auto& kv : sums_) kv.second.real = resolve(kv.first, "checksums");
    for (auto& kv : sums_) {
      std::string got = file_sha256(kv.second.real);
      if (got.empty()) folder_error(kv.first + " cannot be read");
      if (got != kv.second.digest)
        folder_error("checksum mismatch for " + kv.first + ": the folder was modified after it was saved");
    }
    for (auto& lib : libs_checked_)
      if (lib.native) check_library_file(lib.path, sub(lib.field, "path"), lib.rel);
    for (auto& node : nodes_)
      if (!node.runner_real.empty()) check_library_file(node.runner_real, sub(node.field, "op.runner"), node.runner);
  }

  bool has_lib(const std::string& id) const {
    for (auto& l : libs_checked_)
      if (l.id == id) return true;
    return false;
  }

  // ---- loading (after check())

  void load() {
    using spec_check::bad;
    using spec_check::sub;
    for (auto& lib : libs_checked_) load_library(lib);
    for (auto& inst : instances_checked_) {
      auto& l = *libs_.at(inst.lib);
      const mx_class_desc* cls = l.find_class(inst.cls);
      if (!cls) bad(sub(inst.field, "class"), "names '" + inst.cls + "', which library " + inst.lib + " does not have");
      std::unordered_map<std::string, Any> no_env;
      List args = value_list(*spec_check::find(inst.rec, "args"), no_env);
      std::vector<Any> pos(args.vec().begin(), args.vec().end());
      std::vector<bool> given(pos.size(), true);
      append_kwargs(pos, given, nullptr, *spec_check::find(inst.rec, "kwargs"), no_env, nullptr, cls);
      instances_[inst.id] = l.construct(inst.cls, pos, &given);
      instance_class_[inst.id] = cls;
    }
    for (auto& node : nodes_) {
      if (node.kind == "function" && !libs_.at(node.target)->find_function(node.name))
        bad(sub(node.field, "op.name"), "names '" + node.name + "', which library " + node.target + " does not have");
      if (node.kind == "method") {
        const mx_class_desc* c = instance_class_.at(node.target);
        bool found = false;
        for (int i = 0; i < c->n_methods; ++i) found = found || node.name == c->methods[i].name;
        if (!found) bad(sub(node.field, "op.name"), "names '" + node.name + "', which class " + c->name + " does not have");
      }
      if (node.kind == "torch" && !torch_models_.count(node.target)) load_torch(node);
    }
  }

  void load_library(const LibEntry& entry) {
    std::string lib_path = entry.native ? entry.path : rebuild(entry);
    std::unique_ptr<mx::CompiledLibrary> lib;
    try {
      lib = std::make_unique<mx::CompiledLibrary>(lib_path);
    } catch (const mx::Error& e) {
      spec_check::bad(spec_check::sub(entry.field, "path"), "cannot be loaded: " + e.message());
    }
    if (entry.origins.tag() == mx::TypeTag::List) {
      auto& origins = entry.origins.list().vec();
      if (int64_t(origins.size()) > int64_t(lib->origin_names().size()))
        spec_check::bad(spec_check::sub(entry.field, "origins"),
                        "has " + std::to_string(origins.size()) + " entries for a library of " +
                            std::to_string(lib->origin_names().size()) + " compiled objects");
      int i = 0;
      for (auto& o : origins) {
        auto& parts = o.list().vec();
        int64_t line = parts[1].i();
        lib->set_origin(i++, spec_check::utf8(parts[0]), int(std::max<int64_t>(0, std::min<int64_t>(line, INT_MAX))));
      }
    }
    libs_[entry.id] = std::move(lib);
  }

  // A library built for another platform or ABI is compiled again from the
  // source saved next to it, into the user's cache (once per source).
  std::string rebuild(const LibEntry& entry) const {
    std::string what = entry.rel + " was built for " + entry.platform + " (ABI " + std::to_string(entry.abi) + ")";
    const std::string& source = entry.source;
    const char* inc = std::getenv("MATX_NB_INCLUDE");
#ifdef MATX_NB_INCLUDE_DIR
    if (!inc) inc = MATX_NB_INCLUDE_DIR;
#endif
    if (!inc)
      pipeline_error(what + "; to rebuild it from " + source + " set MATX_NB_INCLUDE to the runtime headers "
                     "(python -m matx_nb --includes) or build with matx_nb's CMake config");
    // The bytes compiled are the bytes verified: read once, checked against the
    // checksum, and compiled from a private copy (a quoted #include cannot reach
    // files that sit next to source.cc in the folder).
    std::string code;
    {
      std::ifstream in(sums_.at(source).real, std::ios::binary);
      std::ostringstream buf;
      buf << in.rdbuf();
      code = buf.str();
    }
    mx::Sha256 h;
    h.update(code.data(), code.size());
    std::string digest = h.hexdigest();
    if (digest != sums_.at(source).digest)
      folder_error("checksum mismatch for " + source + ": the folder was modified while it loaded");
    return build::compile_source(code, digest, what, source, inc);
  }

  static std::string text(const Any& v) {
    return v.tag() == mx::TypeTag::Str ? mx::utf8_encode(v.str()) : std::string();
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
      if (k == "resource") return Any(mx::str_from_utf8(root_ + "/" + text(e.value)));  // checked inside
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

  // The runner and the model were resolved inside the folder and verified by check().
  void load_torch(const Node& node) {
    const std::string& id = node.target;
    const std::string& model = node.torch_path;
    if (node.runner.empty()) pipeline_error("torch op " + id + " has no libtorch runner in " + dir_);
    std::string rpath = dir_ + "/" + node.runner;
    void* h = dlopen(node.runner_real.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = dlerror();
      pipeline_error("cannot load the libtorch runner " + rpath + ": " + (why ? why : "unknown error"));
    }
    auto* r = new TorchRunner{reinterpret_cast<void* (*)(const char*, int, char**)>(dlsym(h, "mx_torch_load")),
                              reinterpret_cast<int (*)(void*, DLManagedTensor**, int, DLManagedTensor***, int*, char**)>(
                                  dlsym(h, "mx_torch_forward")),
                              reinterpret_cast<int (*)(DLManagedTensor*, DLManagedTensor**, char**)>(
                                  dlsym(h, "mx_torch_to_cpu"))};
    if (!r->load || !r->forward) pipeline_error(rpath + " is not a libtorch runner");
    if (!torch_runner_ || (!torch_runner_->to_cpu && r->to_cpu)) torch_runner_ = r;
    char* err = nullptr;
    void* m = r->load(node.torch_real.c_str(), device_, &err);
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
  std::string root_;  // the folder's real path: every file used resolves under it
  int device_ = -1;
  LoadOptions options_;
  std::string spec_sha256_;
  struct SumEntry {
    std::string real, digest;  // the file resolved inside the folder, its SHA-256
  };
  std::map<std::string, SumEntry> sums_;  // "checksums", by folder-relative path
  std::set<std::string> defined_;         // inputs and node ids, as check() reaches them
  std::set<std::string> instance_ids_;
  std::vector<LibEntry> libs_checked_;
  std::vector<InstanceEntry> instances_checked_;
  std::unordered_map<std::string, const mx_class_desc*> instance_class_;
  std::vector<std::string> inputs_;
  std::map<std::string, std::unique_ptr<mx::CompiledLibrary>> libs_;
  std::unordered_map<std::string, Any> instances_;
  std::vector<Node> nodes_;
  Any outputs_;
};

}  // namespace matx_nb
