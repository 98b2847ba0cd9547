// common/utf8.h: text from libraries that may hand out ill-formed UTF-8 is made well formed.
#include <catch2/catch.hpp>

#include <string>

#include "common/utf8.h"

using scout::valid_utf8;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";
}

TEST_CASE("well-formed UTF-8 comes back unchanged, from ASCII to four-byte characters", "[common][utf8]") {
  for (const std::string& text : {std::string(), std::string("plain"), std::string("caf\xC3\xA9"),
                                 std::string("\xE2\x82\xAC 5"), std::string("\xF0\x9F\xA6\xA6 otter"),
                                 std::string("\xEF\xBF\xBF\xF4\x8F\xBF\xBF"), std::string("a\0b", 3)}) {
    CHECK(valid_utf8(text) == text);
  }
}

TEST_CASE("each maximal ill-formed part becomes one U+FFFD, as Unicode recommends", "[common][utf8]") {
  CHECK(valid_utf8("\xE0") == kFffd);                           // a lead byte alone (what gumbo wrote)
  CHECK(valid_utf8("a\xE2\x82" "b") == "a" + kFffd + "b");      // a sequence cut short
  CHECK(valid_utf8("\xED\xA0\x80") == kFffd + kFffd + kFffd);   // a surrogate: no valid prefix
  CHECK(valid_utf8("\xC0\xAF") == kFffd + kFffd);               // an overlong form
  CHECK(valid_utf8("\xF4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);  // past U+10FFFF
  CHECK(valid_utf8("\x80\xBF") == kFffd + kFffd);               // stray continuation bytes
  CHECK(valid_utf8("\xF0\x9F\xA6") == kFffd);                   // three of four bytes
  CHECK(valid_utf8("\xFF x") == kFffd + " x");
}
