// Writer -> reader round trips: every metadata type, nested arrays, tensors and their placement,
// hand-made v2 files, typed getters and the text forms of values.
#include <bit>
#include <cmath>
#include <limits>

#include "engine/gguf/gguf.h"
#include "tests/engine/gguf/gguf_test_util.h"

namespace scout::gguf {
namespace {

using testing::Bytes;
using testing::contains;
using testing::parse;
using testing::read_back;
using testing::require_error;

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }

TEST_CASE("Every metadata value type survives a write and a read exactly", "[gguf]") {
  Writer w;
  w.set_u8("t.u8", 255);
  w.set_i8("t.i8", -128);
  w.set_u16("t.u16", 65535);
  w.set_i16("t.i16", -32768);
  w.set_u32("t.u32", 4294967295u);
  w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_f32("t.f32", -0.0f);
  w.set_bool("t.bool_true", true);
  w.set_bool("t.bool_false", false);
  w.set_string("t.string", "h\xC3\xA9llo\n\"w\xC3\xB6rld\" \xE2\x9C\x93");
  w.set_string("t.empty_string", "");
  w.set_string("t.nul_inside", std::string_view("a\0b", 3));
  w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
  w.set_f64("t.f64", 0.1);
  w.set_f32("t.f32_nan", std::numeric_limits<float>::quiet_NaN());
  w.set_f64("t.f64_inf", -std::numeric_limits<double>::infinity());

  const std::vector<std::string> tokens = {"<s>", "", "hello", "\xE4\xBD\xA0\xE5\xA5\xBD", std::string(300, 'x')};
  w.set_string_array("t.tokens", tokens);
  const std::vector<float> scores = {0.0f, -1.5f, 3.25e-8f, std::numeric_limits<float>::max()};
  w.set_f32_array("t.scores", scores);
  const std::vector<int32_t> types = {1, -2, std::numeric_limits<int32_t>::max()};
  w.set_i32_array("t.types", types);
  ArrayBuilder u8s(ValueType::uint8), i8s(ValueType::int8), u16s(ValueType::uint16), i16s(ValueType::int16),
      u32s(ValueType::uint32), u64s(ValueType::uint64), i64s(ValueType::int64), f64s(ValueType::float64),
      bools(ValueType::boolean), empty(ValueType::uint32);
  u8s.add_u8(0).add_u8(255);
  i8s.add_i8(-1).add_i8(127);
  u16s.add_u16(1).add_u16(65535);
  i16s.add_i16(-300);
  u32s.add_u32(7);
  u64s.add_u64(1).add_u64(uint64_t{1} << 63);
  i64s.add_i64(-5).add_i64(std::numeric_limits<int64_t>::max());
  f64s.add_f64(2.5).add_f64(-1e300);
  bools.add_bool(true).add_bool(false).add_bool(true);
  for (auto* a : {&u8s, &i8s, &u16s, &i16s, &u32s, &u64s, &i64s, &f64s, &bools, &empty}) {
    w.set_array("t.arr_" + std::string(value_type_name(a->element_type())) + (a == &empty ? "_empty" : ""), *a);
  }
  // Nested: [[["a"], []], [["b", "c"]]] and [[1, 2], [], [3]].
  ArrayBuilder s1(ValueType::string), s2(ValueType::string), s3(ValueType::string);
  s1.add_string("a");
  s3.add_string("b").add_string("c");
  ArrayBuilder mid1(ValueType::array), mid2(ValueType::array), outer(ValueType::array);
  mid1.add_array(s1).add_array(s2);
  mid2.add_array(s3);
  outer.add_array(mid1).add_array(mid2);
  w.set_array("t.nested3", outer);
  ArrayBuilder n1(ValueType::int32), n2(ValueType::int32), n3(ValueType::int32), nested(ValueType::array);
  n1.add_i32(1).add_i32(2);
  n3.add_i32(3);
  nested.add_array(n1).add_array(n2).add_array(n3);
  w.set_array("t.nested2", nested);

  std::vector<std::byte> storage;
  const File f = read_back(w, storage);

  CHECK(f.version() == 3);
  CHECK(f.tensors().empty());
  // Insertion order is file order.
  const std::vector<std::string_view> expected_order = {
      "t.u8", "t.i8", "t.u16", "t.i16", "t.u32", "t.i32", "t.f32", "t.bool_true", "t.bool_false", "t.string",
      "t.empty_string", "t.nul_inside", "t.u64", "t.i64", "t.f64", "t.f32_nan", "t.f64_inf", "t.tokens",
      "t.scores", "t.types", "t.arr_uint8", "t.arr_int8", "t.arr_uint16", "t.arr_int16", "t.arr_uint32",
      "t.arr_uint64", "t.arr_int64", "t.arr_float64", "t.arr_bool", "t.arr_uint32_empty", "t.nested3", "t.nested2"};
  REQUIRE(f.metadata().size() == expected_order.size());
  for (size_t i = 0; i < expected_order.size(); ++i) CHECK(f.metadata()[i].key == expected_order[i]);

  auto type_of = [&](std::string_view k) { return f.find(k)->type(); };
  CHECK(type_of("t.u8") == ValueType::uint8);
  CHECK(*f.find("t.u8")->as_uint() == 255);
  CHECK(type_of("t.i8") == ValueType::int8);
  CHECK(*f.find("t.i8")->as_int() == -128);
  CHECK(type_of("t.u16") == ValueType::uint16);
  CHECK(*f.find("t.u16")->as_uint() == 65535);
  CHECK(type_of("t.i16") == ValueType::int16);
  CHECK(*f.find("t.i16")->as_int() == -32768);
  CHECK(type_of("t.u32") == ValueType::uint32);
  CHECK(*f.get_u32("t.u32") == 4294967295u);
  CHECK(type_of("t.i32") == ValueType::int32);
  CHECK(*f.get_i32("t.i32") == std::numeric_limits<int32_t>::min());
  CHECK(type_of("t.f32") == ValueType::float32);
  CHECK(bits(*f.get_f32("t.f32")) == bits(-0.0f));
  CHECK(*f.get_bool("t.bool_true") == true);
  CHECK(*f.get_bool("t.bool_false") == false);
  CHECK(*f.get_string("t.string") == "h\xC3\xA9llo\n\"w\xC3\xB6rld\" \xE2\x9C\x93");
  CHECK(f.get_string("t.empty_string")->empty());
  CHECK(*f.get_string("t.nul_inside") == std::string_view("a\0b", 3));
  CHECK(type_of("t.u64") == ValueType::uint64);
  CHECK(*f.get_u64("t.u64") == std::numeric_limits<uint64_t>::max());
  CHECK(type_of("t.i64") == ValueType::int64);
  CHECK(*f.get_i64("t.i64") == std::numeric_limits<int64_t>::min());
  CHECK(type_of("t.f64") == ValueType::float64);
  CHECK(bits(*f.get_f64("t.f64")) == bits(0.1));
  CHECK(bits(*f.get_f32("t.f32_nan")) == bits(std::numeric_limits<float>::quiet_NaN()));
  CHECK(*f.get_f64("t.f64_inf") == -std::numeric_limits<double>::infinity());

  const auto got_tokens = f.get_string_array("t.tokens");
  REQUIRE(got_tokens);
  REQUIRE(got_tokens->size() == tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) CHECK((*got_tokens)[i] == tokens[i]);
  const auto got_scores = f.get_f32_array("t.scores");
  REQUIRE(got_scores);
  REQUIRE(got_scores->size() == scores.size());
  for (size_t i = 0; i < scores.size(); ++i) CHECK(bits((*got_scores)[i]) == bits(scores[i]));
  CHECK(*f.get_i32_array("t.types") == types);

  auto elements = [&](std::string_view k) {
    std::vector<std::string> out;
    const ArrayView a = *f.get_array(k);  // named: a range-for over *temporary would dangle
    for (const Value v : a) out.push_back(format_value(v));
    return out;
  };
  CHECK(f.get_array("t.arr_uint8")->element_type() == ValueType::uint8);
  CHECK(elements("t.arr_uint8") == std::vector<std::string>{"0", "255"});
  CHECK(elements("t.arr_int8") == std::vector<std::string>{"-1", "127"});
  CHECK(elements("t.arr_uint16") == std::vector<std::string>{"1", "65535"});
  CHECK(elements("t.arr_int16") == std::vector<std::string>{"-300"});
  CHECK(elements("t.arr_uint32") == std::vector<std::string>{"7"});
  CHECK(elements("t.arr_uint64") == std::vector<std::string>{"1", "9223372036854775808"});
  CHECK(elements("t.arr_int64") == std::vector<std::string>{"-5", "9223372036854775807"});
  CHECK(elements("t.arr_float64") == std::vector<std::string>{"2.5", "-1.0000000000000001e+300"});
  CHECK(elements("t.arr_bool") == std::vector<std::string>{"true", "false", "true"});
  CHECK(f.get_array("t.arr_uint32_empty")->empty());
  CHECK(f.get_array("t.arr_uint32_empty")->element_type() == ValueType::uint32);

  CHECK(format_value(*f.find("t.nested3")) == R"([[["a"], []], [["b", "c"]]])");
  CHECK(format_value(*f.find("t.nested2")) == "[[1, 2], [], [3]]");
  const ArrayView outer_view = *f.get_array("t.nested3");
  CHECK(outer_view.element_type() == ValueType::array);
  CHECK(outer_view.size() == 2);
  const ArrayView second = *outer_view.at(1).as_array();
  CHECK(*second.at(0).as_array()->at(1).as_string() == "c");
}

TEST_CASE("Setting a key twice replaces its value and keeps its position", "[gguf]") {
  Writer w;
  w.set_u32("a", 1);
  w.set_string("b", "x");
  w.set_string("a", "now a string");
  CHECK(w.remove("b"));
  CHECK_FALSE(w.remove("b"));
  w.set_u8("c", 3);
  std::vector<std::byte> storage;
  const File f = read_back(w, storage);
  REQUIRE(f.metadata().size() == 2);
  CHECK(f.metadata()[0].key == "a");
  CHECK(*f.get_string("a") == "now a string");
  CHECK(f.metadata()[1].key == "c");
}

struct TensorSpec {
  std::string name;
  GgmlType type;
  std::vector<uint64_t> shape;
  uint64_t n_bytes;
};

void check_tensor_placement(uint32_t alignment) {
  // Byte sizes worked out by hand from the block geometry.
  const std::vector<TensorSpec> specs = {
      {"f32", GgmlType::f32, {5, 3}, 60},          // 15 x 4
      {"f16", GgmlType::f16, {7}, 14},             // 7 x 2
      {"q8_0", GgmlType::q8_0, {64, 2}, 136},      // 4 blocks x 34
      {"q4_K", GgmlType::q4_k, {256, 1, 1, 2}, 288},  // 2 blocks x 144
      {"bf16", GgmlType::bf16, {32}, 64},
      {"i8", GgmlType::i8, {3}, 3},  // last and short: the file must still end padded
  };
  Writer w;
  w.set_string("general.architecture", "test");
  if (alignment != 32) REQUIRE(w.set_alignment(alignment));
  CHECK(w.alignment() == alignment);
  for (const auto& s : specs) REQUIRE(w.add_tensor(s.name, s.type, s.shape));
  std::vector<size_t> calls;
  std::vector<std::byte> storage;
  auto r = w.write(storage, [&](size_t i, std::span<std::byte> dst) {
    calls.push_back(i);
    CHECK(dst.size() == specs[i].n_bytes);
    for (size_t k = 0; k < dst.size(); ++k) CHECK(dst[k] == std::byte{0});  // handed over zeroed
    for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<std::byte>(i * 31 + k);
  });
  REQUIRE(r);
  CHECK(calls == std::vector<size_t>{0, 1, 2, 3, 4, 5});

  auto f = parse(storage);
  REQUIRE(f);
  CHECK(f->alignment() == alignment);
  CHECK(f->data_offset() % alignment == 0);
  CHECK(f->file_size() == storage.size());
  REQUIRE(f->tensors().size() == specs.size());
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorInfo& t = f->tensors()[i];
    INFO("tensor " << t.name);
    CHECK(t.name == specs[i].name);
    CHECK(t.type == specs[i].type);
    CHECK(t.shape == specs[i].shape);
    CHECK(t.n_bytes == specs[i].n_bytes);
    CHECK(t.offset == expected_offset);
    CHECK(t.offset % alignment == 0);
    // Zero-copy: the data is a view into the buffer, at data_offset + offset.
    CHECK(t.data.data() == storage.data() + f->data_offset() + t.offset);
    REQUIRE(t.data.size() == t.n_bytes);
    for (size_t k = 0; k < t.data.size(); ++k) CHECK(t.data[k] == static_cast<std::byte>(i * 31 + k));
    CHECK(f->find_tensor(specs[i].name) == &t);
    expected_offset = (t.offset + t.n_bytes + alignment - 1) / alignment * alignment;
  }
  CHECK(f->data_offset() + expected_offset == storage.size());  // every tensor padded, the last too
  CHECK(f->find_tensor("absent") == nullptr);
  CHECK(f->tensors()[2].n_elements() == 128);
}

