// vision.h's shape kernels (contours, polygons, rotated rectangles, a similarity
// fit) over OpenCV's imgproc; part of vision_impl.h's object, which includes it
// after its helpers.
#pragma once
#include <cmath>

namespace mx::vision {

namespace {
// Points of an (N, 2) or (N, 1, 2) array as float or int points.
template <class P>
std::vector<P> points_of(const NDArray& a, const Str& op, const char* what, const Loc* loc) {
  if (!a) op_error(ErrKind::TypeError, op, std::string(what) + " is None, not an NDArray", loc);
  mx::pymod::nd_check_cpu(a, loc);
  size_t nd = a->shape.size();
  if (!((nd == 2 && a->shape[1] == 2) || (nd == 3 && a->shape[1] == 1 && a->shape[2] == 2)))
    op_error(ErrKind::ValueError, op, std::string(what) + " is not an array of points, shape (N, 2) or (N, 1, 2)", loc);
  NDArray c = mx::pymod::nd_copy(a, DLDataType{kDLFloat, 64, 1});
  const double* p = static_cast<const double*>(c->data);
  std::vector<P> out(size_t(a->shape[0]));
  for (size_t i = 0; i < out.size(); ++i) out[i] = P(decltype(P().x)(p[2 * i]), decltype(P().y)(p[2 * i + 1]));
  return out;
}

template <class P>
NDArray points_array(const std::vector<P>& pts, DLDataType t) {
  NDArray o = uninit({int64_t(pts.size()), 2}, t);
  for (size_t i = 0; i < pts.size(); ++i) {
    if (t.code == kDLInt) {
      static_cast<int32_t*>(o->data)[2 * i] = int32_t(pts[i].x);
      static_cast<int32_t*>(o->data)[2 * i + 1] = int32_t(pts[i].y);
    } else {
      static_cast<float*>(o->data)[2 * i] = float(pts[i].x);
      static_cast<float*>(o->data)[2 * i + 1] = float(pts[i].y);
    }
  }
  return o;
}

}  // namespace

List<NDArray> find_contours(const NDArray& img, const Str& mode, const Str& method, const Str& op, const Loc* loc) {
  std::string md = s(mode), me = s(method);
  int m = md == "RETR_EXTERNAL" ? cv::RETR_EXTERNAL : md == "RETR_LIST" ? cv::RETR_LIST
          : md == "RETR_CCOMP" ? cv::RETR_CCOMP : md == "RETR_TREE" ? cv::RETR_TREE : -1;
  int a = me == "CHAIN_APPROX_NONE" ? cv::CHAIN_APPROX_NONE : me == "CHAIN_APPROX_SIMPLE" ? cv::CHAIN_APPROX_SIMPLE
          : me == "CHAIN_APPROX_TC89_L1" ? cv::CHAIN_APPROX_TC89_L1
          : me == "CHAIN_APPROX_TC89_KCOS" ? cv::CHAIN_APPROX_TC89_KCOS : -1;
  if (m < 0) op_error(ErrKind::ValueError, op, "mode '" + md + "' is not RETR_EXTERNAL, RETR_LIST, RETR_CCOMP or RETR_TREE", loc);
  if (a < 0) op_error(ErrKind::ValueError, op, "method '" + me + "' is not a CHAIN_APPROX_* name", loc);
  List<NDArray> out;
  std::vector<std::vector<cv::Point>> cs;
  try {
    cv::Mat src = as_mat(img);
    if (src.type() != CV_8UC1 && src.type() != CV_32SC1)
      fail(ErrKind::TypeError, "is not a one-channel uint8 or int32 image");
    cv::findContours(src.clone(), cs, m, a);
  } catch (const ImageError& e) {
    op_error(e.kind, op, "the image " + e.msg, loc);
  } catch (const cv::Exception& e) {
    op_error(ErrKind::ValueError, op, "OpenCV: " + e.err, loc);
  }
  for (auto& c : cs) out.push_back(points_array(c, DLDataType{kDLInt, 32, 1}));
  return out;
}

double arc_length(const NDArray& curve, bool closed, const Str& op, const Loc* loc) {
  auto pts = points_of<cv::Point2f>(curve, op, "the curve", loc);
  return cv::arcLength(pts, closed);
}

NDArray approx_poly_dp(const NDArray& curve, double epsilon, bool closed, const Str& op, const Loc* loc) {
  if (!(epsilon >= 0)) op_error(ErrKind::ValueError, op, "epsilon is negative", loc);
  bool ints = curve && curve->dtype.code == kDLInt && curve->dtype.bits == 32;
  if (ints) {
    auto pts = points_of<cv::Point>(curve, op, "the curve", loc);
    std::vector<cv::Point> out;
    cv::approxPolyDP(pts, out, epsilon, closed);
    return points_array(out, DLDataType{kDLInt, 32, 1});
  }
  auto pts = points_of<cv::Point2f>(curve, op, "the curve", loc);
  std::vector<cv::Point2f> out;
  cv::approxPolyDP(pts, out, epsilon, closed);
  return points_array(out, DLDataType{kDLFloat, 32, 1});
}

List<double> min_area_rect(const NDArray& points, const Str& op, const Loc* loc) {
  auto pts = points_of<cv::Point2f>(points, op, "the points", loc);
  if (pts.empty()) op_error(ErrKind::ValueError, op, "there are no points", loc);
  cv::RotatedRect r = cv::minAreaRect(pts);
  return List<double>{r.center.x, r.center.y, r.size.width, r.size.height, r.angle};
}

NDArray box_points(const List<double>& rect, const Str& op, const Loc* loc) {
  if (rect.size() != 5) op_error(ErrKind::ValueError, op, "a rotated rectangle is (cx, cy, width, height, angle)", loc);
  cv::RotatedRect r{cv::Point2f{float(rect[0]), float(rect[1])}, cv::Size2f{float(rect[2]), float(rect[3])},
                    float(rect[4])};
  cv::Mat pts;
  cv::boxPoints(r, pts);
  std::vector<cv::Point2f> v(4);
  for (int k = 0; k < 4; ++k) v[size_t(k)] = cv::Point2f(pts.at<float>(k, 0), pts.at<float>(k, 1));
  return points_array(v, DLDataType{kDLFloat, 32, 1});
}

NDArray fill_poly(const NDArray& img, const List<NDArray>& polys, const List<double>& color, const Str& op,
                  const Loc* loc) {
  std::vector<std::vector<cv::Point>> ps;
  for (int64_t i = 0; i < polys.size(); ++i) ps.push_back(points_of<cv::Point>(polys[i], op, "a polygon", loc));
  cv::Scalar c = scalar_of(color, op, loc);
  try {
    cv::Mat dst = as_mat(img).clone();
    cv::fillPoly(dst, ps, c);
    return from_mat(dst, is_2d(img));
  } catch (const ImageError& e) {
    op_error(e.kind, op, "the image " + e.msg, loc);
  } catch (const cv::Exception& e) {
    op_error(ErrKind::ValueError, op, "OpenCV: " + e.err, loc);
  }
}


namespace {
// The similarity (rotation, uniform scale, translation) closest to mapping a to b
// in least squares: [c -s tx; s c ty] as 6 numbers; false if degenerate.
bool fit_similarity(const std::vector<cv::Point2d>& a, const std::vector<cv::Point2d>& b,
                    const std::vector<size_t>& idx, double m[6]) {
  double n = double(idx.size()), ax = 0, ay = 0, bx = 0, by = 0;
  for (size_t i : idx) ax += a[i].x, ay += a[i].y, bx += b[i].x, by += b[i].y;
  ax /= n, ay /= n, bx /= n, by /= n;
  double sxx = 0, sxy = 0, norm = 0;
  for (size_t i : idx) {
    double px = a[i].x - ax, py = a[i].y - ay, qx = b[i].x - bx, qy = b[i].y - by;
    sxx += px * qx + py * qy;
    sxy += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm <= 1e-300) return false;
  double c = sxx / norm, s_ = sxy / norm;
  m[0] = c, m[1] = -s_, m[2] = bx - (c * ax - s_ * ay);
  m[3] = s_, m[4] = c, m[5] = by - (s_ * ax + c * ay);
  return true;
}

double residual2(const double m[6], const cv::Point2d& p, const cv::Point2d& q) {
  double dx = m[0] * p.x + m[1] * p.y + m[2] - q.x, dy = m[3] * p.x + m[4] * p.y + m[5] - q.y;
  return dx * dx + dy * dy;
}
}  // namespace

// cv::estimateAffinePartial2D's method, with its defaults: RANSAC over pairs of
// points (reprojection threshold 3, confidence 0.99, at most 2000 iterations, a
// fixed seed: the same input gives the same answer), then the least-squares
// similarity of the inliers (what OpenCV's Levenberg-Marquardt refinement
// converges to). OpenCV's calib3d module itself is not a dependency.
Tuple<List<double>, List<bool>> estimate_affine_partial_2d(const NDArray& from, const NDArray& to, const Str& op,
                                                           const Loc* loc) {
  auto a = points_of<cv::Point2d>(from, op, "from", loc);
  auto b = points_of<cv::Point2d>(to, op, "to", loc);
  if (a.size() != b.size())
    op_error(ErrKind::ValueError, op, "from has " + std::to_string(a.size()) + " points and to " +
                                          std::to_string(b.size()), loc);
  size_t n = a.size();
  List<double> out;
  List<bool> flags;
  if (n < 2) {
    for (size_t i = 0; i < n; ++i) flags.push_back(false);
    return Tuple<List<double>, List<bool>>(out, flags);
  }
  const double thr2 = 9.0, confidence = 0.99;
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&](size_t k) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return size_t((state >> 33) % k);
  };
  std::vector<size_t> best;
  double best_m[6] = {0, 0, 0, 0, 0, 0};
  size_t iters = 2000;
  for (size_t it = 0; it < iters; ++it) {
    size_t i = next(n), j = next(n);
    if (i == j) continue;
    double m[6];
    if (!fit_similarity(a, b, {i, j}, m)) continue;
    std::vector<size_t> in;
    for (size_t k = 0; k < n; ++k)
      if (residual2(m, a[k], b[k]) <= thr2) in.push_back(k);
    if (in.size() > best.size()) {
      best = in;
      std::copy(m, m + 6, best_m);
      double w = double(in.size()) / double(n), p_fail = 1 - w * w;
      if (p_fail <= 0) break;
      size_t need = size_t(std::ceil(std::log(1 - confidence) / std::log(p_fail)));
      iters = std::min(iters, std::max(need, it + 1));
    }
  }
  if (best.size() < 2) {
    for (size_t i = 0; i < n; ++i) flags.push_back(false);
    return Tuple<List<double>, List<bool>>(out, flags);
  }
  // refit on the inliers until they settle (a few rounds at most)
  for (int round = 0; round < 10; ++round) {
    double m[6];
    if (!fit_similarity(a, b, best, m)) break;
    std::vector<size_t> in;
    for (size_t k = 0; k < n; ++k)
      if (residual2(m, a[k], b[k]) <= thr2) in.push_back(k);
    std::copy(m, m + 6, best_m);
    if (in == best || in.size() < 2) break;
    best = in;
  }
  for (double v : best_m) out.push_back(v);
  std::vector<char> mask(n, 0);
  for (size_t k : best) mask[k] = 1;
  for (char c : mask) flags.push_back(c != 0);
  return Tuple<List<double>, List<bool>>(out, flags);
}

}  // namespace mx::vision
