// ASCII text helpers for protocol and program text — header names and values, media types, host
// names, tool calls — where case and whitespace are ASCII only and the locale must not matter.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace scout {

// `s` with A-Z turned into a-z; other bytes as they are.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  return out;
}

// Whether `c` is ASCII whitespace: space, tab, newline, vertical tab, form feed, carriage return.
inline bool ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// `s` without ASCII whitespace at either end (for header values that is HTTP's optional
// whitespace; a parsed header value holds no CR or LF).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// `parts` with `separator` between them; `empty` when there are none.
inline std::string joined(const std::vector<std::string>& parts, std::string_view separator = ", ",
                          std::string_view empty = "") {
  if (parts.empty()) return std::string(empty);
  std::string out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) out.append(separator).append(parts[i]);
  return out;
}

}  // namespace scout
