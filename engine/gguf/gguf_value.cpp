// Metadata value views (Value, ArrayView), their text forms, and the error type's text.
// Everything here reads bytes that the reader has already validated (or the writer produced),
// so the decoding below trusts lengths and type tags.
#include <cassert>
#include <cstdio>
#include <limits>

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_format.h"

namespace scout::gguf {

using detail::load;

std::string_view error_kind_name(GgufErrorKind kind) {
  switch (kind) {
    case GgufErrorKind::io: return "io";
    case GgufErrorKind::bad_magic: return "bad magic";
    case GgufErrorKind::unsupported_version: return "unsupported version";
    case GgufErrorKind::truncated: return "truncated";
    case GgufErrorKind::bad_count: return "bad count";
    case GgufErrorKind::bad_length: return "bad length";
    case GgufErrorKind::bad_value_type: return "bad value type";
    case GgufErrorKind::bad_value: return "bad value";
    case GgufErrorKind::nesting_too_deep: return "nesting too deep";
    case GgufErrorKind::bad_key: return "bad key";
    case GgufErrorKind::duplicate_key: return "duplicate key";
    case GgufErrorKind::bad_alignment: return "bad alignment";
    case GgufErrorKind::bad_tensor_name: return "bad tensor name";
    case GgufErrorKind::duplicate_tensor: return "duplicate tensor";
    case GgufErrorKind::bad_shape: return "bad shape";
    case GgufErrorKind::bad_tensor_type: return "bad tensor type";
    case GgufErrorKind::misaligned_tensor: return "misaligned tensor";
    case GgufErrorKind::tensor_out_of_bounds: return "tensor out of bounds";
    case GgufErrorKind::tensor_overlap: return "tensor overlap";
    case GgufErrorKind::key_missing: return "key missing";
    case GgufErrorKind::wrong_type: return "wrong type";
    case GgufErrorKind::fill_failed: return "fill failed";
  }
  return "unknown";
}

std::string GgufError::describe() const {
  std::string s;
  if (!path.empty()) s += path + ": ";
  if (offset != kNoOffset) s += "byte " + std::to_string(offset) + ": ";
  return s + message;
}

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::uint8: return "uint8";
    case ValueType::int8: return "int8";
    case ValueType::uint16: return "uint16";
    case ValueType::int16: return "int16";
    case ValueType::uint32: return "uint32";
    case ValueType::int32: return "int32";
    case ValueType::float32: return "float32";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::uint64: return "uint64";
    case ValueType::int64: return "int64";
    case ValueType::float64: return "float64";
  }
  return "unknown";
}

namespace detail {

uint64_t encoded_size(ValueType type, const std::byte* p) {
  if (auto n = fixed_value_size(type)) return *n;
  if (type == ValueType::string) return 8 + load<uint64_t>(p);
  const auto element_type = static_cast<ValueType>(load<uint32_t>(p));
  const uint64_t count = load<uint64_t>(p + 4);
  if (auto n = fixed_value_size(element_type)) return 12 + count * *n;
  uint64_t pos = 12;
  for (uint64_t i = 0; i < count; ++i) pos += encoded_size(element_type, p + pos);
  return pos;
}

ShapeCheck check_shape(std::span<const uint64_t> shape, const GgmlTypeTraits& traits) {
  ShapeCheck r;
  if (shape.empty() || shape.size() > kMaxDims) {
    r.problem = "has " + std::to_string(shape.size()) + " dimensions; GGUF tensors have 1 to " +
                std::to_string(kMaxDims);
    return r;
  }
  uint64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) {
      r.problem = "has shape " + shape_string(shape) + " with dimension " + std::to_string(i) +
                  " equal to 0";
      return r;
    }
    if (__builtin_mul_overflow(n, shape[i], &n) ||
        n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      r.problem = "has shape " + shape_string(shape) + ", whose element count overflows 2^63";
      return r;
    }
  }
  if (shape[0] % traits.block_size != 0) {
    r.problem = "of type " + std::string(traits.name) + " has " + std::to_string(shape[0]) +
                " elements per row (ne[0]), not a multiple of its block size " +
                std::to_string(traits.block_size);
    return r;
  }
  uint64_t n_bytes = 0;
  if (__builtin_mul_overflow(n / traits.block_size, uint64_t{traits.type_size}, &n_bytes)) {
    r.problem = "has shape " + shape_string(shape) + ", whose size in bytes overflows 2^64";
    return r;
  }
  r.n_elements = n;
  r.n_bytes = n_bytes;
  return r;
}

std::string quoted(std::string_view text, size_t max_len) {
  std::string s = "'";
  const size_t n = std::min(text.size(), max_len);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\' || c == '\'') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    } else {
      s += static_cast<char>(c);  // printable ASCII and UTF-8 bytes pass through
    }
  }
  if (n < text.size()) s += "...";
  return s + "'";
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Value

bool Value::is_integer() const { return detail::is_integer_type(type_); }

