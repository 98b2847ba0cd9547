// Text and titles from HTML, Markdown and plain text, as the offline index stores them.
#include <catch2/catch.hpp>

#include "tools/search/text_extract.h"

using Catch::Contains;
using scout::DocumentFormat;

TEST_CASE("HTML extraction drops scripts, styles and navigation and decodes entities", "[search]") {
  const auto doc = scout::extract_html(
      "<!doctype html><html><head><title>Fish &amp; Chips</title><style>body{color:red}</style>"
      "<script>var secret = 'leaked';</script></head><body>"
      "<nav><a href='/'>Home</a> | <a href='/menu'>Menu</a></nav>"
      "<div role=\"navigation\">Sidebar links</div>"
      "<h1>Cooking   guide</h1><p>Heat the oil to 180&nbsp;&deg;C &mdash; not more.</p>"
      "<script>trackVisitor();</script><p>Serve with &lt;salt&gt;.</p></body></html>");
  CHECK(doc.title == "Fish & Chips");
  CHECK_THAT(doc.text, Contains("Cooking guide\n"));
  CHECK_THAT(doc.text, Contains("Heat the oil to 180\u00a0\u00b0C \u2014 not more."));
  CHECK_THAT(doc.text, Contains("Serve with <salt>."));
  for (const char* gone : {"secret", "trackVisitor", "color:red", "Home", "Menu", "Sidebar"}) {
    CHECK_THAT(doc.text, !Contains(gone));
  }
}

TEST_CASE("HTML without a title element takes its title from the first h1", "[search]") {
  const auto doc = scout::extract_html("<body><p>intro</p><h1>First <em>heading</em></h1><h1>Second</h1></body>");
  CHECK(doc.title == "First heading");
  CHECK_THAT(doc.text, Contains("intro\nFirst heading\nSecond"));
}

TEST_CASE("HTML with no title and no h1 has an empty title", "[search]") {
  CHECK(scout::extract_html("<p>just text</p>").title.empty());
  CHECK(scout::extract_html("").text.empty());
}

TEST_CASE("Markdown extraction takes the first heading as title and drops markup", "[search]") {
  const auto doc = scout::extract_markdown(
      "Some preface\n\n"
      "# Installing *Scout*\n\n"
      "Run the [setup script](scripts/setup.sh) with **root** rights: `sudo setup.sh`.\n"
      "![diagram](img.png)\n"
      "- first_item in a list\n"
      "```\ncode_block(here)\n```\n"
      "## Next steps\n");
  CHECK(doc.title == "Installing Scout");
  CHECK_THAT(doc.text, Contains("Run the setup script with root rights: sudo setup.sh."));
  CHECK_THAT(doc.text, Contains("diagram"));
  CHECK_THAT(doc.text, Contains("first_item in a list"));
  CHECK_THAT(doc.text, Contains("code_block(here)"));
  CHECK_THAT(doc.text, Contains("Next steps"));
  CHECK_THAT(doc.text, !Contains("img.png"));
  CHECK_THAT(doc.text, !Contains("**"));
}

TEST_CASE("Markdown setext headings are titles too", "[search]") {
  CHECK(scout::extract_markdown("Release notes\n=============\n\nText.\n").title == "Release notes");
}

TEST_CASE("plain text takes a reST underlined heading, else its first short line, as title", "[search]") {
  CHECK(scout::extract_plain_text("\n\nShopping list\n\neggs\nmilk\n").title == "Shopping list");
  CHECK(scout::extract_plain_text(".. comment\n\nThe module\n==========\n\nBody.\n").title == "The module");
  CHECK(scout::extract_plain_text(std::string(300, 'x')).title.empty());
  CHECK(scout::extract_plain_text("a\nb\n").text == "a\nb\n");
}

TEST_CASE("file extensions choose the format and unknown ones are refused", "[search]") {
  CHECK(scout::format_for_extension(".HTML") == DocumentFormat::html);
  CHECK(scout::format_for_extension(".htm") == DocumentFormat::html);
  CHECK(scout::format_for_extension(".md") == DocumentFormat::markdown);
  CHECK(scout::format_for_extension(".rst") == DocumentFormat::text);
  CHECK(scout::format_for_extension(".txt") == DocumentFormat::text);
  CHECK_FALSE(scout::format_for_extension(".png").has_value());
  CHECK_FALSE(scout::format_for_extension("").has_value());
}

TEST_CASE("HTML extraction gives well-formed UTF-8 even where gumbo's decoding of a character reference does not",
          "[search][hostile]") {
  // gumbo 0.10 turns an overflowing hexadecimal reference into a lone 0xE0 byte.
  for (const char* page : {"&#xEEEEEEE0", "<title>&#xEEEEEEE0;</title><p>x &#xFFFFFFFFFF; y</p>"}) {
    INFO(page);
    const auto doc = scout::extract_html(page);
    CHECK(doc.text.find('\xE0') == std::string::npos);
    CHECK(doc.title.find('\xE0') == std::string::npos);
    CHECK((doc.text + doc.title).find("\xEF\xBF\xBD") != std::string::npos);
  }
}
