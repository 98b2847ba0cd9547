// libFuzzer target: readable text from documents (tools/search/text_extract.h) — HTML through
// gumbo, Markdown, plain text and reStructuredText — on raw bytes, as the offline index reads
// files (no charset decoding first).
//
// Input: byte 0 picks the format (HTML, Markdown, plain text); the rest is the document.
//
// Checked, as text_extract.h describes the output: HTML text has its whitespace collapsed (no
// two spaces in a row, no space at either end of a line, no empty line) and ends with a line end
// when not empty; a title is never empty-but-spaced (it has no space at either end and no line
// end); plain text comes back unchanged. Gumbo keeps any nesting it is given, so deep documents
// (thousands of open elements) exercise the iterative walk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "tools/search/text_extract.h"

namespace {

using scout::fuzz::check;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void check_title(const std::string& title) {
  check(title.empty() || (!is_space(title.front()) && !is_space(title.back())), "a title with space at an end");
  check(title.find('\n') == std::string::npos, "a title with a line end");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::uint8_t format = in.byte() % 3;
  const std::string_view document = in.rest();
  if (format == 0) {
    const scout::ExtractedDocument doc = scout::extract_html(document);
    check_title(doc.title);
    const std::string& t = doc.text;
    check(t.find("  ") == std::string::npos, "HTML text with two spaces in a row");
    check(t.find(" \n") == std::string::npos && t.find("\n ") == std::string::npos, "HTML text with a space at a line end");
    check(t.find("\n\n") == std::string::npos, "HTML text with an empty line");
    check(t.empty() || (t.back() == '\n' && t.front() != ' ' && t.front() != '\n'), "HTML text that does not end a line");
    for (char c : t) check(c == '\n' || c == ' ' || !is_space(c), "HTML text with whitespace other than spaces and line ends");
  } else if (format == 1) {
    const scout::ExtractedDocument doc = scout::extract_markdown(document);
    check_title(doc.title);
  } else {
    const scout::ExtractedDocument doc = scout::extract_plain_text(document);
    check_title(doc.title);
    check(doc.text == document, "plain text does not come back unchanged");
  }
  return 0;
}
