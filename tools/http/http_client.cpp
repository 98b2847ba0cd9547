// Client: one HTTP/1.1 exchange per hop over Beast/Asio, with the SSRF guard, redirects, caps,
// decoding and cancellation described in http_client.h.
//
// Reading is done by hand: raw reads with a per-read expiry (the idle timeout, bounded by the
// total deadline) are fed to a Beast basic_parser through put(), whose callbacks pass body bytes
// through the decoder to the body or the sink. The parser never owns a body buffer, so a large
// or endless body costs no more memory than one read plus the cap.
#include "tools/http/http_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <zlib.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "tools/registry/run_blocking.h"

namespace scout::tools::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxUnparsed = 1 << 20;  // a framing line (header, chunk size) longer than this is an attack
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr int kMaxInterimResponses = 8;
constexpr const char* kUserAgent = "Scout/0.1 (+https://github.com/scout-agent)";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// The URL as error messages show it: query values whose names suggest a secret are hidden
// (some APIs take their key in the query string).
std::string shown_url(const Url& url) {
  std::string s = url.str();
  const std::size_t q = s.find('?');
  if (q == std::string::npos) return s;
  std::string out = s.substr(0, q + 1);
  std::string_view query(s);
  query.remove_prefix(q + 1);
  bool first = true;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::string name = lower(pair.substr(0, eq));
    const bool secret = name.find("key") != std::string::npos || name.find("token") != std::string::npos ||
                        name.find("secret") != std::string::npos || name.find("password") != std::string::npos ||
                        name.find("auth") != std::string::npos || name.find("sig") != std::string::npos;
    if (!first) out += '&';
    first = false;
    if (secret && eq != std::string_view::npos) {
      out += std::string(pair.substr(0, eq)) + "=REDACTED";
    } else {
      out += pair;
    }
  }
  return out;
}

HttpError make_http_error(ErrorKind kind, std::string message) { return HttpError{kind, std::move(message)}; }

// ---- Content-Encoding -------------------------------------------------------------------------

