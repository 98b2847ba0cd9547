// The HTTP client against real servers on 127.0.0.1: what a well-behaved server gets and gives.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tests/tools/http/http_test_support.h"

using namespace scout::tools::http;
using namespace scout::tools::http::testing;
using namespace scout::test;
using namespace std::chrono_literals;

namespace {

// Records the requests a server received.
struct Recorder {
  std::mutex mu;
  std::vector<HttpExchange> requests;
  void add(const HttpExchange& r) {
    std::lock_guard lock(mu);
    requests.push_back(r);
  }
  HttpExchange at(std::size_t i) {
    std::lock_guard lock(mu);
    return requests.at(i);
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return requests.size();
  }
};

}  // namespace

TEST_CASE("a GET returns status, headers, body and the final URL", "[http]") {
  Recorder rec;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    rec.add(req);
    conn.write(http_response(200, "text/plain; charset=utf-8", "hello", {{"X-Reply", "yes"}}));
  });
  auto r = fetch(server.url("/page?x=1"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->reason == "OK");
  CHECK(r->body == "hello");
  CHECK_FALSE(r->truncated);
  CHECK(r->header("x-reply") == "yes");
  CHECK(r->header("content-type") == "text/plain; charset=utf-8");
  CHECK(r->final_url == server.url("/page?x=1"));
  CHECK(r->redirects.empty());
  const HttpExchange req = rec.at(0);
  CHECK(req.method == "GET");
  CHECK(req.target == "/page?x=1");
  CHECK(req.header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK_THAT(req.header("User-Agent"), Catch::StartsWith("Scout/"));
  CHECK(req.header("Accept-Encoding") == "gzip, deflate");
  // No keep-alive: every exchange asks the server to close.
  CHECK(req.header("Connection") == "close");
}

TEST_CASE("a POST sends its body and headers, as the search APIs need", "[http]") {
  Recorder rec;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    rec.add(req);
    conn.write(http_response(201, "application/json", R"({"ok":true})"));
  });
  Request request;
  request.method = "POST";
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer k-123"}, {"User-Agent", "custom/1"},
                     {"Host", "evil.example"}, {"Content-Length", "999"}};
  request.body = R"({"q":"scout"})";
  auto r = fetch(server.url("/search"), local_options(), request);
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->body == R"({"ok":true})");
  const HttpExchange req = rec.at(0);
  CHECK(req.method == "POST");
  CHECK(req.body == R"({"q":"scout"})");
  CHECK(req.header("Content-Type") == "application/json");
  CHECK(req.header("Authorization") == "Bearer k-123");
  CHECK(req.header("User-Agent") == "custom/1");
  // Host and Content-Length are the client's own, whatever the caller passed.
  CHECK(req.header("Host") == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(req.header("Content-Length") == "13");
}

TEST_CASE("an empty POST still says Content-Length: 0", "[http]") {
  Recorder rec;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    rec.add(req);
    conn.write(http_response(200, "text/plain", ""));
  });
  Request request;
  request.method = "POST";
  auto r = fetch(server.url("/"), local_options(), request);
  REQUIRE(r);
  CHECK(r->body.empty());
  CHECK(rec.at(0).header("Content-Length") == "0");
}

TEST_CASE("HTTP error statuses are responses, not errors", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(404, "application/json", R"({"error":"no such page"})"));
  });
  auto r = fetch(server.url("/missing"));
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(r->reason == "Not Found");
  CHECK(r->body == R"({"error":"no such page"})");
}

TEST_CASE("chunked, close-delimited, HEAD and 204 responses are read correctly", "[http]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/chunked") {
      conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=x\r\n world\r\n0\r\nTrailer: t\r\n\r\n");
    } else if (req.target == "/eof") {
      conn.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
      conn.close();
    } else if (req.target == "/head") {
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    } else {
      conn.write("HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  auto chunked = fetch(server.url("/chunked"));
  REQUIRE(chunked);
  CHECK(chunked->body == "hello world");
  auto eof = fetch(server.url("/eof"));
  REQUIRE(eof);
  CHECK(eof->body == "until the end");
  Request head;
  head.method = "HEAD";
  auto h = fetch(server.url("/head"), local_options(), head);
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->body.empty());
  auto nc = fetch(server.url("/204"));
  REQUIRE(nc);
  CHECK(nc->status == 204);
}

