#include "plugins/mcp/jsonrpc.h"

#include "common/json.h"

namespace scout::plugins::mcp {

namespace {

// The start of `text`, for error messages.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 120;
  std::string out(text.substr(0, kMax));
  if (text.size() > kMax) out += "…";
  return out;
}

Error invalid(const std::string& what, std::string_view text) {
  return Error{"not a valid JSON-RPC message (" + what + "): " + excerpt(text)};
}

}  // namespace

std::string id_text(const RequestId& id) {
  if (const auto* n = std::get_if<std::int64_t>(&id)) return std::to_string(*n);
  return Json(std::get<std::string>(id)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::int64_t refusal_code(std::string_view text) {
  const bool json = !json_nests_deeper_than(text, kMaxJsonDepth) && Json::accept(text);
  return json ? error_code::invalid_request : error_code::parse_error;
}

Result<Message> parse_message(std::string_view text) {
  auto parsed = parse_json<Json>(text);
  if (!parsed) return Unexpected{invalid("not JSON: " + parsed.error().message, text)};
  Json& j = *parsed;
  if (j.is_array()) return Unexpected{invalid("a batch: MCP sends one message at a time", text)};
  if (!j.is_object()) return Unexpected{invalid("not a JSON object", text)};
  const auto version = j.find("jsonrpc");
  if (version == j.end() || !version->is_string() || version->get<std::string>() != "2.0")
    return Unexpected{invalid("\"jsonrpc\" is not \"2.0\"", text)};

  std::optional<RequestId> id;
  if (const auto it = j.find("id"); it != j.end()) {
    if (it->is_number_integer()) {
      id = it->get<std::int64_t>();
    } else if (it->is_string()) {
      id = it->get<std::string>();
    } else {
      return Unexpected{invalid("\"id\" must be a string or an integer", text)};
    }
  }
  std::optional<Json> params;
  if (const auto it = j.find("params"); it != j.end()) {
    if (!it->is_object() && !it->is_array()) return Unexpected{invalid("\"params\" must be an object", text)};
    params = *it;
  }

  if (const auto method = j.find("method"); method != j.end()) {
    if (!method->is_string() || method->get<std::string>().empty())
      return Unexpected{invalid("\"method\" must be a non-empty string", text)};
    if (j.contains("result") || j.contains("error"))
      return Unexpected{invalid("a request cannot carry \"result\" or \"error\"", text)};
    if (id) return Message{Request{*id, method->get<std::string>(), std::move(params)}};
    return Message{Notification{method->get<std::string>(), std::move(params)}};
  }

  // A response.
  if (!id) return Unexpected{invalid("neither \"method\" nor \"id\"", text)};
  const auto result = j.find("result");
  const auto error = j.find("error");
  if ((result == j.end()) == (error == j.end()))
    return Unexpected{invalid("a response needs exactly one of \"result\" and \"error\"", text)};
  if (result != j.end()) return Message{Response{*id, *result}};
  if (!error->is_object()) return Unexpected{invalid("\"error\" must be an object", text)};
  const auto code = error->find("code");
  const auto message = error->find("message");
  if (code == error->end() || !code->is_number_integer())
    return Unexpected{invalid("\"error\" has no integer \"code\"", text)};
  if (message == error->end() || !message->is_string())
    return Unexpected{invalid("\"error\" has no string \"message\"", text)};
  ErrorObject e{code->get<std::int64_t>(), message->get<std::string>(), std::nullopt};
  if (const auto data = error->find("data"); data != error->end()) e.data = *data;
  return Message{Response{*id, std::move(e)}};
}

std::string serialize(const Message& message) {
  Json j = Json::object();
  j["jsonrpc"] = "2.0";
  auto put_id = [&](const RequestId& id) {
    if (const auto* n = std::get_if<std::int64_t>(&id)) {
      j["id"] = *n;
    } else {
      j["id"] = std::get<std::string>(id);
    }
  };
  if (const auto* r = std::get_if<Request>(&message)) {
    put_id(r->id);
    j["method"] = r->method;
    if (r->params) j["params"] = *r->params;
  } else if (const auto* n = std::get_if<Notification>(&message)) {
    j["method"] = n->method;
    if (n->params) j["params"] = *n->params;
  } else {
    const auto& resp = std::get<Response>(message);
    put_id(resp.id);
    if (resp.ok()) {
      j["result"] = resp.result();
    } else {
      Json e = {{"code", resp.error().code}, {"message", resp.error().message}};
      if (resp.error().data) e["data"] = *resp.error().data;
      j["error"] = std::move(e);
    }
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::vector<std::string> LineFramer::feed(std::string_view bytes) {
  std::vector<std::string> lines;
  if (failed_) return lines;
  pending_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = pending_.find('\n', start);
    if (end == std::string::npos) break;
    std::size_t stop = end;
    if (stop > start && pending_[stop - 1] == '\r') --stop;
    if (stop > start) lines.emplace_back(pending_, start, stop - start);
    start = end + 1;
  }
  pending_.erase(0, start);
  if (pending_.size() > max_) {
    failed_ = true;
    error_ = "a message longer than " + std::to_string(max_) + " bytes without a line end";
    pending_.clear();
  }
  return lines;
}

std::string declared_protocol_version(const std::optional<Json>& params) {
  if (!params || !params->is_object()) return {};
  const auto meta = params->find("_meta");
  if (meta == params->end() || !meta->is_object()) return {};
  const auto v = meta->find(meta_key::protocol_version);
  return v != meta->end() && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace scout::plugins::mcp
