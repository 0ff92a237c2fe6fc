// Definitions of vision.h's kernels over OpenCV's C++ API. Compiled once per
// toolchain into an object (toolchain.extra_object("vision")), never included
// by generated code. Needs -I<opencv4 include dir> and links -lopencv_imgcodecs
// -lopencv_imgproc -lopencv_core.
//
// Arrays and cv::Mat: an input image is wrapped without a copy where its rows'
// pixels are packed (any row stride), else copied once; a result is the
// cv::Mat OpenCV made, kept alive by the NDArray through a DLPack deleter.
#pragma once
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "ndarray.h"
#include "vision.h"
#include "vision_jpeg.h"
#include "vision_simd.h"

namespace mx::vision {
namespace {

// An error of one image: the kernel raises it (with the op and the index) after
// the batch.
struct ImageError {
  ErrKind kind;
  std::string msg;
};

[[noreturn]] void fail(ErrKind kind, std::string msg) { throw ImageError{kind, std::move(msg)}; }

std::string s(const Str& x) { return utf8_encode(x); }

[[noreturn]] void op_error(ErrKind kind, const Str& op, const std::string& msg, const Loc* loc) {
  raise(kind, s(op) + ": " + msg, loc);
}

int depth_of(DLDataType t) {
  if (t.lanes != 1) return -1;
  if (t.code == kDLUInt && t.bits == 8) return CV_8U;
  if (t.code == kDLInt && t.bits == 8) return CV_8S;
  if (t.code == kDLUInt && t.bits == 16) return CV_16U;
  if (t.code == kDLInt && t.bits == 16) return CV_16S;
  if (t.code == kDLInt && t.bits == 32) return CV_32S;
  if (t.code == kDLFloat && t.bits == 32) return CV_32F;
  if (t.code == kDLFloat && t.bits == 64) return CV_64F;
  return -1;
}

DLDataType dtype_of_depth(int depth) {
  switch (depth) {
    case CV_8U: return {kDLUInt, 8, 1};
    case CV_8S: return {kDLInt, 8, 1};
    case CV_16U: return {kDLUInt, 16, 1};
    case CV_16S: return {kDLInt, 16, 1};
    case CV_32S: return {kDLInt, 32, 1};
    case CV_32F: return {kDLFloat, 32, 1};
    default: return {kDLFloat, 64, 1};
  }
}

int depth_named(const Str& name, const Str& op, const Loc* loc) {
  DLDataType t;
  std::string n = s(name);
  if (!dtype_parse(n, &t) || depth_of(t) < 0)
    op_error(ErrKind::ValueError, op, "dtype '" + n + "' is not one of uint8, int8, uint16, int16, int32, float32, float64", loc);
  return depth_of(t);
}

// The image as a cv::Mat sharing its memory (copied when its pixels are not
// packed in rows). 2-D arrays are one channel; 3-D arrays are HWC.
cv::Mat as_mat(const NDArray& a) {
  if (!a) fail(ErrKind::TypeError, "is None, not an NDArray");
  if (a->device.device_type != kDLCPU && a->device.device_type != kDLCUDAHost)
    fail(ErrKind::TypeError, "is not in CPU memory (device type " + std::to_string(a->device.device_type) +
                                 "); the vision ops run on the CPU");
  size_t nd = a->shape.size();
  if (nd != 2 && nd != 3)
    fail(ErrKind::ValueError, "has " + std::to_string(nd) + " dimensions; an image is HxW or HxWxC");
  int depth = depth_of(a->dtype);
  if (depth < 0)
    fail(ErrKind::TypeError, "has dtype " + dtype_name(a->dtype) +
                                 "; images are uint8, int8, uint16, int16, int32, float32 or float64");
  int64_t h = a->shape[0], w = a->shape[1], c = nd == 3 ? a->shape[2] : 1;
  if (c < 1 || c > CV_CN_MAX)
    fail(ErrKind::ValueError, "has " + std::to_string(c) + " channels; an image has 1 to " + std::to_string(CV_CN_MAX));
  if (h < 1 || w < 1) fail(ErrKind::ValueError, "is empty (" + std::to_string(h) + "x" + std::to_string(w) + ")");
  if (h > INT32_MAX || w > INT32_MAX) fail(ErrKind::ValueError, "is too large for OpenCV");
  const auto& st = a->strides;
  bool packed = (c == 1 || nd == 2 || st[2] == 1) && (w == 1 || st[1] == c) && st[0] >= w * c;
  if (!packed) {
    NDArray copy = mx::pymod::nd_copy(a, a->dtype);
    cv::Mat m(int(h), int(w), CV_MAKETYPE(depth, int(c)));
    std::memcpy(m.data, copy->data, size_t(h * w * c * a->itemsize()));
    return m;
  }
  return cv::Mat(int(h), int(w), CV_MAKETYPE(depth, int(c)), a->data, size_t(st[0] * a->itemsize()));
}

// An NDArray owning the cv::Mat (no copy): HWC, or HW where `two_d` and one channel.
NDArray from_mat(cv::Mat m, bool two_d) {
  struct Holder {
    DLManagedTensor t;
    cv::Mat m;
  };
  if (!m.isContinuous() || m.empty()) {
    cv::Mat c = m.clone();
    m = c;
  }
  Holder* hd = new Holder{{}, m};
  hd->t.manager_ctx = hd;
  hd->t.deleter = [](DLManagedTensor* self) { delete static_cast<Holder*>(self->manager_ctx); };
  Ref<NDArrayObj> r = Ref<NDArrayObj>::make();
  r->owner = &hd->t;
  r->data = hd->m.data;
  r->dtype = dtype_of_depth(m.depth());
  int64_t c = m.channels();
  if (two_d && c == 1) {
    r->shape = {m.rows, m.cols};
    r->strides = {int64_t(m.cols), 1};
  } else {
    r->shape = {m.rows, m.cols, c};
    r->strides = {int64_t(m.cols) * c, c, 1};
  }
  return NDArray(std::move(r));
}

bool is_2d(const NDArray& a) { return a && a->shape.size() == 2; }

// Runs f(i) for each image on OpenCV's thread pool; raises the first failure.
template <class F>
void each(int64_t n, const Str& op, const Loc* loc, F&& f) {
  std::vector<ImageError> errs(size_t(n > 0 ? n : 0));
  std::vector<char> failed(size_t(n > 0 ? n : 0), 0);
  auto body = [&](const cv::Range& r) {
    for (int i = r.start; i < r.end; ++i) {
      try {
        f(int64_t(i));
      } catch (const ImageError& e) {
        errs[size_t(i)] = e;
        failed[size_t(i)] = 1;
      } catch (const cv::Exception& e) {
        errs[size_t(i)] = {ErrKind::ValueError, "OpenCV: " + (e.err.empty() ? std::string(e.what()) : e.err)};
        failed[size_t(i)] = 1;
      } catch (const std::bad_alloc&) {
        errs[size_t(i)] = {ErrKind::MemoryError, "out of memory"};
        failed[size_t(i)] = 1;
      } catch (const std::exception& e) {
        errs[size_t(i)] = {ErrKind::RuntimeError, e.what()};
        failed[size_t(i)] = 1;
      }
    }
  };
  if (n == 1 || cv::getNumThreads() <= 1) body(cv::Range(0, int(n)));
  else if (n > 1) cv::parallel_for_(cv::Range(0, int(n)), body, double(n));
  for (int64_t i = 0; i < n; ++i)
    if (failed[size_t(i)]) op_error(errs[size_t(i)].kind, op, "image " + std::to_string(i) + " " + errs[size_t(i)].msg, loc);
}

void check_batch(int64_t n, const Str& op, const Loc* loc) {
  if (n == 0) op_error(ErrKind::ValueError, op, "the batch is empty", loc);
  if (n > INT32_MAX) op_error(ErrKind::ValueError, op, "the batch is too large", loc);
}

template <class L>
void check_len(const L& xs, int64_t n, const char* what, const Str& op, const Loc* loc) {
  if (xs.size() != n)
    op_error(ErrKind::ValueError, op, std::string(what) + " has " + std::to_string(xs.size()) + " items for " +
                                          std::to_string(n) + " images",
             loc);
}

List<NDArray> to_list(std::vector<NDArray>& v) {
  List<NDArray> out;
  out.reserve(int64_t(v.size()));
  for (auto& x : v) out.push_back(std::move(x));
  return out;
}

int interp_named(const Str& name, const Str& op, const Loc* loc) {
  std::string n = s(name);
  static const std::pair<const char*, int> table[] = {
      {"INTER_NEAREST", cv::INTER_NEAREST}, {"INTER_LINEAR", cv::INTER_LINEAR}, {"INTER_CUBIC", cv::INTER_CUBIC},
      {"INTER_AREA", cv::INTER_AREA},       {"INTER_LANCZOS4", cv::INTER_LANCZOS4}};
  for (auto& e : table)
    if (n == e.first) return e.second;
  op_error(ErrKind::ValueError, op, "interpolation '" + n + "' is not one of INTER_NEAREST, INTER_LINEAR, "
                                    "INTER_CUBIC, INTER_AREA, INTER_LANCZOS4", loc);
}

int border_named(const Str& name, const Str& op, const Loc* loc) {
  std::string n = s(name);
  static const std::pair<const char*, int> table[] = {
      {"BORDER_CONSTANT", cv::BORDER_CONSTANT}, {"BORDER_REPLICATE", cv::BORDER_REPLICATE},
      {"BORDER_REFLECT", cv::BORDER_REFLECT},   {"BORDER_WRAP", cv::BORDER_WRAP},
      {"BORDER_REFLECT_101", cv::BORDER_REFLECT_101}, {"BORDER_REFLECT101", cv::BORDER_REFLECT_101},
      {"BORDER_DEFAULT", cv::BORDER_DEFAULT}};
  for (auto& e : table)
    if (n == e.first) return e.second;
  op_error(ErrKind::ValueError, op, "border type '" + n + "' is not one of BORDER_CONSTANT, BORDER_REPLICATE, "
                                    "BORDER_REFLECT, BORDER_WRAP, BORDER_REFLECT_101, BORDER_DEFAULT", loc);
}

cv::Scalar scalar_of(const List<double>& v, const Str& op, const Loc* loc) {
  if (v.size() > 4) op_error(ErrKind::ValueError, op, "a border value has at most 4 channels", loc);
  cv::Scalar sc(0, 0, 0, 0);
  for (int64_t i = 0; i < v.size(); ++i) sc[int(i)] = v[i];
  if (v.size() == 1) sc = cv::Scalar::all(v[0]);
  return sc;
}

int color_code_named(const Str& name, const Str& op, const Loc* loc) {
#define MX_CC(x) {"COLOR_" #x, cv::COLOR_##x}
  static const std::pair<const char*, int> table[] = {
      MX_CC(BGR2BGRA), MX_CC(RGB2RGBA), MX_CC(BGRA2BGR), MX_CC(RGBA2RGB), MX_CC(BGR2RGBA), MX_CC(RGB2BGRA),
      MX_CC(RGBA2BGR), MX_CC(BGRA2RGB), MX_CC(BGR2RGB), MX_CC(RGB2BGR), MX_CC(BGRA2RGBA), MX_CC(RGBA2BGRA),
      MX_CC(BGR2GRAY), MX_CC(RGB2GRAY), MX_CC(GRAY2BGR), MX_CC(GRAY2RGB), MX_CC(GRAY2BGRA), MX_CC(GRAY2RGBA),
      MX_CC(BGRA2GRAY), MX_CC(RGBA2GRAY), MX_CC(BGR2BGR565), MX_CC(RGB2BGR565), MX_CC(BGR5652BGR),
      MX_CC(BGR5652RGB), MX_CC(BGRA2BGR565), MX_CC(RGBA2BGR565), MX_CC(BGR5652BGRA), MX_CC(BGR5652RGBA),
      MX_CC(GRAY2BGR565), MX_CC(BGR5652GRAY), MX_CC(BGR2BGR555), MX_CC(RGB2BGR555), MX_CC(BGR5552BGR),
      MX_CC(BGR5552RGB), MX_CC(BGRA2BGR555), MX_CC(RGBA2BGR555), MX_CC(BGR5552BGRA), MX_CC(BGR5552RGBA),
      MX_CC(GRAY2BGR555), MX_CC(BGR5552GRAY), MX_CC(BGR2XYZ), MX_CC(RGB2XYZ), MX_CC(XYZ2BGR), MX_CC(XYZ2RGB),
      MX_CC(BGR2YCrCb), MX_CC(RGB2YCrCb), MX_CC(YCrCb2BGR), MX_CC(YCrCb2RGB), MX_CC(BGR2HSV), MX_CC(RGB2HSV),
      MX_CC(BGR2Lab), MX_CC(RGB2Lab), MX_CC(BGR2Luv), MX_CC(RGB2Luv), MX_CC(BGR2HLS), MX_CC(RGB2HLS),
      MX_CC(HSV2BGR), MX_CC(HSV2RGB), MX_CC(Lab2BGR), MX_CC(Lab2RGB), MX_CC(Luv2BGR), MX_CC(Luv2RGB),
      MX_CC(HLS2BGR), MX_CC(HLS2RGB), MX_CC(BGR2HSV_FULL), MX_CC(RGB2HSV_FULL), MX_CC(BGR2HLS_FULL),
      MX_CC(RGB2HLS_FULL), MX_CC(HSV2BGR_FULL), MX_CC(HSV2RGB_FULL), MX_CC(HLS2BGR_FULL), MX_CC(HLS2RGB_FULL),
      MX_CC(LBGR2Lab), MX_CC(LRGB2Lab), MX_CC(LBGR2Luv), MX_CC(LRGB2Luv), MX_CC(Lab2LBGR), MX_CC(Lab2LRGB),
      MX_CC(Luv2LBGR), MX_CC(Luv2LRGB), MX_CC(BGR2YUV), MX_CC(RGB2YUV), MX_CC(YUV2BGR), MX_CC(YUV2RGB),
      MX_CC(YUV2RGB_NV12), MX_CC(YUV2BGR_NV12), MX_CC(YUV2RGB_NV21), MX_CC(YUV2BGR_NV21),
      MX_CC(YUV2RGBA_NV12), MX_CC(YUV2BGRA_NV12), MX_CC(YUV2RGBA_NV21), MX_CC(YUV2BGRA_NV21),
      MX_CC(YUV2RGB_YV12), MX_CC(YUV2BGR_YV12), MX_CC(YUV2RGB_IYUV), MX_CC(YUV2BGR_IYUV),
      MX_CC(YUV2RGB_I420), MX_CC(YUV2BGR_I420), MX_CC(YUV2GRAY_420), MX_CC(YUV2RGB_UYVY), MX_CC(YUV2BGR_UYVY),
      MX_CC(YUV2RGB_YUY2), MX_CC(YUV2BGR_YUY2), MX_CC(RGBA2mRGBA), MX_CC(mRGBA2RGBA), MX_CC(RGB2YUV_I420),
      MX_CC(BGR2YUV_I420), MX_CC(RGB2YUV_YV12), MX_CC(BGR2YUV_YV12), MX_CC(BayerBG2BGR), MX_CC(BayerGB2BGR),
      MX_CC(BayerRG2BGR), MX_CC(BayerGR2BGR), MX_CC(BayerBG2RGB), MX_CC(BayerGB2RGB), MX_CC(BayerRG2RGB),
      MX_CC(BayerGR2RGB), MX_CC(BayerBG2GRAY), MX_CC(BayerGB2GRAY), MX_CC(BayerRG2GRAY), MX_CC(BayerGR2GRAY)};
#undef MX_CC
  std::string n = s(name);
  for (auto& e : table)
    if (n == e.first) return e.second;
  op_error(ErrKind::ValueError, op, "'" + n + "' is not a color conversion code (COLOR_BGR2RGB, ...)", loc);
}

cv::Mat decode_one(const Bytes& b, bool rgb) {
  if (b.size() == 0) fail(ErrKind::ValueError, "is empty bytes");
  if (b.size() > INT32_MAX) fail(ErrKind::ValueError, "is too large");
  cv::Mat buf(1, int(b.size()), CV_8U, const_cast<char*>(b.data()));
  cv::Mat m = cv::imdecode(buf, cv::IMREAD_COLOR);
  if (m.empty()) fail(ErrKind::ValueError, "cannot be decoded (not a JPEG, PNG, WebP, BMP... image, or damaged)");
  if (rgb) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return m;
}

// An encoded image as HxWx3 uint8: JPEGs straight through libjpeg where that
// gives OpenCV's pixels (vision_jpeg.h), everything else through cv::imdecode.
NDArray decode_image(const Bytes& b, bool rgb) {
#if defined(MATX_NB_HAVE_LIBJPEG)
  unsigned char* buf = nullptr;
  int rows = 0, cols = 0;
  if (b.size() > 0 && jpeg::decode(reinterpret_cast<const unsigned char*>(b.data()), size_t(b.size()), rgb, &buf,
                                   &rows, &cols)) {
    Ref<NDArrayObj> r = Ref<NDArrayObj>::make();
    r->own = buf;
    r->data = buf;
    r->dtype = DLDataType{kDLUInt, 8, 1};
    r->shape = {rows, cols, 3};
    r->strides = {int64_t(cols) * 3, 3, 1};
    return NDArray(std::move(r));
  }
#endif
  return from_mat(decode_one(b, rgb), false);
}

bool rgb_format(const Str& fmt, const Str& op, const Loc* loc) {
  std::string f = s(fmt);
  if (f != "BGR" && f != "RGB") op_error(ErrKind::ValueError, op, "format '" + f + "' is not 'BGR' or 'RGB'", loc);
  return f == "RGB";
}

Bytes encode_one(const NDArray& img, bool rgb, int64_t quality, bool optimized) {
  cv::Mat m = as_mat(img);
  if (m.depth() != CV_8U) fail(ErrKind::TypeError, "has dtype " + dtype_name(img->dtype) + "; JPEG encodes uint8 images");
  if (m.channels() != 1 && m.channels() != 3)
    fail(ErrKind::ValueError, "has " + std::to_string(m.channels()) + " channels; JPEG encodes 1 or 3");
  if (rgb && m.channels() == 3) {
    cv::Mat bgr;
    cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
    m = bgr;
  }
  std::vector<uchar> out;
  std::vector<int> params{cv::IMWRITE_JPEG_QUALITY, int(quality), cv::IMWRITE_JPEG_OPTIMIZE, optimized ? 1 : 0};
  if (!cv::imencode(".jpg", m, out, params)) fail(ErrKind::ValueError, "cannot be encoded");
  return Bytes(reinterpret_cast<const char*>(out.data()), out.size());
}

void check_quality(int64_t q, const Str& op, const Loc* loc) {
  if (q < 0 || q > 100) op_error(ErrKind::ValueError, op, "quality " + std::to_string(q) + " is not in 0..100", loc);
}

void check_size(int64_t h, int64_t w) {
  if (h < 1 || w < 1 || h > INT32_MAX || w > INT32_MAX)
    fail(ErrKind::ValueError, "has a target size " + std::to_string(h) + "x" + std::to_string(w) +
                                  "; a size is at least 1x1");
}

bool layout_named(const Str& name, const Str& op, const Loc* loc) {  // true: NCHW
  std::string n = s(name);
  if (n != "NHWC" && n != "NCHW") op_error(ErrKind::ValueError, op, "layout '" + n + "' is not NHWC or NCHW", loc);
  return n == "NCHW";
}

}  // namespace

// ---------------------------------------------------------------- codecs

List<NDArray> imdecode(const List<Bytes>& bufs, const Str& fmt, const Str& op, const Loc* loc) {
  int64_t n = bufs.size();
  check_batch(n, op, loc);
  bool rgb = rgb_format(fmt, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) { out[size_t(i)] = decode_image(bufs[i], rgb); });
  return to_list(out);
}

