#include "tools/fetch/fetch_url_tool.h"

#include <algorithm>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tools/fetch/content_decode.h"
#include "tools/registry/run_blocking.h"
#include "tools/search/text_extract.h"

namespace scout::tools {
namespace {

using fetch::ContentKind;

// A fetched body as text, made on a worker thread.
struct Rendered {
  std::string error;  // set when the document could not be read (a broken PDF)
  std::string title;
  std::string text;
  std::string charset;
  std::string charset_source;
  std::size_t replaced = 0;
  int pages = 0;
  bool text_truncated = false;
};

Rendered render(const std::string& body, ContentKind kind, const std::string& header_charset, std::size_t max_chars) {
  Rendered out;
  if (kind == ContentKind::pdf) {
    // Extraction stops a little past the cap in bytes; the cut to characters comes after.
    auto pdf = fetch::pdf_to_text(body, max_chars * 4 + 16);
    if (!pdf) {
      out.error = pdf.error().message;
      return out;
    }
    out.title = std::move(pdf->title);
    out.pages = pdf->pages;
    out.text_truncated = pdf->text_truncated;
    // poppler hands back UTF-8, but the bytes still pass through the repairing decoder.
    auto decoded = fetch::decode_to_utf8(pdf->text, "utf-8", false);
    out.text = std::move(decoded.text);
    out.replaced = decoded.replaced;
  } else {
    auto decoded = fetch::decode_to_utf8(body, header_charset, kind == ContentKind::html);
    out.charset = decoded.charset;
    out.charset_source = decoded.charset_source;
    out.replaced = decoded.replaced;
    if (kind == ContentKind::html) {
      ExtractedDocument doc = extract_html(decoded.text);
      out.title = std::move(doc.title);
      out.text = std::move(doc.text);
    } else {
      if (kind == ContentKind::markdown) out.title = extract_markdown(decoded.text).title;
      out.text = std::move(decoded.text);
    }
  }
  bool cut = false;
  out.text = fetch::truncate_utf8(out.text, max_chars, cut);
  out.text_truncated = out.text_truncated || cut;
  if (!out.text_truncated) {
    while (!out.text.empty() && (out.text.back() == '\n' || out.text.back() == ' ')) out.text.pop_back();
  }
  return out;
}

std::string hint_for(http::ErrorKind kind) {
  switch (kind) {
    case http::ErrorKind::refused_address:
      return "fetch_url only reads pages on the public internet; this address is not allowed.";
    case http::ErrorKind::invalid_url: return "Give a complete http:// or https:// URL.";
    case http::ErrorKind::resolve: return "Check the host name for typos, or search for the right address.";
    case http::ErrorKind::connect: return "The server may be down; try again later or use another source.";
    case http::ErrorKind::tls: return "The site's certificate could not be verified, so the page cannot be read safely.";
    case http::ErrorKind::timeout: return "The server was too slow; try again later or use another source.";
    case http::ErrorKind::protocol:
    case http::ErrorKind::closed: return "The server sent a broken response; try again later or use another source.";
    case http::ErrorKind::too_many_redirects: return "The page keeps redirecting; try another URL for it.";
    case http::ErrorKind::cancelled: return "";
  }
  return "";
}

std::string hint_for_status(int status) {
  if (status == 404 || status == 410) return "The page does not exist; check the URL or search for the page.";
  if (status == 401 || status == 403) return "The site refuses access (it may need a login or block automated clients); use another source.";
  if (status == 429) return "The site is rate limiting requests; try again later or use another source.";
  if (status >= 500) return "The server failed; try again later or use another source.";
  if (status >= 300 && status < 400) return "It is a redirect with nowhere to go; try another URL for the page.";
  return "Use another source.";
}

std::string one_line(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    const bool space = c == '\n' || c == '\r' || c == '\t';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  bool cut = false;
  return fetch::truncate_utf8(out, max, cut);
}

const char* kind_label(ContentKind kind) {
  switch (kind) {
    case ContentKind::html: return "HTML";
    case ContentKind::markdown: return "Markdown";
    case ContentKind::text: return "text";
    case ContentKind::json: return "JSON";
    case ContentKind::pdf: return "PDF";
    case ContentKind::unsupported: return "unsupported";
  }
  return "";
}

}  // namespace

FetchUrlTool::FetchUrlTool(FetchUrlOptions options)
    : options_(std::move(options)), workers_(static_cast<std::size_t>(std::max(1, options_.worker_threads))) {
  options_.max_body_bytes = std::max<std::size_t>(options_.max_body_bytes, 1);
  options_.default_max_bytes = std::clamp<std::size_t>(options_.default_max_bytes, 1, options_.max_body_bytes);
}

FetchUrlTool::~FetchUrlTool() { workers_.join(); }

std::string FetchUrlTool::description() const {
  return "Read one web page, text file or PDF by URL and return its text (with the page title). Use it to read a "
         "search result in full. Only public http:// and https:// addresses; images and other binary files are not "
         "supported.";
}

Json FetchUrlTool::parameters() const {
  return Json{
      {"type", "object"},
      {"properties",
       {{"url", {{"type", "string"}, {"minLength", 1}, {"description", "The full http:// or https:// URL to read."}}},
        {"max_bytes",
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", options_.max_body_bytes},
          {"default", options_.default_max_bytes},
          {"description", "How much of the response to download, in bytes (default " +
                              std::to_string(options_.default_max_bytes) + ", at most " +
                              std::to_string(options_.max_body_bytes) +
                              "). Raise it for a long PDF that comes back truncated."}}}}},
      {"required", Json::array({"url"})},
      {"additionalProperties", false}};
}

