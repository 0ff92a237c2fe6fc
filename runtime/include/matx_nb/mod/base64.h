// The `base64` module for compiled code: CPython's binascii.b2a_base64 and
// a2b_base64 (lenient and strict_mode, i.e. validate=True), errors raised as
// binascii.Error.
#pragma once
#include "../linkage.h"
#include "../runtime.h"

namespace mx::pymod {

[[noreturn]] inline void binascii_error(const char* msg, const Loc* loc) { raise(ErrKind::BinasciiError, msg, loc); }

// base64's _bytes_from_decode_data: bytes as they are, str only if ASCII.
MX_INLINE Bytes b64_data(const Bytes& b, const Loc*) { return b; }
MX_INLINE Bytes b64_data(const Str& s, const Loc* loc) {
  Bytes out = Bytes::uninit(s.size());
  char* d = out.mutable_data();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= 0x80) raise(ErrKind::ValueError, "string argument should contain only ASCII characters", loc);
    d[i] = char(s[i]);
  }
  out.finish();
  return out;
}

// bytes.translate of the two characters a, b into x, y.
MX_INLINE Bytes b64_translate(const Bytes& s, char a, char b, char x, char y) {
  Bytes out = Bytes::uninit(s.size());
  char* d = out.mutable_data();
  for (size_t i = 0; i < s.size(); ++i) d[i] = s[i] == a ? x : s[i] == b ? y : s[i];
  out.finish();
  return out;
}

MX_INLINE Bytes b64_encode_std(const Bytes& s) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  Bytes out = Bytes::uninit((n + 2) / 3 * 4);
  char* d = out.mutable_data();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
    *d++ = tbl[v >> 18];
    *d++ = tbl[(v >> 12) & 63];
    *d++ = tbl[(v >> 6) & 63];
    *d++ = tbl[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t(p[i]) << 16;
    if (i + 1 < n) v |= uint32_t(p[i + 1]) << 8;
    *d++ = tbl[v >> 18];
    *d++ = tbl[(v >> 12) & 63];
    *d++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    *d++ = '=';
  }
  out.finish();
  return out;
}

MX_INLINE Bytes b64_decode_std(const Bytes& s, bool strict, const Loc* loc) {
  auto value = [](unsigned char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  std::string out;
  out.reserve(n / 4 * 3 + 3);
  int quad_pos = 0, pads = 0;
  bool padding_started = false;
  unsigned char left = 0;
  if (strict && n > 0 && p[0] == '=') binascii_error("Leading padding not allowed", loc);
  size_t i = 0;
  for (; i < n; ++i) {
    unsigned char c = p[i];
    if (c == '=') {
      padding_started = true;
      // (CPython 3.11, the interpreter this runtime matches, accepts stray '=' after a full quad.)
      if (quad_pos >= 2 && quad_pos + ++pads >= 4) {
        if (strict && i + 1 < n) binascii_error("Excess data after padding", loc);
        return Bytes(out.data(), out.size());
      }
      continue;
    }
    int v = value(c);
    if (v < 0) {
      if (strict) binascii_error("Only base64 data is allowed", loc);
      continue;
    }
    if (strict && padding_started) binascii_error("Discontinuous padding not allowed", loc);
    pads = 0;
    switch (quad_pos) {
      case 0: quad_pos = 1; left = (unsigned char)v; break;
      case 1: quad_pos = 2; out.push_back(char((left << 2) | (v >> 4))); left = v & 0x0f; break;
      case 2: quad_pos = 3; out.push_back(char((left << 4) | (v >> 2))); left = v & 0x03; break;
      default: quad_pos = 0; out.push_back(char((left << 6) | v)); left = 0; break;
    }
  }
  if (quad_pos == 1) {
    std::string msg = "Invalid base64-encoded string: number of data characters (" +
                      std::to_string(out.size() / 3 * 4 + 1) + ") cannot be 1 more than a multiple of 4";
    raise(ErrKind::BinasciiError, msg, loc);
  }
  if (quad_pos != 0) binascii_error("Incorrect padding", loc);
  return Bytes(out.data(), out.size());
}

MX_INLINE Bytes b64_altchars(const Bytes& s, None, bool, const Loc*) { return s; }
template <class A>
inline Bytes b64_altchars(const Bytes& s, const A& altchars, bool decode, const Loc* loc) {
  Bytes alt = b64_data(altchars, loc);
  if (alt.size() != 2) raise(ErrKind::AssertionError, "altchars must be 2 bytes", loc);
  return decode ? b64_translate(s, alt[0], alt[1], '+', '/') : b64_translate(s, '+', '/', alt[0], alt[1]);
}

template <class A>
inline Bytes base64_b64encode(const Bytes& s, const A& altchars, const Loc* loc) {
  return b64_altchars(b64_encode_std(s), altchars, false, loc);
}
template <class S, class A>
inline Bytes base64_b64decode(const S& s, const A& altchars, bool validate, const Loc* loc) {
  return b64_decode_std(b64_altchars(b64_data(s, loc), altchars, true, loc), validate, loc);
}
MX_INLINE Bytes base64_standard_b64encode(const Bytes& s, const Loc* loc) { return b64_encode_std(s); }
template <class S>
inline Bytes base64_standard_b64decode(const S& s, const Loc* loc) {
  return b64_decode_std(b64_data(s, loc), false, loc);
}
MX_INLINE Bytes base64_urlsafe_b64encode(const Bytes& s, const Loc*) {
  return b64_translate(b64_encode_std(s), '+', '/', '-', '_');
}
template <class S>
inline Bytes base64_urlsafe_b64decode(const S& s, const Loc* loc) {
  return b64_decode_std(b64_translate(b64_data(s, loc), '-', '_', '+', '/'), false, loc);
}

}  // namespace mx::pymod