Tuple<List<NDArray>, List<bool>> imdecode_noexc(const List<Bytes>& bufs, const Str& fmt, const Str& op,
                                                const Loc* loc) {
  int64_t n = bufs.size();
  bool rgb = rgb_format(fmt, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  std::vector<char> ok(static_cast<size_t>(n), 0);
  each(n, op, loc, [&](int64_t i) {
    try {
      out[size_t(i)] = decode_image(bufs[i], rgb);
      ok[size_t(i)] = 1;
    } catch (...) {
      out[size_t(i)] = NDArray::empty({0, 0, 3}, DLDataType{kDLUInt, 8, 1});
    }
  });
  List<bool> flags;
  for (char c : ok) flags.push_back(c != 0);
  return Tuple<List<NDArray>, List<bool>>(to_list(out), flags);
}

List<Bytes> imencode(const List<NDArray>& imgs, const Str& fmt, int64_t quality, bool optimized, const Str& op,
                     const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  bool rgb = rgb_format(fmt, op, loc);
  check_quality(quality, op, loc);
  std::vector<Bytes> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) { out[size_t(i)] = encode_one(imgs[i], rgb, quality, optimized); });
  List<Bytes> l;
  for (auto& b : out) l.push_back(std::move(b));
  return l;
}

Tuple<List<Bytes>, List<bool>> imencode_noexc(const List<NDArray>& imgs, const Str& fmt, int64_t quality,
                                              bool optimized, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  bool rgb = rgb_format(fmt, op, loc);
  check_quality(quality, op, loc);
  std::vector<Bytes> out(static_cast<size_t>(n));
  std::vector<char> ok(static_cast<size_t>(n), 0);
  each(n, op, loc, [&](int64_t i) {
    try {
      out[size_t(i)] = encode_one(imgs[i], rgb, quality, optimized);
      ok[size_t(i)] = 1;
    } catch (...) {
      out[size_t(i)] = Bytes("", 0);
    }
  });
  List<Bytes> l;
  List<bool> flags;
  for (auto& b : out) l.push_back(std::move(b));
  for (char c : ok) flags.push_back(c != 0);
  return Tuple<List<Bytes>, List<bool>>(l, flags);
}

