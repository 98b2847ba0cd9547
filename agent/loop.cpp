#include "agent/loop.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/text.h"

namespace scout::agent {

namespace {

using ojson = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Thinking and answer text reach the trace in pieces of about this size, or at the end of a
// paragraph: small enough that a killed run loses little, large enough that a trace is not one
// line per token.
constexpr std::size_t kTracePieceBytes = 512;

bool piece_complete(const std::string& piece) {
  return piece.size() >= kTracePieceBytes || (piece.size() >= 2 && piece.compare(piece.size() - 2, 2, "\n\n") == 0);
}

// The longest prefix of `text` of at most `limit` bytes that does not end inside a UTF-8
// character.
std::size_t utf8_cut(const std::string& text, std::size_t limit) {
  if (limit >= text.size()) return text.size();
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

ojson usage_json(const Usage& u) {
  const double tps = u.generate_ms > 0 ? u.completion_tokens * 1000.0 / u.generate_ms : 0.0;
  return ojson{{"prompt_tokens", u.prompt_tokens},     {"prefilled_tokens", u.prefilled_tokens},
               {"completion_tokens", u.completion_tokens}, {"reasoning_tokens", u.reasoning_tokens},
               {"prompt_ms", u.prompt_ms},             {"generate_ms", u.generate_ms},
               {"tokens_per_s", tps}};
}

void add_usage(Usage& total, const Usage& turn) {
  total.prompt_tokens += turn.prompt_tokens;
  total.prefilled_tokens += turn.prefilled_tokens;
  total.completion_tokens += turn.completion_tokens;
  total.reasoning_tokens += turn.reasoning_tokens;
  total.prompt_ms += turn.prompt_ms;
  total.generate_ms += turn.generate_ms;
}

// co_spawn needs a default-constructible result; Result<T> is not.
template <class T>
asio::awaitable<std::optional<T>> optional_result(asio::awaitable<T> op) {
  co_return co_await std::move(op);
}

ojson call_json(const ToolCall& call) {
  return ojson{{"id", call.id}, {"name", call.name}, {"arguments", call.arguments}};
}

}  // namespace

Result<std::int32_t> think_budget_for_effort(std::string_view effort) {
  if (effort == "low") return 1024;
  if (effort == "medium") return 4096;
  if (effort == "high") return 16384;
  return make_error("unknown effort '" + std::string(effort) + "' (known: low, medium, high)");
}

const char* run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::answered: return "answered";
    case RunStatus::max_steps: return "max_steps";
    case RunStatus::budget: return "budget";
    case RunStatus::length: return "length";
    case RunStatus::context_full: return "context_full";
    case RunStatus::cancelled: return "cancelled";
    case RunStatus::backend_error: return "backend_error";
  }
  return "unknown";
}

Loop::Loop(asio::any_io_executor executor, Backend& backend, const tools::Registry& registry,
           LoopOptions options, TraceWriter& trace, LoopObserver observer)
    : executor_(std::move(executor)),
      backend_(backend),
      registry_(registry),
      options_(std::move(options)),
      trace_(trace),
      observer_(std::move(observer)) {
  options_.max_parallel_tools = std::max(1, options_.max_parallel_tools);
}

void Loop::stop(RunStatus status, std::string why) {
  if (stopped_) return;
  stopped_ = status;
  stop_detail_ = std::move(why);
  stop_signal_.emit(asio::cancellation_type::terminal);
}

std::vector<ToolSpec> Loop::tool_specs() const {
  std::vector<ToolSpec> specs;
  for (auto& info : registry_.list()) specs.push_back(ToolSpec{info.name, info.description, info.parameters});
  return specs;
}

ojson Loop::options_json() const {
  const Budgets& b = options_.budgets;
  return ojson{{"max_steps", b.max_steps},
               {"max_tool_calls", b.max_tool_calls},
               {"max_generated_tokens", b.max_generated_tokens},
               {"max_turn_tokens", b.max_turn_tokens},
               {"max_wall_s", b.max_wall.count() / 1000.0},
               {"max_result_chars", options_.max_result_chars},
               {"tool_timeout_s", options_.tool_timeout.count() / 1000.0},
               {"max_parallel_tools", options_.max_parallel_tools},
               {"enable_thinking", options_.enable_thinking},
               {"thought_tools", options_.thought_tools},
               {"thought_result_chars", options_.thought_result_chars},
               {"think_budget", options_.think_budget}};
}

