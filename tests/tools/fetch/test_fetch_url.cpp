// fetch_url end to end: through the registry, against real servers on 127.0.0.1, including
// hostile pages (wrong charsets, broken PDFs, binary types, endless redirects); and the content
// decoding helpers on their own.
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/support/local_http_server.h"
#include "tests/tools/pdf_fixture.h"
#include "tests/tools/http/http_test_support.h"
#include "tests/tools/registry/registry_test_support.h"
#include "tools/fetch/content_decode.h"
#include "tools/fetch/fetch_url_tool.h"
#include "tools/registry/registry.h"

using namespace scout::tools;
using namespace scout::tools::testing;
using namespace scout::test;
using namespace std::chrono_literals;
namespace fetch = scout::tools::fetch;
using namespace std::literals;

namespace {

FetchUrlOptions local_fetch_options() {
  FetchUrlOptions o;
  o.address_policy.allow_private = true;  // the test servers are on 127.0.0.1
  o.idle_timeout = 10s;
  o.total_timeout = 30s;
  return o;
}

ToolOutput call_fetch(Json arguments, FetchUrlOptions options = local_fetch_options(), ToolContext ctx = {}) {
  asio::io_context io;
  Registry registry;
  REQUIRE(registry.add(std::make_shared<FetchUrlTool>(std::move(options))));
  return run_to_completion(io, registry.call("fetch_url", std::move(arguments), ctx));
}

ToolOutput fetch_url(const std::string& url, FetchUrlOptions options = local_fetch_options()) {
  return call_fetch(Json{{"url", url}}, std::move(options));
}

// A server answering every request with one fixed response.
std::unique_ptr<LocalHttpServer> serve(std::string response) {
  return std::make_unique<LocalHttpServer>([response = std::move(response)](const HttpExchange&, RawConnection& conn) {
    conn.write(response);
  });
}

}  // namespace

// ---- functional -------------------------------------------------------------------------------

TEST_CASE("fetch_url reads an HTML page as text with its title", "[fetch]") {
  auto server = serve(http_response(200, "text/html; charset=utf-8",
                                    "<!doctype html><html><head><title>Rome &amp; its history</title>"
                                    "<script>var tracking = 1;</script><style>p{}</style></head>"
                                    "<body><nav>Home | About</nav><h1>Rome</h1><p>Rome was founded in <b>753 BC</b>.</p>"
                                    "<ul><li>Forum</li><li>Colosseum</li></ul></body></html>"));
  ToolOutput out = fetch_url(server->url("/rome"));
  INFO(out.text);
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::StartsWith("URL: " + server->url("/rome") + "\nTitle: Rome & its history\nContent-Type: text/html"));
  CHECK_THAT(out.text, Catch::Contains("Rome was founded in 753 BC.\nForum\nColosseum"));
  CHECK_THAT(out.text, !Catch::Contains("tracking") && !Catch::Contains("Home | About") && !Catch::Contains("[truncated"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["url"] == server->url("/rome"));
  CHECK((*out.structured)["final_url"] == server->url("/rome"));
  CHECK((*out.structured)["status"] == 200);
  CHECK((*out.structured)["content_type"] == "text/html");
  CHECK((*out.structured)["title"] == "Rome & its history");
  CHECK((*out.structured)["truncated"] == false);
}

TEST_CASE("fetch_url reads plain text, Markdown and JSON as text", "[fetch]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/a.txt") conn.write(http_response(200, "text/plain", "line one\nline two\n"));
    if (req.target == "/b.md") conn.write(http_response(200, "text/markdown", "# Install guide\n\nRun `make`.\n"));
    if (req.target == "/c.json") conn.write(http_response(200, "application/json", R"({"answer": 42})"));
  });
  ToolOutput txt = fetch_url(server.url("/a.txt"));
  REQUIRE_FALSE(txt.is_error);
  CHECK_THAT(txt.text, Catch::EndsWith("\n\nline one\nline two\n"));
  ToolOutput md = fetch_url(server.url("/b.md"));
  REQUIRE_FALSE(md.is_error);
  CHECK_THAT(md.text, Catch::Contains("Title: Install guide\n") && Catch::EndsWith("# Install guide\n\nRun `make`.\n"));
  ToolOutput json = fetch_url(server.url("/c.json"));
  REQUIRE_FALSE(json.is_error);
  CHECK_THAT(json.text, Catch::Contains("Content-Type: application/json") && Catch::EndsWith("{\"answer\": 42}\n"));
}

