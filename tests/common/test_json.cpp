// parse_json: outside JSON read with a nesting limit, so that copying or printing what was read
// can never overflow the stack.
#include <catch2/catch.hpp>

#include <string>

#include "common/json.h"

using scout::json_nests_deeper_than;
using scout::kMaxJsonDepth;
using scout::parse_json;

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("JSON nested exactly to the limit is read, one level more is refused with a message saying so", "[json]") {
  auto at_limit = parse_json(nested_arrays(kMaxJsonDepth));
  REQUIRE(at_limit);
  const nlohmann::json copy = *at_limit;  // copying recurses once per level
  CHECK(copy.dump().size() == 2 * kMaxJsonDepth);

  auto beyond = parse_json(nested_arrays(kMaxJsonDepth + 1));
  REQUIRE_FALSE(beyond);
  CHECK(beyond.error().message == "arrays and objects nested deeper than 128 levels");
}

TEST_CASE("200,000 nested arrays, closed or not, are refused without building a value", "[json]") {
  CHECK_FALSE(parse_json(std::string(200000, '[')));
  CHECK_FALSE(parse_json(nested_arrays(200000)));
  CHECK_FALSE(parse_json<nlohmann::ordered_json>("{\"a\":" + std::string(200000, '[')));
}

TEST_CASE("brackets inside strings, escaped quotes and backslashes included, do not count as nesting", "[json]") {
  const std::string deep_text = std::string(500, '[') + "\\\"" + std::string(500, '{');
  auto in_string = parse_json("{\"text\": \"" + deep_text + "\"}");
  REQUIRE(in_string);
  CHECK((*in_string)["text"] == std::string(500, '[') + "\"" + std::string(500, '{'));
  // A string ending in an escaped backslash closes there: the brackets after it count.
  CHECK(json_nests_deeper_than("[\"a\\\\\"," + nested_arrays(10) + "]", 10));
  CHECK_FALSE(json_nests_deeper_than("[\"a\\\\\"," + nested_arrays(9) + "]", 10));
  // Objects and arrays count alike.
  CHECK(json_nests_deeper_than("{\"a\":[{\"b\":[1]}]}", 3));
  CHECK_FALSE(json_nests_deeper_than("{\"a\":[{\"b\":[1]}]}", 4));
}

TEST_CASE("a syntax error comes back as the parser words it, without nlohmann's prefix", "[json]") {
  auto bad = parse_json("{not json");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.rfind("parse error at line 1, column 3: syntax error while parsing object key", 0) == 0);
  // A long unterminated string is quoted by its end only.
  auto unterminated = parse_json("[\"" + std::string(5000, 'x') + "\xc3\xa9");
  REQUIRE_FALSE(unterminated);
  CHECK(unterminated.error().message.size() < 250);
  CHECK_THAT(unterminated.error().message, Catch::Contains("last read: '…xxx") && Catch::Contains("\xc3\xa9'"));
  auto empty = parse_json("");
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.error().message, Catch::Contains("unexpected end of input"));
}

TEST_CASE("read_json_file names the file and what is wrong with it", "[json]") {
  auto missing = scout::read_json_file("/nonexistent/scout-state.json");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "/nonexistent/scout-state.json: cannot open for reading");
}