tools::ToolOutput Loop::truncate_result(tools::ToolOutput output) const {
  const std::size_t limit = options_.max_result_chars;
  if (limit == 0 || output.text.size() <= limit) return output;
  const std::size_t total = output.text.size();
  const std::size_t cut = utf8_cut(output.text, limit);
  output.text.resize(cut);
  output.text += "\n[truncated: showing the first " + std::to_string(cut) + " of " + std::to_string(total) +
                 " bytes]";
  return output;
}

asio::awaitable<Result<TurnResult>> Loop::backend_turn(TurnRequest request, const TurnSink& sink) {
  try {
    auto result = co_await asio::co_spawn(executor_, optional_result(backend_.next_turn(std::move(request), sink)),
                                          asio::bind_cancellation_slot(stop_signal_.slot(), asio::use_awaitable));
    co_return std::move(*result);
  } catch (const std::exception& e) {
    // A backend that lets an exception out (cancellation included) ends its turn with nothing.
    if (stopped_) {
      TurnResult empty;
      empty.message.role = Role::assistant;
      empty.finish = FinishReason::cancelled;
      co_return empty;
    }
    co_return make_error(std::string("the backend failed: ") + e.what());
  }
}

void Loop::add_sources(RunResult& run, const std::string& tool, const tools::ToolOutput& output) const {
  for (Source& s : sources_of(tool, output)) {
    const bool seen = std::any_of(run.sources.begin(), run.sources.end(), [&](const Source& o) { return o.url == s.url; });
    if (!seen) run.sources.push_back(std::move(s));
  }
}

asio::awaitable<Result<TurnResult>> Loop::model_turn(int step, std::int32_t max_tokens, RunResult& run) {
  const std::vector<ToolSpec> specs = tool_specs();
  TurnRequest request;
  request.messages = &messages_;
  request.tools = &specs;
  request.max_tokens = max_tokens;
  request.enable_thinking = options_.enable_thinking;
  request.thought_actions = &thought_actions_;
  request.think_budget = options_.think_budget;

  std::string thinking_piece, answer_piece;
  auto flush = [&](std::string& piece, const char* type) {
    if (piece.empty()) return;
    trace_.write(type, ojson{{"step", step}, {"text", piece}});
    piece.clear();
  };
  TurnSink sink = [&](const StreamEvent& event) {
    switch (event.kind) {
      case StreamEvent::Kind::thinking_text:
        flush(answer_piece, "answer");
        thinking_piece += event.text;
        if (piece_complete(thinking_piece)) flush(thinking_piece, "thinking");
        break;
      case StreamEvent::Kind::answer_text:
        flush(thinking_piece, "thinking");
        answer_piece += event.text;
        if (piece_complete(answer_piece)) flush(answer_piece, "answer");
        break;
      case StreamEvent::Kind::issue:
        flush(thinking_piece, "thinking");
        flush(answer_piece, "answer");
        trace_.write("issue", ojson{{"step", step}, {"text", event.text}, {"raw", event.raw}});
        break;
      case StreamEvent::Kind::thought_call:
        // The action's text is part of the thinking; its call and result are traced as it runs.
        thinking_piece += event.text;
        flush(thinking_piece, "thinking");
        break;
      case StreamEvent::Kind::tool_call:
        break;  // traced with its result, once the turn is over
    }
    if (observer_) {
      LoopEvent e;
      e.kind = LoopEvent::Kind::model;
      e.step = step;
      e.model = &event;
      observer_(e);
    }
  };

  Result<TurnResult> turn = co_await backend_turn(request, sink);
  // Paused on an in-thought action: run it, write its result into the thinking, resume.
  while (turn && turn->finish == FinishReason::thought_call && turn->thought_call && !stopped_) {
    flush(thinking_piece, "thinking");
    const ToolCall call = *turn->thought_call;
    trace_.write("tool_call", ojson{{"step", step}, {"id", call.id}, {"name", call.name},
                                    {"arguments", call.arguments}, {"in_thought", true}});
    if (observer_) {
      LoopEvent e;
      e.kind = LoopEvent::Kind::tool_start;
      e.step = step;
      e.call = &call;
      e.in_thought = true;
      observer_(e);
    }
    tools::ToolOutput output;
    if (run.tool_calls >= options_.budgets.max_tool_calls) {
      output = tools::ToolOutput::failure("Not run: this run's tool-call budget (" +
                                          std::to_string(options_.budgets.max_tool_calls) +
                                          " calls) is spent. Answer with what you have.");
    } else {
      output = co_await one_tool(step, call, /*in_thought=*/true);
      ++run.tool_calls;
      ++run.thought_calls;
      add_sources(run, call.name, output);
    }
    if (stopped_) break;
    const std::string injected = thought_result_text(output, options_.thought_result_chars);
    const std::int64_t left = max_tokens - turn->usage.completion_tokens;
    if (left <= 0) {
      turn->finish = FinishReason::length;
      break;
    }
    request.resume_thinking_with = injected;
    request.paused_turn = &turn->message;
    request.max_tokens = static_cast<std::int32_t>(left);
    auto rest = co_await backend_turn(request, sink);
    if (!rest) {
      turn = std::move(rest);
      break;
    }
    turn->continue_with(injected, std::move(*rest));
  }
  flush(thinking_piece, "thinking");
  flush(answer_piece, "answer");
  co_return turn;
}

