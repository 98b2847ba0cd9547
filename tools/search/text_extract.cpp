#include "common/text.h"
#include "common/utf8.h"
#include "tools/search/text_extract.h"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

namespace scout {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Appends text to `out` with every run of whitespace turned into one space; a space is never
// written at the start of a line, so block boundaries stay clean.
void append_collapsed(std::string& out, std::string_view text) {
  for (char c : text) {
    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
    } else {
      out += c;
    }
  }
}

// Ends the current line (dropping a trailing space) unless the text already ends one.
void end_line(std::string& out) {
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!out.empty() && out.back() != '\n') out += '\n';
}

std::string collapse(std::string_view text) {
  std::string out;
  append_collapsed(out, text);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// ---- HTML -------------------------------------------------------------------------------------

bool is_dropped(const GumboElement& el) {
  switch (el.tag) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NAV: case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_HEAD: case GUMBO_TAG_IFRAME: case GUMBO_TAG_SVG:
      return true;
    default:
      break;
  }
  const GumboAttribute* role = gumbo_get_attribute(&el.attributes, "role");
  return role != nullptr && std::strcmp(role->value, "navigation") == 0;
}

// Elements that start and end a line of text; everything else flows inline.
bool is_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3:
    case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_LI: case GUMBO_TAG_DT:
    case GUMBO_TAG_DD: case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_TR:
    case GUMBO_TAG_TABLE: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_BR:
    case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_DL: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_MAIN: case GUMBO_TAG_FIGURE: case GUMBO_TAG_HR:
      return true;
    default:
      return false;
  }
}

// A text node's text as well-formed UTF-8. gumbo 0.10 decodes a numeric character reference
// past U+10FFFF ("&#xEEEEEEE0") into a lone lead byte, whatever the page's encoding.
std::string gumbo_text(const GumboNode* node) { return valid_utf8(node->v.text.text); }

// Text of a subtree with whitespace collapsed, for <title> and <h1>.
void inner_text(const GumboNode* node, std::string& out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA || node->type == GUMBO_NODE_WHITESPACE) {
    append_collapsed(out, gumbo_text(node));
  } else if (node->type == GUMBO_NODE_ELEMENT) {
    const GumboVector& children = node->v.element.children;
    for (unsigned i = 0; i < children.length; ++i) inner_text(static_cast<const GumboNode*>(children.data[i]), out);
  }
}

struct HtmlWalk {
  std::string text;
  std::string title_tag;  // from <title>
  std::string first_h1;
};

// Iterative so that a deeply nested page (gumbo keeps the nesting it is given) cannot overflow
// the stack.
void walk_html(const GumboNode* root, HtmlWalk& w) {
  struct Frame { const GumboNode* node; bool closing; };
  std::vector<Frame> stack{{root, false}};
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    const GumboNode* node = f.node;
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA || node->type == GUMBO_NODE_WHITESPACE) {
      append_collapsed(w.text, gumbo_text(node));
      continue;
    }
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT) continue;
    const GumboVector& children = node->type == GUMBO_NODE_DOCUMENT ? node->v.document.children : node->v.element.children;
    if (node->type == GUMBO_NODE_ELEMENT) {
      const GumboElement& el = node->v.element;
      if (f.closing) {
        if (is_block(el.tag)) end_line(w.text);
        continue;
      }
      if (el.tag == GUMBO_TAG_TITLE && w.title_tag.empty()) inner_text(node, w.title_tag);
      if (el.tag == GUMBO_TAG_HEAD) {
        // The head holds no readable text, but it holds the title.
        for (unsigned i = 0; i < children.length; ++i) {
          const auto* c = static_cast<const GumboNode*>(children.data[i]);
          if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == GUMBO_TAG_TITLE && w.title_tag.empty()) inner_text(c, w.title_tag);
        }
      }
      if (is_dropped(el)) continue;
      if (el.tag == GUMBO_TAG_H1 && w.first_h1.empty()) inner_text(node, w.first_h1);
      if (is_block(el.tag)) end_line(w.text);
      stack.push_back({node, true});
    }
    for (unsigned i = children.length; i-- > 0;) stack.push_back({static_cast<const GumboNode*>(children.data[i]), false});
  }
}

// ---- Markdown ---------------------------------------------------------------------------------

