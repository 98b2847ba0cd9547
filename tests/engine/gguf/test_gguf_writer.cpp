// The writer's own checks (tensor declarations, alignment, array nesting) and its behaviour on
// disk: same bytes as in memory, atomic replacement, nothing left behind when a write fails.
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "engine/gguf/gguf.h"
#include "tests/engine/gguf/gguf_test_util.h"

namespace scout::gguf {
namespace {

using testing::contains;
using testing::parse;
using testing::read_back;
using testing::ScratchDir;

TEST_CASE("The writer refuses tensors a reader would refuse", "[gguf]") {
  Writer w;
  REQUIRE(w.add_tensor("ok", GgmlType::q4_0, {64}));
  auto check = [](const Expected<void, GgufError>& r, GgufErrorKind kind, std::string_view needle) {
    REQUIRE_FALSE(r);
    INFO(r.error().describe());
    CHECK(r.error().kind == kind);
    CHECK(contains(r.error().describe(), needle));
  };
  check(w.add_tensor("ok", GgmlType::f32, {1}), GgufErrorKind::duplicate_tensor, "'ok' is already declared");
  check(w.add_tensor("", GgmlType::f32, {1}), GgufErrorKind::bad_tensor_name, "empty");
  check(w.add_tensor(std::string(64, 'n'), GgmlType::f32, {1}), GgufErrorKind::bad_tensor_name,
        "is 64 bytes; ggml (and so llama.cpp) accepts at most 63");
  REQUIRE(w.add_tensor(std::string(63, 'n'), GgmlType::f32, {1}));
  check(w.add_tensor("scalar", GgmlType::f32, {}), GgufErrorKind::bad_shape, "0 dimensions");
  check(w.add_tensor("five", GgmlType::f32, {1, 1, 1, 1, 1}), GgufErrorKind::bad_shape, "5 dimensions");
  check(w.add_tensor("zero", GgmlType::f32, {4, 0}), GgufErrorKind::bad_shape, "dimension 1 equal to 0");
  check(w.add_tensor("rows", GgmlType::q4_k, {100, 2}), GgufErrorKind::bad_shape,
        "'rows' of type q4_K has 100 elements per row (ne[0]), not a multiple of its block size 256");
  check(w.add_tensor("huge", GgmlType::f32, {uint64_t{1} << 32, uint64_t{1} << 32}), GgufErrorKind::bad_shape,
        "overflows");
  check(w.add_tensor("bytes", GgmlType::f64, {uint64_t{1} << 62}), GgufErrorKind::bad_shape, "bytes overflows");
  CHECK(w.tensor_count() == 2);
  CHECK(w.tensor_n_bytes(0) == 36);
}

TEST_CASE("The writer refuses an alignment that is not a power of two", "[gguf]") {
  Writer w;
  const auto r = w.set_alignment(48);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == GgufErrorKind::bad_alignment);
  CHECK(contains(r.error().message, "48"));
  CHECK_FALSE(w.set_alignment(0));
  CHECK(w.alignment() == 32);

