#include "plugins/mcp/http_headers.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <set>

#include "tools/http/http_client.h"

namespace scout::plugins::mcp {

namespace {

// RFC 9110 tchar.
bool is_token_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  static const std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return c < 0x80 && kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
}

std::string dotted(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

using Visitor = std::function<void(const Json& property, const std::vector<std::string>& path)>;

// Every property (at any depth of nested `properties`) that carries x-mcp-header.
void visit_annotated(const Json& schema, std::vector<std::string>& path, const Visitor& visit) {
  if (!schema.is_object()) return;
  const auto props = schema.find("properties");
  if (props == schema.end() || !props->is_object()) return;
  for (const auto& [key, property] : props->items()) {
    if (!property.is_object()) continue;
    path.push_back(key);
    if (property.contains("x-mcp-header")) visit(property, path);
    visit_annotated(property, path, visit);
    path.pop_back();
  }
}

bool mirrorable_type(const Json& property) {
  static const std::set<std::string> kPrimitive{"string", "integer", "boolean"};
  const auto type = property.find("type");
  if (type == property.end()) return false;
  if (type->is_string()) return kPrimitive.count(type->get<std::string>()) > 0;
  if (!type->is_array()) return false;
  bool any = false;
  for (const Json& t : *type) {
    if (!t.is_string()) return false;
    const std::string name = t.get<std::string>();
    if (name == "null") continue;
    if (!kPrimitive.count(name)) return false;
    any = true;
  }
  return any;
}

const Json* lookup(const Json& arguments, const std::vector<std::string>& path) {
  const Json* at = &arguments;
  for (const auto& key : path) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

}  // namespace

HeaderList standard_request_headers(const std::string& method, const Json* params) {
  HeaderList out{{"Mcp-Method", method}};
  const char* field = method == "tools/call" || method == "prompts/get" ? "name"
                      : method == "resources/read"                     ? "uri"
                                                                       : nullptr;
  if (field && params && params->is_object()) {
    const auto it = params->find(field);
    if (it != params->end() && it->is_string()) out.emplace_back("Mcp-Name", encode_header_value(it->get<std::string>()));
  }
  return out;
}

std::optional<std::string> header_annotation_problem(const Json& input_schema) {
  std::optional<std::string> problem;
  std::set<std::string> seen;  // lower-cased
  std::vector<std::string> path;
  visit_annotated(input_schema, path, [&](const Json& property, const std::vector<std::string>& at) {
    if (problem) return;
    const Json& name = property["x-mcp-header"];
    const std::string where = "the x-mcp-header of parameter '" + dotted(at) + "'";
    if (!name.is_string()) {
      problem = where + " is not a string";
      return;
    }
    const std::string text = name.get<std::string>();
    if (text.empty()) {
      problem = where + " is empty";
      return;
    }
    if (!std::all_of(text.begin(), text.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); })) {
      problem = where + ", '" + text + "', is not an HTTP header token (letters, digits and !#$%&'*+-.^_`|~ only)";
      return;
    }
    if (!mirrorable_type(property)) {
      const auto type = property.find("type");
      problem = where + " is on a parameter of type " + (type == property.end() ? std::string("(none)") : type->dump()) +
                "; only string, integer and boolean parameters may be mirrored into headers";
      return;
    }
    std::string key = text;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!seen.insert(key).second) problem = where + ", '" + text + "', repeats another parameter's header name";
  });
  return problem;
}

HeaderList parameter_headers(const Json& input_schema, const Json& arguments) {
  HeaderList out;
  std::vector<std::string> path;
  visit_annotated(input_schema, path, [&](const Json& property, const std::vector<std::string>& at) {
    const Json& name = property["x-mcp-header"];
    const Json* value = lookup(arguments, at);
    if (!name.is_string() || !value || value->is_null()) return;
    std::string text;
    if (value->is_string()) {
      text = encode_header_value(value->get<std::string>());
    } else if (value->is_boolean()) {
      text = value->get<bool>() ? "true" : "false";
    } else if (value->is_number_integer()) {
      text = value->dump();
    } else if (value->is_number_float()) {
      const double d = value->get<double>();
      // 42.0 is the integer 42 (within JavaScript's safe range); other numbers as JSON writes them.
      text = std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740991.0
                 ? std::to_string(static_cast<long long>(d))
                 : value->dump();
    } else {
      return;  // objects and arrays are never mirrored
    }
    out.emplace_back("Mcp-Param-" + name.get<std::string>(), std::move(text));
  });
  return out;
}

std::string encode_header_value(const std::string& text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7E;
  });
  if (plain && !text.empty() && (text.front() == ' ' || text.back() == ' ')) plain = false;
  const std::string_view prefix = "=?base64?", suffix = "?=";
  if (plain && text.size() >= prefix.size() + suffix.size() && text.compare(0, prefix.size(), prefix) == 0 &&
      text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0)
    plain = false;  // would read as an encoded value
  if (plain) return text;
  return "=?base64?" + tools::http::base64_encode(text) + "?=";
}

std::optional<ErrorObject> stateless_header_problem(const Request& request,
                                                    const std::function<std::string(std::string_view)>& header) {
  auto mismatch = [](std::string message) {
    return ErrorObject{error_code::header_mismatch, "Header mismatch: " + std::move(message), std::nullopt};
  };
  const std::string version = header("MCP-Protocol-Version");
  const std::string declared = declared_protocol_version(request.params);
  if (version.empty()) return mismatch("no MCP-Protocol-Version header");
  if (declared.empty())
    return ErrorObject{error_code::invalid_params, std::string("Invalid params: missing _meta keys: ") + meta_key::protocol_version,
                       std::nullopt};
  if (version != declared) return mismatch("MCP-Protocol-Version is '" + version + "' but _meta says '" + declared + "'");
  const std::string method = header("Mcp-Method");
  if (method.empty()) return mismatch("no Mcp-Method header");
  if (method != request.method) return mismatch("Mcp-Method is '" + method + "' but the body's method is '" + request.method + "'");
  const char* field = request.method == "tools/call" || request.method == "prompts/get" ? "name"
                      : request.method == "resources/read"                             ? "uri"
                                                                                        : nullptr;
  if (!field) return std::nullopt;
  const Json params = request.params.value_or(Json::object());
  const std::string named = params.is_object() && params.value(field, Json()).is_string() ? params[field].get<std::string>() : "";
  const std::string name = header("Mcp-Name");
  if (name.empty()) return mismatch("no Mcp-Name header");
  if (name != named && name != encode_header_value(named))
    return mismatch("Mcp-Name is '" + name + "' but the body's " + field + " is '" + named + "'");
  return std::nullopt;
}

}  // namespace scout::plugins::mcp
