// libFuzzer target: the HTTP client's reading of a response (tools/http: exchange.cpp's Beast
// parser with its header and line limits, chunked bodies, interim responses, gzip/deflate
// decoding, the body cap, streaming to a sink) against a server on the loopback interface that
// answers every request with the fuzzer's bytes. The client is the real Client::fetch, with the
// options fetch_url and the MCP transport use, except that redirects are returned rather than
// followed (max_redirects = 0), so no other host is ever contacted.
//
// Input: byte 0 picks the options (decode gzip/deflate or not; stream to a sink that feeds an
// SSE parser, or collect; a HEAD request; a small body cap); bytes 1-2 are the server's write
// sizes (in units of 4 bytes, cycled); the rest is the response, bytes as sent.
//
// Checked: the fetch ends (the server closes the connection after its bytes, so nothing may wait
// for a timeout); the same response gives the same outcome sent in one write and in pieces
// (status, reason, headers, body, truncation, or the error's kind); a body is never longer than
// the cap, and one marked truncated fills it exactly; errors have messages.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "fuzz/fuzz_check.h"
#include "tools/http/http_client.h"
#include "tools/http/sse.h"

namespace {

namespace asio = boost::asio;
namespace http = scout::tools::http;
using asio::ip::tcp;
using scout::fuzz::check;

// Answers one connection: reads the request head, writes the response's pieces one at a time
// (the client runs in between), closes its sending side, and waits for the client to close
// before closing (with a reset, so no TIME_WAIT sockets pile up over millions of connections).
asio::awaitable<void> serve_one(tcp::acceptor& acceptor, std::vector<std::string_view> pieces) {
  auto [aec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
  if (aec) co_return;
  asio::streambuf request;
  auto [rec, n] = co_await asio::async_read_until(socket, request, "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
  (void)n;
  if (rec) co_return;
  for (std::string_view piece : pieces) {
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(piece.data(), piece.size()),
                                                     asio::as_tuple(asio::use_awaitable));
    (void)written;
    if (wec) break;  // the client stopped reading (a HEAD, a full cap, an error)
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  char sink[4096];
  for (;;) {
    auto [ec, got] = co_await socket.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    (void)got;
    if (ec) break;
  }
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

struct Outcome {
  bool ok = false;
  http::Response response;
  std::string streamed;  // what the sink received
  std::vector<http::SseEvent> events;
  http::ErrorKind error = http::ErrorKind::protocol;
  std::string message;
};

Outcome fetch_once(asio::io_context& io, tcp::acceptor& acceptor, std::uint8_t selector,
                   std::vector<std::string_view> pieces) {
  http::Options options;
  options.address_policy.allow_private = true;  // the loopback server
  options.max_redirects = 0;
  options.decode_content = selector & 1;
  options.max_body_bytes = (selector & 8) ? 64 : 1u << 20;
  options.connect_timeout = std::chrono::seconds(10);
  options.idle_timeout = std::chrono::seconds(10);
  options.total_timeout = std::chrono::seconds(20);
  http::Request request;
  request.method = (selector & 4) ? "HEAD" : "GET";
  request.url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/fuzz";

  Outcome out;
  bool done = false;
  http::Client client(io.get_executor());
  auto sse = std::make_shared<http::SseParser>(4096);
  auto run = [&]() -> asio::awaitable<void> {
    http::HttpResult<http::Response> r =
        (selector & 2) ? co_await client.fetch_streaming(std::move(request), options,
                                                        [&out, sse](std::string_view piece) {
                                                          out.streamed.append(piece);
                                                          for (auto& e : sse->feed(piece)) out.events.push_back(std::move(e));
                                                          return true;
                                                        })
                       : co_await client.fetch(std::move(request), options);
    if (r) {
      out.ok = true;
      out.response = std::move(*r);
    } else {
      out.error = r.error().kind;
      out.message = r.error().message;
    }
    done = true;
  };
  asio::co_spawn(io, serve_one(acceptor, std::move(pieces)), [](std::exception_ptr e) { check(!e, "the test server threw"); });
  asio::co_spawn(io, run(), [](std::exception_ptr e) { check(!e, "the fetch threw"); });
  io.restart();
  io.run_for(std::chrono::seconds(30));
  check(done, "the fetch did not end after the server closed the connection");
  io.restart();
  io.run_for(std::chrono::seconds(5));  // let the server side close
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static asio::io_context io;
  static tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  scout::fuzz::Input in(data, size);
  const std::uint8_t selector = in.byte();
  const std::uint8_t sizes[2] = {static_cast<std::uint8_t>(in.byte() % 64 * 4), static_cast<std::uint8_t>(in.byte() % 64 * 4)};
  const std::string_view response = in.rest();

  std::vector<std::string_view> pieces;
  scout::fuzz::for_each_piece(response, sizes, 2, [&](std::string_view piece) { pieces.push_back(piece); });
  const Outcome a = fetch_once(io, acceptor, selector, {response});
  const Outcome b = fetch_once(io, acceptor, selector, std::move(pieces));

  const std::size_t cap = (selector & 8) ? 64 : 1u << 20;
  for (const Outcome* o : {&a, &b}) {
    if (!o->ok) {
      check(!o->message.empty(), "an error without a message");
      continue;
    }
    const std::size_t body = (selector & 2) ? o->streamed.size() + o->response.body.size() : o->response.body.size();
    check(body <= cap, "a body longer than the cap");
    if (o->response.truncated) check(body == cap, "a truncated body that does not fill the cap");
    check(o->response.status >= 100 && o->response.status <= 999, "a status outside 100-999");
  }
  if (a.ok != b.ok || (a.error != b.error && !a.ok))
    std::fprintf(stderr, "written whole: %s\nwritten in pieces: %s\n", a.ok ? "ok" : a.message.c_str(),
                 b.ok ? "ok" : b.message.c_str());
  check(a.ok == b.ok, "the same response succeeds or fails depending on how it was written");
  if (!a.ok) {
    // A header that is both malformed and cut short reads as either: Beast reports a bad field
    // when the bad byte comes in the same read as the start of the header, and waits for the
    // header's end (then meets the end of the stream) when it does not.
    const auto kind = [](http::ErrorKind k) { return k == http::ErrorKind::closed ? http::ErrorKind::protocol : k; };
    check(kind(a.error) == kind(b.error), "the same response fails differently depending on how it was written");
    return 0;
  }
  check(a.response.status == b.response.status && a.response.reason == b.response.reason &&
            a.response.headers == b.response.headers,
        "the same response head reads differently depending on how it was written");
  check(a.response.body == b.response.body && a.streamed == b.streamed && a.response.truncated == b.response.truncated,
        "the same response body reads differently depending on how it was written");
  check(a.events.size() == b.events.size(), "the same event stream reads differently depending on how it was written");
  return 0;
}
