// libFuzzer target: fetch_url's reading of a fetched body (tools/fetch/content_decode.h) —
// Content-Type parsing, content sniffing, charset detection (BOM, header, <meta>) and decoding to
// UTF-8 with ICU — followed, as fetch_url does, by HTML to text and the cut to a size.
//
// Input: byte 0 picks whether the body is read as HTML and the character cap; the rest is
// "CONTENT-TYPE\nBODY" (a Content-Type header value, then the body's bytes).
//
// Checked: the decoded text is UTF-8 with no NUL (decoding it again as UTF-8 gives it back with
// nothing replaced), the charset source is one of the documented ones; media_type is lowercase
// without parameters; the cut keeps a prefix of at most the cap in code points, at a character
// boundary; the text and title extracted from the decoded HTML are UTF-8 too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "tools/fetch/content_decode.h"
#include "tools/search/text_extract.h"

namespace {

using scout::fuzz::check;
namespace fetch = scout::tools::fetch;

// Valid UTF-8 without NUL: what decoding it as UTF-8 leaves unchanged.
bool clean_utf8(const std::string& text) {
  if (text.find('\0') != std::string::npos) return false;
  if (text.starts_with("\xEF\xBB\xBF")) return clean_utf8(text.substr(3));  // a BOM would be taken off
  const auto again = fetch::decode_to_utf8(text, "utf-8", false);
  return again.replaced == 0 && again.text == text;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::uint8_t selector = in.byte();
  const std::string_view rest = in.rest();
  const std::size_t nl = rest.find('\n');
  const std::string_view content_type = rest.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);

  const std::string media = fetch::media_type(content_type);
  check(media.find(';') == std::string::npos, "a media type with parameters");
  for (char c : media) check(!(c >= 'A' && c <= 'Z'), "a media type that is not lowercase");
  const std::string charset = fetch::charset_parameter(content_type);
  const fetch::ContentKind kind = fetch::classify_content(media, body);
  (void)fetch::meta_charset(body);

  const bool html = kind == fetch::ContentKind::html || (selector & 1);
  const fetch::DecodedText decoded = fetch::decode_to_utf8(body, charset, html);
  check(clean_utf8(decoded.text), "the decoded text is not clean UTF-8");
  check(!decoded.charset.empty(), "a decoding without a charset");
  const std::string& source = decoded.charset_source;
  check(source == "BOM" || source == "Content-Type" || source == "meta" || source == "detected",
        "an undocumented charset source");

  std::string text = decoded.text;
  if (html) {
    const scout::ExtractedDocument doc = scout::extract_html(decoded.text);
    check(clean_utf8(doc.text) && clean_utf8(doc.title), "text extracted from decoded HTML is not clean UTF-8");
    text = doc.text;
  }
  const std::size_t cap = selector >> 1;
  bool cut = false;
  const std::string kept = fetch::truncate_utf8(text, cap, cut);
  check(std::string_view(text).starts_with(kept), "the cut text is not a prefix");
  check(code_points(kept) <= cap, "the cut text is over the cap");
  check(cut == (kept.size() < text.size()), "the cut is not reported as it happened");
  check(clean_utf8(kept), "the cut text is not clean UTF-8");
  return 0;
}
