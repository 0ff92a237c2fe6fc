// matx_nb.vision's kernels for compiled code: batches of images (List<NDArray>,
// HWC or HW, uint8 / float...) in, new arrays out, over OpenCV's C++ API.
//
// Generated code sees only these declarations: OpenCV's headers stay out of
// it (they would double a library's compile time). The definitions are in
// vision_impl.h, compiled once per toolchain into an object the toolchain
// links into each library that includes this header (its `// matx_nb-object:`
// line), with OpenCV's libraries (`// matx_nb-link:`). Declared for the
// checker in compiler/modules.py; the ops that call them are Python classes in
// matx_nb/vision/, compiled like user code.
//
// Every kernel takes the op's name for its messages ("ResizeOp: image 2: ...")
// and the call site's Loc. A batch is spread over OpenCV's thread pool; a
// failed image raises after the batch, naming the first failed index.
#pragma once
#include "../runtime.h"

namespace mx::vision {

// ---- codecs
List<NDArray> imdecode(const List<Bytes>& bufs, const Str& fmt, const Str& op, const Loc* loc);
Tuple<List<NDArray>, List<bool>> imdecode_noexc(const List<Bytes>& bufs, const Str& fmt, const Str& op,
                                                const Loc* loc);
List<Bytes> imencode(const List<NDArray>& imgs, const Str& fmt, int64_t quality, bool optimized,
                     const Str& op, const Loc* loc);
Tuple<List<Bytes>, List<bool>> imencode_noexc(const List<NDArray>& imgs, const Str& fmt, int64_t quality,
                                              bool optimized, const Str& op, const Loc* loc);

// ---- geometry of the image
List<NDArray> resize(const List<NDArray>& imgs, const List<int64_t>& hs, const List<int64_t>& ws,
                     const Str& interp, const Str& op, const Loc* loc);
List<NDArray> crop(const List<NDArray>& imgs, const List<int64_t>& xs, const List<int64_t>& ys,
                   const List<int64_t>& ws, const List<int64_t>& hs, const Str& op, const Loc* loc);
// Crops then resizes each crop to (h, w) (RandomResizedCropOp).
List<NDArray> crop_resize(const List<NDArray>& imgs, const List<int64_t>& xs, const List<int64_t>& ys,
                          const List<int64_t>& ws, const List<int64_t>& hs, int64_t out_h, int64_t out_w,
                          const Str& interp, const Str& op, const Loc* loc);
List<NDArray> flip(const List<NDArray>& imgs, const List<int64_t>& codes, const Str& op, const Loc* loc);
List<NDArray> pad(const List<NDArray>& imgs, const List<int64_t>& tops, const List<int64_t>& bottoms,
                  const List<int64_t>& lefts, const List<int64_t>& rights, const Str& border,
                  const List<double>& value, const Str& op, const Loc* loc);
List<NDArray> warp_affine(const List<NDArray>& imgs, const List<List<double>>& mats, const List<int64_t>& hs,
                          const List<int64_t>& ws, const Str& interp, const Str& border,
                          const List<double>& value, const Str& op, const Loc* loc);
List<NDArray> warp_perspective(const List<NDArray>& imgs, const List<List<double>>& mats,
                               const List<int64_t>& hs, const List<int64_t>& ws, const Str& interp,
                               const Str& border, const List<double>& value, const Str& op, const Loc* loc);
// cv::getRotationMatrix2D as 6 numbers (row-major 2x3).
List<double> rotation_matrix(double cx, double cy, double angle, double scale, const Loc* loc);

// ---- pixels
List<NDArray> cvt_color(const List<NDArray>& imgs, const Str& code, const Str& op, const Loc* loc);
// (x - mean[c]) / std[c] * scale + shift, as dtype.
List<NDArray> normalize(const List<NDArray>& imgs, const List<double>& mean, const List<double>& std_,
                        const Str& dtype, double shift, double scale, const Str& op, const Loc* loc);
// normalize, stack, and lay out as out_layout ("NCHW" / "NHWC") in one pass.
NDArray transpose_normalize(const List<NDArray>& imgs, const List<double>& mean, const List<double>& std_,
                            const Str& in_layout, const Str& out_layout, const Str& dtype, double shift,
                            double scale, const Str& op, const Loc* loc);
// x * alpha + beta, as dtype (saturated and rounded for integer dtypes, as cv::Mat::convertTo).
List<NDArray> cast(const List<NDArray>& imgs, const Str& dtype, double alpha, double beta, const Str& op,
                   const Loc* loc);
NDArray stack(const List<NDArray>& imgs, const Str& op, const Loc* loc);
NDArray transpose(const NDArray& batch, const Str& in_layout, const Str& out_layout, const Str& op,
                  const Loc* loc);

// ---- shapes (contours and polygons as (N, 2) arrays of points)
List<NDArray> find_contours(const NDArray& img, const Str& mode, const Str& method, const Str& op,
                            const Loc* loc);
double arc_length(const NDArray& curve, bool closed, const Str& op, const Loc* loc);
NDArray approx_poly_dp(const NDArray& curve, double epsilon, bool closed, const Str& op, const Loc* loc);
// (cx, cy, w, h, angle) of cv::minAreaRect.
List<double> min_area_rect(const NDArray& points, const Str& op, const Loc* loc);
// The 4 corners (4, 2) float32 of a rotated rectangle (cx, cy, w, h, angle).
NDArray box_points(const List<double>& rect, const Str& op, const Loc* loc);
NDArray fill_poly(const NDArray& img, const List<NDArray>& polys, const List<double>& color, const Str& op,
                  const Loc* loc);
// RANSAC similarity fit (cv::estimateAffinePartial2D's method): (2x3 matrix as 6
// numbers, empty when there is no estimate; an inlier flag per point).
Tuple<List<double>, List<bool>> estimate_affine_partial_2d(const NDArray& from, const NDArray& to,
                                                           const Str& op, const Loc* loc);

// ---- the eval chain in one pass per image (EvalChainOp, which matx_nb.trace
// puts in place of ImdecodeOp -> ResizeOp -> CenterCropOp -> TransposeNormalizeOp):
// [the batch] with their options, or [] where the four steps must run (and
// raise) instead. resize_target: ResizeOp's size for an ih x iw image.
Tuple<int64_t, int64_t> resize_target(int64_t ih, int64_t iw, int64_t h, int64_t w, int64_t max_size,
                                      const Str& mode, const Loc* loc);
List<NDArray> eval_chain(const List<Bytes>& bufs, const Str& fmt, int64_t h, int64_t w, int64_t max_size,
                         const Str& interp, const Str& mode, int64_t crop_h, int64_t crop_w,
                         const List<double>& mean, const List<double>& std_, const Str& in_layout,
                         const Str& out_layout, const Str& dtype, double shift, double scale, const Str& op,
                         const Loc* loc);

// ---- threads
void set_num_threads(int64_t n, const Loc* loc);
int64_t get_num_threads(const Loc* loc);

}  // namespace mx::vision
