// Helpers for StreamParser tests: every input is also fed in every 2- and 3-piece split (short
// inputs) and in 1-, 2- and 3-byte chunks, and must give the same events as fed whole, once
// adjacent text events of the same kind are joined (how text is divided into events depends on
// the chunking by design; what it says must not).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/stream_parser.h"

namespace scout::agent::testing {

// Joins adjacent text events of one kind.
inline std::vector<StreamEvent> normalize(const std::vector<StreamEvent>& events) {
  std::vector<StreamEvent> out;
  for (const StreamEvent& e : events) {
    const bool is_text = e.kind == StreamEvent::Kind::thinking_text || e.kind == StreamEvent::Kind::answer_text;
    REQUIRE((!is_text || !e.text.empty()));  // no empty text events
    if (is_text && !out.empty() && out.back().kind == e.kind) {
      out.back().text += e.text;
    } else {
      out.push_back(e);
    }
  }
  return out;
}

inline std::vector<StreamEvent> parse_chunks(const StreamTags& tags, const std::vector<std::string>& chunks,
                                             StreamParser::Start start, const std::vector<ThoughtAction>& actions = {}) {
  StreamParser parser(tags, start, actions);
  std::vector<StreamEvent> all;
  for (const std::string& c : chunks) {
    auto events = parser.feed(c);
    all.insert(all.end(), events.begin(), events.end());
  }
  auto tail = parser.finish();
  all.insert(all.end(), tail.begin(), tail.end());
  return normalize(all);
}

inline bool same(const std::vector<StreamEvent>& a, const std::vector<StreamEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].text != b[i].text || a[i].raw != b[i].raw || a[i].call.id != b[i].call.id ||
        a[i].call.name != b[i].call.name || a[i].call.arguments != b[i].call.arguments)
      return false;
  }
  return true;
}

inline std::string describe(const std::vector<StreamEvent>& events) {
  std::string out;
  for (const StreamEvent& e : events) {
    const char* names[] = {"thinking", "answer", "tool_call", "issue", "thought_call"};
    out += std::string(names[static_cast<int>(e.kind)]) + "[" + e.text + "|" + e.raw + "|" + e.call.name + " " +
           e.call.arguments.dump() + "]\n";
  }
  return out;
}

// Parses `input` whole, checks every chunking gives the same events, returns them.
inline std::vector<StreamEvent> parse_all_chunkings(const StreamTags& tags, const std::string& input,
                                                    StreamParser::Start start = StreamParser::Start::answer,
                                                    const std::vector<ThoughtAction>& actions = {}) {
  const auto whole = parse_chunks(tags, {input}, start, actions);
  INFO("input: " << input << "\nwhole:\n" << describe(whole));
  const size_t n = input.size();
  for (size_t i = 0; i <= n; ++i) {
    const auto split = parse_chunks(tags, {input.substr(0, i), input.substr(i)}, start, actions);
    INFO("split at " << i << ":\n" << describe(split));
    REQUIRE(same(split, whole));
    if (n > 120) continue;
    for (size_t j = i; j <= n; ++j) {
      REQUIRE(same(parse_chunks(tags, {input.substr(0, i), input.substr(i, j - i), input.substr(j)}, start, actions), whole));
    }
  }
  for (size_t size = 1; size <= 3; ++size) {
    std::vector<std::string> chunks;
    for (size_t i = 0; i < n; i += size) chunks.push_back(input.substr(i, size));
    INFO("chunks of " << size);
    REQUIRE(same(parse_chunks(tags, chunks, start, actions), whole));
  }
  return whole;
}

}  // namespace scout::agent::testing