asio::awaitable<ToolOutput> FetchUrlTool::invoke(Json arguments, ToolContext /*ctx*/) {
  if (!arguments.is_object() || !arguments.contains("url") || !arguments["url"].is_string())
    co_return ToolOutput::failure("fetch_url needs a string 'url'.");
  const std::string url = arguments["url"].get<std::string>();
  std::size_t max_bytes = options_.default_max_bytes;
  if (auto m = arguments.find("max_bytes"); m != arguments.end() && m->is_number_integer() && m->get<long long>() > 0)
    max_bytes = std::min<std::size_t>(static_cast<std::size_t>(m->get<long long>()), options_.max_body_bytes);

  http::Options http_options;
  http_options.address_policy = options_.address_policy;
  http_options.max_redirects = options_.max_redirects;
  http_options.max_body_bytes = max_bytes;
  http_options.connect_timeout = options_.connect_timeout;
  http_options.idle_timeout = options_.idle_timeout;
  http_options.total_timeout = options_.total_timeout;
  http_options.ca_file = options_.ca_file;
  http_options.test_resolver = options_.test_resolver;
  http::Request request;
  request.url = url;
  request.headers = {{"Accept",
                      "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,application/json;q=0.8,"
                      "application/pdf;q=0.8,*/*;q=0.5"}};

  http::Client client(co_await asio::this_coro::executor);
  auto fetched = co_await client.fetch(std::move(request), std::move(http_options));
  if (!fetched) {
    const auto& e = fetched.error();
    std::string text = "fetch_url failed: " + e.message + ".";
    if (const std::string hint = hint_for(e.kind); !hint.empty()) text += " " + hint;
    co_return ToolOutput::failure(std::move(text), Json{{"url", url}, {"error", http::error_kind_name(e.kind)}});
  }
  http::Response response = std::move(*fetched);
  const std::string content_type(response.header("Content-Type"));
  const std::string mt = fetch::media_type(content_type);
  Json structured{{"url", url},           {"final_url", response.final_url}, {"status", response.status},
                  {"content_type", mt},   {"title", ""},                    {"truncated", response.truncated}};

  const ContentKind kind = fetch::classify_content(mt, response.body);
  if (response.status < 200 || response.status > 299) {
    std::string text = "fetch_url: " + response.final_url + " answered HTTP " + std::to_string(response.status);
    if (!response.reason.empty()) text += " " + one_line(response.reason, 60);
    text += ". " + hint_for_status(response.status);
    if (kind != ContentKind::unsupported && kind != ContentKind::pdf && !response.body.empty()) {
      // The error page's own words, decoded like any page, often say why.
      auto decoded = fetch::decode_to_utf8(response.body.substr(0, 64 * 1024), fetch::charset_parameter(content_type),
                                           kind == ContentKind::html);
      const std::string said = kind == ContentKind::html ? extract_html(decoded.text).text : decoded.text;
      if (const std::string excerpt = one_line(said, 300); !excerpt.empty()) text += " The page said: " + excerpt;
    }
    structured["error"] = "http_status";
    co_return ToolOutput::failure(std::move(text), std::move(structured));
  }
  if (kind == ContentKind::unsupported) {
    std::string what = mt.empty() || mt == "application/octet-stream" ? "binary data" : mt + " content";
    structured["error"] = "unsupported_content_type";
    co_return ToolOutput::failure("fetch_url cannot read " + what + " (from " + response.final_url +
                                      "): it reads web pages (HTML), plain text, Markdown, JSON, XML and PDF.",
                                  std::move(structured));
  }

  auto work = [body = std::move(response.body), kind, charset = fetch::charset_parameter(content_type),
               max_chars = options_.max_text_chars]() { return render(body, kind, charset, max_chars); };
  auto [ec, rendered] = co_await async_run_blocking(workers_.get_executor(), std::move(work),
                                                    asio::as_tuple(asio::use_awaitable));
  if (ec || !rendered) co_return ToolOutput::failure("fetch_url was cancelled.", Json{{"url", url}, {"error", "cancelled"}});
  Rendered& r = *rendered;
  if (!r.error.empty()) {
    std::string text = "fetch_url could not read the PDF at " + response.final_url + ": " + r.error + ".";
    if (response.truncated)
      text += " The download was cut at " + std::to_string(max_bytes) + " bytes, which breaks a PDF" +
              (max_bytes < options_.max_body_bytes ? "; call again with a larger max_bytes (up to " +
                                                         std::to_string(options_.max_body_bytes) + ")."
                                                   : "; it is larger than fetch_url can read.");
    structured["error"] = "unreadable_pdf";
    co_return ToolOutput::failure(std::move(text), std::move(structured));
  }

  std::string text = "URL: " + response.final_url + "\n";
  if (!response.redirects.empty()) text += "Redirected from: " + response.redirects.front() + "\n";
  if (!r.title.empty()) text += "Title: " + one_line(r.title, 300) + "\n";
  text += "Content-Type: " + (mt.empty() ? std::string("(none; read as ") + kind_label(kind) + ")" : mt);
  if (!r.charset.empty() && kind != ContentKind::pdf) text += ", charset " + r.charset + " (from " + r.charset_source + ")";
  text += "\n";
  if (kind == ContentKind::pdf) text += "Pages: " + std::to_string(r.pages) + "\n";
  if (response.truncated) {
    text += "[truncated at " + std::to_string(max_bytes) + " bytes: the response is longer";
    if (max_bytes < options_.max_body_bytes) text += "; pass a larger max_bytes (up to " + std::to_string(options_.max_body_bytes) + ") to read more";
    text += "]\n";
  }
  if (r.text_truncated) text += "[text truncated at " + std::to_string(options_.max_text_chars) + " characters]\n";
  if (r.replaced > 0) text += "[" + std::to_string(r.replaced) + " invalid byte sequences replaced with U+FFFD]\n";
  text += "\n";
  if (r.text.empty()) {
    text += kind == ContentKind::pdf ? "(the PDF has no text layer; it may be scanned images)\n" : "(no readable text)\n";
  } else {
    text += r.text;
    text += "\n";
  }
  structured["title"] = r.title;
  structured["truncated"] = response.truncated || r.text_truncated;
  co_return ToolOutput::success(std::move(text), std::move(structured));
}

}  // namespace scout::tools
