// JSON-RPC 2.0 as MCP uses it: typed messages, parsed with errors that say what is wrong, and
// written as one line of JSON (the stdio transport frames messages by newlines).
//
// MCP's rules on top of JSON-RPC: request ids are strings or integers, never null; there are no
// batches (an array is refused, naming the rule); a response holds exactly one of result and
// error. Parsing never throws on input: a peer's bytes are untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace scout::plugins::mcp {

using Json = nlohmann::ordered_json;

// A request id: an integer or a string (MCP forbids null).
using RequestId = std::variant<std::int64_t, std::string>;
std::string id_text(const RequestId& id);  // 7, "abc" → 7, "abc" (quoted), for messages

// The standard error codes.
namespace error_code {
inline constexpr std::int64_t parse_error = -32700;
inline constexpr std::int64_t invalid_request = -32600;
inline constexpr std::int64_t method_not_found = -32601;
inline constexpr std::int64_t invalid_params = -32602;
inline constexpr std::int64_t internal_error = -32603;
// MCP's own, from the stateless 2026-07-28 revision.
inline constexpr std::int64_t header_mismatch = -32020;             // HTTP headers disagree with the body
inline constexpr std::int64_t missing_client_capability = -32021;   // data.requiredCapabilities
inline constexpr std::int64_t unsupported_protocol_version = -32022;  // data.supported, data.requested
// The code the specification's text gave UnsupportedProtocolVersionError before the schema
// settled on -32022; a client recognizes both.
inline constexpr std::int64_t unsupported_protocol_version_draft = -32004;
}  // namespace error_code

// The keys of the stateless revision's per-request envelope, params._meta.
namespace meta_key {
inline constexpr const char* protocol_version = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* client_info = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* client_capabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* server_info = "io.modelcontextprotocol/serverInfo";
inline constexpr const char* subscription_id = "io.modelcontextprotocol/subscriptionId";
}  // namespace meta_key

// The stateless revision a message declares in params._meta; empty when it declares none.
std::string declared_protocol_version(const std::optional<Json>& params);

struct Request {
  RequestId id;
  std::string method;
  std::optional<Json> params;  // an object (or array) when present
};

struct Notification {
  std::string method;
  std::optional<Json> params;
};

struct ErrorObject {
  std::int64_t code = error_code::internal_error;
  std::string message;
  std::optional<Json> data;
};

struct Response {
  RequestId id;
  std::variant<Json, ErrorObject> outcome;  // result, or error
  bool ok() const { return outcome.index() == 0; }
  const Json& result() const { return std::get<Json>(outcome); }
  const ErrorObject& error() const { return std::get<ErrorObject>(outcome); }
};

using Message = std::variant<Request, Notification, Response>;

// One message from its JSON text. Errors name what is wrong and quote a short excerpt.
// Outside JSON: nesting deeper than common/json.h's kMaxJsonDepth is refused as not JSON.
Result<Message> parse_message(std::string_view text);

// The JSON-RPC error code that answers text parse_message refused: parse_error (-32700) when it
// is not JSON Scout reads (malformed, or nested too deep), else invalid_request (-32600).
std::int64_t refusal_code(std::string_view text);

// The message as one line of JSON, without the newline. JSON escapes keep newlines inside
// strings off the line; invalid UTF-8 in strings is replaced (U+FFFD) rather than failing.
std::string serialize(const Message& message);

// Splits a byte stream into newline-terminated lines ("\r\n" too), for the stdio transport.
// A line longer than `max_line_bytes` is an error (a peer writing garbage without newlines must
// not grow the buffer without bound); after an error the framer stays failed.
class LineFramer {
 public:
  explicit LineFramer(std::size_t max_line_bytes = std::size_t{64} << 20) : max_(max_line_bytes) {}

  // Complete lines in `bytes` (with what was held before), without their line ends. Empty lines
  // are skipped.
  std::vector<std::string> feed(std::string_view bytes);

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  std::size_t max_;
  std::string pending_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace scout::plugins::mcp