// ---------------------------------------------------------------- geometry

List<NDArray> resize(const List<NDArray>& imgs, const List<int64_t>& hs, const List<int64_t>& ws,
                     const Str& interp, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  check_len(hs, n, "the list of heights", op, loc);
  check_len(ws, n, "the list of widths", op, loc);
  int flag = interp_named(interp, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    check_size(hs[i], ws[i]);
    int w = int(ws[i]), h = int(hs[i]);
    cv::Mat dst;
    if (!simd::resize(src, w, h, 0, 0, w, h, flag, dst)) cv::resize(src, dst, cv::Size(w, h), 0, 0, flag);
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}

namespace {
cv::Rect crop_rect(const cv::Mat& src, int64_t x, int64_t y, int64_t w, int64_t h) {
  if (w < 1 || h < 1)
    fail(ErrKind::ValueError, "has a crop of " + std::to_string(w) + "x" + std::to_string(h) + " (width x height)");
  if (x < 0 || y < 0 || x + w > src.cols || y + h > src.rows)
    fail(ErrKind::ValueError, "is " + std::to_string(src.cols) + "x" + std::to_string(src.rows) +
                                  " (width x height); the crop x=" + std::to_string(x) + " y=" + std::to_string(y) +
                                  " width=" + std::to_string(w) + " height=" + std::to_string(h) + " lies outside it");
  return cv::Rect(int(x), int(y), int(w), int(h));
}
}  // namespace

namespace {
void check_boxes(int64_t n, const List<int64_t>& xs, const List<int64_t>& ys, const List<int64_t>& ws,
                 const List<int64_t>& hs, const Str& op, const Loc* loc) {
  check_batch(n, op, loc);
  check_len(xs, n, "the list of x", op, loc);
  check_len(ys, n, "the list of y", op, loc);
  check_len(ws, n, "the list of widths", op, loc);
  check_len(hs, n, "the list of heights", op, loc);
}
}  // namespace

List<NDArray> crop(const List<NDArray>& imgs, const List<int64_t>& xs, const List<int64_t>& ys,
                   const List<int64_t>& ws, const List<int64_t>& hs, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_boxes(n, xs, ys, ws, hs, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    const NDArray& a = imgs[i];
    cv::Mat src = as_mat(a);
    cv::Rect r = crop_rect(src, xs[i], ys[i], ws[i], hs[i]);
    if (src.data != a->data) {  // as_mat copied the pixels: the crop owns its copy
      out[size_t(i)] = from_mat(src(r).clone(), is_2d(a));
      return;
    }
    // A view into the image, as numpy's image[y:y+h, x:x+w] is: no pixel moves.
    Ref<NDArrayObj> v = Ref<NDArrayObj>::make();
    v->data = static_cast<char*>(a->data) + (int64_t(r.y) * a->strides[0] + int64_t(r.x) * a->strides[1]) * a->itemsize();
    v->device = a->device;
    v->dtype = a->dtype;
    v->shape = a->shape;
    v->shape[0] = r.height;
    v->shape[1] = r.width;
    v->strides = a->strides;
    v->base = Ref<Object>(a.ref());
    out[size_t(i)] = NDArray(std::move(v));
  });
  return to_list(out);
}