asio::awaitable<tools::ToolOutput> Loop::one_tool(int step, ToolCall call, bool in_thought) {
  const auto start = Clock::now();
  tools::ToolContext ctx;
  ctx.deadline = Clock::now() + options_.tool_timeout;
  ctx.progress = [this, step, &call](const tools::ToolProgress& report) {
    const std::string text = tools::describe_progress(report);
    trace_.write("tool_progress", ojson{{"step", step}, {"id", call.id}, {"name", call.name}, {"text", text}});
    if (!observer_) return;
    LoopEvent e;
    e.kind = LoopEvent::Kind::tool_progress;
    e.step = step;
    e.call = &call;
    e.text = text;
    observer_(e);
  };
  tools::ToolOutput output = truncate_result(co_await registry_.call(call.name, call.arguments, ctx));
  const std::size_t full_size = output.text.size();
  const double ms = ms_since(start);
  ojson event{{"step", step}, {"id", call.id}, {"name", call.name}, {"is_error", output.is_error},
              {"text", output.text}, {"chars", full_size}, {"ms", ms}};
  if (in_thought) event["in_thought"] = true;
  if (output.structured) event["structured"] = *output.structured;
  trace_.write("tool_result", std::move(event));
  if (observer_) {
    LoopEvent e;
    e.kind = LoopEvent::Kind::tool_end;
    e.step = step;
    e.call = &call;
    e.output = &output;
    e.tool_ms = ms;
    e.in_thought = in_thought;
    observer_(e);
  }
  co_return output;
}

asio::awaitable<std::vector<tools::ToolOutput>> Loop::run_tools(int step, const std::vector<ToolCall>& calls) {
  std::vector<tools::ToolOutput> outputs(calls.size());
  const std::size_t wave = static_cast<std::size_t>(options_.max_parallel_tools);
  for (std::size_t begin = 0; begin < calls.size() && !stopped_; begin += wave) {
    const std::size_t end = std::min(calls.size(), begin + wave);
    using Op = decltype(asio::co_spawn(executor_, std::declval<asio::awaitable<tools::ToolOutput>>(), asio::deferred));
    std::vector<Op> ops;
    for (std::size_t i = begin; i < end; ++i) {
      trace_.write("tool_call", ojson{{"step", step}, {"id", calls[i].id}, {"name", calls[i].name},
                                      {"arguments", calls[i].arguments}});
      if (observer_) {
        LoopEvent e;
        e.kind = LoopEvent::Kind::tool_start;
        e.step = step;
        e.call = &calls[i];
        observer_(e);
      }
      ops.push_back(asio::co_spawn(executor_, one_tool(step, calls[i]), asio::deferred));
    }
    auto [order, errors, results] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                        .async_wait(asio::experimental::wait_for_all(),
                                                    asio::bind_cancellation_slot(stop_signal_.slot(),
                                                                                 asio::use_awaitable));
    (void)order;
    for (std::size_t k = 0; k < results.size(); ++k) {
      outputs[begin + k] = errors[k] ? tools::ToolOutput::failure("The tool call did not complete: it was cancelled.")
                                     : std::move(results[k]);
    }
  }
  co_return outputs;
}

