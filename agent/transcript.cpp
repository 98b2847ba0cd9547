// render_transcript (declared in agent/trace.h): a trace as a readable transcript.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "agent/trace.h"
#include "common/json.h"

namespace scout::agent {

namespace {

using ojson = nlohmann::ordered_json;

std::string str(const ojson& event, const char* key) {
  auto it = event.find(key);
  return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double num(const ojson& event, const char* key) {
  auto it = event.find(key);
  return it != event.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// Prefixes every line of `text` (thinking is shown as a quoted block).
std::string quote(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

std::string shorten(std::string text, std::size_t limit) {
  if (limit == 0 || text.size() <= limit) return text;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const std::size_t total = text.size();
  text.resize(cut);
  return text + "\n… [" + std::to_string(total - cut) + " more bytes in the trace]";
}

class Renderer {
 public:
  explicit Renderer(const TranscriptOptions& options) : options_(options) {}

  void event(const ojson& e) {
    const std::string type = str(e, "type");
    if (type != "thinking") end_thinking();
    if (type == "run_start") {
      out_ << "Task: " << str(e, "task") << "\n";
      out_ << "Backend: " << str(e, "backend") << "\n";
      std::string tools;
      if (auto it = e.find("tools"); it != e.end() && it->is_array())
        for (auto& t : *it) tools += (tools.empty() ? "" : ", ") + (t.is_string() ? t.get<std::string>() : t.dump());
      out_ << "Tools: " << (tools.empty() ? "(none)" : tools) << "\n";
    } else if (type == "turn_start") {
      end_answer();
      out_ << "\n── step " << e.value("step", 0) << " ──\n";
    } else if (type == "thinking") {
      if (!options_.show_thinking) return;
      end_answer();
      if (!in_thinking_) out_ << "[thinking]\n";
      in_thinking_ = true;
      thinking_ += str(e, "text");
    } else if (type == "answer") {
      answer_open_ = true;
      out_ << str(e, "text");
    } else if (type == "issue") {
      end_answer();
      out_ << "! " << str(e, "text") << "\n";
    } else if (type == "turn_end") {
      end_answer();
      const ojson u = e.value("usage", ojson::object());
      out_ << "  [" << static_cast<long long>(num(u, "prompt_tokens")) << " prompt tokens ("
           << static_cast<long long>(num(u, "prefilled_tokens")) << " computed), "
           << static_cast<long long>(num(u, "completion_tokens")) << " generated at " << fixed(num(u, "tokens_per_s"), 1)
           << " tok/s; " << str(e, "finish") << "]\n";
    } else if (type == "tool_call") {
      end_answer();
      out_ << "→ " << str(e, "name") << (e.value("in_thought", false) ? " (while thinking) " : " ")
           << e.value("arguments", ojson::object()).dump() << "\n";
    } else if (type == "notice") {
      end_answer();
      out_ << "note: " << str(e, "text") << "\n";
    } else if (type == "tool_result") {
      end_answer();
      out_ << "← " << str(e, "name") << (e.value("is_error", false) ? " failed" : "") << " (" << fixed(num(e, "ms"), 0)
           << " ms)\n"
           << quote(shorten(str(e, "text"), options_.max_result_chars), "  ") << "\n";
    } else if (type == "run_end") {
      end_answer();
      const ojson u = e.value("usage", ojson::object());
      out_ << "\n── " << str(e, "status") << " after " << e.value("steps", 0) << " steps, " << e.value("tool_calls", 0)
           << " tool calls, " << fixed(num(e, "wall_ms") / 1000.0, 1) << " s; "
           << static_cast<long long>(num(u, "completion_tokens")) << " tokens generated, "
           << static_cast<long long>(num(u, "prefilled_tokens")) << " computed for prompts ──\n";
      if (!str(e, "detail").empty()) out_ << "Stopped: " << str(e, "detail") << "\n";
      if (!str(e, "answer").empty()) out_ << "Answer:\n" << str(e, "answer") << "\n";
      ended_ = true;
    }
  }

  std::string finish(bool cut_line) {
    end_thinking();
    end_answer();
    if (cut_line) out_ << "\n(the trace's last line is incomplete: the run was killed while writing it)\n";
    else if (!ended_) out_ << "\n(the trace ends here: the run did not finish)\n";
    return out_.str();
  }

 private:
  void end_thinking() {
    if (!in_thinking_) return;
    out_ << quote(thinking_, "│ ") << "\n";
    thinking_.clear();
    in_thinking_ = false;
  }
  void end_answer() {
    if (answer_open_) out_ << "\n";
    answer_open_ = false;
  }

  const TranscriptOptions& options_;
  std::ostringstream out_;
  std::string thinking_;
  bool in_thinking_ = false;
  bool answer_open_ = false;
  bool ended_ = false;
};

}  // namespace

Result<std::string> render_transcript(const std::string& path, const TranscriptOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open the trace file");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  // A last line without its newline is one the writer did not finish.
  in.clear();
  in.seekg(0, std::ios::end);
  const auto size = static_cast<long long>(in.tellg());
  bool cut_last = false;
  if (size > 0) {
    in.seekg(size - 1);
    cut_last = in.get() != '\n';
  }
  // The writer makes the file before the run's first event: a run killed in that moment (while
  // MCP servers start, say) leaves an empty trace, which is a trace of nothing, not a broken one.
  if (lines.empty()) return std::string("(the trace is empty: the run was stopped before it wrote its first event)\n");

  Renderer renderer(options);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    auto read = parse_json<ojson>(lines[i]);
    if (!read) {
      if (i + 1 == lines.size() && cut_last) return renderer.finish(true);
      return make_error(path + ":" + std::to_string(i + 1) + ": not a trace event (the line is not JSON: " +
                        read.error().message + ")");
    }
    const ojson& event = *read;
    if (!event.is_object() || !event.contains("type"))
      return make_error(path + ":" + std::to_string(i + 1) + ": not a trace event (no \"type\")");
    renderer.event(event);
  }
  return renderer.finish(false);
}

}  // namespace scout::agent
