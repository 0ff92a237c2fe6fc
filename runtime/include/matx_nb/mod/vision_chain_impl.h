// vision.h's eval chain: decode -> resize -> center crop -> transpose-normalize,
// one image at a time, so that each image's pixels stay in cache between the
// steps and the resize computes only the window the crop keeps. Its caller is
// EvalChainOp (matx_nb/vision/fused.py), which matx_nb.trace puts in place of
// the four ops where a pipeline calls them in a row. Part of vision_impl.h's
// object, which includes it after its helpers.
//
// The results are the four kernels' own, bit for bit: the same decoder, the same
// resize (vision_simd.h's window of it), the same normalization
// (normalize_into). Whatever the steps would refuse or report (an image that
// does not decode, a crop outside an image, a bad option) makes eval_chain
// return no array, and the op then runs the four steps, which give their errors.
#pragma once

namespace mx::vision {

namespace {
// ResizeOp's target size for an ih x iw image: (h, w) itself (mode "default"),
// or the aspect ratio kept inside ("not_larger") or around ("not_smaller") it,
// the longer side bounded by max_size (> 0).
std::pair<int64_t, int64_t> target_size(int64_t ih, int64_t iw, int64_t h, int64_t w, int64_t max_size,
                                        const std::string& mode) {
  if (ih > 0 && iw > 0 && mode != "default") {
    double ratio = double(iw) / double(ih), ws = double(w) / double(iw), hs = double(h) / double(ih);
    if (mode == "not_larger") {
      if (ws < hs) h = int64_t(double(ih) * ws);
      else if (ws > hs) w = int64_t(double(iw) * hs);
    } else {
      if (ws > hs) h = int64_t(double(ih) * ws);
      else if (ws < hs) w = int64_t(double(iw) * hs);
      if (ratio > 1.0 && 0 < max_size && max_size < w) {
        w = max_size;
        h = int64_t(double(max_size) / ratio);
      } else if (ratio < 1.0 && 0 < max_size && max_size < h) {
        h = max_size;
        w = int64_t(double(max_size) * ratio);
      }
    }
    if (h == 0) h = 1;
    if (w == 0) w = 1;
  }
  return {h, w};
}
}  // namespace

Tuple<int64_t, int64_t> resize_target(int64_t ih, int64_t iw, int64_t h, int64_t w, int64_t max_size,
                                      const Str& mode, const Loc*) {
  auto hw = target_size(ih, iw, h, w, max_size, s(mode));
  return Tuple<int64_t, int64_t>(hw.first, hw.second);
}

List<NDArray> eval_chain(const List<Bytes>& bufs, const Str& fmt, int64_t h, int64_t w, int64_t max_size,
                         const Str& interp, const Str& mode, int64_t crop_h, int64_t crop_w,
                         const List<double>& mean, const List<double>& std_, const Str& in_layout,
                         const Str& out_layout, const Str& dtype, double shift, double scale, const Str& op,
                         const Loc* loc) {
  List<NDArray> steps;  // no array: the op runs the four steps
  int64_t n = bufs.size();
  std::string m = s(mode);
  // Sizes beyond any image (a crafted folder's options) go to the steps, which refuse them.
  if (n == 0 || n > INT32_MAX || h <= 0 || w <= 0 || crop_h <= 0 || crop_w <= 0 || crop_h > INT32_MAX ||
      crop_w > INT32_MAX || crop_h * crop_w > (int64_t(1) << 32) / n ||
      (m != "default" && m != "not_larger" && m != "not_smaller"))
    return steps;
  bool rgb, planar;
  int flag;
  DLDataType t;
  std::vector<double> a, b;
  try {  // the options, checked as the steps check them
    rgb = rgb_format(fmt, op, loc);
    flag = interp_named(interp, op, loc);
    if (layout_named(in_layout, op, loc)) return steps;
    planar = layout_named(out_layout, op, loc);
    t = float_dtype(dtype, op, loc);
    norm_coeffs(mean, std_, shift, scale, 3, a, b);
  } catch (...) {
    return steps;
  }
  NDArray o = planar ? uninit({n, 3, crop_h, crop_w}, t) : uninit({n, crop_h, crop_w, 3}, t);
  size_t per = size_t(crop_h * crop_w * 3) * (t.bits / 8);
  std::vector<char> done(size_t(n), 0);
  each(n, op, loc, [&](int64_t i) {
    try {
      NDArray img = decode_image(bufs[i], rgb);
      cv::Mat src = as_mat(img);
      auto [rh, rw] = target_size(src.rows, src.cols, h, w, max_size, m);
      if (rh > INT32_MAX || rw > INT32_MAX || crop_h > rh || crop_w > rw) return;  // CenterCropOp's error
      int x0 = int((rw - crop_w) / 2), y0 = int((rh - crop_h) / 2);
      cv::Mat kept;
      if (!simd::resize(src, int(rw), int(rh), x0, y0, int(crop_w), int(crop_h), flag, kept)) {
        cv::Mat full;
        cv::resize(src, full, cv::Size(int(rw), int(rh)), 0, 0, flag);
        kept = full(cv::Rect(x0, y0, int(crop_w), int(crop_h)));
      }
      normalize_into(kept, static_cast<char*>(o->data) + size_t(i) * per, planar, t, a, b);
      done[size_t(i)] = 1;
    } catch (...) {  // the steps give the error
    }
  });
  for (char d : done)
    if (!d) return steps;
  steps.push_back(o);
  return steps;
}

}  // namespace mx::vision