asio::awaitable<RunResult> Loop::run(std::string task) {
  const auto start = Clock::now();
  messages_.clear();
  stopped_.reset();
  stop_detail_.clear();
  thought_actions_.clear();
  std::string notice;
  if (options_.thought_tools && options_.enable_thinking) {
    auto actions = thought_actions_for(tool_specs());
    if (!actions.empty() && backend_.can_pause_in_thought()) {
      thought_actions_ = std::move(actions);
    } else if (!actions.empty()) {
      notice = "searching inside the thinking is off: " + backend_.describe() +
               " cannot pause a turn and resume it; the model uses ordinary tool calls";
    }
  }
  std::string system = options_.system_prompt;
  if (const std::string protocol = thought_protocol_prompt(thought_actions_); !protocol.empty())
    system += (system.empty() ? "" : "\n\n") + protocol;
  if (options_.instructions_in_user_turn && !system.empty()) {
    messages_.push_back(Message{Role::user, system + "\n\n" + task, {}, {}, {}, {}});
  } else {
    if (!system.empty()) messages_.push_back(Message{Role::system, system, {}, {}, {}, {}});
    messages_.push_back(Message{Role::user, task, {}, {}, {}, {}});
  }

  ojson tool_names = ojson::array();
  for (auto& info : registry_.list()) tool_names.push_back(info.name);
  trace_.write("run_start", ojson{{"task", task}, {"backend", backend_.describe()}, {"tools", tool_names},
                                  {"options", options_json()}, {"version", SCOUT_AGENT_VERSION}});
  if (!notice.empty()) {
    trace_.write("notice", ojson{{"text", notice}});
    if (observer_) {
      LoopEvent e;
      e.kind = LoopEvent::Kind::notice;
      e.text = notice;
      observer_(e);
    }
  }

  std::optional<asio::steady_timer> wall;
  if (options_.budgets.max_wall.count() > 0) {
    wall.emplace(executor_, options_.budgets.max_wall);
    wall->async_wait([this](boost::system::error_code ec) {
      if (!ec)
        stop(RunStatus::budget, "the wall-time budget (" + std::to_string(options_.budgets.max_wall.count() / 1000.0) +
                                    " s) is spent");
    });
  }

  RunResult r;
  const Budgets& b = options_.budgets;
  std::optional<RunStatus> status;
  for (int step = 1; !status; ++step) {
    if (stopped_) break;
    if (step > b.max_steps) {
      status = RunStatus::max_steps;
      r.detail = "the model still wanted tools after " + std::to_string(b.max_steps) +
                 " steps (raise --max-steps or [agent] max_steps)";
      break;
    }
    const std::int64_t tokens_left = b.max_generated_tokens - r.usage.completion_tokens;
    if (tokens_left <= 0) {
      status = RunStatus::budget;
      r.detail = "the generated-token budget (" + std::to_string(b.max_generated_tokens) + " tokens) is spent";
      break;
    }
    const auto max_tokens = static_cast<std::int32_t>(std::min<std::int64_t>(b.max_turn_tokens, tokens_left));

    trace_.write("turn_start", ojson{{"step", step}, {"messages", messages_.size()}});
    if (observer_) {
      LoopEvent e;
      e.kind = LoopEvent::Kind::turn_start;
      e.step = step;
      observer_(e);
    }
    auto turn = co_await model_turn(step, max_tokens, r);
    if (!turn) {
      if (stopped_) break;
      status = RunStatus::backend_error;
      r.detail = turn.error().message;
      break;
    }
    r.steps = step;
    add_usage(r.usage, turn->usage);
    turn->message.role = Role::assistant;
    messages_.push_back(turn->message);
    if (!trim(turn->message.content).empty()) r.answer = std::string(trim(turn->message.content));

    ojson calls = ojson::array();
    for (auto& call : turn->message.tool_calls) calls.push_back(call_json(call));
    trace_.write("turn_end", ojson{{"step", step}, {"finish", finish_reason_name(turn->finish)},
                                   {"tool_calls", calls}, {"issues", turn->issues.size()},
                                   {"usage", usage_json(turn->usage)}});
    if (observer_) {
      LoopEvent e;
      e.kind = LoopEvent::Kind::turn_end;
      e.step = step;
      e.turn = &*turn;
      observer_(e);
    }

    if (stopped_ || turn->finish == FinishReason::cancelled) break;
    if (turn->finish == FinishReason::context_full) {
      status = RunStatus::context_full;
      r.detail = "the model's context window is full (raise --ctx, or lower [agent] max_result_chars)";
      break;
    }
    const bool call_dropped = std::any_of(turn->issues.begin(), turn->issues.end(),
                                          [](const StreamEvent& e) { return e.call_not_run; });
    const auto& wanted = turn->message.tool_calls;
    if (wanted.empty() && !call_dropped) {
      if (turn->finish == FinishReason::length && max_tokens < b.max_turn_tokens) {
        // The cap came from what was left of the run's budget, not from the per-turn limit.
        status = RunStatus::budget;
        r.detail = "the generated-token budget (" + std::to_string(b.max_generated_tokens) +
                   " tokens) ran out before the model finished its turn (raise --max-tokens)";
      } else if (turn->finish == FinishReason::length) {
        status = RunStatus::length;
        r.detail = "the model's turn reached " + std::to_string(max_tokens) +
                   " tokens before it finished (raise [agent] max_turn_tokens)";
      } else {
        status = RunStatus::answered;
        r.answer = std::string(trim(turn->message.content));
      }
      break;
    }

    // Run what the tool-call budget allows; the rest is answered with why it did not run.
    const int calls_left = b.max_tool_calls - r.tool_calls;
    if (!wanted.empty() && calls_left <= 0) {
      status = RunStatus::budget;
      r.detail = "the tool-call budget (" + std::to_string(b.max_tool_calls) + " calls) is spent";
      break;
    }
    const std::size_t n_run = std::min<std::size_t>(wanted.size(), static_cast<std::size_t>(std::max(0, calls_left)));
    std::vector<ToolCall> to_run(wanted.begin(), wanted.begin() + static_cast<std::ptrdiff_t>(n_run));
    auto outputs = co_await run_tools(step, to_run);
    r.tool_calls += static_cast<int>(n_run);
    for (std::size_t i = 0; i < n_run; ++i) add_sources(r, to_run[i].name, outputs[i]);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      tools::ToolOutput out = i < n_run ? std::move(outputs[i])
                                        : tools::ToolOutput::failure(
                                              "Not run: this run's tool-call budget (" +
                                              std::to_string(b.max_tool_calls) +
                                              " calls) is spent. Answer with what you have.");
      Message result{Role::tool, out.is_error ? "Error: " + out.text : out.text, {}, {}, wanted[i].id, wanted[i].name};
      messages_.push_back(std::move(result));
    }
    for (const auto& issue : turn->issues)
      if (issue.call_not_run) messages_.push_back(Message{Role::tool, "Error: " + issue.text, {}, {}, {}, {}});
  }
  if (wall) wall->cancel();
  if (!status) {
    status = stopped_ ? *stopped_ : RunStatus::cancelled;
    r.detail = stopped_ ? stop_detail_ : "the backend stopped the turn";
  }
  r.status = *status;
  r.messages = messages_;
  r.wall_ms = ms_since(start);
  trace_.write("run_end", ojson{{"status", run_status_name(r.status)}, {"answer", r.answer}, {"detail", r.detail},
                                {"steps", r.steps}, {"tool_calls", r.tool_calls}, {"usage", usage_json(r.usage)},
                                {"wall_ms", r.wall_ms}});
  co_return r;
}

}  // namespace scout::agent
