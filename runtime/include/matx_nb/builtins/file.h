// Text files: open(path).read() / .readlines() / for line in open(path). Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

// ---- text files: open(path).read() / .readlines() / for line in open(path) ---------

// A text file opened for reading: read whole at open() (UTF-8), like reading a
// vocabulary at construction; lines keep their '\n' as in Python.
class TextFileObj final : public Object {
 public:
  const char* type_name() const override { return "TextIOWrapper"; }
  Str text;
  bool consumed = false;
};
using TextFile = Ref<TextFileObj>;

MX_INLINE TextFile file_open(const Str& path, const Loc* loc) {
  std::string p = utf8_encode(path);
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) {
    int err = errno;
    raise(err == ENOENT ? ErrKind::FileNotFoundError : ErrKind::OSError,
          "[Errno " + std::to_string(err) + "] " + std::strerror(err) + ": '" + p + "'", loc);
  }
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  std::fclose(f);
  auto file = TextFile::make();
  std::string norm;  // universal newlines: \r\n and \r read as \n
  norm.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') {
      norm.push_back('\n');
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
    } else {
      norm.push_back(data[i]);
    }
  }
  file->text = str_from_utf8(norm);
  return file;
}
MX_INLINE TextFile file_open(const Str& path, const Str& mode, const Loc* loc) {
  if (!(mode == str_from_ascii("r") || mode == str_from_ascii("rt")))
    raise(ErrKind::ValueError, "compiled code opens files for reading text only (mode 'r')", loc);
  return file_open(path, loc);
}
MX_INLINE Str file_read(const TextFile& f, const Loc*) {
  if (f->consumed) return Str();
  f->consumed = true;
  return f->text;
}
MX_INLINE List<Str> file_readlines(const TextFile& f, const Loc* loc) {
  List<Str> out;
  if (f->consumed) return out;
  f->consumed = true;
  const Str& t = f->text;
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] == '\n') {
      out.push_back(Str(t.data() + start, i + 1 - start));
      start = i + 1;
    }
  if (start < t.size()) out.push_back(Str(t.data() + start, t.size() - start));
  (void)loc;
  return out;
}
MX_INLINE None file_close(const TextFile&, const Loc*) { return None{}; }

}  // namespace mx