std::optional<uint64_t> Value::as_uint() const {
  const std::byte* p = bytes_.data();
  switch (type_) {
    case ValueType::uint8: return load<uint8_t>(p);
    case ValueType::uint16: return load<uint16_t>(p);
    case ValueType::uint32: return load<uint32_t>(p);
    case ValueType::uint64: return load<uint64_t>(p);
    case ValueType::int8: case ValueType::int16: case ValueType::int32: case ValueType::int64: {
      const int64_t v = *as_int();
      if (v < 0) return std::nullopt;
      return static_cast<uint64_t>(v);
    }
    default: return std::nullopt;
  }
}

std::optional<int64_t> Value::as_int() const {
  const std::byte* p = bytes_.data();
  switch (type_) {
    case ValueType::int8: return load<int8_t>(p);
    case ValueType::int16: return load<int16_t>(p);
    case ValueType::int32: return load<int32_t>(p);
    case ValueType::int64: return load<int64_t>(p);
    case ValueType::uint8: case ValueType::uint16: case ValueType::uint32: case ValueType::uint64: {
      const uint64_t v = *as_uint();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    default: return std::nullopt;
  }
}

std::optional<double> Value::as_float() const {
  if (type_ == ValueType::float32) return load<float>(bytes_.data());
  if (type_ == ValueType::float64) return load<double>(bytes_.data());
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (type_ != ValueType::boolean) return std::nullopt;
  return load<uint8_t>(bytes_.data()) != 0;
}

std::optional<std::string_view> Value::as_string() const {
  if (type_ != ValueType::string) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(bytes_.data() + 8), bytes_.size() - 8);
}

std::optional<ArrayView> Value::as_array() const {
  if (type_ != ValueType::array) return std::nullopt;
  return ArrayView(bytes_, offset_);
}

// ---------------------------------------------------------------------------------------------
// ArrayView

ArrayView::ArrayView(std::span<const std::byte> encoded, uint64_t offset)
    : element_type_(static_cast<ValueType>(load<uint32_t>(encoded.data()))),
      size_(load<uint64_t>(encoded.data() + 4)),
      elements_(encoded.subspan(12)),
      elements_offset_(offset + 12) {}

ArrayView::Iterator ArrayView::begin() const {
  Iterator it;
  it.element_type_ = element_type_;
  it.elements_ = elements_.data();
  it.elements_offset_ = elements_offset_;
  return it;
}

ArrayView::Iterator ArrayView::end() const {
  Iterator it = begin();
  it.index_ = size_;
  it.pos_ = elements_.size();
  return it;
}

Value ArrayView::Iterator::operator*() const {
  const std::byte* p = elements_ + pos_;
  const uint64_t n = detail::encoded_size(element_type_, p);
  return Value(element_type_, {p, n}, elements_offset_ + pos_);
}

ArrayView::Iterator& ArrayView::Iterator::operator++() {
  pos_ += detail::encoded_size(element_type_, elements_ + pos_);
  ++index_;
  return *this;
}

Value ArrayView::at(uint64_t i) const {
  assert(i < size_);
  if (auto n = detail::fixed_value_size(element_type_)) {
    return Value(element_type_, elements_.subspan(i * *n, *n), elements_offset_ + i * *n);
  }
  auto it = begin();
  for (uint64_t k = 0; k < i; ++k) ++it;
  return *it;
}

// ---------------------------------------------------------------------------------------------
// Text forms

namespace {

void append_escaped(std::string& out, std::string_view s, size_t max_string) {
  out += '"';
  const size_t n = std::min(s.size(), max_string);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
}

void append_value(std::string& out, const Value& v, size_t max_elements, size_t max_string) {
  char buf[64];
  switch (v.type()) {
    case ValueType::float32:
      std::snprintf(buf, sizeof buf, "%.9g", *v.as_float());
      out += buf;
      return;
    case ValueType::float64:
      std::snprintf(buf, sizeof buf, "%.17g", *v.as_float());
      out += buf;
      return;
    case ValueType::boolean:
      out += *v.as_bool() ? "true" : "false";
      return;
    case ValueType::string:
      append_escaped(out, *v.as_string(), max_string);
      return;
    case ValueType::array: {
      const ArrayView a = *v.as_array();
      out += '[';
      uint64_t shown = 0;
      for (auto it = a.begin(); it != a.end() && shown < max_elements; ++it, ++shown) {
        if (shown) out += ", ";
        append_value(out, *it, max_elements, max_string);
      }
      if (shown < a.size()) out += (shown ? ", ... (" : "... (") + std::to_string(a.size() - shown) + " more)";
      out += ']';
      return;
    }
    case ValueType::uint64:
      out += std::to_string(*v.as_uint());
      return;
    default:  // the other integers all fit in int64
      out += std::to_string(*v.as_int());
      return;
  }
}

}  // namespace

std::string format_value(const Value& value, size_t max_elements, size_t max_string) {
  std::string out;
  append_value(out, value, max_elements, max_string);
  return out;
}

std::string describe_type(const Value& value) {
  if (value.type() != ValueType::array) return std::string(value_type_name(value.type()));
  const ArrayView a = *value.as_array();
  return "array[" + std::string(value_type_name(a.element_type())) + ", " + std::to_string(a.size()) + "]";
}

uint64_t TensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;  // validated not to overflow when the file was read
  return n;
}

}  // namespace scout::gguf
