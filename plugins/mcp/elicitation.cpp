#include "plugins/mcp/elicitation.h"

#include <cctype>
#include <istream>
#include <optional>
#include <ostream>

#include "common/text.h"
#include "tools/registry/json_schema.h"

namespace scout::plugins::mcp {

namespace {


// The values an enum field takes: "enum", or the consts of "oneOf"/"anyOf" (titled enums).
std::vector<Json> choices(const Json& field) {
  std::vector<Json> out;
  if (const auto e = field.find("enum"); e != field.end() && e->is_array())
    for (const Json& v : *e) out.push_back(v);
  for (const char* key : {"oneOf", "anyOf"})
    if (const auto e = field.find(key); e != field.end() && e->is_array())
      for (const Json& option : *e)
        if (option.is_object() && option.contains("const")) out.push_back(option["const"]);
  return out;
}

std::string shown(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A member of the server's JSON, which may have any shape: the member when `j` is an object that
// has it, else `fallback` (nlohmann's value() throws on a non-object, and on a member whose type
// is not the fallback's).
Json member(const Json& j, const char* key, Json fallback = Json()) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it == j.end() ? fallback : *it;
}

// A string member, else `fallback`.
std::string text(const Json& j, const char* key, std::string fallback = {}) {
  const Json v = member(j, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

// Reads one answer for a field typed `type`; nullopt with `problem` set when it does not parse.
std::optional<Json> convert(const Json& field, const std::string& answer, std::string& problem) {
  const std::string type = text(field, "type", "string");
  if (type == "array") {
    const Json items = member(field, "items", Json::object());
    const auto allowed = choices(items);
    Json out = Json::array();
    std::size_t start = 0;
    while (start <= answer.size()) {
      const auto comma = answer.find(',', start);
      const std::string piece(trim(answer.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (!piece.empty()) {
        std::optional<Json> chosen;
        for (std::size_t i = 0; i < allowed.size(); ++i)
          if (shown(allowed[i]) == piece || piece == std::to_string(i + 1)) chosen = allowed[i];
        if (!chosen && !allowed.empty()) {
          problem = "'" + piece + "' is not one of the choices";
          return std::nullopt;
        }
        out.push_back(chosen ? *chosen : Json(piece));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  if (const auto allowed = choices(field); !allowed.empty()) {
    for (std::size_t i = 0; i < allowed.size(); ++i)
      if (shown(allowed[i]) == answer || answer == std::to_string(i + 1)) return allowed[i];
    problem = "give one of the choices (its number or its value)";
    return std::nullopt;
  }
  if (type == "boolean") {
    const std::string a = ascii_lower(answer);
    if (a == "y" || a == "yes" || a == "true") return Json(true);
    if (a == "n" || a == "no" || a == "false") return Json(false);
    problem = "answer yes or no";
    return std::nullopt;
  }
  if (type == "integer" || type == "number") {
    try {
      std::size_t used = 0;
      if (type == "integer") {
        const long long v = std::stoll(answer, &used);
        if (used == answer.size()) return Json(v);
      } else {
        const double v = std::stod(answer, &used);
        if (used == answer.size()) return Json(v);
      }
    } catch (const std::exception&) {
    }
    problem = type == "integer" ? "give a whole number" : "give a number";
    return std::nullopt;
  }
  return Json(answer);
}

}  // namespace

Json decline_elicitation(const Json&) { return Json{{"action", "decline"}}; }

std::vector<std::string> apply_elicitation_defaults(const Json& requested_schema, Json& content) {
  if (!content.is_object()) content = Json::object();
  // Required fields with a default take it too (the validator fills optional ones only).
  if (const auto props = requested_schema.find("properties"); props != requested_schema.end() && props->is_object())
    for (const auto& [name, field] : props->items())
      if (!content.contains(name) && field.is_object() && field.contains("default")) content[name] = field["default"];
  std::vector<std::string> problems;
  for (const auto& v : tools::validate_and_apply_defaults(requested_schema, content, "content"))
    problems.push_back(v.message);
  return problems;
}

Json ask_on_terminal(const std::string& server, const Json& params, std::istream& in, std::ostream& out) {
  const Json schema = member(params, "requestedSchema", Json::object());
  const Json props = member(schema, "properties", Json::object());
  std::vector<std::string> required;
  if (const auto r = schema.find("required"); r != schema.end() && r->is_array())
    for (const Json& n : *r)
      if (n.is_string()) required.push_back(n);
  out << "\nMCP server '" << server << "' asks: " << text(params, "message", "(no message)") << "\n";
  if (text(params, "mode", "form") != "form") {
    out << "(Scout answers form requests only; declined)\n";
    return decline_elicitation(params);
  }
  Json content = Json::object();
  std::string line;
  for (const auto& [name, field] : props.items()) {
    if (!props.is_object() || !field.is_object()) continue;
    const bool is_required = std::find(required.begin(), required.end(), name) != required.end();
    const auto allowed = choices(text(field, "type") == "array" ? member(field, "items", Json::object()) : field);
    std::string label = text(field, "title", name);
    if (!allowed.empty()) {
      label += " (";
      for (std::size_t i = 0; i < allowed.size(); ++i) label += (i ? ", " : "") + std::to_string(i + 1) + "=" + shown(allowed[i]);
      label += ")";
    } else if (text(field, "type") == "boolean") {
      label += " (y/n)";
    }
    if (field.contains("default")) label += " [" + shown(field["default"]) + "]";
    else if (!is_required) label += " [optional]";
    if (const std::string d = text(field, "description"); !d.empty()) out << "  " << d << "\n";
    for (int attempt = 0;; ++attempt) {
      out << "  " << label << ": " << std::flush;
      if (!std::getline(in, line)) {
        out << "\n(no answer: cancelled)\n";
        return Json{{"action", "cancel"}};
      }
      line = std::string(trim(line));
      if (line == "?") {
        out << "  " << text(field, "description", "(no description)") << "\n";
        continue;
      }
      if (line.empty()) {
        if (field.contains("default") || !is_required) break;  // the default is filled in below
        out << "  (required)\n";
        continue;
      }
      std::string problem;
      if (auto value = convert(field, line, problem)) {
        content[name] = std::move(*value);
        break;
      }
      out << "  (" << problem << ")\n";
    }
  }
  const auto problems = apply_elicitation_defaults(schema, content);
  if (!problems.empty()) {
    out << "  The answers do not fit what the server asked for: " << problems.front() << " — declined\n";
    return decline_elicitation(params);
  }
  out << "  Send " << content.dump(-1, ' ', false, Json::error_handler_t::replace) << " to '" << server << "'? [Y/n] "
      << std::flush;
  if (!std::getline(in, line)) return Json{{"action", "cancel"}};
  if (ascii_lower(trim(line)).rfind('n', 0) == 0) return decline_elicitation(params);
  return Json{{"action", "accept"}, {"content", content}};
}

}  // namespace scout::plugins::mcp