TEST_CASE("interim 1xx responses are skipped", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" +
               http_response(200, "text/plain", "final"));
  });
  auto r = fetch(server.url("/"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "final");
}

TEST_CASE("gzip and deflate bodies are decoded unless decoding is off", "[http]") {
  const std::string text(100000, 'a');
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/gzip") conn.write(http_response(200, "text/plain", gzip(text), {{"Content-Encoding", "gzip"}}));
    if (req.target == "/zlib") conn.write(http_response(200, "text/plain", compress(text, 15), {{"Content-Encoding", "deflate"}}));
    if (req.target == "/raw") conn.write(http_response(200, "text/plain", compress(text, -15), {{"Content-Encoding", "deflate"}}));
    if (req.target == "/empty") conn.write(http_response(200, "text/plain", "", {{"Content-Encoding", "gzip"}}));
    if (req.target == "/two") {  // two gzip members, one after the other
      conn.write(http_response(200, "text/plain", gzip("first ") + gzip("second"), {{"Content-Encoding", "gzip"}}));
    }
  });
  for (const char* path : {"/gzip", "/zlib", "/raw"}) {
    INFO(path);
    auto r = fetch(server.url(path));
    REQUIRE(r);
    CHECK(r->body == text);
  }
  auto empty = fetch(server.url("/empty"));
  REQUIRE(empty);
  CHECK(empty->body.empty());
  auto two = fetch(server.url("/two"));
  REQUIRE(two);
  CHECK(two->body == "first second");
  Options raw = local_options();
  raw.decode_content = false;
  auto undecoded = fetch(server.url("/gzip"), raw);
  REQUIRE(undecoded);
  CHECK(undecoded->body == gzip(text));
}

TEST_CASE("redirects are followed and recorded; 303 turns a POST into a GET, 307 keeps it", "[http]") {
  Recorder rec;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    rec.add(req);
    if (req.target == "/old") conn.write(http_response(301, "text/plain", "moved", {{"Location", "/mid"}}));
    else if (req.target == "/mid") conn.write(http_response(302, "", "", {{"Location", "new?from=mid"}}));
    else if (req.target == "/post303") conn.write(http_response(303, "", "", {{"Location", "/landing"}}));
    else if (req.target == "/post307") conn.write(http_response(307, "", "", {{"Location", "/landing"}}));
    else conn.write(http_response(200, "text/plain", req.method + " " + req.target + " [" + req.body + "]"));
  });
  auto r = fetch(server.url("/old"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "GET /new?from=mid []");
  CHECK(r->final_url == server.url("/new?from=mid"));
  CHECK(r->redirects == std::vector<std::string>{server.url("/old"), server.url("/mid")});

  Request post;
  post.method = "POST";
  post.body = "payload";
  post.headers = {{"Content-Type", "text/plain"}};
  auto see_other = fetch(server.url("/post303"), local_options(), post);
  REQUIRE(see_other);
  CHECK(see_other->body == "GET /landing []");
  auto temporary = fetch(server.url("/post307"), local_options(), post);
  REQUIRE(temporary);
  CHECK(temporary->body == "POST /landing [payload]");
}

TEST_CASE("a redirect to another origin drops credentials", "[http]") {
  Recorder rec;
  LocalHttpServer landing([&](const HttpExchange& req, RawConnection& conn) {
    rec.add(req);
    conn.write(http_response(200, "text/plain", "landed"));
  });
  LocalHttpServer hop([&](const HttpExchange& req, RawConnection& conn) {
    rec.add(req);
    conn.write(http_response(302, "", "", {{"Location", landing.url("/end", "localhost")}}));
  });
  Request request;
  request.headers = {{"Authorization", "Bearer sk-secret"}, {"X-Api-Key", "k"}, {"Accept", "text/html"}};
  auto r = fetch(hop.url("/start"), local_options(), request);
  REQUIRE(r);
  CHECK(r->body == "landed");
  REQUIRE(rec.size() == 2);
  CHECK(rec.at(0).header("Authorization") == "Bearer sk-secret");
  CHECK(rec.at(1).header("Authorization").empty());
  CHECK(rec.at(1).header("X-Api-Key").empty());
  CHECK(rec.at(1).header("Accept") == "text/html");
}

