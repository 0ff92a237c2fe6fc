// Hex line protocol shared by the C++ test drivers: bytes as lowercase hex,
// "-" for the empty string, so any text survives a line-based pipe.
#pragma once
#include <string>

static std::string hexs(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) { o.push_back(d[c >> 4]); o.push_back(d[c & 15]); }
  return o.empty() ? std::string("-") : o;
}
static std::string unhex(const std::string& h) {
  std::string o;
  if (h == "-") return o;
  for (size_t i = 0; i + 1 < h.size(); i += 2) o.push_back((char)std::stoi(h.substr(i, 2), nullptr, 16));
  return o;
}