TEST_CASE("fetch_url shows where a redirect came from and where it ended", "[fetch]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/old") conn.write(http_response(301, "", "", {{"Location", "/new"}}));
    else conn.write(http_response(200, "text/plain", "moved here"));
  });
  ToolOutput out = fetch_url(server.url("/old"));
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::StartsWith("URL: " + server.url("/new") + "\nRedirected from: " + server.url("/old") + "\n"));
  CHECK((*out.structured)["url"] == server.url("/old"));
  CHECK((*out.structured)["final_url"] == server.url("/new"));
}

TEST_CASE("fetch_url cuts long text at max_text_chars and says so", "[fetch]") {
  auto server = serve(http_response(200, "text/plain; charset=utf-8", std::string(100, 'a') + "\xC3\xA9" + std::string(100, 'b')));
  FetchUrlOptions o = local_fetch_options();
  o.max_text_chars = 101;
  ToolOutput out = fetch_url(server->url("/"), o);
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("[text truncated at 101 characters]\n"));
  CHECK_THAT(out.text, Catch::EndsWith(std::string(100, 'a') + "\xC3\xA9\n"));  // cut after the é, not inside it
  CHECK((*out.structured)["truncated"] == true);
}

TEST_CASE("fetch_url reads a PDF's pages and title", "[fetch]") {
  const std::string pdf = make_pdf({"Quarterly report", "Revenue grew by 12 percent"}, "Scout Test Report");
  auto server = serve(http_response(200, "application/pdf", pdf));
  ToolOutput out = fetch_url(server->url("/report.pdf"));
  INFO(out.text);
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Title: Scout Test Report\n") && Catch::Contains("Content-Type: application/pdf\n") &&
                           Catch::Contains("Pages: 2\n"));
  CHECK_THAT(out.text, Catch::Contains("Quarterly report") && Catch::Contains("Revenue grew by 12 percent"));
  CHECK(out.text.find("Quarterly report") < out.text.find("Revenue grew"));
  CHECK((*out.structured)["title"] == "Scout Test Report");
  // Served without a content type, it is recognised from its first bytes.
  auto untyped = serve(http_response(200, "", pdf));
  ToolOutput sniffed = fetch_url(untyped->url("/download"));
  REQUIRE_FALSE(sniffed.is_error);
  CHECK_THAT(sniffed.text, Catch::Contains("Revenue grew by 12 percent"));
}

TEST_CASE("fetch_url's schema: url required, max_bytes bounded, defaults documented", "[fetch]") {
  FetchUrlOptions o = local_fetch_options();
  o.default_max_bytes = 1000;
  o.max_body_bytes = 5000;
  FetchUrlTool tool(o);
  const Json schema = tool.parameters();
  CHECK(schema["required"] == Json::array({"url"}));
  CHECK(schema["properties"]["max_bytes"]["default"] == 1000);
  CHECK(schema["properties"]["max_bytes"]["maximum"] == 5000);
  CHECK_THAT(schema["properties"]["max_bytes"]["description"].get<std::string>(), Catch::Contains("default 1000"));
  ToolOutput missing = call_fetch(Json::object(), o);
  CHECK(missing.is_error);
  CHECK_THAT(missing.text, Catch::Contains("url"));
  ToolOutput too_big = call_fetch(Json{{"url", "http://example.com/"}, {"max_bytes", 6000}}, o);
  CHECK(too_big.is_error);
  CHECK_THAT(too_big.text, Catch::Contains("max_bytes"));
}

TEST_CASE("a registry deadline cancels an in-flight fetch_url", "[fetch]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.wait_closed(); });
  ToolContext ctx;
  ctx.deadline = ToolContext::Clock::now() + 300ms;
  ToolOutput out = call_fetch(Json{{"url", server.url("/slow")}}, local_fetch_options(), ctx);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("timed out"));
}

