#include "plugins/mcp/http_transport.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <map>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/text.h"
#include "plugins/mcp/http_headers.h"
#include "tools/http/http_client.h"
#include "tools/http/sse.h"

namespace scout::plugins::mcp {

namespace http = tools::http;

struct HttpTransport::State {
  State(asio::any_io_executor ex, HttpEndpoint ep, HttpTransportOptions opts, std::string shown)
      : executor(ex), endpoint(std::move(ep)), options(opts), client(ex), name(std::move(shown)),
        inbox_wake(ex, asio::steady_timer::time_point::max()) {}

  asio::any_io_executor executor;
  HttpEndpoint endpoint;
  HttpTransportOptions options;
  http::Client client;
  std::string name;
  std::string session_id;
  std::string protocol_version;
  std::optional<RequestId> initialize_id;  // the initialize request, while its answer is awaited
  // The stateless revision: the client's last request carried it in _meta. Its rules apply then:
  // request headers, tools/list screened for bad x-mcp-header annotations.
  bool stateless = false;
  std::set<std::string> tools_list_requests;   // id_text of tools/list requests awaiting answers
  std::map<std::string, Json> tool_schemas;    // tool name → inputSchema, for Mcp-Param-* headers
  std::vector<std::string> notices;            // for take_notices()

  std::deque<Message> inbox;
  asio::steady_timer inbox_wake;
  bool closed = false;
  bool get_stream_started = false;

  // Streams in flight (POST answers, resumptions, the GET stream), each cancellable.
  std::map<std::uint64_t, std::shared_ptr<asio::cancellation_signal>> streams;
  std::map<std::string, std::uint64_t> stream_of_request;  // id_text(request id) → stream
  std::uint64_t next_stream = 1;

  void deliver(Message message) {
    if (closed) return;
    if (auto* r = std::get_if<Response>(&message); r && initialize_id && r->id == *initialize_id) {
      if (r->ok() && r->result().is_object()) {
        const auto v = r->result().find("protocolVersion");
        if (v != r->result().end() && v->is_string()) protocol_version = v->get<std::string>();
      }
      initialize_id.reset();
    }
    if (auto* r = std::get_if<Response>(&message); r && tools_list_requests.erase(id_text(r->id)) && r->ok())
      screen_tools(std::get<Json>(r->outcome));
    inbox.push_back(std::move(message));
    inbox_wake.cancel();
  }

  // Drops the tools whose x-mcp-header annotations break the rules (with a notice) and learns
  // the schemas of the others.
  void screen_tools(Json& result) {
    const auto list = result.is_object() ? result.find("tools") : result.end();
    if (list == result.end() || !list->is_array()) return;
    Json kept = Json::array();
    for (Json& tool : *list) {
      const Json name_value = tool.is_object() ? tool.value("name", Json()) : Json();  // any shape: a server's
      const std::string tool_name = name_value.is_string() ? name_value.get<std::string>() : "";
      const Json schema = tool.is_object() ? tool.value("inputSchema", Json::object()) : Json::object();
      if (const auto problem = header_annotation_problem(schema)) {
        notices.push_back("MCP server '" + name + "': tool '" + tool_name + "' left out: " + *problem);
        continue;
      }
      if (!tool_name.empty()) tool_schemas[tool_name] = schema;
      kept.push_back(std::move(tool));
    }
    *list = std::move(kept);
  }

  void fail_request(const RequestId& id, std::string why) {
    deliver(Response{id, ErrorObject{error_code::transport_failure, std::move(why), std::nullopt}});
  }

  // `extra`: the message's own headers (a stateless request's MCP-Protocol-Version, Mcp-Method…).
  std::vector<http::Header> headers(bool post, const std::string& last_event_id, const HeaderList& extra) const {
    std::vector<http::Header> h(endpoint.headers.begin(), endpoint.headers.end());
    if (endpoint.oauth && !endpoint.oauth->access_token().empty()) {
      std::erase_if(h, [](const http::Header& x) { return x.first == "Authorization" || x.first == "authorization"; });
      h.emplace_back("Authorization", "Bearer " + endpoint.oauth->access_token());
    }
    h.emplace_back("Accept", post ? "application/json, text/event-stream" : "text/event-stream");
    if (post) h.emplace_back("Content-Type", "application/json");
    if (!session_id.empty()) h.emplace_back("Mcp-Session-Id", session_id);
    const bool own_version = std::any_of(extra.begin(), extra.end(), [](const auto& x) { return x.first == "MCP-Protocol-Version"; });
    if (!protocol_version.empty() && !own_version) h.emplace_back("MCP-Protocol-Version", protocol_version);
    if (!last_event_id.empty()) h.emplace_back("Last-Event-ID", last_event_id);
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  }

