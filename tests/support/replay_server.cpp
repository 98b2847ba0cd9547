#include "tests/support/replay_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace scout::test {

namespace {

// The script is read into ordered JSON so that tool call arguments are sent in the order the
// script writes them, as a model would write them.
using json = nlohmann::ordered_json;
using ojson = nlohmann::ordered_json;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// `text` in pieces of at most `n` code points, never splitting one.
std::vector<std::string> pieces(std::string_view text, int n) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = start;
    for (int points = 0; points < n && end < text.size(); ++points) {
      ++end;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    }
    out.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string sse(const ojson& payload) { return "data: " + payload.dump() + "\n\n"; }

std::string http_chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

std::string error_body(std::string_view message, std::string_view type) {
  return ojson{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}}.dump();
}

}  // namespace

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

nlohmann::json RecordedRequest::json() const { return nlohmann::json::parse(body, nullptr, false); }

struct ReplayServer::State {
  std::string model = "replay-model";
  int chunk_chars = 8;
  std::vector<json> responses;
  Options options;

  mutable std::mutex mu;  // guards everything below
  std::size_t next = 0;
  std::vector<RecordedRequest> requests;
  int completion_counter = 0;

  void handle(const HttpExchange& request, RawConnection& conn);
  void serve_turn(const json& entry, const json& request_body, int completion, RawConnection& conn,
                  bool text_completion) const;
  void serve_fault(const json& entry, RawConnection& conn) const;
  ojson chunk(int completion, ojson delta, const json& finish_reason, bool text_completion = false) const;
};

ojson ReplayServer::State::chunk(int completion, ojson delta, const json& finish_reason, bool text_completion) const {
  if (text_completion) {  // /v1/completions: the text alone, no delta object
    return {{"id", "cmpl-replay-" + std::to_string(completion)},
            {"object", "text_completion"},
            {"created", 1700000000},
            {"model", model},
            {"choices", {{{"index", 0}, {"text", delta.value("content", "")}, {"logprobs", nullptr},
                          {"finish_reason", finish_reason}}}}};
  }
  return {{"id", "chatcmpl-replay-" + std::to_string(completion)},
          {"object", "chat.completion.chunk"},
          {"created", 1700000000},
          {"model", model},
          {"system_fingerprint", nullptr},
          {"choices",
           {{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}}}};
}

void ReplayServer::State::handle(const HttpExchange& request, RawConnection& conn) {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (request.method == "GET" && path == "/v1/models") {
    const ojson entry = {{"id", model}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "replay"}};
    const ojson list = {{"object", "list"}, {"data", ojson::array({entry})}};
    conn.write(http_response(200, "application/json", list.dump()));
    return;
  }
  if (request.method != "POST" || (path != "/v1/chat/completions" && path != "/v1/completions")) {
    conn.write(http_response(404, "application/json",
                             error_body("no route for " + request.method + " " + path, "invalid_request_error")));
    return;
  }

  json entry;
  int completion = 0;
  std::size_t index = 0;
  {
    std::lock_guard lock(mu);
    requests.push_back(RecordedRequest{request.method, request.target, request.headers, request.body});
    if (!options.request_log.empty()) {
      ojson line = {{"method", request.method}, {"target", request.target}, {"headers", ojson::object()}};
      for (const auto& [k, v] : request.headers) line["headers"][k] = v;
      const ojson body = ojson::parse(request.body, nullptr, false);
      line["body"] = body.is_discarded() ? ojson(request.body) : body;
      std::ofstream(options.request_log, std::ios::app) << line.dump(-1, ' ', false, ojson::error_handler_t::replace)
                                                        << "\n";
    }
    index = next;
    if (next < responses.size()) entry = responses[next++];
    completion = ++completion_counter;
  }
  if (entry.is_null()) {
    conn.write(http_response(400, "application/json",
                             error_body("the replay script has no response left for request " +
                                            std::to_string(index + 1),
                                        "invalid_request_error")));
    return;
  }
  if (entry.contains("status") || entry.contains("raw") || entry.contains("raw_http") || entry.contains("drop")) {
    serve_fault(entry, conn);
  } else {
    serve_turn(entry, json::parse(request.body, nullptr, false), completion, conn, path == "/v1/completions");
  }
}

