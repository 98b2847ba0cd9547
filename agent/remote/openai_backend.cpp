#include "agent/remote/openai_backend.h"

#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "agent/remote/openai_errors.h"
#include "agent/remote/openai_request.h"
#include "agent/remote/openai_stream.h"
#include "tools/http/sse.h"

namespace scout::agent::remote {

namespace http = tools::http;

namespace {

// A long turn streams one small JSON chunk per token: 256 MiB is far beyond any real turn and
// still bounds a server that never stops.
constexpr std::size_t kMaxStreamBytes = 256u << 20;

std::string seconds_text(std::chrono::milliseconds ms) {
  const double s = static_cast<double>(ms.count()) / 1000.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

bool is_connection_failure(http::ErrorKind kind) {
  return kind == http::ErrorKind::connect || kind == http::ErrorKind::closed || kind == http::ErrorKind::timeout;
}

TurnResult cancelled_turn() {
  TurnResult out;
  out.message.role = Role::assistant;
  out.finish = FinishReason::cancelled;
  return out;
}

}  // namespace

// The outcome of one HTTP exchange.
struct OpenAiBackend::Attempt {
  enum class Kind { complete, cancelled, retryable, failed };
  Kind kind = Kind::failed;
  std::optional<TurnResult> result;                   // complete, cancelled
  std::string error;                                  // retryable, failed: what went wrong
  std::optional<std::chrono::milliseconds> retry_after;  // retryable: the server's Retry-After
};

OpenAiBackend::OpenAiBackend(asio::any_io_executor executor, OpenAiOptions options)
    : options_(std::move(options)), client_(std::move(executor)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

std::string OpenAiBackend::describe() const { return "remote " + options_.base_url + " model " + options_.model; }

std::string OpenAiBackend::endpoint(bool raw_completion) const {
  return options_.base_url + (raw_completion ? "/completions" : "/chat/completions");
}

http::Options OpenAiBackend::http_options() const {
  http::Options o;
  o.address_policy.allow_private = true;  // the user's own server, often on this machine
  o.max_redirects = 0;  // a POST is not replayed across redirects; a redirect is an error below
  o.max_body_bytes = kMaxStreamBytes;
  o.connect_timeout = options_.connect_timeout;
  o.idle_timeout = options_.idle_timeout;
  o.total_timeout = options_.request_timeout;
  o.ca_file = options_.ca_file;
  return o;
}

asio::awaitable<OpenAiBackend::Attempt> OpenAiBackend::attempt(const std::string& body, const TurnRequest& turn,
                                                               TurnSink& sink) const {
  http::Request request;
  request.method = "POST";
  request.url = endpoint(turn.resume_thinking_with && turn.paused_turn != nullptr &&
                         options_.continuation == OpenAiOptions::Continuation::completions);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "text/event-stream");
  if (!options_.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  for (const auto& header : options_.extra_headers) request.headers.push_back(header);
  request.body = body;

  const auto cancellation = co_await asio::this_coro::cancellation_state;
  const auto start = TurnAssembler::Clock::now();
  const bool watch_actions = can_pause_in_thought() && turn.thought_actions != nullptr;
  TurnAssembler assembler(sink, start, watch_actions ? *turn.thought_actions : std::vector<ThoughtAction>{},
                          turn.resume_thinking_with.has_value());
  http::SseParser events;
  std::optional<Error> stream_error;
  std::size_t body_bytes = 0;
  auto on_body = [&](std::string_view bytes) -> bool {
    body_bytes += bytes.size();
    if (cancellation.cancelled() != asio::cancellation_type::none) return false;
    for (const http::SseEvent& event : events.feed(bytes)) {
      auto handled = assembler.on_named_event(event.event, event.data);
      if (!handled) {
        stream_error = handled.error();
        return false;
      }
      if (assembler.done()) return false;  // [DONE]: nothing that follows matters
      // Paused on an in-thought action: closing the stream stops the server's generation.
      if (assembler.paused()) return false;
    }
    if (events.failed()) {
      stream_error = Error{"the server sent an unreadable event stream: " + events.error()};
      return false;
    }
    return true;
  };

  Attempt out;
  const std::string where = "The model server at " + options_.base_url;
  auto fetched = co_await client_.fetch_streaming(request, http_options(), on_body);
  const bool cancelled = cancellation.cancelled() != asio::cancellation_type::none;

  if (!fetched) {
    const http::HttpError& error = fetched.error();
    if (cancelled || error.kind == http::ErrorKind::cancelled) {
      out.kind = Attempt::Kind::cancelled;
      out.result = assembler.finish(true);
      co_return out;
    }
    const std::string message = redact(error.message, options_.api_key);
    if (body_bytes == 0 && is_connection_failure(error.kind)) {
      out.kind = Attempt::Kind::retryable;
      out.error = message;
    } else if (body_bytes == 0) {
      out.error = where + " could not be used: " + message;
      if (error.kind == http::ErrorKind::resolve || error.kind == http::ErrorKind::invalid_url) {
        out.error += " Check the base URL.";
      } else if (error.kind == http::ErrorKind::tls) {
        out.error += " A server with its own certificate authority needs that CA's file configured.";
      }
    } else if (error.kind == http::ErrorKind::timeout) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(TurnAssembler::Clock::now() - start);
      if (elapsed >= options_.request_timeout) {
        out.error = where + " did not finish the turn within the request timeout (" +
                    seconds_text(options_.request_timeout) + ") after sending " + assembler.received_summary() + ".";
      } else {
        out.error = where + " stalled: no data for " + seconds_text(options_.idle_timeout) +
                    " (the idle timeout) after sending " + assembler.received_summary() + ".";
      }
    } else {
      out.error = where + " cut the stream after sending " + assembler.received_summary() + ": " + message;
    }
    co_return out;
  }

  const http::Response& response = *fetched;
  if (response.status < 200 || response.status > 299) {
    out.error = status_error_message(response.status, response.reason, response.body, options_);
    if (response.status >= 300 && response.status < 400) {
      const std::string location(response.header("Location"));
      out.error += " The server redirected the request" + (location.empty() ? "" : " to " + location) +
                   "; set the base URL to where it points.";
    }
    if (is_retryable_status(response.status)) {
      out.kind = Attempt::Kind::retryable;
      const std::string_view retry_after = response.header("Retry-After");
      if (!retry_after.empty()) out.retry_after = parse_retry_after(retry_after, std::chrono::system_clock::now());
    } else {
      out.error = where + " refused the request: " + out.error;
    }
    co_return out;
  }

  if (stream_error) {
    out.error = where + ": " + redact(stream_error->message, options_.api_key) + " (after " +
                assembler.received_summary() + ")";
    co_return out;
  }
  if (cancelled) {
    out.kind = Attempt::Kind::cancelled;
    out.result = assembler.finish(true);
    co_return out;
  }
  if (response.truncated) {
    out.error = where + " sent a stream longer than " + std::to_string(kMaxStreamBytes >> 20) + " MiB; stopped after " +
                assembler.received_summary() + ".";
    co_return out;
  }
  if (!assembler.done() && !assembler.saw_finish_reason() && !assembler.paused()) {
    const std::string_view content_type = response.header("Content-Type");
    if (assembler.chunks() == 0 && content_type.find("text/event-stream") == std::string_view::npos) {
      out.error = where + " did not answer with an event stream (Content-Type: " +
                  (content_type.empty() ? std::string("none") : std::string(content_type)) +
                  "); check that the base URL points at an OpenAI-compatible API.";
    } else {
      out.error = where + " ended the stream before the turn was complete, after sending " +
                  assembler.received_summary() + ".";
    }
    co_return out;
  }
  out.kind = Attempt::Kind::complete;
  out.result = assembler.finish(false);
  co_return out;
}

asio::awaitable<Result<TurnResult>> OpenAiBackend::next_turn(TurnRequest request, TurnSink sink) {
  if (request.messages == nullptr || request.messages->empty()) {
    co_return make_error("the remote backend was asked for a turn with no conversation");
  }
  // A paused turn resumes on /completions with Scout's own rendering, where configured.
  const bool raw_completion = request.resume_thinking_with && request.paused_turn != nullptr &&
                              options_.continuation == OpenAiOptions::Continuation::completions;
  if (raw_completion && !options_.format)
    co_return make_error("the remote backend cannot resume a paused turn on /completions without the model's chat "
                         "format (set [remote] format)");
  const std::string body = (raw_completion ? completion_request_body(request, options_)
                                           : chat_request_body(request, options_))
                               .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);

