#include "plugins/mcp/http_server.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/text.h"
#include "plugins/mcp/http_event_stream.h"
#include "plugins/mcp/http_headers.h"

namespace scout::plugins::mcp {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

constexpr std::string_view kEndpoint = "/mcp";
constexpr std::string_view kSessionHeader = "Mcp-Session-Id";
constexpr std::string_view kVersionHeader = "MCP-Protocol-Version";

// The media type of a Content-Type value, lowercased, without parameters.
std::string media_type(std::string_view value) { return ascii_lower(trim(value.substr(0, value.find(';')))); }

std::string port_suffix(std::uint16_t port) { return ":" + std::to_string(port); }

// 128 random bits as 32 hex digits; empty if the generator fails.
std::string random_session_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

struct HttpSession {
  std::string id;
  std::shared_ptr<ServerSession> mcp;
  std::uint64_t next_event_id = 1;
  Clock::time_point last_used = Clock::now();
  std::shared_ptr<EventQueue> get_stream;  // the open GET stream, if any

  std::string event(const Message& message) {
    return "id: " + std::to_string(next_event_id++) + "\ndata: " + serialize(message) + "\n\n";
  }
  bool busy() const { return mcp->calls_in_flight() > 0; }
  void end() {
    mcp->cancel_all();
    if (get_stream) get_stream->finish();
    get_stream.reset();
  }
};

HttpResponse plain_response(const HttpRequest& req, http::status status, std::string content_type, std::string body) {
  HttpResponse res{status, req.version()};
  res.set(http::field::server, "scout");
  if (!content_type.empty()) res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

// An HTTP error whose body is a JSON-RPC error without an id, as MCP servers answer.
HttpResponse error_reply(const HttpRequest& req, http::status status, const std::string& message,
                         std::int64_t code = -32000) {
  return plain_response(req, status, "application/json", error_without_id(code, message));
}

asio::awaitable<bool> send(beast::tcp_stream& stream, HttpResponse res, std::chrono::milliseconds timeout) {
  const bool keep_alive = res.keep_alive();
  stream.expires_after(timeout);
  auto [ec, n] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
  (void)n;
  co_return !ec && keep_alive;
}

// After refusing a request whose body is too large: stop sending, then read and drop what the
// client still sends (at most max_bytes, for at most `limit`). Closing a socket with unread
// input makes the kernel reset the connection, and the client would lose the answer unread.
asio::awaitable<void> drain_input(beast::tcp_stream& stream, std::size_t max_bytes, std::chrono::milliseconds limit) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(limit);
  std::vector<char> buf(16384);
  for (std::size_t total = 0; total < max_bytes;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    total += n;
  }
}

// Runs one request of `session` and queues what it produces — its notifications, then its
// response — as events, then ends the stream.
asio::awaitable<void> feed_event_stream(std::shared_ptr<HttpSession> session, std::shared_ptr<EventQueue> queue,
                                        Request request) {
  // Named, not a temporary in the co_await below: GCC 12 destroys a class-type temporary passed
  // by value to a coroutine inside a co_await expression twice (here: the captured shared_ptrs).
  NotifyFn notify = [session, queue](const Notification& n) { queue->push(session->event(n)); };
  auto response = co_await session->mcp->handle_request(std::move(request), std::move(notify));
  if (response) queue->push(session->event(*response));
  queue->finish();
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out{"127.0.0.1", 0};
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("'" + std::string(text) + "' is not HOST:PORT (an IPv6 address is written [::1]:PORT)");
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon)
      return make_error("'" + std::string(text) + "' is not HOST:PORT (an IPv6 address is written [::1]:PORT)");
    if (colon > 0) out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  const bool digits = !port.empty() && port.size() <= 5 &&
                      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoul(std::string(port)) > 65535)
    return make_error("'" + std::string(text) + "' has no valid port (0 to 65535)");
  out.port = static_cast<std::uint16_t>(std::stoul(std::string(port)));
  return out;
}

std::vector<std::string> allowed_host_headers(const std::string& host, std::uint16_t port, bool loopback) {
  if (!loopback) return {};
  std::vector<std::string> names{"localhost", "127.0.0.1", "[::1]"};
  const std::string own = host.find(':') != std::string::npos ? "[" + ascii_lower(host) + "]" : ascii_lower(host);
  if (std::find(names.begin(), names.end(), own) == names.end()) names.push_back(own);
  std::vector<std::string> out;
  for (const auto& name : names) {
    out.push_back(name + port_suffix(port));
    if (port == 80) out.push_back(name);
  }
  return out;
}

