// Turning a fetched body into readable UTF-8 text: what kind of content it is, which charset it
// is in, and PDF text. Pure functions of the bytes given; no I/O, thread-safe. PDF and large
// HTML take real CPU time: callers on an event loop run them on a worker (see fetch_url_tool).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/expected.h"

namespace scout::tools::fetch {

enum class ContentKind { html, markdown, text, json, pdf, unsupported };

// The media type of a Content-Type value, lowercased, without parameters ("text/html").
std::string media_type(std::string_view content_type);

// The charset parameter of a Content-Type value, lowercased and unquoted, or "".
std::string charset_parameter(std::string_view content_type);

// What to do with a body, from its media type; an empty or generic type
// (application/octet-stream) is decided from the first bytes: "%PDF-", an HTML start, or text
// (no NUL bytes and under 5% control characters) — else unsupported.
ContentKind classify_content(std::string_view media_type, std::string_view body);

// The charset an HTML document declares in its first 4 KiB: <meta charset="..."> or
// <meta http-equiv="Content-Type" content="...; charset=...">, lowercased, or "".
std::string meta_charset(std::string_view html);

struct DecodedText {
  std::string text;            // UTF-8
  std::string charset;         // what it was decoded from, as ICU names it ("windows-1252")
  std::string charset_source;  // "BOM", "Content-Type", "meta", "default" or "detected"
  std::size_t replaced = 0;    // invalid or unmappable sequences replaced with U+FFFD
};

// Decodes `body` to UTF-8. The charset comes from, in order: a byte-order mark, the Content-Type
// charset, <meta> (HTML only), else UTF-8 when the bytes are valid UTF-8 and windows-1252
// otherwise. Labels are read as the WHATWG Encoding standard reads them (iso-8859-1 and
// us-ascii mean windows-1252, ...); a label ICU does not know is skipped. Invalid sequences
// become U+FFFD (counted in `replaced`), never passed through; NUL bytes are dropped.
DecodedText decode_to_utf8(std::string_view body, std::string_view header_charset, bool is_html);

struct PdfText {
  std::string title;  // the document information Title, or ""
  std::string text;   // pages separated by a blank line
  int pages = 0;
  bool text_truncated = false;  // extraction stopped at max_chars
};

// The text of a PDF (poppler). Stops extracting once `max_chars` bytes of text are collected.
// Fails with a message for an unreadable or encrypted document.
Result<PdfText> pdf_to_text(std::string_view pdf, std::size_t max_chars);

// The first `max_chars` code points of UTF-8 `text` (cut at a character boundary).
// Sets `cut` when anything was removed.
std::string truncate_utf8(std::string_view text, std::size_t max_chars, bool& cut);

}  // namespace scout::tools::fetch
