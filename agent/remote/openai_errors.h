// What the remote backend does when a request fails: which failures are retried and after how
// long, and the messages a person reads when the turn cannot go on. Pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/remote/openai_options.h"

namespace scout::agent::remote {

// 408, 409 (a conflicting concurrent request), 429 and every 5xx: the same request may succeed
// later. Other statuses describe the request itself and would fail again.
bool is_retryable_status(int status);

// A Retry-After header value as a delay from `now`: delta-seconds ("120") or an HTTP date in any
// of the three forms RFC 9110 lists ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94
// 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"). A date in the past is a zero delay. nullopt when
// the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// The delay before retry number `retry` (1-based): initial * 2^(retry-1), at most `max`. No
// jitter: one user's client does not make a thundering herd, and a fixed schedule is one a
// person can reason about.
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max);

// The message an error response body carries: {"error": {"message": ...}}, {"error": "..."},
// {"message": ...}, {"detail": ...}, or the body's first bytes when it is none of those.
std::string server_error_text(std::string_view body);

// The error for a response with a non-2xx status that is not retried (or that ran out of
// retries): what failed, the server's own message and what to do. `options.api_key` never
// appears in it, even when the server quotes it back.
std::string status_error_message(int status, std::string_view reason, std::string_view body,
                                 const OpenAiOptions& options);

// `text` with every occurrence of `secret` replaced by "<redacted>" (nothing when secret is
// empty).
std::string redact(std::string text, std::string_view secret);

}  // namespace scout::agent::remote
