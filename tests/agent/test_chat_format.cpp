// ChatFormat against the models' own chat templates: every conversation below is rendered by
// Scout and by the real Jinja template (tests/reference/render_chat_template.mjs, run with
// @huggingface/jinja on the chat_template of the model's tokenizer_config.json), and the two
// strings must be identical byte for byte.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "agent/chat_format.h"
#include "tests/common/process.h"

using namespace scout;
using namespace scout::agent;
using ojson = nlohmann::ordered_json;

namespace {

struct Conversation {
  std::string label;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  RenderOptions options;
};

Message text(Role role, std::string content, std::string reasoning = "") {
  Message m;
  m.role = role;
  m.content = std::move(content);
  m.reasoning = std::move(reasoning);
  return m;
}

Message calls(std::string content, std::vector<ToolCall> tool_calls, std::string reasoning = "") {
  Message m = text(Role::assistant, std::move(content), std::move(reasoning));
  m.tool_calls = std::move(tool_calls);
  return m;
}

Message result(std::string id, std::string name, std::string content) {
  Message m = text(Role::tool, std::move(content));
  m.tool_call_id = std::move(id);
  m.name = std::move(name);
  return m;
}

std::vector<ToolSpec> search_tools() {
  ToolSpec search{"web_search", "Search the web. Returns \"title\", url and snippet.",
                  ojson::parse(R"({"type": "object", "properties": {"query": {"type": "string",
                    "description": "what to look for"}, "max_results": {"type": "integer", "minimum": 1}},
                    "required": ["query"]})")};
  ToolSpec fetch{"fetch_page", "Fetch a page — returns its text (UTF-8).",
                 ojson::parse(R"({"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]})")};
  return {search, fetch};
}

ToolCall call(std::string id, std::string name, const char* arguments) {
  return ToolCall{std::move(id), std::move(name), ojson::parse(arguments)};
}