void ReplayServer::State::serve_fault(const json& entry, RawConnection& conn) const {
  if (entry.value("drop", false)) {
    conn.close();
    return;
  }
  if (entry.contains("raw_http")) {
    conn.write(entry["raw_http"].get<std::string>());
    conn.close();
    return;
  }
  if (entry.contains("raw")) {
    const std::string& raw = entry["raw"].get_ref<const std::string&>();
    conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
    if (!raw.empty()) conn.write(http_chunk(raw));
    conn.write("0\r\n\r\n");
    return;
  }
  const int status = entry["status"].get<int>();
  std::vector<std::pair<std::string, std::string>> headers;
  if (entry.contains("retry_after")) {
    const json& ra = entry["retry_after"];
    headers.emplace_back("Retry-After", ra.is_string() ? ra.get<std::string>() : ra.dump());
  }
  if (entry.contains("headers")) {
    for (const auto& [k, v] : entry["headers"].items()) headers.emplace_back(k, v.get<std::string>());
  }
  std::string body;
  if (!entry.contains("body")) {
    body = error_body(std::string(reason(status)) + " (replayed)", status == 429 ? "rate_limit_error" : "server_error");
  } else if (entry["body"].is_string()) {
    body = entry["body"].get<std::string>();
  } else {
    body = entry["body"].dump();
  }
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  response += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers) response += k + ": " + v + "\r\n";
  response += "\r\n" + body;
  conn.write(response);
}

void ReplayServer::State::serve_turn(const json& entry, const json& request_body, int completion, RawConnection& conn,
                                     bool text_completion) const {
  auto chunk = [&](int n, ojson delta, const json& finish_reason) {
    return this->chunk(n, std::move(delta), finish_reason, text_completion);
  };
  const bool stream = request_body.is_object() && request_body.value("stream", false);
  const bool include_usage = stream && request_body.contains("stream_options") &&
                             request_body["stream_options"].is_object() &&
                             request_body["stream_options"].value("include_usage", false);
  const std::string reasoning = entry.value("reasoning", "");
  const std::string reasoning_field = entry.value("reasoning_field", "reasoning_content");
  const std::string content = entry.value("content", "");
  const json calls = entry.value("tool_calls", json::array());
  const json finish_reason = entry.contains("finish_reason") ? entry["finish_reason"]
                                                              : json(calls.empty() ? "stop" : "tool_calls");
  auto arguments_text = [](const json& call) {
    const json& a = call.contains("arguments") ? call["arguments"] : json::object();
    return a.is_string() ? a.get<std::string>() : a.dump();
  };

  if (!stream) {
    ojson message = {{"role", "assistant"}, {"content", content}};
    if (!reasoning.empty()) message[reasoning_field] = reasoning;
    if (!calls.empty()) {
      message["tool_calls"] = ojson::array();
      for (const json& call : calls) {
        const ojson function = {{"name", call.value("name", "")}, {"arguments", arguments_text(call)}};
        message["tool_calls"].push_back({{"id", call.value("id", "")}, {"type", "function"}, {"function", function}});
      }
    }
    ojson body = {{"id", "chatcmpl-replay-" + std::to_string(completion)},
                  {"object", "chat.completion"},
                  {"created", 1700000000},
                  {"model", model},
                  {"choices", ojson::array({ojson{{"index", 0},
                                                  {"message", message},
                                                  {"logprobs", nullptr},
                                                  {"finish_reason", finish_reason}}})}};
    if (entry.contains("usage")) body["usage"] = entry["usage"];
    conn.write(http_response(200, "application/json", body.dump()));
    return;
  }

  std::vector<std::string> events;
  events.push_back(sse(chunk(completion, {{"role", "assistant"}, {"content", ""}}, nullptr)));
  for (const std::string& p : pieces(reasoning, chunk_chars))
    events.push_back(sse(chunk(completion, {{reasoning_field, p}}, nullptr)));
  for (const std::string& p : pieces(content, chunk_chars))
    events.push_back(sse(chunk(completion, {{"content", p}}, nullptr)));

  // Tool calls: the first delta of each carries its id and name, the rest argument fragments.
  std::vector<std::vector<std::string>> call_events(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const json& call = calls[i];
    ojson first = {{"index", i}, {"id", call.value("id", "")}, {"type", "function"},
                   {"function", {{"name", call.value("name", "")}, {"arguments", ""}}}};
    call_events[i].push_back(sse(chunk(completion, {{"tool_calls", {first}}}, nullptr)));
    for (const std::string& p : pieces(arguments_text(call), chunk_chars)) {
      ojson fragment = {{"index", i}, {"function", {{"arguments", p}}}};
      call_events[i].push_back(sse(chunk(completion, {{"tool_calls", {fragment}}}, nullptr)));
    }
  }
  if (entry.value("interleave_tool_calls", false)) {
    for (std::size_t step = 0;; ++step) {
      bool any = false;
      for (const auto& list : call_events) {
        if (step < list.size()) {
          events.push_back(list[step]);
          any = true;
        }
      }
      if (!any) break;
    }
  } else {
    for (const auto& list : call_events) events.insert(events.end(), list.begin(), list.end());
  }
  events.push_back(sse(chunk(completion, ojson::object(), finish_reason)));
  if (include_usage && entry.contains("usage")) {
    ojson last = chunk(completion, ojson::object(), nullptr);
    last["choices"] = ojson::array();
    last["usage"] = entry["usage"];
    events.push_back(sse(last));
  }
  if (entry.contains("error_after_chunks")) {
    const std::size_t at = std::min<std::size_t>(entry["error_after_chunks"].get<std::size_t>(), events.size());
    events.resize(at);
    events.push_back(sse(ojson{{"error", entry.value("error", json{{"message", "replayed stream error"}})}}));
  }
  if (!entry.value("omit_done", false)) events.push_back("data: [DONE]\n\n");

  if (!conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n")) {
    return;
  }
  const std::size_t cut = entry.value("cut_after_chunks", events.size() + 1);
  const std::size_t stall = entry.value("stall_after_chunks", events.size() + 1);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i == cut) {
      conn.close();  // mid-body: no terminating chunk
      return;
    }
    if (i == stall) {
      while (conn.sleep_for(std::chrono::hours(1))) {
      }
      conn.close();
      return;
    }
    if (!conn.write(http_chunk(events[i]))) return;
  }
  conn.write("0\r\n\r\n");
}

