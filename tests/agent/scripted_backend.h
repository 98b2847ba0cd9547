// ScriptedBackend: a Backend for tests that replays a script of model outputs, one per turn,
// through the Qwen3 stream parser in small chunks (so the loop sees what a streaming model
// produces). It records every request it receives, so tests can check what the model was shown.
//
// Special turns: kHang waits until the turn is cancelled (then finishes as cancelled, keeping
// the text written so far); kFail returns a backend error. A turn's usage reports one completion
// token per 4 bytes of output, so token budgets can be exercised.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/backend.h"
#include "agent/chat_format.h"

namespace scout::agent::testing {

inline const std::string kHang = "\x01hang";
inline const std::string kFail = "\x01" "fail";

class ScriptedBackend final : public Backend {
 public:
  explicit ScriptedBackend(std::vector<std::string> turns, std::size_t chunk_bytes = 5)
      : turns_(std::move(turns)), chunk_bytes_(chunk_bytes) {}

  std::string describe() const override { return "scripted (" + std::to_string(turns_.size()) + " turns)"; }

  asio::awaitable<Result<TurnResult>> next_turn(TurnRequest request, TurnSink sink) override {
    requests.push_back(*request.messages);
    max_tokens_seen.push_back(request.max_tokens);
    TurnResult turn;
    turn.message.role = Role::assistant;
    if (next_ >= turns_.size()) co_return make_error("the script has no turn " + std::to_string(next_ + 1));
    const std::string text = turns_[next_++];
    if (text == kFail) co_return make_error("scripted backend failure");
    auto apply = [&](const std::vector<StreamEvent>& events) {
      for (const auto& e : events) {
        turn.add(e);
        if (sink) sink(e);
      }
    };
    if (text == kHang) {
      apply(StreamParser(ChatFormat(ChatFormat::Kind::qwen3).stream_tags()).feed("<think>working on it"));
      asio::steady_timer forever(co_await asio::this_coro::executor, std::chrono::hours(24));
      co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
      turn.finish = FinishReason::cancelled;
      co_return turn;
    }
    StreamParser parser(ChatFormat(ChatFormat::Kind::qwen3).stream_tags());
    for (std::size_t at = 0; at < text.size(); at += chunk_bytes_) apply(parser.feed(text.substr(at, chunk_bytes_)));
    apply(parser.finish());
    const auto tokens = static_cast<std::int64_t>(text.size() + 3) / 4;
    turn.usage.completion_tokens = std::min<std::int64_t>(tokens, request.max_tokens);
    turn.usage.prompt_tokens = 100;
    turn.usage.prefilled_tokens = 100;
    if (tokens > request.max_tokens) turn.finish = FinishReason::length;
    else turn.finish = turn.message.tool_calls.empty() ? FinishReason::stop : FinishReason::tool_calls;
    co_return turn;
  }

  std::vector<std::vector<Message>> requests;  // the conversation as given, per turn
  std::vector<std::int32_t> max_tokens_seen;

 private:
  std::vector<std::string> turns_;
  std::size_t chunk_bytes_;
  std::size_t next_ = 0;
};

}  // namespace scout::agent::testing
