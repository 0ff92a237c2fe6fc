// JPEG decoding straight through libjpeg(-turbo), for vision_impl.h's decoder.
//
// cv::imdecode (OpenCV 4.6) decodes a JPEG to RGB and then swaps the channels
// in a second pass; libjpeg-turbo writes BGR or RGB itself (JCS_EXT_BGR/RGB),
// from the same library OpenCV links, with the same settings (islow IDCT, fancy
// upsampling), so the pixels are the same and the pass is saved: ~35% of the
// decode time of a 500x375 photo.
//
// Only the plain case takes this path: a YCbCr, grey or RGB JPEG with no EXIF
// orientation other than 1 (OpenCV rotates by it) that decodes without a single
// libjpeg warning. Anything else (CMYK, a rotated photo, damaged data) returns
// false, and the caller decodes with cv::imdecode, so the result is OpenCV's.
#pragma once
#if defined(MATX_NB_HAVE_LIBJPEG)
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <jpeglib.h>

namespace mx::vision::jpeg {

inline uint32_t rd16(const unsigned char* p, bool le) { return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
inline uint32_t rd32(const unsigned char* p, bool le) {
  return le ? uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24
            : uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

// The Orientation tag of an EXIF block (TIFF header onwards); 0 if unreadable.
inline int tiff_orientation(const unsigned char* t, size_t n) {
  if (n < 8) return 0;
  bool le = t[0] == 'I' && t[1] == 'I';
  if (!le && !(t[0] == 'M' && t[1] == 'M')) return 0;
  uint32_t ifd = rd32(t + 4, le);
  if (ifd + 2 > n) return 0;
  uint32_t count = rd16(t + ifd, le);
  for (uint32_t k = 0; k < count; ++k) {
    size_t e = ifd + 2 + size_t(k) * 12;
    if (e + 12 > n) return 0;
    if (rd16(t + e, le) == 0x0112) return int(rd16(t + e + 8, le));
  }
  return 1;  // no Orientation tag
}

// 1 when the image needs no EXIF rotation; anything else (a rotation, an EXIF
// block we cannot read, not a JPEG) sends it to OpenCV.
inline int orientation(const unsigned char* p, size_t n) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return 0;
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return 1;
    unsigned char m = p[i + 1];
    if (m == 0xFF) {
      ++i;
      continue;
    }
    if (m == 0xDA || m == 0xD9) return 1;  // the scan starts: no EXIF block before it
    size_t len = size_t(p[i + 2]) << 8 | p[i + 3];
    if (len < 2 || i + 2 + len > n) return 1;
    if (m == 0xE1 && len >= 8 && std::memcmp(p + i + 4, "Exif\0\0", 6) == 0)
      return tiff_orientation(p + i + 10, len - 8);
    i += 2 + len;
  }
  return 1;
}

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  int warnings;
};

inline void on_error(j_common_ptr c) { longjmp(reinterpret_cast<ErrorManager*>(c->err)->jump, 1); }
inline void on_message(j_common_ptr c, int level) {
  if (level < 0) reinterpret_cast<ErrorManager*>(c->err)->warnings++;
}

// Decodes p[0..n) into a new malloc'd HxWx3 buffer (BGR, or RGB); false where
// OpenCV should decode it instead. No C++ object lives across setjmp.
inline bool decode(const unsigned char* p, size_t n, bool rgb, unsigned char** out, int* rows, int* cols) {
  if (orientation(p, n) != 1) return false;
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  err.warnings = 0;
  unsigned char* volatile buf = nullptr;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::free(buf);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, p, (unsigned long)n);
  jpeg_read_header(&cinfo, TRUE);
  J_COLOR_SPACE cs = cinfo.jpeg_color_space;
  if ((cs != JCS_YCbCr && cs != JCS_GRAYSCALE && cs != JCS_RGB) || err.warnings) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = rgb ? JCS_EXT_RGB : JCS_EXT_BGR;
  jpeg_start_decompress(&cinfo);
  size_t stride = size_t(cinfo.output_width) * 3;
  buf = static_cast<unsigned char*>(std::malloc(stride * cinfo.output_height + 1));
  if (!buf) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW r[4];
    for (int k = 0; k < 4; ++k) r[k] = buf + stride * std::min<size_t>(cinfo.output_scanline + k, cinfo.output_height - 1);
    jpeg_read_scanlines(&cinfo, r, std::min<JDIMENSION>(4, cinfo.output_height - cinfo.output_scanline));
  }
  jpeg_finish_decompress(&cinfo);
  bool clean = err.warnings == 0;
  *rows = int(cinfo.output_height);
  *cols = int(cinfo.output_width);
  jpeg_destroy_decompress(&cinfo);
  if (!clean) {  // damaged but decodable: OpenCV's result, warnings and all
    std::free(buf);
    return false;
  }
  *out = buf;
  return true;
}

}  // namespace mx::vision::jpeg
#endif
