#include "common/text.h"
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

// What an initialize or server/discover result says of the server: its name and version (in
// serverInfo, or in _meta as the stateless revision may put it), capabilities, instructions.
void read_server_info(const Json& result, ServerInfo& info) {
  const Json* server_info = nullptr;
  if (const auto s = result.find("serverInfo"); s != result.end() && s->is_object()) server_info = &*s;
  if (const auto m = result.find("_meta"); !server_info && m != result.end() && m->is_object())
    if (const auto s = m->find(meta_key::server_info); s != m->end() && s->is_object()) server_info = &*s;
  if (server_info) {
    info.name = string_field(*server_info, "name");
    info.version = string_field(*server_info, "version");
  }
  if (const auto c = result.find("capabilities"); c != result.end() && c->is_object()) info.capabilities = *c;
  info.instructions = string_field(result, "instructions");
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
        answer.outcome = answer_elicitation(params);
      } else if (req.method != "ping") {
        answer.outcome = ErrorObject{error_code::method_not_found, "Scout does not offer '" + req.method + "'", std::nullopt};
      }
      (void)co_await transport_->send(answer);
    }
  }
}

asio::awaitable<Result<Response>> McpClient::exchange(std::string method, Json params, std::chrono::milliseconds timeout) {
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
  // The answer, or the loss of the connection, may have come before the wait below began (while
  // the request was being sent, or even as the reader started): then there is nothing to wait
  // for, and fail_all's or the reader's wake.cancel() found no wait to end.
  if (!pending->response && !pending->failure && broken_) pending->failure = *broken_;
  boost::system::error_code ec;
  if (!pending->response && !pending->failure) {
    pending->wake.expires_after(timeout);
    ec = std::get<0>(co_await pending->wake.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
  pending_.erase(id);
  const auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
  if (pending->response) {
    if (!pending->response->ok() && pending->response->error().code == error_code::transport_failure)
      co_return make_error(describe_failure(pending->response->error().message));
    co_return std::move(*pending->response);
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
                         std::to_string(timeout.count() / 1000.0).substr(0, 5) + " s");
  co_return make_error("the " + method + " request to MCP server '" + name() + "' was cancelled");
}

namespace {

bool is_unsupported_version(const ErrorObject& e) {
  return e.code == error_code::unsupported_protocol_version || e.code == error_code::unsupported_protocol_version_draft;
}

// The revisions a server lists (data.supported of its refusal, supportedVersions of discover).
std::vector<std::string> listed_versions(const Json* list) {
  std::vector<std::string> out;
  if (list && list->is_array())
    for (const Json& v : *list)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

const Json* supported_in(const ErrorObject& e) {
  if (!e.data || !e.data->is_object()) return nullptr;
  const auto it = e.data->find("supported");
  return it == e.data->end() ? nullptr : &*it;
}

// The first of `ours` (newest first) that the server also lists.
std::optional<std::string> common_version(const std::vector<std::string>& ours, const std::vector<std::string>& theirs) {
  for (const auto& v : ours)
    if (std::find(theirs.begin(), theirs.end(), v) != theirs.end()) return v;
  return std::nullopt;
}

}  // namespace

Json McpClient::client_capabilities() const {
  Json capabilities = Json::object();
  if (options_.on_elicitation) capabilities["elicitation"] = Json{{"form", Json::object()}};
  return capabilities;
}

Json McpClient::with_envelope(Json params) const {
  if (!params.is_object()) params = Json::object();
  Json& meta = params["_meta"];
  if (!meta.is_object()) meta = Json::object();
  meta[meta_key::protocol_version] = stateless_version_;
  meta[meta_key::client_info] = Json{{"name", options_.client_name}, {"version", options_.client_version}};
  meta[meta_key::client_capabilities] = client_capabilities();
  return params;
}

std::string McpClient::refusal(const std::string& method, const ErrorObject& error) const {
  return "MCP server '" + name() + "' refused " + method + ": " + error.message + " (code " + std::to_string(error.code) + ")";
}

Json McpClient::answer_elicitation(const Json& params) const {
  return options_.on_elicitation ? options_.on_elicitation(name(), params) : decline_elicitation(params);
}

void McpClient::warn(const std::string& what) const {
  if (options_.on_warning) options_.on_warning(what);
}

asio::awaitable<Result<Json>> McpClient::request(std::string method, Json params) {
  for (bool retried = false;; retried = true) {
    Json sent = stateless_version_.empty() ? params : with_envelope(params);
    auto answer = co_await exchange(method, std::move(sent), options_.request_timeout);
    if (!answer) co_return Unexpected{answer.error()};
    if (answer->ok()) co_return answer->result();
    const ErrorObject& error = answer->error();
    if (stateless_version_.empty() || !is_unsupported_version(error)) co_return make_error(refusal(method, error));
    const auto theirs = listed_versions(supported_in(error));
    const auto common = common_version(stateless_protocol_versions(), theirs);
    if (!common || retried)
      co_return make_error("MCP server '" + name() + "' refused " + method + " in protocol revision " + stateless_version_ +
                           "; it speaks " + joined(theirs, ", ", "none") + " and Scout speaks " + spoken_protocol_versions());
    stateless_version_ = *common;  // and send it again in that revision
  }
}

asio::awaitable<std::optional<Result<ServerInfo>>> McpClient::discover(std::string version) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    stateless_version_ = version;
    const auto asked = std::chrono::steady_clock::now();
    auto answer = co_await exchange(std::string("server/discover"), with_envelope(Json::object()), options_.probe_timeout);
    if (!answer && !broken_ && std::chrono::steady_clock::now() - asked >= options_.probe_timeout)
      warn("MCP server '" + name() + "' did not answer server/discover within " +
           std::to_string(options_.probe_timeout.count() / 1000.0).substr(0, 4) +
           " s, so it is taken for a server from before the stateless revision (protocol = \"" +
           supported_protocol_versions().front() + "\" in its config skips this wait)");
    std::vector<std::string> theirs;
    if (answer && answer->ok()) {
      const Json& r = answer->result();
      const auto list = r.is_object() ? r.find("supportedVersions") : r.end();
      if (!r.is_object() || list == r.end() || !list->is_array()) break;  // not a discover result
      theirs = listed_versions(&*list);
      if (const auto common = common_version(stateless_protocol_versions(), theirs)) {
        stateless_version_ = *common;
        ServerInfo info;
        info.stateless = true;
        info.protocol_version = *common;
        read_server_info(r, info);
        if (!info.name.empty()) name_ = info.name;
        co_return Result<ServerInfo>(std::move(info));
      }
    } else if (answer && is_unsupported_version(answer->error())) {
      theirs = listed_versions(supported_in(answer->error()));
      const auto common = common_version(stateless_protocol_versions(), theirs);
      if (common && attempt == 0) {
        version = *common;  // ask again in a revision it speaks
        continue;
      }
    } else {
      break;  // an error that is not the stateless revision's, or no answer: an older server
    }
    // A stateless server with no stateless revision in common: one of the initialize-based ones,
    // when it lists any Scout speaks, else nothing will do.
    if (common_version(supported_protocol_versions(), theirs)) break;
    stateless_version_.clear();
    co_return Result<ServerInfo>(make_error("MCP server '" + name() + "' speaks protocol revisions " + joined(theirs, ", ", "none") +
                                            ", none of which Scout speaks (Scout speaks " + spoken_protocol_versions() + ")"));
  }
  stateless_version_.clear();
  co_return std::nullopt;
}

asio::awaitable<void> McpClient::listen_loop() {
  listening_ = true;
  listen_pause_ = std::make_shared<asio::steady_timer>(executor_);
  int quick_ends = 0;
  while (!closed_ && !broken_) {
    const auto opened = std::chrono::steady_clock::now();
    Json params = with_envelope(Json{{"notifications", {{"toolsListChanged", true}}}});
    // Open until either side ends it: no deadline.
    auto answer = co_await exchange(std::string("subscriptions/listen"), std::move(params), std::chrono::hours(24 * 365));
    if (closed_ || broken_) break;
    // The server ended it (or refused it): open it again, unless it keeps ending at once.
    quick_ends = std::chrono::steady_clock::now() - opened > std::chrono::minutes(1) ? 0 : quick_ends + 1;
    if (quick_ends >= 5) {
      const std::string why = !answer ? answer.error().message : !answer->ok() ? answer->error().message : "";
      warn("MCP server '" + name() + "' keeps ending its subscriptions/listen stream" + (why.empty() ? "" : " (" + why + ")") +
           "; changes to its tools will not be noticed");
      break;
    }
    listen_pause_->expires_after(std::chrono::seconds(quick_ends));
    (void)co_await listen_pause_->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  listening_ = false;
}

asio::awaitable<Result<ServerInfo>> McpClient::initialize() {
  const auto& legacy = supported_protocol_versions();
  const auto& stateless = stateless_protocol_versions();
  const std::string wanted = options_.protocol_version;
  auto listed = [](const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  if (!wanted.empty() && listed(legacy, wanted)) co_return co_await handshake(wanted);
  if (!wanted.empty() && !listed(stateless, wanted))
    co_return make_error("protocol revision '" + wanted + "' is not one Scout speaks (Scout speaks " + spoken_protocol_versions() + ")");
  auto found = [&](const char* era) {
    if (options_.on_era_found && options_.known_era != era) options_.on_era_found(era);
  };
  if (wanted.empty() && options_.known_era == "initialize") {
    // Known from before: no probe (a server that ignores unknown requests would cost its whole
    // timeout each time). If the handshake fails, the server may have changed: probe after all.
    auto info = co_await handshake(legacy.front());
    if (info || broken_) co_return info;
  }
  auto discovered = co_await discover(wanted.empty() ? stateless.front() : wanted);
  if (!discovered) {
    if (!wanted.empty())
      co_return make_error("MCP server '" + name() + "' does not answer server/discover, so it does not speak protocol revision " +
                           wanted + "; leave the revision unset to speak what it speaks");
    auto info = co_await handshake(legacy.front());
    if (info) found("initialize");
    co_return info;
  }
  if (*discovered) found("stateless");
  if (*discovered && options_.on_notification) {
    const Json& caps = (*discovered)->capabilities;
    const auto tools = caps.find("tools");
    // Compared as JSON: a server's non-boolean there offers nothing (value(key, false) would throw).
    if (tools != caps.end() && tools->is_object() && tools->value("listChanged", Json()) == true)
      asio::co_spawn(executor_, listen_loop(), asio::detached);
  }
  co_return std::move(*discovered);
}

asio::awaitable<Result<ServerInfo>> McpClient::handshake(std::string version) {
  const auto& versions = supported_protocol_versions();
  Json params = {{"protocolVersion", version},
                 {"capabilities", client_capabilities()},
                 {"clientInfo", {{"name", options_.client_name}, {"version", options_.client_version}}}};
  auto result = co_await request(std::string("initialize"), std::move(params));
  if (!result) co_return Unexpected{result.error()};
  ServerInfo info;
  info.protocol_version = string_field(*result, "protocolVersion");
  if (std::find(versions.begin(), versions.end(), info.protocol_version) == versions.end())
    co_return make_error("MCP server '" + name() + "' speaks protocol revision '" + info.protocol_version +
                         "', which Scout does not (Scout speaks " + spoken_protocol_versions() + ")");
  read_server_info(*result, info);
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
    for (const std::string& notice : transport_->take_notices()) warn(notice);
    const std::string next = string_field(*result, "nextCursor");
    if (next.empty()) co_return tools;
    cursor = next;
  }
  co_return make_error("MCP server '" + name() + "' kept paging tools/list past 1000 pages");
}

asio::awaitable<Result<CallResult>> McpClient::call_tool(std::string tool, Json arguments, ProgressFn on_progress) {
  Json first = {{"name", tool}, {"arguments", arguments}};
  std::string token_key;
  if (on_progress) {
    const Json token = "scout-progress-" + std::to_string(next_progress_token_++);
    first["_meta"] = Json{{"progressToken", token}};
    token_key = token.dump();
    progress_[token_key] = std::move(on_progress);
  }
  // Multi round-trip: an "input required" answer is met with the answers to its questions and
  // the call is sent again (a new request id), until the result is complete.
  constexpr int kMaxRounds = 16;
  Json sent = first;
  Result<Json> result = make_error("");
  for (int round = 0;; ++round) {
    result = co_await request(std::string("tools/call"), sent);
    if (!result) break;
    const auto type_it = result->is_object() ? result->find("resultType") : result->end();
    const std::string type = type_it != result->end() && type_it->is_string() ? type_it->get<std::string>() : "complete";
    if (type == "complete") break;
    if (type != "input_required" && type != "incomplete") {
      result = make_error("MCP server '" + name() + "' answered tools/call " + tool + " with resultType '" + type +
                          "', which Scout does not know");
      break;
    }
    if (round + 1 >= kMaxRounds) {
      result = make_error("MCP server '" + name() + "' still wanted more input for tools/call " + tool + " after " +
                          std::to_string(kMaxRounds) + " rounds");
      break;
    }
    sent = first;
    if (const auto asks = result->find("inputRequests"); asks != result->end() && asks->is_object()) {
      Json answers = Json::object();
      std::optional<std::string> unanswerable;
      for (const auto& [key, ask] : asks->items()) {
        const std::string method = ask.is_object() ? string_field(ask, "method") : std::string();
        const Json ask_params = ask.is_object() ? ask.value("params", Json::object()) : Json::object();
        if (method == "elicitation/create")
          answers[key] = answer_elicitation(ask_params);
        else
          unanswerable = method.empty() ? std::string("an input request without a method") : method;
      }
      if (unanswerable) {
        result = make_error("MCP server '" + name() + "' asked for " + *unanswerable + " during tools/call " + tool +
                            ", which Scout does not provide");
        break;
      }
      sent["inputResponses"] = std::move(answers);
    }
    if (const auto state = result->find("requestState"); state != result->end()) sent["requestState"] = *state;
  }
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
  if (listen_pause_) listen_pause_->cancel();
  // The subscription loop holds this client: let it see the close and end first.
  asio::steady_timer tick(executor_);
  for (int i = 0; listening_ && i < 200; ++i) {
    tick.expires_after(std::chrono::milliseconds(5));
    (void)co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_await transport_->close();
}

}  // namespace scout::plugins::mcp
