// How the C++ Session compiles a saved library again from its source (a folder
// built for another platform or ABI, loaded with LoadOptions::rebuild): the
// libraries and runtime objects the source asks for, and the g++ command.
// Included by session.h.
#pragma once
#include "linkage.h"
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "error.h"

namespace matx_nb {

// A folder or spec that cannot be loaded (matx_nb.PipelineError in Python, a
// ValueError); a C++ program catches it as mx::Error.
class PipelineError : public mx::Error {
 public:
  explicit PipelineError(const std::string& msg) : mx::Error(mx::ErrKind::ValueError, msg) {}
};

[[noreturn]] inline void pipeline_error(const std::string& msg) { throw PipelineError(msg); }

namespace build {

MX_INLINE std::string shell_quote(const std::string& x) {
  std::string q = "'";
  for (char c : x) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Libraries the generated source asks for: its `// matx_nb-link: <flags>` lines
// (only -l names are taken, so a source cannot inject shell text).
MX_INLINE std::string link_flags(const std::string& code) {
  std::string out, line;
  std::istringstream in(code);
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

// Runtime parts the generated source links as objects of their own: its
// `// matx_nb-object: <name>` lines (toolchain.EXTRA_OBJECTS). Each becomes a
// second translation unit of the rebuild, with the include flags it needs; only
// known names are taken, so a source cannot inject shell text.
struct ExtraObject {
  std::string unit;   // the translation unit's text
  std::string flags;  // its compile flags
};
MX_INLINE std::vector<ExtraObject> extra_objects(const std::string& code, const std::string& what) {
  std::vector<ExtraObject> out;
  std::string line;
  std::istringstream in(code);
  const std::string mark = "// matx_nb-object: ";
  while (std::getline(in, line)) {
    if (line.compare(0, mark.size(), mark) != 0) continue;
    std::string name = line.substr(mark.size());
    while (!name.empty() && std::isspace((unsigned char)name.back())) name.pop_back();
    if (name != "vision")
      pipeline_error(what + "; it needs the runtime part '" + name + "', which this build does not know");
    // OpenCV's headers: MATX_NB_OPENCV_INCLUDE, or where Debian and a source build put them.
    std::string dir;
    const char* env = std::getenv("MATX_NB_OPENCV_INCLUDE");
    for (std::string d : {std::string(env ? env : ""), std::string("/usr/include/opencv4"),
                          std::string("/usr/local/include/opencv4")}) {
      if (!d.empty() && std::ifstream(d + "/opencv2/core.hpp").good()) {
        dir = d;
        break;
      }
    }
    if (dir.empty())
      pipeline_error(what + "; rebuilding its vision ops needs OpenCV's C++ headers (opencv2/core.hpp): "
                     "apt-get install libopencv-dev, or set MATX_NB_OPENCV_INCLUDE");
    // Decoding goes through cv::imdecode here (the direct libjpeg path is an
    // optimisation of the Python toolchain's build; the pixels are the same).
    out.push_back({"#include \"matx_nb/mod/vision_impl.h\"\n", " -I" + shell_quote(dir)});
  }
  return out;
}

// Compiles `code` (already checked against `digest`) into <cache>/rebuilt/
// <digest>.so, once per source; `inc` is the runtime headers' directory.
MX_INLINE std::string compile_source(const std::string& code, const std::string& digest, const std::string& what,
                                  const std::string& source, const char* inc) {
  std::string cache;
  if (const char* c = std::getenv("MATX_NB_CACHE")) cache = c;
  else if (const char* home = std::getenv("HOME")) cache = std::string(home) + "/.cache/matx_nb";
  else cache = "/tmp/matx_nb";
  cache += "/rebuilt";
  std::string out = cache + "/" + digest.substr(0, 32) + ".so";
  if (FILE* f = std::fopen(out.c_str(), "rb")) {
    std::fclose(f);
    return out;
  }
  auto quote = shell_quote;
  std::vector<ExtraObject> extras = extra_objects(code, what);
  if (std::system(("mkdir -p " + quote(cache)).c_str()) != 0)
    pipeline_error(what + "; cannot create the cache folder " + cache);
  std::string work = cache + "/build.XXXXXX";
  if (!mkdtemp(&work[0])) pipeline_error(what + "; cannot create a build folder in " + cache);
  std::string src = work + "/source.cc";
  {
    std::ofstream o(src, std::ios::binary);
    o << code;
  }
  const char* cxx = std::getenv("MATX_NB_CXX");
  std::string compiler = cxx ? cxx : "g++";
  std::string flags = " -std=c++17 -O3 -fPIC -fvisibility=hidden -w -I" + quote(inc);
  std::string objects, prep;
  for (size_t i = 0; i < extras.size(); ++i) {
    std::string unit = "extra" + std::to_string(i);
    {
      std::ofstream o(work + "/" + unit + ".cc", std::ios::binary);
      o << extras[i].unit;
    }
    prep += compiler + flags + extras[i].flags + " -c " + unit + ".cc -o " + unit + ".o && ";
    objects += " " + unit + ".o";
  }
  std::string tmp = out + ".tmp" + std::to_string(::getpid());
  std::string cmd = std::string("cd ") + quote(work) + " && " + prep + compiler + flags + " -shared source.cc" +
                    objects + " -o " + quote(tmp) + link_flags(code) + " && mv -f " + quote(tmp) + " " + quote(out);
  int rc = std::system(cmd.c_str());
  std::system(("rm -rf " + quote(work)).c_str());
  if (rc != 0) pipeline_error(what + "; rebuilding it from " + source + " failed");
  return out;
}

}  // namespace build
}  // namespace matx_nb
