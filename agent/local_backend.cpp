#include "agent/local_backend.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine/session/generate.h"

namespace scout::agent {

namespace {

// Whether the conversation's message is the turn this backend generated (not edited since).
bool same_turn(const Message& a, const Message& b) {
  if (a.role != Role::assistant || a.content != b.content || a.reasoning != b.reasoning ||
      a.tool_calls.size() != b.tool_calls.size())
    return false;
  for (std::size_t i = 0; i < a.tool_calls.size(); ++i)
    if (a.tool_calls[i].name != b.tool_calls[i].name || a.tool_calls[i].arguments != b.tool_calls[i].arguments)
      return false;
  return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Result<ChatFormat> chat_format_for(const Model& model, std::string_view requested) {
  if (!requested.empty()) return ChatFormat::by_name(requested);
  const Tokenizer& tok = model.tokenizer();
  if (tok.find_token("<|im_start|>") && tok.find_token("<|im_end|>")) return ChatFormat(ChatFormat::Kind::qwen3);
  if (tok.find_token("<｜User｜>") && tok.find_token("<｜Assistant｜>")) {
    // V3 and R1 share the vocabulary; R1's template is the one whose generation prompt opens
    // the reasoning.
    const auto chat_template = model.file().get_string("tokenizer.chat_template");
    const bool r1 = chat_template && chat_template->find("<｜Assistant｜><think>") != std::string_view::npos;
    return ChatFormat(r1 ? ChatFormat::Kind::deepseek_r1 : ChatFormat::Kind::deepseek_v3);
  }
  return make_error(model.path() + ": the vocabulary has no chat markers Scout knows (ChatML, DeepSeek); "
                    "pass --format qwen3|deepseek-v3|deepseek-r1");
}

Result<std::unique_ptr<LocalBackend>> LocalBackend::create(std::shared_ptr<const Model> model,
                                                           std::shared_ptr<Ops> ops, ChatFormat format,
                                                           LocalBackendOptions options) {
  const auto n_vocab = static_cast<std::int32_t>(model->hparams().n_vocab);
  auto sampler = Sampler::create(options.sampling, n_vocab);
  if (!sampler) return Unexpected(sampler.error());
  auto session = Session::create(model, std::move(ops), options.session);
  if (!session) return Unexpected(session.error());
  std::unique_ptr<LocalBackend> backend(
      new LocalBackend(std::move(*session), std::move(*sampler), format, options.keep_cache));
  for (const auto& marker : format.stop_markers())
    if (auto id = model->tokenizer().find_token(marker)) backend->stop_tokens_.push_back(*id);
  return backend;
}

LocalBackend::LocalBackend(Session session, Sampler sampler, ChatFormat format, bool keep_cache)
    : session_(std::move(session)), sampler_(std::move(sampler)), format_(format), keep_cache_(keep_cache) {}

LocalBackend::~LocalBackend() { worker_.join(); }

std::string LocalBackend::describe() const {
  const Model& model = session_.model();
  std::string path = model.path();
  if (auto slash = path.rfind('/'); slash != std::string::npos) path = path.substr(slash + 1);
  return "local " + std::string(arch_name(model.hparams().arch)) + " (" + path + "), " + format_.name() +
         " format, context " + std::to_string(session_.n_ctx());
}

Result<std::vector<std::int32_t>> LocalBackend::tokens_to_append(const TurnRequest& request) {
  const auto& messages = *request.messages;
  const auto& tools = *request.tools;
  const Tokenizer& tok = session_.model().tokenizer();
  RenderOptions with_prompt{true, request.enable_thinking};
  const std::string full = format_.render(messages, tools, with_prompt);
  opens_thinking_ = format_.opens_thinking(full);

  // The Session holds the rendering of the messages before the last generated turn, then that
  // turn as the model wrote it. When the conversation still starts with both, append what the
  // template writes after that turn's end-of-turn marker. (Where the template puts the turn
  // itself differently — Qwen3 drops an empty think block from turns that are not last — does
  // not matter: the Session keeps the model's own text.)
  const std::size_t before = messages_before_turn_;
  if (!keep_cache_) {
    if (auto t = session_.truncate(0); !t) return Unexpected(t.error());
    return tok.encode(full, /*add_special=*/true, /*parse_special=*/true);
  }
  if (generated_ && before + 1 < messages.size() && same_turn(messages[before], *generated_)) {
    std::vector<Message> head(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(before));
    const std::string head_text = format_.render(head, tools, RenderOptions{false, request.enable_thinking});
    if (full.compare(0, head_text.size(), head_text) == 0) {
      for (const auto& marker : format_.stop_markers()) {
        const auto end = full.find(marker, head_text.size());
        if (end == std::string::npos) continue;
        std::string delta = last_turn_closed_ ? std::string() : marker;
        delta += full.substr(end + marker.size());
        return tok.encode(delta, /*add_special=*/false, /*parse_special=*/true);
      }
    }
  }
  // First turn, or a conversation that is not an extension of what the Session holds: keep the
  // longest common token prefix and compute the rest.
  std::vector<std::int32_t> ids = tok.encode(full, /*add_special=*/true, /*parse_special=*/true);
  const auto have = session_.tokens();
  std::size_t common = 0;
  while (common < have.size() && common < ids.size() && have[common] == ids[common]) ++common;
  // Keep at least one token to read, so the turn's logits are fresh.
  if (common == ids.size() && common > 0) --common;
  if (common < have.size()) {
    // At least one token is appended next, so the logits at the cut need no recomputing.
    if (auto t = session_.truncate(static_cast<std::int32_t>(common), /*recompute_logits=*/false); !t)
      return Unexpected(t.error());
  }
  return std::vector<std::int32_t>(ids.begin() + static_cast<std::ptrdiff_t>(common), ids.end());
}

asio::awaitable<Result<TurnResult>> LocalBackend::next_turn(TurnRequest request, TurnSink sink) {
  auto executor = co_await asio::this_coro::executor;
  const Tokenizer& tok = session_.model().tokenizer();
  TurnResult turn;
  turn.message.role = Role::assistant;

  // Counted from the Session, so a truncation's recomputed position is included.
  const std::int64_t evaluated_before = session_.n_evaluated();
  std::vector<std::int32_t> prompt;
  std::optional<StreamParser> parser;
  std::int32_t thinking_tokens = 0;
  if (request.resume_thinking_with) {
    if (!paused_) co_return make_error("nothing to resume: the last turn did not pause on an in-thought action");
    // Results are data: text that spells a special token stays plain text.
    prompt = tok.encode(*request.resume_thinking_with, /*add_special=*/false, /*parse_special=*/false);
    parser.emplace(std::move(paused_->parser));
    thinking_tokens = paused_->thinking_tokens;
  } else {
    paused_.reset();
    auto ids = tokens_to_append(request);
    if (!ids) co_return Unexpected(ids.error());
    prompt = std::move(*ids);
    const std::vector<ThoughtAction> none;
    parser.emplace(format_.stream_tags(), opens_thinking_ ? StreamParser::Start::thinking : StreamParser::Start::answer,
                   request.thought_actions ? *request.thought_actions : none);
  }
  std::vector<std::int32_t> forced;
  if (!replay_.empty()) {
    forced = tok.encode(replay_.front(), /*add_special=*/false, /*parse_special=*/true);
    replay_.pop_front();
  }
  turn.usage.prefilled_tokens = session_.n_evaluated() - evaluated_before + static_cast<std::int64_t>(prompt.size());
  turn.usage.prompt_tokens = session_.n_past() + static_cast<std::int64_t>(prompt.size());
  if (turn.usage.prompt_tokens >= session_.n_ctx()) {
    turn.finish = FinishReason::context_full;
    co_return turn;
  }

  // Shared with the worker: the worker writes, then posts; the coroutine reads after the post.
  std::atomic<bool> cancel{false};
  bool done = false;
  bool paused = false;
  bool budget_spent = false, thinking_closed = false;
  Result<GenerateResult> generated = make_error("generation did not run");
  std::int64_t reasoning_tokens = 0, n_generated = 0;
  double prompt_ms = 0, decode_ms = 0;
  asio::steady_timer wake(executor, asio::steady_timer::time_point::max());

  auto deliver = [&](std::vector<StreamEvent> events) {
    if (events.empty()) return;
    asio::post(executor, [&turn, &sink, events = std::move(events)] {
      for (const auto& e : events) {
        turn.add(e);
        if (sink) sink(e);
      }
    });
  };

  asio::post(worker_, [&] {
    GenerateOptions options;
    options.max_tokens = request.max_tokens;
    options.stop_tokens = stop_tokens_;
    options.show_control_tokens = true;  // DeepSeek writes its tool calls with control tokens
    options.forced_tokens = std::move(forced);
    std::span<const std::int32_t> input = prompt;
    for (;;) {
      generated = generate(session_, input, sampler_, options, [&](const TokenEvent& event) {
        const bool was_thinking = parser->in_thinking();
        auto events = parser->feed(event.text);
        const bool thought = std::any_of(events.begin(), events.end(), [](const StreamEvent& e) {
          return e.kind == StreamEvent::Kind::thought_call;
        });
        // A token read inside the thinking is a thinking token (its close tag included, the
        // open tag not).
        if (was_thinking) {
          ++reasoning_tokens;
          ++thinking_tokens;
        }
        deliver(std::move(events));
        if (thought) {
          paused = true;
          return false;
        }
        if (request.think_budget >= 0 && thinking_tokens >= request.think_budget && parser->in_thinking() &&
            !parser->writing_action() && !budget_spent) {
          budget_spent = true;
          return false;
        }
        return !cancel.load(std::memory_order_relaxed);
      });
      if (!generated) break;
      n_generated += generated->timings.n_generated;
      prompt_ms += generated->timings.prompt_ms;
      decode_ms += generated->timings.decode_ms;
      // The budget stopped generation: write the closing words and the think-close tag as the
      // model's own tokens, then let it answer in the same call.
      const bool close_thinking = budget_spent && !thinking_closed && generated->stop_reason == StopReason::cancelled &&
                                  !paused && !cancel.load();
      if (!close_thinking) break;
      thinking_closed = true;
      const std::int32_t left = request.max_tokens - static_cast<std::int32_t>(n_generated);
      if (left <= 0) break;
      options.max_tokens = left;
      options.forced_tokens = tok.encode(std::string(kThinkBudgetClose) + format_.stream_tags().think_close + "\n\n",
                                         /*add_special=*/false, /*parse_special=*/true);
      input = {};
    }
    if (!paused) deliver(parser->finish());
    asio::post(executor, [&] {
      done = true;
      wake.cancel();
    });
  });

  // Wait for the worker. A cancellation of this coroutine asks the worker to stop at the next
  // token; the turn still completes with what was generated, once the worker is done.
  while (!done) {
    co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!done) {
      cancel.store(true, std::memory_order_relaxed);
      co_await asio::this_coro::reset_cancellation_state();
    }
  }

  if (!generated) {
    paused_.reset();
    co_return Unexpected(generated.error());
  }
  const GenerateResult& g = *generated;
  turn.usage.completion_tokens = n_generated;
  turn.usage.reasoning_tokens = reasoning_tokens;
  turn.usage.prompt_ms = prompt_ms;
  turn.usage.generate_ms = decode_ms;
  turn.think_budget_spent = budget_spent;
  switch (g.stop_reason) {
    case StopReason::max_tokens: turn.finish = FinishReason::length; break;
    case StopReason::cancelled: turn.finish = FinishReason::cancelled; break;
    case StopReason::context_full: turn.finish = FinishReason::context_full; break;
    default: turn.finish = turn.message.tool_calls.empty() ? FinishReason::stop : FinishReason::tool_calls;
  }
  if (paused && !cancel.load()) turn.finish = FinishReason::thought_call;
  if (cancel.load()) turn.finish = FinishReason::cancelled;

  if (turn.finish == FinishReason::thought_call) {
    // Keep the parser and the turn so far; the next request resumes them.
    TurnResult so_far = request.resume_thinking_with && paused_ ? std::move(paused_->so_far) : TurnResult{};
    if (request.resume_thinking_with) {
      so_far.continue_with(*request.resume_thinking_with, turn);
    } else {
      so_far = turn;
      messages_before_turn_ = request.messages->size();
    }
    paused_.emplace(Paused{std::move(*parser), std::move(so_far), thinking_tokens});
    co_return turn;
  }

  // The turn is over: remember it whole (every segment), as the next turn's head.
  if (request.resume_thinking_with && paused_) {
    TurnResult whole = std::move(paused_->so_far);
    whole.continue_with(*request.resume_thinking_with, turn);
    generated_ = whole.message;
  } else {
    messages_before_turn_ = request.messages->size();
    generated_ = turn.message;
  }
  paused_.reset();
  last_turn_closed_ = false;
  const auto ids = session_.tokens();
  const std::string tail = tok.decode(ids.subspan(ids.size() - std::min<std::size_t>(ids.size(), 4)));
  for (const auto& marker : format_.stop_markers()) last_turn_closed_ = last_turn_closed_ || ends_with(tail, marker);
  co_return turn;
}

}  // namespace scout::agent
