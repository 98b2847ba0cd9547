// Readable text and a title from the document formats the offline index holds: HTML, Markdown,
// reStructuredText and plain text. Pure functions of the bytes given; no I/O, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scout {

enum class DocumentFormat { html, markdown, text, pdf };

struct ExtractedDocument {
  std::string title;  // empty when the document names none
  std::string text;   // block elements and paragraphs separated by '\n', runs of spaces collapsed
};

// HTML: <script>, <style>, <nav>, <noscript>, <template> and anything with role="navigation" are
// dropped (they are not what a reader came for); headings, paragraphs and list items are kept as
// separate lines. Entities are decoded. The title is <title>, else the first <h1>.
ExtractedDocument extract_html(std::string_view html);

// Markdown: the title is the first heading (ATX '# T' or setext 'T' over '==='); markup that
// carries no words (heading marks, emphasis, link targets, fences) is removed.
ExtractedDocument extract_markdown(std::string_view markdown);

// Plain text and reStructuredText: the text as is; the title is a heading underlined with a
// repeated punctuation character (the reST convention), else the first non-empty line when it
// is short enough to read as one.
ExtractedDocument extract_plain_text(std::string_view text);

// The format a file's extension names (.html .htm .xhtml, .md .markdown, .txt .rst, .pdf, any
// case), or nullopt for anything else. PDF text comes from tools/fetch/content_decode.h.
std::optional<DocumentFormat> format_for_extension(std::string_view extension);

}  // namespace scout
