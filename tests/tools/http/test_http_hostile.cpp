// The HTTP client against servers that misbehave on purpose (huge, endless, slow, cut or
// malformed responses, decompression bombs, redirect loops) and TLS servers it must not trust.
// Every error must say what happened and name the host; none may repeat a request header's value.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/tools/http/http_hostile_support.h"

using namespace scout::tools::http;
using namespace scout::tools::http::testing;
using namespace scout::test;
using namespace std::chrono_literals;

namespace {

// The Content-Length of an endless body.
constexpr const char* kHugeLength = "10737418240";

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

}  // namespace

// ---- hostile servers --------------------------------------------------------------------------

TEST_CASE("hostile: a huge body is cut at the cap and the connection dropped", "[http][hostile]") {
  std::atomic<long long> written{0};
  Latch handler_done;
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
    const std::string block(64 * 1024, 'x');
    if (conn.write(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + kHugeLength + "\r\n\r\n")) {
      while (written < (1ll << 30) && conn.write(block)) written += static_cast<long long>(block.size());
    }
    handler_done.open();
  });
  Options o = local_options();
  o.max_body_bytes = 1 << 20;
  auto r = fetch(server.url("/huge"), o);
  REQUIRE(r);
  CHECK(r->truncated);
  CHECK(r->body.size() == (1u << 20));
  REQUIRE(handler_done.wait());
  // The client stopped reading at the cap: only what the socket buffers hold was sent after it.
  CHECK(written < (64ll << 20));
}

TEST_CASE("hostile: an endless chunked body is cut at the cap, streamed or not", "[http][hostile]") {
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
    const std::string c = chunk(std::string(10000, 'y'));
    if (!conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    for (int i = 0; i < 100000 && conn.write(c); ++i) {
    }
  });
  Options o = local_options();
  o.max_body_bytes = 300000;
  auto r = fetch(server.url("/"), o);
  REQUIRE(r);
  CHECK(r->truncated);
  CHECK(r->body.size() == 300000);

  asio::io_context io;
  Client client(io.get_executor());
  std::size_t streamed = 0;
  Request request;
  request.url = server.url("/");
  auto s = run_awaitable(io, client.fetch_streaming(request, o, [&](std::string_view b) {
    streamed += b.size();
    return true;
  }));
  REQUIRE(s);
  CHECK(s->truncated);
  CHECK(streamed == 300000);
}

TEST_CASE("hostile: a gzip bomb stops decoding at the cap", "[http][hostile]") {
  // 256 MiB of zeros compress to about 256 KiB.
  static const std::string bomb = [] {
    z_stream zs{};
    deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);
    const std::string zeros(1 << 20, '\0');
    std::string out;
    char buf[1 << 16];
    for (int i = 0; i < 256; ++i) {
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
      zs.avail_in = static_cast<uInt>(zeros.size());
      const int flush = i == 255 ? Z_FINISH : Z_NO_FLUSH;
      do {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        deflate(&zs, flush);
        out.append(buf, sizeof buf - zs.avail_out);
      } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    return out;
  }();
  REQUIRE(bomb.size() < (1u << 20));
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(200, "text/html", bomb, {{"Content-Encoding", "gzip"}}));
  });
  Options o = local_options();
  o.max_body_bytes = 2 << 20;
  auto r = fetch(server.url("/bomb"), o);
  REQUIRE(r);
  CHECK(r->truncated);
  CHECK(r->body.size() == (2u << 20));
  CHECK(r->body.find_first_not_of('\0') == std::string::npos);
}

TEST_CASE("hostile: a server that never answers hits the idle timeout", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.wait_closed(); });
  Options o = local_options();
  o.idle_timeout = 300ms;
  check_error(fetch(server.url("/silent"), o, with_secret_headers()), ErrorKind::timeout, "127.0.0.1",
              {"idle timeout", "/silent"});
}

TEST_CASE("hostile: a slow drip slower than the idle timeout is cut by it", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    while (conn.write("x") && conn.sleep_for(5s)) {
    }
  });
  Options o = local_options();
  o.idle_timeout = 300ms;
  check_error(fetch(server.url("/drip"), o), ErrorKind::timeout, "127.0.0.1", {"idle timeout", "body"});
}

TEST_CASE("hostile: a slow drip faster than the idle timeout is cut by the total timeout", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + kHugeLength + "\r\n\r\n");
    while (conn.write("x") && conn.sleep_for(20ms)) {
    }
  });
  Options o = local_options();
  o.idle_timeout = 5s;
  o.total_timeout = 500ms;
  check_error(fetch(server.url("/drip"), o), ErrorKind::timeout, "127.0.0.1", {"total timeout"});
}

TEST_CASE("hostile: a stall in the middle of the body hits the idle timeout", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst half");
    conn.wait_closed();
  });
  Options o = local_options();
  o.idle_timeout = 300ms;
  check_error(fetch(server.url("/stall"), o), ErrorKind::timeout, "127.0.0.1", {"idle timeout"});
}

