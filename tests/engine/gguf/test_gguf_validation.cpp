// Every check the reader makes, each tripped by a hand-made corrupt file: the error's kind, the
// byte it points at, and that its message names the key or tensor at fault. Then truncation at
// every byte and damage to every byte of a valid file.
#include <limits>

#include "engine/gguf/gguf.h"
#include "tests/engine/gguf/gguf_test_util.h"

namespace scout::gguf {
namespace {

using testing::Bytes;
using testing::contains;
using testing::parse;
using testing::require_error;

constexpr uint32_t kArray = static_cast<uint32_t>(ValueType::array);

// A header for `n_kv` entries and `n_tensors` tensors; the test appends the rest.
Bytes start(uint64_t n_tensors, uint64_t n_kv) {
  Bytes b;
  b.header(3, n_tensors, n_kv);
  return b;
}

void check_message(const GgufError& e, std::initializer_list<std::string_view> needles) {
  const std::string text = e.describe();
  INFO(text);
  for (auto n : needles) CHECK(contains(text, n));
}

TEST_CASE("A file that does not start with GGUF is refused as not a GGUF file", "[gguf]") {
  const auto e = require_error(parse(testing::to_bytes("PK\x03\x04 not a model at all")), GgufErrorKind::bad_magic);
  CHECK(e.offset == 0);
  check_message(e, {"test.gguf: byte 0: not a GGUF file: it starts with 'PK\\x03\\x04'"});
  const auto legacy = require_error(parse(testing::to_bytes("tjgg\x03\x00\x00\x00")), GgufErrorKind::bad_magic);
  check_message(legacy, {"legacy GGML/GGMF/GGJT"});
}

TEST_CASE("A file shorter than the header is reported as truncated", "[gguf]") {
  require_error(parse(testing::to_bytes("GG")), GgufErrorKind::truncated);
  require_error(parse(std::span<const std::byte>()), GgufErrorKind::truncated);
  Bytes b;
  b.raw("GGUF").u32(3).u64(0);  // n_kv missing
  const auto e = require_error(parse(b), GgufErrorKind::truncated);
  CHECK(e.offset == 16);
  check_message(e, {"the file ends inside the header", "truncated or corrupt"});
}

TEST_CASE("GGUF version 1, future versions and big-endian files are refused with the reason", "[gguf]") {
  Bytes v1;
  v1.header(1, 0, 0);
  check_message(require_error(parse(v1), GgufErrorKind::unsupported_version), {"byte 4:", "version 1 is no longer supported"});
  Bytes v4;
  v4.header(4, 0, 0);
  check_message(require_error(parse(v4), GgufErrorKind::unsupported_version), {"version 4 is not supported"});
  Bytes v0;
  v0.header(0, 0, 0);
  require_error(parse(v0), GgufErrorKind::unsupported_version);
  Bytes big_endian;
  big_endian.header(0x03000000, 0, 0);
  check_message(require_error(parse(big_endian), GgufErrorKind::unsupported_version), {"big-endian"});
}

TEST_CASE("Key/value and tensor counts larger than the file could hold are refused before any allocation", "[gguf]") {
  auto kv = start(0, uint64_t{1} << 60);
  kv.kv_u32("a", 1);
  const auto e = require_error(parse(kv), GgufErrorKind::bad_count);
  check_message(e, {"1152921504606846976 metadata entries"});
  CHECK(e.offset == 16);

  auto t = start(std::numeric_limits<uint64_t>::max(), 1);
  t.kv_u32("a", 1);
  check_message(require_error(parse(t), GgufErrorKind::bad_count), {"byte 8:", "18446744073709551615 tensors"});

  // Plausible against the header's bytes, but not against what the metadata leaves.
  auto after = start(2, 1);
  after.kv_string("a", std::string(80, 'x'));
  after.tensor("t", {1}, GgmlType::f32, 0);
  check_message(require_error(parse(after), GgufErrorKind::bad_count), {"after the metadata"});
}

TEST_CASE("A string whose length runs past the end of the file is refused, naming where", "[gguf]") {
  auto key = start(0, 1);
  key.u64(1000).raw("general");
  const auto e = require_error(parse(key), GgufErrorKind::bad_length);
  CHECK(e.offset == 24);
  check_message(e, {"metadata entry #0: string length 1000 runs past the end"});

  auto value = start(0, 1);
  value.key("general.name", ValueType::string).u64(uint64_t{1} << 63).raw("abc");
  const auto v = require_error(parse(value), GgufErrorKind::bad_length);
  check_message(v, {"metadata key 'general.name': string length 9223372036854775808"});
}

TEST_CASE("An empty metadata key is refused", "[gguf]") {
  auto b = start(0, 1);
  b.str("").u32(4).u32(1);
  check_message(require_error(parse(b), GgufErrorKind::bad_key), {"metadata entry #0 has an empty key"});
}

TEST_CASE("Unknown metadata value types are refused, naming the key", "[gguf]") {
  auto b = start(0, 1);
  b.str("x.key").u32(13).u32(0);
  const auto e = require_error(parse(b), GgufErrorKind::bad_value_type);
  CHECK(e.offset == 24 + 8 + 5);
  check_message(e, {"'x.key' has value type 13"});

  auto elem = start(0, 1);
  elem.str("x.arr").u32(kArray).u32(99).u64(1).u32(0);
  check_message(require_error(parse(elem), GgufErrorKind::bad_value_type), {"'x.arr': array element type 99"});
}

TEST_CASE("Array lengths larger than the bytes left are refused, nested ones too", "[gguf]") {
  auto b = start(0, 1);
  b.str("tokenizer.ggml.tokens").u32(kArray).u32(static_cast<uint32_t>(ValueType::string)).u64(uint64_t{1} << 62);
  b.str("a");
  const auto e = require_error(parse(b), GgufErrorKind::bad_length);
  check_message(e, {"'tokenizer.ggml.tokens': array of 4611686018427387904 string needs at least"});
  CHECK(e.offset == 24 + 8 + 21 + 4 + 4);

  // u64 elements: a count whose byte size overflows 64 bits.
  auto wide = start(0, 1);
  wide.str("w").u32(kArray).u32(static_cast<uint32_t>(ValueType::uint64)).u64(std::numeric_limits<uint64_t>::max());
  require_error(parse(wide), GgufErrorKind::bad_length);

  auto nested = start(0, 1);
  nested.str("n").u32(kArray).u32(kArray).u64(2);
  nested.u32(static_cast<uint32_t>(ValueType::uint8)).u64(1).u8(7);   // [7]
  nested.u32(static_cast<uint32_t>(ValueType::uint32)).u64(1000).u32(1);  // claims 1000 u32
  check_message(require_error(parse(nested), GgufErrorKind::bad_length), {"'n': array of 1000 uint32"});
}

TEST_CASE("Arrays nested past the limit are refused", "[gguf]") {
  auto b = start(0, 1);
  b.str("deep").u32(kArray);
  for (int i = 0; i < kMaxArrayDepth; ++i) b.u32(kArray).u64(1);
  b.u32(0).u64(0);
  b.zeros(64);
  check_message(require_error(parse(b), GgufErrorKind::nesting_too_deep), {"'deep': arrays nested more than 8 deep"});
}

TEST_CASE("A bool that is neither 0 nor 1 is refused", "[gguf]") {
  auto b = start(0, 1);
  b.key("flag", ValueType::boolean).u8(2);
  check_message(require_error(parse(b), GgufErrorKind::bad_value), {"'flag': bool byte is 2"});
  auto arr = start(0, 1);
  arr.str("flags").u32(kArray).u32(static_cast<uint32_t>(ValueType::boolean)).u64(3).u8(1).u8(0).u8(255);
  const auto e = require_error(parse(arr), GgufErrorKind::bad_value);
  CHECK(e.offset == arr.size() - 1);
}

TEST_CASE("A metadata key that appears twice is refused, naming it", "[gguf]") {
  auto b = start(0, 2);
  b.kv_u32("llama.block_count", 1);
  const size_t second = b.size();
  b.kv_u32("llama.block_count", 2);
  const auto e = require_error(parse(b), GgufErrorKind::duplicate_key);
  CHECK(e.offset == second);
  check_message(e, {"'llama.block_count' appears twice (first at byte 24)"});
}

TEST_CASE("general.alignment must be a uint32 power of two", "[gguf]") {
  auto wrong_type = start(0, 1);
  wrong_type.key("general.alignment", ValueType::uint64).u64(32);
  check_message(require_error(parse(wrong_type), GgufErrorKind::bad_alignment), {"'general.alignment' is uint64", "uint32"});
  for (uint32_t bad : {0u, 48u, 3u}) {
    auto b = start(0, 1);
    b.kv_u32("general.alignment", bad);
    const auto e = require_error(parse(b), GgufErrorKind::bad_alignment);
    check_message(e, {"is " + std::to_string(bad) + ", which is not a power of two"});
    CHECK(e.offset == b.size() - 4);
  }
}

TEST_CASE("An empty tensor name is refused", "[gguf]") {
  auto b = start(1, 0);
  b.tensor("", {4}, GgmlType::f32, 0).pad_to(32).zeros(16);
  check_message(require_error(parse(b), GgufErrorKind::bad_tensor_name), {"tensor info #0 has an empty name"});
}

TEST_CASE("A tensor name that appears twice is refused, naming it", "[gguf]") {
  auto b = start(2, 0);
  b.tensor("blk.0.attn_q.weight", {8}, GgmlType::f32, 0);
  const size_t second = b.size();
  b.tensor("blk.0.attn_q.weight", {8}, GgmlType::f32, 32);
  b.pad_to(32).zeros(64);
  const auto e = require_error(parse(b), GgufErrorKind::duplicate_tensor);
  CHECK(e.offset == second);
  check_message(e, {"tensor 'blk.0.attn_q.weight' appears twice (tensor infos #0 and #1)"});
}

TEST_CASE("Tensor shapes must have 1 to 4 non-zero dimensions whose product fits", "[gguf]") {
  SECTION("five dimensions") {
    auto b = start(1, 0);
    b.tensor("t5", {1, 1, 1, 1, 1}, GgmlType::f32, 0).pad_to(32).zeros(32);
    const auto e = require_error(parse(b), GgufErrorKind::bad_shape);
    CHECK(e.offset == 24 + 8 + 2);
    check_message(e, {"tensor 't5' has 5 dimensions; GGUF tensors have 1 to 4"});
  }
  SECTION("no dimensions") {
    auto b = start(1, 0);
    b.tensor("t0", {}, GgmlType::f32, 0).pad_to(32).zeros(32);
    check_message(require_error(parse(b), GgufErrorKind::bad_shape), {"'t0' has 0 dimensions"});
  }
  SECTION("a huge n_dims does not make the reader allocate") {
    auto b = start(1, 0);
    b.str("tx").u32(0xFFFFFFFF).zeros(64);
    require_error(parse(b), GgufErrorKind::bad_shape);
  }
  SECTION("a zero dimension") {
    auto b = start(1, 0);
    b.tensor("empty", {4, 0}, GgmlType::f32, 0).pad_to(32).zeros(32);
    check_message(require_error(parse(b), GgufErrorKind::bad_shape), {"'empty' has shape [4, 0] with dimension 1 equal to 0"});
  }
  SECTION("an element count that overflows") {
    auto b = start(1, 0);
    b.tensor("big", {uint64_t{1} << 32, uint64_t{1} << 31, 2}, GgmlType::f32, 0).pad_to(32).zeros(32);
    check_message(require_error(parse(b), GgufErrorKind::bad_shape), {"'big' has shape [4294967296, 2147483648, 2]", "overflows"});
  }
  SECTION("a row that is not a whole number of blocks") {
    auto b = start(1, 0);
    b.tensor("blk.0.ffn_down.weight", {100, 4}, GgmlType::q4_k, 0).pad_to(32).zeros(1024);
    check_message(require_error(parse(b), GgufErrorKind::bad_shape),
                  {"'blk.0.ffn_down.weight' of type q4_K has 100 elements per row (ne[0]), not a multiple of its block size 256"});
  }
}

TEST_CASE("Tensor type ids that are not ggml types are refused, naming the tensor", "[gguf]") {
  for (uint32_t id : {4u, 5u, 31u, 99u, 0xFFFFFFFFu}) {  // 4, 5, 31: ids ggml retired
    auto b = start(1, 0);
    b.str("w").u32(1).u64(32).u32(id).u64(0).pad_to(32).zeros(128);
    const auto e = require_error(parse(b), GgufErrorKind::bad_tensor_type);
    check_message(e, {"tensor 'w' has type id " + std::to_string(id)});
    CHECK(e.offset == 24 + 9 + 4 + 8);
  }
}

TEST_CASE("Tensor offsets must be multiples of the alignment", "[gguf]") {
  auto b = start(1, 1);
  b.kv_u32("general.alignment", 64);
  b.tensor("w", {8}, GgmlType::f32, 32);
  const size_t offset_field = b.size() - 8;
  b.pad_to(64).zeros(128);
  const auto e = require_error(parse(b), GgufErrorKind::misaligned_tensor);
  check_message(e, {"tensor 'w' data offset 32 is not a multiple of the alignment 64"});
  CHECK(e.offset == offset_field);
}

TEST_CASE("Tensor data that runs past the end of the file is refused, with its byte range", "[gguf]") {
  auto b = start(1, 0);
  b.tensor("blk.0.attn_q.weight", {16}, GgmlType::f32, 0).pad_to(32);
  const size_t data = b.size();
  b.zeros(40);  // 64 needed
  const auto e = require_error(parse(b), GgufErrorKind::tensor_out_of_bounds);
  CHECK(e.offset == data);
  check_message(e, {"byte " + std::to_string(data) + ": tensor 'blk.0.attn_q.weight' data [" + std::to_string(data) + ", " +
                        std::to_string(data + 64) + ") runs past the end of the file (size " +
                        std::to_string(data + 40) + "); the file is truncated or corrupt"});

  // Offsets near 2^64 must not wrap around into the file.
  auto wrap = start(1, 0);
  wrap.tensor("w", {8}, GgmlType::f32, std::numeric_limits<uint64_t>::max() - 31).pad_to(32).zeros(64);
  check_message(require_error(parse(wrap), GgufErrorKind::tensor_out_of_bounds), {"18446744073709551"});
}

TEST_CASE("Tensors whose data overlap are refused, naming both", "[gguf]") {
  auto b = start(2, 0);
  b.tensor("first", {16}, GgmlType::f32, 0);    // [0, 64)
  b.tensor("second", {8}, GgmlType::f32, 32);   // [32, 64)
  b.pad_to(32);
  const size_t data = b.size();
  b.zeros(64);
  const auto e = require_error(parse(b), GgufErrorKind::tensor_overlap);
  CHECK(e.offset == data + 32);
  check_message(e, {"tensor 'second' data [", "overlaps tensor 'first' data [" + std::to_string(data) + ", "});
}

// A small valid file from the writer whose last tensor ends exactly at the end of the file.
std::vector<std::byte> small_valid_file() {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_bool("flag", true);
  const std::vector<std::string> tokens = {"a", "b", "cd"};
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  ArrayBuilder inner(ValueType::int16), outer(ValueType::array);
  inner.add_i16(1).add_i16(2);
  outer.add_array(inner);
  w.set_array("nested", outer);
  REQUIRE(w.add_tensor("a", GgmlType::f32, {8}));
  REQUIRE(w.add_tensor("b", GgmlType::q8_0, {32}));
  REQUIRE(w.add_tensor("c", GgmlType::f16, {16}));  // 32 bytes: no trailing padding
  std::vector<std::byte> out;
  REQUIRE(w.write(out, [](size_t i, std::span<std::byte> d) {
    for (size_t k = 0; k < d.size(); ++k) d[k] = static_cast<std::byte>(i + k);
  }));
  return out;
}

TEST_CASE("A valid file cut short at any byte gives an error, never a crash", "[gguf]") {
  const std::vector<std::byte> full = small_valid_file();
  REQUIRE(parse(full));
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("cut to " << n << " of " << full.size() << " bytes");
    // A copy of exactly n bytes, so reads past the end are caught by the sanitizers.
    const std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const auto r = parse(cut, "cut.gguf");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().describe(), "cut.gguf: "));
    CHECK(contains(r.error().message, "truncated or corrupt"));
  }
}

TEST_CASE("Damage to any byte of a valid file is either accepted or reported, never a crash", "[gguf]") {
  const std::vector<std::byte> full = small_valid_file();
  size_t refused = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      std::vector<std::byte> damaged = full;
      damaged[i] = static_cast<std::byte>(v);
      const auto r = parse(damaged);
      if (r) {
        for (const auto& e : r->metadata()) (void)format_value(e.value);
        for (const auto& t : r->tensors()) CHECK(t.data.data() + t.n_bytes <= damaged.data() + damaged.size());
      } else {
        ++refused;
        CHECK_FALSE(r.error().message.empty());
      }
    }
  }
  CHECK(refused > 0);
}

}  // namespace
}  // namespace scout::gguf
