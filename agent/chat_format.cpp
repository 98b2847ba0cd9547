#include "agent/chat_format.h"

#include <cstddef>

namespace scout::agent {

namespace {

using ojson = nlohmann::ordered_json;

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Python's str.lstrip('\n') / rstrip('\n') / strip('\n'), which the Qwen3 template applies.
std::string lstrip_newlines(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == '\n') ++i;
  return std::string(s.substr(i));
}
std::string rstrip_newlines(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && s[n - 1] == '\n') --n;
  return std::string(s.substr(0, n));
}
std::string strip_newlines(std::string_view s) { return lstrip_newlines(rstrip_newlines(s)); }

void append_tojson(std::string& out, const ojson& value) {
  switch (value.type()) {
    case ojson::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ", ";
        first = false;
        out += ojson(key).dump(-1, ' ', false, ojson::error_handler_t::replace);
        out += ": ";
        append_tojson(out, item);
      }
      out += '}';
      break;
    }
    case ojson::value_t::array: {
      out += '[';
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ", ";
        append_tojson(out, value[i]);
      }
      out += ']';
      break;
    }
    default:
      // Scalars: nlohmann escapes strings as json.dumps(ensure_ascii=False) does (\" \\ \b \f
      // \n \r \t, other controls as \u00xx) and writes floats in shortest round-trip form.
      out += value.dump(-1, ' ', false, ojson::error_handler_t::replace);
      break;
  }
}

// ---- Qwen3 ------------------------------------------------------------------------------

constexpr std::string_view kQwenToolsHeader =
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
constexpr std::string_view kQwenToolsFooter =
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
    "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n";

// A tool as the OpenAI-style dict callers of the template pass: the template applies tojson to
// the whole dict, so this shape and key order are part of the prompt.
ojson openai_tool(const ToolSpec& tool) {
  ojson function = ojson::object();
  function["name"] = tool.name;
  function["description"] = tool.description;
  function["parameters"] = tool.parameters;
  ojson out = ojson::object();
  out["type"] = "function";
  out["function"] = std::move(function);
  return out;
}

bool is_tool_response_wrapper(const Message& m) {
  return starts_with(m.content, "<tool_response>") && ends_with(m.content, "</tool_response>");
}

