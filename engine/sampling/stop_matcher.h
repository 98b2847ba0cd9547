// StopMatcher: finds stop strings in generated text that arrives in chunks (one per token or
// so), where a stop string may span several chunks.
//
// It holds back only text that could still become a stop string: the longest suffix of
// everything fed so far that is a proper prefix of some stop string. Everything before that is
// safe to show and is emitted at once.
//
//   fed:     "Hello <|e"      "nd|> bye"
//   emitted: "Hello "         ""          stopped, matched "<|end|>", " bye" discarded
//   held:    "<|e"
//
// When several stop strings could match, the one that completes first (in bytes) wins; among
// those completing at the same byte, the one that starts first (the longest), so no byte of
// the winning match is ever emitted. Matching is on bytes. If the stop strings and the input
// are valid UTF-8, every cut starts a stop string, so the emitted text never splits a
// character that the input chunks did not split already.
//
// Cost: each feed() is O((held + chunk) * total length of the stop strings), meant for a
// handful of short stop strings. Not thread-safe; one per sequence.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scout {

class StopMatcher {
 public:
  // Empty strings are ignored; with no stop strings everything is emitted as it arrives.
  explicit StopMatcher(std::vector<std::string> stops);

  struct Step {
    std::string emit;      // text now safe to show; never any part of a stop string
    bool stopped = false;  // a stop string completed
    std::string matched;   // which one, when stopped
  };

  // Feeds the next chunk. On a stop, `emit` is the text before the stop string and the text
  // after it is discarded. Once stopped, feed() returns an empty emit with stopped set and the
  // same `matched`, and flush() returns "".
  Step feed(std::string_view text);

  // End of generation: returns the held-back text (it did not become a stop string) and
  // starts over with nothing held.
  std::string flush();

  // Bytes held back right now.
  size_t held() const { return held_.size(); }
  bool stopped() const { return stopped_; }

 private:
  // The length of the longest suffix of `text` that is a proper prefix of a stop string.
  size_t partial_match_length(std::string_view text) const;

  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace scout