List<NDArray> crop_resize(const List<NDArray>& imgs, const List<int64_t>& xs, const List<int64_t>& ys,
                          const List<int64_t>& ws, const List<int64_t>& hs, int64_t out_h, int64_t out_w,
                          const Str& interp, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_boxes(n, xs, ys, ws, hs, op, loc);
  int flag = interp_named(interp, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    check_size(out_h, out_w);
    cv::Mat box = src(crop_rect(src, xs[i], ys[i], ws[i], hs[i])), dst;
    int w = int(out_w), h = int(out_h);
    if (!simd::resize(box, w, h, 0, 0, w, h, flag, dst)) cv::resize(box, dst, cv::Size(w, h), 0, 0, flag);
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}

List<NDArray> flip(const List<NDArray>& imgs, const List<int64_t>& codes, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  check_len(codes, n, "the list of flip codes", op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    cv::Mat dst;
    int64_t c = codes[i];
    if (c == 0 || c == 1 || c == -1) cv::flip(src, dst, int(c));
    else dst = src.clone();  // FLIP_NOT_APPLY (any other code): an unchanged copy
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}

List<NDArray> pad(const List<NDArray>& imgs, const List<int64_t>& tops, const List<int64_t>& bottoms,
                  const List<int64_t>& lefts, const List<int64_t>& rights, const Str& border,
                  const List<double>& value, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  check_len(tops, n, "the list of top paddings", op, loc);
  check_len(bottoms, n, "the list of bottom paddings", op, loc);
  check_len(lefts, n, "the list of left paddings", op, loc);
  check_len(rights, n, "the list of right paddings", op, loc);
  int b = border_named(border, op, loc);
  cv::Scalar v = scalar_of(value, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    int64_t t = tops[i], bo = bottoms[i], l = lefts[i], r = rights[i];
    if (t < 0 || bo < 0 || l < 0 || r < 0 || t > 1 << 20 || bo > 1 << 20 || l > 1 << 20 || r > 1 << 20)
      fail(ErrKind::ValueError, "has a padding out of range (each is 0 to 2**20)");
    cv::Mat dst;
    cv::copyMakeBorder(src, dst, int(t), int(bo), int(l), int(r), b, v);
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}

namespace {
template <class Warp>
List<NDArray> warp(const List<NDArray>& imgs, const List<List<double>>& mats, const List<int64_t>& hs,
                   const List<int64_t>& ws, const Str& interp, const Str& border, const List<double>& value,
                   const Str& op, const Loc* loc, int rows, Warp&& w) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  check_len(mats, n, "the list of matrices", op, loc);
  check_len(hs, n, "the list of heights", op, loc);
  check_len(ws, n, "the list of widths", op, loc);
  int flag = interp_named(interp, op, loc);
  int b = border_named(border, op, loc);
  cv::Scalar v = scalar_of(value, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    const List<double>& m = mats[i];
    if (m.size() != rows * 3)
      fail(ErrKind::ValueError, "has a matrix of " + std::to_string(m.size()) + " numbers; it needs " +
                                    std::to_string(rows * 3) + " (" + std::to_string(rows) + "x3, row by row)");
    cv::Mat M(rows, 3, CV_64F);
    for (int k = 0; k < rows * 3; ++k) M.at<double>(k / 3, k % 3) = m[k];
    int64_t hh = hs[i] > 0 ? hs[i] : src.rows, ww = ws[i] > 0 ? ws[i] : src.cols;
    check_size(hh, ww);
    cv::Mat dst;
    w(src, dst, M, cv::Size(int(ww), int(hh)), flag, b, v);
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}
}  // namespace

List<NDArray> warp_affine(const List<NDArray>& imgs, const List<List<double>>& mats, const List<int64_t>& hs,
                          const List<int64_t>& ws, const Str& interp, const Str& border,
                          const List<double>& value, const Str& op, const Loc* loc) {
  return warp(imgs, mats, hs, ws, interp, border, value, op, loc, 2,
              [](const cv::Mat& s_, cv::Mat& d, const cv::Mat& M, cv::Size sz, int f, int b, const cv::Scalar& v) {
                cv::warpAffine(s_, d, M, sz, f, b, v);
              });
}

List<NDArray> warp_perspective(const List<NDArray>& imgs, const List<List<double>>& mats,
                               const List<int64_t>& hs, const List<int64_t>& ws, const Str& interp,
                               const Str& border, const List<double>& value, const Str& op, const Loc* loc) {
  return warp(imgs, mats, hs, ws, interp, border, value, op, loc, 3,
              [](const cv::Mat& s_, cv::Mat& d, const cv::Mat& M, cv::Size sz, int f, int b, const cv::Scalar& v) {
                cv::warpPerspective(s_, d, M, sz, f, b, v);
              });
}

List<double> rotation_matrix(double cx, double cy, double angle, double scale, const Loc*) {
  cv::Mat M = cv::getRotationMatrix2D(cv::Point2f(float(cx), float(cy)), angle, scale);
  List<double> out;
  for (int k = 0; k < 6; ++k) out.push_back(M.at<double>(k / 3, k % 3));
  return out;
}

// ---------------------------------------------------------------- pixels

List<NDArray> cvt_color(const List<NDArray>& imgs, const Str& code, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  int c = color_code_named(code, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    cv::Mat dst;
    cv::cvtColor(src, dst, c);
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}

namespace {
// Per-channel a, b with out = x * a + b.
void norm_coeffs(const List<double>& mean, const List<double>& std_, double shift, double scale, int64_t c,
                 std::vector<double>& a, std::vector<double>& b) {
  auto pick = [&](const List<double>& v, int64_t k) { return v.size() == 1 ? v[0] : v[k]; };
  if ((mean.size() != 1 && mean.size() != c) || (std_.size() != 1 && std_.size() != c))
    fail(ErrKind::ValueError, "has " + std::to_string(c) + " channels; mean and std have " +
                                  std::to_string(mean.size()) + " and " + std::to_string(std_.size()) +
                                  " values (give 1 or one per channel)");
  a.resize(size_t(c));
  b.resize(size_t(c));
  for (int64_t k = 0; k < c; ++k) {
    double sd = pick(std_, k);
    if (sd == 0) fail(ErrKind::ZeroDivisionError, "std is 0 for channel " + std::to_string(k));
    a[size_t(k)] = scale / sd;
    b[size_t(k)] = shift - pick(mean, k) * scale / sd;
  }
}

template <class In, class Out>
void norm_rows(const cv::Mat& src, Out* dst, const std::vector<double>& a, const std::vector<double>& b,
               bool planar, int64_t plane) {
  int c = src.channels();
  float af[4], bf[4];
  for (int k = 0; k < c && k < 4; ++k) af[k] = float(a[k]), bf[k] = float(b[k]);
  for (int y = 0; y < src.rows; ++y) {
    const In* row = src.ptr<In>(y);
    if (!planar) {
      Out* o = dst + int64_t(y) * src.cols * c;
      if (c == 3 && sizeof(Out) == 4) {
        for (int x = 0; x < src.cols; ++x) {
          o[3 * x] = Out(float(row[3 * x]) * af[0] + bf[0]);
          o[3 * x + 1] = Out(float(row[3 * x + 1]) * af[1] + bf[1]);
          o[3 * x + 2] = Out(float(row[3 * x + 2]) * af[2] + bf[2]);
        }
      } else {
        for (int x = 0; x < src.cols; ++x)
          for (int k = 0; k < c; ++k) o[x * c + k] = Out(double(row[x * c + k]) * a[size_t(k)] + b[size_t(k)]);
      }
    } else {
      for (int k = 0; k < c; ++k) {
        Out* o = dst + k * plane + int64_t(y) * src.cols;
        if (c <= 4 && sizeof(Out) == 4) {
          float ak = af[k], bk = bf[k];
          for (int x = 0; x < src.cols; ++x) o[x] = Out(float(row[x * c + k]) * ak + bk);
        } else {
          for (int x = 0; x < src.cols; ++x) o[x] = Out(double(row[x * c + k]) * a[size_t(k)] + b[size_t(k)]);
        }
      }
    }
  }
}

template <class Out>
void norm_any(const cv::Mat& src, Out* dst, const std::vector<double>& a, const std::vector<double>& b, bool planar,
              int64_t plane) {
  switch (src.depth()) {
    case CV_8U: return norm_rows<uint8_t, Out>(src, dst, a, b, planar, plane);
    case CV_8S: return norm_rows<int8_t, Out>(src, dst, a, b, planar, plane);
    case CV_16U: return norm_rows<uint16_t, Out>(src, dst, a, b, planar, plane);
    case CV_16S: return norm_rows<int16_t, Out>(src, dst, a, b, planar, plane);
    case CV_32S: return norm_rows<int32_t, Out>(src, dst, a, b, planar, plane);
    case CV_32F: return norm_rows<float, Out>(src, dst, a, b, planar, plane);
    default: return norm_rows<double, Out>(src, dst, a, b, planar, plane);
  }
}

DLDataType float_dtype(const Str& dtype, const Str& op, const Loc* loc) {
  std::string d = s(dtype);
  if (d == "float32") return {kDLFloat, 32, 1};
  if (d == "float64") return {kDLFloat, 64, 1};
  op_error(ErrKind::ValueError, op, "dtype '" + d + "' is not float32 or float64", loc);
}

// Batches (64 x 3 x 224 x 224 floats is 38 MB) come in 2 MB pages where the
// kernel gives them on request, and the last one freed is kept for the next batch
// of its size: a fresh one costs its page faults and the kernel's zeroing on the
// first write, ~10% of the eval chain on one thread.
struct BatchBuffers {
  std::mutex mu;
  void* kept = nullptr;
  size_t kept_bytes = 0;

  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> g(mu);
      if (kept && kept_bytes == bytes) {
        void* p = kept;
        kept = nullptr;
        return p;
      }
    }
    void* p = nullptr;
    if (posix_memalign(&p, size_t(2) << 20, bytes) != 0) throw std::bad_alloc();
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
  }
  void give(void* p, size_t bytes) {
    void* drop = p;
    {
      std::lock_guard<std::mutex> g(mu);
      std::swap(drop, kept);
      kept_bytes = bytes;
    }
    std::free(drop);
  }
};

BatchBuffers& batch_buffers() {
  static BatchBuffers* b = new BatchBuffers();  // never destroyed: arrays may outlive static destruction
  return *b;
}

NDArray uninit(const std::vector<int64_t>& shape, DLDataType t) {
  Ref<NDArrayObj> r = Ref<NDArrayObj>::make();
  r->dtype = t;
  r->shape = shape;
  r->strides = row_major_strides(shape);
  size_t bytes = size_t(r->numel() * r->itemsize());
  if (bytes >= (size_t(8) << 20)) {
    struct Holder {
      DLManagedTensor t;
      void* p;
      size_t bytes;
    };
    Holder* hd = new Holder{{}, nullptr, bytes};
    try {
      hd->p = batch_buffers().take(bytes);
    } catch (...) {
      delete hd;
      throw;
    }
    hd->t.manager_ctx = hd;
    hd->t.deleter = [](DLManagedTensor* self) {
      Holder* h = static_cast<Holder*>(self->manager_ctx);
      batch_buffers().give(h->p, h->bytes);
      delete h;
    };
    r->owner = &hd->t;
    r->data = hd->p;
    return NDArray(std::move(r));
  }
  r->own = std::malloc(bytes ? bytes : 1);
  if (!r->own) throw std::bad_alloc();
  r->data = r->own;
  return NDArray(std::move(r));
}
}  // namespace

List<NDArray> normalize(const List<NDArray>& imgs, const List<double>& mean, const List<double>& std_,
                        const Str& dtype, double shift, double scale, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  DLDataType t = float_dtype(dtype, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    std::vector<double> a, b;
    norm_coeffs(mean, std_, shift, scale, src.channels(), a, b);
    NDArray o = uninit(imgs[i]->shape, t);
    if (t.bits == 32) norm_any(src, static_cast<float*>(o->data), a, b, false, 0);
    else norm_any(src, static_cast<double*>(o->data), a, b, false, 0);
    out[size_t(i)] = o;
  });
  return to_list(out);
}

namespace {
void same_shape(const List<NDArray>& imgs, const Str& op, const Loc* loc) {
  for (int64_t i = 0; i < imgs.size(); ++i) {
    if (!imgs[i]) op_error(ErrKind::TypeError, op, "image " + std::to_string(i) + " is None, not an NDArray", loc);
    if (i && (imgs[i]->shape != imgs[0]->shape || imgs[i]->dtype.code != imgs[0]->dtype.code ||
              imgs[i]->dtype.bits != imgs[0]->dtype.bits)) {
      auto txt = [](const NDArray& a) {
        std::string r = dtype_name(a->dtype) + " (";
        for (size_t k = 0; k < a->shape.size(); ++k) r += (k ? ", " : "") + std::to_string(a->shape[k]);
        return r + (a->shape.size() == 1 ? ",)" : ")");
      };
      op_error(ErrKind::ValueError, op, "image " + std::to_string(i) + " is " + txt(imgs[i]) + " and image 0 is " +
                                            txt(imgs[0]) + "; stacked images have one shape and dtype", loc);
    }
  }
}
// One image, normalized (v * a[k] + b[k]) into dst as t: HxWxC, or C planes of HxW.
void normalize_into(const cv::Mat& src, char* dst, bool planar, DLDataType t, const std::vector<double>& a,
                    const std::vector<double>& b) {
  int h = src.rows, w = src.cols, c = src.channels();
  float af[3], bf[3];
  for (int k = 0; k < c && k < 3; ++k) af[k] = float(a[size_t(k)]), bf[k] = float(b[size_t(k)]);
  if (planar && t.bits == 32 && simd::planes(src, reinterpret_cast<float*>(dst), af, bf)) return;  // 8-bit, 3 channels
  if (planar) {  // one plane per channel: OpenCV's split, then its scaled convert into each plane
    int depth = t.bits == 32 ? CV_32F : CV_64F;
    size_t plane = size_t(h) * w * (t.bits / 8);
    std::vector<cv::Mat> planes;
    cv::split(src, planes);
    for (int k = 0; k < c; ++k)
      planes[size_t(k)].convertTo(cv::Mat(h, w, depth, dst + k * plane), depth, a[size_t(k)], b[size_t(k)]);
  } else if (t.bits == 32) {
    norm_any(src, reinterpret_cast<float*>(dst), a, b, false, 0);
  } else {
    norm_any(src, reinterpret_cast<double*>(dst), a, b, false, 0);
  }
}
}  // namespace

NDArray transpose_normalize(const List<NDArray>& imgs, const List<double>& mean, const List<double>& std_,
                            const Str& in_layout, const Str& out_layout, const Str& dtype, double shift,
                            double scale, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  if (layout_named(in_layout, op, loc)) op_error(ErrKind::ValueError, op, "the input layout of images is NHWC", loc);
  bool planar = layout_named(out_layout, op, loc);
  DLDataType t = float_dtype(dtype, op, loc);
  same_shape(imgs, op, loc);
  const NDArray& first = imgs[0];
  if (first->shape.size() != 2 && first->shape.size() != 3)
    op_error(ErrKind::ValueError, op, "image 0 has " + std::to_string(first->shape.size()) +
                                          " dimensions; an image is HxW or HxWxC", loc);
  int64_t h = first->shape[0], w = first->shape[1], c = first->shape.size() == 3 ? first->shape[2] : 1;
  NDArray o = planar ? uninit({n, c, h, w}, t) : uninit({n, h, w, c}, t);
  int64_t per = h * w * c;
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    std::vector<double> a, b;
    norm_coeffs(mean, std_, shift, scale, c, a, b);
    normalize_into(src, static_cast<char*>(o->data) + i * per * o->itemsize(), planar, t, a, b);
  });
  return o;
}

