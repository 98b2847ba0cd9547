// File's lookups and typed metadata getters.
#include <cstring>
#include <limits>

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_format.h"

namespace scout::gguf {

using detail::quoted;

std::optional<Value> File::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  if (it == metadata_index_.end()) return std::nullopt;
  return metadata_[it->second].value;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

GgufError key_error(const std::string& path, std::string_view key, const std::optional<Value>& found,
                    std::string_view wanted) {
  if (!found) {
    return GgufError{GgufErrorKind::key_missing, path, GgufError::kNoOffset,
                     "metadata key " + quoted(key) + " is missing"};
  }
  std::string shown;
  if (found->type() != ValueType::array) shown = " " + format_value(*found, 0, 60);
  return GgufError{GgufErrorKind::wrong_type, path, found->offset(),
                   "metadata key " + quoted(key) + " is " + describe_type(*found) + shown + ", but " +
                       std::string(wanted) + " was expected"};
}

// Looks `key` up and converts its value with `convert` (a Value -> optional<T>); a missing key
// or a failed conversion becomes the matching error.
template <class T, class Convert>
Expected<T, GgufError> get_as(const File& f, std::string_view key, std::string_view wanted, Convert convert) {
  const std::optional<Value> v = f.find(key);
  if (v) {
    if (std::optional<T> r = convert(*v)) return std::move(*r);
  }
  return Unexpected{key_error(f.path(), key, v, wanted)};
}

template <class Int>
std::optional<Int> fit_integer(const Value& v) {
  if constexpr (std::is_signed_v<Int>) {
    const auto i = v.as_int();
    if (i && *i >= std::numeric_limits<Int>::min() && *i <= std::numeric_limits<Int>::max()) {
      return static_cast<Int>(*i);
    }
  } else {
    const auto u = v.as_uint();
    if (u && *u <= std::numeric_limits<Int>::max()) return static_cast<Int>(*u);
  }
  return std::nullopt;
}

}  // namespace

Expected<uint32_t, GgufError> File::get_u32(std::string_view key) const {
  return get_as<uint32_t>(*this, key, "an integer that fits in uint32", fit_integer<uint32_t>);
}
Expected<int32_t, GgufError> File::get_i32(std::string_view key) const {
  return get_as<int32_t>(*this, key, "an integer that fits in int32", fit_integer<int32_t>);
}
Expected<uint64_t, GgufError> File::get_u64(std::string_view key) const {
  return get_as<uint64_t>(*this, key, "a non-negative integer", fit_integer<uint64_t>);
}
Expected<int64_t, GgufError> File::get_i64(std::string_view key) const {
  return get_as<int64_t>(*this, key, "an integer that fits in int64", fit_integer<int64_t>);
}
Expected<float, GgufError> File::get_f32(std::string_view key) const {
  return get_as<float>(*this, key, "float32", [](const Value& v) -> std::optional<float> {
    if (auto d = v.as_float()) return static_cast<float>(*d);
    return std::nullopt;
  });
}
Expected<double, GgufError> File::get_f64(std::string_view key) const {
  return get_as<double>(*this, key, "float64", [](const Value& v) { return v.as_float(); });
}
Expected<bool, GgufError> File::get_bool(std::string_view key) const {
  return get_as<bool>(*this, key, "bool", [](const Value& v) { return v.as_bool(); });
}
Expected<std::string_view, GgufError> File::get_string(std::string_view key) const {
  return get_as<std::string_view>(*this, key, "string", [](const Value& v) { return v.as_string(); });
}
Expected<ArrayView, GgufError> File::get_array(std::string_view key) const {
  return get_as<ArrayView>(*this, key, "an array", [](const Value& v) { return v.as_array(); });
}

Expected<std::vector<std::string_view>, GgufError> File::get_string_array(std::string_view key) const {
  using Out = std::vector<std::string_view>;
  return get_as<Out>(*this, key, "array[string]", [](const Value& v) -> std::optional<Out> {
    const auto a = v.as_array();
    if (!a || a->element_type() != ValueType::string) return std::nullopt;
    Out out;
    out.reserve(a->size());  // validated: each element took at least 8 bytes of the file
    for (const Value e : *a) out.push_back(*e.as_string());
    return out;
  });
}

Expected<std::vector<float>, GgufError> File::get_f32_array(std::string_view key) const {
  using Out = std::vector<float>;
  return get_as<Out>(*this, key, "array[float32]", [](const Value& v) -> std::optional<Out> {
    const auto a = v.as_array();
    if (!a || a->element_type() != ValueType::float32) return std::nullopt;
    Out out(a->size());
    if (!out.empty()) std::memcpy(out.data(), v.encoded().data() + 12, out.size() * sizeof(float));
    return out;
  });
}

Expected<std::vector<int32_t>, GgufError> File::get_i32_array(std::string_view key) const {
  using Out = std::vector<int32_t>;
  return get_as<Out>(*this, key, "an array of integers that fit in int32", [](const Value& v) -> std::optional<Out> {
    const auto a = v.as_array();
    if (!a || !detail::is_integer_type(a->element_type())) {
      return std::nullopt;
    }
    Out out;
    out.reserve(a->size());
    for (const Value e : *a) {
      const auto i = fit_integer<int32_t>(e);
      if (!i) return std::nullopt;
      out.push_back(*i);
    }
    return out;
  });
}

}  // namespace scout::gguf
