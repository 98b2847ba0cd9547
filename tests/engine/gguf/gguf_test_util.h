// Helpers for the GGUF tests: a byte builder for hand-made (valid or deliberately corrupt)
// files, written independently of the writer under test, error-checking shorthands and a
// scratch folder.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf/gguf.h"

namespace scout::gguf::testing {

// Little-endian bytes, appended field by field as the GGUF spec lays them out.
class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    b_.insert(b_.end(), p, p + sizeof v);
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& raw(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    b_.insert(b_.end(), p, p + s.size());
    return *this;
  }
  Bytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  Bytes& zeros(size_t n) {
    b_.insert(b_.end(), n, std::byte{0});
    return *this;
  }
  Bytes& pad_to(size_t alignment) { return zeros((alignment - b_.size() % alignment) % alignment); }

  Bytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  // A key followed by its value type; the caller appends the value.
  Bytes& key(std::string_view k, ValueType type) { return str(k).u32(static_cast<uint32_t>(type)); }
  Bytes& kv_u32(std::string_view k, uint32_t v) { return key(k, ValueType::uint32).u32(v); }
  Bytes& kv_string(std::string_view k, std::string_view v) { return key(k, ValueType::string).str(v); }
  Bytes& tensor(std::string_view name, std::initializer_list<uint64_t> dims, GgmlType type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(static_cast<uint32_t>(type)).u64(offset);
  }

  size_t size() const { return b_.size(); }
  std::vector<std::byte>& vec() { return b_; }
  std::span<const std::byte> span() const { return b_; }

 private:
  std::vector<std::byte> b_;
};

inline Expected<File, GgufError> parse(std::span<const std::byte> bytes, std::string name = "test.gguf") {
  return File::from_memory(bytes, std::move(name));
}
inline Expected<File, GgufError> parse(const Bytes& b, std::string name = "test.gguf") {
  return parse(b.span(), std::move(name));
}

// Writes `w` (zero tensor data) into `storage` and reads it back; FAILs on either error.
inline File read_back(const Writer& w, std::vector<std::byte>& storage) {
  auto r = w.write(storage);
  if (!r) FAIL(r.error().describe());
  auto f = parse(storage);
  if (!f) FAIL(f.error().describe());
  return std::move(f).value();
}

// Requires `r` to be an error of `kind`; returns it for further checks.
inline GgufError require_error(const Expected<File, GgufError>& r, GgufErrorKind kind) {
  if (r.has_value()) FAIL("expected a " << error_kind_name(kind) << " error, but the file was accepted");
  INFO(r.error().describe());
  CHECK(error_kind_name(r.error().kind) == error_kind_name(kind));
  CHECK_FALSE(r.error().message.empty());
  return r.error();
}

inline bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::vector<std::byte> to_bytes(std::string_view s) {
  std::vector<std::byte> v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

// A scratch folder under the build tree, removed at the end of the test.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    path = std::filesystem::path(SCOUT_BINARY_DIR) / "test-scratch" /
           ("gguf-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
    return out;
  }
};

}  // namespace scout::gguf::testing
