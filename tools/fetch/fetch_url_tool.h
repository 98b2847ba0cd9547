// fetch_url: reads one web page, text file or PDF and shows the model its text.
//
// Arguments: {"url": string (required, http or https), "max_bytes": integer (optional; the
// response body is read up to this many bytes, default FetchUrlOptions::default_max_bytes,
// at most max_body_bytes)}.
//
// The page is fetched through http::Client under the options' address policy (the SSRF guard),
// caps and timeouts, then turned into text:
//   - HTML (text/html, application/xhtml+xml): readable text and the title, via the gumbo
//     extractor shared with the offline index (scripts, styles and navigation dropped);
//   - text/plain, Markdown, JSON, XML and other text types: the text as is;
//   - PDF: the text of its pages (poppler), and its Title;
//   - no or a generic type: decided from the bytes; images, audio, video, archives and other
//     binary types are refused with a message saying what the tool can read.
// Text is decoded to UTF-8 from the charset the BOM, the Content-Type or (HTML) a <meta> tag
// declares, in that order; without one, UTF-8 when valid, else windows-1252. Invalid bytes
// become U+FFFD. The output starts with a short header (URL, redirect origin, title, content
// type) and notes when a cap cut something: "[truncated at N bytes: ...]" for the body,
// "[text truncated at N characters]" for the output text.
//
// Failures (a refused address, a timeout, an HTTP error status, an unsupported type, too many
// redirects, an unreadable PDF) are ToolOutput::failure with a message naming the URL and what
// to try instead. structured output: {url, final_url, status, content_type, title, truncated};
// failures carry {url, error} and what else is known.
//
// Decoding (poppler, gumbo, ICU) runs on this tool's worker threads, never on the caller's
// executor; a cancelled call returns at once and the decoding result is dropped.
// Thread-safety: invoke may be called concurrently. Destroying the tool waits for decoding in
// progress to end.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "tools/http/http_client.h"
#include "tools/registry/tool.h"

namespace scout::tools {

struct FetchUrlOptions {
  http::AddressPolicy address_policy;      // [fetch] allow_private_addresses, allowed_hosts
  std::size_t default_max_bytes = 2u << 20;  // body bytes read when the call gives no max_bytes
  std::size_t max_body_bytes = 5u << 20;     // the largest max_bytes a call may ask for ([fetch] max_bytes)
  std::size_t max_text_chars = 20000;        // characters of text shown to the model
  int max_redirects = 5;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(20);
  std::chrono::milliseconds total_timeout = std::chrono::seconds(30);  // [fetch] timeout_s
  std::string ca_file;                       // extra CA file to trust (tests, private CAs)
  int worker_threads = 2;                    // documents decoded in parallel
  // TEST-ONLY: see http::Options::test_resolver.
  std::function<std::vector<asio::ip::address>(const std::string& host)> test_resolver;
};

class FetchUrlTool final : public Tool {
 public:
  explicit FetchUrlTool(FetchUrlOptions options = {});
  ~FetchUrlTool() override;

  std::string name() const override { return "fetch_url"; }
  std::string description() const override;
  Json parameters() const override;
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext ctx) override;

 private:
  FetchUrlOptions options_;
  asio::thread_pool workers_;
};

}  // namespace scout::tools