// gzip / deflate (zlib-wrapped or raw, detected from the first bytes) decoding into pieces of at
// most kOutChunk bytes, so a caller that stops taking output stops the decompression too.
class Inflater {
 public:
  enum class Format { gzip, deflate };
  explicit Inflater(Format format) : format_(format) {}
  ~Inflater() {
    if (initialized_) inflateEnd(&zs_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Decodes `input`, calling out(piece) for each piece; out returns false to stop. Returns false
  // on corrupt data (error() says why).
  template <class Out>
  bool feed(std::string_view input, Out&& out) {
    if (done_) return true;  // trailing bytes after the compressed stream are ignored
    if (!initialized_) {
      pending_.append(input);
      if (format_ == Format::deflate && pending_.size() < 2) return true;
      int window_bits = 15 + 16;  // gzip
      if (format_ == Format::deflate) {
        const auto b0 = static_cast<unsigned char>(pending_[0]);
        const auto b1 = static_cast<unsigned char>(pending_[1]);
        const bool zlib_header = (b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0;
        window_bits = zlib_header ? 15 : -15;
      }
      zs_ = z_stream{};
      if (inflateInit2(&zs_, window_bits) != Z_OK) {
        error_ = "zlib could not start";
        return false;
      }
      initialized_ = true;
      std::string first = std::move(pending_);
      pending_.clear();
      return run(first, out);
    }
    return run(input, out);
  }

  bool finished() const { return done_; }
  bool stopped() const { return stopped_; }
  const std::string& error() const { return error_; }

 private:
  template <class Out>
  bool run(std::string_view input, Out& out) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    zs_.avail_in = static_cast<uInt>(input.size());
    char buf[kOutChunk];
    while (!done_) {
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = sizeof buf;
      const int ret = inflate(&zs_, Z_NO_FLUSH);
      const std::size_t produced = sizeof buf - zs_.avail_out;
      if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
        error_ = zs_.msg != nullptr ? zs_.msg : "corrupt compressed data";
        return false;
      }
      if (produced > 0 && !out(std::string_view(buf, produced))) {
        stopped_ = true;
        return true;
      }
      if (ret == Z_STREAM_END) {
        // gzip allows several members one after another; anything else after the end is ignored.
        if (format_ == Format::gzip && zs_.avail_in >= 2 && zs_.next_in[0] == 0x1f && zs_.next_in[1] == 0x8b) {
          inflateReset(&zs_);
          continue;
        }
        done_ = true;
        break;
      }
      if (zs_.avail_in == 0 && produced < sizeof buf) break;  // needs more input
      if (ret == Z_BUF_ERROR && produced == 0) break;
    }
    return true;
  }

  static constexpr std::size_t kOutChunk = 16 * 1024;
  Format format_;
  z_stream zs_{};
  bool initialized_ = false;
  bool done_ = false;
  bool stopped_ = false;
  std::string pending_;
  std::string error_;
};

// ---- the response parser ----------------------------------------------------------------------

// Collects the status line and header fields; body bytes go to on_body (which returns false to
// stop: the parser then reports an error that the read loop recognises as "stop").
class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::function<bool(std::string_view)> on_body;
  bool body_stopped = false;

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, error_code&) override {}
  void on_response_impl(int code, beast::string_view reason_phrase, int version, error_code& ec) override {
    if (version != 10 && version != 11) ec = bhttp::error::bad_version;
    status = code;
    reason = std::string(reason_phrase);
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value, error_code&) override {
    headers.emplace_back(std::string(name), std::string(value));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code& ec) override { return take(body, ec); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override {
    return take(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  std::size_t take(beast::string_view body, error_code& ec) {
    if (on_body && !on_body(std::string_view(body.data(), body.size()))) {
      body_stopped = true;
      ec = asio::error::operation_aborted;  // ends put(); the read loop checks body_stopped
    }
    return body.size();
  }
};

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

bool is_redirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

bool valid_header_text(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool valid_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

bool same_origin(const Url& a, const Url& b) { return a.scheme == b.scheme && a.host == b.host && a.port == b.port; }

// What one hop produced: a response, or a redirect to follow.
struct HopOutcome {
  Response response;
  std::string location;  // non-empty: follow it
};

// Per-fetch state shared by the hops.
struct FetchState {
  const Options& options;
  Clock::time_point deadline;
  BodySink* sink;  // null for fetch()
};

// The expiry for the next operation: the phase limit, bounded by the total deadline.
struct Expiry {
  Clock::duration duration;
  bool total = false;  // the deadline, not the phase limit, is what bounds it
};

Expiry expiry_for(const FetchState& st, std::chrono::milliseconds phase) {
  const auto left = st.deadline - Clock::now();
  if (left <= phase) return {std::max<Clock::duration>(left, Clock::duration::zero()), true};
  return {phase, false};
}

HttpError total_timeout_error(const FetchState& st, const Url& url) {
  return make_http_error(ErrorKind::timeout, "fetching " + shown_url(url) + " took longer than the total timeout of " +
                                                 seconds_text(st.options.total_timeout));
}

}  // namespace

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_url: return "invalid_url";
    case ErrorKind::refused_address: return "refused_address";
    case ErrorKind::resolve: return "resolve";
    case ErrorKind::connect: return "connect";
    case ErrorKind::tls: return "tls";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::too_many_redirects: return "too_many_redirects";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::closed: return "closed";
  }
  return "unknown";
}

std::string_view Response::header(std::string_view name) const { return find_header(headers, name); }

namespace {

// getaddrinfo blocks, so lookups run here, shared by every Client (a Client is cheap to make
// and to drop); a lookup whose fetch was cancelled or timed out finishes here unobserved.
asio::thread_pool& dns_workers() {
  static asio::thread_pool pool(4);
  return pool;
}

// TLS client contexts by extra CA file, shared by every Client: loading the system store once
// per process rather than once per fetch. SSL_CTX is safe to share between connections.
std::mutex tls_contexts_mu;
std::map<std::string, std::shared_ptr<ssl::context>>& tls_contexts() {
  static std::map<std::string, std::shared_ptr<ssl::context>> contexts;
  return contexts;
}

}  // namespace

struct Client::Impl {
  asio::any_io_executor executor;

  explicit Impl(asio::any_io_executor ex) : executor(std::move(ex)) {}