List<NDArray> cast(const List<NDArray>& imgs, const Str& dtype, double alpha, double beta, const Str& op,
                   const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  int depth = depth_named(dtype, op, loc);
  std::vector<NDArray> out(static_cast<size_t>(n));
  each(n, op, loc, [&](int64_t i) {
    cv::Mat src = as_mat(imgs[i]);
    cv::Mat dst;
    src.convertTo(dst, depth, alpha, beta);
    out[size_t(i)] = from_mat(dst, is_2d(imgs[i]));
  });
  return to_list(out);
}

NDArray stack(const List<NDArray>& imgs, const Str& op, const Loc* loc) {
  int64_t n = imgs.size();
  check_batch(n, op, loc);
  same_shape(imgs, op, loc);
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), imgs[0]->shape.begin(), imgs[0]->shape.end());
  for (int64_t i = 0; i < n; ++i) mx::pymod::nd_check_cpu(imgs[i], loc);
  NDArray o = uninit(shape, imgs[0]->dtype);
  int64_t per = imgs[0]->numel() * imgs[0]->itemsize();
  each(n, op, loc, [&](int64_t i) {
    const NDArray& a = imgs[i];
    char* dst = static_cast<char*>(o->data) + i * per;
    if (a->contiguous()) std::memcpy(dst, a->data, size_t(per));
    else std::memcpy(dst, mx::pymod::nd_copy(a, a->dtype)->data, size_t(per));
  });
  return o;
}

