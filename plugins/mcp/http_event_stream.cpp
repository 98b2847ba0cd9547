#include "plugins/mcp/http_event_stream.h"

#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

namespace scout::plugins::mcp {

namespace beast = boost::beast;
namespace http = beast::http;
using HttpRequest = http::request<http::string_body>;

namespace {

// Writes `text` to an event stream: as one HTTP/1.1 chunk (size in hex, CRLF, the bytes, CRLF),
// or as it is on HTTP/1.0.
asio::awaitable<bool> write_stream_bytes(beast::tcp_stream& stream, bool chunked, const std::string& text,
                                         std::chrono::milliseconds timeout) {
  std::string bytes;
  if (chunked) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", text.size());
    bytes = size + text + "\r\n";
  } else {
    bytes = text;
  }
  stream.expires_after(timeout);
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
  (void)n;
  co_return !ec;
}

// Writes the oldest queued event.
asio::awaitable<bool> write_next_event(beast::tcp_stream& stream, bool chunked, EventQueue& queue,
                                       std::chrono::milliseconds timeout) {
  const std::string event = std::move(queue.events.front());
  queue.events.pop_front();
  const bool written = co_await write_stream_bytes(stream, chunked, event, timeout);
  co_return written;
}

// Waits for the next event or the end of the stream; when keep_alive passes first, writes a
// comment line (which also finds out whether the reader is still there).
asio::awaitable<bool> wait_for_event(beast::tcp_stream& stream, bool chunked, EventQueue& queue, StreamTiming timing) {
  queue.wake.expires_after(timing.keep_alive);
  auto [ec] = co_await queue.wake.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return true;  // woken by an event, or the end
  const std::string comment = ": keep-alive\n\n";
  const bool written = co_await write_stream_bytes(stream, chunked, comment, timing.write_timeout);
  co_return written;
}

}  // namespace

// Writes a text/event-stream answer from `queue` until it is done: chunked on HTTP/1.1 (the
// connection can then serve another request), to the connection's end on HTTP/1.0. Returns
// whether the connection stays open.
asio::awaitable<bool> write_event_stream(beast::tcp_stream& stream, const HttpRequest& req,
                                         std::shared_ptr<EventQueue> queue, StreamTiming timing) {
  const bool chunked = req.version() >= 11;
  http::response<http::empty_body> res{http::status::ok, req.version()};
  res.set(http::field::server, "scout");
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-cache");
  res.keep_alive(chunked && req.keep_alive());
  if (chunked) res.chunked(true);
  http::response_serializer<http::empty_body> serializer{res};
  stream.expires_after(timing.write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
  (void)n;
  if (ec) {
    queue->finish();
    co_return false;
  }
  bool open = true;
  while (open && !(queue->done && queue->events.empty())) {
    if (queue->events.empty()) {
      open = co_await wait_for_event(stream, chunked, *queue, timing);
    } else {
      open = co_await write_next_event(stream, chunked, *queue, timing.write_timeout);
    }
  }
  if (!open) {
    queue->finish();  // the reader has gone: drop what comes after
    co_return false;
  }
  if (!chunked) co_return false;
  const std::string last_chunk = "0\r\n\r\n";
  stream.expires_after(timing.write_timeout);
  auto [end_ec, end_n] = co_await asio::async_write(stream, asio::buffer(last_chunk), asio::as_tuple(asio::use_awaitable));
  (void)end_n;
  co_return !end_ec && req.keep_alive();
}

}  // namespace scout::plugins::mcp
