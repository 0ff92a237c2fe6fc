// Opening compiled libraries by path, for the hosts (the Python binding, the
// C++ Session). dlopen() answers a path it has opened before with the library
// it loaded then, even when the file has since been replaced (a pipeline saved
// again into the same folder, a cell rebuilt): the process would go on running
// the old code. A file replaced since is opened under a name of its own.
#pragma once
#include "linkage.h"
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace mx {

MX_INLINE void* dlopen_current(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::pair<dev_t, ino_t>> loaded_as;  // path -> the file dlopen(path) gave
  static std::atomic<unsigned> counter{0};
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // dlerror says why
  std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
  std::lock_guard<std::mutex> lock(mu);
  auto it = loaded_as.find(path);
  if (it == loaded_as.end() || it->second == id) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h && it == loaded_as.end()) loaded_as.emplace(path, id);
    return h;
  }
  // Replaced since: a fresh name (the same file under two names is still one library).
  char* real = realpath(path.c_str(), nullptr);
  std::string target = real ? real : path;
  std::free(real);
  const char* tmp = std::getenv("TMPDIR");
  std::string link = std::string(tmp && *tmp ? tmp : "/tmp") + "/matx_nb-lib-" + std::to_string(getpid()) + "-" +
                     std::to_string(counter++) + ".so";
  if (symlink(target.c_str(), link.c_str()) != 0) return dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  void* h = dlopen(link.c_str(), RTLD_NOW | RTLD_LOCAL);
  unlink(link.c_str());
  return h;
}

}  // namespace mx
