// The argument validator on its own: each rule accepts what it should and rejects what it
// should with a message that names the offending field.
#include <catch2/catch.hpp>

#include "tools/registry/json_schema.h"

using scout::tools::Json;
using scout::tools::validate_and_apply_defaults;

namespace {

// A schema shaped like a real tool's: a bit of every supported keyword.
Json search_schema() {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "query": {"type": "string", "minLength": 1, "maxLength": 10},
      "count": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
      "ratio": {"type": "number"},
      "mode": {"type": "string", "enum": ["fast", "deep"], "default": "fast"},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
      "filter": {
        "type": "object",
        "properties": {"site": {"type": "string"}, "recent": {"type": "boolean", "default": false}},
        "additionalProperties": false
      }
    },
    "required": ["query"],
    "additionalProperties": false
  })");
}

std::string messages_of(const std::vector<scout::tools::SchemaViolation>& v) {
  std::string out;
  for (const auto& e : v) out += e.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("Valid arguments produce no violations", "[registry]") {
  Json args = {{"query", "moe"}, {"count", 3}, {"ratio", 0.5}, {"tags", Json::array({"a", "b"})}};
  CHECK(validate_and_apply_defaults(search_schema(), args).empty());
}

TEST_CASE("Defaults fill in missing optional properties, also inside nested objects", "[registry]") {
  Json args = {{"query", "moe"}, {"filter", {{"site", "arxiv.org"}}}};
  REQUIRE(validate_and_apply_defaults(search_schema(), args).empty());
  CHECK(args["count"] == 5);
  CHECK(args["mode"] == "fast");
  CHECK(args["filter"]["recent"] == false);
  CHECK_FALSE(args.contains("tags"));  // no default: stays absent
}

TEST_CASE("Defaults do not overwrite values the caller gave", "[registry]") {
  Json args = {{"query", "moe"}, {"count", 7}};
  REQUIRE(validate_and_apply_defaults(search_schema(), args).empty());
  CHECK(args["count"] == 7);
}

TEST_CASE("A wrong type names the field, the expected type and what was given", "[registry]") {
  Json args = {{"query", 42}};
  auto v = validate_and_apply_defaults(search_schema(), args);
  REQUIRE(v.size() == 1);
  CHECK(v[0].path == "arguments.query");
  CHECK_THAT(v[0].message, Catch::Contains("arguments.query") && Catch::Contains("expected a string") &&
                               Catch::Contains("integer 42"));
}

TEST_CASE("Integer fields reject fractions but accept whole numbers written as floats", "[registry]") {
  Json fraction = {{"query", "q"}, {"count", 2.5}};
  auto v = validate_and_apply_defaults(search_schema(), fraction);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("arguments.count") && Catch::Contains("expected an integer"));

  Json whole = {{"query", "q"}, {"count", 3.0}};
  CHECK(validate_and_apply_defaults(search_schema(), whole).empty());
}

TEST_CASE("Number fields accept integers", "[registry]") {
  Json args = {{"query", "q"}, {"ratio", 2}};
  CHECK(validate_and_apply_defaults(search_schema(), args).empty());
}

TEST_CASE("A missing required property is named with its type", "[registry]") {
  Json args = Json::object();
  auto v = validate_and_apply_defaults(search_schema(), args);
  REQUIRE(v.size() == 1);
  CHECK(v[0].path == "arguments.query");
  CHECK_THAT(v[0].message, Catch::Contains("required but missing") && Catch::Contains("string"));
}

TEST_CASE("An unknown property is rejected and the allowed ones are listed", "[registry]") {
  Json args = {{"query", "q"}, {"limit", 3}};
  auto v = validate_and_apply_defaults(search_schema(), args);
  REQUIRE(v.size() == 1);
  CHECK(v[0].path == "arguments.limit");
  CHECK_THAT(v[0].message, Catch::Contains("not a known property") && Catch::Contains("query, count"));
}

TEST_CASE("A value outside the enum lists the allowed values", "[registry]") {
  Json args = {{"query", "q"}, {"mode", "slow"}};
  auto v = validate_and_apply_defaults(search_schema(), args);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("arguments.mode") && Catch::Contains("\"fast\", \"deep\"") &&
                               Catch::Contains("\"slow\""));
}

TEST_CASE("Numbers outside minimum and maximum name the bound", "[registry]") {
  Json low = {{"query", "q"}, {"count", 0}};
  auto v = validate_and_apply_defaults(search_schema(), low);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("arguments.count") && Catch::Contains("at least 1"));

  Json high = {{"query", "q"}, {"count", 21}};
  v = validate_and_apply_defaults(search_schema(), high);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("arguments.count") && Catch::Contains("at most 20"));
}

