// matx-serve's native front (serve_front.h): the KServe v2 inference request
// and response in C++, for the requests whose every part it understands.
//
// It covers the common case only: BYTES inputs the pipeline takes as a list of
// str or bytes, in JSON or as binary tensors; outputs of BYTES, INT64, INT32,
// FP64, FP32 or BOOL from lists (nested, rectangular), scalars or arrays; the
// request's id, `binary_data_output`, `timeout` and per-output `binary_data`.
// Whatever else a request holds, or anything it gets wrong, makes parse()
// return false: the front then hands the request to the Python server
// (matx_nb/serve/protocol.py), which answers it as it always has, error
// messages included. So the answers the front gives are the ones the Python
// server gives for the same request; tests/test_serve_front.py compares them.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "matx_nb/json.h"
#include "matx_nb/ndarray.h"
#include "matx_nb/session.h"

namespace serve_v2 {

using mx::Any;
using mx::TypeTag;

struct InputSpec {
  std::string name;
  bool as_bytes = false;  // the pipeline takes List[bytes] (else List[str])
};

struct OutputSpec {
  std::string name;
  std::string datatype;  // BYTES, INT64, INT32, FP64, FP32 or BOOL
  int key_kind = 0;      // 0: the whole result, 1: a dict key, 2: a tuple or list index
  std::string key_str;
  int64_t key_int = 0;
};

struct Parsed {
  matx_nb::Feeds feeds;
  int64_t rows = 0;
  bool has_id = false;
  std::string id;
  double timeout = 0;                          // seconds; 0: none asked
  std::vector<std::pair<size_t, bool>> wanted;  // (output index, binary), in answer order
};

// One output of one request: `value`, or rows [lo, hi) of it (a batch's share).
struct OutValue {
  Any value;
  int64_t lo = -1, hi = -1;
};

namespace detail {

inline Any* field(const mx::Dict<Any, Any>& d, const char* key) {
  return d.lookup(Any(mx::Str::latin1(key, std::strlen(key))));
}

inline bool is_none(const Any* a) { return a == nullptr || a->tag() == TypeTag::None; }

inline bool utf8(const Any& s, std::string* out) {
  if (s.tag() != TypeTag::Str) return false;
  *out = mx::utf8_encode(s.str());
  return true;
}

// KServe allows the data nested as the shape or flat; Python's _flatten.
inline void flatten(const Any& data, std::vector<Any>* out) {
  if (data.tag() != TypeTag::List) {
    out->push_back(data);
    return;
  }
  mx::List<Any> l = data.list();
  if (l.size() && l[0].tag() == TypeTag::List) {
    for (int64_t i = 0; i < l.size(); ++i) flatten(l[i], out);
    return;
  }
  for (int64_t i = 0; i < l.size(); ++i) out->push_back(l[i]);
}

// What orjson, the Python server's parser, accepts of a parsed document: no
// NaN or Infinity, no lone surrogates (\ud800, or their bytes), not nested
// deeper than it goes. mx::json::loads follows CPython's json module, which
// accepts them; the Python server answers such a request 400.
inline bool orjson_accepts(const Any& v, int depth = 0) {
  if (depth > 1000) return false;
  switch (v.tag()) {
    case TypeTag::Float:
      return std::isfinite(v.f());
    case TypeTag::Str: {
      mx::Str s = v.str();
      if (s.narrow()) return true;
      for (size_t i = 0; i < s.size(); ++i)
        if (s[i] >= 0xD800 && s[i] <= 0xDFFF) return false;
      return true;
    }
    case TypeTag::List: {
      mx::List<Any> l = v.list();
      for (int64_t i = 0; i < l.size(); ++i)
        if (!orjson_accepts(l[i], depth + 1)) return false;
      return true;
    }
    case TypeTag::Dict:
      for (auto& e : v.dict().table().entries())
        if (e.live && (!orjson_accepts(e.key, depth + 1) || !orjson_accepts(e.value, depth + 1))) return false;
      return true;
    default:
      return true;
  }
}

inline bool strict_utf8(const char* p, size_t n, mx::Str* out) {
  std::u32string tmp;
  if (!mx::utf8_decode(p, n, tmp, nullptr)) return false;
  *out = mx::Str(tmp.data(), tmp.size());
  return true;
}

// One BYTES input as the pipeline's list; false where Python would answer 400.
inline bool bytes_input(const mx::Dict<Any, Any>& t, const InputSpec& spec, const char* raw, size_t raw_n,
                        bool binary, Any* value, int64_t* rows) {
  Any* dt = field(t, "datatype");
  std::string datatype;
  if (!dt || !utf8(*dt, &datatype) || datatype != "BYTES") return false;
  Any* shape = field(t, "shape");
  if (!shape || shape->tag() != TypeTag::List) return false;
  mx::List<Any> dims = shape->list();
  int64_t count = 1;
  for (int64_t i = 0; i < dims.size(); ++i) {
    if (dims[i].tag() != TypeTag::Int || dims[i].i() < 0 || dims[i].i() > (int64_t(1) << 40)) return false;
    count *= dims[i].i();
    if (count > (int64_t(1) << 40)) return false;
  }
  mx::List<Any> items;
  if (binary) {
    size_t i = 0;
    while (i < raw_n) {
      if (i + 4 > raw_n) return false;
      uint32_t size;
      std::memcpy(&size, raw + i, 4);  // little-endian, as x86 and ARM store it
      i += 4;
      if (size > raw_n - i) return false;
      if (spec.as_bytes) {
        items.push_back(Any(mx::Bytes(raw + i, size)));
      } else {
        mx::Str s;
        if (!strict_utf8(raw + i, size, &s)) return false;
        items.push_back(Any(s));
      }
      i += size;
    }
  } else {
    Any* data = field(t, "data");
    if (!data) return false;
    std::vector<Any> flat;
    flatten(*data, &flat);
    items.reserve(int64_t(flat.size()));
    for (auto& x : flat) {
      if (x.tag() != TypeTag::Str) return false;
      if (!spec.as_bytes) {
        items.push_back(x);
        continue;
      }
      std::string b = mx::utf8_encode(x.str());
      mx::Str check;
      if (!strict_utf8(b.data(), b.size(), &check)) return false;  // a lone surrogate: Python's encode fails
      items.push_back(Any(mx::bytes_from(b)));
    }
  }
  if (items.size() != count) return false;
  *rows = items.size();
  *value = Any(items);
  return true;
}

}  // namespace detail

// A request body (after its head), or false: decline. header_length: the
// Inference-Header-Content-Length header's value, -1 when absent.
inline bool parse(const std::vector<InputSpec>& inputs, const std::vector<OutputSpec>& outputs, bool batchable,
                  const char* body, size_t n, int64_t header_length, Parsed* out) {
  using detail::field;
  size_t head_n = n;
  if (header_length >= 0) {
    if (header_length == 0 || size_t(header_length) > n) return false;
    head_n = size_t(header_length);
  }
  const char* rest = body + head_n;
  size_t rest_n = n - head_n;
  Any doc;
  try {
    doc = mx::json::loads(std::string(body, head_n));
  } catch (...) {
    return false;
  }
  if (doc.tag() != TypeTag::Dict || !detail::orjson_accepts(doc)) return false;
  mx::Dict<Any, Any> d = doc.dict();
  if (Any* id = field(d, "id"); !detail::is_none(id)) {
    if (!detail::utf8(*id, &out->id)) return false;
    out->has_id = true;
  }
  bool binary_output = false;
  if (Any* p = field(d, "parameters"); !detail::is_none(p)) {
    if (p->tag() != TypeTag::Dict) return false;
    mx::Dict<Any, Any> params = p->dict();
    if (Any* b = field(params, "binary_data_output"); !detail::is_none(b)) {
      if (b->tag() != TypeTag::Bool) return false;
      binary_output = b->b();
    }
    if (Any* t = field(params, "timeout"); !detail::is_none(t)) {
      double us;
      if (t->tag() == TypeTag::Int) us = double(t->i());
      else if (t->tag() == TypeTag::Float) us = t->f();
      else return false;
      if (!(us >= 0) || !std::isfinite(us)) return false;
      out->timeout = us / 1e6;
    }
  }
  Any* ins = field(d, "inputs");
  if (!ins || ins->tag() != TypeTag::List) return false;
  mx::List<Any> list = ins->list();
  if (list.size() != int64_t(inputs.size())) return false;  // missing or unknown inputs: Python says which
  size_t offset = 0;
  bool first = true;
  for (int64_t k = 0; k < list.size(); ++k) {
    if (list[k].tag() != TypeTag::Dict) return false;
    mx::Dict<Any, Any> t = list[k].dict();
    std::string name;
    Any* nm = field(t, "name");
    if (!nm || !detail::utf8(*nm, &name)) return false;
    const InputSpec* spec = nullptr;
    for (auto& s : inputs) if (s.name == name) spec = &s;
    if (spec == nullptr || out->feeds.count(name)) return false;
    bool binary = false;
    size_t size = 0;
    if (Any* p = field(t, "parameters"); !detail::is_none(p)) {
      if (p->tag() != TypeTag::Dict) return false;
      if (Any* s = field(p->dict(), "binary_data_size"); !detail::is_none(s)) {
        if (s->tag() != TypeTag::Int || s->i() < 0 || size_t(s->i()) > rest_n - offset) return false;
        binary = true;
        size = size_t(s->i());
      }
    }
    Any value;
    int64_t rows = 0;
    if (!detail::bytes_input(t, *spec, rest + offset, size, binary, &value, &rows)) return false;
    offset += size;
    if (first) out->rows = rows;
    else if (rows != out->rows && batchable) return false;
    first = false;
    out->feeds[name] = value;
  }
  if (offset != rest_n) return false;
  Any* outs = field(d, "outputs");
  if (detail::is_none(outs)) {
    for (size_t i = 0; i < outputs.size(); ++i) out->wanted.emplace_back(i, binary_output);
    return true;
  }
  if (outs->tag() != TypeTag::List) return false;
  mx::List<Any> wanted = outs->list();
  for (int64_t k = 0; k < wanted.size(); ++k) {
    if (wanted[k].tag() != TypeTag::Dict) return false;
    mx::Dict<Any, Any> o = wanted[k].dict();
    std::string name;
    Any* nm = field(o, "name");
    if (!nm || !detail::utf8(*nm, &name)) return false;
    size_t index = outputs.size();
    for (size_t i = 0; i < outputs.size(); ++i) if (outputs[i].name == name) index = i;
    if (index == outputs.size()) return false;
    bool binary = binary_output;
    if (Any* p = field(o, "parameters"); !detail::is_none(p)) {
      if (p->tag() != TypeTag::Dict) return false;
      if (Any* b = field(p->dict(), "binary_data"); b != nullptr) {  // null: JSON, as bool(None) says
        if (b->tag() != TypeTag::Bool && b->tag() != TypeTag::None) return false;
        binary = b->tag() == TypeTag::Bool && b->b();
      }
    }
    out->wanted.emplace_back(index, binary);
  }
  return true;
}

// The output `spec` picks from a run's result; false where it is not there.
inline bool pick(const Any& result, const OutputSpec& spec, Any* out) {
  if (spec.key_kind == 0) {
    *out = result;
    return true;
  }
  if (spec.key_kind == 2) {
    if (result.tag() != TypeTag::Tuple && result.tag() != TypeTag::List) return false;
    mx::List<Any> l = result.list();
    if (spec.key_int < 0 || spec.key_int >= l.size()) return false;
    *out = l[spec.key_int];
    return true;
  }
  if (result.tag() != TypeTag::Dict) return false;
  Any* v = result.dict().lookup(Any(mx::str_from_utf8(spec.key_str)));
  if (!v) return false;
  *out = *v;
  return true;
}

inline int64_t rows_of(const Any& v) {
  if (v.tag() == TypeTag::List || v.tag() == TypeTag::Tuple) return v.list().size();
  if (v.tag() == TypeTag::Instance && mx::is_ndarray_object(v.obj())) {
    auto* a = static_cast<mx::NDArrayObj*>(v.obj());
    return a->shape.empty() ? -1 : a->shape[0];
  }
  return -1;
}

namespace detail {

inline void put_string(std::string& o, const char* p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  o.push_back('"');
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      case '\b': o += "\\b"; break;
      case '\f': o += "\\f"; break;
      default:
        if (c < 0x20) {
          o += "\\u00";
          o.push_back(hex[c >> 4]);
          o.push_back(hex[c & 15]);
        } else {
          o.push_back(char(c));
        }
    }
  }
  o.push_back('"');
}
inline void put_string(std::string& o, const std::string& s) { put_string(o, s.data(), s.size()); }

