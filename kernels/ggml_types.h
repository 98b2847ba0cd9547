// The tensor element types of the GGUF format (numbered as ggml numbers them) and their block
// geometry. Every type a GGUF file may legally carry is listed so that the reader can validate
// sizes of any file; `type_is_supported` says which ones Scout can dequantize and compute with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace scout {

enum class GgmlType : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22,
  iq4_xs = 23, i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
  tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41, q2_0 = 42,
};

struct GgmlTypeTraits {
  std::string_view name;   // lower case, as llama.cpp prints it: "q4_K", "f32", ...
  uint32_t block_size;     // elements per block (1 for plain types)
  uint32_t type_size;      // bytes per block
  bool supported;          // Scout dequantizes and computes with this type
};

// Traits of a type id read from a file; nullopt when the id is not a known ggml type.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id);
const GgmlTypeTraits& ggml_type_traits(GgmlType type);
inline std::string_view ggml_type_name(GgmlType type) { return ggml_type_traits(type).name; }
// Parses a name as printed by ggml_type_name (case-insensitive); nullopt when unknown.
std::optional<GgmlType> ggml_type_from_name(std::string_view name);

// Bytes taken by one row of `n_elements` of `type`; n_elements must be a multiple of the block
// size (callers validate first: see row_size_checked).
inline uint64_t ggml_row_size(GgmlType type, uint64_t n_elements) {
  const auto& t = ggml_type_traits(type);
  return n_elements / t.block_size * t.type_size;
}

}  // namespace scout