TEST_CASE("max_redirects 0 returns the redirect itself", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(302, "text/plain", "see elsewhere", {{"Location", "/elsewhere"}}));
  });
  Options o = local_options();
  o.max_redirects = 0;
  auto r = fetch(server.url("/"), o);
  REQUIRE(r);
  CHECK(r->status == 302);
  CHECK(r->header("Location") == "/elsewhere");
  CHECK(r->body == "see elsewhere");
  CHECK(server.requests_served() == 1);
}

TEST_CASE("allowed_hosts lets a named host reach a private address", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "local")); });
  Options o = local_options();
  o.address_policy.allow_private = false;
  o.address_policy.allowed_hosts = {"localhost"};
  auto r = fetch(server.url("/", "localhost"), o);
  REQUIRE(r);
  CHECK(r->body == "local");
}

TEST_CASE("the test resolver is consulted once per hop and only its vetted answer is connected to", "[http]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(200, "text/plain", req.header("Host")));
  });
  std::atomic<int> lookups{0};
  Options o = local_options();
  o.address_policy.allow_private = false;
  o.address_policy.allowed_hosts = {"service.test"};
  // A rebinding resolver: the first answer is the vetted one; any second question would get a
  // different address.
  o.test_resolver = [&](const std::string& host) -> std::vector<asio::ip::address> {
    if (host != "service.test") return {};
    return {asio::ip::make_address(lookups++ == 0 ? "127.0.0.1" : "10.9.9.9")};
  };
  auto r = fetch("http://service.test:" + std::to_string(server.port()) + "/", o);
  REQUIRE(r);
  CHECK(r->body == "service.test:" + std::to_string(server.port()));
  CHECK(lookups == 1);
  auto missing = fetch("http://nowhere.test/", o);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::resolve);
  CHECK_THAT(missing.error().message, Catch::Contains("nowhere.test"));
}

TEST_CASE("fetch_streaming hands body bytes to the sink while the server is still sending", "[http][sse]") {
  Latch first_seen;
  std::atomic<bool> server_saw_handshake{false};
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string first = "data: one\n\n";
    conn.write((std::ostringstream() << std::hex << first.size()).str() + "\r\n" + first + "\r\n");
    // The last event is only written once the client has shown it received the first.
    server_saw_handshake = first_seen.wait();
    const std::string last = "data: two\n\n";
    conn.write((std::ostringstream() << std::hex << last.size()).str() + "\r\n" + last + "\r\n0\r\n\r\n");
  });
  asio::io_context io;
  Client client(io.get_executor());
  std::string received;
  Request request;
  request.url = server.url("/events");
  auto r = run_awaitable(io, client.fetch_streaming(request, local_options(), [&](std::string_view bytes) {
    received += bytes;
    if (received.find("data: one\n\n") != std::string::npos) first_seen.open();
    return true;
  }));
  REQUIRE(r);
  CHECK(server_saw_handshake);
  CHECK(r->status == 200);
  CHECK(r->body.empty());
  CHECK(received == "data: one\n\ndata: two\n\n");
}

TEST_CASE("fetch_streaming collects a non-2xx body instead of streaming it", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(429, "application/json", R"({"error":{"message":"slow down"}})"));
  });
  asio::io_context io;
  Client client(io.get_executor());
  int sink_calls = 0;
  Request request;
  request.url = server.url("/");
  auto r = run_awaitable(io, client.fetch_streaming(request, local_options(), [&](std::string_view) {
    ++sink_calls;
    return true;
  }));
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->body == R"({"error":{"message":"slow down"}})");
  CHECK(sink_calls == 0);
}

TEST_CASE("fetch_streaming: the sink sees only the final hop and may stop early", "[http]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/r") {
      conn.write(http_response(302, "text/plain", "redirect body", {{"Location", "/s"}}));
    } else {
      conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part");
      conn.wait_closed();  // the rest never comes; the sink stops first
    }
  });
  asio::io_context io;
  Client client(io.get_executor());
  std::string received;
  Request request;
  request.url = server.url("/r");
  auto r = run_awaitable(io, client.fetch_streaming(request, local_options(), [&](std::string_view bytes) {
    received += bytes;
    return received.find("first") == std::string::npos;
  }));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(received == "first part");
  CHECK_FALSE(r->truncated);
}

