// LocalHttpServer itself, checked with plain blocking sockets (so that the HTTP client's tests
// rest on a server known to work) and, for TLS, with OpenSSL directly.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/support/local_http_server.h"

using namespace scout::test;
using namespace std::chrono_literals;

namespace {

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const long n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    REQUIRE(n > 0);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until the server closes the connection.
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  long n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// Reads until `out` holds `count` occurrences of `marker`.
std::string read_until_count(int fd, std::string_view marker, int count) {
  std::string out;
  char buf[4096];
  auto occurrences = [&] {
    int c = 0;
    for (std::size_t p = out.find(marker); p != std::string::npos; p = out.find(marker, p + 1)) ++c;
    return c;
  };
  while (occurrences() < count) {
    const long n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("LocalHttpServer answers a request and reports what it received", "[http]") {
  std::mutex mu;
  HttpExchange seen;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    {
      std::lock_guard lock(mu);
      seen = req;
    }
    conn.write(http_response(200, "text/plain", "hello " + req.target, {{"X-Test", "1"}}));
  });
  CHECK(server.url("/a") == "http://127.0.0.1:" + std::to_string(server.port()) + "/a");
  CHECK(server.url("b", "localhost") == "http://localhost:" + std::to_string(server.port()) + "/b");
  const int fd = connect_to(server.port());
  send_all(fd, "POST /submit?q=1 HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde");
  const std::string response = read_all(fd);
  ::close(fd);
  CHECK(response.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK_THAT(response, Catch::Contains("Content-Type: text/plain\r\nContent-Length: 17\r\nX-Test: 1\r\n\r\nhello /submit?q=1"));
  std::lock_guard lock(mu);
  CHECK(seen.method == "POST");
  CHECK(seen.target == "/submit?q=1");
  CHECK(seen.body == "abcde");
  CHECK(seen.header("x-api-key") == "k");
  CHECK(seen.header("missing").empty());
  CHECK(server.requests_served() == 1);
}

TEST_CASE("LocalHttpServer decodes chunked request bodies and keeps connections alive", "[http]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(200, "text/plain", "[" + req.body + "]"));
  });
  const int fd = connect_to(server.port());
  send_all(fd, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
  send_all(fd, "GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string both = read_until_count(fd, "HTTP/1.1 200", 2);
  ::close(fd);
  CHECK_THAT(both, Catch::Contains("[abcde]") && Catch::Contains("[]"));
  CHECK(server.requests_served() == 2);
}

TEST_CASE("LocalHttpServer's destructor wakes handlers that sleep or wait for the peer", "[http]") {
  std::atomic<int> entered{0};
  std::atomic<bool> sleep_returned_false{false};
  auto server = std::make_unique<LocalHttpServer>([&](const HttpExchange& req, RawConnection& conn) {
    ++entered;
    if (req.target == "/sleep") {
      sleep_returned_false = !conn.sleep_for(1h);
    } else {
      conn.wait_closed(1h);
    }
  });
  const int a = connect_to(server->port());
  const int b = connect_to(server->port());
  send_all(a, "GET /sleep HTTP/1.1\r\n\r\n");
  send_all(b, "GET /wait HTTP/1.1\r\n\r\n");
  while (entered < 2) std::this_thread::sleep_for(1ms);
  const auto start = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(sleep_returned_false);
  ::close(a);
  ::close(b);
}

TEST_CASE("LocalHttpServer's wait_closed returns when the client hangs up", "[http]") {
  std::atomic<int> result{-1};
  LocalHttpServer server([&](const HttpExchange&, RawConnection& conn) { result = conn.wait_closed(10s) ? 1 : 0; });
  const int fd = connect_to(server.port());
  send_all(fd, "GET / HTTP/1.1\r\n\r\n");
  while (server.requests_served() < 1) std::this_thread::sleep_for(1ms);
  ::close(fd);
  while (result < 0) std::this_thread::sleep_for(1ms);
  CHECK(result == 1);
}

TEST_CASE("LocalHttpServer closes the connection when the handler asks", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close");
    conn.close();
    CHECK_FALSE(conn.write("more"));
  });
  const int fd = connect_to(server.port());
  send_all(fd, "GET / HTTP/1.1\r\n\r\n");
  const std::string response = read_all(fd);
  ::close(fd);
  CHECK(response.ends_with("\r\n\r\nbody until close"));
}

TEST_CASE("test certificates: a CA, a server certificate it signed, and an unrelated CA", "[http]") {
  const TestCertificates& certs = test_certificates();
  CHECK(&certs == &test_certificates());  // generated once
  for (const std::string& f : {certs.ca_file, certs.cert_file, certs.key_file, certs.other_ca_file}) {
    std::ifstream in(f);
    std::string first;
    std::getline(in, first);
    CHECK(first.starts_with("-----BEGIN"));
  }
}

TEST_CASE("LocalHttpServer serves TLS with a certificate the test CA verifies for localhost and 127.0.0.1", "[http]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "secret")); },
                         LocalHttpServer::Options{.tls = true});
  CHECK(server.url("/x").starts_with("https://127.0.0.1:"));
  auto handshake = [&](const std::string& ca_file, const char* host, bool ip) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
      SSL_set_tlsext_host_name(ssl, host);
      SSL_set1_host(ssl, host);
    }
    const int fd = connect_to(server.port());
    SSL_set_fd(ssl, fd);
    std::string body;
    if (SSL_connect(ssl) == 1) {
      const std::string req = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
      SSL_write(ssl, req.data(), static_cast<int>(req.size()));
      char buf[1024];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) body.append(buf, static_cast<std::size_t>(n));
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
    return body;
  };
  CHECK(handshake(test_certificates().ca_file, "localhost", false).ends_with("secret"));
  CHECK(handshake(test_certificates().ca_file, "127.0.0.1", true).ends_with("secret"));
  CHECK(handshake(test_certificates().ca_file, "example.com", false).empty());
  CHECK(handshake(test_certificates().other_ca_file, "localhost", false).empty());
}