  http::Options http_options() const {
    http::Options o;
    o.address_policy.allow_private = true;  // the user's own configured server
    o.max_redirects = 0;
    o.connect_timeout = options.connect_timeout;
    o.idle_timeout = options.idle_timeout;
    o.total_timeout = std::chrono::hours(24 * 365);  // streams live as long as the session
    o.max_body_bytes = std::numeric_limits<std::size_t>::max() / 2;  // messages are capped one by one
    o.ca_file = endpoint.ca_file;
    return o;
  }

  std::pair<std::uint64_t, std::shared_ptr<asio::cancellation_signal>> open_stream() {
    const std::uint64_t id = next_stream++;
    auto signal = std::make_shared<asio::cancellation_signal>();
    streams.emplace(id, signal);
    return {id, signal};
  }

  void cancel_all() {
    auto open = streams;  // emitting may end a stream, which erases itself
    for (auto& [id, signal] : open) signal->emit(asio::cancellation_type::terminal);
  }
};

namespace {

using StatePtr = std::shared_ptr<HttpTransport::State>;


std::string excerpt(std::string text, std::size_t keep = 300) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.size() > keep) text = text.substr(0, keep) + "…";
  return text;
}

// What one exchange on the endpoint produced.
struct Exchange {
  http::HttpResult<http::Response> response = Unexpected(http::HttpError{});
  bool event_stream = false;
  bool answered = false;   // the awaited response arrived
  bool any_event = false;  // at least one event came (progress, for resumption)
  std::string last_event_id;
  std::optional<std::uint64_t> retry;
  std::string json_body;
  std::string malformed;  // a message that could not be read, described
};

// One POST or GET. Messages on an event stream are delivered as they arrive; reading stops
// once `awaited`'s response is in (the server closes the stream then anyway). A JSON body is
// returned whole, for the caller to deliver.
asio::awaitable<Exchange> exchange(StatePtr st, http::Request request, std::optional<RequestId> awaited,
                                   bool learn_session) {
  Exchange out;
  http::SseParser parser(st->options.max_message_bytes);
  auto on_head = [&](const http::Response& head) {
    const std::string type = ascii_lower(head.header("Content-Type"));
    out.event_stream = type.rfind("text/event-stream", 0) == 0;
    if (learn_session) {
      const auto sid = head.header("Mcp-Session-Id");
      if (!sid.empty()) st->session_id = std::string(sid);
    }
  };
  auto sink = [&](std::string_view bytes) -> bool {
    if (!out.event_stream) {
      if (out.json_body.size() + bytes.size() > st->options.max_message_bytes) {
        out.malformed = "a response larger than " + std::to_string(st->options.max_message_bytes >> 20) + " MiB";
        return false;
      }
      out.json_body.append(bytes);
      return true;
    }
    for (auto& event : parser.feed(bytes)) {
      out.any_event = true;
      out.last_event_id = event.id;
      if (event.retry) out.retry = event.retry;
      if (event.data.empty()) continue;  // a priming event: an id (and retry) to resume from
      auto message = parse_message(event.data);
      if (!message) {
        out.malformed = message.error().message;
        return false;
      }
      const auto* r = std::get_if<Response>(&*message);
      const bool is_answer = r && awaited && r->id == *awaited;
      st->deliver(std::move(*message));
      if (is_answer) {
        out.answered = true;
        return false;
      }
    }
    if (parser.failed()) {
      out.malformed = parser.error();
      return false;
    }
    out.last_event_id = parser.last_event_id();
    if (parser.reconnection_time()) out.retry = parser.reconnection_time();
    return true;
  };
  out.response = co_await st->client.fetch_streaming(std::move(request), st->http_options(), on_head, sink);
  co_return out;
}

// Whether `r` asks for (more) authorization that the endpoint's OAuth session can get.
bool wants_authorization(const StatePtr& st, const http::HttpResult<http::Response>& r) {
  if (!st->endpoint.oauth || !r) return false;
  if (r->status == 401) return true;
  return r->status == 403 && parse_bearer_challenge(std::string(r->header("WWW-Authenticate"))).error == "insufficient_scope";
}

// Runs the OAuth flow for a 401/403 answer; "" on success, else why it failed.
asio::awaitable<std::string> authorize(StatePtr st, std::string www_authenticate) {
  auto done = co_await st->endpoint.oauth->authorize(std::move(www_authenticate));
  co_return done ? std::string() : "MCP server '" + st->name + "' needs authorization, which failed: " + done.error().message;
}