bool host_header_allowed(std::string_view host_header, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return true;
  const std::string host = ascii_lower(trim(host_header));
  return std::find(allowed.begin(), allowed.end(), host) != allowed.end();
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed_origins) {
  std::string o = ascii_lower(trim(origin));
  while (!o.empty() && o.back() == '/') o.pop_back();
  for (std::string allowed : allowed_origins) {
    allowed = ascii_lower(trim(allowed));
    while (!allowed.empty() && allowed.back() == '/') allowed.pop_back();
    if (!allowed.empty() && allowed == o) return true;
  }
  std::string_view rest = o;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else {
    return false;  // "null", other schemes
  }
  std::string_view host = rest;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    host = host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (rest.find('/') != std::string_view::npos || rest.find('@') != std::string_view::npos) return false;
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

bool accept_lists(std::string_view accept, std::string_view wanted) {
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    if (media_type(accept.substr(0, comma)) == wanted) return true;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return false;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor ex, const tools::Registry& r, ServerOptions so, HttpServerOptions o)
      : executor(ex), registry(r), server_options(std::move(so)), options(std::move(o)), acceptor(ex) {}

  asio::any_io_executor executor;
  const tools::Registry& registry;
  ServerOptions server_options;
  HttpServerOptions options;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  bool loopback = true;
  std::vector<std::string> allowed_hosts;
  bool stopping = false;
  std::map<std::string, std::shared_ptr<HttpSession>> sessions;
  std::set<std::shared_ptr<HttpSession>> stateless_requests;  // each stateless request in flight, its own session
  std::map<std::uint64_t, beast::tcp_stream*> idle_connections;  // waiting for a request
  std::uint64_t next_connection = 0;
  std::size_t connections = 0;

  void log(const std::string& text) const {
    if (options.log) options.log(text);
  }
  StreamTiming timing() const { return StreamTiming{options.write_timeout, options.keep_alive}; }

  // The refusal for a request that fails a check common to all methods, if it does.
  std::optional<HttpResponse> check(const HttpRequest& req) const {
    // RFC 9112 §3.2: two Host lines (or none) make the target ambiguous; a proxy and this server
    // could each read a different one.
    if (const std::size_t hosts = req.count(http::field::host); hosts != 1) {
      log("refused a request with " + std::to_string(hosts) + " Host headers");
      return error_reply(req, http::status::bad_request, "Bad Request: a request needs exactly one Host header");
    }
    const std::string_view host = req[http::field::host];
    if (!host_header_allowed(host, allowed_hosts)) {
      log("refused a request for host '" + std::string(host) + "' (DNS rebinding protection)");
      return error_reply(req, http::status::forbidden, "Forbidden: the Host header does not name this server");
    }
    if (const auto origin = req.find(http::field::origin); origin != req.end() &&
                                                           !origin_allowed(origin->value(), options.allowed_origins)) {
      log("refused a request from origin '" + std::string(origin->value()) + "' (see --allow-origin)");
      return error_reply(req, http::status::forbidden, "Forbidden: the Origin is not allowed");
    }
    const std::string_view target = req.target();
    if (target.substr(0, target.find('?')) != kEndpoint)
      return error_reply(req, http::status::not_found, "Not found: the MCP endpoint is /mcp");
    // (A POST's revision is checked with its body: a stateless request names it in both.)
    if (const auto version = req.find(kVersionHeader); version != req.end() && req.method() != http::verb::post) {
      const auto& known = server_protocol_versions();
      if (std::find(known.begin(), known.end(), std::string(trim(version->value()))) == known.end())
        return error_reply(req, http::status::bad_request,
                           "Bad Request: unsupported MCP-Protocol-Version '" + std::string(version->value()) + "'");
    }
    return std::nullopt;
  }

  // The request's session, or the refusal: 400 without the header, 404 for an unknown session.
  std::shared_ptr<HttpSession> find_session(const HttpRequest& req, std::optional<HttpResponse>& refusal) {
    const auto header = req.find(kSessionHeader);
    if (header == req.end()) {
      refusal = error_reply(req, http::status::bad_request, "Bad Request: no Mcp-Session-Id header (send initialize first)");
      return nullptr;
    }
    const auto it = sessions.find(std::string(trim(header->value())));
    if (it == sessions.end()) {
      refusal = error_reply(req, http::status::not_found, "Session not found: it ended or never existed; initialize again");
      return nullptr;
    }
    it->second->last_used = Clock::now();
    return it->second;
  }

  void end_session(const std::string& id) {
    const auto it = sessions.find(id);
    if (it == sessions.end()) return;
    it->second->end();
    sessions.erase(it);
  }

  // Makes room for one more session: ends idle ones past session_idle, then the least recently
  // used idle one when still full. False when every session is busy.
  bool make_room() {
    const auto now = Clock::now();
    std::vector<std::string> expired;
    for (const auto& [id, s] : sessions)
      if (!s->busy() && now - s->last_used > options.session_idle) expired.push_back(id);
    for (const auto& id : expired) end_session(id);
    if (sessions.size() < std::max<std::size_t>(1, options.max_sessions)) return true;
    std::shared_ptr<HttpSession> oldest;
    for (const auto& [id, s] : sessions)
      if (!s->busy() && (!oldest || s->last_used < oldest->last_used)) oldest = s;
    if (!oldest) return false;
    log("ending session " + oldest->id.substr(0, 8) + "… to make room (max " + std::to_string(options.max_sessions) + ")");
    end_session(oldest->id);
    return true;
  }

  // (Responses are built in named variables before the co_await that sends them: GCC 12 rejects
  // a string literal converted to a std::string inside a co_await expression, and destroys a
  // temporary passed by value to a coroutine there twice.)
  asio::awaitable<bool> reply(beast::tcp_stream& stream, HttpResponse res) {
    co_return co_await send(stream, std::move(res), options.write_timeout);
  }

  asio::awaitable<bool> initialize(beast::tcp_stream& stream, HttpRequest req, Request request) {
    if (!make_room()) {
      HttpResponse res = error_reply(req, http::status::service_unavailable, "Too many sessions in use; try later");
      co_return co_await reply(stream, std::move(res));
    }
    auto session = std::make_shared<HttpSession>();
    session->id = random_session_id();
    if (session->id.empty()) {
      HttpResponse res = error_reply(req, http::status::internal_server_error, "cannot make a session id");
      co_return co_await reply(stream, std::move(res));
    }
    session->mcp = std::make_shared<ServerSession>(registry, server_options);
    NotifyFn no_notifications;  // (named: see feed_event_stream)
    auto response = co_await session->mcp->handle_request(std::move(request), std::move(no_notifications));
    HttpResponse res = plain_response(req, http::status::ok, "application/json", response ? serialize(*response) : "");
    if (response && response->ok() && !stopping) {
      sessions[session->id] = session;
      res.set(kSessionHeader, session->id);
    }
    co_return co_await reply(stream, std::move(res));
  }

  // tools/call: the call runs in its own coroutine and feeds an event stream that this
  // connection writes; if the client goes away the call goes on, and what it sends is dropped.
  asio::awaitable<bool> stream_call(beast::tcp_stream& stream, HttpRequest req, std::shared_ptr<HttpSession> session,
                                    Request request) {
    auto queue = std::make_shared<EventQueue>(executor);
    asio::co_spawn(executor, feed_event_stream(session, queue, std::move(request)), asio::detached);
    co_return co_await write_event_stream(stream, req, queue, timing());
  }

  // The refusal of a POST whose headers or body are unfit, if they are.
  std::optional<HttpResponse> check_post(const HttpRequest& req) const {
    const std::string_view accept = req[http::field::accept];
    if (!accept_lists(accept, "application/json") || !accept_lists(accept, "text/event-stream"))
      return error_reply(req, http::status::not_acceptable,
                         "Not Acceptable: Accept must list application/json and text/event-stream");
    if (media_type(req[http::field::content_type]) != "application/json")
      return error_reply(req, http::status::unsupported_media_type, "Unsupported Media Type: the body must be application/json");
    return std::nullopt;
  }

  // The refusal of a stateless request whose headers disagree with its body, if they do.
  std::optional<HttpResponse> check_stateless_headers(const HttpRequest& req, const Request& request) const {
    const auto problem =
        stateless_header_problem(request, [&req](std::string_view name) { return std::string(trim(req[name])); });
    if (!problem) return std::nullopt;
    return plain_response(req, http::status::bad_request, "application/json", serialize(Response{request.id, *problem}));
  }

  static http::status status_of(const Response& response) {
    if (response.ok()) return http::status::ok;
    switch (response.error().code) {
      case error_code::method_not_found: return http::status::not_found;
      case error_code::internal_error: return http::status::internal_server_error;
      case error_code::parse_error:
      case error_code::invalid_request:
      case error_code::invalid_params:
      case error_code::header_mismatch:
      case error_code::missing_client_capability:
      case error_code::unsupported_protocol_version: return http::status::bad_request;
      default: return http::status::ok;
    }
  }

  // A request of the stateless revision: no session. It is served by a session of its own;
  // tools/call and subscriptions/listen answer with an event stream, whose closing cancels them.
  asio::awaitable<bool> stateless(beast::tcp_stream& stream, HttpRequest req, Request request) {
    auto session = std::make_shared<HttpSession>();
    session->mcp = std::make_shared<ServerSession>(registry, server_options);
    std::optional<HttpResponse> refusal = check_stateless_headers(req, request);
    if (!refusal)
      if (auto refused = session->mcp->stateless_refusal(request))
        refusal = plain_response(req, status_of(*refused), "application/json", serialize(*refused));
    if (refusal) co_return co_await reply(stream, std::move(*refusal));
    stateless_requests.insert(session);
    bool keep = false;
    if (request.method == "tools/call" || request.method == "subscriptions/listen") {
      auto queue = std::make_shared<EventQueue>(executor);
      asio::co_spawn(executor, feed_event_stream(session, queue, std::move(request)), asio::detached);
      keep = co_await write_event_stream(stream, req, queue, timing());
      session->mcp->cancel_all();  // in this revision a closed stream cancels its request
    } else {
      NotifyFn no_notifications;  // (named: see feed_event_stream)
      auto response = co_await session->mcp->handle_request(std::move(request), std::move(no_notifications));
      HttpResponse res = response ? plain_response(req, status_of(*response), "application/json", serialize(*response))
                                  : plain_response(req, http::status::accepted, "", "");
      keep = co_await reply(stream, std::move(res));
    }
    stateless_requests.erase(session);
    co_return keep;
  }

  asio::awaitable<bool> post(beast::tcp_stream& stream, HttpRequest req) {
    if (auto refused = check_post(req)) co_return co_await reply(stream, std::move(*refused));
    auto message = parse_message(req.body());
    if (!message) {
      HttpResponse res = error_reply(req, http::status::bad_request, message.error().message, refusal_code(req.body()));
      co_return co_await reply(stream, std::move(res));
    }
    // The stateless revision: a request naming it in _meta, or any message whose
    // MCP-Protocol-Version is not one of the initialize-based revisions.
    const std::string version(trim(req[kVersionHeader]));
    const auto& legacy = server_protocol_versions();
    const bool stateless_header = !version.empty() && std::find(legacy.begin(), legacy.end(), version) == legacy.end();
    if (auto* r = std::get_if<Request>(&*message); r && (stateless_header || !declared_protocol_version(r->params).empty()))
      co_return co_await stateless(stream, std::move(req), std::move(*r));
    if (stateless_header) {  // a notification (cancellation is closing the stream) or a stray response
      HttpResponse accepted = plain_response(req, http::status::accepted, "", "");
      co_return co_await reply(stream, std::move(accepted));
    }
    if (auto* r = std::get_if<Request>(&*message); r && r->method == "initialize")
      co_return co_await initialize(stream, std::move(req), std::move(*r));

    std::optional<HttpResponse> refusal;
    auto session = find_session(req, refusal);
    if (!session) co_return co_await reply(stream, std::move(*refusal));
    HttpResponse accepted = plain_response(req, http::status::accepted, "", "");
    if (auto* n = std::get_if<Notification>(&*message)) session->mcp->handle_notification(*n);
    auto* request = std::get_if<Request>(&*message);
    if (!request) co_return co_await reply(stream, std::move(accepted));  // a notification or a response
    if (request->method == "tools/call")
      co_return co_await stream_call(stream, std::move(req), std::move(session), std::move(*request));
    NotifyFn no_notifications;  // (named: see feed_event_stream)
    auto response = co_await session->mcp->handle_request(std::move(*request), std::move(no_notifications));
    if (!response) co_return co_await reply(stream, std::move(accepted));
    HttpResponse res = plain_response(req, http::status::ok, "application/json", serialize(*response));
    co_return co_await reply(stream, std::move(res));
  }

  asio::awaitable<bool> get(beast::tcp_stream& stream, HttpRequest req) {
    if (!accept_lists(req[http::field::accept], "text/event-stream")) {
      HttpResponse res = error_reply(req, http::status::not_acceptable, "Not Acceptable: Accept must list text/event-stream");
      co_return co_await reply(stream, std::move(res));
    }
    std::optional<HttpResponse> refusal;
    auto session = find_session(req, refusal);
    if (!session) co_return co_await reply(stream, std::move(*refusal));
    auto queue = std::make_shared<EventQueue>(executor);
    if (session->get_stream) session->get_stream->finish();
    session->get_stream = queue;
    const bool keep = co_await write_event_stream(stream, req, queue, timing());
    if (session->get_stream == queue) session->get_stream.reset();
    co_return keep;
  }

  HttpResponse remove(const HttpRequest& req) {
    std::optional<HttpResponse> refusal;
    auto session = find_session(req, refusal);
    if (!session) return std::move(*refusal);
    end_session(session->id);
    return plain_response(req, http::status::ok, "", "");
  }

  // One request; whether the connection stays open.
  asio::awaitable<bool> handle(beast::tcp_stream& stream, HttpRequest req) {
    if (auto refused = check(req)) co_return co_await reply(stream, std::move(*refused));
    switch (req.method()) {
      case http::verb::post:
        co_return co_await post(stream, std::move(req));
      case http::verb::get:
        co_return co_await get(stream, std::move(req));
      case http::verb::delete_: {
        HttpResponse res = remove(req);
        co_return co_await reply(stream, std::move(res));
      }
      default: {
        HttpResponse res = error_reply(req, http::status::method_not_allowed, "Method Not Allowed: use POST, GET or DELETE");
        res.set(http::field::allow, "GET, POST, DELETE");
        co_return co_await reply(stream, std::move(res));
      }
    }
  }

  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    const std::uint64_t id = self->next_connection++;
    ++self->connections;
    const bool over_limit = self->connections > self->options.max_connections;
    for (bool first = true; !self->stopping; first = false) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(self->options.body_limit);
      stream.expires_after(self->options.read_timeout);
      self->idle_connections[id] = &stream;
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      (void)n;
      self->idle_connections.erase(id);
      if (ec) {
        // Say why when the peer sent too much or something that is not HTTP; a closed or
        // timed-out connection just ends.
        HttpRequest head;
        head.version(parser.get().version());
        head.keep_alive(false);
        std::optional<HttpResponse> res;
        if (ec == http::error::body_limit) {
          res = error_reply(head, http::status::payload_too_large,
                            "Payload Too Large: at most " + std::to_string(self->options.body_limit) + " bytes");
        } else if (&ec.category() == &http::make_error_code(http::error::bad_target).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
          res = error_reply(head, http::status::bad_request, "Bad Request: malformed HTTP (" + ec.message() + ")");
        }
        if (res) co_await self->reply(stream, std::move(*res));
        if (ec == http::error::body_limit) co_await drain_input(stream, 16 * self->options.body_limit, self->options.read_timeout);
        break;
      }
      HttpRequest req = parser.release();
      if (over_limit && first) {
        req.keep_alive(false);
        HttpResponse res = error_reply(req, http::status::service_unavailable, "Too many connections; try later");
        co_await self->reply(stream, std::move(res));
        break;
      }
      if (!co_await self->handle(stream, std::move(req))) break;
    }
    --self->connections;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
  }
};

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_) impl_->stopping = true;
}