TEST_CASE("hostile: a stream cut short of its Content-Length is an error, not a short body", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nonly this much");
    conn.close();
  });
  check_error(fetch(server.url("/cut"), local_options(), with_secret_headers()), ErrorKind::closed, "127.0.0.1",
              {"closed the connection", "14 bytes"});
}

TEST_CASE("hostile: a connection closed before any response is an error", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.close(); });
  check_error(fetch(server.url("/"), local_options()), ErrorKind::closed, "127.0.0.1", {"response header"});
  LocalHttpServer half([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Le");
    conn.close();
  });
  check_error(fetch(half.url("/"), local_options()), ErrorKind::closed, "127.0.0.1", {"response header"});
}

TEST_CASE("hostile: a chunked stream cut before its last chunk is an error", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("partial"));
    conn.close();
  });
  check_error(fetch(server.url("/"), local_options()), ErrorKind::closed, "127.0.0.1", {"closed the connection"});
}

TEST_CASE("hostile: a malformed status line is a protocol error", "[http][hostile]") {
  for (const char* reply : {"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", "SSH-2.0-OpenSSH_9.2\r\n\r\n",
                            "HTTP/9.9 200 OK\r\n\r\n", "<html>no status line</html>\r\n\r\n",
                            "HTTP/1.1 050 Continue\r\nContent-Length: 0\r\n\r\n"}) {
    INFO(reply);
    LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
      conn.write(reply);
      conn.close();
    });
    check_error(fetch(server.url("/"), local_options(), with_secret_headers()), ErrorKind::protocol, "127.0.0.1",
                {"malformed HTTP response"});
  }
}

TEST_CASE("hostile: malformed and oversized headers are protocol errors", "[http][hostile]") {
  std::string flood = "HTTP/1.1 200 OK\r\n";
  while (flood.size() < 200000) flood += "X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  flood += "\r\n";
  for (const std::string& reply : {std::string("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
                                   std::string("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"),
                                   std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
                                   std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), flood}) {
    INFO(reply.substr(0, 80));
    LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
      conn.write(reply);
      conn.wait_closed(5s);
    });
    check_error(fetch(server.url("/"), local_options()), ErrorKind::protocol, "127.0.0.1", {"malformed HTTP response"});
  }
}

TEST_CASE("hostile: invalid chunked encoding is a protocol error", "[http][hostile]") {
  for (const std::string& body : {std::string("zz\r\nhello\r\n0\r\n\r\n"), std::string("5\r\nhelloXX0\r\n\r\n"),
                                  std::string("fffffffffffffffffffff\r\nx\r\n"), std::string("-5\r\nhello\r\n0\r\n\r\n")}) {
    INFO(body);
    LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) {
      conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
      conn.wait_closed(5s);
    });
    check_error(fetch(server.url("/"), local_options()), ErrorKind::protocol, "127.0.0.1", {"malformed HTTP response"});
  }
}

TEST_CASE("hostile: endless interim 1xx responses are a protocol error", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    while (conn.write("HTTP/1.1 100 Continue\r\n\r\n") && conn.sleep_for(1ms)) {
    }
  });
  check_error(fetch(server.url("/"), local_options()), ErrorKind::protocol, "127.0.0.1", {"interim"});
}

TEST_CASE("hostile: bytes after a response that has no body (HEAD, 101, 204) are ignored, not an error",
          "[http][hostile]") {
  // Each response arrives in one write, so its extra bytes come in the same read as its header.
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/head") {
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    } else if (req.target == "/101") {
      conn.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
    } else {
      conn.write("HTTP/1.1 204 No Content\r\n\r\nstray body");
    }
  });
  Request head;
  head.method = "HEAD";
  auto h = fetch(server.url("/head"), local_options(), head);
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->body.empty());
  auto upgraded = fetch(server.url("/101"));
  REQUIRE(upgraded);
  CHECK(upgraded->status == 101);
  auto nc = fetch(server.url("/204"));
  REQUIRE(nc);
  CHECK(nc->status == 204);
  CHECK(nc->body.empty());
}

TEST_CASE("hostile: a redirect loop is stopped", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(302, "", "", {{"Location", req.target == "/a" ? "/b" : "/a"}}));
  });
  check_error(fetch(server.url("/a"), local_options(), with_secret_headers()), ErrorKind::too_many_redirects, "127.0.0.1",
              {"redirect loop", "/a"});
  CHECK(server.requests_served() == 2);
}

TEST_CASE("hostile: an endless redirect chain is stopped at max_redirects", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(307, "", "", {{"Location", req.target + "x"}}));
  });
  Options o = local_options();
  o.max_redirects = 5;
  check_error(fetch(server.url("/r"), o), ErrorKind::too_many_redirects, "127.0.0.1", {"more than 5 times"});
  CHECK(server.requests_served() == 6);
}

TEST_CASE("hostile: a redirect without Location is returned as the response", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(302, "text/plain", "nowhere to go"));
  });
  auto r = fetch(server.url("/"));
  REQUIRE(r);
  CHECK(r->status == 302);
  CHECK(r->body == "nowhere to go");
  CHECK(r->redirects.empty());
}

