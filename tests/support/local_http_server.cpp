#include "common/text.h"
#include "tests/support/local_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace scout::test {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

// ---- certificates -----------------------------------------------------------------------------

[[noreturn]] void openssl_fail(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error(std::string("test certificates: ") + what + ": " + buf);
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) openssl_fail("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct KeyAndCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~KeyAndCert() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

// A certificate for `common_name` with a fresh P-256 key, signed by `issuer` (self-signed when
// null). CA certificates get CA:TRUE; leaf certificates the subject alternative names given.
void make_certificate(KeyAndCert& out, const char* common_name, const KeyAndCert* issuer, bool ca,
                      const char* subject_alt_names) {
  out.key = EVP_EC_gen("P-256");
  if (out.key == nullptr) openssl_fail("EVP_EC_gen");
  out.cert = X509_new();
  X509_set_version(out.cert, 2);
  unsigned char serial_bytes[8];
  RAND_bytes(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7f;
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(out.cert));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(out.cert), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(out.cert), 3650L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(out.cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Scout tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert : out.cert;
  X509_set_issuer_name(out.cert, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(out.cert, out.key);
  add_ext(out.cert, issuer_cert, NID_subject_key_identifier, "hash");
  add_ext(out.cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (ca) {
    add_ext(out.cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(out.cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(out.cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(out.cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
    add_ext(out.cert, issuer_cert, NID_ext_key_usage, "serverAuth");
    add_ext(out.cert, issuer_cert, NID_subject_alt_name, subject_alt_names);
  }
  if (X509_sign(out.cert, issuer ? issuer->key : out.key, EVP_sha256()) == 0) openssl_fail("X509_sign");
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) throw std::runtime_error("test certificates: cannot write " + path);
  bool ok = cert ? PEM_write_X509(f, cert) == 1 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  if (!ok) openssl_fail("PEM_write");
}

TestCertificates generate_certificates() {
  std::string dir_template = (std::filesystem::temp_directory_path() / "scout-test-certs-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) throw std::runtime_error("test certificates: mkdtemp failed");
  const std::string dir = dir_template;
  KeyAndCert ca, server, other_ca;
  make_certificate(ca, "Scout Test CA", nullptr, true, nullptr);
  make_certificate(server, "localhost", &ca, false, "DNS:localhost,IP:127.0.0.1");
  make_certificate(other_ca, "Scout Other Test CA", nullptr, true, nullptr);
  TestCertificates out{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/other_ca.pem"};
  write_pem(out.ca_file, ca.cert, nullptr);
  write_pem(out.cert_file, server.cert, nullptr);
  write_pem(out.key_file, nullptr, server.key);
  write_pem(out.other_ca_file, other_ca.cert, nullptr);
  return out;
}

}  // namespace

std::string HttpExchange::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : extra_headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

const TestCertificates& test_certificates() {
  // Generated once per process; the directory is removed at exit.
  struct Owned {
    TestCertificates certs = generate_certificates();
    ~Owned() {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(certs.ca_file).parent_path(), ec);
    }
  };
  static const Owned owned;
  return owned.certs;
}

// ---- the server -------------------------------------------------------------------------------

namespace {

// What connections share with the server: the stop flag and what wakes sleepers.
struct ServerShared {
  std::atomic<bool> stopping{false};
  std::mutex mu;  // guards the server's open_fds and workers; with cv, wakes sleepers on stop
  std::condition_variable cv;
};

class Connection final : public RawConnection {
 public:
  Connection(ServerShared& server, int fd, SSL* ssl) : server_(server), fd_(fd), ssl_(ssl) {}

  bool write(std::string_view bytes) override {
    while (!bytes.empty()) {
      if (closed_ || gone_ || server_.stopping) return false;
      long n;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20)));
      } else {
        n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
      }
      if (n <= 0) {
        gone_ = true;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  bool sleep_for(std::chrono::milliseconds duration) override {
    std::unique_lock lock(server_.mu);
    return !server_.cv.wait_for(lock, duration, [&] { return server_.stopping.load(); });
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (ssl_ != nullptr && !gone_) SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_RDWR);
  }

  bool wait_closed(std::chrono::milliseconds limit) override {
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (!server_.stopping && !closed_ && !gone_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
      if (r <= 0) continue;
      if (read_some(buf, sizeof buf) <= 0) {
        gone_ = true;
        return !server_.stopping;
      }
    }
    return gone_ && !server_.stopping;
  }

  // Reads the next request; false at EOF, on a malformed request, or on stop.
  bool read_request(HttpExchange& out) {
    std::size_t header_end;
    while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (in_.size() > (64u << 10) || !fill()) return false;
      // Not a request line (e.g. a TLS ClientHello on a plain server): hang up, as real
      // servers do, rather than wait for a header that will never come.
      if (!std::isupper(static_cast<unsigned char>(in_.front()))) return false;
    }
    std::string_view head(in_.data(), header_end);
    std::size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return false;
    out = HttpExchange{};
    out.method = std::string(request_line.substr(0, sp1));
    out.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    while (line_end != std::string_view::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      std::string_view line = head.substr(start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return false;
      out.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    in_.erase(0, header_end + 4);

    if (iequals(out.header("Transfer-Encoding"), "chunked")) {
      for (;;) {
        std::size_t eol;
        while ((eol = in_.find("\r\n")) == std::string::npos)
          if (!fill()) return false;
        const std::size_t size = std::strtoul(in_.substr(0, eol).c_str(), nullptr, 16);
        in_.erase(0, eol + 2);
        if (size == 0) {
          // Trailers, if any, end with an empty line.
          std::size_t end;
          while ((end = in_.find("\r\n")) == std::string::npos)
            if (!fill()) return false;
          while (end != 0) {
            in_.erase(0, end + 2);
            while ((end = in_.find("\r\n")) == std::string::npos)
              if (!fill()) return false;
          }
          in_.erase(0, 2);
          break;
        }
        while (in_.size() < size + 2)
          if (!fill()) return false;
        out.body.append(in_, 0, size);
        in_.erase(0, size + 2);
      }
    } else if (const std::string length = out.header("Content-Length"); !length.empty()) {
      const std::size_t size = std::strtoul(length.c_str(), nullptr, 10);
      while (in_.size() < size)
        if (!fill()) return false;
      out.body = in_.substr(0, size);
      in_.erase(0, size);
    }
    return true;
  }

  bool closed() const { return closed_ || gone_; }

 private:
  long read_some(char* buf, std::size_t size) {
    if (ssl_ != nullptr) return SSL_read(ssl_, buf, static_cast<int>(size));
    for (;;) {
      const long n = ::recv(fd_, buf, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  bool fill() {
    if (server_.stopping || closed_ || gone_) return false;
    char buf[16384];
    const long n = read_some(buf, sizeof buf);
    if (n <= 0) {
      gone_ = true;
      return false;
    }
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  ServerShared& server_;
  int fd_;
  SSL* ssl_;
  std::string in_;
  bool closed_ = false;
  bool gone_ = false;
};

}  // namespace

struct LocalHttpServer::Impl : ServerShared {
  Handler handler;
  Options options;
  int listen_fd = -1;
  std::uint16_t port = 0;
  SSL_CTX* ssl_ctx = nullptr;
  std::atomic<int> requests{0};
  std::set<int> open_fds;
  // One thread per connection; finished ones are joined when the next connection arrives, so a
  // long-lived server does not accumulate threads.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers;
  std::thread acceptor;

  void accept_loop();
  void serve(int fd);
};

void LocalHttpServer::Impl::accept_loop() {
  for (;;) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (stopping) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu);
    if (stopping) {
      ::close(fd);
      return;
    }
    open_fds.insert(fd);
    std::erase_if(workers, [](Worker& w) {
      if (!w.done->load()) return false;
      w.thread.join();
      return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers.push_back(Worker{std::thread([this, fd, done] {
                               serve(fd);
                               done->store(true);
                             }),
                             done});
  }
}

void LocalHttpServer::Impl::serve(int fd) {
  SSL* ssl = nullptr;
  bool ok = true;
  if (ssl_ctx != nullptr) {
    ssl = SSL_new(ssl_ctx);
    SSL_set_fd(ssl, fd);
    // A client that rejects the certificate ends the handshake here; that is a test outcome,
    // not a server error.
    if (SSL_accept(ssl) != 1) ok = false;
    ERR_clear_error();
  }
  if (ok) {
    Connection conn(*this, fd, ssl);
    HttpExchange request;
    while (!stopping && !conn.closed() && conn.read_request(request)) {
      ++requests;
      try {
        handler(request, conn);
      } catch (const std::exception& e) {  // a test's handler must not end the test binary
        std::fprintf(stderr, "LocalHttpServer: handler threw: %s\n", e.what());
        break;
      }
      if (iequals(request.header("Connection"), "close")) conn.close();
    }
    conn.close();
  }
  if (ssl != nullptr) SSL_free(ssl);
  ERR_clear_error();
  std::lock_guard lock(mu);
  open_fds.erase(fd);
  ::close(fd);
}

LocalHttpServer::LocalHttpServer(Handler handler) : LocalHttpServer(std::move(handler), Options{}) {}

LocalHttpServer::LocalHttpServer(Handler handler, Options options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  impl_->handler = std::move(handler);
  impl_->options = options;
  if (options.tls) {
    const TestCertificates& certs = test_certificates();
    impl_->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (impl_->ssl_ctx == nullptr ||
        SSL_CTX_use_certificate_file(impl_->ssl_ctx, certs.cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(impl_->ssl_ctx, certs.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(impl_->ssl_ctx);
      openssl_fail("server context");
    }
  }
  impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (impl_->listen_fd < 0 || ::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(impl_->listen_fd, 64) != 0 ||
      ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string err = std::strerror(errno);
    if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
    SSL_CTX_free(impl_->ssl_ctx);
    throw std::runtime_error("LocalHttpServer: cannot listen on 127.0.0.1: " + err);
  }
  impl_->port = ntohs(addr.sin_port);
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

LocalHttpServer::~LocalHttpServer() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    // shutdown() wakes the threads blocked in accept, recv, send or SSL_* on these sockets.
    ::shutdown(impl_->listen_fd, SHUT_RDWR);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  }
  impl_->cv.notify_all();
  impl_->acceptor.join();
  // No thread is added once stopping is set (accept_loop checks it under the mutex).
  for (Impl::Worker& w : impl_->workers) w.thread.join();
  ::close(impl_->listen_fd);
  SSL_CTX_free(impl_->ssl_ctx);
}

std::uint16_t LocalHttpServer::port() const { return impl_->port; }

std::string LocalHttpServer::url(std::string_view path, std::string_view host_name) const {
  std::string out = impl_->options.tls ? "https://" : "http://";
  out += host_name;
  out += ":" + std::to_string(impl_->port);
  if (path.empty() || path.front() != '/') out += '/';
  out += path;
  return out;
}

int LocalHttpServer::requests_served() const { return impl_->requests; }

}  // namespace scout::test