NDArray transpose(const NDArray& batch, const Str& in_layout, const Str& out_layout, const Str& op, const Loc* loc) {
  bool in_c = layout_named(in_layout, op, loc), out_c = layout_named(out_layout, op, loc);
  if (!batch) op_error(ErrKind::TypeError, op, "the batch is None, not an NDArray", loc);
  mx::pymod::nd_check_cpu(batch, loc);
  if (batch->shape.size() != 4)
    op_error(ErrKind::ValueError, op, "the batch has " + std::to_string(batch->shape.size()) +
                                          " dimensions; NHWC and NCHW have 4", loc);
  NDArray src = batch->contiguous() ? batch : mx::pymod::nd_copy(batch, batch->dtype);
  if (in_c == out_c) return mx::pymod::nd_copy(src, src->dtype);
  int64_t n = src->shape[0], d1 = src->shape[1], d2 = src->shape[2], d3 = src->shape[3];
  // NHWC -> NCHW: (n, h, w, c) -> (n, c, h, w); NCHW -> NHWC: (n, c, h, w) -> (n, h, w, c).
  std::vector<int64_t> shape = out_c ? std::vector<int64_t>{n, d3, d1, d2} : std::vector<int64_t>{n, d2, d3, d1};
  NDArray o = uninit(shape, src->dtype);
  int64_t item = src->itemsize(), plane = out_c ? d1 * d2 : d2 * d3, ch = out_c ? d3 : d1;
  each(n, op, loc, [&](int64_t i) {
    const char* s_ = static_cast<const char*>(src->data) + i * plane * ch * item;
    char* d = static_cast<char*>(o->data) + i * plane * ch * item;
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t k = 0; k < ch; ++k) {
        if (out_c) std::memcpy(d + (k * plane + p) * item, s_ + (p * ch + k) * item, size_t(item));
        else std::memcpy(d + (p * ch + k) * item, s_ + (k * plane + p) * item, size_t(item));
      }
  });
  return o;
}

// ---------------------------------------------------------------- threads

void set_num_threads(int64_t n, const Loc* loc) {
  if (n < 1 || n > 4096) raise(ErrKind::ValueError, "the number of threads must be 1 to 4096, not " + std::to_string(n), loc);
  cv::setNumThreads(int(n));
}

int64_t get_num_threads(const Loc*) { return cv::getNumThreads(); }

}  // namespace mx::vision

#include "vision_shapes_impl.h"
#include "vision_chain_impl.h"
