#include "tools/http/sse.h"

#include <algorithm>

namespace scout::tools::http {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  if (failed()) return out;
  if (!bom_checked_) {
    // The BOM is EF BB BF; it may arrive split across chunks.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    while (!bytes.empty() && bom_prefix_.size() < kBom.size()) {
      bom_prefix_ += bytes.front();
      bytes.remove_prefix(1);
      if (!kBom.starts_with(bom_prefix_)) break;
    }
    if (bom_prefix_ == kBom) {
      bom_checked_ = true;
      bom_prefix_.clear();
    } else if (!kBom.starts_with(bom_prefix_)) {
      bom_checked_ = true;
      std::string prefix = std::move(bom_prefix_);
      bom_prefix_.clear();
      auto first = feed(prefix);
      out.insert(out.end(), std::make_move_iterator(first.begin()), std::make_move_iterator(first.end()));
      if (failed()) return out;
    } else {
      return out;  // still could be a BOM: wait for more bytes
    }
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\r' && c != '\n') {
      after_cr_ = false;
      continue;
    }
    if (c == '\n' && after_cr_ && i == start && line_.empty()) {
      // The LF of a CRLF whose CR ended the previous line.
      after_cr_ = false;
      start = i + 1;
      continue;
    }
    line_.append(bytes.substr(start, i - start));
    // Checked here too, not only for the unfinished line at the end of a chunk: a long line that
    // arrives whole in one chunk fails the stream just as it does spread over several.
    if (line_.size() > max_event_bytes_) {
      fail_long_line();
      return out;
    }
    process_line(line_, out);
    line_.clear();
    if (failed()) return out;
    after_cr_ = c == '\r';
    start = i + 1;
  }
  line_.append(bytes.substr(start));
  if (line_.size() > max_event_bytes_) fail_long_line();
  return out;
}

void SseParser::fail_long_line() {
  error_ = "server-sent event line longer than " + std::to_string(max_event_bytes_) + " bytes";
  line_.clear();
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    // Dispatch.
    if (has_data_) {
      SseEvent e;
      e.event = event_type_.empty() ? "message" : event_type_;
      e.data = std::move(data_);
      e.id = last_event_id_;
      e.retry = block_retry_;
      out.push_back(std::move(e));
    }
    data_.clear();
    has_data_ = false;
    event_type_.clear();
    block_retry_.reset();
    return;
  }
  if (line.front() == ':') return;  // comment
  const std::size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
    if (data_.size() > max_event_bytes_)
      error_ = "server-sent event data longer than " + std::to_string(max_event_bytes_) + " bytes";
  } else if (field == "event") {
    event_type_ = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_ = std::string(value);
  } else if (field == "retry") {
    if (!value.empty() && value.size() <= 19 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      const std::uint64_t ms = std::stoull(std::string(value));
      reconnection_time_ = ms;
      block_retry_ = ms;
    }
  }
}

}  // namespace scout::tools::http