// ---- hostile: charsets ------------------------------------------------------------------------

TEST_CASE("fetch_url decodes an ISO-8859-1 page to UTF-8", "[fetch][hostile]") {
  auto server = serve(http_response(200, "text/html; charset=ISO-8859-1",
                                    "<html><head><title>Caf\xE9</title></head><body><p>Caf\xE9 cr\xE8me br\xFBl\xE9"
                                    "e \xA9 2024</p></body></html>"));
  ToolOutput out = fetch_url(server->url("/"));
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Title: Caf\xC3\xA9\n"));
  CHECK_THAT(out.text, Catch::Contains("Caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e \xC2\xA9 2024"));
  CHECK_THAT(out.text, Catch::Contains("charset windows-1252 (from Content-Type)"));
}

TEST_CASE("fetch_url decodes a windows-1252 page, smart quotes and euro sign included", "[fetch][hostile]") {
  auto server = serve(http_response(200, "text/plain; charset=windows-1252", "\x93Smart quotes\x94 cost \x80" "30 \x96 really"));
  ToolOutput out = fetch_url(server->url("/"));
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::EndsWith("\xE2\x80\x9CSmart quotes\xE2\x80\x9D cost \xE2\x82\xAC" "30 \xE2\x80\x93 really\n"));
}

TEST_CASE("fetch_url decodes a Shift_JIS page", "[fetch][hostile]") {
  const std::string sjis = "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x79\x81\x5b\x83\x57";  // 日本語のページ
  auto server = serve(http_response(200, "text/html; charset=Shift_JIS",
                                    "<html><head><title>" + sjis + "</title></head><body><p>" + sjis + "</p></body></html>"));
  ToolOutput out = fetch_url(server->url("/"));
  REQUIRE_FALSE(out.is_error);
  const std::string utf8 = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x9A\xE3\x83\xBC\xE3\x82\xB8";
  CHECK_THAT(out.text, Catch::Contains("Title: " + utf8 + "\n") && Catch::EndsWith(utf8 + "\n"));
}

TEST_CASE("fetch_url reads a charset from <meta> when the header names none", "[fetch][hostile]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/meta")
      conn.write(http_response(200, "text/html", "<html><head><meta charset=\"windows-1252\"><title>x</title></head><body>na\xEFve</body></html>"));
    else
      conn.write(http_response(200, "text/html",
                               "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\">"
                               "</head><body>\x93\xfa\x96\x7b</body></html>"));
  });
  ToolOutput meta = fetch_url(server.url("/meta"));
  REQUIRE_FALSE(meta.is_error);
  CHECK_THAT(meta.text, Catch::EndsWith("na\xC3\xAFve\n") && Catch::Contains("(from meta)"));
  ToolOutput equiv = fetch_url(server.url("/equiv"));
  REQUIRE_FALSE(equiv.is_error);
  CHECK_THAT(equiv.text, Catch::EndsWith("\xE6\x97\xA5\xE6\x9C\xAC\n"));
}

TEST_CASE("fetch_url: the Content-Type charset wins over a conflicting <meta>", "[fetch][hostile]") {
  auto server = serve(http_response(200, "text/html; charset=iso-8859-1",
                                    "<html><head><meta charset=\"utf-8\"></head><body>r\xE9sum\xE9</body></html>"));
  ToolOutput out = fetch_url(server->url("/"));
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::EndsWith("r\xC3\xA9sum\xC3\xA9\n") && Catch::Contains("(from Content-Type)"));
  CHECK_THAT(out.text, !Catch::Contains("U+FFFD"));
}

TEST_CASE("fetch_url without any charset: valid UTF-8 stays UTF-8, other bytes read as windows-1252", "[fetch][hostile]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/utf8") conn.write(http_response(200, "text/plain", "Gr\xC3\xBC\xC3\x9F" "e"));
    else conn.write(http_response(200, "text/plain", "Gr\xFC\xDF" "e"));
  });
  ToolOutput utf8 = fetch_url(server.url("/utf8"));
  CHECK_THAT(utf8.text, Catch::EndsWith("Gr\xC3\xBC\xC3\x9F" "e\n") && Catch::Contains("charset UTF-8 (from detected)"));
  ToolOutput latin = fetch_url(server.url("/latin"));
  CHECK_THAT(latin.text, Catch::EndsWith("Gr\xC3\xBC\xC3\x9F" "e\n") && Catch::Contains("charset windows-1252 (from detected)"));
}

