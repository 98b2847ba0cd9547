#include "agent/stream_parser.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <utility>

#include "common/json.h"
#include "common/text.h"

namespace scout::agent {

namespace {

using ojson = nlohmann::ordered_json;

StreamEvent issue(std::string text, std::string raw, bool call_not_run = false) {
  StreamEvent e;
  e.kind = StreamEvent::Kind::issue;
  e.text = std::move(text);
  e.raw = std::move(raw);
  e.call_not_run = call_not_run;
  return e;
}

// Every issue about a tool-call body means a call the model asked for did not run.
StreamEvent call_issue(std::string text, std::string raw) { return issue(std::move(text), std::move(raw), true); }

const char* json_type_name(const ojson& j) {
  switch (j.type()) {
    case ojson::value_t::null: return "null";
    case ojson::value_t::object: return "an object";
    case ojson::value_t::array: return "an array";
    case ojson::value_t::string: return "a string";
    case ojson::value_t::boolean: return "a boolean";
    case ojson::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

// Checks a parsed "arguments" value; empty on success.
std::string check_arguments(const std::string& name, const ojson& arguments) {
  if (arguments.is_object()) return {};
  return "The tool call to '" + name + "' was not run: its arguments are " + json_type_name(arguments) +
         ", not a JSON object.";
}

// {"name": "f", "arguments": {...}}; "arguments" may be left out by a function without
// parameters.
std::string read_json_object_call(std::string_view body, ToolCall& call) {
  auto read = parse_json<ojson>(trim(body));
  if (!read) return "The tool call was not run: its body is not valid JSON (" + read.error().message + ").";
  const ojson& parsed = *read;
  if (!parsed.is_object())
    return std::string("The tool call was not run: its body is ") + json_type_name(parsed) + ", not a JSON object.";
  const auto name = parsed.find("name");
  if (name == parsed.end() || !name->is_string() || name->get<std::string>().empty())
    return "The tool call was not run: it has no \"name\" string naming the function.";
  call.name = name->get<std::string>();
  if (const auto arguments = parsed.find("arguments"); arguments != parsed.end()) {
    if (std::string problem = check_arguments(call.name, *arguments); !problem.empty()) return problem;
    call.arguments = *arguments;
  }
  return {};
}

// DeepSeek-V3/R1 write `function<sep>NAME\n```json\n{...}\n```` and V3.1 writes
// `NAME<sep>{...}`; both are read, and the code fence is optional in either. Arguments left
// out entirely mean a call without parameters.
std::string read_deepseek_call(std::string_view body, std::string_view sep, ToolCall& call) {
  const std::size_t at = body.find(sep);
  if (at == std::string_view::npos)
    return "The tool call was not run: it has no " + std::string(sep) + " before the function name.";
  const std::string before(trim(body.substr(0, at)));
  std::string_view rest = body.substr(at + sep.size());
  std::string arguments_text;
  if (before.empty() || before == "function") {
    // The name runs to the end of its line (or to the arguments, if the model kept them on it).
    const std::size_t name_end = std::min({rest.find('\n'), rest.find("```"), rest.find('{')});
    call.name = std::string(trim(rest.substr(0, name_end)));
    if (name_end != std::string_view::npos) arguments_text = std::string(trim(rest.substr(name_end)));
  } else {
    call.name = before;
    arguments_text = std::string(trim(rest));
  }
  if (call.name.empty()) return "The tool call was not run: it names no function after " + std::string(sep) + ".";
  if (arguments_text.rfind("```", 0) == 0) {
    // Drop the opening fence with its language tag, and the closing fence if it is there.
    const std::size_t line_end = arguments_text.find('\n');
    arguments_text = line_end == std::string::npos ? std::string() : arguments_text.substr(line_end + 1);
    if (arguments_text.size() >= 3 && arguments_text.compare(arguments_text.size() - 3, 3, "```") == 0)
      arguments_text.resize(arguments_text.size() - 3);
    arguments_text = std::string(trim(arguments_text));
  }
  if (arguments_text.empty()) return {};
  auto arguments = parse_json<ojson>(arguments_text);
  if (!arguments)
    return "The tool call to '" + call.name + "' was not run: its arguments are not valid JSON (" +
           arguments.error().message + ").";
  if (std::string problem = check_arguments(call.name, *arguments); !problem.empty()) return problem;
  call.arguments = std::move(*arguments);
  return {};
}

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

StreamParser::StreamParser(StreamTags tags, Start start, std::vector<ThoughtAction> actions)
    : tags_(std::move(tags)),
      actions_(std::move(actions)),
      state_(start == Start::thinking_only || (start == Start::thinking && !tags_.think_close.empty())
                 ? State::thinking
                 : State::answer),
      thinking_only_(start == Start::thinking_only) {}

std::vector<const std::string*> StreamParser::active_tags() const {
  std::vector<const std::string*> out;
  auto add = [&](const std::string& tag) {
    if (!tag.empty()) out.push_back(&tag);
  };
  switch (state_) {
    case State::thinking:
      if (!thinking_only_) add(tags_.think_close);
      for (const ThoughtAction& a : actions_) add(a.open);
      break;
    case State::thought_action: break;  // fed by the close-tag search in feed()
    case State::answer:
      add(tags_.think_open);
      add(tags_.think_close);
      add(tags_.tool_call_open);
      add(tags_.tool_call_close);
      add(tags_.tool_calls_open);
      add(tags_.tool_calls_close);
      break;
    case State::call_block:
      add(tags_.tool_call_open);
      add(tags_.tool_call_close);
      add(tags_.tool_calls_close);
      break;
    case State::tool_call: add(tags_.tool_call_close); break;
  }
  return out;
}

void StreamParser::emit_text(std::vector<StreamEvent>& out, std::string text) const {
  if (text.empty()) return;
  StreamEvent e;
  e.kind = in_thinking() ? StreamEvent::Kind::thinking_text : StreamEvent::Kind::answer_text;
  e.text = std::move(text);
  out.push_back(std::move(e));
}

std::string StreamParser::call_syntax_hint() const {
  if (tags_.call_body == StreamTags::CallBody::deepseek)
    return " Write each call as " + tags_.tool_call_open + "function" + tags_.tool_sep +
           "<function-name>\n```json\n{<arguments>}\n```" + tags_.tool_call_close + ".";
  return " Write each call as " + tags_.tool_call_open + "\n{\"name\": \"<function-name>\", \"arguments\": {<arguments>}}\n" +
         tags_.tool_call_close + ".";
}

void StreamParser::finish_tool_call(std::vector<StreamEvent>& out, const std::string& body) {
  const std::string raw = tags_.tool_call_open + body + tags_.tool_call_close;
  ToolCall call;
  std::string problem = tags_.call_body == StreamTags::CallBody::deepseek ? read_deepseek_call(body, tags_.tool_sep, call)
                                                                          : read_json_object_call(body, call);
  if (!problem.empty()) {
    out.push_back(call_issue(std::move(problem) + call_syntax_hint(), raw));
    return;
  }
  call.id = "call_" + std::to_string(next_call_id_++);
  StreamEvent e;
  e.kind = StreamEvent::Kind::tool_call;
  e.call = std::move(call);
  out.push_back(std::move(e));
}

std::optional<std::string> StreamParser::take_body(const std::string& close) {
  // The whole body stays in pending_ until the close tag; only the new bytes (plus a possible
  // partial tag at the old end) need searching.
  const std::size_t from = scanned_ >= close.size() ? scanned_ - (close.size() - 1) : 0;
  const std::size_t pos = pending_.find(close, from);
  if (pos == std::string::npos) {
    scanned_ = pending_.size();
    return std::nullopt;
  }
  std::string body = pending_.substr(0, pos);
  pending_.erase(0, pos + close.size());
  scanned_ = 0;
  return body;
}

std::vector<StreamEvent> StreamParser::feed(std::string_view chunk) {
  assert(!finished_);
  std::vector<StreamEvent> out;
  pending_.append(chunk);
  for (;;) {
    if (state_ == State::thought_action) {
      const ThoughtAction& action = actions_[action_];
      auto body = take_body(action.close);
      if (!body) break;
      state_ = State::thinking;
      StreamEvent e;
      e.kind = StreamEvent::Kind::thought_call;
      e.text = action.open + *body + action.close;
      e.call.id = "thought_" + std::to_string(next_thought_id_++);
      e.call.name = action.tool;
      e.call.arguments = action.fixed_arguments;
      // An empty argument still makes a call: the tool's own check tells the model what is missing.
      e.call.arguments[action.argument] = std::string(trim(*body));
      out.push_back(std::move(e));
      continue;
    }
    if (state_ == State::tool_call) {
      auto body = take_body(tags_.tool_call_close);
      if (!body) break;
      state_ = after_call_;
      finish_tool_call(out, *body);
      ++calls_in_block_;
      continue;
    }

    const std::vector<const std::string*> tags = active_tags();
    std::size_t best = std::string::npos;
    const std::string* tag = nullptr;
    for (const std::string* t : tags) {
      const std::size_t pos = pending_.find(*t);
      if (pos < best) {
        best = pos;
        tag = t;
      }
    }
    if (tag == nullptr) {
      // Inside a block of calls, text waits for the next tag to tell whether it is only layout.
      if (state_ == State::call_block) break;
      // Hold back the longest tail that could still grow into a tag.
      std::size_t hold = 0;
      for (const std::string* t : tags) {
        for (std::size_t k = std::min(t->size() - 1, pending_.size()); k > hold; --k) {
          if (pending_.compare(pending_.size() - k, k, *t, 0, k) == 0) {
            hold = k;
            break;
          }
        }
      }
      emit_text(out, pending_.substr(0, pending_.size() - hold));
      pending_.erase(0, pending_.size() - hold);
      break;
    }

    std::string before = pending_.substr(0, best);
    if (state_ != State::call_block || !blank(before)) emit_text(out, std::move(before));
    pending_.erase(0, best + tag->size());
    if (state_ == State::thinking) {
      if (tag == &tags_.think_close) {
        state_ = State::answer;
      } else {  // an action's open tag
        for (std::size_t i = 0; i < actions_.size(); ++i)
          if (&actions_[i].open == tag) action_ = i;
        state_ = State::thought_action;
        scanned_ = 0;
      }
    } else if (tag == &tags_.think_open) {
      state_ = State::thinking;
    } else if (tag == &tags_.tool_call_open) {
      after_call_ = state_;
      state_ = State::tool_call;
      scanned_ = 0;
    } else if (tag == &tags_.tool_calls_open) {
      state_ = State::call_block;
      calls_in_block_ = 0;
    } else if (tag == &tags_.tool_calls_close && state_ == State::call_block) {
      state_ = State::answer;
      close_empty_block(out);
    } else {
      const std::string& open = tag == &tags_.think_close       ? tags_.think_open
                                : tag == &tags_.tool_calls_close ? tags_.tool_calls_open
                                                                 : tags_.tool_call_open;
      out.push_back(issue("Found " + *tag + " without a matching " + open + " before it; the tag was ignored.", *tag));
    }
  }
  return out;
}

void StreamParser::close_empty_block(std::vector<StreamEvent>& out) {
  if (calls_in_block_ > 0) return;
  out.push_back(call_issue("No tool call was run: the block of tool calls held none." + call_syntax_hint(),
                           tags_.tool_calls_open + tags_.tool_calls_close));
}

std::vector<StreamEvent> StreamParser::finish() {
  assert(!finished_);
  finished_ = true;
  std::vector<StreamEvent> out;
  if (state_ == State::tool_call) {
    out.push_back(call_issue("The tool call was not run: the output ended before " + tags_.tool_call_close +
                            " closed it. Finish each call with " + tags_.tool_call_close + ".",
                        tags_.tool_call_open + pending_));
  } else if (state_ == State::thought_action) {
    // Never closed: what the model wrote stays thinking text, and no action runs.
    const ThoughtAction& action = actions_[action_];
    state_ = State::thinking;
    emit_text(out, action.open + pending_);
    out.push_back(issue("The " + action.open + " was not run: the output ended before " + action.close +
                            " closed it.",
                        action.open + pending_));
    if (!thinking_only_)
      out.push_back(issue("The reasoning was not closed: the output ended before " + tags_.think_close +
                              ", so no answer was given.",
                          ""));
  } else if (state_ == State::call_block) {
    // A block the stream ended in without its close tag: the calls in it stand.
    if (!blank(pending_)) emit_text(out, pending_);
    close_empty_block(out);
  } else {
    // A held-back tag prefix was text after all.
    emit_text(out, pending_);
    if (state_ == State::thinking && !thinking_only_) {
      out.push_back(issue("The reasoning was not closed: the output ended before " + tags_.think_close +
                              ", so no answer was given.",
                          ""));
    }
  }
  pending_.clear();
  return out;
}

}  // namespace scout::agent
