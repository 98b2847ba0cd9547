// libFuzzer target for the GGUF reader. Whatever the bytes, File::from_memory must return a File
// or an error: no crash, no hang, no huge allocation (ASan's allocation limit enforces the last).
// When a file is accepted, every accessor is exercised, and the file is rewritten with the
// Writer and read back: what the reader accepts the writer must reproduce exactly.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "engine/gguf/gguf.h"

namespace {

using namespace scout::gguf;

// A broken invariant: stop with a crash that libFuzzer records as a finding.
void check(bool ok) {
  if (!ok) __builtin_trap();
}

void exercise(const File& f) {
  const auto bytes = f.bytes();
  for (const MetadataEntry& e : f.metadata()) {
    (void)format_value(e.value, 4, 32);
    (void)describe_type(e.value);
    const auto found = f.find(e.key);
    check(found && found->offset() == e.value.offset());
    (void)f.get_u32(e.key);
    (void)f.get_i64(e.key);
    (void)f.get_f32(e.key);
    (void)f.get_bool(e.key);
    (void)f.get_string(e.key);
    (void)f.get_string_array(e.key);
    (void)f.get_f32_array(e.key);
    (void)f.get_i32_array(e.key);
    if (const auto a = e.value.as_array(); a && a->size() > 0) (void)format_value(a->at(a->size() - 1), 2, 8);
  }
  for (const TensorInfo& t : f.tensors()) {
    check(t.data.data() >= bytes.data() && t.data.data() + t.n_bytes <= bytes.data() + bytes.size());
    check(t.data.size() == t.n_bytes && t.offset % f.alignment() == 0);
    check(f.find_tensor(t.name) == &t);
  }
}

void rewrite_and_compare(const File& f) {
  Writer w;
  for (const MetadataEntry& e : f.metadata()) w.set_value(std::string(e.key), e.value);
  for (const TensorInfo& t : f.tensors()) {
    const auto added = w.add_tensor(t.name, t.type, t.shape);
    if (t.name.size() >= 64) {  // ggml's name limit: the reader accepts such names, the writer does not
      check(!added && added.error().kind == GgufErrorKind::bad_tensor_name);
      return;
    }
    check(added.has_value());
  }
  std::vector<std::byte> out;
  const auto written = w.write(out, [&](size_t i, std::span<std::byte> dst) {
    const auto src = f.tensors()[i].data;
    check(src.size() == dst.size());
    if (!src.empty()) std::memcpy(dst.data(), src.data(), src.size());
  });
  check(written.has_value());
  const auto again = File::from_memory(out, "rewritten.gguf");
  check(again.has_value());
  check(again->alignment() == f.alignment());
  check(again->metadata().size() == f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const auto& a = f.metadata()[i];
    const auto& b = again->metadata()[i];
    check(a.key == b.key && a.value.type() == b.value.type());
    check(a.value.encoded().size() == b.value.encoded().size());
    check(std::memcmp(a.value.encoded().data(), b.value.encoded().data(), a.value.encoded().size()) == 0);
  }
  check(again->tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = again->tensors()[i];
    check(a.name == b.name && a.type == b.type && a.shape == b.shape && a.n_bytes == b.n_bytes);
    check(std::memcmp(a.data.data(), b.data.data(), a.n_bytes) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size);
  const auto file = File::from_memory(input, "fuzz.gguf");
  if (!file) {
    check(!file.error().describe().empty());
    return 0;
  }
  exercise(*file);
  rewrite_and_compare(*file);
  return 0;
}
