#include "cli/tool_view.h"

#include <algorithm>
#include <iostream>
#include <string>

namespace scout::cli {

namespace {

using tools::Json;

// "integer 1..20, default 5" for one property of a schema.
std::string describe_property(const Json& p, bool required) {
  std::string text = p.contains("type") ? (p["type"].is_string() ? p["type"].get<std::string>() : p["type"].dump()) : "any";
  if (p.contains("enum")) text += " " + p["enum"].dump();
  if (p.contains("minimum") || p.contains("maximum"))
    text += " " + (p.contains("minimum") ? p["minimum"].dump() : std::string()) + ".." +
            (p.contains("maximum") ? p["maximum"].dump() : std::string());
  text += required ? ", required" : "";
  if (p.contains("default")) text += ", default " + p["default"].dump();
  return text;
}

}  // namespace

void print_tools(const std::vector<tools::ToolInfo>& infos, bool json) {
  if (json) {
    Json out = Json::array();
    for (const auto& t : infos)
      out.push_back(Json{{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}, {"origin", t.origin}});
    std::cout << out.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return;
  }
  for (const auto& t : infos) {
    std::cout << t.name << "\n    " << t.description << "\n";
    if (!t.origin.empty() && t.origin != "built-in") std::cout << "    origin: " << t.origin << "\n";
    const Json& params = t.parameters;
    if (!params.contains("properties") || !params["properties"].is_object()) continue;
    std::vector<std::string> required;
    if (params.contains("required") && params["required"].is_array())
      for (const auto& r : params["required"])
        if (r.is_string()) required.push_back(r.get<std::string>());
    for (const auto& [key, p] : params["properties"].items()) {
      const bool is_required = std::find(required.begin(), required.end(), key) != required.end();
      std::cout << "    - " << key << " (" << describe_property(p, is_required) << ")";
      if (p.contains("description") && p["description"].is_string()) std::cout << ": " << p["description"].get<std::string>();
      std::cout << "\n";
    }
    std::cout << "\n";
  }
}

void print_output(const tools::ToolOutput& out, bool json) {
  if (json) {
    Json j{{"is_error", out.is_error}, {"text", out.text}, {"structured", out.structured.value_or(Json())}};
    // Tool text can hold bytes that are not UTF-8 (program output, documents): replace them.
    std::cout << j.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    std::cout << out.text;
    if (!out.text.empty() && out.text.back() != '\n') std::cout << "\n";
  }
  std::cout.flush();
}

}  // namespace scout::cli