bool is_underline(std::string_view line, char& mark) {
  line = trim(line);
  if (line.size() < 3) return false;
  mark = line[0];
  if (!std::ispunct(static_cast<unsigned char>(mark))) return false;
  return std::all_of(line.begin(), line.end(), [&](char c) { return c == mark; });
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// One line of Markdown with its word-free markup removed: [text](url) and ![alt](url) keep only
// text/alt, emphasis and code marks go, autolinks <http://...> keep the address.
std::string strip_inline_markdown(std::string_view line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '!' && i + 1 < line.size() && line[i + 1] == '[') continue;
    if (c == ']' && i + 1 < line.size() && line[i + 1] == '(') {
      const size_t close = line.find(')', i + 2);
      if (close != std::string_view::npos) {
        i = close;
        continue;
      }
    }
    if (c == '[' || c == ']' || c == '*' || c == '`' || c == '<' || c == '>') continue;
    // '_' marks emphasis only at word edges; snake_case names keep theirs.
    if (c == '_') {
      const bool word_before = i > 0 && std::isalnum(static_cast<unsigned char>(line[i - 1]));
      const bool word_after = i + 1 < line.size() && std::isalnum(static_cast<unsigned char>(line[i + 1]));
      if (!(word_before && word_after)) continue;
    }
    out += c;
  }
  return out;
}

// An ATX heading ("## Title ##"): its text, or an empty view when the line is not one.
std::string_view atx_heading(std::string_view line) {
  line = trim(line);
  size_t level = 0;
  while (level < line.size() && line[level] == '#') ++level;
  if (level == 0 || level > 6 || (level < line.size() && line[level] != ' ')) return {};
  std::string_view rest = trim(line.substr(level));
  while (!rest.empty() && rest.back() == '#') rest.remove_suffix(1);
  return trim(rest);
}

// The first line that a setext/reST underline follows, given the lines of a document.
std::string underlined_title(const std::vector<std::string_view>& lines, size_t max_scan) {
  char mark = 0;
  for (size_t i = 1; i < lines.size() && i < max_scan; ++i) {
    // reST also allows an overline; the title is then the line between the two.
    if (!trim(lines[i - 1]).empty() && !is_underline(lines[i - 1], mark) && is_underline(lines[i], mark)) {
      return collapse(lines[i - 1]);
    }
  }
  return {};
}

}  // namespace

ExtractedDocument extract_html(std::string_view html) {
  GumboOptions options = kGumboDefaultOptions;
  GumboOutput* output = gumbo_parse_with_options(&options, html.data(), html.size());
  HtmlWalk w;
  walk_html(output->document, w);
  gumbo_destroy_output(&options, output);
  end_line(w.text);
  ExtractedDocument doc;
  doc.title = collapse(trim(w.title_tag).empty() ? w.first_h1 : w.title_tag);
  doc.text = std::move(w.text);
  return doc;
}

ExtractedDocument extract_markdown(std::string_view markdown) {
  const auto lines = split_lines(markdown);
  ExtractedDocument doc;
  bool in_fence = false;
  char mark = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string_view t = trim(line);
    if (t.starts_with("```") || t.starts_with("~~~")) {
      in_fence = !in_fence;
      continue;
    }
    if (in_fence) {  // code is searchable as is
      doc.text += std::string(line) + "\n";
      continue;
    }
    if (!in_fence && i + 1 < lines.size() && !t.empty() && is_underline(lines[i + 1], mark) && (mark == '=' || mark == '-')) {
      const std::string heading = collapse(strip_inline_markdown(t));
      if (doc.title.empty()) doc.title = heading;
      doc.text += heading + "\n";
      ++i;  // the underline itself carries no words
      continue;
    }
    if (const std::string_view h = atx_heading(t); !h.empty()) {
      const std::string heading = collapse(strip_inline_markdown(h));
      if (doc.title.empty()) doc.title = heading;
      doc.text += heading + "\n";
      continue;
    }
    if (is_underline(t, mark)) continue;  // horizontal rules
    std::string_view body = t;
    while (!body.empty() && (body.front() == '>' || body.front() == '#')) body = trim(body.substr(1));
    if (body.starts_with("- ") || body.starts_with("* ") || body.starts_with("+ ")) body.remove_prefix(2);
    const std::string stripped = collapse(strip_inline_markdown(body));
    if (!stripped.empty()) doc.text += stripped + "\n";
  }
  return doc;
}

ExtractedDocument extract_plain_text(std::string_view text) {
  const auto lines = split_lines(text);
  ExtractedDocument doc;
  doc.title = underlined_title(lines, 40);
  if (doc.title.empty()) {
    for (const auto& line : lines) {
      const std::string_view t = trim(line);
      if (t.empty()) continue;
      // A long first line is a paragraph, not a title.
      if (t.size() <= 100) doc.title = collapse(t);
      break;
    }
  }
  doc.text = std::string(text);
  return doc;
}

std::optional<DocumentFormat> format_for_extension(std::string_view extension) {
  std::string ext(extension);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return DocumentFormat::html;
  if (ext == ".md" || ext == ".markdown") return DocumentFormat::markdown;
  if (ext == ".txt" || ext == ".rst") return DocumentFormat::text;
  if (ext == ".pdf") return DocumentFormat::pdf;
  return std::nullopt;
}

}  // namespace scout
