#include "agent/thought_protocol.h"

#include <algorithm>

namespace scout::agent {

namespace {

using ojson = nlohmann::ordered_json;

const std::vector<ThoughtAction>& all_actions() {
  static const std::vector<ThoughtAction> actions{
      {"<search>", "</search>", "web_search", "query", ojson::object()},
      {"<fetch>", "</fetch>", "fetch_url", "url", ojson::object()},
      {"<run>", "</run>", "run_code", "code", ojson{{"language", "python"}}},
  };
  return actions;
}

// Tags a result must not be able to write into the thinking.
const std::vector<std::string>& defused_tags() {
  static const std::vector<std::string> tags{"<result>", "</result>", "<think>", "</think>", "<search>", "</search>",
                                             "<fetch>",  "</fetch>",  "<run>",   "</run>"};
  return tags;
}

std::string defuse(std::string text) {
  for (const std::string& tag : defused_tags()) {
    for (std::size_t at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1))
      text.replace(at, 1, "‹");
  }
  return text;
}

// The first `budget` bytes of `text`, cut at the last line end within them (or, for one long
// line, at a UTF-8 character boundary), with a marker saying how much was left out.
std::string condense(const std::string& text, std::size_t budget) {
  if (text.size() <= budget) return text;
  std::size_t cut = text.rfind('\n', budget);
  if (cut == std::string::npos || cut < budget / 2) {
    cut = budget;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  return text.substr(0, cut) + "\n[… " + std::to_string(text.size() - cut) + " more bytes not shown]";
}

}  // namespace

std::vector<ThoughtAction> thought_actions_for(const std::vector<ToolSpec>& tools) {
  std::vector<ThoughtAction> out;
  for (const ThoughtAction& a : all_actions()) {
    if (std::any_of(tools.begin(), tools.end(), [&](const ToolSpec& t) { return t.name == a.tool; })) out.push_back(a);
  }
  return out;
}

std::string thought_protocol_prompt(const std::vector<ThoughtAction>& actions) {
  if (actions.empty()) return {};
  std::string out =
      "You can look things up while you think. Inside your thinking, write one of these and stop; its result "
      "appears right after it between <result> and </result>, and you go on thinking with it:\n";
  for (const ThoughtAction& a : actions) {
    if (a.tool == "web_search") out += "- <search>a search query</search> searches the web;\n";
    if (a.tool == "fetch_url") out += "- <fetch>https://a.url/</fetch> reads a web page as text;\n";
    if (a.tool == "run_code") out += "- <run>python code</run> runs Python and shows what it prints;\n";
  }
  out += "Use them as often as you need, one at a time. Results give the URL of each source: cite those URLs "
         "in your answer for the facts you take from them. The tools can also be called the usual way.";
  return out;
}

std::string thought_result_text(const tools::ToolOutput& output, std::size_t budget) {
  std::string body = condense(output.text, budget);
  if (output.is_error) body = "Error: " + body;
  return "\n<result>\n" + defuse(std::move(body)) + "\n</result>\n";
}

std::vector<Source> sources_of(const std::string& tool, const tools::ToolOutput& output) {
  std::vector<Source> out;
  if (output.is_error || !output.structured) return out;
  const auto& s = *output.structured;
  if (tool == "web_search" && s.is_array()) {
    for (const auto& hit : s)
      if (hit.is_object() && hit.contains("url") && hit["url"].is_string())
        out.push_back({hit["url"].get<std::string>(), hit.value("title", std::string())});
  } else if (tool == "fetch_url" && s.is_object()) {
    const std::string url = s.value("final_url", s.value("url", std::string()));
    if (!url.empty()) out.push_back({url, s.value("title", std::string())});
  }
  return out;
}

}  // namespace scout::agent
