// The in-thought protocol: how the model searches, reads and runs code while it thinks.
//
// Announced in the system prompt, written by the model inside its thinking:
//
//   <search>QUERY</search>   web_search {"query": QUERY}
//   <fetch>URL</fetch>       fetch_url  {"url": URL}
//   <run>CODE</run>          run_code   {"language": "python", "code": CODE}
//
// Generation pauses at the close tag; the tool runs through the registry (argument checks,
// deadline, cancellation as for any call); its result is written into the thinking as
//
//   \n<result>\nRESULT\n</result>\n
//
// and generation resumes from the same cache. RESULT is condensed to a budget (whole lines,
// with a visible marker) and keeps the sources' URLs so the answer can cite them. Text in a
// result that spells one of the protocol's tags or the think tags is defused (its "<" becomes
// "‹"), so a page cannot end the model's thinking or fake a result.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/messages.h"
#include "agent/stream_parser.h"
#include "tools/registry/tool.h"

namespace scout::agent {

// The protocol's actions whose tools are among `tools` (none when there are none).
std::vector<ThoughtAction> thought_actions_for(const std::vector<ToolSpec>& tools);

// The system-prompt paragraph that teaches `actions`; empty when there are none.
std::string thought_protocol_prompt(const std::vector<ThoughtAction>& actions);

// The text written into the thinking for a tool's output: the result block, condensed to at most
// `budget` bytes of result text.
std::string thought_result_text(const tools::ToolOutput& output, std::size_t budget);

// A source the run consulted: a search hit or a fetched page.
struct Source {
  std::string url;
  std::string title;
};

// The sources in a tool's output (web_search hits, fetch_url's page), in order.
std::vector<Source> sources_of(const std::string& tool, const tools::ToolOutput& output);

}  // namespace scout::agent
