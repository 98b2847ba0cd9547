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
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41, Q2_0 = 42,
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
