#include "agent/remote/openai_stream.h"

#include <algorithm>
#include <cassert>
#include <set>
#include <utility>

#include "agent/chat_format.h"
#include "common/json.h"

namespace scout::agent::remote {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::size_t kExcerptBytes = 300;

// The first bytes of `text`, for error messages about what a server sent.
std::string excerpt(std::string_view text) {
  if (text.size() <= kExcerptBytes) return std::string(text);
  std::size_t cut = kExcerptBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole code points
  return std::string(text.substr(0, cut)) + "…";
}

std::int64_t count_code_points(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::int64_t> int_member(const json& object, const char* key) {
  const json* v = member(object, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->is_number_float() ? static_cast<std::int64_t>(v->get<double>()) : v->get<std::int64_t>();
}

const std::string* string_member(const json& object, const char* key) {
  const json* v = member(object, key);
  return v != nullptr && v->is_string() ? &v->get_ref<const std::string&>() : nullptr;
}

// The message of an OpenAI-style error value: {"message": ...} or a plain string.
std::string error_value_text(const json& error) {
  if (error.is_string()) return error.get<std::string>();
  if (const std::string* message = string_member(error, "message")) return *message;
  return excerpt(error.dump(-1, ' ', false, json::error_handler_t::replace));
}

StreamEvent issue_event(std::string text, std::string raw) {
  StreamEvent e;
  e.kind = StreamEvent::Kind::issue;
  e.text = std::move(text);
  e.raw = std::move(raw);
  return e;
}

// An issue about a tool call the model asked for and did not get: the turn is not a final
// answer, and the loop tells the model what was wrong so that it can call again.
StreamEvent call_issue_event(std::string text, std::string raw) {
  StreamEvent e = issue_event(std::move(text), std::move(raw));
  e.call_not_run = true;
  return e;
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

TurnAssembler::TurnAssembler(TurnSink sink, Clock::time_point request_start, std::vector<ThoughtAction> actions,
                             bool resumed)
    : sink_(std::move(sink)),
      reasoning_parser_(ChatFormat(ChatFormat::Kind::qwen3).stream_tags(), StreamParser::Start::thinking_only, actions),
      actions_(std::move(actions)),
      resumed_(resumed),
      request_start_(request_start) {
  result_.message.role = Role::assistant;
}

void TurnAssembler::emit(const StreamEvent& event) {
  if (sink_) sink_(event);
}

void TurnAssembler::note_output() {
  const auto now = Clock::now();
  if (!first_output_) first_output_ = now;
  last_output_ = now;
}

StreamParser& TurnAssembler::content_parser() {
  if (!parser_)
    parser_.emplace(ChatFormat(ChatFormat::Kind::qwen3).stream_tags(),
                    resumed_ && !saw_reasoning_ ? StreamParser::Start::thinking : StreamParser::Start::answer, actions_);
  return *parser_;
}

void TurnAssembler::add_thinking(std::string text) {
  if (text.empty() || paused()) return;
  saw_reasoning_ = true;
  handle_parsed(reasoning_parser_.feed(text));
}

void TurnAssembler::handle_parsed(std::vector<StreamEvent> events) {
  for (StreamEvent& e : events) {
    if (paused()) return;  // what follows an in-thought action is not part of the turn
    if (e.kind == StreamEvent::Kind::thinking_text) thinking_chars_ += count_code_points(e.text);
    if (e.kind == StreamEvent::Kind::answer_text) answer_chars_ += count_code_points(e.text);
    result_.add(e);
    emit(e);
  }
}

Result<void> TurnAssembler::on_named_event(std::string_view name, std::string_view data) {
  if (name == "error") {
    const auto parsed = parse_json<json>(data);
    std::string text = excerpt(data);
    if (parsed) {
      const json* inner = member(*parsed, "error");
      text = error_value_text(inner != nullptr ? *inner : *parsed);
    }
    return make_error("the server reported an error in the stream: " + text);
  }
  if (name.empty() || name == "message") return on_data(data);
  return {};
}

Result<void> TurnAssembler::on_data(std::string_view data) {
  assert(!done_ && !finished_);
  if (data == "[DONE]") {
    done_ = true;
    return {};
  }
  auto parsed = parse_json<json>(data);
  if (!parsed) {
    return make_error("the server sent a malformed stream chunk (not JSON: " + parsed.error().message + "): " +
                      excerpt(data));
  }
  const json& chunk = *parsed;
  if (!chunk.is_object()) {
    return make_error("the server sent a malformed stream chunk (not a JSON object): " + excerpt(data));
  }
  if (const json* error = member(chunk, "error")) {
    return make_error("the server reported an error in the stream: " + error_value_text(*error));
  }
  ++chunks_;

  if (const json* choices = member(chunk, "choices")) {
    if (!choices->is_array()) {
      return make_error("the server sent a stream chunk whose \"choices\" is not an array: " + excerpt(data));
    }
    for (const json& choice : *choices) {
      // Only the first choice: Scout never asks for n > 1.
      if (const auto index = int_member(choice, "index"); index && *index != 0) continue;
      if (const json* delta = member(choice, "delta")) {
        const std::string* reasoning = string_member(*delta, "reasoning_content");
        if (reasoning == nullptr) reasoning = string_member(*delta, "reasoning");
        if (reasoning != nullptr && !reasoning->empty()) {
          note_output();
          add_thinking(*reasoning);
        }
        if (const std::string* content = string_member(*delta, "content");
            content != nullptr && !content->empty() && !paused()) {
          note_output();
          handle_parsed(content_parser().feed(*content));
        }
        if (const json* tool_calls = member(*delta, "tool_calls")) {
          note_output();
          if (!tool_calls->is_array()) {
            const StreamEvent e = call_issue_event(
                "A tool call arrived in a form that could not be read (\"tool_calls\" is not a list), so it was "
                "not run. Call the tool again.",
                tool_calls->dump(-1, ' ', false, json::error_handler_t::replace));
            result_.issues.push_back(e);
            emit(e);
          } else {
            for (const json& call_delta : *tool_calls) on_tool_call_delta(call_delta);
          }
        }
      }
      // A text completion (POST /completions, a resumed turn) carries its text without a delta.
      if (const std::string* text = string_member(choice, "text"); text != nullptr && !text->empty() && !paused()) {
        note_output();
        handle_parsed(content_parser().feed(*text));
      }
      if (const std::string* reason = string_member(choice, "finish_reason")) finish_reason_ = *reason;
    }
  }
  if (const json* usage = member(chunk, "usage")) read_usage(*usage, member(chunk, "timings"));
  return {};
}

void TurnAssembler::on_tool_call_delta(const json& delta) {
  if (!delta.is_object()) {
    const StreamEvent e = call_issue_event(
        "A tool call arrived in a form that could not be read, so it was not run. Call the tool again.",
        delta.dump(-1, ' ', false, json::error_handler_t::replace));
    result_.issues.push_back(e);
    emit(e);
    return;
  }
  const std::string* id = string_member(delta, "id");
  std::int64_t index = 0;
  if (const auto given = int_member(delta, "index")) {
    index = *given;
  } else if (last_call_index_ < 0) {
    index = 0;
  } else if (id != nullptr && !id->empty() && *id != calls_[last_call_index_].id) {
    // Servers that omit "index" start each call with its id and continue it without one.
    index = last_call_index_ + 1;
  } else {
    index = last_call_index_;
  }
  last_call_index_ = index;
  PendingCall& call = calls_[index];
  if (id != nullptr && !id->empty()) call.id = *id;
  if (const json* function = member(delta, "function")) {
    if (const std::string* name = string_member(*function, "name"); name != nullptr && *name != call.name) {
      // Servers send the name once; a few repeat it in every delta; none is known to split it,
      // but appending different pieces reads that case too.
      call.name += *name;
    }
    if (const json* arguments = member(*function, "arguments")) {
      if (arguments->is_string()) {
        call.arguments += arguments->get_ref<const std::string&>();
      } else if (call.arguments.empty()) {
        // Some servers send the arguments as an object rather than as JSON text.
        call.arguments = arguments->dump(-1, ' ', false, json::error_handler_t::replace);
      }
    }
  }
}

void TurnAssembler::read_usage(const json& usage, const json* timings) {
  Usage& u = result_.usage;
  if (const auto prompt = int_member(usage, "prompt_tokens")) u.prompt_tokens = *prompt;
  if (const auto completion = int_member(usage, "completion_tokens")) u.completion_tokens = *completion;
  if (const json* details = member(usage, "completion_tokens_details")) {
    if (const auto reasoning = int_member(*details, "reasoning_tokens")) u.reasoning_tokens = *reasoning;
  }
  // Cached prompt tokens: OpenAI and vLLM report prompt_tokens_details.cached_tokens, DeepSeek
  // prompt_cache_hit_tokens, llama-server timings.cache_n.
  std::optional<std::int64_t> cached;
  if (const json* details = member(usage, "prompt_tokens_details")) cached = int_member(*details, "cached_tokens");
  if (!cached) cached = int_member(usage, "prompt_cache_hit_tokens");
  if (!cached && timings != nullptr) cached = int_member(*timings, "cache_n");
  u.prefilled_tokens = std::max<std::int64_t>(0, u.prompt_tokens - cached.value_or(0));
}

std::string TurnAssembler::received_summary() const {
  std::string out = plural(chunks_, "chunk", "chunks") + " (" + std::to_string(answer_chars_) +
                    " characters of answer, " + std::to_string(thinking_chars_) + " of thinking";
  if (!calls_.empty()) {
    out += ", " + plural(static_cast<std::int64_t>(calls_.size()), "tool call", "tool calls") + " started";
  }
  return out + ")";
}

TurnResult TurnAssembler::finish(bool cancelled) {
  assert(!finished_);
  finished_ = true;
  const bool paused_turn = paused() && !cancelled;
  if (!paused_turn) {
    handle_parsed(reasoning_parser_.finish());
    if (parser_) handle_parsed(parser_->finish());
  }

  const bool hit_length = finish_reason_ && *finish_reason_ == "length";
  if (cancelled || paused_turn) {
    result_.message.tool_calls.clear();
  } else {
    // Every call needs an id its result can answer, and ids must not repeat: inline calls are
    // numbered by the stream parser, structured ones carry the server's ids (or none).
    std::set<std::string> seen;
    for (const ToolCall& call : result_.message.tool_calls) seen.insert(call.id);
    int next_id = 1;
    auto unique_id = [&](std::string id) {
      while (id.empty() || seen.count(id) != 0) id = "call_" + std::to_string(next_id++);
      seen.insert(id);
      return id;
    };
    for (auto& [index, pending] : calls_) {
      const std::string raw = pending.arguments;
      const std::string label = pending.name.empty() ? "A tool call" : "The tool call to '" + pending.name + "'";
      const std::string limit_hint =
          hit_length ? " The turn reached its token limit while writing it; write a shorter call." : "";
      if (pending.name.empty()) {
        handle_parsed({call_issue_event(
            "A tool call was not run: it has no function name. Call the tool again with its name.", raw)});
        continue;
      }
      ojson arguments = ojson::object();
      const std::string_view trimmed = [&] {
        std::string_view s = raw;
        const std::size_t b = s.find_first_not_of(" \t\r\n");
        return b == std::string_view::npos ? std::string_view{} : s.substr(b);
      }();
      if (!trimmed.empty()) {  // a function without parameters may come with "" arguments
        auto parsed = parse_json<ojson>(trimmed);
        if (!parsed) {
          handle_parsed({call_issue_event(label + " was not run: its arguments are not valid JSON (" +
                                              parsed.error().message + ")." + limit_hint +
                                              " Send the arguments as one JSON object.",
                                          raw)});
          continue;
        }
        arguments = std::move(*parsed);
        if (!arguments.is_object()) {
          handle_parsed({call_issue_event(label + " was not run: its arguments are not a JSON object." + limit_hint +
                                         " Send the arguments as one JSON object.",
                                     raw)});
          continue;
        }
      }
      StreamEvent e;
      e.kind = StreamEvent::Kind::tool_call;
      e.call.id = unique_id(pending.id);
      e.call.name = pending.name;
      e.call.arguments = std::move(arguments);
      result_.message.tool_calls.push_back(e.call);
      emit(e);
    }
  }

  if (cancelled) {
    result_.finish = FinishReason::cancelled;
  } else if (paused_turn) {
    result_.finish = FinishReason::thought_call;
  } else if (hit_length) {
    result_.finish = FinishReason::length;
  } else if (!result_.message.tool_calls.empty()) {
    result_.finish = FinishReason::tool_calls;
  } else {
    result_.finish = FinishReason::stop;
  }

  if (first_output_) {
    using Ms = std::chrono::duration<double, std::milli>;
    result_.usage.prompt_ms = Ms(*first_output_ - request_start_).count();
    result_.usage.generate_ms = Ms(last_output_ - *first_output_).count();
  }
  return std::move(result_);
}

}  // namespace scout::agent::remote
