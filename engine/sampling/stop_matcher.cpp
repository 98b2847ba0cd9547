#include "engine/sampling/stop_matcher.h"

#include <algorithm>
#include <utility>

namespace scout {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

StopMatcher::Step StopMatcher::feed(std::string_view text) {
  Step step;
  if (stopped_) {
    step.stopped = true;
    step.matched = matched_;
    return step;
  }
  // Searching held + text is enough: no match can start before the held suffix, because the
  // text before a match start would then be a longer suffix that is a prefix of a stop string.
  // Nor can one end inside it, or it would have stopped already.
  std::string buffer = std::move(held_);
  held_.clear();
  buffer.append(text);

  size_t best_end = std::string::npos;
  size_t best_start = 0;
  const std::string* best = nullptr;
  for (const std::string& stop : stops_) {
    // The first occurrence of one stop string is also its earliest-ending one.
    const size_t start = buffer.find(stop);
    if (start == std::string::npos) continue;
    const size_t end = start + stop.size();
    if (end < best_end || (end == best_end && start < best_start)) {
      best_end = end;
      best_start = start;
      best = &stop;
    }
  }
  if (best != nullptr) {
    buffer.resize(best_start);
    step.emit = std::move(buffer);
    step.stopped = stopped_ = true;
    step.matched = matched_ = *best;
    return step;
  }

  const size_t keep = partial_match_length(buffer);
  held_.assign(buffer, buffer.size() - keep, keep);
  buffer.resize(buffer.size() - keep);
  step.emit = std::move(buffer);
  return step;
}

std::string StopMatcher::flush() {
  std::string out = std::move(held_);
  held_.clear();
  return out;
}

size_t StopMatcher::partial_match_length(std::string_view text) const {
  size_t longest = 0;
  for (const std::string& stop : stops_) {
    // Try the longer candidates first; the first hit is this stop string's longest.
    for (size_t len = std::min(text.size(), stop.size() - 1); len > longest; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        longest = len;
        break;
      }
    }
  }
  return longest;
}

}  // namespace scout
