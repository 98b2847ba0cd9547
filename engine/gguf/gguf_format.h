// Internal to engine/gguf: the byte-level facts of the GGUF format that the reader and the writer
// share (magic, sizes of encoded values, shape rules, little-endian load/store), so the two can
// never disagree about what a valid file is.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf/gguf.h"
#include "kernels/ggml_types.h"

namespace scout::gguf::detail {

static_assert(std::endian::native == std::endian::little,
              "GGUF is read and written by reinterpreting little-endian bytes in place");

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kWrittenVersion = 3;
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
// GGML_MAX_NAME: ggml stores names in char[64], NUL included. The writer keeps to it so that
// llama.cpp can load what Scout writes; the reader accepts longer names.
inline constexpr size_t kMaxTensorNameBytes = 64;
inline constexpr std::string_view kAlignmentKey = "general.alignment";
// Appended to every message about a damaged file: what the reader of the message should do.
inline constexpr std::string_view kCorruptAdvice =
    "; the file is truncated or corrupt \xE2\x80\x94 re-download or re-convert it";

inline bool value_type_known(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::float64); }

inline bool is_integer_type(ValueType type) {
  switch (type) {
    case ValueType::uint8: case ValueType::int8: case ValueType::uint16: case ValueType::int16:
    case ValueType::uint32: case ValueType::int32: case ValueType::uint64: case ValueType::int64:
      return true;
    default:
      return false;
  }
}

// Encoded size of a scalar of this type; nullopt for STRING and ARRAY, whose size depends on
// their content.
inline std::optional<uint64_t> fixed_value_size(ValueType type) {
  switch (type) {
    case ValueType::uint8: case ValueType::int8: case ValueType::boolean: return 1;
    case ValueType::uint16: case ValueType::int16: return 2;
    case ValueType::uint32: case ValueType::int32: case ValueType::float32: return 4;
    case ValueType::uint64: case ValueType::int64: case ValueType::float64: return 8;
    case ValueType::string: case ValueType::array: return std::nullopt;
  }
  return std::nullopt;
}

// The fewest bytes any value of this type takes: used to bound element counts by the bytes left.
inline uint64_t min_value_size(ValueType type) {
  if (auto n = fixed_value_size(type)) return *n;
  return type == ValueType::string ? 8 : 12;  // string: u64 length; array: u32 type + u64 count
}

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void store(std::vector<std::byte>& out, T v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

inline void store_string(std::vector<std::byte>& out, std::string_view s) {
  store<uint64_t>(out, s.size());
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), p, p + s.size());
}

// Encoded size of a value whose bytes were already validated by the reader (or produced by the
// writer). Arrays of fixed-size elements cost O(1); strings and nested arrays are walked.
uint64_t encoded_size(ValueType type, const std::byte* p);

// Size facts of a tensor shape, or the reason the shape is not valid for the type.
struct ShapeCheck {
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  std::string problem;  // empty when the shape is valid
};
// Rules (shared by reader and writer): 1 to 4 dimensions, each >= 1, the element count and byte
// size representable (element count below 2^63, as ggml's int64 counts need), ne[0] a multiple
// of the type's block size.
ShapeCheck check_shape(std::span<const uint64_t> shape, const GgmlTypeTraits& traits);

// `text` in single quotes, non-printable bytes escaped and cut at `max_len` bytes: safe to put a
// key or tensor name read from an untrusted file into a message.
std::string quoted(std::string_view text, size_t max_len = 120);

inline std::string shape_string(std::span<const uint64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

inline uint64_t align_up(uint64_t x, uint64_t alignment) {
  return (x + alignment - 1) / alignment * alignment;
}

inline bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

}  // namespace scout::gguf::detail