// The elements of a numeric output, flat, with its shape; false: decline.
struct Numbers {
  std::vector<int64_t> shape;
  std::vector<Any> leaves;  // Int, Float or Bool
  const mx::NDArrayObj* array = nullptr;
  int64_t row0 = 0, row_n = 0;  // the array's rows [row0, row0 + row_n)
};

inline bool list_shape(const Any& v, size_t depth, std::vector<int64_t>* shape, std::vector<Any>* leaves) {
  if (v.tag() == TypeTag::List || v.tag() == TypeTag::Tuple) {
    mx::List<Any> l = v.list();
    if (depth == shape->size()) {
      if (!leaves->empty() || depth > 32) return false;  // a leaf came first at this depth: ragged
      shape->push_back(l.size());
    } else if ((*shape)[depth] != l.size()) {
      return false;  // ragged
    }
    for (int64_t i = 0; i < l.size(); ++i)
      if (!list_shape(l[i], depth + 1, shape, leaves)) return false;
    return true;
  }
  if (v.tag() != TypeTag::Int && v.tag() != TypeTag::Float && v.tag() != TypeTag::Bool) return false;
  if (depth != shape->size()) return false;  // a leaf beside a list: ragged
  leaves->push_back(v);
  return true;
}

inline bool dtype_is(const DLDataType& t, const std::string& datatype) {
  if (t.lanes != 1) return false;
  if (datatype == "INT64") return t.code == kDLInt && t.bits == 64;
  if (datatype == "INT32") return t.code == kDLInt && t.bits == 32;
  if (datatype == "FP64") return t.code == kDLFloat && t.bits == 64;
  if (datatype == "FP32") return t.code == kDLFloat && t.bits == 32;
  if (datatype == "BOOL") return t.code == kDLBool && t.bits == 8;
  return false;
}

