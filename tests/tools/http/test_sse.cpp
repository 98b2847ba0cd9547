// SseParser against the WHATWG event-stream rules, fed whole and split at every byte.
#include <catch2/catch.hpp>

#include "tools/http/sse.h"

using namespace scout::tools::http;
using namespace std::literals;

namespace {

std::vector<SseEvent> parse_whole(std::string_view stream) {
  SseParser p;
  return p.feed(stream);
}

// Feeds the stream one byte at a time and in two pieces split at every position; every way must
// give the same events as feeding it whole.
std::vector<SseEvent> parse_every_split(std::string_view stream) {
  const auto whole = parse_whole(stream);
  auto same = [](const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id || a[i].retry != b[i].retry) return false;
    return true;
  };
  SseParser bytewise;
  std::vector<SseEvent> by_byte;
  for (char c : stream)
    for (auto& e : bytewise.feed(std::string_view(&c, 1))) by_byte.push_back(std::move(e));
  CHECK(same(whole, by_byte));
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    auto events = p.feed(stream.substr(0, cut));
    for (auto& e : p.feed(stream.substr(cut))) events.push_back(std::move(e));
    INFO("split at " << cut);
    CHECK(same(whole, events));
  }
  return whole;
}

}  // namespace

TEST_CASE("sse: data lines become events at blank lines", "[sse]") {
  auto events = parse_every_split("data: hello\n\ndata: second\ndata:  two lines\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].event == "message");
  CHECK(events[0].data == "hello");
  CHECK(events[1].data == "second\n two lines");  // one leading space is removed, not two
}

TEST_CASE("sse: CRLF, CR and LF all end lines, also when split between chunks", "[sse]") {
  auto events = parse_every_split("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\ndata: e\r\n\r\n");
  REQUIRE(events.size() == 4);
  CHECK(events[0].data == "a");
  CHECK(events[1].data == "b");
  CHECK(events[2].data == "c");
  CHECK(events[3].data == "d\ne");
}

TEST_CASE("sse: event types, ids that persist, and retry", "[sse]") {
  auto events = parse_every_split(
      "event: delta\nid: 7\ndata: {\"x\":1}\n\n"
      "data: no type, same id\n\n"
      "retry: 2500\nid\ndata: id cleared\n\n"
      "retry: soon\nid: a\0b\ndata: bad retry and bad id ignored\n\n"sv);
  REQUIRE(events.size() == 4);
  CHECK(events[0].event == "delta");
  CHECK(events[0].id == "7");
  CHECK(events[0].data == "{\"x\":1}");
  CHECK_FALSE(events[0].retry);
  CHECK(events[1].event == "message");  // the type does not carry over
  CHECK(events[1].id == "7");           // the last event ID does
  CHECK(events[2].id.empty());
  CHECK(events[2].retry == 2500u);
  CHECK(events[3].id.empty());
  CHECK_FALSE(events[3].retry);
  SseParser p;
  (void)p.feed("retry: 300\n\n");
  CHECK(p.reconnection_time() == 300u);
}

TEST_CASE("sse: comments, unknown fields and fields without a colon", "[sse]") {
  auto events = parse_every_split(
      ": this is a comment\n"
      "unknown: field\n"
      "Data: wrong case, ignored\n"
      "data\n"
      "\n"
      "data:no space\n\n"
      ":keep-alive\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].data.empty());  // "data" alone is an empty data line: an event with empty data
  CHECK(events[1].data == "no space");
}

TEST_CASE("sse: blocks without data dispatch nothing; an unfinished event is dropped", "[sse]") {
  CHECK(parse_every_split("event: ping\n\nid: 3\n\n").empty());
  CHECK(parse_every_split("data: never finished\n").empty());
  SseParser p;
  (void)p.feed("id: 9\n\n");
  CHECK(p.last_event_id() == "9");
  auto events = p.feed("data: x\n\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].id == "9");
}

TEST_CASE("sse: a leading BOM is skipped, even split across chunks; a later one is data", "[sse]") {
  auto events = parse_every_split("\xEF\xBB\xBF" "data: after bom\n\ndata: \xEF\xBB\xBFinner\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].data == "after bom");
  CHECK(events[1].data == "\xEF\xBB\xBFinner");
  // Bytes that only start like a BOM are kept.
  auto partial = parse_every_split("\xEF\xBB" "data: x\n\ndata: y\n\n");
  REQUIRE(partial.size() == 1);
  CHECK(partial[0].data == "y");
}

TEST_CASE("sse: OpenAI-style streams parse into their JSON payloads", "[sse]") {
  auto events = parse_every_split(
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
      "data: [DONE]\n\n");
  REQUIRE(events.size() == 3);
  CHECK(events[1].data == "{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}");
  CHECK(events[2].data == "[DONE]");
}

TEST_CASE("sse: an endless line or event fails the parser instead of growing", "[sse][hostile]") {
  SseParser p(1024);
  const std::string junk(600, 'a');
  (void)p.feed("data: " + junk);
  CHECK_FALSE(p.failed());
  (void)p.feed(junk);
  CHECK(p.failed());
  CHECK_THAT(p.error(), Catch::Contains("longer than 1024 bytes"));
  CHECK(p.feed("\n\ndata: later\n\n").empty());

  SseParser q(1024);
  for (int i = 0; i < 20 && !q.failed(); ++i) (void)q.feed("data: " + std::string(100, 'b') + "\n");
  CHECK(q.failed());
}

TEST_CASE("sse: a line over the limit fails the parser also when it arrives whole in one chunk", "[sse][hostile]") {
  // Fed whole, as fed byte by byte: the chunking never decides whether a stream fails.
  const std::string stream = "data: first\n\nevent: " + std::string(40, 'e') + "\ndata: second\n\n";
  SseParser whole(32);
  const auto events = whole.feed(stream);
  CHECK(whole.failed());
  CHECK_THAT(whole.error(), Catch::Contains("longer than 32 bytes"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "first");
  SseParser bytewise(32);
  std::size_t count = 0;
  for (char c : stream) count += bytewise.feed(std::string_view(&c, 1)).size();
  CHECK(bytewise.failed());
  CHECK(count == 1);
}
