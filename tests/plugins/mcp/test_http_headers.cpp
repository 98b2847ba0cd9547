// The 2026-07-28 Streamable HTTP request headers: Mcp-Method/Mcp-Name from the body,
// Mcp-Param-* from x-mcp-header annotations, their value encoding, and the annotation rules
// that decide whether a tool may be offered at all.
#include <catch2/catch.hpp>

#include <map>

#include "plugins/mcp/http_headers.h"
#include "tools/http/http_client.h"

using namespace scout::plugins::mcp;
using Catch::Contains;

namespace {

std::string header(const HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "(absent)";
}

}  // namespace

TEST_CASE("base64 encoding pads as RFC 4648 says", "[mcp][http_headers]") {
  using scout::tools::http::base64_encode;
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("every request names its method, and calls, prompts and reads name their target", "[mcp][http_headers]") {
  const Json call = {{"name", "my-hyphenated-tool"}, {"arguments", Json::object()}};
  auto h = standard_request_headers("tools/call", &call);
  CHECK(header(h, "Mcp-Method") == "tools/call");
  CHECK(header(h, "Mcp-Name") == "my-hyphenated-tool");

  const Json read = {{"uri", "file:///path/to/file%20name.txt"}};
  CHECK(header(standard_request_headers("resources/read", &read), "Mcp-Name") == "file:///path/to/file%20name.txt");
  const Json prompt = {{"name", "test_prompt"}};
  CHECK(header(standard_request_headers("prompts/get", &prompt), "Mcp-Name") == "test_prompt");

  const Json list = Json::object();
  h = standard_request_headers("tools/list", &list);
  CHECK(header(h, "Mcp-Method") == "tools/list");
  CHECK(header(h, "Mcp-Name") == "(absent)");
  CHECK(header(standard_request_headers("notifications/cancelled", nullptr), "Mcp-Method") == "notifications/cancelled");
}

TEST_CASE("header values that are not plain visible ASCII travel as base64, as the spec's table shows", "[mcp][http_headers]") {
  CHECK(encode_header_value("us-west1") == "us-west1");
  CHECK(encode_header_value("us west 1") == "us west 1");  // inner spaces are fine
  CHECK(encode_header_value("") == "");
  CHECK(encode_header_value("Hello, 世界") == "=?base64?SGVsbG8sIOS4lueVjA==?=");
  CHECK(encode_header_value(" padded ") == "=?base64?IHBhZGRlZCA=?=");
  CHECK(encode_header_value(" us-west1") == "=?base64?IHVzLXdlc3Qx?=");
  CHECK(encode_header_value("line1\nline2") == "=?base64?bGluZTEKbGluZTI=?=");
  CHECK(encode_header_value("\tindented") == "=?base64?CWluZGVudGVk?=");
  CHECK(encode_header_value("=?base64?literal?=") == "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
}

TEST_CASE("annotated parameters are mirrored, typed values written as text, null and missing ones left out",
          "[mcp][http_headers]") {
  const Json schema = Json::parse(R"({
    "type": "object",
    "properties": {
      "region": {"type": "string", "x-mcp-header": "Region"},
      "priority": {"type": "integer", "x-mcp-header": "Priority"},
      "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
      "debug": {"type": "boolean", "x-mcp-header": "Debug"},
      "method_val": {"type": "string", "x-mcp-header": "Method"},
      "greeting": {"type": "string", "x-mcp-header": "Greeting"},
      "float_val": {"type": "number"},
      "query": {"type": "string"},
      "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}}
    }})");
  REQUIRE_FALSE(header_annotation_problem(schema));
  const Json args = {{"region", "us-west1"}, {"priority", 42},   {"verbose", nullptr},
                     {"debug", true},        {"method_val", "m"}, {"greeting", "Hello, 世界"},
                     {"float_val", 3.14},    {"query", "SELECT 1"}, {"target", {{"zone", "b"}}}};
  const HeaderList h = parameter_headers(schema, args);
  CHECK(header(h, "Mcp-Param-Region") == "us-west1");
  CHECK(header(h, "Mcp-Param-Priority") == "42");
  CHECK(header(h, "Mcp-Param-Verbose") == "(absent)");  // null: omitted
  CHECK(header(h, "Mcp-Param-Debug") == "true");
  CHECK(header(h, "Mcp-Param-Method") == "m");  // a parameter header, never Mcp-Method itself
  CHECK(header(h, "Mcp-Param-Greeting") == "=?base64?SGVsbG8sIOS4lueVjA==?=");
  CHECK(header(h, "Mcp-Param-Zone") == "b");  // nested properties count too
  CHECK(h.size() == 6);                       // nothing for unannotated float_val and query

  const HeaderList none = parameter_headers(schema, Json{{"query", "x"}});
  CHECK(none.empty());
  // An integer that arrives as 42.0 is still written as 42.
  CHECK(header(parameter_headers(schema, Json{{"priority", 42.0}}), "Mcp-Param-Priority") == "42");
}

TEST_CASE("a tool whose x-mcp-header annotations break the rules is refused, naming the rule", "[mcp][http_headers]") {
  auto problem = [](const char* properties) {
    return header_annotation_problem(Json::parse(std::string(R"({"type": "object", "properties": )") + properties + "}"));
  };
  CHECK_FALSE(problem(R"({"region": {"type": "string", "x-mcp-header": "Region"}})"));
  CHECK_FALSE(problem(R"({"n": {"type": ["integer", "null"], "x-mcp-header": "N"}})"));
  CHECK_THAT(*problem(R"({"v": {"type": "string", "x-mcp-header": ""}})"), Contains("is empty"));
  CHECK_THAT(*problem(R"({"d": {"type": "object", "x-mcp-header": "Data"}})"), Contains("only string, integer and boolean"));
  CHECK_THAT(*problem(R"({"i": {"type": "array", "items": {"type": "string"}, "x-mcp-header": "Items"}})"),
             Contains("type \"array\""));
  CHECK(problem(R"({"n": {"type": "null", "x-mcp-header": "Nil"}})"));
  CHECK_THAT(*problem(R"({"s": {"type": "number", "x-mcp-header": "Score"}})"), Contains("type \"number\""));
  CHECK_THAT(*problem(R"({"a": {"type": "string", "x-mcp-header": "Region"}, "b": {"type": "string", "x-mcp-header": "Region"}})"),
             Contains("repeats"));
  CHECK_THAT(*problem(R"({"a": {"type": "string", "x-mcp-header": "MyField"}, "b": {"type": "string", "x-mcp-header": "myfield"}})"),
             Contains("repeats"));
  CHECK_THAT(*problem(R"({"v": {"type": "string", "x-mcp-header": "My Region"}})"), Contains("not an HTTP header token"));
  CHECK(problem(R"({"v": {"type": "string", "x-mcp-header": "Region:Primary"}})"));
  CHECK(problem(R"({"v": {"type": "string", "x-mcp-header": "Région"}})"));
  CHECK(problem(R"({"v": {"type": "string", "x-mcp-header": "Region\t1"}})"));
  CHECK_THAT(*problem(R"({"v": {"type": "string", "x-mcp-header": 7}})"), Contains("not a string"));
  CHECK_THAT(*problem(R"({"outer": {"type": "object", "properties": {"v": {"type": "number", "x-mcp-header": "V"}}}})"),
             Contains("'outer.v'"));
}

TEST_CASE("a server finds the stateless request whose headers disagree with its body", "[mcp][http_headers]") {
  const Json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                     {"io.modelcontextprotocol/clientCapabilities", Json::object()}};
  const Request call{RequestId{std::int64_t{1}}, "tools/call", Json{{"name", "get_weather"}, {"_meta", meta}}};
  std::map<std::string, std::string> headers{
      {"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/call"}, {"Mcp-Name", "get_weather"}};
  auto lookup = [&](std::string_view name) {
    const auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string() : it->second;
  };
  CHECK_FALSE(stateless_header_problem(call, lookup));

  headers["Mcp-Method"] = "Tools/Call";  // values are case-sensitive
  auto problem = stateless_header_problem(call, lookup);
  REQUIRE(problem);
  CHECK(problem->code == -32020);
  CHECK_THAT(problem->message, Contains("Mcp-Method"));
  headers["Mcp-Method"] = "tools/call";
  headers["Mcp-Name"] = "get_forecast";
  CHECK(stateless_header_problem(call, lookup)->code == -32020);
  headers.erase("Mcp-Name");
  CHECK_THAT(stateless_header_problem(call, lookup)->message, Contains("no Mcp-Name"));
  headers["Mcp-Name"] = "get_weather";
  headers["MCP-Protocol-Version"] = "2025-11-25";
  CHECK_THAT(stateless_header_problem(call, lookup)->message, Contains("_meta says '2026-07-28'"));
  headers.erase("MCP-Protocol-Version");
  CHECK(stateless_header_problem(call, lookup)->code == -32020);

  headers["MCP-Protocol-Version"] = "2026-07-28";
  const Request bare{RequestId{std::int64_t{2}}, "tools/list", Json::object()};
  headers["Mcp-Method"] = "tools/list";
  CHECK(stateless_header_problem(bare, lookup)->code == -32602);  // no revision in _meta
  const Request unicode{RequestId{std::int64_t{3}}, "resources/read", Json{{"uri", "file:///Grüße.txt"}, {"_meta", meta}}};
  headers["Mcp-Method"] = "resources/read";
  headers["Mcp-Name"] = encode_header_value("file:///Grüße.txt");  // as a client must send it
  CHECK_FALSE(stateless_header_problem(unicode, lookup));
}