inline bool numbers(const OutValue& ov, const std::string& datatype, Numbers* out) {
  const Any& v = ov.value;
  if (v.tag() == TypeTag::Instance && mx::is_ndarray_object(v.obj())) {
    auto* a = static_cast<const mx::NDArrayObj*>(v.obj());
    if (a->device.device_type != kDLCPU || !a->contiguous() || !dtype_is(a->dtype, datatype)) return false;
    out->array = a;
    out->shape = a->shape;  // a 0-d array keeps shape [] (numpy's, which the Python server writes)
    out->row0 = 0;
    out->row_n = out->shape.empty() ? 1 : out->shape[0];
    if (ov.lo >= 0) {
      if (a->shape.empty()) return false;
      out->row0 = std::min(ov.lo, a->shape[0]);
      out->row_n = std::min(ov.hi, a->shape[0]) - out->row0;
      out->shape[0] = out->row_n;
    }
    return true;
  }
  if (v.tag() == TypeTag::List || v.tag() == TypeTag::Tuple) {
    if (ov.lo >= 0) {  // a batch's share: its rows, as a list
      mx::List<Any> l = v.list();
      mx::List<Any> part;
      for (int64_t i = ov.lo; i < ov.hi && i < l.size(); ++i) part.push_back(l[i]);
      if (part.size() == 0) {  // no rows: the batch's other dimensions, as numpy's slice keeps them
        std::vector<Any> all;
        if (list_shape(v, 0, &out->shape, &all)) out->shape[0] = 0;
        else out->shape = {0};
        return true;
      }
      return list_shape(Any(part), 0, &out->shape, &out->leaves);
    }
    return list_shape(v, 0, &out->shape, &out->leaves);
  }
  if (ov.lo >= 0) return false;
  if (!list_shape(v, 0, &out->shape, &out->leaves)) return false;
  out->shape.push_back(1);  // one value: shape [1]
  return true;
}