Result<std::unique_ptr<HttpServer>> HttpServer::listen(asio::any_io_executor executor, const tools::Registry& registry,
                                                       ServerOptions server_options, HttpServerOptions options) {
  auto impl = std::make_shared<Impl>(executor, registry, std::move(server_options), std::move(options));
  const std::string where = impl->options.host + ":" + std::to_string(impl->options.port);
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  const auto endpoints = resolver.resolve(impl->options.host, std::to_string(impl->options.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) return make_error("cannot listen on " + where + ": " + (ec ? ec.message() : "no address"));
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error("cannot listen on " + where + ": " + ec.message());
  impl->port = acceptor.local_endpoint(ec).port();
  impl->loopback = endpoint.address().is_loopback();
  impl->allowed_hosts = allowed_host_headers(impl->options.host, impl->port, impl->loopback);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::port() const { return impl_->port; }
bool HttpServer::loopback() const { return impl_->loopback; }

asio::awaitable<void> HttpServer::run() {
  auto self = impl_;
  asio::steady_timer pause(self->executor);
  while (!self->stopping) {
    auto [ec, socket] = co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (self->stopping || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of descriptors, most often: wait a little instead of spinning.
      self->log("accepting a connection failed: " + ec.message());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    asio::co_spawn(self->executor, Impl::serve(self, std::move(socket)), asio::detached);
  }
}

void HttpServer::stop() {
  auto& self = *impl_;
  if (self.stopping) return;
  self.stopping = true;
  boost::system::error_code ignored;
  self.acceptor.close(ignored);
  std::vector<std::string> ids;
  for (const auto& [id, s] : self.sessions) ids.push_back(id);
  for (const auto& id : ids) self.end_session(id);
  for (const auto& request : std::vector(self.stateless_requests.begin(), self.stateless_requests.end())) request->end();
  for (auto& [id, stream] : self.idle_connections) stream->close();
  self.idle_connections.clear();
}

}  // namespace scout::plugins::mcp
