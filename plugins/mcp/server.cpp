#include "plugins/mcp/server.h"

#include <algorithm>
#include <array>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace scout::plugins::mcp {

namespace {

const std::array<std::string_view, 8> kLogLevels{"debug", "info",     "notice", "warning",
                                                 "error", "critical", "alert",  "emergency"};

Response error_response(const RequestId& id, std::int64_t code, std::string message) {
  return Response{id, ErrorObject{code, std::move(message), std::nullopt}};
}

// The text a request id is known by in calls_ (as id_text writes it), from the JSON of a
// notifications/cancelled requestId; empty when it is not an id.
std::string id_key(const Json& id) {
  if (id.is_number_integer()) return id_text(RequestId{id.get<std::int64_t>()});
  if (id.is_string()) return id_text(RequestId{id.get<std::string>()});
  return {};
}

}  // namespace

const std::vector<std::string>& server_protocol_versions() {
  static const std::vector<std::string> versions{"2025-11-25", "2025-06-18", "2025-03-26"};
  return versions;
}

const std::vector<std::string>& server_stateless_versions() {
  static const std::vector<std::string> versions{"2026-07-28"};
  return versions;
}

std::string error_without_id(std::int64_t code, const std::string& message) {
  const Json j = {{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

struct ServerSession::Call {
  asio::cancellation_signal cancel;
  bool cancelled_by_client = false;
};

ServerSession::ServerSession(const tools::Registry& registry, ServerOptions options)
    : registry_(registry), options_(std::move(options)) {}

ServerSession::~ServerSession() = default;

asio::awaitable<std::optional<Response>> ServerSession::handle_request(Request request, NotifyFn notify) {
  const std::string& method = request.method;
  if (std::string version = declared_protocol_version(request.params); !version.empty())
    co_return co_await handle_stateless(std::move(request), std::move(notify), std::move(version));
  if (method == "ping") co_return Response{request.id, Json::object()};
  if (method == "initialize") co_return initialize(request);
  if (!initialized())
    co_return error_response(request.id, error_code::invalid_request,
                             "the session is not initialized: send initialize first");
  if (method == "tools/list") co_return list_tools(request);
  if (method == "tools/call") co_return co_await call_tool(std::move(request), std::move(notify));
  if (method == "logging/setLevel") co_return set_level(request);
  co_return error_response(request.id, error_code::method_not_found, "Scout's MCP server does not offer '" + method + "'");
}

void ServerSession::handle_notification(const Notification& notification) {
  if (notification.method == "notifications/initialized") {
    client_ready_ = true;
  } else if (notification.method == "notifications/cancelled" && notification.params &&
             notification.params->is_object()) {
    const auto it = calls_.find(id_key(notification.params->value("requestId", Json())));
    if (it == calls_.end()) return;  // finished already, or never a call (initialize cannot be cancelled)
    it->second->cancelled_by_client = true;
    it->second->cancel.emit(asio::cancellation_type::terminal);
  }
}

void ServerSession::cancel_all() {
  std::vector<std::shared_ptr<Call>> calls;
  for (auto& [key, call] : calls_) calls.push_back(call);
  for (auto& call : calls) call->cancel.emit(asio::cancellation_type::terminal);
}

namespace {

// Marks a stateless revision's result as final (no more input needed).
std::optional<Response> complete(std::optional<Response> response) {
  if (response && response->ok() && response->result().is_object())
    std::get<Json>(response->outcome)["resultType"] = "complete";
  return response;
}

// Caching hints: the tool list cannot change while the server runs, but a restart with another
// config can change it, so a client may keep it a few minutes, for itself.
std::optional<Response> cacheable(std::optional<Response> response) {
  if (response && response->ok() && response->result().is_object()) {
    Json& result = std::get<Json>(response->outcome);
    result["ttlMs"] = 300000;
    result["cacheScope"] = "private";
  }
  return response;
}

}  // namespace

asio::awaitable<std::optional<Response>> ServerSession::handle_stateless(Request request, NotifyFn notify,
                                                                          std::string version) {
  if (auto refusal = stateless_refusal(request)) co_return refusal;
  const std::string& method = request.method;
  if (method == "server/discover") co_return cacheable(complete(discover(request)));
  if (method == "tools/list") co_return cacheable(complete(list_tools(request)));
  if (method == "tools/call") co_return complete(co_await call_tool(std::move(request), std::move(notify)));
  if (method == "subscriptions/listen") co_return co_await listen(std::move(request), std::move(notify));
  co_return error_response(request.id, error_code::method_not_found,
                           "Method not found: Scout's MCP server does not offer '" + method + "' in protocol revision " + version);
}

std::optional<Response> ServerSession::stateless_refusal(const Request& request) const {
  const std::string version = declared_protocol_version(request.params);
  const auto& known = server_stateless_versions();
  if (std::find(known.begin(), known.end(), version) == known.end())
    return Response{request.id, ErrorObject{error_code::unsupported_protocol_version, "Unsupported protocol version",
                                            Json{{"supported", known}, {"requested", version}}}};
  const Json& meta = request.params->at("_meta");
  const auto caps = meta.find(meta_key::client_capabilities);
  if (caps == meta.end() || !caps->is_object())
    return error_response(request.id, error_code::invalid_params,
                          std::string("Invalid params: _meta lacks ") + meta_key::client_capabilities + " (an object)");
  return std::nullopt;
}

Response ServerSession::discover(const Request& request) const {
  const Json info = {{"name", options_.name}, {"version", options_.version}};
  Json result = {{"supportedVersions", server_stateless_versions()},
                 {"capabilities", {{"tools", {{"listChanged", false}}}}},
                 {"serverInfo", info},
                 {"_meta", {{meta_key::server_info, info}}}};
  if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
  return Response{request.id, std::move(result)};
}

asio::awaitable<std::optional<Response>> ServerSession::listen(Request request, NotifyFn notify) {
  const Json params = request.params.value_or(Json::object());
  const Json wanted = params.value("notifications", Json::object());
  // Only tool-list changes are Scout's to report (and its tools do not change while it serves).
  Json honored = Json::object();
  // Compared as JSON: a client's non-boolean there asks for nothing (value(key, false) would throw).
  if (wanted.is_object() && wanted.value("toolsListChanged", Json()) == true) honored["toolsListChanged"] = true;
  const std::string key = id_text(request.id);
  if (calls_.count(key))
    co_return error_response(request.id, error_code::invalid_request, "a request with id " + key + " is already in flight");
  auto call = std::make_shared<Call>();
  calls_.emplace(key, call);
  subscriptions_.insert(key);
  if (notify) {
    const Json id = std::holds_alternative<std::int64_t>(request.id) ? Json(std::get<std::int64_t>(request.id))
                                                                     : Json(std::get<std::string>(request.id));
    notify(Notification{std::string("notifications/subscriptions/acknowledged"),
                        Json{{"_meta", {{meta_key::subscription_id, id}}}, {"notifications", honored}}});
  }
  // Open until the client cancels it (or the transport closes): no response either way.
  asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  (void)co_await forever.async_wait(asio::bind_cancellation_slot(call->cancel.slot(), asio::as_tuple(asio::use_awaitable)));
  calls_.erase(key);
  subscriptions_.erase(key);
  co_return std::nullopt;
}

void ServerSession::end_subscriptions() {
  for (const std::string& key : std::set<std::string>(subscriptions_))
    if (const auto it = calls_.find(key); it != calls_.end()) it->second->cancel.emit(asio::cancellation_type::terminal);
}

Response ServerSession::initialize(const Request& request) {
  if (initialized()) return error_response(request.id, error_code::invalid_request, "the session is already initialized");
  const Json params = request.params.value_or(Json());
  if (!params.is_object() || !params.value("protocolVersion", Json()).is_string())
    return error_response(request.id, error_code::invalid_params, "initialize needs params.protocolVersion (a string)");
  const auto& known = server_protocol_versions();
  const std::string asked = params["protocolVersion"].get<std::string>();
  protocol_version_ = std::find(known.begin(), known.end(), asked) != known.end() ? asked : known.front();
  Json result = {{"protocolVersion", protocol_version_},
                 {"capabilities", {{"tools", {{"listChanged", false}}}, {"logging", Json::object()}}},
                 {"serverInfo", {{"name", options_.name}, {"version", options_.version}}}};
  if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
  return Response{request.id, std::move(result)};
}

Response ServerSession::list_tools(const Request& request) const {
  const Json params = request.params.value_or(Json::object());
  const std::vector<tools::ToolInfo> all = registry_.list();
  std::size_t begin = 0;
  const Json cursor = params.is_object() ? params.value("cursor", Json()) : Json();
  if (!cursor.is_null()) {
    // The cursor is the offset of the page's first tool; only the server reads it.
    const std::string text = cursor.is_string() ? cursor.get<std::string>() : std::string();
    const bool digits = !text.empty() && text.size() < 10 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoul(text) > all.size())
      return error_response(request.id, error_code::invalid_params, "invalid cursor for tools/list");
    begin = std::stoul(text);
  }
  const std::size_t page = std::max<std::size_t>(1, options_.page_size);
  const std::size_t end = std::min(all.size(), begin + page);
  Json tools = Json::array();
  for (std::size_t i = begin; i < end; ++i)
    tools.push_back({{"name", all[i].name}, {"description", all[i].description}, {"inputSchema", all[i].parameters}});
  Json result = {{"tools", std::move(tools)}};
  if (end < all.size()) result["nextCursor"] = std::to_string(end);
  return Response{request.id, std::move(result)};
}

Response ServerSession::set_level(const Request& request) {
  const Json params = request.params.value_or(Json());
  const std::string level = params.is_object() && params.value("level", Json()).is_string()
                                ? params["level"].get<std::string>()
                                : std::string();
  if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end())
    return error_response(request.id, error_code::invalid_params,
                          "logging/setLevel needs params.level: debug, info, notice, warning, error, critical, "
                          "alert or emergency");
  log_level_ = level;
  return Response{request.id, Json::object()};
}

std::chrono::milliseconds ServerSession::timeout_for(std::string_view tool) const {
  const auto it = options_.tool_timeouts.find(tool);
  return it != options_.tool_timeouts.end() ? it->second : options_.tool_timeout;
}

asio::awaitable<std::optional<Response>> ServerSession::call_tool(Request request, NotifyFn notify) {
  const Json params = request.params.value_or(Json());
  if (!params.is_object() || !params.value("name", Json()).is_string())
    co_return error_response(request.id, error_code::invalid_params, "tools/call needs params.name (a string)");
  const std::string name = params["name"].get<std::string>();
  Json arguments = params.value("arguments", Json::object());

  const std::string key = id_text(request.id);
  if (calls_.count(key))
    co_return error_response(request.id, error_code::invalid_request, "a call with id " + key + " is already in flight");
  auto call = std::make_shared<Call>();
  calls_.emplace(key, call);

  tools::ToolContext ctx;
  ctx.cancel = call->cancel.slot();
  if (const auto timeout = timeout_for(name); timeout.count() > 0)
    ctx.deadline = tools::ToolContext::Clock::now() + timeout;
  const Json meta = params.value("_meta", Json::object());
  const Json token = meta.is_object() ? meta.value("progressToken", Json()) : Json();
  if ((token.is_string() || token.is_number_integer()) && notify) {
    // The spec wants each notification's progress above the last one's: reports that do not
    // grow are dropped.
    auto last = std::make_shared<double>(-1);
    ctx.progress = [notify, token, last](const tools::ToolProgress& p) {
      if (p.progress <= *last) return;
      *last = p.progress;
      Json note = {{"progressToken", token}, {"progress", p.progress}};
      if (p.total) note["total"] = *p.total;
      if (!p.message.empty()) note["message"] = p.message;
      notify(Notification{std::string("notifications/progress"), std::move(note)});
    };
  }

  tools::ToolOutput out = co_await registry_.call(name, std::move(arguments), std::move(ctx));
  calls_.erase(key);
  if (call->cancelled_by_client) co_return std::nullopt;

  if (out.text.empty()) out.text = out.is_error ? "the tool failed without saying why" : "(no output)";
  Json result = {{"content", Json::array({{{"type", "text"}, {"text", out.text}}})}, {"isError", out.is_error}};
  if (out.structured && out.structured->is_object()) result["structuredContent"] = std::move(*out.structured);
  co_return Response{request.id, std::move(result)};
}

}  // namespace scout::plugins::mcp