  w.set_u64("general.alignment", 64);  // the right number of the wrong type
  std::vector<std::byte> out;
  const auto written = w.write(out);
  REQUIRE_FALSE(written);
  CHECK(written.error().kind == GgufErrorKind::bad_alignment);
  CHECK(out.empty());
}

TEST_CASE("Array builders refuse elements of another type and nesting past the limit", "[gguf]") {
  ArrayBuilder a(ValueType::uint32);
  CHECK_THROWS_AS(a.add_string("x"), std::invalid_argument);
  CHECK_THROWS_AS(a.add_i32(1), std::invalid_argument);
  CHECK(a.size() == 0);

  ArrayBuilder level(ValueType::uint8);
  int depth = 1;
  for (; depth < kMaxArrayDepth; ++depth) {
    ArrayBuilder up(ValueType::array);
    up.add_array(level);
    level = up;
  }
  ArrayBuilder too_deep(ValueType::array);
  CHECK_THROWS_AS(too_deep.add_array(level), std::invalid_argument);
  // The deepest allowed nesting reads back.
  Writer w;
  w.set_array("deep", level);
  std::vector<std::byte> storage;
  const File f = read_back(w, storage);
  CHECK(describe_type(*f.find("deep")) == "array[array, 1]");
  CHECK_THROWS_AS(Writer().set_u32("", 1), std::invalid_argument);
}

TEST_CASE("Writing to a path gives the same bytes as writing to memory, and the file maps", "[gguf]") {
  ScratchDir dir;
  Writer w;
  w.set_string("general.name", "on disk");
  REQUIRE(w.add_tensor("a", GgmlType::f32, {10}));
  REQUIRE(w.add_tensor("b", GgmlType::q8_0, {32, 3}));
  auto fill = [](size_t i, std::span<std::byte> d) {
    for (size_t k = 0; k < d.size(); ++k) d[k] = static_cast<std::byte>(k + i);
  };
  std::vector<std::byte> memory;
  REQUIRE(w.write(memory, fill));
  const std::string path = (dir.path / "model.gguf").string();
  const auto written = w.write(path, fill);
  if (!written) FAIL(written.error().describe());
  CHECK(dir.names() == std::vector<std::string>{"model.gguf"});  // no temporary left behind

  std::ifstream in(path, std::ios::binary);
  std::vector<char> disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(disk.size() == memory.size());
  CHECK(std::memcmp(disk.data(), memory.data(), disk.size()) == 0);

  auto f = File::open(path);
  if (!f) FAIL(f.error().describe());
  CHECK(f->path() == path);
  CHECK(f->file_size() == memory.size());
  const auto* b = f->find_tensor("b");
  REQUIRE(b);
  CHECK(b->data.data() == f->bytes().data() + f->data_offset() + b->offset);  // a view into the mapping
  CHECK(b->data[5] == std::byte{6});
  File moved = std::move(f).value();  // views stay valid across a move
  CHECK(*moved.get_string("general.name") == "on disk");
  CHECK(moved.find_tensor("b")->data[5] == std::byte{6});
}

TEST_CASE("A metadata-only file keeps the tensor table without data: open refuses it, open_metadata reads it", "[gguf]") {
  ScratchDir dir;
  Writer w;
  w.set_string("general.name", "described");
  REQUIRE(w.add_tensor("a", GgmlType::f32, {10}));
  REQUIRE(w.add_tensor("b", GgmlType::q8_0, {4096, 4096}));
  const std::string path = (dir.path / "described.gguf").string();
  REQUIRE(w.write_metadata_only(path));
  CHECK(std::filesystem::file_size(path) < 1000);  // not the 17 MB of tensor data

  auto strict = File::open(path);
  REQUIRE_FALSE(strict);
  CHECK(strict.error().kind == GgufErrorKind::tensor_out_of_bounds);

  auto described = File::open_metadata(path);
  if (!described) FAIL(described.error().describe());
  CHECK_FALSE(described->tensor_data_present());
  REQUIRE(described->find_tensor("b"));
  CHECK(described->find_tensor("b")->n_bytes == 4096ull * 4096 / 32 * 34);
  CHECK(described->find_tensor("b")->data.empty());

  // A data section that is there but cut short is corruption, not a description.
  const std::string full = (dir.path / "full.gguf").string();
  REQUIRE(w.write(full));
  std::filesystem::resize_file(full, std::filesystem::file_size(full) - 100);
  auto cut = File::open_metadata(full);
  REQUIRE_FALSE(cut);
  CHECK(cut.error().kind == GgufErrorKind::tensor_out_of_bounds);
  CHECK(File::open(full).has_value() == false);
}

TEST_CASE("A failed write leaves the destination as it was and no temporary file", "[gguf]") {
  ScratchDir dir;
  const std::string path = (dir.path / "model.gguf").string();
  { std::ofstream(path) << "previous contents"; }
  Writer w;
  REQUIRE(w.add_tensor("a", GgmlType::f32, {4}));
  REQUIRE(w.add_tensor("b", GgmlType::f32, {4}));

  const auto failed = w.write(path, [](size_t i, std::span<std::byte>) { return i == 0; });
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == GgufErrorKind::fill_failed);
  CHECK(contains(failed.error().describe(), "tensor 'b' (#1)"));

  CHECK_THROWS_AS(w.write(path, [](size_t, std::span<std::byte>) { throw std::runtime_error("source gone"); }),
                  std::runtime_error);

  CHECK(dir.names() == std::vector<std::string>{"model.gguf"});
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "previous contents");

  std::vector<std::byte> out = testing::to_bytes("stale");
  CHECK_FALSE(w.write(out, [](size_t, std::span<std::byte>) { return false; }));
  CHECK(out.empty());

  const auto bad_dir = w.write((dir.path / "missing-folder" / "x.gguf").string());
  REQUIRE_FALSE(bad_dir);
  CHECK(bad_dir.error().kind == GgufErrorKind::io);
}

TEST_CASE("Opening a missing file, a folder or an empty file gives a clear error", "[gguf]") {
  ScratchDir dir;
  const auto missing = File::open((dir.path / "nope.gguf").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == GgufErrorKind::io);
  CHECK(contains(missing.error().describe(), "nope.gguf: cannot open the file: No such file"));

  const auto folder = File::open(dir.path.string());
  REQUIRE_FALSE(folder);
  CHECK(folder.error().kind == GgufErrorKind::io);
  CHECK(contains(folder.error().message, "not a regular file"));

  const std::string empty = (dir.path / "empty.gguf").string();
  { std::ofstream touch(empty); }
  const auto e = File::open(empty);
  REQUIRE_FALSE(e);
  CHECK(e.error().kind == GgufErrorKind::truncated);
}

}  // namespace
}  // namespace scout::gguf