TEST_CASE("fetch_url repairs invalid UTF-8 declared as UTF-8 instead of passing it through", "[fetch][hostile]") {
  // A stray continuation byte, an overlong '/', a surrogate, a truncated sequence and a 0xFF.
  auto server = serve(http_response(200, "text/plain; charset=utf-8", "a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE2\x82" "e\xFF" "f\x00g"s));
  ToolOutput out = fetch_url(server->url("/"));
  REQUIRE_FALSE(out.is_error);
  const std::string body = out.text.substr(out.text.find("\n\n") + 2);
  CHECK(body.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(body.starts_with("a\xEF\xBF\xBD" "b"));
  CHECK_THAT(out.text, Catch::Contains("invalid byte sequences replaced with U+FFFD"));
  // Whatever came in, what goes out is valid UTF-8 without NUL bytes.
  std::size_t replaced = 0;
  auto again = fetch::decode_to_utf8(out.text, "utf-8", false);
  replaced = again.replaced;
  CHECK(replaced == 0);
  CHECK(out.text.find('\0') == std::string::npos);
  CHECK_THAT(body, Catch::Contains("fg"));
}

TEST_CASE("fetch_url follows a byte-order mark over any declaration", "[fetch][hostile]") {
  const std::string utf16 = "\xFF\xFE" "G\0r\0\xFC\0\xDF\0" "e\0"s;
  auto server = serve(http_response(200, "text/plain; charset=iso-8859-1", utf16));
  ToolOutput out = fetch_url(server->url("/"));
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::EndsWith("Gr\xC3\xBC\xC3\x9F" "e\n") && Catch::Contains("(from BOM)"));
}

// ---- hostile: content ------------------------------------------------------------------------

TEST_CASE("fetch_url cuts a huge page at max_bytes and marks it", "[fetch][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    if (!conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10737418240\r\n\r\n")) return;
    const std::string block(65536, 'z');
    for (int i = 0; i < 16384 && conn.write(block); ++i) {
    }
  });
  ToolOutput out = call_fetch(Json{{"url", server.url("/huge")}, {"max_bytes", 10000}});
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("[truncated at 10000 bytes: the response is longer; pass a larger max_bytes"));
  CHECK((*out.structured)["truncated"] == true);
}

TEST_CASE("fetch_url survives a gzip bomb: decoding stops at max_bytes", "[fetch][hostile]") {
  const std::string bomb = scout::tools::http::testing::gzip(std::string(64u << 20, ' '));
  auto server = serve(http_response(200, "text/html", bomb, {{"Content-Encoding", "gzip"}}));
  ToolOutput out = call_fetch(Json{{"url", server->url("/")}, {"max_bytes", 100000}});
  REQUIRE_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("[truncated at 100000 bytes"));
}

TEST_CASE("fetch_url refuses an image with a message saying what it can read", "[fetch][hostile]") {
  auto server = serve(http_response(200, "image/png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"s));
  ToolOutput out = fetch_url(server->url("/cat.png"));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("cannot read image/png content") && Catch::Contains("/cat.png") &&
                           Catch::Contains("HTML") && Catch::Contains("PDF"));
  CHECK((*out.structured)["error"] == "unsupported_content_type");
}

