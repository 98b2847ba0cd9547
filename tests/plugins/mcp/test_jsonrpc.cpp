// JSON-RPC 2.0 as MCP uses it: parsing every message kind, refusing malformed ones with a clear
// reason, one-line serialization, and newline framing for the stdio transport.
#include <catch2/catch.hpp>

#include "plugins/mcp/jsonrpc.h"

using namespace scout::plugins::mcp;
using Catch::Contains;

TEST_CASE("requests, notifications and responses parse into their types", "[mcp][jsonrpc]") {
  auto req = parse_message(R"({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "echo"}})");
  REQUIRE(req);
  const auto& r = std::get<Request>(*req);
  CHECK(std::get<std::int64_t>(r.id) == 7);
  CHECK(r.method == "tools/call");
  CHECK(r.params->at("name") == "echo");

  auto note = parse_message(R"({"jsonrpc": "2.0", "method": "notifications/initialized"})");
  REQUIRE(note);
  CHECK(std::get<Notification>(*note).method == "notifications/initialized");
  CHECK_FALSE(std::get<Notification>(*note).params);

  auto ok = parse_message(R"({"jsonrpc": "2.0", "id": "a-1", "result": {"tools": []}})");
  REQUIRE(ok);
  const auto& resp = std::get<Response>(*ok);
  CHECK(std::get<std::string>(resp.id) == "a-1");
  REQUIRE(resp.ok());
  CHECK(resp.result().at("tools").empty());

  auto err = parse_message(R"({"jsonrpc": "2.0", "id": 3, "error": {"code": -32601, "message": "no such method",
                                "data": {"method": "x"}}})");
  REQUIRE(err);
  const auto& failed = std::get<Response>(*err);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == error_code::method_not_found);
  CHECK(failed.error().message == "no such method");
  CHECK(failed.error().data->at("method") == "x");
}

TEST_CASE("malformed messages are refused with the reason and an excerpt", "[mcp][jsonrpc]") {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : {Case{"{not json", "not JSON"},
                        Case{R"([{"jsonrpc": "2.0", "method": "a"}])", "batch"},
                        Case{R"("hello")", "not a JSON object"},
                        Case{R"({"id": 1, "method": "a"})", "\"jsonrpc\" is not \"2.0\""},
                        Case{R"({"jsonrpc": "1.0", "id": 1, "method": "a"})", "\"jsonrpc\" is not \"2.0\""},
                        Case{R"({"jsonrpc": "2.0", "id": null, "method": "a"})", "string or an integer"},
                        Case{R"({"jsonrpc": "2.0", "id": 1.5, "result": {}})", "string or an integer"},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "method": 5})", "non-empty string"},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "method": "a", "params": 3})", "\"params\" must be"},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "method": "a", "result": {}})", "cannot carry"},
                        Case{R"({"jsonrpc": "2.0", "result": {}})", "neither"},
                        Case{R"({"jsonrpc": "2.0", "id": 1})", "exactly one"},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "m"}})",
                             "exactly one"},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "error": "boom"})", "must be an object"},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "error": {"message": "m"}})", "integer \"code\""},
                        Case{R"({"jsonrpc": "2.0", "id": 1, "error": {"code": 1}})", "string \"message\""}}) {
    INFO(c.text);
    auto m = parse_message(c.text);
    REQUIRE_FALSE(m);
    CHECK_THAT(m.error().message, Contains("not a valid JSON-RPC message") && Contains(c.says));
  }
  const std::string huge = R"({"jsonrpc": "2.0", "junk": ")" + std::string(5000, 'x');
  auto m = parse_message(huge);
  REQUIRE_FALSE(m);
  CHECK(m.error().message.size() < 400);  // the parser's reason and an excerpt, not the whole input
}

TEST_CASE("serialized messages are one line and parse back to the same message", "[mcp][jsonrpc]") {
  const Message request = Request{RequestId{std::int64_t{12}}, "tools/call",
                                  Json{{"name", "echo"}, {"arguments", {{"message", "two\nlines ü"}}}}};
  const std::string line = serialize(request);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line == R"({"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"echo","arguments":{"message":"two\nlines ü"}}})");
  auto back = parse_message(line);
  REQUIRE(back);
  CHECK(std::get<Request>(*back).params == std::get<Request>(request).params);

  CHECK(serialize(Notification{"notifications/cancelled", Json{{"requestId", "r1"}}}) ==
        R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1"}})");
  CHECK(serialize(Response{RequestId{std::string("s")}, ErrorObject{error_code::invalid_params, "bad", std::nullopt}}) ==
        R"({"jsonrpc":"2.0","id":"s","error":{"code":-32602,"message":"bad"}})");
  CHECK(serialize(Response{RequestId{std::int64_t{1}}, Json::object()}) == R"({"jsonrpc":"2.0","id":1,"result":{}})");
  // Invalid UTF-8 from a peer is replaced, not a failure.
  CHECK(serialize(Notification{"x", Json{{"t", std::string("a\xff" "b")}}}).find("a\xEF\xBF\xBD" "b") != std::string::npos);
  CHECK(id_text(RequestId{std::string("q\"")}) == R"("q\"")");
  CHECK(id_text(RequestId{std::int64_t{-4}}) == "-4");
}

TEST_CASE("the line framer splits a byte stream into messages at any chunking", "[mcp][jsonrpc]") {
  const std::string stream = "{\"a\":1}\n\r\n{\"b\":2}\r\n{\"c\":\"x\"}\n";
  for (std::size_t size = 1; size <= stream.size(); ++size) {
    LineFramer framer;
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < stream.size(); i += size) {
      auto got = framer.feed(std::string_view(stream).substr(i, size));
      lines.insert(lines.end(), got.begin(), got.end());
    }
    CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":\"x\"}"});
    CHECK(framer.pending_bytes() == 0);
  }
  LineFramer held;
  CHECK(held.feed("{\"partial\":").empty());
  CHECK(held.pending_bytes() == 11);
}

TEST_CASE("a peer that writes without line ends is cut off at the cap", "[mcp][jsonrpc]") {
  LineFramer framer(16);
  CHECK(framer.feed("0123456789").empty());
  CHECK_FALSE(framer.failed());
  CHECK(framer.feed("0123456789").empty());
  REQUIRE(framer.failed());
  CHECK_THAT(framer.error(), Contains("longer than 16 bytes"));
  CHECK(framer.feed("\n{}\n").empty());  // stays failed
}