constexpr int kMaxAuthorizations = 3;  // in a row for one request: a server that keeps refusing ends it

std::string status_problem(const StatePtr& st, const http::Response& r, const std::string& what) {
  std::string text = "MCP server '" + st->name + "' answered " + what + " with HTTP " + std::to_string(r.status) +
                     (r.reason.empty() ? "" : " " + r.reason);
  if (r.status == 401 || r.status == 403)
    text += ": it requires authorization (OAuth, or a token in the server's `headers` in the config)";
  else if (r.status == 404 && !st->session_id.empty())
    text += ": the server no longer knows session " + st->session_id + " (it ended the session)";
  const std::string body = excerpt(r.body);
  if (!body.empty()) text += "; it said: " + body;
  return text;
}

http::Request make_request(const StatePtr& st, std::string method, std::string body, const std::string& last_event_id,
                           const HeaderList& extra = {}) {
  http::Request req;
  req.method = std::move(method);
  req.url = st->endpoint.url;
  req.headers = st->headers(req.method == "POST", last_event_id, extra);
  req.body = std::move(body);
  return req;
}

asio::awaitable<void> pause(const StatePtr& st, std::optional<std::uint64_t> retry) {
  asio::steady_timer timer(st->executor);
  timer.expires_after(retry ? std::chrono::milliseconds(*retry) : st->options.default_retry);
  (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

bool gone(const StatePtr& st, const http::HttpResult<http::Response>& r) {
  return st->closed || (!r && r.error().kind == http::ErrorKind::cancelled);
}

// A stateless server answers a request it refuses (an unsupported revision, an unknown method, a
// header mismatch) with a 4xx whose body is a JSON-RPC error: that error, for the request's id.
std::optional<Response> error_in_body(const http::Response& r, const RequestId& id) {
  auto message = parse_message(r.body);
  auto* response = message ? std::get_if<Response>(&*message) : nullptr;
  if (!response || response->ok()) return std::nullopt;
  return Response{id, response->error()};
}

// A request's POST: its answer as JSON, or an event stream resumed by GET until the answer comes
// (not in the stateless revision, whose streams cannot be resumed). `extra`: the request's own
// headers; `stateless`: it carries the stateless revision.
asio::awaitable<void> post_request(StatePtr st, std::uint64_t stream, RequestId id, std::string method, std::string body,
                                   HeaderList extra, bool stateless) {
  const std::string key = id_text(id);
  auto finish = [&] {
    st->streams.erase(stream);
    st->stream_of_request.erase(key);
  };
  Exchange x = co_await exchange(st, make_request(st, "POST", body, "", extra), id, method == "initialize");
  for (int attempt = 0; wants_authorization(st, x.response) && attempt < kMaxAuthorizations; ++attempt) {
    const std::string failed = co_await authorize(st, std::string(x.response->header("WWW-Authenticate")));
    if (!failed.empty()) {
      st->fail_request(id, failed);
      co_return finish();
    }
    x = co_await exchange(st, make_request(st, "POST", body, "", extra), id, method == "initialize");
  }
  if (gone(st, x.response)) co_return finish();
  if (!x.response) {
    st->fail_request(id, "could not reach MCP server '" + st->name + "' (" + st->endpoint.url + "): " + x.response.error().message);
    co_return finish();
  }
  if (x.response->status / 100 != 2) {
    if (auto refused = stateless && x.response->status / 100 == 4 ? error_in_body(*x.response, id) : std::nullopt)
      st->deliver(std::move(*refused));
    else
      st->fail_request(id, status_problem(st, *x.response, method));
    co_return finish();
  }
  if (!x.malformed.empty()) {
    st->fail_request(id, "MCP server '" + st->name + "' sent a malformed message in answer to " + method + ": " + x.malformed);
    co_return finish();
  }
  if (!x.event_stream) {
    auto message = parse_message(x.json_body);
    const auto* r = message ? std::get_if<Response>(&*message) : nullptr;
    if (!r || !(r->id == id)) {
      st->fail_request(id, "MCP server '" + st->name + "' answered " + method + " with " +
                               (message ? "a message that is not its response" : "something that is not JSON-RPC: " +
                                                                                       message.error().message));
      co_return finish();
    }
    st->deliver(std::move(*message));
    co_return finish();
  }
  // The stream ended without the answer: resume it where it broke (not in the stateless
  // revision, whose streams cannot be resumed).
  if (!x.answered && stateless) {
    st->fail_request(id, "MCP server '" + st->name + "' closed the event stream for " + method + " before answering");
    co_return finish();
  }
  int fruitless = 0;
  while (!x.answered) {
    if (x.last_event_id.empty()) {
      st->fail_request(id, "MCP server '" + st->name + "' closed the event stream for " + method +
                               " before answering, and gave no event ID to resume it from");
      co_return finish();
    }
    if (fruitless >= st->options.max_resumptions) {
      st->fail_request(id, "MCP server '" + st->name + "' did not answer " + method + " after " +
                               std::to_string(fruitless) + " attempts to resume its event stream");
      co_return finish();
    }
    co_await pause(st, x.retry);
    if (st->closed) co_return finish();
    const std::string resume_from = x.last_event_id;
    const auto retry = x.retry;
    x = co_await exchange(st, make_request(st, "GET", "", resume_from), id, false);
    if (gone(st, x.response)) co_return finish();
    if (x.response && x.response->status / 100 == 4) {  // 405: the server cannot resume streams
      st->fail_request(id, status_problem(st, *x.response, "the resumption of " + method));
      co_return finish();
    }
    if (!x.malformed.empty()) {
      st->fail_request(id, "MCP server '" + st->name + "' sent a malformed message in answer to " + method + ": " + x.malformed);
      co_return finish();
    }
    fruitless = x.any_event ? 0 : fruitless + 1;
    if (x.last_event_id.empty()) x.last_event_id = resume_from;
    if (!x.retry) x.retry = retry;
  }
  finish();
}

// The GET stream: what the server sends on its own (list changes, its requests), reopened
// when it ends, until the server says it offers none (405) or keeps failing.
asio::awaitable<void> listen(StatePtr st, std::uint64_t stream) {
  std::string last_id;
  std::optional<std::uint64_t> retry;
  int fruitless = 0;
  while (!st->closed && fruitless <= st->options.max_resumptions) {
    Exchange x = co_await exchange(st, make_request(st, "GET", "", last_id), std::nullopt, false);
    if (gone(st, x.response)) break;
    if (x.response && (x.response->status == 405 || x.response->status / 100 == 4)) break;
    fruitless = x.any_event ? 0 : fruitless + 1;
    if (!x.last_event_id.empty()) last_id = x.last_event_id;
    if (x.retry) retry = x.retry;
    co_await pause(st, retry);
  }
  st->streams.erase(stream);
}

// A stateless message's own headers: its revision, method and name, and for a tools/call the
// arguments the tool's schema asks to see mirrored.
HeaderList stateless_headers(const HttpTransport::State& st, const std::string& method, const std::optional<Json>& params) {
  HeaderList h{{"MCP-Protocol-Version", st.protocol_version}};
  const HeaderList standard = standard_request_headers(method, params ? &*params : nullptr);
  h.insert(h.end(), standard.begin(), standard.end());
  if (method == "tools/call" && params && params->is_object()) {
    const auto schema = st.tool_schemas.find(params->value("name", ""));
    const auto args = params->find("arguments");
    if (schema != st.tool_schemas.end() && args != params->end()) {
      const HeaderList mirrored = parameter_headers(schema->second, *args);
      h.insert(h.end(), mirrored.begin(), mirrored.end());
    }
  }
  return h;
}

}  // namespace

Result<std::unique_ptr<HttpTransport>> HttpTransport::open(asio::any_io_executor executor, HttpEndpoint endpoint,
                                                           HttpTransportOptions options) {
  auto url = http::Url::parse(endpoint.url);
  if (!url) return make_error("MCP server URL '" + endpoint.url + "': " + url.error().message);
  std::string shown = endpoint.name;
  if (shown.empty()) {
    shown = url->host + (url->port == (url->scheme == "https" ? 443 : 80) ? "" : ":" + std::to_string(url->port));
    const std::string path = url->target.substr(0, url->target.find('?'));
    if (path != "/") shown += path;
  }
  auto state = std::make_shared<State>(executor, std::move(endpoint), options, std::move(shown));
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(state)));
}