template <class T>
inline T leaf_as(const Any& x);
template <>
inline int64_t leaf_as<int64_t>(const Any& x) {
  return x.tag() == TypeTag::Bool ? int64_t(x.b()) : x.i();
}
template <>
inline double leaf_as<double>(const Any& x) {
  return x.tag() == TypeTag::Float ? x.f() : x.tag() == TypeTag::Bool ? double(x.b()) : double(x.i());
}

// Checks the leaves against the datatype as numpy.asarray(value, dtype) would
// accept them without loss; false: decline.
inline bool leaves_fit(const std::vector<Any>& leaves, const std::string& datatype) {
  for (auto& x : leaves) {
    if (datatype == "BOOL") {
      if (x.tag() != TypeTag::Bool) return false;
    } else if (datatype == "INT64" || datatype == "INT32") {
      if (x.tag() == TypeTag::Float) return false;
      if (datatype == "INT32" && x.tag() == TypeTag::Int && (x.i() < INT32_MIN || x.i() > INT32_MAX)) return false;
    } else if (!std::isfinite(leaf_as<double>(x))) {
      return false;  // orjson writes NaN as null: Python's answer
    }
  }
  return true;
}

inline void put_float32(std::string& o, float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  o += s;
}

// The rows of a numeric output as JSON numbers, or as their bytes (binary).
template <class T>
inline void put_numbers(std::string& o, const T* p, size_t count, const std::string& datatype, bool binary) {
  if (binary) {
    o.append(reinterpret_cast<const char*>(p), count * sizeof(T));
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    if (i) o.push_back(',');
    if constexpr (std::is_same<T, bool>::value || std::is_same<T, uint8_t>::value) o += p[i] ? "true" : "false";
    else if constexpr (std::is_same<T, float>::value) put_float32(o, p[i]);
    else if constexpr (std::is_same<T, double>::value) o += mx::numconv::float_repr(p[i]);
    else mx::json::detail::put_int(o, int64_t(p[i]));
  }
}

