// LocalHttpServer: a real HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for network tests,
// plain or TLS. Each connection is served on its own thread by a blocking handler that writes
// raw bytes, so a test can answer correctly or misbehave on purpose: stall, drip bytes, cut the
// stream, send malformed headers, redirect forever.
//
//   LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
//     conn.write(http_response(200, "text/plain", "hello"));
//   });
//   fetch(server.url("/page"));
//
// Keep-alive is supported: after a handler returns without closing, the next request on the
// same connection is read and handled, unless that request said "Connection: close" (then the
// connection is closed when the handler returns, which also ends a body sent without a length). The destructor stops accepting, wakes handlers blocked in
// sleep_for()/wait_closed() and joins every thread, so a test never hangs on its server.
// SIGPIPE is ignored process-wide once a server starts (a client that hangs up mid-write must
// not kill the test binary).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scout::test {

struct HttpExchange {
  std::string method;
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;    // Content-Length or chunked bodies, decoded
  // First header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

class RawConnection {
 public:
  virtual ~RawConnection() = default;
  // Writes bytes as given (blocking). Returns false once the peer has gone or the server stops.
  virtual bool write(std::string_view bytes) = 0;
  // Sleeps, returning early (false) when the server stops.
  virtual bool sleep_for(std::chrono::milliseconds duration) = 0;
  // Closes the connection now (no more requests are read from it).
  virtual void close() = 0;
  // Blocks until the peer closes (or resets) the connection, discarding whatever it sends.
  // Returns true when it did; false when the server stops first or `limit` passes. For handlers
  // that never answer: they return as soon as the client gives up.
  virtual bool wait_closed(std::chrono::milliseconds limit = std::chrono::seconds(30)) = 0;
};

using Handler = std::function<void(const HttpExchange& request, RawConnection& connection)>;

// A complete response with Content-Length (and the extra headers, in order). An empty
// content_type leaves the Content-Type header out.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

// PEM files of a test certificate authority and a server certificate it signed for
// "localhost" and 127.0.0.1 (generated at first use into a temporary directory).
struct TestCertificates {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string other_ca_file;  // a CA that did not sign the server certificate
};
const TestCertificates& test_certificates();

class LocalHttpServer {
 public:
  struct Options {
    bool tls = false;  // https with test_certificates()
  };
  explicit LocalHttpServer(Handler handler);
  LocalHttpServer(Handler handler, Options options);
  ~LocalHttpServer();
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT" + path (https:// with TLS). host_name replaces 127.0.0.1, e.g.
  // "localhost".
  std::string url(std::string_view path = "/", std::string_view host_name = "127.0.0.1") const;
  // Requests read so far (all connections).
  int requests_served() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scout::test