TEST_CASE("String length limits count characters, not bytes", "[registry]") {
  Json empty = {{"query", ""}};
  auto v = validate_and_apply_defaults(search_schema(), empty);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("arguments.query") && Catch::Contains("at least 1 character long"));

  Json long_query = {{"query", "abcdefghijk"}};
  v = validate_and_apply_defaults(search_schema(), long_query);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("at most 10 characters"));

  Json multibyte = {{"query", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"}};  // six é, twelve bytes
  CHECK(validate_and_apply_defaults(search_schema(), multibyte).empty());
}

TEST_CASE("Array items are checked with their index in the path", "[registry]") {
  Json args = {{"query", "q"}, {"tags", Json::array({"a", 7})}};
  auto v = validate_and_apply_defaults(search_schema(), args);
  REQUIRE(v.size() == 1);
  CHECK(v[0].path == "arguments.tags[1]");
  CHECK_THAT(v[0].message, Catch::Contains("expected a string"));

  Json too_many = {{"query", "q"}, {"tags", Json::array({"a", "b", "c", "d"})}};
  v = validate_and_apply_defaults(search_schema(), too_many);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("arguments.tags") && Catch::Contains("at most 3 items"));
}

TEST_CASE("Nested objects report the full path", "[registry]") {
  Json args = {{"query", "q"}, {"filter", {{"recent", "yes"}, {"lang", "en"}}}};
  auto v = validate_and_apply_defaults(search_schema(), args);
  INFO(messages_of(v));
  REQUIRE(v.size() == 2);
  CHECK(v[0].path == "arguments.filter.recent");
  CHECK(v[1].path == "arguments.filter.lang");
}

TEST_CASE("Every violation is reported, not only the first", "[registry]") {
  Json args = {{"count", "many"}, {"mode", 1}};
  auto v = validate_and_apply_defaults(search_schema(), args);
  INFO(messages_of(v));
  CHECK(v.size() == 3);  // query missing, count and mode of the wrong type
}

TEST_CASE("A type list accepts any of its types", "[registry]") {
  Json schema = Json::parse(R"({"type": ["string", "null"]})");
  Json s = "x", n = nullptr, i = 1;
  CHECK(validate_and_apply_defaults(schema, s).empty());
  CHECK(validate_and_apply_defaults(schema, n).empty());
  auto v = validate_and_apply_defaults(schema, i);
  REQUIRE(v.size() == 1);
  CHECK_THAT(v[0].message, Catch::Contains("string or null"));
}

TEST_CASE("Length and count limits written as C++ integers are enforced", "[registry]") {
  // Schemas built in C++ hold signed integers, parsed ones unsigned: both must count.
  Json schema = {{"type", "object"},
                 {"properties", {{"code", {{"type", "string"}, {"minLength", 1}}},
                                 {"ids", {{"type", "array"}, {"minItems", 1}}}}}};
  Json args = {{"code", ""}, {"ids", Json::array()}};
  auto v = validate_and_apply_defaults(schema, args);
  INFO(messages_of(v));
  REQUIRE(v.size() == 2);
  CHECK(v[0].path == "arguments.code");
  CHECK(v[1].path == "arguments.ids");
}

TEST_CASE("A string that is not UTF-8 is described with replacement characters, not an exception", "[registry]") {
  // The in-thought protocol builds arguments from raw model output, which need not be UTF-8.
  const Json schema = Json::parse(R"({"type": "object", "properties": {"query": {"enum": ["a", "b"]}, "n": {"const": 1}}})");
  Json args = {{"query", "caf\xff\xfe"}, {"n", "\xc3"}};
  std::vector<scout::tools::SchemaViolation> v;
  REQUIRE_NOTHROW(v = validate_and_apply_defaults(schema, args));
  INFO(messages_of(v));
  REQUIRE(v.size() == 2);
  CHECK_THAT(v[0].message, Catch::Contains("caf\xef\xbf\xbd"));  // U+FFFD
  CHECK_THAT(v[1].message, Catch::Contains("must be 1"));
  CHECK_NOTHROW(Json(v[0].message).dump());
  CHECK_NOTHROW(Json(v[1].message).dump());
}

TEST_CASE("A long value's description is cut at a character boundary, so messages stay UTF-8", "[registry]") {
  // The cut at 37 bytes falls inside the two bytes of "é" unless it steps back.
  const std::string text = std::string(35, 'a') + "\xc3\xa9" + std::string(10, 'b');
  const std::string description = scout::tools::describe_json_value(Json(text));
  CHECK(description == "string \"" + std::string(35, 'a') + "...");
  CHECK_NOTHROW(Json(description).dump());
}
