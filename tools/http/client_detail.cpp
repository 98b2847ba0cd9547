#include "common/text.h"
#include "tools/http/client_detail.h"

#include <algorithm>
#include <cctype>
#include <cstdio>


namespace scout::tools::http::detail {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}



std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// The URL as error messages show it: query values whose names suggest a secret are hidden
// (some APIs take their key in the query string).
std::string shown_url(const Url& url) {
  std::string s = url.str();
  const std::size_t q = s.find('?');
  if (q == std::string::npos) return s;
  std::string out = s.substr(0, q + 1);
  std::string_view query(s);
  query.remove_prefix(q + 1);
  bool first = true;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    const std::string name = ascii_lower(pair.substr(0, eq));
    const bool secret = name.find("key") != std::string::npos || name.find("token") != std::string::npos ||
                        name.find("secret") != std::string::npos || name.find("password") != std::string::npos ||
                        name.find("auth") != std::string::npos || name.find("sig") != std::string::npos;
    if (!first) out += '&';
    first = false;
    if (secret && eq != std::string_view::npos) {
      out += std::string(pair.substr(0, eq)) + "=REDACTED";
    } else {
      out += pair;
    }
  }
  return out;
}

HttpError make_http_error(ErrorKind kind, std::string message) { return HttpError{kind, std::move(message)}; }

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}
Expiry expiry_for(const FetchState& st, std::chrono::milliseconds phase) {
  const auto left = st.deadline - Clock::now();
  if (left <= phase) return {std::max<Clock::duration>(left, Clock::duration::zero()), true};
  return {phase, false};
}

HttpError total_timeout_error(const FetchState& st, const Url& url) {
  return make_http_error(ErrorKind::timeout, "fetching " + shown_url(url) + " took longer than the total timeout of " +
                                                 seconds_text(st.options.total_timeout));
}

}  // namespace scout::tools::http::detail