TEST_CASE("Tensors of several types are placed at offsets aligned to 32 bytes", "[gguf]") {
  check_tensor_placement(32);
}

TEST_CASE("Tensors of several types are placed at offsets aligned to 64 bytes", "[gguf]") {
  check_tensor_placement(64);
}

TEST_CASE("A GGUF v2 file made by hand is read", "[gguf]") {
  Bytes b;
  b.header(2, 2, 3);
  b.kv_string("general.architecture", "llama");
  b.kv_u32("llama.context_length", 4096);
  b.key("tokenizer.ggml.tokens", ValueType::array).u32(8).u64(2).str("a").str("bc");
  b.tensor("w", {4, 2}, GgmlType::f32, 0);
  b.tensor("v", {32}, GgmlType::q8_0, 32);
  b.pad_to(32);
  const size_t data_start = b.size();
  for (int i = 0; i < 8; ++i) b.put<float>(static_cast<float>(i));
  b.zeros(34);

  auto f = parse(b);
  REQUIRE(f);
  CHECK(f->version() == 2);
  CHECK(f->data_offset() == data_start);
  CHECK(*f->get_string("general.architecture") == "llama");
  CHECK(*f->get_u32("llama.context_length") == 4096);
  CHECK(*f->get_string_array("tokenizer.ggml.tokens") == std::vector<std::string_view>{"a", "bc"});
  REQUIRE(f->tensors().size() == 2);
  CHECK(f->tensors()[0].shape == std::vector<uint64_t>{4, 2});
  CHECK(f->tensors()[1].offset == 32);
  CHECK(f->tensors()[1].n_bytes == 34);
  float third;
  std::memcpy(&third, f->tensors()[0].data.data() + 8, 4);
  CHECK(third == 2.0f);
}

