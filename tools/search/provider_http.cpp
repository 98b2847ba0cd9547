#include "tools/search/provider_http.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <boost/asio/this_coro.hpp>

#include "common/json.h"

namespace scout::tools::provider_detail {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::chrono::duration<double>(d).count());
  return buf;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the character reference starting at html[i] == '&'; returns the bytes consumed, 0 when
// it is not one (the '&' is then kept as text).
std::size_t decode_reference(std::string_view html, std::size_t i, std::string& out) {
  const std::size_t semi = html.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  const std::string_view name = html.substr(i + 1, semi - i - 1);
  if (name.size() >= 2 && name[0] == '#') {
    const bool hex = name[1] == 'x' || name[1] == 'X';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    unsigned long cp = 0;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
      if (cp > 0x10FFFF) cp = 0x110000;  // stays invalid, becomes U+FFFD
    }
    append_utf8(out, cp);
    return semi - i + 1;
  }
  static const std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
      {"ndash", "\u2013"}, {"mdash", "\u2014"}, {"hellip", "\u2026"}, {"laquo", "\u00ab"}, {"raquo", "\u00bb"},
  };
  for (const auto& [n, text] : kNamed) {
    if (name == n) {
      out += text;
      return semi - i + 1;
    }
  }
  return 0;
}

// Printable, single-spaced and short: what a server's error text may contribute to a message.
std::string tidy_server_text(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      space = true;
      continue;
    }
    if (c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
    if (out.size() >= 200) {
      // Cut at a UTF-8 character boundary.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out += "...";
      break;
    }
  }
  return out;
}

// The error text a service put in its answer: Brave's error.detail, Tavily's detail.error,
// FastAPI-style detail, or a short plain-text body.
std::string server_message(const http::Response& response) {
  const auto read = parse_json(response.body);
  if (read && read->is_object()) {
    const nlohmann::json& body = *read;
    for (const char* outer : {"error", "detail"}) {
      auto it = body.find(outer);
      if (it == body.end()) continue;
      if (it->is_string()) return tidy_server_text(it->get<std::string>());
      if (it->is_object()) {
        for (const char* inner : {"detail", "error", "message"}) {
          const std::string s = string_at(*it, inner);
          if (!s.empty()) return tidy_server_text(s);
        }
      }
    }
    const std::string message = string_at(body, "message");
    if (!message.empty()) return tidy_server_text(message);
    return "";
  }
  // HTML error pages say little that fits in a sentence; plain text often does.
  if (response.body.find('<') != std::string::npos) return "";
  return tidy_server_text(response.body);
}

std::string http_error_text(const std::string& name, const http::HttpError& error, const HttpProviderOptions& options) {
  using http::ErrorKind;
  switch (error.kind) {
    case ErrorKind::timeout:
      return name + " did not answer within " + seconds_text(options.timeout) + " s (" + error.message + ")";
    case ErrorKind::cancelled:
      return "the search on " + name + " was cancelled";
    case ErrorKind::invalid_url:
      return name + "'s URL is not valid: " + error.message;
    default:
      return name + " could not be reached (" + http::error_kind_name(error.kind) + "): " + error.message;
  }
}

}  // namespace

asio::awaitable<Result<nlohmann::json>> fetch_json(JsonRequest req, const HttpProviderOptions& options) {
  http::Options http_options;
  // The base URL is the user's own configuration: a provider on loopback or the LAN is normal.
  http_options.address_policy.allow_private = true;
  http_options.max_redirects = req.max_redirects;
  http_options.max_body_bytes = options.max_response_bytes;
  http_options.total_timeout = options.timeout;
  http_options.idle_timeout = options.timeout;
  http_options.connect_timeout = std::min<std::chrono::milliseconds>(options.timeout, std::chrono::seconds(10));
  req.request.headers.emplace_back("Accept", "application/json");

  http::Client client(co_await asio::this_coro::executor);
  auto response = co_await client.fetch(std::move(req.request), http_options);
  const std::string& name = req.provider_name;
  if (!response) co_return make_error(redact(http_error_text(name, response.error(), options), options.api_key));

  const int status = response->status;
  if (status < 200 || status > 299) {
    std::string text = name + " answered " + std::to_string(status);
    if (!response->reason.empty()) text += " (" + tidy_server_text(response->reason) + ")";
    if (status >= 300 && status < 400) {
      const auto location = response->header("Location");
      if (!location.empty()) text += ", a redirect to " + tidy_server_text(location) + ": configure that URL instead";
    }
    const std::string hint = req.hint ? req.hint(status) : std::string();
    if (!hint.empty()) text += ": " + hint;
    const std::string said = server_message(*response);
    if (!said.empty()) text += ". The service said: " + said;
    co_return make_error(redact(std::move(text), options.api_key));
  }
  if (response->truncated) {
    co_return make_error(name + " answered with more than " + std::to_string(options.max_response_bytes) +
                         " bytes; the answer was not read");
  }
  auto body = parse_json(response->body);
  if (!body)
    co_return make_error(name + " answered with malformed JSON (" + std::to_string(response->body.size()) +
                         " bytes: " + body.error().message + ")");
  co_return std::move(*body);
}

std::string strip_html(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  for (std::size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      // A tag: from '<' followed by a letter, '/', '!' or '?' to the next '>'. Anything else
      // ("a < b") is text.
      const bool tag = i + 1 < html.size() && (std::isalpha(static_cast<unsigned char>(html[i + 1])) ||
                                               html[i + 1] == '/' || html[i + 1] == '!' || html[i + 1] == '?');
      const std::size_t close = tag ? html.find('>', i) : std::string_view::npos;
      if (close != std::string_view::npos) {
        i = close + 1;
        continue;
      }
    } else if (c == '&') {
      if (std::size_t used = decode_reference(html, i, out)) {
        i += used;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  static constexpr std::string_view kMark = "[redacted]";
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kMark.size()))
    text.replace(at, secret.size(), kMark);
  return text;
}

std::string string_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string join_url(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(base) + "/" + std::string(path);
}

Result<std::vector<SearchResult>> results_with_content(const nlohmann::json& body, std::size_t max_results,
                                                       const std::string& provider_label, const std::string& source,
                                                       const std::string& what_is_it) {
  const auto results = body.is_object() ? body.find("results") : body.end();
  if (!body.is_object() || results == body.end() || !results->is_array())
    return make_error(provider_label + " answered JSON without a \"results\" list" + what_is_it);
  std::vector<SearchResult> out;
  for (const auto& r : *results) {
    if (out.size() >= max_results) break;
    std::string url = string_at(r, "url");
    if (url.empty()) continue;
    out.push_back(SearchResult{string_at(r, "title"), std::move(url), string_at(r, "content"), source});
  }
  return out;
}

}  // namespace scout::tools::provider_detail