  try {
    for (int retry = 1;; ++retry) {
      Attempt result = co_await attempt(body, request, sink);
      switch (result.kind) {
        case Attempt::Kind::complete:
        case Attempt::Kind::cancelled:
          co_return std::move(*result.result);
        case Attempt::Kind::failed:
          co_return make_error(std::move(result.error));
        case Attempt::Kind::retryable:
          break;
      }
      const std::string where = "The model server at " + options_.base_url;
      if (options_.max_retries == 0) co_return make_error(where + " failed: " + result.error);
      if (retry > options_.max_retries) {
        co_return make_error(where + " still failed after " + std::to_string(options_.max_retries) +
                             (options_.max_retries == 1 ? " retry: " : " retries: ") + result.error);
      }
      if (result.retry_after && *result.retry_after > options_.max_backoff) {
        co_return make_error(where + " asked to retry after " + seconds_text(*result.retry_after) +
                             ", longer than the longest wait configured (" + seconds_text(options_.max_backoff) +
                             "): " + result.error);
      }
      RetryNotice notice;
      notice.attempt = retry;
      notice.max_retries = options_.max_retries;
      notice.delay_from_server = result.retry_after.has_value();
      notice.delay = result.retry_after.value_or(backoff_delay(retry, options_.initial_backoff, options_.max_backoff));
      notice.reason = result.error;
      if (options_.on_retry) options_.on_retry(notice);

      asio::steady_timer timer(co_await asio::this_coro::executor, notice.delay);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return cancelled_turn();
    }
  } catch (const boost::system::system_error& e) {
    // A co_await after the caller's cancellation throws operation_aborted (Asio's default for
    // cancelled coroutines): the turn was cancelled before anything arrived.
    if (e.code() == asio::error::operation_aborted) co_return cancelled_turn();
    co_return make_error("The remote backend failed unexpectedly: " + std::string(e.what()));
  }
}

}  // namespace scout::agent::remote