TEST_CASE("A file with no metadata and no tensors round trips", "[gguf]") {
  Writer w;
  std::vector<std::byte> storage;
  const File f = read_back(w, storage);
  CHECK(f.metadata().empty());
  CHECK(f.tensors().empty());
  CHECK(f.alignment() == 32);
  CHECK(storage.size() == 24);  // the header alone: no data section, so no padding
}

TEST_CASE("A file without tensors is not padded, however large its alignment", "[gguf]") {
  Writer w;
  REQUIRE(w.set_alignment(uint32_t{1} << 31));
  std::vector<std::byte> storage;
  const File f = read_back(w, storage);
  CHECK(f.alignment() == (uint32_t{1} << 31));
  CHECK(storage.size() < 100);
}

TEST_CASE("Typed getters convert integers that fit and name the key when they cannot", "[gguf]") {
  Writer w;
  w.set_u8("small", 7);
  w.set_i64("big_positive", int64_t{1} << 40);
  w.set_i32("negative", -1);
  w.set_u64("huge", std::numeric_limits<uint64_t>::max());
  w.set_f64("double", 0.5);
  w.set_f32("float", 0.25f);
  w.set_string("name", "x");
  ArrayBuilder i16(ValueType::int16), u32(ValueType::uint32), s(ValueType::string);
  i16.add_i16(-3).add_i16(4);
  u32.add_u32(1).add_u32(3000000000u);
  s.add_string("only");
  w.set_array("i16s", i16);
  w.set_array("u32s", u32);
  w.set_array("strings", s);
  std::vector<std::byte> storage;
  const File f = read_back(w, storage);

  CHECK(*f.get_u32("small") == 7);
  CHECK(*f.get_i32("small") == 7);
  CHECK(*f.get_u64("big_positive") == (uint64_t{1} << 40));
  CHECK(*f.get_i64("negative") == -1);
  CHECK(*f.get_f32("double") == 0.5f);
  CHECK(*f.get_f64("float") == 0.25);
  CHECK(*f.get_i32_array("i16s") == std::vector<int32_t>{-3, 4});

  auto check_error = [&](const GgufError& e, GgufErrorKind kind, std::string_view needle) {
    INFO(e.describe());
    CHECK(e.kind == kind);
    CHECK(contains(e.describe(), needle));
    CHECK(contains(e.describe(), "test.gguf: "));
  };
  check_error(f.get_u32("big_positive").error(), GgufErrorKind::wrong_type, "'big_positive' is int64 1099511627776");
  check_error(f.get_u32("negative").error(), GgufErrorKind::wrong_type, "'negative'");
  check_error(f.get_u64("negative").error(), GgufErrorKind::wrong_type, "non-negative");
  check_error(f.get_i64("huge").error(), GgufErrorKind::wrong_type, "'huge' is uint64");
  check_error(f.get_u32("name").error(), GgufErrorKind::wrong_type, "'name' is string \"x\", but an integer");
  check_error(f.get_string("small").error(), GgufErrorKind::wrong_type, "'small' is uint8 7, but string");
  check_error(f.get_f32("small").error(), GgufErrorKind::wrong_type, "float32");
  check_error(f.get_bool("small").error(), GgufErrorKind::wrong_type, "bool");
  check_error(f.get_string_array("i16s").error(), GgufErrorKind::wrong_type, "'i16s' is array[int16, 2]");
  check_error(f.get_i32_array("u32s").error(), GgufErrorKind::wrong_type, "'u32s'");
  check_error(f.get_f32_array("strings").error(), GgufErrorKind::wrong_type, "array[float32]");
  check_error(f.get_array("name").error(), GgufErrorKind::wrong_type, "an array");
  const GgufError missing = f.get_u32("llama.block_count").error();
  check_error(missing, GgufErrorKind::key_missing, "metadata key 'llama.block_count' is missing");
  CHECK(missing.offset == GgufError::kNoOffset);
  // A wrong-type error points at the value in the file.
  CHECK(f.get_string("small").error().offset == f.find("small")->offset());
}

