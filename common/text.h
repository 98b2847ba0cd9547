// ASCII text helpers for protocol text — header names and values, media types, host names —
// where case and blanks are ASCII only and the locale must not matter.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace scout {

// `s` with A-Z turned into a-z; other bytes as they are.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  return out;
}

// `s` without the spaces and tabs at either end.
inline std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace scout