HttpTransport::HttpTransport(std::shared_ptr<State> state) : state_(std::move(state)) {}

HttpTransport::~HttpTransport() {
  state_->closed = true;
  state_->cancel_all();
}

const std::string& HttpTransport::name() const { return state_->name; }

std::string HttpTransport::session_id() const { return state_->session_id; }

std::vector<std::string> HttpTransport::take_notices() { return std::exchange(state_->notices, {}); }

asio::awaitable<Result<void>> HttpTransport::send(const Message& message) {
  StatePtr st = state_;
  if (st->closed) co_return make_error("the connection to MCP server '" + st->name + "' is closed");
  if (const auto* request = std::get_if<Request>(&message)) {
    // Answered on its own stream, read in the background: the caller awaits the response.
    if (request->method == "initialize") st->initialize_id = request->id;
    HeaderList extra;
    const std::string version = declared_protocol_version(request->params);
    if (!version.empty()) {
      st->stateless = true;
      st->protocol_version = version;
      extra = stateless_headers(*st, request->method, request->params);
      if (request->method == "tools/list") st->tools_list_requests.insert(id_text(request->id));
    } else if (st->stateless) {
      // Back to an initialize-based revision (a failed probe): no version until one is agreed.
      st->stateless = false;
      st->protocol_version.clear();
    }
    auto [stream, signal] = st->open_stream();
    st->stream_of_request[id_text(request->id)] = stream;
    asio::co_spawn(st->executor,
                   post_request(st, stream, request->id, request->method, serialize(message), std::move(extra), !version.empty()),
                   asio::bind_cancellation_slot(signal->slot(), asio::detached));
    co_return Result<void>{};
  }
  const auto* note = std::get_if<Notification>(&message);
  if (note && note->method == "notifications/cancelled" && note->params && note->params->is_object()) {
    // The caller gave up on a request: stop reading its stream too.
    const auto rid = note->params->find("requestId");
    if (rid != note->params->end()) {
      const std::string key = rid->is_string() ? "\"" + rid->get<std::string>() + "\"" : rid->dump();
      if (const auto s = st->stream_of_request.find(key); s != st->stream_of_request.end())
        if (const auto sig = st->streams.find(s->second); sig != st->streams.end())
          sig->second->emit(asio::cancellation_type::terminal);
    }
  }
  const std::string what = note ? note->method : "a response";
  const std::string body = serialize(message);
  const HeaderList extra = note && st->stateless ? stateless_headers(*st, note->method, note->params) : HeaderList{};
  auto r = co_await st->client.fetch(make_request(st, "POST", body, "", extra), st->http_options());
  for (int attempt = 0; wants_authorization(st, r) && attempt < kMaxAuthorizations; ++attempt) {
    const std::string failed = co_await authorize(st, std::string(r->header("WWW-Authenticate")));
    if (!failed.empty()) co_return make_error(failed);
    r = co_await st->client.fetch(make_request(st, "POST", body, "", extra), st->http_options());
  }
  if (!r) co_return make_error("could not reach MCP server '" + st->name + "' (" + st->endpoint.url + ") to send " +
                               what + ": " + r.error().message);
  if (r->status / 100 != 2) co_return make_error(status_problem(st, *r, what));
  if (note && note->method == "notifications/initialized" && st->options.open_get_stream && !st->get_stream_started) {
    st->get_stream_started = true;
    auto [stream, signal] = st->open_stream();
    asio::co_spawn(st->executor, listen(st, stream), asio::bind_cancellation_slot(signal->slot(), asio::detached));
  }
  co_return Result<void>{};
}