template <class T>
inline bool array_finite(const T* p, size_t count) {
  if constexpr (std::is_floating_point<T>::value) {
    for (size_t i = 0; i < count; ++i)
      if (!std::isfinite(p[i])) return false;
  }
  return true;
}

// A numeric output's data (JSON numbers or bytes); false: decline.
inline bool put_numeric(std::string& o, const Numbers& n, const std::string& datatype, bool binary) {
  if (n.array != nullptr) {
    int64_t per_row = 1;
    for (size_t i = 1; i < n.array->shape.size(); ++i) per_row *= n.array->shape[i];
    size_t count = size_t(n.row_n * per_row);
    size_t first = size_t(n.row0 * per_row);
    const char* base = static_cast<const char*>(n.array->data) + first * size_t(n.array->itemsize());
    if (datatype == "INT64") put_numbers(o, reinterpret_cast<const int64_t*>(base), count, datatype, binary);
    else if (datatype == "INT32") put_numbers(o, reinterpret_cast<const int32_t*>(base), count, datatype, binary);
    else if (datatype == "BOOL") put_numbers(o, reinterpret_cast<const uint8_t*>(base), count, datatype, binary);
    else if (datatype == "FP64") {
      if (!array_finite(reinterpret_cast<const double*>(base), count)) return false;
      put_numbers(o, reinterpret_cast<const double*>(base), count, datatype, binary);
    } else {
      if (!array_finite(reinterpret_cast<const float*>(base), count)) return false;
      put_numbers(o, reinterpret_cast<const float*>(base), count, datatype, binary);
    }
    return true;
  }
  if (!leaves_fit(n.leaves, datatype)) return false;
  size_t count = n.leaves.size();
  if (datatype == "INT64" || datatype == "INT32") {
    std::vector<int64_t> v(count);
    for (size_t i = 0; i < count; ++i) v[i] = leaf_as<int64_t>(n.leaves[i]);
    if (datatype == "INT64") {
      put_numbers(o, v.data(), count, datatype, binary);
    } else {
      std::vector<int32_t> w(v.begin(), v.end());
      put_numbers(o, w.data(), count, datatype, binary);
    }
  } else if (datatype == "BOOL") {
    std::vector<uint8_t> v(count);
    for (size_t i = 0; i < count; ++i) v[i] = n.leaves[i].b() ? 1 : 0;
    put_numbers(o, v.data(), count, datatype, binary);
  } else if (datatype == "FP64") {
    std::vector<double> v(count);
    for (size_t i = 0; i < count; ++i) v[i] = leaf_as<double>(n.leaves[i]);
    put_numbers(o, v.data(), count, datatype, binary);
  } else {
    std::vector<float> v(count);
    for (size_t i = 0; i < count; ++i) v[i] = float(leaf_as<double>(n.leaves[i]));
    if (!array_finite(v.data(), count)) return false;  // a double past float's range
    put_numbers(o, v.data(), count, datatype, binary);
  }
  return true;
}

