// Shared by the remote backend tests: options pointing at a ReplayServer, and running one turn
// to completion on a fresh io_context while recording the streamed events.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "agent/remote/openai_backend.h"
#include "tests/support/replay_server.h"

namespace scout::agent::remote::testing {

inline constexpr const char* kTestApiKey = "sk-test-7f3a9c-secret";

// Options for `server` with short retry waits and generous hang guards.
inline OpenAiOptions options_for(const std::string& base_url) {
  OpenAiOptions o;
  o.base_url = base_url;
  o.model = "replay-model";
  o.api_key = kTestApiKey;
  o.api_key_source = "SCOUT_TEST_API_KEY";
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::seconds(5);
  o.max_retries = 2;
  o.connect_timeout = std::chrono::seconds(20);
  o.idle_timeout = std::chrono::seconds(60);
  o.request_timeout = std::chrono::seconds(120);
  return o;
}

struct TurnRun {
  std::optional<Result<TurnResult>> result;
  std::vector<StreamEvent> events;

  // The concatenated text of the streamed events of one kind.
  std::string text(StreamEvent::Kind kind) const {
    std::string out;
    for (const StreamEvent& e : events)
      if (e.kind == kind) out += e.text;
    return out;
  }
  std::vector<const StreamEvent*> of_kind(StreamEvent::Kind kind) const {
    std::vector<const StreamEvent*> out;
    for (const StreamEvent& e : events)
      if (e.kind == kind) out.push_back(&e);
    return out;
  }
};

inline std::vector<Message> user_says(const std::string& text) {
  Message m;
  m.role = Role::user;
  m.content = text;
  return {m};
}

// Runs one turn. When `cancel_when` is set it is checked after each event; once it holds, the
// turn's coroutine is cancelled (terminal cancellation, as Ctrl-C or a budget would).
// `expose_cancel`, when set, receives a function that cancels the turn the same way, for
// callbacks other than the sink (e.g. OpenAiOptions::on_retry).
inline TurnRun run_turn(const OpenAiOptions& options, const std::vector<Message>& messages,
                        const std::vector<ToolSpec>& tools = {}, bool enable_thinking = true,
                        std::function<bool(const TurnRun&)> cancel_when = {},
                        std::function<void(std::function<void()>)> expose_cancel = {}) {
  boost::asio::io_context io;
  OpenAiBackend backend(io.get_executor(), options);
  TurnRun run;
  boost::asio::cancellation_signal cancel;
  bool cancel_sent = false;
  TurnRequest request;
  request.messages = &messages;
  request.tools = &tools;
  request.max_tokens = 1024;
  request.enable_thinking = enable_thinking;
  // Emitted from the io_context, not from inside the backend's callback.
  auto send_cancel = [&] {
    if (cancel_sent) return;
    cancel_sent = true;
    boost::asio::post(io, [&] { cancel.emit(boost::asio::cancellation_type::terminal); });
  };
  if (expose_cancel) expose_cancel(send_cancel);
  auto sink = [&](const StreamEvent& e) {
    run.events.push_back(e);
    if (cancel_when && cancel_when(run)) send_cancel();
  };
  std::exception_ptr failure;
  // Result<T> has no default value, which co_spawn needs for a value-returning coroutine.
  auto turn = [&]() -> boost::asio::awaitable<void> { run.result = co_await backend.next_turn(request, sink); };
  boost::asio::co_spawn(io, turn(),
                        boost::asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) { failure = e; }));
  io.run();
  if (failure) std::rethrow_exception(failure);
  if (!run.result) throw std::logic_error("the turn did not complete");
  return run;
}

}  // namespace scout::agent::remote::testing
