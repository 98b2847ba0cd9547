// libFuzzer target: argument validation (tools/registry/json_schema.h) with a hostile schema
// and a hostile instance — MCP servers supply schemas, models supply arguments.
//
// Input: byte 0 picks the mode; the rest is "SCHEMA\0INSTANCE" (JSON texts split at the first
// NUL byte). In the thought-call mode the instance is instead {"query": TEXT} with TEXT the raw
// bytes after the NUL, as the in-thought protocol builds arguments from model output (so not
// necessarily UTF-8).
//
// Checked: validation never throws, whatever the schema, the instance and their strings;
// every violation's message starts with its path, every path starts with the root, and every
// message (and every value's description) is UTF-8, fit to go into JSON and prompts; after
// defaults are applied, validating again changes nothing and finds the same violations;
// describe_json_value works on every part of the instance.
//
// The validator reads no $ref, pattern or combinators (allOf, anyOf, ...): such keywords are
// ignored, so recursive or deep references and costly patterns cost nothing; the work is linear
// in the instance (each value is checked against one sub-schema).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "tools/registry/json_schema.h"

namespace {

using scout::fuzz::check;
using scout::tools::Json;
using scout::tools::SchemaViolation;

std::vector<SchemaViolation> validate(const Json& schema, Json& value) {
  try {
    return scout::tools::validate_and_apply_defaults(schema, value, "arguments");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    check(false, "validation threw");
  }
  return {};
}

// Whether JSON can carry `text` as it is (dump() refuses anything but UTF-8).
bool utf8(const std::string& text) {
  try {
    (void)Json(text).dump();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void describe_all(const Json& value, int depth) {
  try {
    const std::string description = scout::tools::describe_json_value(value);
    check(!description.empty() && utf8(description), "an empty description, or one that is not UTF-8");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    check(false, "describe_json_value threw");
  }
  if (depth > 64 || !value.is_structured()) return;
  for (const auto& item : value) describe_all(item, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  const std::string_view text = in.rest();
  const std::size_t nul = text.find('\0');
  const std::string_view schema_text = text.substr(0, nul);
  const std::string_view instance_text = nul == std::string_view::npos ? std::string_view("{}") : text.substr(nul + 1);

  const Json schema = Json::parse(schema_text, nullptr, false);
  if (schema.is_discarded()) return 0;
  Json instance;
  if (mode & 1) {
    instance = Json{{"query", std::string(instance_text)}};
  } else {
    instance = Json::parse(instance_text, nullptr, false);
    if (instance.is_discarded()) return 0;
  }

  const auto first = validate(schema, instance);
  for (const auto& v : first) {
    check(v.path.rfind("arguments", 0) == 0, "a violation path that does not start at the root");
    check(v.message.rfind(v.path, 0) == 0, "a violation message that does not start with its path");
    check(utf8(v.message), "a violation message that is not UTF-8");
  }
  describe_all(instance, 0);

  const Json defaulted = instance;
  const auto second = validate(schema, instance);
  check(instance == defaulted, "validating a second time applied more defaults");
  check(second.size() == first.size(), "validating a second time found other violations");
  for (std::size_t i = 0; i < first.size(); ++i)
    check(first[i].message == second[i].message, "validating a second time found other violations");
  return 0;
}