// A BYTES output's elements (str as UTF-8); false: decline.
inline bool bytes_elements(const OutValue& ov, std::vector<std::string>* out) {
  const Any& v = ov.value;
  auto one = [&](const Any& x) {
    if (x.tag() == TypeTag::Str) out->push_back(mx::utf8_encode(x.str()));
    else if (x.tag() == TypeTag::Bytes) out->emplace_back(x.bytes().data(), size_t(x.bytes().size()));
    else return false;
    return true;
  };
  if (v.tag() == TypeTag::List || v.tag() == TypeTag::Tuple) {
    mx::List<Any> l = v.list();
    int64_t lo = ov.lo >= 0 ? std::min(ov.lo, l.size()) : 0, hi = ov.lo >= 0 ? std::min(ov.hi, l.size()) : l.size();
    for (int64_t i = lo; i < hi; ++i)
      if (!one(l[i])) return false;
    return true;
  }
  return ov.lo < 0 && one(v);
}

}  // namespace detail

// The response body to one request, and the length of its JSON header where
// outputs are binary (-1: JSON only); false: decline.
inline bool encode(const std::string& model, const std::vector<OutputSpec>& outputs, const Parsed& req,
                   const std::vector<OutValue>& values, std::string* body, int64_t* head_len) {
  using detail::put_string;
  std::string head = "{\"model_name\":";
  put_string(head, model);
  head += ",\"model_version\":\"1\",\"outputs\":[";
  // The Python server converts every output before it picks the ones asked
  // for: one that has no tensor form fails the request even when not asked for.
  for (size_t i = 0; i < outputs.size(); ++i) {
    bool asked = false;
    for (auto& w : req.wanted) asked = asked || w.first == i;
    if (asked) continue;
    if (outputs[i].datatype == "BYTES") {
      std::vector<std::string> els;
      if (!detail::bytes_elements(values[i], &els)) return false;
    } else {
      detail::Numbers n;
      if (!detail::numbers(values[i], outputs[i].datatype, &n)) return false;
      if (!n.array && !detail::leaves_fit(n.leaves, outputs[i].datatype)) return false;
    }
  }
  std::string blobs;
  bool any_binary = false;
  for (size_t k = 0; k < req.wanted.size(); ++k) {
    const OutputSpec& spec = outputs[req.wanted[k].first];
    const OutValue& ov = values[req.wanted[k].first];
    bool binary = req.wanted[k].second;
    if (k) head.push_back(',');
    head += "{\"name\":";
    put_string(head, spec.name);
    head += ",\"datatype\":";
    put_string(head, spec.datatype);
    head += ",\"shape\":[";
    std::string data;
    if (spec.datatype == "BYTES") {
      std::vector<std::string> els;
      if (!detail::bytes_elements(ov, &els)) return false;
      mx::json::detail::put_int(head, int64_t(els.size()));
      for (size_t i = 0; i < els.size(); ++i) {
        if (binary) {
          uint32_t size = uint32_t(els[i].size());
          data.append(reinterpret_cast<const char*>(&size), 4);
          data += els[i];
        } else {
          if (i) data.push_back(',');
          mx::Str check;
          if (!detail::strict_utf8(els[i].data(), els[i].size(), &check)) return false;
          put_string(data, els[i]);
        }
      }
    } else {
      detail::Numbers n;
      if (!detail::numbers(ov, spec.datatype, &n)) return false;
      for (size_t i = 0; i < n.shape.size(); ++i) {
        if (i) head.push_back(',');
        mx::json::detail::put_int(head, n.shape[i]);
      }
      if (!detail::put_numeric(data, n, spec.datatype, binary)) return false;
    }
    head += "]";
    if (binary) {
      any_binary = true;
      head += ",\"parameters\":{\"binary_data_size\":";
      mx::json::detail::put_int(head, int64_t(data.size()));
      head += "}}";
      blobs += data;
    } else {
      head += ",\"data\":[";
      head += data;
      head += "]}";
    }
  }
  head += "]";
  if (req.has_id) {
    head += ",\"id\":";
    put_string(head, req.id);
  }
  head += "}";
  *head_len = any_binary ? int64_t(head.size()) : -1;
  *body = std::move(head);
  if (any_binary) *body += blobs;
  return true;
}

}  // namespace serve_v2
