// Elicitation: an MCP server asking the user for input in the middle of a call
// (`elicitation/create`, form mode). The request carries a message and a flat JSON Schema of
// the fields it wants (strings, numbers, integers, booleans, enums, arrays of enum values);
// the answer is {"action": "accept", "content": {...}}, {"action": "decline"} or
// {"action": "cancel"}.
//
// Scout answers in one of two ways, chosen by the front end:
//   - a terminal run asks the user, field by field, with each field's default offered
//     (ask_on_terminal);
//   - a scripted run has nobody to ask and declines (decline_elicitation), so a server never
//     waits on an answer that cannot come.
// Whatever is accepted has the schema's defaults filled in for fields left out and is checked
// against the schema before it is sent.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "plugins/mcp/jsonrpc.h"

namespace scout::plugins::mcp {

// Takes the asking server's name and elicitation/create's params, returns the result to send.
using ElicitationHandler = std::function<Json(const std::string& server, const Json& params)>;

Json decline_elicitation(const Json& params);

// Fills `content` with the defaults of properties it lacks, then checks it against
// `requested_schema`; returns what is wrong (empty when it conforms).
std::vector<std::string> apply_elicitation_defaults(const Json& requested_schema, Json& content);

// Asks each field on `out`, reads answers from `in`: an empty line takes the default (or leaves
// an optional field out), "?" shows the field's description again. End of input cancels. The
// user confirms before anything is sent; "n" declines.
Json ask_on_terminal(const std::string& server, const Json& params, std::istream& in, std::ostream& out);

}  // namespace scout::plugins::mcp
