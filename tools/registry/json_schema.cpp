#include "tools/registry/json_schema.h"

#include <cmath>
#include <cstddef>
#include <optional>

namespace scout::tools {
namespace {

// Number of Unicode code points in a UTF-8 string: what a schema's minLength/maxLength count.
std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool is_integral(const Json& v) {
  if (v.is_number_integer()) return true;
  // JSON Schema counts 3.0 as an integer; models write it that way often enough.
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

bool matches_type(const std::string& type, const Json& v) {
  if (type == "string") return v.is_string();
  if (type == "integer") return is_integral(v);
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return true;  // an unknown type name constrains nothing rather than rejecting every call
}

// JSON text for messages. Strings that are not UTF-8 (arguments the in-thought protocol takes
// from raw model output) get U+FFFD rather than making dump() throw.
std::string json_text(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string type_list(const Json& type) {
  if (type.is_string()) return type.get<std::string>();
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (i) out += i + 1 == type.size() ? " or " : ", ";
    out += type[i].is_string() ? type[i].get<std::string>() : json_text(type[i]);
  }
  return out;
}

std::string article(const std::string& word) {
  return (!word.empty() && std::string("aeiou").find(word[0]) != std::string::npos) ? "an" : "a";
}

std::string count_text(std::size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// A non-negative count keyword (minLength, maxItems, ...). Schemas written in C++ carry signed
// integers and parsed ones unsigned; both count.
std::optional<std::size_t> count_keyword(const Json& schema, const char* key) {
  auto it = schema.find(key);
  if (it == schema.end() || !it->is_number_integer() || it->get<long long>() < 0) return std::nullopt;
  return it->get<std::size_t>();
}

class Validator {
 public:
  std::vector<SchemaViolation> errors;

  void check(const Json& schema, Json& v, const std::string& path) {
    if (!schema.is_object()) return;  // `true` / `{}`-like schemas accept everything

    if (auto t = schema.find("type"); t != schema.end()) {
      bool ok = false;
      if (t->is_string()) {
        ok = matches_type(t->get<std::string>(), v);
      } else if (t->is_array()) {
        for (const auto& one : *t) ok = ok || (one.is_string() && matches_type(one.get<std::string>(), v));
      } else {
        ok = true;
      }
      if (!ok) {
        std::string want = type_list(*t);
        fail(path, "expected " + article(want) + " " + want + ", got " + describe_json_value(v));
        return;  // further checks would only repeat the same mistake
      }
    }

    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& allowed : *e) found = found || allowed == v;
      if (!found) {
        std::string list;
        for (const auto& allowed : *e) list += (list.empty() ? "" : ", ") + json_text(allowed);
        fail(path, "must be one of " + list + ", got " + describe_json_value(v));
      }
    }
    if (auto c = schema.find("const"); c != schema.end() && *c != v)
      fail(path, "must be " + json_text(*c) + ", got " + describe_json_value(v));

    if (v.is_number()) check_number(schema, v, path);
    if (v.is_string()) check_string(schema, v, path);
    if (v.is_array()) check_array(schema, v, path);
    if (v.is_object()) check_object(schema, v, path);
  }

 private:
  void fail(const std::string& path, const std::string& what) {
    errors.push_back({path, path + ": " + what + "."});
  }

  void check_number(const Json& schema, const Json& v, const std::string& path) {
    double d = v.get<double>();
    auto bound = [&](const char* key) -> const Json* {
      auto it = schema.find(key);
      return it != schema.end() && it->is_number() ? &*it : nullptr;
    };
    if (const Json* m = bound("minimum"); m && d < m->get<double>())
      fail(path, "must be at least " + json_text(*m) + ", got " + json_text(v));
    if (const Json* m = bound("maximum"); m && d > m->get<double>())
      fail(path, "must be at most " + json_text(*m) + ", got " + json_text(v));
    if (const Json* m = bound("exclusiveMinimum"); m && d <= m->get<double>())
      fail(path, "must be greater than " + json_text(*m) + ", got " + json_text(v));
    if (const Json* m = bound("exclusiveMaximum"); m && d >= m->get<double>())
      fail(path, "must be less than " + json_text(*m) + ", got " + json_text(v));
  }

  void check_string(const Json& schema, const Json& v, const std::string& path) {
    std::size_t len = utf8_length(v.get_ref<const std::string&>());
    if (auto m = count_keyword(schema, "minLength"); m && len < *m)
      fail(path, "must be at least " + count_text(*m, "character") + " long, got " + std::to_string(len));
    if (auto m = count_keyword(schema, "maxLength"); m && len > *m)
      fail(path, "must be at most " + count_text(*m, "character") + " long, got " + std::to_string(len));
  }

  void check_array(const Json& schema, Json& v, const std::string& path) {
    if (auto m = count_keyword(schema, "minItems"); m && v.size() < *m)
      fail(path, "must have at least " + count_text(*m, "item") + ", got " + std::to_string(v.size()));
    if (auto m = count_keyword(schema, "maxItems"); m && v.size() > *m)
      fail(path, "must have at most " + count_text(*m, "item") + ", got " + std::to_string(v.size()));
    if (auto items = schema.find("items"); items != schema.end() && items->is_object())
      for (std::size_t i = 0; i < v.size(); ++i) check(*items, v[i], path + "[" + std::to_string(i) + "]");
  }

  void check_object(const Json& schema, Json& v, const std::string& path) {
    static const Json kNoProperties = Json::object();
    auto props_it = schema.find("properties");
    const Json& props = props_it != schema.end() && props_it->is_object() ? *props_it : kNoProperties;

    auto req_it = schema.find("required");
    auto is_required = [&](const std::string& key) {
      if (req_it == schema.end() || !req_it->is_array()) return false;
      for (const auto& r : *req_it) if (r == key) return true;
      return false;
    };

    // Defaults first, so a default that is itself an object gets its own defaults below.
    for (const auto& [key, sub] : props.items())
      if (!v.contains(key) && !is_required(key) && sub.is_object() && sub.contains("default"))
        v[key] = sub["default"];

    if (req_it != schema.end() && req_it->is_array()) {
      for (const auto& r : *req_it) {
        if (!r.is_string() || v.contains(r.get<std::string>())) continue;
        std::string key = r.get<std::string>();
        std::string hint;
        if (auto p = props.find(key); p != props.end() && p->is_object() && p->contains("type"))
          hint = " (" + type_list((*p)["type"]) + ")";
        fail(path + "." + key, "is required but missing" + hint);
      }
    }

    auto additional = schema.find("additionalProperties");
    for (auto& [key, sub] : v.items()) {
      std::string sub_path = path + "." + key;
      if (auto p = props.find(key); p != props.end()) {
        check(*p, sub, sub_path);
      } else if (additional != schema.end() && additional->is_boolean() && !additional->get<bool>()) {
        std::string known;
        for (const auto& [name, unused] : props.items()) known += (known.empty() ? "" : ", ") + name;
        fail(sub_path, "is not a known property; allowed properties are: " +
                           (known.empty() ? std::string("(none)") : known));
      } else if (additional != schema.end() && additional->is_object()) {
        check(*additional, sub, sub_path);
      }
    }
  }
};

}  // namespace

std::string describe_json_value(const Json& value) {
  std::string type;
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean " + json_text(value);
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: type = "integer"; break;
    case Json::value_t::number_float: type = "number"; break;
    case Json::value_t::string: type = "string"; break;
    case Json::value_t::array: return "an array of " + std::to_string(value.size()) + " items";
    case Json::value_t::object: return "an object";
    default: return "a value of unsupported type";
  }
  std::string text = json_text(value);
  if (text.size() > 40) {
    // Cut at a character boundary: the description goes into messages that must stay UTF-8.
    std::size_t cut = 37;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return type + " " + text;
}

std::vector<SchemaViolation> validate_and_apply_defaults(const Json& schema, Json& value,
                                                         const std::string& root) {
  Validator v;
  v.check(schema, value, root);
  return std::move(v.errors);
}

}  // namespace scout::tools
