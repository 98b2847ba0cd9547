#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/sampling/stop_matcher.h"

using namespace scout;

namespace {

struct Outcome {
  std::string shown;  // everything emitted, flush included when no stop string completed
  bool stopped = false;
  std::string matched;
};

Outcome run(StopMatcher& m, const std::vector<std::string>& chunks) {
  Outcome out;
  for (const std::string& chunk : chunks) {
    auto step = m.feed(chunk);
    out.shown += step.emit;
    if (step.stopped) {
      out.stopped = true;
      out.matched = step.matched;
      return out;
    }
  }
  out.shown += m.flush();
  return out;
}

}  // namespace

TEST_CASE("a stop string split across three chunks is caught and never shown", "[stop]") {
  StopMatcher m({"<|im_end|>"});
  auto a = m.feed("Hello <|im");
  CHECK(a.emit == "Hello ");
  CHECK_FALSE(a.stopped);
  CHECK(m.held() == 4);
  auto b = m.feed("_en");
  CHECK(b.emit.empty());
  CHECK_FALSE(b.stopped);
  auto c = m.feed("d|> and text after it");
  CHECK(c.emit.empty());
  CHECK(c.stopped);
  CHECK(c.matched == "<|im_end|>");
}

TEST_CASE("held text is released as soon as it can no longer become a stop string", "[stop]") {
  StopMatcher m({"<|im_end|>"});
  CHECK(m.feed("a <|im").emit == "a ");
  auto step = m.feed("age");
  CHECK(step.emit == "<|image");
  CHECK_FALSE(step.stopped);
  CHECK(m.held() == 0);
  // A new start of the stop string inside the released text stays held.
  CHECK(m.feed("x <").emit == "x ");
  CHECK(m.feed("<|").emit == "<");
  CHECK(m.held() == 2);
}

TEST_CASE("the stop string that completes first wins when one is a prefix of another", "[stop]") {
  SECTION("the shorter completes first") {
    StopMatcher m({"abc", "ab"});
    auto out = run(m, {"x", "a", "bc"});
    CHECK(out.shown == "x");
    CHECK(out.stopped);
    CHECK(out.matched == "ab");
  }
  SECTION("a longer string that ends at the same byte wins over its suffix") {
    StopMatcher m({"c", "abc"});
    auto out = run(m, {"zab", "cd"});
    CHECK(out.shown == "z");
    CHECK(out.matched == "abc");
  }
  SECTION("the longer one is held while it can still complete") {
    StopMatcher m({"\n\nUser:", "\n\n\n"});
    auto step = m.feed("done\n\nUs");
    CHECK(step.emit == "done");
    CHECK(run(m, {"er: hi"}).matched == "\n\nUser:");
  }
}

TEST_CASE("a stop string at the very start stops with nothing shown", "[stop]") {
  StopMatcher m({"</s>"});
  auto step = m.feed("</s>more");
  CHECK(step.stopped);
  CHECK(step.emit.empty());
  CHECK(step.matched == "</s>");
  // Stopped for good: later chunks show nothing.
  auto later = m.feed("text");
  CHECK(later.stopped);
  CHECK(later.emit.empty());
  CHECK(m.flush().empty());
}

TEST_CASE("flush returns the held text at the end of generation", "[stop]") {
  StopMatcher m({"STOP"});
  CHECK(m.feed("the end ST").emit == "the end ");
  CHECK(m.flush() == "ST");
  CHECK(m.held() == 0);
  CHECK(m.flush().empty());
}

TEST_CASE("without stop strings everything is emitted at once", "[stop]") {
  StopMatcher m({});
  CHECK(m.feed("<|im_end|>").emit == "<|im_end|>");
  StopMatcher empties({"", ""});  // empty strings are ignored
  auto step = empties.feed("abc");
  CHECK(step.emit == "abc");
  CHECK_FALSE(step.stopped);
  CHECK(empties.flush().empty());
}

TEST_CASE("a stop string that overlaps itself is found after a false start", "[stop]") {
  StopMatcher m({"aab"});
  CHECK(m.feed("a").emit.empty());
  CHECK(m.feed("a").emit.empty());
  CHECK(m.feed("a").emit == "a");  // "aaa": only the last "aa" can still start "aab"
  auto step = m.feed("b");
  CHECK(step.stopped);
  CHECK(step.emit.empty());
}

TEST_CASE("chunking does not change what is shown or where it stops", "[stop]") {
  const std::vector<std::string> stops = {"<|im_end|>", "\n\nUser:", "ééa"};
  const std::vector<std::string> texts = {
      "plain text with no stop at all <|im_en",
      "one <|im_end|> two <|im_end|>",
      "almost \n\nUse and then \n\nUser: there",
      "é ééé ééa é",  // multi-byte characters, stop string starts with one
      "<<|<|i<|im_end|>",
  };
  for (const std::string& text : texts) {
    CAPTURE(text);
    StopMatcher whole(stops);
    const Outcome expected = run(whole, {text});
    for (size_t width : {1, 2, 3, 5}) {
      CAPTURE(width);
      std::vector<std::string> chunks;
      for (size_t i = 0; i < text.size(); i += width) chunks.push_back(text.substr(i, width));
      StopMatcher m(stops);
      const Outcome got = run(m, chunks);
      CHECK(got.shown == expected.shown);
      CHECK(got.stopped == expected.stopped);
      CHECK(got.matched == expected.matched);
    }
  }
  StopMatcher check(stops);
  const Outcome out = run(check, {"é ééé ééa é"});
  CHECK(out.shown == "é ééé ");
  CHECK(out.matched == "ééa");
}