  HttpResult<std::shared_ptr<ssl::context>> tls_context(const std::string& ca_file) {
    std::lock_guard lock(tls_contexts_mu);
    auto& cache = tls_contexts();
    if (auto it = cache.find(ca_file); it != cache.end()) return it->second;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    error_code ec;
    ctx->set_default_verify_paths(ec);
    if (!ca_file.empty()) {
      ctx->load_verify_file(ca_file, ec);
      if (ec)
        return Unexpected(make_http_error(ErrorKind::tls, "cannot load the CA file " + ca_file + ": " + ec.message()));
    }
    ctx->set_verify_mode(ssl::verify_peer);
    cache.emplace(ca_file, ctx);
    return ctx;
  }

  asio::awaitable<HttpResult<std::vector<asio::ip::address>>> resolve(const Url& url, FetchState& st);
  asio::awaitable<HttpResult<HopOutcome>> hop(const Url& url, const std::string& method,
                                              const std::vector<Header>& headers, const std::string& body,
                                              FetchState& st);
  template <class Stream>
  asio::awaitable<HttpResult<HopOutcome>> exchange(Stream& stream, const Url& url, const std::string& request_text,
                                                   bool head_request, FetchState& st);
  asio::awaitable<HttpResult<Response>> run(Request request, Options options, BodySink* sink);
};

namespace {

using namespace asio::experimental::awaitable_operators;

struct Resolved {
  std::vector<asio::ip::address> addresses;
  std::string error;
};

Resolved blocking_resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
  Resolved out;
  if (rc != 0) {
    out.error = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return out;
  }
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    asio::ip::address a;
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &sin->sin_addr, 4);
      a = asio::ip::address_v4(b);
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sin6->sin6_addr, 16);
      a = asio::ip::address_v6(b, sin6->sin6_scope_id);
    } else {
      continue;
    }
    if (std::find(out.addresses.begin(), out.addresses.end(), a) == out.addresses.end()) out.addresses.push_back(a);
  }
  ::freeaddrinfo(result);
  if (out.addresses.empty()) out.error = "no addresses";
  return out;
}

}  // namespace

asio::awaitable<HttpResult<std::vector<asio::ip::address>>> Client::Impl::resolve(const Url& url, FetchState& st) {
  if (auto numeric = parse_numeric_host(url.host)) co_return std::vector<asio::ip::address>{*numeric};
  if (url.host == "localhost" || url.host.ends_with(".localhost")) {
    // RFC 6761: always the loopback interface, never a DNS question.
    co_return std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1"), asio::ip::make_address("::1")};
  }
  if (st.options.test_resolver) {
    auto addresses = st.options.test_resolver(url.host);
    if (addresses.empty())
      co_return Unexpected(make_http_error(ErrorKind::resolve, "could not resolve host " + url.host + " (" + shown_url(url) + "): host not found"));
    co_return addresses;
  }
  const Expiry expiry = expiry_for(st, st.options.connect_timeout);
  asio::steady_timer timer(executor, expiry.duration);
  auto lookup = async_run_blocking(dns_workers().get_executor(), [host = url.host] { return blocking_resolve(host); },
                                   asio::as_tuple(asio::use_awaitable));
  auto outcome = co_await (std::move(lookup) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) {
    if (!std::get<0>(std::get<1>(outcome))) {
      if (expiry.total) co_return Unexpected(total_timeout_error(st, url));
      co_return Unexpected(make_http_error(ErrorKind::timeout, "resolving host " + url.host + " (" + shown_url(url) +
                                                                   ") took longer than the connect timeout of " +
                                                                   seconds_text(st.options.connect_timeout)));
    }
    co_return Unexpected(make_http_error(ErrorKind::cancelled, "the fetch of " + shown_url(url) + " was cancelled"));
  }
  auto& [ec, resolved] = std::get<0>(outcome);
  if (ec || !resolved)
    co_return Unexpected(make_http_error(ErrorKind::cancelled, "the fetch of " + shown_url(url) + " was cancelled"));
  if (!resolved->error.empty())
    co_return Unexpected(make_http_error(ErrorKind::resolve, "could not resolve host " + url.host + " (" + shown_url(url) +
                                                                 "): " + resolved->error));
  co_return std::move(resolved->addresses);
}

