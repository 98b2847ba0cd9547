// Shared by the hostile HTTP client suites: request headers carrying a secret, and the check
// every hostile case makes of its error: the kind, the host named, what happened, and no header
// value repeated.
#pragma once

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

#include "tests/tools/http/http_test_support.h"

namespace scout::tools::http::testing {

inline constexpr const char* kSecret = "sk-SECRET-0123456789";

inline Request with_secret_headers() {
  Request r;
  r.headers = {{"Authorization", std::string("Bearer ") + kSecret}, {"X-Api-Key", kSecret}};
  return r;
}

// The failure every hostile case expects: the kind, the host named, the words given, and no
// header value.
inline void check_error(const HttpResult<Response>& r, ErrorKind kind, std::string_view host,
                        std::initializer_list<std::string_view> words = {}) {
  REQUIRE_FALSE(r);
  INFO("message: " << r.error().message);
  CHECK(error_kind_name(r.error().kind) == std::string(error_kind_name(kind)));
  CHECK_THAT(r.error().message, Catch::Contains(std::string(host)));
  for (auto w : words) CHECK_THAT(r.error().message, Catch::Contains(std::string(w)));
  CHECK_THAT(r.error().message, !Catch::Contains(kSecret));
}

// A public-only policy; nothing in these tests may be connected to.
inline Options public_only() {
  Options o = local_options();
  o.address_policy.allow_private = false;
  return o;
}

// A server that counts connections that got as far as a request; for SSRF cases it must stay 0.
struct Target {
  scout::test::LocalHttpServer server{[](const scout::test::HttpExchange&, scout::test::RawConnection& conn) {
    conn.write(scout::test::http_response(200, "text/plain", "internal secret"));
  }};
  std::string url_with_host(std::string_view host) const {
    return "http://" + std::string(host) + ":" + std::to_string(server.port()) + "/admin";
  }
};

}  // namespace scout::tools::http::testing
