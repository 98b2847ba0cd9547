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
  REQUIRE(w.add_tensor("ok", GgmlType::Q4_0, {64}));
  auto check = [](const Expected<void, GgufError>& r, GgufErrorKind kind, std::string_view needle) {
    REQUIRE_FALSE(r);
    INFO(r.error().describe());
    CHECK(r.error().kind == kind);
    CHECK(contains(r.error().describe(), needle));
  };
  check(w.add_tensor("ok", GgmlType::F32, {1}), GgufErrorKind::kDuplicateTensor, "'ok' is already declared");
  check(w.add_tensor("", GgmlType::F32, {1}), GgufErrorKind::kBadTensorName, "empty");
  check(w.add_tensor(std::string(64, 'n'), GgmlType::F32, {1}), GgufErrorKind::kBadTensorName,
        "is 64 bytes; ggml (and so llama.cpp) accepts at most 63");
  REQUIRE(w.add_tensor(std::string(63, 'n'), GgmlType::F32, {1}));
  check(w.add_tensor("scalar", GgmlType::F32, {}), GgufErrorKind::kBadShape, "0 dimensions");
  check(w.add_tensor("five", GgmlType::F32, {1, 1, 1, 1, 1}), GgufErrorKind::kBadShape, "5 dimensions");
  check(w.add_tensor("zero", GgmlType::F32, {4, 0}), GgufErrorKind::kBadShape, "dimension 1 equal to 0");
  check(w.add_tensor("rows", GgmlType::Q4_K, {100, 2}), GgufErrorKind::kBadShape,
        "'rows' of type q4_K has 100 elements per row (ne[0]), not a multiple of its block size 256");
  check(w.add_tensor("huge", GgmlType::F32, {uint64_t{1} << 32, uint64_t{1} << 32}), GgufErrorKind::kBadShape,
        "overflows");
  check(w.add_tensor("bytes", GgmlType::F64, {uint64_t{1} << 62}), GgufErrorKind::kBadShape, "bytes overflows");
  CHECK(w.tensor_count() == 2);
  CHECK(w.tensor_n_bytes(0) == 36);
}

TEST_CASE("The writer refuses an alignment that is not a power of two", "[gguf]") {
  Writer w;
  const auto r = w.set_alignment(48);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == GgufErrorKind::kBadAlignment);
  CHECK(contains(r.error().message, "48"));
  CHECK_FALSE(w.set_alignment(0));
  CHECK(w.alignment() == 32);

  w.set_u64("general.alignment", 64);  // the right number of the wrong type
  std::vector<std::byte> out;
  const auto written = w.write(out);
  REQUIRE_FALSE(written);
  CHECK(written.error().kind == GgufErrorKind::kBadAlignment);
  CHECK(out.empty());
}

TEST_CASE("Array builders refuse elements of another type and nesting past the limit", "[gguf]") {
  ArrayBuilder a(ValueType::UINT32);
  CHECK_THROWS_AS(a.add_string("x"), std::invalid_argument);
  CHECK_THROWS_AS(a.add_i32(1), std::invalid_argument);
  CHECK(a.size() == 0);

  ArrayBuilder level(ValueType::UINT8);
  int depth = 1;
  for (; depth < kMaxArrayDepth; ++depth) {
    ArrayBuilder up(ValueType::ARRAY);
    up.add_array(level);
    level = up;
  }
  ArrayBuilder too_deep(ValueType::ARRAY);
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
  REQUIRE(w.add_tensor("a", GgmlType::F32, {10}));
  REQUIRE(w.add_tensor("b", GgmlType::Q8_0, {32, 3}));
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

TEST_CASE("A failed write leaves the destination as it was and no temporary file", "[gguf]") {
  ScratchDir dir;
  const std::string path = (dir.path / "model.gguf").string();
  { std::ofstream(path) << "previous contents"; }
  Writer w;
  REQUIRE(w.add_tensor("a", GgmlType::F32, {4}));
  REQUIRE(w.add_tensor("b", GgmlType::F32, {4}));

  const auto failed = w.write(path, [](size_t i, std::span<std::byte>) { return i == 0; });
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == GgufErrorKind::kFillFailed);
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
  CHECK(bad_dir.error().kind == GgufErrorKind::kIo);
}

TEST_CASE("Opening a missing file, a folder or an empty file gives a clear error", "[gguf]") {
  ScratchDir dir;
  const auto missing = File::open((dir.path / "nope.gguf").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == GgufErrorKind::kIo);
  CHECK(contains(missing.error().describe(), "nope.gguf: cannot open the file: No such file"));

  const auto folder = File::open(dir.path.string());
  REQUIRE_FALSE(folder);
  CHECK(folder.error().kind == GgufErrorKind::kIo);
  CHECK(contains(folder.error().message, "not a regular file"));

  const std::string empty = (dir.path / "empty.gguf").string();
  { std::ofstream touch(empty); }
  const auto e = File::open(empty);
  REQUIRE_FALSE(e);
  CHECK(e.error().kind == GgufErrorKind::kTruncated);
}

}  // namespace
}  // namespace scout::gguf
