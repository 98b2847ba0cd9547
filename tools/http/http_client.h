// The HTTP/1.1 client every networked part of Scout goes through: fetch_url, the web search
// providers, the remote OpenAI-compatible backend and the MCP HTTP transport. Boost.Beast over
// Asio coroutines, OpenSSL for https:// with certificate and host-name verification.
//
// Policies it owns, so callers do not re-implement them:
//   - the SSRF guard: every address a host name resolves to is checked *after* DNS resolution,
//     on every redirect hop, against AddressPolicy (loopback, private, link-local, unique-local,
//     CGNAT, multicast, unspecified, cloud metadata, IPv4-mapped/compatible IPv6, NAT64 and 6to4
//     forms of those); a refused address ends the fetch with ErrorKind::refused_address, and so
//     does a name with any refused address among its answers. The connection goes only to the
//     addresses that were checked (no second lookup). Hosts written as decimal, octal or hex
//     integers are parsed the way resolvers read them, so they are checked, not smuggled;
//     "localhost" and "*.localhost" are loopback without a DNS question (RFC 6761);
//   - redirects (301/302/303/307/308), each hop re-validated, at most max_redirects; a URL seen
//     twice is a loop (ErrorKind::too_many_redirects at once). 303, and 301/302 after a POST,
//     continue as GET without the body. A 3xx without Location is the final response;
//   - HTTP/1.0 and 1.1 only; a malformed status line, header or chunk, a header block over
//     64 KiB or more than 8 interim (1xx) responses is ErrorKind::protocol;
//   - caps: connect, idle (no byte for this long) and total time; body bytes after decoding —
//     an oversized body is cut at the cap and marked truncated, never buffered whole;
//   - Content-Encoding gzip/deflate decoding (a decompression bomb stops at the body cap);
//   - cancellation: the coroutine's cancellation state (e.g. awaitable operator ||, a registry
//     deadline) closes the connection and completes with ErrorKind::cancelled.
//
// Thread-safety: a Client is immutable after construction and may serve concurrent fetches on
// its executor; each fetch uses its own connection (no pooling). A Client is cheap to make and
// to drop (no threads of its own): DNS lookups run on a small process-wide thread pool and TLS
// contexts (system store + extra CA file) are loaded once per process.
// Lifetime: the io_context must outlive the fetches started on it (a DNS lookup in progress
// keeps its io_context busy until getaddrinfo returns, even after a cancelled fetch).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "common/expected.h"

namespace scout::tools::http {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// An absolute http:// or https:// URL, split. Userinfo is refused (it hides the real host from
// readers of logs); fragments are dropped. Parsing follows what browsers do (WHATWG URL) where
// it matters for safety: '\' counts as '/', a host ending in a number must be an IPv4 address
// in any of the inet_aton forms and is stored in dotted-decimal form ("http://2130706433/" has
// host "127.0.0.1"), IPv6 literals are stored canonically, non-ASCII host names go through IDNA
// (UTS #46) to punycode, dot segments are removed and characters not allowed in a request target
// (spaces, non-ASCII bytes, ...) are percent-encoded. '%' in a host name is refused.
struct Url {
  std::string scheme;   // "http" or "https"
  std::string host;     // without brackets for IPv6 literals; lowercased
  std::uint16_t port = 0;  // explicit or the scheme's default
  std::string target;   // path + query, at least "/"
  static Result<Url> parse(std::string_view text);
  // Resolves `reference` (absolute, scheme-relative, absolute-path or relative) against *this,
  // as a Location header is resolved.
  Result<Url> resolve(std::string_view reference) const;
  std::string str() const;  // the URL as text (port omitted when it is the default)
};

// Which addresses a fetch may connect to. Whatever the policy, these are never connected to:
// unspecified (0.0.0.0, ::; Linux routes them to the local host), multicast and broadcast
// (never a server), and cloud metadata endpoints (169.254.169.254, 169.254.170.2,
// 100.100.100.200, fd00:ec2::254, and their IPv4-mapped/NAT64/6to4 forms): they hand out
// credentials.
struct AddressPolicy {
  // true: loopback/private/link-local/... addresses are allowed (tests, local SearxNG, a local
  // model server). Config: [fetch] allow_private_addresses.
  bool allow_private = false;
  // Host names (as written in the URL, lowercased; IP literals in their canonical form, e.g.
  // "127.0.0.1" or "::1") that may resolve to private addresses even when allow_private is
  // false, e.g. "searxng.lan".
  std::vector<std::string> allowed_hosts;
};

// Why `address` is refused under `policy` ("loopback", "private (10.0.0.0/8)", "cloud metadata
// (169.254.169.254)", "IPv4-mapped loopback", ...), or nullopt when it is allowed.
// policy.allowed_hosts is not consulted here (it names hosts, not addresses): the client skips
// this check for an allowed host, except for the never-connected kinds above.
std::optional<std::string> refused_address_reason(const asio::ip::address& address,
                                                  const AddressPolicy& policy);

// Parses a host the way inet_aton and browsers do (decimal "2130706433", octal "0177.0.0.1",
// hex "0x7f.1", short forms "127.1"), or as an IPv6 literal. nullopt for a host name.
std::optional<asio::ip::address> parse_numeric_host(std::string_view host);

// RFC 3986 percent-encoding for a query parameter or a form field: everything but ALPHA DIGIT
// - . _ ~ is encoded, spaces included (as %20).
std::string percent_encode(std::string_view text);

// RFC 4648 base64 with padding (Basic credentials, MCP's =?base64?…?= header values).
std::string base64_encode(std::string_view bytes);

using Header = std::pair<std::string, std::string>;

struct Request {
  std::string method = "GET";
  std::string url;
  // Host, Content-Length, Connection: close and (with decode_content) Accept-Encoding are set by
  // the client, replacing any given; User-Agent and Accept are added when not given. A name or
  // value holding CR, LF or NUL is refused (ErrorKind::invalid_url, "bad request header").
  // On a redirect to another origin (scheme, host or port) only Accept, Accept-Language,
  // User-Agent and Content-Type are kept: the rest may be credentials for the first host.
  std::vector<Header> headers;
  std::string body;
};

struct Options {
  AddressPolicy address_policy;
  int max_redirects = 5;                 // 0: a redirect is returned as the response
  std::size_t max_body_bytes = 8u << 20;  // decoded bytes kept; the rest is discarded
  std::chrono::milliseconds connect_timeout = 10s;  // DNS + TCP + TLS handshake
  std::chrono::milliseconds idle_timeout = 30s;     // longest wait for the next byte
  std::chrono::milliseconds total_timeout = 120s;   // the whole exchange, redirects included
  bool decode_content = true;            // gzip/deflate Content-Encoding
  // Extra PEM CA file to trust besides the system store (tests with their own CA).
  std::string ca_file;