asio::awaitable<HttpResult<HopOutcome>> Client::Impl::hop(const Url& url, const std::string& method,
                                                          const std::vector<Header>& headers, const std::string& body,
                                                          FetchState& st) {
  const std::string where = shown_url(url);

  // 1. Addresses, each vetted by the SSRF guard; only these are connected to.
  auto addresses = co_await resolve(url, st);
  if (!addresses) co_return Unexpected(addresses.error());
  const auto& allowed = st.options.address_policy.allowed_hosts;
  const bool host_allowed = std::find(allowed.begin(), allowed.end(), url.host) != allowed.end();
  AddressPolicy policy = st.options.address_policy;
  if (host_allowed) policy.allow_private = true;  // the never-allowed kinds stay refused
  const bool literal = parse_numeric_host(url.host).has_value();
  std::vector<tcp::endpoint> endpoints;
  for (const auto& a : *addresses) {
    if (auto reason = refused_address_reason(a, policy)) {
      std::string msg = literal ? "refused to fetch " + where + ": " + a.to_string() + " is a " + *reason + " address"
                                : "refused to fetch " + where + ": host " + url.host + " resolves to " + a.to_string() +
                                      ", a " + *reason + " address";
      msg += "; only public internet addresses may be fetched";
      co_return Unexpected(make_http_error(ErrorKind::refused_address, std::move(msg)));
    }
    endpoints.emplace_back(a, url.port);
  }

  // 2. Connect (TCP, then TLS), within the connect timeout.
  const auto connect_start = Clock::now();
  beast::tcp_stream tcp_stream(executor);
  Expiry expiry = expiry_for(st, st.options.connect_timeout);
  tcp_stream.expires_after(expiry.duration);
  auto [cec, connected] = co_await tcp_stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  (void)connected;
  if (cec) {
    if (cec == beast::error::timeout) {
      if (expiry.total) co_return Unexpected(total_timeout_error(st, url));
      co_return Unexpected(make_http_error(ErrorKind::timeout, "connecting to " + url.host + " port " + std::to_string(url.port) +
                                                                   " (" + where + ") took longer than the connect timeout of " +
                                                                   seconds_text(st.options.connect_timeout)));
    }
    if (cec == asio::error::operation_aborted)
      co_return Unexpected(make_http_error(ErrorKind::cancelled, "the fetch of " + where + " was cancelled"));
    co_return Unexpected(make_http_error(ErrorKind::connect, "could not connect to " + url.host + " port " +
                                                                 std::to_string(url.port) + " (" + where + "): " + cec.message()));
  }
  tcp_stream.socket().set_option(tcp::no_delay(true));

  // 3. The request.
  std::string request_text = method + " " + url.target + " HTTP/1.1\r\n";
  request_text += "Host: " + (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host);
  if (url.port != (url.scheme == "https" ? 443 : 80)) request_text += ":" + std::to_string(url.port);
  request_text += "\r\n";
  bool has_user_agent = false, has_accept = false;
  for (const auto& [name, value] : headers) {
    if (iequals(name, "Host") || iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Transfer-Encoding") || (st.options.decode_content && iequals(name, "Accept-Encoding")))
      continue;
    has_user_agent |= iequals(name, "User-Agent");
    has_accept |= iequals(name, "Accept");
    request_text += name + ": " + value + "\r\n";
  }
  if (!has_user_agent) request_text += std::string("User-Agent: ") + kUserAgent + "\r\n";
  if (!has_accept) request_text += "Accept: */*\r\n";
  if (st.options.decode_content) request_text += "Accept-Encoding: gzip, deflate\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    request_text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request_text += "Connection: close\r\n\r\n";
  request_text += body;
  const bool head_request = method == "HEAD";

  if (url.scheme == "http") co_return co_await exchange(tcp_stream, url, request_text, head_request, st);

  auto ctx = tls_context(st.options.ca_file);
  if (!ctx) co_return Unexpected(make_http_error(ErrorKind::tls, "cannot fetch " + where + ": " + ctx.error().message));
  ssl::stream<beast::tcp_stream> tls(std::move(tcp_stream), **ctx);
  SSL* native = tls.native_handle();
  if (literal) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), url.host.c_str());
  } else {
    SSL_set_tlsext_host_name(native, url.host.c_str());
    SSL_set_hostflags(native, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(native, url.host.c_str());
  }
  // The handshake shares the connect timeout with the TCP connect.
  const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - connect_start);
  expiry = expiry_for(st, std::max(std::chrono::milliseconds(1), st.options.connect_timeout - spent));
  beast::get_lowest_layer(tls).expires_after(expiry.duration);
  auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) {
    if (hec == beast::error::timeout) {
      if (expiry.total) co_return Unexpected(total_timeout_error(st, url));
      co_return Unexpected(make_http_error(ErrorKind::timeout, "the TLS handshake with " + url.host + " (" + where +
                                                                   ") did not finish within the connect timeout of " +
                                                                   seconds_text(st.options.connect_timeout)));
    }
    if (hec == asio::error::operation_aborted)
      co_return Unexpected(make_http_error(ErrorKind::cancelled, "the fetch of " + where + " was cancelled"));
    const long verify = SSL_get_verify_result(native);
    if (verify != X509_V_OK)
      co_return Unexpected(make_http_error(ErrorKind::tls, "the TLS certificate of " + url.host + " (" + where +
                                                               ") was rejected: " + X509_verify_cert_error_string(verify)));
    co_return Unexpected(make_http_error(ErrorKind::tls, "the TLS handshake with " + url.host + " (" + where +
                                                             ") failed: " + hec.message()));
  }
  co_return co_await exchange(tls, url, request_text, head_request, st);
}

