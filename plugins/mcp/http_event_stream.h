// The event streams of `scout mcp-server --http` (http_server.h): a queue of formatted events
// that one writer drains onto a connection — as HTTP/1.1 chunks, or to the connection's end on
// HTTP/1.0 — with a comment line every keep_alive while there is nothing to send, which also
// finds out whether the reader is still there. Used by http_server.cpp only.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace scout::plugins::mcp {

namespace asio = boost::asio;

// Events waiting to be written to one stream; the writer sleeps on `wake` while there are none.
struct EventQueue {
  std::deque<std::string> events;  // formatted, "id: …\ndata: …\n\n"
  bool done = false;               // nothing more will come (or nobody is reading any more)
  asio::steady_timer wake;
  explicit EventQueue(asio::any_io_executor ex) : wake(std::move(ex)) {}
  void push(std::string event) {
    if (done) return;
    events.push_back(std::move(event));
    wake.cancel();
  }
  void finish() {
    done = true;
    wake.cancel();
  }
};

struct StreamTiming {
  std::chrono::milliseconds write_timeout;
  std::chrono::milliseconds keep_alive;
};

// Writes a text/event-stream answer from `queue` until it is done: chunked on HTTP/1.1 (the
// connection can then serve another request), to the connection's end on HTTP/1.0. Returns
// whether the connection stays open.
asio::awaitable<bool> write_event_stream(boost::beast::tcp_stream& stream,
                                         const boost::beast::http::request<boost::beast::http::string_body>& req,
                                         std::shared_ptr<EventQueue> queue, StreamTiming timing);

}  // namespace scout::plugins::mcp
