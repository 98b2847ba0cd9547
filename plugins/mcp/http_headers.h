// The request headers of MCP's 2026-07-28 Streamable HTTP revision, which mirror parts of the
// JSON-RPC body so that gateways and load balancers can route without parsing it:
//
//   Mcp-Method: tools/call          every request and notification: its method
//   Mcp-Name: get_weather           tools/call and prompts/get: params.name; resources/read: params.uri
//   Mcp-Param-Region: us-west1      a tools/call argument whose property in the tool's inputSchema
//                                   carries "x-mcp-header": "Region" (at any nesting depth)
//
// Values that are not plain visible ASCII (non-ASCII, control characters, leading or trailing
// whitespace) travel as =?base64?…?= of their UTF-8; so does a plain value that looks like that
// form. A tool whose x-mcp-header annotations break the rules (empty, not an HTTP token, on a
// non-primitive or `number` property, repeated ignoring case) must not be offered at all.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/mcp/jsonrpc.h"

namespace scout::plugins::mcp {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Mcp-Method, and Mcp-Name where the method has one. `params` may be null.
HeaderList standard_request_headers(const std::string& method, const Json* params);

// Why the tool's x-mcp-header annotations are invalid; nullopt when they are valid or absent.
std::optional<std::string> header_annotation_problem(const Json& input_schema);

// Mcp-Param-{Name} for each annotated parameter the arguments give a non-null primitive value.
// The schema must have passed header_annotation_problem.
HeaderList parameter_headers(const Json& input_schema, const Json& arguments);

// One header value: as is when it is plain visible ASCII, else =?base64?{base64 of the UTF-8}?=.
std::string encode_header_value(const std::string& text);

// The server's side of the same rules: why a stateless request's headers disagree with its body
// (MCP-Protocol-Version with _meta's revision, Mcp-Method with the method, Mcp-Name with the
// name or uri), as the JSON-RPC error to answer with (-32020 HeaderMismatch; -32602 when _meta
// names no revision); nullopt when they agree. `header` gives a header's value, blanks trimmed,
// "" when absent.
std::optional<ErrorObject> stateless_header_problem(const Request& request,
                                                    const std::function<std::string(std::string_view)>& header);

}  // namespace scout::plugins::mcp