  // TEST-ONLY hook: when set, host names (not IP literals) are looked up with this function
  // instead of DNS; an empty result reads as "host not found". The SSRF guard checks what it
  // returns exactly as it checks DNS answers. Lets tests have a name answer with any address
  // (e.g. "intranet.test" -> 10.0.0.1) without a DNS server. Production code leaves it empty.
  std::function<std::vector<asio::ip::address>(const std::string& host)> test_resolver;
};

struct Response {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;      // as received (the final hop's)
  std::string body;                 // decoded; empty when streamed to a callback
  bool truncated = false;           // the body was longer than max_body_bytes
  std::string final_url;            // after redirects
  // Each URL that answered with a redirect, in order (the first is the request's URL); empty
  // when there was none. final_url is where the last one led.
  std::vector<std::string> redirects;

  // First header with this name (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

enum class ErrorKind {
  invalid_url,        // not an absolute http(s) URL, or a bad redirect Location
  refused_address,    // the SSRF guard
  resolve,            // DNS failure
  connect,            // TCP connect refused/unreachable
  tls,                // handshake or certificate verification failed
  timeout,            // connect, idle or total timeout
  protocol,           // malformed HTTP, bad chunking, corrupt gzip
  too_many_redirects,
  cancelled,
  closed,             // the peer closed the connection mid-response
};
const char* error_kind_name(ErrorKind kind);

struct HttpError {
  ErrorKind kind = ErrorKind::protocol;
  std::string message;  // what happened, with the URL and host; never header values
};

template <class T>
using HttpResult = Expected<T, HttpError>;

// Receives decoded body bytes as they arrive. Returning false stops reading (the fetch
// completes successfully with what was read).
using BodySink = std::function<bool(std::string_view)>;
// Receives the final response's status and headers (body still empty) before its first body
// byte, e.g. to pick a parser from Content-Type or to read a session header early.
using HeadSink = std::function<void(const Response&)>;

class Client {
 public:
  explicit Client(asio::any_io_executor executor);
  ~Client();
  Client(Client&&) noexcept;

  // One request, following redirects. HTTP error statuses (4xx/5xx) are responses, not errors.
  asio::awaitable<HttpResult<Response>> fetch(Request request, Options options) const;

  // As fetch, but a 2xx final response's body goes to `sink` as it arrives (server-sent events,
  // long downloads) and Response::body stays empty. The sink is only called for the final hop,
  // with decoded bytes, in pieces of any size; max_body_bytes still applies (the stream ends,
  // truncated, at the cap: raise it for long streams). For a non-2xx final response the sink is
  // never called: the body is collected into Response::body instead (capped the same way), so
  // callers can read an error document (e.g. an API's JSON error).
  asio::awaitable<HttpResult<Response>> fetch_streaming(Request request, Options options,
                                                        BodySink sink) const;
  // As above; `on_head` is called once with the final 2xx response's head before the sink sees
  // any byte (never for a non-2xx response).
  asio::awaitable<HttpResult<Response>> fetch_streaming(Request request, Options options, HeadSink on_head,
                                                        BodySink sink) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scout::tools::http