template <class Stream>
asio::awaitable<HttpResult<HopOutcome>> Client::Impl::exchange(Stream& stream, const Url& url, const std::string& request_text,
                                                               bool head_request, FetchState& st) {
  const std::string where = shown_url(url);
  auto io_error = [&](const error_code& ec, const Expiry& expiry, const char* doing) -> HttpError {
    if (ec == beast::error::timeout) {
      if (expiry.total) return total_timeout_error(st, url);
      return make_http_error(ErrorKind::timeout, std::string("no data from ") + url.host + " for " +
                                                     seconds_text(st.options.idle_timeout) + " (the idle timeout) while " +
                                                     doing + " " + where);
    }
    if (ec == asio::error::operation_aborted)
      return make_http_error(ErrorKind::cancelled, "the fetch of " + where + " was cancelled");
    return make_http_error(ErrorKind::closed, std::string("the connection to ") + url.host + " failed while " + doing +
                                                  " " + where + ": " + ec.message());
  };

  Expiry expiry = expiry_for(st, st.options.idle_timeout);
  beast::get_lowest_layer(stream).expires_after(expiry.duration);
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(request_text), asio::as_tuple(asio::use_awaitable));
  (void)written;
  if (wec) co_return Unexpected(io_error(wec, expiry, "sending the request to"));

  HopOutcome outcome;
  Response& response = outcome.response;
  std::optional<ResponseParser> parser;
  auto new_parser = [&] {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(boost::none);
    parser->skip(head_request);
  };
  new_parser();

  // Body plumbing, set up once the final header is in.
  std::optional<Inflater> inflater;
  bool streaming = false;
  std::size_t delivered = 0;
  bool stop = false;
  std::string decode_error;
  auto deliver = [&](std::string_view piece) -> bool {
    const std::size_t cap = st.options.max_body_bytes;
    if (delivered + piece.size() > cap) {
      piece = piece.substr(0, cap - delivered);
      response.truncated = true;
      stop = true;
    }
    delivered += piece.size();
    if (!piece.empty()) {
      if (streaming) {
        if (!(*st.sink)(piece)) stop = true;
      } else {
        response.body.append(piece);
      }
    }
    return !stop;
  };
  std::size_t raw_bytes = 0;
  auto on_raw_body = [&](std::string_view raw) -> bool {
    raw_bytes += raw.size();
    if (!inflater) return deliver(raw);
    if (!inflater->feed(raw, deliver)) {
      decode_error = inflater->error();
      return false;
    }
    return !stop;
  };

  beast::flat_buffer buffer;
  bool header_handled = false;
  int interim_responses = 0;
  for (;;) {
    if (buffer.size() > 0) {
      error_code pec;
      const std::size_t used = parser->put(buffer.data(), pec);
      buffer.consume(used);
      if (!decode_error.empty())
        co_return Unexpected(make_http_error(ErrorKind::protocol, "the compressed body from " + where +
                                                                      " could not be decoded: " + decode_error));
      if (stop || parser->body_stopped) break;
      if (pec && pec != bhttp::error::need_more)
        co_return Unexpected(make_http_error(ErrorKind::protocol, "malformed HTTP response from " + url.host + " (" +
                                                                      where + "): " + pec.message()));
      if (parser->is_header_done() && !header_handled) {
        if (parser->status / 100 == 1 && parser->status != 101) {  // interim response: the real one follows
          if (++interim_responses > kMaxInterimResponses)
            co_return Unexpected(make_http_error(ErrorKind::protocol, "malformed HTTP response from " + url.host + " (" + where +
                                                                          "): more than " + std::to_string(kMaxInterimResponses) +
                                                                          " interim (1xx) responses"));
          new_parser();
          continue;
        }
        header_handled = true;
        response.status = parser->status;
        response.reason = parser->reason;
        response.headers = parser->headers;
        const std::string_view location = find_header(response.headers, "Location");
        if (is_redirect(response.status) && !location.empty() && st.options.max_redirects > 0) {
          outcome.location = trim(location);
          co_return outcome;  // the body of a redirect is not read
        }
        if (st.options.decode_content) {
          const std::string encoding = lower(trim(find_header(response.headers, "Content-Encoding")));
          if (encoding == "gzip" || encoding == "x-gzip") {
            inflater.emplace(Inflater::Format::gzip);
          } else if (encoding == "deflate") {
            inflater.emplace(Inflater::Format::deflate);
          } else if (!encoding.empty() && encoding != "identity") {
            co_return Unexpected(make_http_error(ErrorKind::protocol, "the response from " + where +
                                                                          " uses Content-Encoding \"" + encoding.substr(0, 40) +
                                                                          "\", which is not supported"));
          }
        }
        streaming = st.sink != nullptr && response.status / 100 == 2;
        parser->on_body = on_raw_body;
        parser->eager(true);
        continue;  // parse whatever body bytes are already buffered
      }
      if (parser->is_done()) break;
      if (used > 0 && buffer.size() > 0) continue;
    }
    if (parser->is_done()) break;
    if (buffer.size() > kMaxUnparsed)
      co_return Unexpected(make_http_error(ErrorKind::protocol, "malformed HTTP response from " + url.host + " (" + where +
                                                                    "): a header or chunk line is too long"));
    expiry = expiry_for(st, st.options.idle_timeout);
    if (expiry.duration <= Clock::duration::zero()) co_return Unexpected(total_timeout_error(st, url));
    beast::get_lowest_layer(stream).expires_after(expiry.duration);
    auto [rec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), asio::as_tuple(asio::use_awaitable));
    if (rec == asio::error::eof || rec == ssl::error::stream_truncated) {
      if (!parser->is_header_done())
        co_return Unexpected(make_http_error(ErrorKind::closed, "the server " + url.host +
                                                                    " closed the connection before sending a complete response header (" +
                                                                    where + ")"));
      error_code eec;
      parser->put_eof(eec);
      if (eec) {
        co_return Unexpected(make_http_error(ErrorKind::closed, "the server " + url.host + " closed the connection before the whole body of " +
                                                                    where + " was sent (" + std::to_string(delivered) +
                                                                    " bytes received)"));
      }
      break;
    }
    if (rec)
      co_return Unexpected(io_error(rec, expiry, header_handled ? "reading the body of" : "waiting for the response from"));
    buffer.commit(n);
  }
  if (!header_handled) {  // a HEAD or body-less response finished within the first put
    response.status = parser->status;
    response.reason = parser->reason;
    response.headers = parser->headers;
  }
  // An empty body is accepted whatever its Content-Encoding says (servers send that).
  if (parser->is_done() && inflater && !inflater->finished() && !stop && raw_bytes > 0)
    co_return Unexpected(make_http_error(ErrorKind::protocol, "the compressed body from " + where + " ended before the compressed stream did"));
  co_return outcome;
}

