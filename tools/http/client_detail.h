// Internals of the HTTP client shared by its source files (http_client.cpp: addresses,
// connecting, redirects; exchange.cpp: one request and its response). Not for other users.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tools/http/http_client.h"

namespace scout::tools::http::detail {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b);
std::string seconds_text(std::chrono::milliseconds d);  // "0.3 s"
// The URL as error messages show it: query values whose names suggest a secret (key, token,
// secret, password, auth, sig) are replaced with REDACTED.
std::string shown_url(const Url& url);
HttpError make_http_error(ErrorKind kind, std::string message);
std::string_view find_header(const std::vector<Header>& headers, std::string_view name);

// The first step of a hop, without I/O (address_policy.cpp):
// The addresses a URL's host stands for without a DNS question — an IP literal's own address,
// loopback for "localhost" and "*.localhost" (RFC 6761) — or nullopt for a name to look up.
std::optional<std::vector<asio::ip::address>> addresses_without_dns(const Url& url);
// The endpoints the hop connects to: every address, vetted by the SSRF guard under `policy`
// (a host in policy.allowed_hosts may be private, never one of the kinds refused under any
// policy). One refused address refuses the hop, with a message naming it.
HttpResult<std::vector<asio::ip::tcp::endpoint>> vetted_endpoints(const Url& url,
                                                                  const std::vector<asio::ip::address>& addresses,
                                                                  const AddressPolicy& policy);

// What one hop produced: a response, or a redirect to follow.
struct HopOutcome {
  Response response;
  std::string location;  // non-empty: follow it (the body was not read)
};

// Per-fetch state shared by the hops.
struct FetchState {
  const Options& options;
  Clock::time_point deadline;
  BodySink* sink;  // null for fetch()
  HeadSink* on_head = nullptr;  // streaming only: the final 2xx response's head, before its body
};

// The expiry for the next operation: the phase limit, bounded by the total deadline.
struct Expiry {
  Clock::duration duration;
  bool total = false;  // the deadline, not the phase limit, is what bounds it
};
Expiry expiry_for(const FetchState& st, std::chrono::milliseconds phase);
HttpError total_timeout_error(const FetchState& st, const Url& url);

// Sends `request_text` on a connected stream and reads the response: the header, then (unless
// it is a redirect to follow) the body through the decoder into Response::body or the sink,
// within the idle timeout per read and the total deadline.
template <class Stream>
asio::awaitable<HttpResult<HopOutcome>> exchange(Stream& stream, const Url& url, const std::string& request_text,
                                                 bool head_request, FetchState& st);
extern template asio::awaitable<HttpResult<HopOutcome>> exchange(boost::beast::tcp_stream&, const Url&, const std::string&,
                                                                 bool, FetchState&);
extern template asio::awaitable<HttpResult<HopOutcome>> exchange(asio::ssl::stream<boost::beast::tcp_stream>&, const Url&,
                                                                 const std::string&, bool, FetchState&);

}  // namespace scout::tools::http::detail
