#include "plugins/mcp/client.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace scout::plugins::mcp {

namespace {

std::string string_field(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

McpClient::McpClient(asio::any_io_executor executor, std::unique_ptr<Transport> transport, ClientOptions options)
    : executor_(std::move(executor)),
      transport_(std::move(transport)),
      options_(std::move(options)),
      name_(transport_->name()) {}

McpClient::~McpClient() = default;

std::string McpClient::describe_failure(const std::string& what) const {
  std::string out = what;
  if (const auto status = transport_->exit_status(); status && out.find(*status) == std::string::npos)
    out += " (the server " + *status + ")";
  std::string tail = transport_->diagnostics();
  if (!tail.empty()) {
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    const std::size_t keep = 600;
    if (tail.size() > keep) tail = "…" + tail.substr(tail.size() - keep);
    out += "; its stderr ends: " + tail;
  }
  return out;
}

void McpClient::fail_all(const std::string& why) {
  broken_ = why;
  for (auto& [id, p] : pending_) {
    p->failure = why;
    p->wake.cancel();
  }
}

asio::awaitable<void> McpClient::read_loop() {
  while (!closed_) {
    auto message = co_await transport_->receive();
    if (!message) {
      if (!closed_) fail_all(describe_failure(message.error().message));
      co_return;
    }
    if (auto* response = std::get_if<Response>(&*message)) {
      const auto* id = std::get_if<std::int64_t>(&response->id);
      const auto it = id ? pending_.find(*id) : pending_.end();
      if (it == pending_.end()) continue;  // a late answer to a request already given up on
      it->second->response = std::move(*response);
      it->second->wake.cancel();
    } else if (auto* note = std::get_if<Notification>(&*message)) {
      if (note->method == "notifications/progress" && note->params && note->params->is_object()) {
        const Json& p = *note->params;
        const auto token = p.find("progressToken");
        const auto it = token == p.end() ? progress_.end() : progress_.find(token->dump());
        if (it != progress_.end()) {
          Progress report;
          if (const auto v = p.find("progress"); v != p.end() && v->is_number()) report.progress = v->get<double>();
          if (const auto v = p.find("total"); v != p.end() && v->is_number()) report.total = v->get<double>();
          report.message = string_field(p, "message");
          if (it->second) it->second(report);
          continue;
        }
      }
      if (options_.on_notification) options_.on_notification(*note);
    } else {
      const auto& req = std::get<Request>(*message);
      Response answer{req.id, Json::object()};
      if (req.method == "elicitation/create") {
        const Json params = req.params.value_or(Json::object());
        answer.outcome = options_.on_elicitation ? options_.on_elicitation(name(), params) : decline_elicitation(params);
      } else if (req.method != "ping") {
        answer.outcome = ErrorObject{error_code::method_not_found, "Scout does not offer '" + req.method + "'", std::nullopt};
      }
      (void)co_await transport_->send(answer);
    }
  }
}

asio::awaitable<Result<Json>> McpClient::request(std::string method, Json params) {
  if (broken_) co_return make_error(*broken_);
  if (!reading_) {
    reading_ = true;
    asio::co_spawn(executor_, read_loop(), asio::detached);
  }
  const std::int64_t id = next_id_++;
  auto pending = std::make_shared<Pending>(executor_);
  pending_[id] = pending;
  const Message message = Request{RequestId{id}, method, std::move(params)};
  auto sent = co_await transport_->send(message);
  if (!sent) {
    pending_.erase(id);
    co_return make_error(describe_failure(sent.error().message));
  }
  pending->wake.expires_after(options_.request_timeout);
  const auto waited = co_await pending->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  const boost::system::error_code ec = std::get<0>(waited);
  pending_.erase(id);
  const auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
  if (pending->response) {
    const Response& r = *pending->response;
    if (r.ok()) co_return r.result();
    if (r.error().code == error_code::transport_failure) co_return make_error(describe_failure(r.error().message));
    co_return make_error("MCP server '" + name() + "' refused " + method + ": " + r.error().message + " (code " +
                         std::to_string(r.error().code) + ")");
  }
  if (pending->failure) co_return make_error(*pending->failure);
  // No answer: timed out, or the caller gave up. Tell the server to stop working on it.
  const bool timed_out = !ec && cancelled == asio::cancellation_type::none;
  const std::string reason = timed_out ? "timed out" : "cancelled";
  co_await asio::this_coro::reset_cancellation_state();
  // (Built before the co_await: GCC 12 rejects a string literal initializing an aggregate member
  // inside a co_await expression.)
  const Message cancel = Notification{std::string("notifications/cancelled"),
                                      Json{{"requestId", id}, {"reason", "the request " + reason}}};
  (void)co_await transport_->send(cancel);
  if (timed_out)
    co_return make_error("MCP server '" + name() + "' did not answer " + method + " within " +
                         std::to_string(options_.request_timeout.count() / 1000.0).substr(0, 5) + " s");
  co_return make_error("the " + method + " request to MCP server '" + name() + "' was cancelled");
}

asio::awaitable<Result<ServerInfo>> McpClient::initialize() {
  const auto& versions = supported_protocol_versions();
  Json capabilities = Json::object();
  if (options_.on_elicitation) capabilities["elicitation"] = Json{{"form", Json::object()}};
  Json params = {{"protocolVersion", versions.front()},
                 {"capabilities", capabilities},
                 {"clientInfo", {{"name", options_.client_name}, {"version", options_.client_version}}}};
  auto result = co_await request(std::string("initialize"), std::move(params));
  if (!result) co_return Unexpected{result.error()};
  ServerInfo info;
  info.protocol_version = string_field(*result, "protocolVersion");
  if (std::find(versions.begin(), versions.end(), info.protocol_version) == versions.end()) {
    std::string known;
    for (const auto& v : versions) known += (known.empty() ? "" : ", ") + v;
    co_return make_error("MCP server '" + name() + "' speaks protocol revision '" + info.protocol_version +
                         "', which Scout does not (Scout speaks " + known + ")");
  }
  if (const auto s = result->find("serverInfo"); s != result->end() && s->is_object()) {
    info.name = string_field(*s, "name");
    info.version = string_field(*s, "version");
  }
  if (const auto c = result->find("capabilities"); c != result->end() && c->is_object()) info.capabilities = *c;
  info.instructions = string_field(*result, "instructions");
  if (!info.name.empty()) name_ = info.name;
  const Message initialized = Notification{std::string("notifications/initialized"), std::nullopt};
  auto sent = co_await transport_->send(initialized);
  if (!sent) co_return make_error(describe_failure(sent.error().message));
  co_return info;
}

asio::awaitable<Result<std::vector<McpTool>>> McpClient::list_tools() {
  std::vector<McpTool> tools;
  std::optional<std::string> cursor;
  for (int page = 0; page < 1000; ++page) {
    Json params = Json::object();
    if (cursor) params["cursor"] = *cursor;
    auto result = co_await request(std::string("tools/list"), std::move(params));
    if (!result) co_return Unexpected{result.error()};
    const auto list = result->find("tools");
    if (list == result->end() || !list->is_array())
      co_return make_error("MCP server '" + name() + "' answered tools/list without a \"tools\" list");
    for (const Json& t : *list) {
      McpTool tool;
      tool.name = string_field(t, "name");
      if (tool.name.empty()) continue;  // nothing to call it by
      tool.title = string_field(t, "title");
      tool.description = string_field(t, "description");
      if (const auto s = t.find("inputSchema"); s != t.end() && s->is_object()) tool.input_schema = *s;
      if (const auto s = t.find("outputSchema"); s != t.end() && s->is_object()) tool.output_schema = *s;
      tools.push_back(std::move(tool));
    }
    const std::string next = string_field(*result, "nextCursor");
    if (next.empty()) co_return tools;
    cursor = next;
  }
  co_return make_error("MCP server '" + name() + "' kept paging tools/list past 1000 pages");
}

asio::awaitable<Result<CallResult>> McpClient::call_tool(std::string tool, Json arguments, ProgressFn on_progress) {
  Json params = {{"name", tool}, {"arguments", arguments}};
  std::string token_key;
  if (on_progress) {
    const Json token = "scout-progress-" + std::to_string(next_progress_token_++);
    params["_meta"] = Json{{"progressToken", token}};
    token_key = token.dump();
    progress_[token_key] = std::move(on_progress);
  }
  auto result = co_await request(std::string("tools/call"), std::move(params));
  if (!token_key.empty()) progress_.erase(token_key);
  if (!result) co_return Unexpected{result.error()};
  CallResult out;
  if (const auto c = result->find("content"); c != result->end() && c->is_array()) out.content = *c;
  if (const auto s = result->find("structuredContent"); s != result->end() && !s->is_null()) out.structured = *s;
  if (const auto e = result->find("isError"); e != result->end() && e->is_boolean()) out.is_error = e->get<bool>();
  co_return out;
}

asio::awaitable<void> McpClient::close() {
  if (closed_) co_return;
  closed_ = true;
  fail_all("the connection to MCP server '" + name() + "' was closed");
  co_await transport_->close();
}

}  // namespace scout::plugins::mcp