std::string render_qwen3(const std::vector<Message>& messages, const std::vector<ToolSpec>& tools,
                         const RenderOptions& options) {
  std::string out;
  const long n = static_cast<long>(messages.size());
  const bool first_is_system = n > 0 && messages[0].role == Role::system;
  if (!tools.empty()) {
    out += "<|im_start|>system\n";
    if (first_is_system) out += messages[0].content + "\n\n";
    out += kQwenToolsHeader;
    for (const ToolSpec& tool : tools) {
      out += '\n';
      append_tojson(out, openai_tool(tool));
    }
    out += kQwenToolsFooter;
  } else if (first_is_system) {
    out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
  }

  // The last real user query: assistant turns after it (the current multi-step tool exchange)
  // keep their thinking; earlier ones are rendered without it.
  long last_query_index = n - 1;
  for (long i = n - 1; i >= 0; --i) {
    const Message& m = messages[static_cast<std::size_t>(i)];
    if (m.role == Role::user && !is_tool_response_wrapper(m)) {
      last_query_index = i;
      break;
    }
  }

  for (long i = 0; i < n; ++i) {
    const Message& m = messages[static_cast<std::size_t>(i)];
    const bool last = i == n - 1;
    if (m.role == Role::user || (m.role == Role::system && i != 0)) {
      out += std::string("<|im_start|>") + role_name(m.role) + "\n" + m.content + "<|im_end|>\n";
    } else if (m.role == Role::assistant) {
      std::string content = m.content;
      std::string reasoning = m.reasoning;
      // Without separate reasoning, the template recovers it from <think> markup in the text.
      // Python's split('</think>')[0] / [-1] are the text before the first / after the last.
      constexpr std::string_view kOpen = "<think>", kClose = "</think>";
      if (reasoning.empty() && content.find(kClose) != std::string::npos) {
        const std::size_t first_close = content.find(kClose);
        const std::size_t last_close = content.rfind(kClose);
        std::string before = rstrip_newlines(std::string_view(content).substr(0, first_close));
        const std::size_t open = before.rfind(kOpen);
        if (open != std::string::npos) before = before.substr(open + kOpen.size());
        reasoning = lstrip_newlines(before);
        content = lstrip_newlines(std::string_view(content).substr(last_close + kClose.size()));
      }
      if (i > last_query_index && (last || !reasoning.empty())) {
        out += "<|im_start|>assistant\n<think>\n" + strip_newlines(reasoning) + "\n</think>\n\n" +
               lstrip_newlines(content);
      } else {
        out += "<|im_start|>assistant\n" + content;
      }
      for (std::size_t k = 0; k < m.tool_calls.size(); ++k) {
        const ToolCall& call = m.tool_calls[k];
        if (k > 0 || !content.empty()) out += '\n';
        out += "<tool_call>\n{\"name\": \"" + call.name + "\", \"arguments\": ";
        // The template passes string arguments through as written.
        if (call.arguments.is_string()) {
          out += call.arguments.get<std::string>();
        } else {
          append_tojson(out, call.arguments);
        }
        out += "}\n</tool_call>";
      }
      out += "<|im_end|>\n";
    } else if (m.role == Role::tool) {
      // Consecutive tool results share one user turn.
      if (i == 0 || messages[static_cast<std::size_t>(i - 1)].role != Role::tool) out += "<|im_start|>user";
      out += "\n<tool_response>\n" + m.content + "\n</tool_response>";
      if (last || messages[static_cast<std::size_t>(i + 1)].role != Role::tool) out += "<|im_end|>\n";
    }
  }
  if (options.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (!options.enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

// ---- DeepSeek-V3 ------------------------------------------------------------------------

constexpr std::string_view kDsBos = "<｜begin▁of▁sentence｜>";
constexpr std::string_view kDsEos = "<｜end▁of▁sentence｜>";
constexpr std::string_view kDsUser = "<｜User｜>";
constexpr std::string_view kDsAssistant = "<｜Assistant｜>";

// Mirrors the published template statement by statement (the tools section aside, see
// deepseek_tools_prompt), including behaviour that looks
// unintended but is what the model's tokenizer ships: the tool list is never rendered; reasoning
// is dropped; an assistant turn with text renders only the text (its tool calls are dropped);
// the "calls begin" header is written only for the first tool-calling turn of the conversation
// and the "calls end" + end-of-sentence markers only after the second and later calls of a turn;
// "outputs begin" appears only before the first tool result of the conversation.
// `r1`: DeepSeek-R1's template, which is V3's with two changes: an assistant text keeps only
// what follows its last </think>, and the generation prompt opens the reasoning with "<think>\n".
std::string render_deepseek(const std::vector<Message>& messages, const std::vector<ToolSpec>& tools,
                            const RenderOptions& options, bool r1) {
  std::string out(kDsBos);
  bool first_system = true;
  for (const Message& m : messages) {
    if (m.role != Role::system) continue;
    if (!first_system) out += "\n\n";
    out += m.content;
    first_system = false;
  }
  if (!tools.empty()) {
    if (!first_system) out += "\n\n";
    out += deepseek_tools_prompt(tools);
  }
  bool is_first = false;  // the template's ns.is_first: a tool-call header has been written
  bool is_tool = false;
  bool is_output_first = true;
  for (const Message& m : messages) {
    if (m.role == Role::user) {
      is_tool = false;
      out += std::string(kDsUser) + m.content;
    } else if (m.role == Role::assistant && !m.tool_calls.empty() && m.content.empty()) {
      // Content null in the OpenAI convention: a pure tool-calling turn.
      is_tool = false;
      for (const ToolCall& call : m.tool_calls) {
        const std::string args = call.arguments.is_string()
            ? call.arguments.get<std::string>()
            : call.arguments.dump(-1, ' ', false, ojson::error_handler_t::replace);
        const std::string body = "<｜tool▁call▁begin｜>function<｜tool▁sep｜>" + call.name +
                                 "\n```json\n" + args + "\n```<｜tool▁call▁end｜>";
        if (!is_first) {
          out += std::string(kDsAssistant) + "<｜tool▁calls▁begin｜>" + body;
          is_first = true;
        } else {
          out += "\n" + body + "<｜tool▁calls▁end｜>" + std::string(kDsEos);
        }
      }
    } else if (m.role == Role::assistant) {
      std::string_view content = m.content;
      if (const std::size_t close = content.rfind("</think>"); r1 && close != std::string_view::npos)
        content.remove_prefix(close + std::string_view("</think>").size());
      if (is_tool) {
        out += "<｜tool▁outputs▁end｜>" + std::string(content) + std::string(kDsEos);
        is_tool = false;
      } else {
        out += std::string(kDsAssistant) + std::string(content) + std::string(kDsEos);
      }
    } else if (m.role == Role::tool) {
      is_tool = true;
      if (is_output_first) {
        out += "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>" + m.content + "<｜tool▁output▁end｜>";
        is_output_first = false;
      } else {
        out += "\n<｜tool▁output▁begin｜>" + m.content + "<｜tool▁output▁end｜>";
      }
    }
  }
  if (is_tool) out += "<｜tool▁outputs▁end｜>";
  if (options.add_generation_prompt && !is_tool) {
    out += kDsAssistant;
    // R1 has no mode without reasoning, so the think block opens whatever enable_thinking says.
    if (r1) out += "<think>\n";
  }
  return out;
}

}  // namespace

std::string deepseek_tools_prompt(const std::vector<ToolSpec>& tools) {
  std::string out = "## Tools\nYou have access to the following tools:\n\n";
  for (const ToolSpec& tool : tools) {
    out += "### " + tool.name + "\nDescription: " + tool.description + "\n\nParameters: " +
           template_tojson(tool.parameters) + "\n\n";
  }
  out += "To call tools, write exactly:\n";
  out += "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>TOOL_NAME\n```json\nARGUMENTS\n```"
         "<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n";
  out += "TOOL_NAME is one of the tools above, ARGUMENTS a JSON object that follows its Parameters. For several "
         "calls at once, put one <｜tool▁call▁begin｜>…<｜tool▁call▁end｜> after another inside the same "
         "<｜tool▁calls▁begin｜>…<｜tool▁calls▁end｜>. The results come back as tool outputs.";
  return out;
}

std::string template_tojson(const nlohmann::ordered_json& value) {
  std::string out;
  append_tojson(out, value);
  return out;
}

Result<ChatFormat> ChatFormat::by_name(std::string_view name) {
  if (name == "qwen3") return ChatFormat(Kind::qwen3);
  if (name == "deepseek-v3") return ChatFormat(Kind::deepseek_v3);
  if (name == "deepseek-r1") return ChatFormat(Kind::deepseek_r1);
  return make_error("unknown chat format '" + std::string(name) + "' (known: qwen3, deepseek-v3, deepseek-r1)");
}

const char* ChatFormat::name() const {
  switch (kind_) {
    case Kind::qwen3: return "qwen3";
    case Kind::deepseek_v3: return "deepseek-v3";
    case Kind::deepseek_r1: return "deepseek-r1";
  }
  return "unknown";
}

std::string ChatFormat::render(const std::vector<Message>& messages, const std::vector<ToolSpec>& tools,
                               const RenderOptions& options) const {
  if (kind_ == Kind::qwen3) return render_qwen3(messages, tools, options);
  return render_deepseek(messages, tools, options, kind_ == Kind::deepseek_r1);
}

std::vector<std::string> ChatFormat::stop_markers() const {
  // Qwen3 ends a turn with <|im_end|>; <|endoftext|> is its other end-of-generation token.
  if (kind_ == Kind::qwen3) return {"<|im_end|>", "<|endoftext|>"};
  return {std::string(kDsEos)};
}

StreamTags ChatFormat::stream_tags() const {
  StreamTags tags;
  if (kind_ == Kind::qwen3) {
    tags.think_open = "<think>";
    tags.think_close = "</think>";
    tags.tool_call_open = "<tool_call>";
    tags.tool_call_close = "</tool_call>";
    return tags;
  }
  // DeepSeek-V3 writes no reasoning, R1 writes it in <think>; their calls use the tokenizer's
  // own special tokens.
  if (kind_ == Kind::deepseek_r1) {
    tags.think_open = "<think>";
    tags.think_close = "</think>";
  }
  tags.tool_call_open = "<｜tool▁call▁begin｜>";
  tags.tool_call_close = "<｜tool▁call▁end｜>";
  tags.tool_calls_open = "<｜tool▁calls▁begin｜>";
  tags.tool_calls_close = "<｜tool▁calls▁end｜>";
  tags.call_body = StreamTags::CallBody::deepseek;
  tags.tool_sep = "<｜tool▁sep｜>";
  return tags;
}

bool ChatFormat::opens_thinking(std::string_view prompt) const {
  const StreamTags tags = stream_tags();
  if (tags.think_open.empty()) return false;
  const std::size_t end = prompt.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) return false;
  return ends_with(prompt.substr(0, end + 1), tags.think_open);
}

}  // namespace scout::agent