asio::awaitable<HttpResult<Response>> Client::Impl::run(Request request, Options options, BodySink* sink) {
  FetchState st{options, Clock::now() + options.total_timeout, sink};
  auto parsed = Url::parse(request.url);
  if (!parsed) co_return Unexpected(make_http_error(ErrorKind::invalid_url, parsed.error().message));
  Url url = std::move(*parsed);
  if (!valid_token(request.method))
    co_return Unexpected(make_http_error(ErrorKind::invalid_url, "bad request method for " + shown_url(url)));
  for (const auto& [name, value] : request.headers)
    if (!valid_token(name) || !valid_header_text(value))
      co_return Unexpected(make_http_error(ErrorKind::invalid_url, "bad request header for " + shown_url(url) +
                                                                       ": a header name or value holds CR, LF, NUL or an invalid character"));

  std::string method = request.method;
  std::vector<Header> headers = std::move(request.headers);
  std::string body = std::move(request.body);
  std::vector<std::string> redirects;
  std::set<std::string> seen{url.str()};
  const Url original = url;
  for (;;) {
    auto outcome = co_await hop(url, method, headers, body, st);
    if (!outcome) co_return Unexpected(outcome.error());
    if (outcome->location.empty()) {
      Response response = std::move(outcome->response);
      response.final_url = url.str();
      response.redirects = std::move(redirects);
      co_return response;
    }
    const int status = outcome->response.status;
    auto next = url.resolve(outcome->location);
    if (!next)
      co_return Unexpected(make_http_error(ErrorKind::invalid_url, shown_url(url) + " redirected (HTTP " + std::to_string(status) +
                                                                       ") to an address that cannot be followed: " + next.error().message));
    redirects.push_back(url.str());
    if (static_cast<int>(redirects.size()) > options.max_redirects)
      co_return Unexpected(make_http_error(ErrorKind::too_many_redirects,
                                           "too many redirects: " + shown_url(original) + " was redirected more than " +
                                               std::to_string(options.max_redirects) + " times (last to " + shown_url(*next) + ")"));
    if (!seen.insert(next->str()).second)
      co_return Unexpected(make_http_error(ErrorKind::too_many_redirects, "redirect loop: " + shown_url(url) +
                                                                              " redirects back to " + shown_url(*next) +
                                                                              ", which was already visited"));
    if (status == 303 ? method != "HEAD" : ((status == 301 || status == 302) && method == "POST")) {
      method = "GET";
      body.clear();
      std::erase_if(headers, [](const Header& h) { return iequals(h.first, "Content-Type"); });
    }
    if (!same_origin(url, *next)) {
      std::erase_if(headers, [](const Header& h) {
        return !(iequals(h.first, "Accept") || iequals(h.first, "Accept-Language") || iequals(h.first, "User-Agent") ||
                 iequals(h.first, "Content-Type"));
      });
    }
    url = std::move(*next);
  }
}

Client::Client(asio::any_io_executor executor) : impl_(std::make_unique<Impl>(std::move(executor))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;

namespace {

// A cancelled coroutine throws operation_aborted from its next co_await; that is a cancellation
// like any other.
asio::awaitable<HttpResult<Response>> guarded(asio::awaitable<HttpResult<Response>> inner, std::string url) {
  try {
    co_return co_await std::move(inner);
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) throw;
  }
  co_return Unexpected(make_http_error(ErrorKind::cancelled, "the fetch of " + url.substr(0, 200) + " was cancelled"));
}

}  // namespace

asio::awaitable<HttpResult<Response>> Client::fetch(Request request, Options options) const {
  std::string url = request.url;
  co_return co_await guarded(impl_->run(std::move(request), std::move(options), nullptr), std::move(url));
}

asio::awaitable<HttpResult<Response>> Client::fetch_streaming(Request request, Options options, BodySink sink) const {
  std::string url = request.url;
  co_return co_await guarded(impl_->run(std::move(request), std::move(options), &sink), std::move(url));
}

}  // namespace scout::tools::http
