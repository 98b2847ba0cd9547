#include "agent/remote/openai_errors.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json.h"
#include "common/text.h"

namespace scout::agent::remote {

namespace {

using json = nlohmann::json;

constexpr std::size_t kBodyExcerptBytes = 400;


std::optional<int> to_int(std::string_view digits) {
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<unsigned> month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                               "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::string lower = ascii_lower(name);
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (lower == kMonths[i]) return static_cast<unsigned>(i + 1);
  }
  return std::nullopt;
}

// The three HTTP date forms share one reading: split on spaces, commas and dashes; the month is
// the token that names one, the time the token with colons, and the other numbers are the day
// then the year, in that order, in all three forms.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ' || text[i] == ',' || text[i] == '-') {
      if (i > start) tokens.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::optional<unsigned> month;
  std::vector<int> numbers;
  std::optional<std::array<int, 3>> hms;
  for (std::string_view t : tokens) {
    if (t.find(':') != std::string_view::npos) {
      if (t.size() != 8 || t[2] != ':' || t[5] != ':') return std::nullopt;
      const auto h = to_int(t.substr(0, 2)), m = to_int(t.substr(3, 2)), s = to_int(t.substr(6, 2));
      if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
      hms = std::array<int, 3>{*h, *m, *s};
    } else if (std::isdigit(static_cast<unsigned char>(t[0]))) {
      const auto n = to_int(t);
      if (!n) return std::nullopt;
      numbers.push_back(*n);
    } else if (const auto m = month_number(t)) {
      month = m;
    }  // weekday names and "GMT" carry nothing the date needs
  }
  if (!month || !hms || numbers.size() != 2) return std::nullopt;
  int year = numbers[1];
  if (year < 100) year += year < 70 ? 2000 : 1900;  // RFC 850's two-digit years
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(*month),
                                         std::chrono::day(static_cast<unsigned>(numbers[0]))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours((*hms)[0]) + std::chrono::minutes((*hms)[1]) +
         std::chrono::seconds((*hms)[2]);
}

bool mentions_context_overflow(std::string_view message) {
  const std::string lower = ascii_lower(message);
  for (const char* phrase : {"context length", "context window", "maximum context", "context_length", "too long",
                             "too many tokens", "exceeds the context", "exceed_context", "context size"}) {
    if (lower.find(phrase) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

bool is_retryable_status(int status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // Delta-seconds; absurd values saturate rather than overflow.
    const auto seconds = to_int(value.size() > 9 ? std::string_view("999999999") : value);
    return std::chrono::milliseconds(static_cast<std::int64_t>(*seconds) * 1000);
  }
  const auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(*date - now);
}

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial, std::chrono::milliseconds max) {
  std::chrono::milliseconds delay = initial;
  for (int i = 1; i < retry && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

std::string server_error_text(std::string_view body) {
  const auto read = parse_json<json>(body);
  if (read && read->is_object()) {
    const json& parsed = *read;
    for (const char* key : {"error", "message", "detail"}) {
      const auto it = parsed.find(key);
      if (it == parsed.end()) continue;
      if (it->is_string()) return it->get<std::string>();
      if (it->is_object()) {
        const auto message = it->find("message");
        if (message != it->end() && message->is_string()) return message->get<std::string>();
      }
    }
  }
  std::string_view text = trim(body);
  if (text.size() <= kBodyExcerptBytes) return std::string(text);
  std::size_t cut = kBodyExcerptBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "…";
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "<redacted>");
    pos += 10;
  }
  return text;
}

std::string status_error_message(int status, std::string_view reason, std::string_view body,
                                 const OpenAiOptions& options) {
  const std::string server_text = server_error_text(body);
  std::string out = "HTTP " + std::to_string(status);
  if (!reason.empty()) out += " (" + std::string(reason) + ")";
  if (!server_text.empty()) out += ": " + server_text;
  out += ".";
  if (status == 401 || status == 403) {
    if (options.api_key.empty()) {
      out += " The server wants an API key and none was sent; set one with " + options.api_key_source + ".";
    } else {
      out += " The server refused the API key; check the key set by " + options.api_key_source + ".";
    }
  } else if (status == 404) {
    out += " Check the model name ('" + options.model + "') and the base URL (" + options.base_url +
           "; OpenAI-compatible servers usually serve under /v1).";
  } else if ((status == 400 || status == 413 || status == 422) && mentions_context_overflow(server_text)) {
    out += " The conversation no longer fits in the model's context window: start a new task, or lower the"
           " turn's max tokens.";
  } else if (status == 429) {
    out += " The server is rate limiting requests; wait, or raise the limit with the provider.";
  }
  return redact(std::move(out), options.api_key);
}

}  // namespace scout::agent::remote
