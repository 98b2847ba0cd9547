// Parsing JSON that comes from outside the process: protocol messages (HTTP bodies, stdio
// lines, SSE data), a model's tool-call arguments, files other programs wrote.
//
// Why not Json::parse directly: nlohmann's parser keeps its own stack and survives any
// nesting, but copying, comparing or dumping the value it returns recurses once per level, so
// 200,000 nested '[' overflow the thread's stack later, far from the parse. Everything read
// from outside goes through parse_json, which refuses such input up front with an error that
// says so; no legitimate message Scout reads nests anywhere near the limit.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace scout {

// The deepest nesting parse_json accepts: `[[1]]` is 2 deep. serde_json's default, and far
// beyond real messages (a JSON Schema of a tool seldom passes 10).
inline constexpr std::size_t kMaxJsonDepth = 128;

// Whether the arrays and objects of `text` nest deeper than `max_depth`, counted in one pass
// without parsing: brackets inside strings (escapes included) do not count. For text that is
// not JSON the answer is only an estimate, which is enough: such text fails to parse anyway.
inline bool json_nests_deeper_than(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is, cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// The parser's message without nlohmann's "[json.exception.parse_error.101] " prefix:
// "parse error at line 1, column 3: syntax error while parsing object key - …; last read: '{no'".
// The "last read" token can be the whole of a long unterminated string; only its last 40 bytes
// are kept (where the error is), cut at a UTF-8 character boundary.
inline std::string json_error_text(const std::exception& e) {
  std::string what = e.what();
  if (what.rfind("[json.exception.", 0) == 0) {
    const std::size_t close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
  }
  constexpr std::size_t kKeep = 40;
  const std::string marker = "last read: '";
  const std::size_t start = what.find(marker);
  const std::size_t end = start == std::string::npos ? start : what.find("'", start + marker.size());
  if (end != std::string::npos && end - (start + marker.size()) > kKeep) {
    std::size_t cut = end - kKeep;
    while (cut < end && (static_cast<unsigned char>(what[cut]) & 0xC0) == 0x80) ++cut;
    what.replace(start + marker.size(), cut - (start + marker.size()), "…");
  }
  return what;
}

// `text` as a JSON value (nlohmann::json or ordered_json), or why it is not one: a syntax error
// as the parser words it, or "nested deeper than 128 levels". Never throws.
template <class J = nlohmann::json>
Result<J> parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
  if (json_nests_deeper_than(text, max_depth))
    return make_error("arrays and objects nested deeper than " + std::to_string(max_depth) + " levels");
  try {
    return J::parse(text);
  } catch (const std::exception& e) {
    return make_error(json_error_text(e));
  }
}

// The JSON file at `path` (another program's, or one a person may have edited), read whole.
template <class J = nlohmann::json>
Result<J> read_json_file(const std::filesystem::path& path, std::size_t max_depth = kMaxJsonDepth) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path.string() + ": cannot open for reading");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return make_error(path.string() + ": read error");
  auto parsed = parse_json<J>(text, max_depth);
  if (!parsed) return make_error(path.string() + ": not valid JSON (" + parsed.error().message + ")");
  return parsed;
}

}  // namespace scout
