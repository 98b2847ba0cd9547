// libFuzzer target: the server-sent events parser (tools/http/sse.h) on arbitrary streams,
// fed whole and in chunks, as Client::fetch_streaming's sink feeds it.
//
// Input: bytes 0-3 are chunk sizes (cycled; 0 feeds an empty chunk), byte 4 picks the size
// limit (small, so the failed state is reached); the rest is the stream.
//
// Checked, as sse.h promises: the chunking changes nothing — the same events, the same last
// event ID and reconnection time, and the same failed state; no event is larger than the limit;
// every event has data (an event is dispatched only with data), a type, and an id without NUL.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "tools/http/sse.h"

namespace {

using scout::fuzz::check;
using scout::tools::http::SseEvent;
using scout::tools::http::SseParser;

struct Outcome {
  std::vector<SseEvent> events;
  std::string last_id;
  std::optional<std::uint64_t> retry;
  bool failed = false;
};

Outcome run(std::string_view stream, std::size_t limit, const std::uint8_t* sizes, std::size_t n_sizes, bool whole) {
  SseParser parser(limit);
  Outcome out;
  auto take = [&](std::string_view piece) {
    for (auto& e : parser.feed(piece)) out.events.push_back(std::move(e));
  };
  if (whole) take(stream);
  else scout::fuzz::for_each_piece(stream, sizes, n_sizes, take);
  out.last_id = parser.last_event_id();
  out.retry = parser.reconnection_time();
  out.failed = parser.failed();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  std::uint8_t sizes[4];
  for (auto& s : sizes) s = in.byte() % 16;
  const std::size_t limit = 8 + in.byte() * 4;
  const std::string_view stream = in.rest();

  const Outcome whole = run(stream, limit, sizes, 4, true);
  const Outcome chunked = run(stream, limit, sizes, 4, false);
  check(whole.failed == chunked.failed, "the chunking decides whether the stream fails");
  check(whole.events.size() == chunked.events.size(), "the chunking changes the number of events");
  for (std::size_t i = 0; i < whole.events.size(); ++i) {
    const SseEvent& a = whole.events[i];
    const SseEvent& b = chunked.events[i];
    check(a.event == b.event && a.data == b.data && a.id == b.id && a.retry == b.retry, "the chunking changes an event");
    check(!a.event.empty(), "an event without a type");
    check(a.id.find('\0') == std::string::npos, "an event id with NUL");
    check(a.data.size() <= limit, "an event larger than the limit");
  }
  check(whole.last_id == chunked.last_id && whole.retry == chunked.retry, "the chunking changes the stream's state");
  return 0;
}