TEST_CASE("fetch_url refuses binary data sent without a content type", "[fetch][hostile]") {
  auto server = serve(http_response(200, "", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0"s));
  ToolOutput out = fetch_url(server->url("/a.out"));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("cannot read binary data"));
}

TEST_CASE("fetch_url reports a corrupt PDF clearly", "[fetch][hostile]") {
  auto server = serve(http_response(200, "application/pdf", "%PDF-1.7\n1 0 obj\n<< /Type /Catalog garbage \x01\x02\x03 trailer broken"));
  ToolOutput out = fetch_url(server->url("/broken.pdf"));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("could not read the PDF") && Catch::Contains("/broken.pdf"));
  CHECK((*out.structured)["error"] == "unreadable_pdf");
  auto fake = serve(http_response(200, "application/pdf", "<html>not a pdf</html>"));
  ToolOutput not_pdf = fetch_url(fake->url("/fake.pdf"));
  CHECK(not_pdf.is_error);
  CHECK_THAT(not_pdf.text, Catch::Contains("not a PDF"));
}

TEST_CASE("fetch_url explains a PDF broken by the max_bytes cut", "[fetch][hostile]") {
  std::vector<std::string> pages(40, "A page of a long report with enough words to make it large");
  const std::string pdf = make_pdf(pages, "Long");
  auto server = serve(http_response(200, "application/pdf", pdf));
  FetchUrlOptions o = local_fetch_options();
  o.max_body_bytes = 1 << 20;
  ToolOutput out = call_fetch(Json{{"url", server->url("/long.pdf")}, {"max_bytes", 30}}, o);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("cut at 30 bytes") && Catch::Contains("larger max_bytes (up to 1048576)"));
}

// ---- hostile: failures the model must understand ------------------------------------------------

TEST_CASE("fetch_url refuses private addresses under its default policy", "[fetch][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.write(http_response(200, "text/plain", "internal")); });
  FetchUrlOptions o;  // the defaults: public addresses only
  for (const std::string& url : {server.url("/admin"), server.url("/admin", "localhost"),
                                 "http://2130706433:" + std::to_string(server.port()) + "/admin",
                                 std::string("http://169.254.169.254/latest/meta-data/")}) {
    INFO(url);
    ToolOutput out = fetch_url(url, o);
    CHECK(out.is_error);
    CHECK_THAT(out.text, Catch::Contains("refused") && Catch::Contains("only reads pages on the public internet"));
    CHECK((*out.structured)["error"] == "refused_address");
  }
  CHECK(server.requests_served() == 0);
}

TEST_CASE("fetch_url refuses non-http URLs", "[fetch][hostile]") {
  for (const char* url : {"file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "example.com"}) {
    ToolOutput out = fetch_url(url);
    CHECK(out.is_error);
    CHECK_THAT(out.text, Catch::Contains("complete http:// or https:// URL"));
  }
}

TEST_CASE("fetch_url reports an HTTP 404 with what the page said", "[fetch][hostile]") {
  auto server = serve(http_response(404, "text/html", "<html><head><title>Oops</title></head><body><h1>Not here</h1>"
                                                       "<p>The article was removed.</p></body></html>"));
  ToolOutput out = fetch_url(server->url("/gone"));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("/gone answered HTTP 404 Not Found") && Catch::Contains("does not exist") &&
                           Catch::Contains("The article was removed."));
  CHECK((*out.structured)["status"] == 404);
}

TEST_CASE("fetch_url reports a server that never answers as a timeout", "[fetch][hostile]") {
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) { conn.wait_closed(); });
  FetchUrlOptions o = local_fetch_options();
  o.idle_timeout = 300ms;
  ToolOutput out = fetch_url(server.url("/silent"), o);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("idle timeout") && Catch::Contains("/silent") && Catch::Contains("too slow"));
  CHECK((*out.structured)["error"] == "timeout");
}

TEST_CASE("fetch_url reports endless redirects", "[fetch][hostile]") {
  LocalHttpServer server([](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(302, "", "", {{"Location", req.target + "/next"}}));
  });
  ToolOutput out = fetch_url(server.url("/loop"));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("too many redirects") && Catch::Contains("keeps redirecting"));
}

TEST_CASE("fetch_url reports a redirect without a Location", "[fetch][hostile]") {
  auto server = serve(http_response(302, "text/plain", ""));
  ToolOutput out = fetch_url(server->url("/r"));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("answered HTTP 302 Found") && Catch::Contains("nowhere to go"));
}

// ---- the decoding helpers -----------------------------------------------------------------------