ReplayServer::ReplayServer(std::string_view script_json) : ReplayServer(script_json, Options{}) {}

ReplayServer::ReplayServer(std::string_view script_json, Options options) : state_(std::make_shared<State>()) {
  const json script = json::parse(script_json, nullptr, false);
  if (script.is_discarded()) throw std::invalid_argument("replay script: not JSON");
  json responses;
  if (script.is_array()) {
    responses = script;
  } else if (script.is_object() && script.contains("responses") && script["responses"].is_array()) {
    responses = script["responses"];
    state_->model = script.value("model", state_->model);
    state_->chunk_chars = script.value("chunk_chars", state_->chunk_chars);
  } else {
    throw std::invalid_argument("replay script: expected an array of responses or {\"responses\": [...]}");
  }
  if (state_->chunk_chars < 1) throw std::invalid_argument("replay script: chunk_chars must be at least 1");
  for (std::size_t i = 0; i < responses.size(); ++i) {
    const json& entry = responses[i];
    const std::string where = "replay script: response " + std::to_string(i + 1);
    if (!entry.is_object()) throw std::invalid_argument(where + " is not an object");
    if (entry.contains("status") && !entry["status"].is_number_integer())
      throw std::invalid_argument(where + ": \"status\" must be an integer");
    for (const char* key : {"raw", "raw_http", "reasoning", "content"}) {
      if (entry.contains(key) && !entry[key].is_string())
        throw std::invalid_argument(where + ": \"" + key + "\" must be a string");
    }
    if (entry.contains("tool_calls") && !entry["tool_calls"].is_array())
      throw std::invalid_argument(where + ": \"tool_calls\" must be an array");
    for (const char* key : {"cut_after_chunks", "stall_after_chunks", "error_after_chunks"}) {
      if (entry.contains(key) && !entry[key].is_number_unsigned())
        throw std::invalid_argument(where + ": \"" + std::string(key) + "\" must be a non-negative integer");
    }
  }
  state_->responses = responses.get<std::vector<json>>();
  state_->options = std::move(options);
  // The handler holds the state, not the ReplayServer, so it stays valid however the two are
  // destroyed; server_ is destroyed first (declared last), joining every handler thread.
  server_ = std::make_unique<LocalHttpServer>(
      [state = state_](const HttpExchange& request, RawConnection& conn) { state->handle(request, conn); });
}

ReplayServer::~ReplayServer() = default;

std::uint16_t ReplayServer::port() const { return server_->port(); }

std::string ReplayServer::base_url() const { return server_->url("/v1"); }

std::vector<RecordedRequest> ReplayServer::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->requests;
}

int ReplayServer::responses_used() const {
  std::lock_guard lock(state_->mu);
  return static_cast<int>(state_->next);
}

}  // namespace scout::test