std::vector<Conversation> conversations() {
  std::vector<Conversation> out;
  const auto tools = search_tools();
  const char* tricky_args =
      R"({"query": "naïve \"quoted\" 東京 \\ back\nslash\ttab\u0001 🙂", "max_results": 3,
          "weight": 1.5, "flags": [true, false, null], "nested": {"z": 1, "a": {}, "e": []}})";

  out.push_back({"one user turn", {text(Role::user, "Hello!")}, {}, {}});
  out.push_back({"system and user, no generation prompt",
                 {text(Role::system, "You are terse."), text(Role::user, "Hi")}, {}, {false, true}});
  out.push_back({"tools with a system prompt, thinking off",
                 {text(Role::system, "You research things."), text(Role::user, "Who won in 2022?")}, tools,
                 {true, false}});
  out.push_back({"tools without a system prompt", {text(Role::user, "Search for cats")}, tools, {}});
  out.push_back({"multi-turn with reasoning in earlier assistant turns",
                 {text(Role::system, "sys"), text(Role::user, "2+2?"),
                  text(Role::assistant, "4", "\nAdd them.\n"), text(Role::user, "times 3?"),
                  text(Role::assistant, "\n\n12", "4*3=12"), text(Role::user, "thanks")},
                 {}, {}});
  out.push_back({"single tool call, result, final answer with reasoning",
                 {text(Role::system, "s"), text(Role::user, "Find cats"),
                  calls("", {call("call_1", "web_search", R"({"query": "cats"})")}, "I should search."),
                  result("call_1", "web_search", "Cats are mammals."),
                  text(Role::assistant, "Cats are mammals.", "The result says so.")},
                 tools, {false, true}});
  out.push_back({"parallel tool calls after text, then generation",
                 {text(Role::user, "Compare two pages"),
                  calls("Let me fetch both.",
                        {call("a", "fetch_page", R"({"url": "https://a.example/?q=1&r=2"})"),
                         call("b", "fetch_page", R"({"url": "https://b.example/"})")}),
                  result("a", "fetch_page", "Page A"), result("b", "fetch_page", "Page \"B\"\n")},
                 tools, {}});
  out.push_back({"unicode, quotes and control characters in arguments",
                 {text(Role::user, "Ünïcödé query ✓"), calls("", {call("x", "web_search", tricky_args)}),
                  result("x", "web_search", "none")},
                 tools, {true, false}});
  out.push_back({"two tool-calling rounds in one query",
                 {text(Role::user, "Deep research"),
                  calls("", {call("1", "web_search", R"({"query": "first"})")}, "round one"),
                  result("1", "web_search", "r1"),
                  calls("", {call("2", "web_search", R"({"query": "second", "max_results": 2})"),
                             call("3", "fetch_page", R"({"url": "u"})"),
                             call("4", "fetch_page", R"({"url": "v"})")}),
                  result("2", "web_search", "r2"), result("3", "fetch_page", "r3"),
                  result("4", "fetch_page", "r4"), text(Role::assistant, "Done.", "all read")},
                 tools, {true, true}});
  out.push_back({"thinking written inline in the content",
                 {text(Role::user, "q1"), text(Role::assistant, "<think>\nold\n</think>\n\nA1"),
                  text(Role::user, "q2"), text(Role::assistant, "\n<think>new\n\n</think>\n\nA2")},
                 {}, {false, true}});
  out.push_back({"a user turn that looks like a tool response, and a later system turn",
                 {text(Role::system, "first"), text(Role::user, "real question"),
                  text(Role::assistant, "a", "kept?"), text(Role::user, "<tool_response>x</tool_response>"),
                  text(Role::system, "second system"), text(Role::assistant, "b", "kept")},
                 {}, {true, false}});
  return out;
}

std::string reference_input(const char* template_name, const Conversation& c) {
  ojson messages = ojson::array();
  for (const Message& m : c.messages) {
    ojson j = {{"role", role_name(m.role)}, {"content", m.content}};
    if (!m.reasoning.empty()) j["reasoning"] = m.reasoning;
    if (!m.tool_calls.empty()) {
      j["tool_calls"] = ojson::array();
      for (const ToolCall& tc : m.tool_calls)
        j["tool_calls"].push_back({{"id", tc.id}, {"name", tc.name}, {"arguments", tc.arguments}});
    }
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    if (!m.name.empty()) j["name"] = m.name;
    messages.push_back(std::move(j));
  }
  ojson tools = ojson::array();
  for (const ToolSpec& t : c.tools)
    tools.push_back({{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}});
  ojson input = {{"template", template_name},
                 {"messages", messages},
                 {"tools", tools},
                 {"add_generation_prompt", c.options.add_generation_prompt},
                 {"enable_thinking", c.options.enable_thinking}};
  return input.dump();
}

// The real template's rendering of `c`.
std::string render_with_jinja(const char* template_name, const Conversation& c) {
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("scout_chat_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".json");
  {
    std::ofstream file(path, std::ios::binary);
    file << reference_input(template_name, c);
  }
  const auto run = test::run_command("cd " + test::shell_quote(SCOUT_REFERENCE_DIR) +
                                     " && node render_chat_template.mjs < " + test::shell_quote(path.string()));
  std::filesystem::remove(path);
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  return run.output;
}

void check_against_template(const char* format_name, const char* template_name) {
  const auto format = ChatFormat::by_name(format_name);
  REQUIRE(format.has_value());
  for (const Conversation& c : conversations()) {
    INFO(c.label);
    Conversation reference = c;
    if (format->kind() == ChatFormat::Kind::deepseek_v3 && !c.tools.empty()) {
      // DeepSeek's template has no place for tools; Scout describes them after the system
      // prompt, which is what the template renders for one more system message at the end.
      reference.messages.push_back(text(Role::system, deepseek_tools_prompt(c.tools)));
    }
    const std::string expected = render_with_jinja(template_name, reference);
    const std::string ours = format->render(c.messages, c.tools, c.options);
    CHECK(ours == expected);
  }
}

}  // namespace

TEST_CASE("Qwen3 prompts are byte-identical to Qwen3's own chat template", "[agent]") {
  check_against_template("qwen3", "qwen3");
}

TEST_CASE("DeepSeek-V3 prompts are byte-identical to DeepSeek-V3's own chat template", "[agent]") {
  check_against_template("deepseek-v3", "deepseek_v3");
}

TEST_CASE("DeepSeek-R1 prompts are V3's with the reasoning opened and earlier reasoning cut from the text", "[agent]") {
  const ChatFormat v3(ChatFormat::Kind::deepseek_v3), r1(ChatFormat::Kind::deepseek_r1);
  for (const Conversation& c : conversations()) {
    INFO(c.label);
    const std::string ours = r1.render(c.messages, c.tools, c.options);
    bool inline_thinking = false;
    for (const Message& m : c.messages) inline_thinking = inline_thinking || m.content.find("</think>") != std::string::npos;
    if (inline_thinking) {
      // Only the text after the last </think> of each assistant turn is kept.
      CHECK(ours.find("old") == std::string::npos);
      CHECK(ours.find("new") == std::string::npos);
      CHECK(ours.find("<｜Assistant｜>\n\nA1<｜end▁of▁sentence｜>") != std::string::npos);
      continue;
    }
    const bool opens = c.options.add_generation_prompt && c.messages.back().role != Role::tool;
    CHECK(ours == v3.render(c.messages, c.tools, c.options) + (opens ? "<think>\n" : ""));
    CHECK(r1.opens_thinking(ours) == opens);
    CHECK_FALSE(v3.opens_thinking(v3.render(c.messages, c.tools, c.options)));
  }
  // Qwen3 prompts never leave a think block open: the model opens its own, or thinking is off.
  const ChatFormat qwen3(ChatFormat::Kind::qwen3);
  for (const bool thinking : {true, false})
    CHECK_FALSE(qwen3.opens_thinking(qwen3.render({text(Role::user, "hi")}, {}, {true, thinking})));
}

TEST_CASE("DeepSeek's tools section names each tool with its description, schema and the call syntax", "[agent]") {
  const auto tools = search_tools();
  const std::string section = deepseek_tools_prompt(tools);
  for (const ToolSpec& t : tools) {
    CHECK(section.find("### " + t.name + "\nDescription: " + t.description + "\n\nParameters: " +
                       template_tojson(t.parameters) + "\n") != std::string::npos);
  }
  CHECK(section.find("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>") != std::string::npos);
  // Without tools nothing is added: the rendering stays the template's.
  const std::vector<Message> messages{text(Role::system, "s"), text(Role::user, "u")};
  CHECK(ChatFormat(ChatFormat::Kind::deepseek_v3).render(messages, {}, {}) ==
        "<｜begin▁of▁sentence｜>s<｜User｜>u<｜Assistant｜>");
}

TEST_CASE("tojson writes Python-style separators, keeps key order and keeps UTF-8", "[agent]") {
  const auto value = ojson::parse(R"({"b": [1, 2.5, {}], "a": "é\"\n\u001f", "c": {"y": null, "x": true}})");
  CHECK(template_tojson(value) == "{\"b\": [1, 2.5, {}], \"a\": \"é\\\"\\n\\u001f\", \"c\": {\"y\": null, \"x\": true}}");
}

TEST_CASE("chat formats are chosen by name and unknown names are refused", "[agent]") {
  REQUIRE(ChatFormat::by_name("qwen3").has_value());
  CHECK(ChatFormat::by_name("qwen3")->stop_markers().front() == "<|im_end|>");
  CHECK(ChatFormat::by_name("qwen3")->stream_tags().tool_call_open == "<tool_call>");
  REQUIRE(ChatFormat::by_name("deepseek-r1").has_value());
  CHECK(ChatFormat::by_name("deepseek-r1")->kind() == ChatFormat::Kind::deepseek_r1);
  CHECK(ChatFormat::by_name("deepseek-r1")->stream_tags().think_close == "</think>");
  REQUIRE(ChatFormat::by_name("deepseek-v3").has_value());
  CHECK(ChatFormat::by_name("deepseek-v3")->stop_markers().front() == "<｜end▁of▁sentence｜>");
  const auto unknown = ChatFormat::by_name("llama-9");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message.find("qwen3") != std::string::npos);
}