TEST_CASE("hostile: a redirect to an unparsable Location is an error", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(301, "", "", {{"Location", "http://[::1/broken"}}));
  });
  check_error(fetch(server.url("/"), local_options()), ErrorKind::invalid_url, "127.0.0.1", {"redirected", "cannot be followed"});
}

TEST_CASE("hostile: corrupt gzip and unknown encodings are protocol errors", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/corrupt") {
      std::string g = gzip(std::string(5000, 'z'));
      g[g.size() / 2] ^= 0x55;
      g[g.size() / 2 + 1] ^= 0x55;
      conn.write(http_response(200, "text/plain", g, {{"Content-Encoding", "gzip"}}));
    } else if (req.target == "/truncated") {
      const std::string g = gzip(std::string(5000, 'z'));
      conn.write(http_response(200, "text/plain", g.substr(0, g.size() / 2), {{"Content-Encoding", "gzip"}}));
    } else if (req.target == "/garbage") {
      conn.write(http_response(200, "text/plain", "this is not gzip at all", {{"Content-Encoding", "gzip"}}));
    } else {
      conn.write(http_response(200, "text/plain", "????", {{"Content-Encoding", "br"}}));
    }
  });
  check_error(fetch(server.url("/corrupt")), ErrorKind::protocol, "127.0.0.1", {"could not be decoded"});
  check_error(fetch(server.url("/truncated")), ErrorKind::protocol, "127.0.0.1", {"ended before"});
  check_error(fetch(server.url("/garbage")), ErrorKind::protocol, "127.0.0.1", {"could not be decoded"});
  check_error(fetch(server.url("/br")), ErrorKind::protocol, "127.0.0.1", {"Content-Encoding \"br\""});
}

TEST_CASE("hostile: request headers with line breaks are refused, not sent", "[http][hostile]") {
  Target t;
  Request r;
  r.headers = {{"X-Injected", std::string("v\r\nX-Evil: ") + kSecret}};
  check_error(fetch(t.url_with_host("127.0.0.1"), local_options(), r), ErrorKind::invalid_url, "127.0.0.1", {"bad request header"});
  CHECK(t.server.requests_served() == 0);
}

TEST_CASE("hostile: secrets in a URL's query are redacted from error messages", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.close(); });
  auto r = fetch(server.url(std::string("/search?q=scout&api_key=") + kSecret + "&token=" + kSecret));
  check_error(r, ErrorKind::closed, "127.0.0.1", {"q=scout", "api_key=REDACTED", "token=REDACTED"});
}

// ---- TLS --------------------------------------------------------------------------------------

TEST_CASE("tls: without the test CA the server's certificate is rejected", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "secret")); },
                         LocalHttpServer::Options{.tls = true});
  check_error(fetch(server.url("/"), local_options(), with_secret_headers()), ErrorKind::tls, "127.0.0.1",
              {"certificate", "rejected"});
  CHECK(server.requests_served() == 0);
}

TEST_CASE("tls: a certificate for another host name is rejected", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "secret")); },
                         LocalHttpServer::Options{.tls = true});
  Options o = local_options();
  o.ca_file = test_certificates().ca_file;
  o.test_resolver = [](const std::string&) { return std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1")}; };
  check_error(fetch("https://wrong-name.test:" + std::to_string(server.port()) + "/", o), ErrorKind::tls, "wrong-name.test",
              {"hostname mismatch"});
  CHECK(server.requests_served() == 0);
}

TEST_CASE("tls: a certificate from another CA is rejected", "[http][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "secret")); },
                         LocalHttpServer::Options{.tls = true});
  Options o = local_options();
  o.ca_file = test_certificates().other_ca_file;
  check_error(fetch(server.url("/", "localhost"), o), ErrorKind::tls, "localhost", {"certificate", "rejected"});
  CHECK(server.requests_served() == 0);
}

TEST_CASE("tls: https to a plain server and http to a TLS server fail cleanly", "[http][hostile]") {
  LocalHttpServer plain([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "plain")); });
  LocalHttpServer tls([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "tls")); },
                      LocalHttpServer::Options{.tls = true});
  Options o = local_options();
  o.ca_file = test_certificates().ca_file;
  check_error(fetch("https://127.0.0.1:" + std::to_string(plain.port()) + "/", o), ErrorKind::tls, "127.0.0.1", {"TLS handshake"});
  auto r = fetch("http://127.0.0.1:" + std::to_string(tls.port()) + "/", o);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("127.0.0.1"));
  CHECK(tls.requests_served() == 0);
}

TEST_CASE("tls: a missing CA file is a clear error", "[http][hostile]") {
  Options o = local_options();
  o.ca_file = "/nonexistent/ca.pem";
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "x")); },
                         LocalHttpServer::Options{.tls = true});
  auto r = fetch(server.url("/"), o);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::tls);
  CHECK_THAT(r.error().message, Catch::Contains("/nonexistent/ca.pem"));
}