asio::awaitable<Result<Message>> HttpTransport::receive() {
  StatePtr st = state_;
  for (;;) {
    if (!st->inbox.empty()) {
      Message m = std::move(st->inbox.front());
      st->inbox.pop_front();
      co_return m;
    }
    if (st->closed) co_return make_error("the connection to MCP server '" + st->name + "' was closed");
    st->inbox_wake.expires_at(asio::steady_timer::time_point::max());
    (void)co_await st->inbox_wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> HttpTransport::close(std::chrono::milliseconds grace) {
  StatePtr st = state_;
  if (st->closed) co_return;
  st->closed = true;
  st->cancel_all();
  st->inbox_wake.cancel();
  if (!st->session_id.empty()) {
    // Tell the server the session is over; a server that does not allow it answers 405.
    auto options = st->http_options();
    options.total_timeout = grace;
    (void)co_await st->client.fetch(make_request(st, "DELETE", "", ""), options);
  }
  // Let the cancelled streams unwind, so nothing runs on after the caller's io_context stops.
  asio::steady_timer tick(st->executor);
  for (auto waited = std::chrono::milliseconds(0); !st->streams.empty() && waited < grace; waited += std::chrono::milliseconds(10)) {
    tick.expires_after(std::chrono::milliseconds(10));
    (void)co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace scout::plugins::mcp
