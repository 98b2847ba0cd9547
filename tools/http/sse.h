// SseParser: server-sent events (text/event-stream) as the WHATWG HTML spec defines them
// (section 9.2.6, "Interpreting an event stream"), fed byte chunks of any size and split
// anywhere, e.g. straight from Client::fetch_streaming's sink.
//
//   SseParser parser;
//   sink = [&](std::string_view bytes) { for (auto& e : parser.feed(bytes)) handle(e); return true; };
//
// Lines end with CRLF, LF or CR (a CRLF split across two chunks is one line end). A leading
// UTF-8 BOM is skipped. Lines starting with ':' are comments. "data" lines are joined with '\n';
// an event is dispatched at an empty line, and only when it has data. "id" sets the last event
// ID, which persists to later events (an id containing NUL is ignored); "retry" with only ASCII
// digits sets the reconnection time. Other fields are ignored. Bytes are passed through as
// given (no UTF-8 validation); an incomplete event at the end of the stream is dropped, as the
// spec says.
//
// A line or an event's data longer than max_event_bytes puts the parser in a failed state
// (error() says so) and later input is ignored: a hostile stream cannot grow memory unbounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scout::tools::http {

struct SseEvent {
  std::string event = "message";       // the "event" field, or "message"
  std::string data;                    // "data" lines joined with '\n'
  std::string id;                      // the last event ID in force when it was dispatched
  std::optional<std::uint64_t> retry;  // set when this event's block had a valid "retry" field
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 16u << 20) : max_event_bytes_(max_event_bytes) {}

  // Parses `bytes` and returns the events they complete, in order.
  std::vector<SseEvent> feed(std::string_view bytes);

  // The last event ID and the reconnection time in force (the latter nullopt until a stream
  // sets one).
  const std::string& last_event_id() const { return last_event_id_; }
  std::optional<std::uint64_t> reconnection_time() const { return reconnection_time_; }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  void process_line(std::string_view line, std::vector<SseEvent>& out);
  void fail_long_line();

  std::size_t max_event_bytes_;
  std::string line_;             // the current, unfinished line
  bool after_cr_ = false;        // the last byte seen was CR: a following LF is part of that line end
  bool bom_checked_ = false;
  std::string bom_prefix_;       // the first bytes while it is not yet known whether they are a BOM
  std::string data_;
  std::string event_type_;
  bool has_data_ = false;
  std::optional<std::uint64_t> block_retry_;
  std::string last_event_id_;
  std::optional<std::uint64_t> reconnection_time_;
  std::string error_;
};

}  // namespace scout::tools::http
