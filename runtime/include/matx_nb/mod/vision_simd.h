// Hand-vectorized kernels of vision_impl.h for 8-bit images (SSSE3, checked at
// run time; elsewhere the callers take OpenCV's functions).
//
// Bilinear resizing with OpenCV's integers.
// cv::resize(INTER_LINEAR) on 8-bit images works in fixed point: each
// destination sample is two horizontal taps weighted by 11-bit coefficients
// (an int per sample), then two such rows weighted by 11-bit coefficients and
// rounded as ((b0 * (H0 >> 4)) >> 16) + ((b1 * (H1 >> 4)) >> 16) + 2) >> 2.
// These kernels compute the same integers, so the pixels are OpenCV's, bit for
// bit (tests/test_vision_ops.py checks them against cv2 over generated images):
// - the horizontal pass gathers the two taps of four output samples from 16
//   source bytes with one byte shuffle and weights them with one multiply-add
//   (SSSE3), where OpenCV's loop takes the samples of 3-channel images one by one;
// - only a window of the destination may be computed, which a resize followed
//   by a crop needs (ResizeOp then CenterCropOp: 57% of a 341x256 image).
//
// resize() returns false where OpenCV should resize instead: another depth or
// interpolation, a CPU without SSSE3 or not x86, and the one case where OpenCV
// itself switches to another algorithm (halving both sides: INTER_AREA).
//
// Planar normalization: an HxWx3 8-bit image into three float planes,
// v * a[k] + b[k], in one pass (OpenCV's split and convertTo take two, and an
// allocation per plane).
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__x86_64__)
#include <tmmintrin.h>
#define MATX_NB_VISION_SSSE3 1
#endif

namespace mx::vision::simd {

#if defined(MATX_NB_VISION_SSSE3)
inline int floor_f(float v) {  // cvFloor
  int i = int(v);
  return i - (v < float(i));
}

inline int16_t coef(float v) {  // saturate_cast<short>(v * INTER_RESIZE_COEF_SCALE): rounds half to even
  long r = lrintf(v * 2048.f);
  return int16_t(std::min<long>(std::max<long>(r, -32768), 32767));
}

// OpenCV's table of one axis: the first source sample of each destination
// sample and its two weights, from scale = 1 / (dst / src).
struct Axis {
  std::vector<int> ofs;
  std::vector<int16_t> a0, a1;
  int lim = 0;  // x: the first destination pixel whose taps pass the last column (one tap from there)
};

inline void x_axis(int sw, int dw, Axis& t) {
  double scale = 1. / (double(dw) / sw);
  t.ofs.resize(size_t(dw));
  t.a0.resize(size_t(dw));
  t.a1.resize(size_t(dw));
  t.lim = dw;
  for (int dx = 0; dx < dw; ++dx) {
    float fx = float((dx + 0.5) * scale - 0.5);
    int sx = floor_f(fx);
    fx -= float(sx);
    if (sx < 0) fx = 0, sx = 0;
    if (sx + 1 >= sw) {
      t.lim = std::min(t.lim, dx);
      if (sx >= sw - 1) fx = 0, sx = sw - 1;
    }
    t.ofs[size_t(dx)] = sx;
    t.a0[size_t(dx)] = coef(1.f - fx);
    t.a1[size_t(dx)] = coef(fx);
  }
}

inline void y_axis(int sh, int dh, Axis& t) {
  double scale = 1. / (double(dh) / sh);
  t.ofs.resize(size_t(dh));
  t.a0.resize(size_t(dh));
  t.a1.resize(size_t(dh));
  for (int dy = 0; dy < dh; ++dy) {
    float fy = float((dy + 0.5) * scale - 0.5);
    int sy = floor_f(fy);
    fy -= float(sy);
    t.ofs[size_t(dy)] = sy;
    t.a0[size_t(dy)] = coef(1.f - fy);
    t.a1[size_t(dy)] = coef(fy);
  }
}

// The horizontal pass over destination pixels [x0, x1), in groups of four
// output samples (channels included). A group whose taps lie within 16 source
// bytes is one shuffle and one multiply-add; another (a tiny row, a strong
// reduction) is computed sample by sample.
struct HPlan {
  int n = 0;  // output samples
  std::vector<int> p, q;  // per sample: the source bytes of its two taps
  std::vector<int16_t> a0, a1;
  std::vector<int> base;  // per group: its first source byte, or -1
  std::vector<uint8_t> mask;  // per group: 16 shuffle bytes
  std::vector<int16_t> w;  // per group: 8 weights
};

inline void h_plan(const Axis& t, int sw, int cn, int x0, int x1, HPlan& pl) {
  int n = (x1 - x0) * cn, row = sw * cn;
  pl.n = n;
  pl.p.resize(size_t(n));
  pl.q.resize(size_t(n));
  pl.a0.resize(size_t(n));
  pl.a1.resize(size_t(n));
  for (int dx = x0; dx < x1; ++dx)
    for (int k = 0; k < cn; ++k) {
      size_t e = size_t(dx - x0) * cn + k;
      int o = t.ofs[size_t(dx)] * cn + k;
      bool one = dx >= t.lim;  // OpenCV takes S[sx] * 2048 there
      pl.p[e] = o;
      pl.q[e] = one ? o : o + cn;
      pl.a0[e] = one ? int16_t(2048) : t.a0[size_t(dx)];
      pl.a1[e] = one ? int16_t(0) : t.a1[size_t(dx)];
    }
  size_t g = size_t(n + 3) / 4;
  pl.base.assign(g, -1);
  pl.mask.assign(g * 16, 0);
  pl.w.assign(g * 8, 0);
  for (size_t j = 0; j < g; ++j) {
    int lo = INT32_MAX, hi = -1;
    for (int e = int(4 * j); e < std::min(n, int(4 * j) + 4); ++e)
      lo = std::min(lo, pl.p[size_t(e)]), hi = std::max(hi, pl.q[size_t(e)]);
    int b = std::min(lo, row - 16);
    if (b < 0 || hi - b >= 16) continue;
    for (int e = 0; e < 4; ++e) {
      size_t i = size_t(std::min(int(4 * j) + e, n - 1));
      pl.mask[16 * j + 4 * e] = uint8_t(pl.p[i] - b);
      pl.mask[16 * j + 4 * e + 1] = 0x80;  // zero: the high byte of a 16-bit lane
      pl.mask[16 * j + 4 * e + 2] = uint8_t(pl.q[i] - b);
      pl.mask[16 * j + 4 * e + 3] = 0x80;
      pl.w[8 * j + 2 * e] = pl.a0[i];
      pl.w[8 * j + 2 * e + 1] = pl.a1[i];
    }
    pl.base[j] = b;
  }
}

// One source row S into H[0 .. groups * 4).
__attribute__((target("ssse3"))) inline void h_row(const uint8_t* S, const HPlan& pl, int32_t* H) {
  size_t g = pl.base.size();
  const int* base = pl.base.data();
  const uint8_t* mask = pl.mask.data();
  const int16_t* w = pl.w.data();
  for (size_t j = 0; j < g; ++j) {
    int b = base[j];
    if (b >= 0) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(S + b));
      v = _mm_shuffle_epi8(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask + 16 * j)));
      v = _mm_madd_epi16(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 8 * j)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(H + 4 * j), v);
    } else {
      for (int e = int(4 * j); e < std::min(pl.n, int(4 * j) + 4); ++e)
        H[e] = S[pl.p[size_t(e)]] * pl.a0[size_t(e)] + S[pl.q[size_t(e)]] * pl.a1[size_t(e)];
    }
  }
}