TEST_CASE("cancellation through awaitable operator || closes an in-flight fetch", "[http]") {
  Latch request_arrived;
  std::atomic<bool> client_hung_up{false};
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
    request_arrived.open();
    client_hung_up = conn.wait_closed(20s);  // never answers
  });
  asio::io_context io;
  Client client(io.get_executor());
  Request request;
  request.url = server.url("/slow");
  using namespace asio::experimental::awaitable_operators;
  auto race = [&]() -> asio::awaitable<int> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto wait_for_server = [&]() -> asio::awaitable<void> {
      // The timer branch fires once the request is known to be in flight.
      while (!request_arrived.is_open()) {
        timer.expires_after(1ms);
        co_await timer.async_wait(asio::use_awaitable);
      }
    };
    auto result = co_await (client.fetch(request, local_options()) || wait_for_server());
    co_return static_cast<int>(result.index());
  };
  CHECK(run_awaitable(io, race()) == 1);
  // The fetch's connection was closed by the cancellation, not left open.
  for (int i = 0; i < 2000 && !client_hung_up; ++i) std::this_thread::sleep_for(5ms);
  CHECK(client_hung_up);
}

TEST_CASE("a cancellation signal ends an in-flight fetch with ErrorKind::cancelled", "[http]") {
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart of it");
    conn.wait_closed(20s);
  });
  asio::io_context io;
  Client client(io.get_executor());
  asio::cancellation_signal signal;
  std::optional<HttpResult<Response>> result;
  std::string received;
  Request request;
  request.url = server.url("/");
  auto body = [&]() -> asio::awaitable<void> {
    result.emplace(co_await client.fetch_streaming(request, local_options(), [&](std::string_view bytes) {
      received += bytes;
      // Emitted from the sink, i.e. while the fetch is reading the body.
      asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
      return true;
    }));
  };
  std::exception_ptr error;
  asio::co_spawn(io, body(), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { error = e; }));
  io.run();
  CHECK_FALSE(error);
  REQUIRE(result);
  REQUIRE_FALSE(*result);
  CHECK(result->error().kind == ErrorKind::cancelled);
  CHECK_THAT(result->error().message, Catch::Contains("cancelled") && Catch::Contains("127.0.0.1"));
  CHECK(received == "part of it");
}

TEST_CASE("one Client serves concurrent fetches", "[http]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(200, "text/plain", req.target));
  });
  asio::io_context io;
  Client client(io.get_executor());
  std::vector<std::string> bodies(8);
  for (int i = 0; i < 8; ++i) {
    Request request;
    request.url = server.url("/" + std::to_string(i));
    // Arguments, not captures: the coroutine outlives this loop iteration.
    auto one = [](const Client& c, std::string& out, Request req) -> asio::awaitable<void> {
      auto r = co_await c.fetch(std::move(req), local_options());
      if (r) out = r->body;
    };
    asio::co_spawn(io, one(client, bodies[static_cast<std::size_t>(i)], request), asio::detached);
  }
  io.run();
  for (int i = 0; i < 8; ++i) CHECK(bodies[static_cast<std::size_t>(i)] == "/" + std::to_string(i));
}

TEST_CASE("https with the test CA: verified by name and by IP address", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "over tls")); },
                         LocalHttpServer::Options{.tls = true});
  Options o = local_options();
  o.ca_file = test_certificates().ca_file;
  auto by_ip = fetch(server.url("/"), o);
  REQUIRE(by_ip);
  CHECK(by_ip->body == "over tls");
  auto by_name = fetch(server.url("/", "localhost"), o);
  REQUIRE(by_name);
  CHECK(by_name->body == "over tls");
}

TEST_CASE("a host name that does not resolve is an error naming the host", "[http]") {
  Options o = local_options();
  o.connect_timeout = 5s;
  auto r = fetch("http://does-not-exist.invalid/page", o);
  REQUIRE_FALSE(r);
  // A resolver without network may run into the connect timeout instead; both name the host.
  CHECK((r.error().kind == ErrorKind::resolve || r.error().kind == ErrorKind::timeout));
  CHECK_THAT(r.error().message, Catch::Contains("does-not-exist.invalid"));
}
