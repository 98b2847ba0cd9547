#include "tools/search/web_search_tool.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace scout::tools {
namespace {

constexpr int kMaxResultsLimit = 20;

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF included).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

std::string quoted_query(const std::string& q) { return tidy_line(q, 200); }

Json result_json(const SearchResult& r) {
  return Json{{"title", tidy_line(r.title, 1000)},
              {"url", tidy_line(r.url, 4000)},
              {"snippet", tidy_line(r.snippet, 4000)},
              {"source", r.source}};
}

}  // namespace

std::string tidy_line(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars * 4 + 3));
  std::size_t chars = 0;
  std::size_t last_space = std::string::npos;  // byte offset in `out` of the last space kept
  bool pending_space = false;
  bool cut = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_length(text, i);
    const bool nbsp = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) == 0xA0;
    if (n == 1 && (c <= 0x20 || c == 0x7F)) {
      pending_space = true;
      ++i;
      continue;
    }
    if (nbsp) {
      pending_space = true;
      i += 2;
      continue;
    }
    if (pending_space && !out.empty()) {
      if (chars >= max_chars) {
        cut = true;
        break;
      }
      last_space = out.size();
      out += ' ';
      ++chars;
    }
    pending_space = false;
    if (chars >= max_chars) {
      cut = true;
      break;
    }
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that does not start valid UTF-8
      n = 1;
    } else {
      out.append(text.substr(i, n));
    }
    ++chars;
    i += n;
  }
  if (cut) {
    // Prefer ending at a word boundary when one is near the end.
    if (last_space != std::string::npos && last_space * 5 >= out.size() * 4) out.resize(last_space);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "...";
  }
  return out;
}

WebSearchTool::WebSearchTool(std::shared_ptr<SearchProvider> provider, WebSearchOptions options)
    : provider_(std::move(provider)), options_(options) {
  assert(provider_);
  options_.default_max_results = std::clamp(options_.default_max_results, 1, kMaxResultsLimit);
}

std::string WebSearchTool::description() const {
  if (provider_->id() == "offline") {
    return "Search the local document collection (an offline full-text index) for a query and return the best "
           "matches, each with its title, file:// URL and a snippet. Use a few specific keywords.";
  }
  return "Search the web (via " + provider_->name() +
         ") and return the best matches, each with its title, URL and a snippet. Use a few specific keywords; "
         "read a promising page in full with fetch_url.";
}

Json WebSearchTool::parameters() const {
  return Json{{"type", "object"},
              {"properties",
               {{"query", {{"type", "string"}, {"minLength", 1}, {"description", "What to search for: a few specific keywords."}}},
                {"max_results",
                 {{"type", "integer"},
                  {"minimum", 1},
                  {"maximum", kMaxResultsLimit},
                  {"default", options_.default_max_results},
                  {"description", "How many results to return."}}}}},
              {"required", Json::array({"query"})},
              {"additionalProperties", false}};
}

asio::awaitable<ToolOutput> WebSearchTool::invoke(Json arguments, ToolContext /*ctx*/) {
  // The registry has validated the arguments; a direct caller that skipped it still gets a
  // clear message rather than an exception.
  const auto q = arguments.is_object() ? arguments.find("query") : arguments.end();
  if (!arguments.is_object() || q == arguments.end() || !q->is_string())
    co_return ToolOutput::failure("web_search needs a string 'query'.");
  const std::string query = tidy_line(q->get<std::string>(), 1000);
  if (query.empty()) co_return ToolOutput::failure("web_search needs a query with at least one word.");
  int max_results = options_.default_max_results;
  if (auto m = arguments.find("max_results"); m != arguments.end() && m->is_number_integer()) max_results = m->get<int>();
  max_results = std::clamp(max_results, 1, kMaxResultsLimit);

  auto results = co_await provider_->search(query, static_cast<std::size_t>(max_results));
  if (!results) {
    co_return ToolOutput::failure("web_search failed: " + results.error().message,
                                  Json{{"provider", provider_->id()}, {"error", results.error().message}});
  }
  auto& list = results.value();
  if (list.size() > static_cast<std::size_t>(max_results)) list.resize(static_cast<std::size_t>(max_results));
  co_return format_search_results(query, provider_->name(), list, options_);
}

ToolOutput format_search_results(const std::string& query, const std::string& provider_name,
                                 const std::vector<SearchResult>& results, const WebSearchOptions& options) {
  Json structured = Json::array();
  if (results.empty()) {
    return ToolOutput::success("No results for \"" + quoted_query(query) + "\" from " + provider_name +
                                   ". Try fewer or more general words, or different terms for the same thing.",
                               structured);
  }
  std::string text;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const SearchResult& r = results[i];
    std::string title = tidy_line(r.title, options.max_title_chars);
    if (title.empty()) title = "(untitled)";
    if (i > 0) text += "\n";
    text += std::to_string(i + 1) + ". " + title + "\n   " + tidy_line(r.url, 2000) + "\n";
    const std::string snippet = tidy_line(r.snippet, options.max_snippet_chars);
    if (!snippet.empty()) text += "   " + snippet + "\n";
    structured.push_back(result_json(r));
  }
  return ToolOutput::success(std::move(text), std::move(structured));
}

}  // namespace scout::tools