// Two horizontal rows into n destination bytes, with OpenCV's rounding.
inline void v_row(const int32_t* H0, const int32_t* H1, int16_t b0, int16_t b1, int n, uint8_t* D) {
  int x = 0;
  const __m128i vb0 = _mm_set1_epi16(b0), vb1 = _mm_set1_epi16(b1), two = _mm_set1_epi16(2);
  auto half = [&](int at) {
    auto ld = [](const int32_t* p) { return _mm_srai_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), 4); };
    __m128i s0 = _mm_packs_epi32(ld(H0 + at), ld(H0 + at + 4));
    __m128i s1 = _mm_packs_epi32(ld(H1 + at), ld(H1 + at + 4));
    __m128i v = _mm_adds_epi16(_mm_mulhi_epi16(s0, vb0), _mm_mulhi_epi16(s1, vb1));
    return _mm_srai_epi16(_mm_adds_epi16(v, two), 2);
  };
  for (; x + 16 <= n; x += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(D + x), _mm_packus_epi16(half(x), half(x + 8)));
  for (; x < n; ++x) {
    int v = (((b0 * (H0[x] >> 4)) >> 16) + ((b1 * (H1[x] >> 4)) >> 16) + 2) >> 2;
    D[x] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

inline bool has_ssse3() {
  static const bool yes = __builtin_cpu_supports("ssse3");
  return yes;
}

inline bool usable(const cv::Mat& src, int dw, int dh, int interpolation) {
  return has_ssse3() && interpolation == cv::INTER_LINEAR && src.depth() == CV_8U && src.dims == 2 && dw > 0 &&
         dh > 0 && !(src.cols == 2 * dw && src.rows == 2 * dh);
}

// The window [x0, x0 + cw) x [y0, y0 + ch) of src resized to dw x dh, into dst
// (made cw x ch); false where OpenCV must do it.
inline bool resize(const cv::Mat& src, int dw, int dh, int x0, int y0, int cw, int ch, int interpolation,
                   cv::Mat& dst) {
  if (!usable(src, dw, dh, interpolation) || x0 < 0 || y0 < 0 || cw < 1 || ch < 1 || x0 + cw > dw ||
      y0 + ch > dh)
    return false;
  int sw = src.cols, sh = src.rows, cn = src.channels();
  Axis tx, ty;
  x_axis(sw, dw, tx);
  y_axis(sh, dh, ty);
  HPlan pl;
  h_plan(tx, sw, cn, x0, x0 + cw, pl);
  dst.create(ch, cw, src.type());
  size_t n = size_t(cw) * cn, room = (n + 3) / 4 * 4;
  std::vector<int32_t> buf(2 * room);
  int32_t* rows[2] = {buf.data(), buf.data() + room};
  int tag[2] = {-1, -1};  // the source row each buffer holds
  for (int dy = y0; dy < y0 + ch; ++dy) {
    int s0 = std::min(std::max(ty.ofs[size_t(dy)], 0), sh - 1);
    int s1 = std::min(std::max(ty.ofs[size_t(dy)] + 1, 0), sh - 1);
    int j0 = tag[0] == s0 ? 0 : tag[1] == s0 ? 1 : -1;
    int j1 = tag[0] == s1 ? 0 : tag[1] == s1 ? 1 : -1;
    if (j0 < 0) {
      j0 = j1 >= 0 ? 1 - j1 : 0;
      h_row(src.ptr<uint8_t>(s0), pl, rows[j0]);
      tag[j0] = s0;
    }
    if (s1 == s0) {
      j1 = j0;
    } else if (j1 < 0) {
      j1 = 1 - j0;
      h_row(src.ptr<uint8_t>(s1), pl, rows[j1]);
      tag[j1] = s1;
    }
    v_row(rows[j0], rows[j1], ty.a0[size_t(dy)], ty.a1[size_t(dy)], int(n), dst.ptr<uint8_t>(dy - y0));
  }
  return true;
}

// The rows of an HxWx3 8-bit image (any row stride) into planes o, o + plane,
// o + 2 * plane of W floats per row: o[k][y][x] = src[y][x][k] * a[k] + b[k].
__attribute__((target("ssse3"))) inline void planes_row(const uint8_t* row, int w, float* o0, float* o1, float* o2,
                                                        const float* a, const float* b) {
  int x = 0;
  const __m128i z = _mm_setzero_si128();
  // Channel k of 16 pixels (48 bytes, three loads): a shuffle of each load, or'ed.
  static const int8_t m[3][3][16] = {
      {{0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
       {-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1},
       {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13}},
      {{1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
       {-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1},
       {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14}},
      {{2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},
       {-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1},
       {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15}}};
  float* o[3] = {o0, o1, o2};
  for (; x + 16 <= w; x += 16) {
    const __m128i* p = reinterpret_cast<const __m128i*>(row + 3 * x);
    __m128i v[3] = {_mm_loadu_si128(p), _mm_loadu_si128(p + 1), _mm_loadu_si128(p + 2)};
    for (int k = 0; k < 3; ++k) {
      __m128i c = z;
      for (int j = 0; j < 3; ++j)
        c = _mm_or_si128(c, _mm_shuffle_epi8(v[j], _mm_loadu_si128(reinterpret_cast<const __m128i*>(m[k][j]))));
      const __m128 va = _mm_set1_ps(a[k]), vb = _mm_set1_ps(b[k]);
      __m128i lo = _mm_unpacklo_epi8(c, z), hi = _mm_unpackhi_epi8(c, z);
      __m128i q[4] = {_mm_unpacklo_epi16(lo, z), _mm_unpackhi_epi16(lo, z), _mm_unpacklo_epi16(hi, z),
                      _mm_unpackhi_epi16(hi, z)};
      for (int j = 0; j < 4; ++j) _mm_storeu_ps(o[k] + x + 4 * j, _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(q[j]), va), vb));
    }
  }
  for (; x < w; ++x)
    for (int k = 0; k < 3; ++k) o[k][x] = float(row[3 * x + k]) * a[k] + b[k];
}

// src (HxWx3, 8-bit) into three float planes of H x W at dst, dst + H*W, ...;
// false where the caller must (another type, no SSSE3).
inline bool planes(const cv::Mat& src, float* dst, const float* a, const float* b) {
  if (!has_ssse3() || src.type() != CV_8UC3) return false;
  size_t plane = size_t(src.rows) * src.cols;
  for (int y = 0; y < src.rows; ++y) {
    float* o = dst + size_t(y) * src.cols;
    planes_row(src.ptr<uint8_t>(y), src.cols, o, o + plane, o + 2 * plane, a, b);
  }
  return true;
}
#else
inline bool resize(const cv::Mat&, int, int, int, int, int, int, int, cv::Mat&) { return false; }
inline bool planes(const cv::Mat&, float*, const float*, const float*) { return false; }
#endif

}  // namespace mx::vision::simd