TEST_CASE("Values are printed for people with their types", "[gguf]") {
  Writer w;
  ArrayBuilder many(ValueType::uint32);
  for (uint32_t i = 0; i < 100; ++i) many.add_u32(i);
  w.set_array("many", many);
  w.set_string("quote", "say \"hi\"\tnow\x01");
  w.set_f32("f", 0.1f);
  w.set_string("long", std::string(500, 'a'));
  std::vector<std::byte> storage;
  const File f = read_back(w, storage);
  CHECK(format_value(*f.find("many"), 3) == "[0, 1, 2, ... (97 more)]");
  CHECK(format_value(*f.find("many"), 0) == "[... (100 more)]");
  CHECK(describe_type(*f.find("many")) == "array[uint32, 100]");
  CHECK(format_value(*f.find("quote")) == R"("say \"hi\"\tnow\x01")");
  CHECK(format_value(*f.find("f")) == "0.100000001");
  CHECK(format_value(*f.find("long"), 8, 4) == "\"aaaa\"... (500 bytes)");
  CHECK(describe_type(*f.find("f")) == "float32");
}

TEST_CASE("Metadata copied value by value from a read file is written back identically", "[gguf]") {
  Writer w;
  w.set_string("general.architecture", "qwen3");
  w.set_i16("x", -2);
  ArrayBuilder inner(ValueType::string), outer(ValueType::array);
  inner.add_string("p").add_string("q");
  outer.add_array(inner).add_array(inner);
  w.set_array("nested", outer);
  REQUIRE(w.set_alignment(64));
  REQUIRE(w.add_tensor("t", GgmlType::f16, {3}));
  std::vector<std::byte> first;
  REQUIRE(w.write(first, [](size_t, std::span<std::byte> d) { d[1] = std::byte{9}; }));
  auto f = parse(first);
  REQUIRE(f);

  Writer copy;
  for (const auto& e : f->metadata()) copy.set_value(std::string(e.key), e.value);
  for (const auto& t : f->tensors()) REQUIRE(copy.add_tensor(t.name, t.type, t.shape));
  std::vector<std::byte> second;
  REQUIRE(copy.write(second, [&](size_t i, std::span<std::byte> d) {
    const auto& src = f->tensors()[i].data;
    std::copy(src.begin(), src.end(), d.begin());
  }));
  CHECK(second == first);
}

}  // namespace
}  // namespace scout::gguf