TEST_CASE("content type parsing and classification", "[fetch]") {
  CHECK(fetch::media_type(" Text/HTML ; charset=UTF-8") == "text/html");
  CHECK(fetch::charset_parameter("text/html; charset=\"Shift_JIS\"") == "shift_jis");
  CHECK(fetch::charset_parameter("text/html;foo=bar; Charset=latin1 ") == "latin1");
  CHECK(fetch::charset_parameter("text/html").empty());
  using K = fetch::ContentKind;
  CHECK(fetch::classify_content("application/xhtml+xml", "") == K::html);
  CHECK(fetch::classify_content("application/ld+json", "") == K::json);
  CHECK(fetch::classify_content("application/rss+xml", "") == K::text);
  CHECK(fetch::classify_content("text/csv", "") == K::text);
  CHECK(fetch::classify_content("image/svg+xml", "") == K::text);
  CHECK(fetch::classify_content("image/jpeg", "") == K::unsupported);
  CHECK(fetch::classify_content("video/mp4", "") == K::unsupported);
  CHECK(fetch::classify_content("application/zip", "PK\x03\x04") == K::unsupported);
  CHECK(fetch::classify_content("", "  <!DOCTYPE html><html>") == K::html);
  CHECK(fetch::classify_content("application/octet-stream", "%PDF-1.5") == K::pdf);
  CHECK(fetch::classify_content("", "just words\n") == K::text);
  CHECK(fetch::classify_content("", "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f") == K::unsupported);
}

TEST_CASE("meta_charset finds both <meta> forms and ignores comments and other tags", "[fetch]") {
  CHECK(fetch::meta_charset("<meta charset=utf-8>") == "utf-8");
  CHECK(fetch::meta_charset("<html><head><META CHARSET='Windows-1252'/>") == "windows-1252");
  CHECK(fetch::meta_charset("<meta http-equiv=\"content-type\" content=\"text/html; charset=EUC-JP\">") == "euc-jp");
  CHECK(fetch::meta_charset("<meta content='text/html;charset=koi8-r' http-equiv='Content-Type'>") == "koi8-r");
  CHECK(fetch::meta_charset("<!-- <meta charset=\"big5\"> --><meta charset=\"gbk\">") == "gbk");
  CHECK(fetch::meta_charset("<metadata charset=\"big5\"><meta name=viewport content=\"width=device-width\">").empty());
  CHECK(fetch::meta_charset(std::string(5000, ' ') + "<meta charset=utf-8>").empty());  // only the start is read
  CHECK(fetch::meta_charset("<meta charset=\"unterminated").empty());
}

TEST_CASE("decode_to_utf8 skips labels it does not know and reads UTF-16 <meta> as UTF-8", "[fetch]") {
  auto unknown = fetch::decode_to_utf8("caf\xE9", "x-no-such-charset", false);
  CHECK(unknown.text == "caf\xC3\xA9");
  CHECK(unknown.charset == "windows-1252");
  CHECK(unknown.charset_source == "detected");
  auto meta16 = fetch::decode_to_utf8("<meta charset=utf-16><p>caf\xC3\xA9", "", true);
  CHECK(meta16.charset == "UTF-8");
  CHECK(meta16.text.ends_with("caf\xC3\xA9"));
  // A body cut at the byte cap inside a character is still UTF-8 (the cut becomes U+FFFD).
  auto cut = fetch::decode_to_utf8("h\xC3\xA9llo w\xC3", "", false);
  CHECK(cut.charset == "UTF-8");
  CHECK(cut.text == "h\xC3\xA9llo w\xEF\xBF\xBD");
  auto ascii = fetch::decode_to_utf8("plain \x80", "us-ascii", false);  // WHATWG: us-ascii is windows-1252
  CHECK(ascii.text == "plain \xE2\x82\xAC");
}

TEST_CASE("truncate_utf8 counts characters, not bytes", "[fetch]") {
  bool cut = false;
  CHECK(fetch::truncate_utf8("h\xC3\xA9llo", 2, cut) == "h\xC3\xA9");
  CHECK(cut);
  cut = false;
  CHECK(fetch::truncate_utf8("abc", 3, cut) == "abc");
  CHECK_FALSE(cut);
}
