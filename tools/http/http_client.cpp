// Client: the hops of a fetch (resolve, check every address, connect, TLS, then exchange.cpp's
// request and response), redirects between them, and cancellation (see http_client.h).
#include "tools/http/http_client.h"

#include <netdb.h>
#include <sys/socket.h>

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
#include <boost/beast/core/tcp_stream.hpp>

#include "tools/http/client_detail.h"
#include "tools/registry/run_blocking.h"

namespace scout::tools::http {

namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace detail;

namespace {

constexpr const char* kUserAgent = "Scout/0.1";

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
  asio::awaitable<HttpResult<Response>> run(Request request, Options options, BodySink* sink, HeadSink* on_head = nullptr);
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
  if (auto known = addresses_without_dns(url)) co_return std::move(*known);
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
  auto endpoints = vetted_endpoints(url, *addresses, st.options.address_policy);
  if (!endpoints) co_return Unexpected(endpoints.error());
  const bool literal = parse_numeric_host(url.host).has_value();

  // 2. Connect (TCP, then TLS), within the connect timeout.
  const auto connect_start = Clock::now();
  beast::tcp_stream tcp_stream(executor);
  Expiry expiry = expiry_for(st, st.options.connect_timeout);
  tcp_stream.expires_after(expiry.duration);
  auto [cec, connected] = co_await tcp_stream.async_connect(*endpoints, asio::as_tuple(asio::use_awaitable));
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

asio::awaitable<HttpResult<Response>> Client::Impl::run(Request request, Options options, BodySink* sink, HeadSink* on_head) {
  FetchState st{options, Clock::now() + options.total_timeout, sink, on_head};
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

asio::awaitable<HttpResult<Response>> Client::fetch_streaming(Request request, Options options, HeadSink on_head,
                                                              BodySink sink) const {
  std::string url = request.url;
  co_return co_await guarded(impl_->run(std::move(request), std::move(options), &sink, &on_head), std::move(url));
}

}  // namespace scout::tools::http
