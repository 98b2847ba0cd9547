// OAuth pieces checked alone: the PKCE transform against an independent computation, WWW-Authenticate
// parsing, and a flow whose authorization answer comes back with a forged state. The whole flow
// against real authorization servers is the conformance suite's auth scenarios
// (scripts/mcp-conformance.sh client), run by the tests.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "plugins/mcp/oauth.h"
#include "tests/common/scratch.h"
#include "tests/plugins/mcp/mcp_test_support.h"
#include "tests/support/local_http_server.h"
#include "tools/http/http_client.h"

using namespace scout::plugins::mcp;
using scout::plugins::mcp::testing::run;
using scout::test::HttpExchange;
using scout::test::LocalHttpServer;
using scout::test::RawConnection;
using Catch::Contains;
namespace asio = boost::asio;

TEST_CASE("the PKCE challenge is base64url of the verifier's SHA-256, unpadded", "[mcp][oauth]") {
  // Expected value from Python: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).rstrip(b"=").
  CHECK(pkce_challenge("dBjftJeZ4CVP-mJ92K9uXZNwQc5tU1sdxWWVYAaKl2k") == "ZeD3qqAL-3UIQaPaXHPwU2Gqt9j86fGNAZx8HybhMNw");
  const Pkce a = make_pkce();
  const Pkce b = make_pkce();
  CHECK(a.verifier.size() == 43);
  CHECK(a.verifier.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  CHECK(a.challenge == pkce_challenge(a.verifier));
  CHECK(a.verifier != b.verifier);
}

TEST_CASE("Bearer challenges are read whatever their quoting and order", "[mcp][oauth]") {
  const auto c = parse_bearer_challenge(
      R"(Bearer error="insufficient_scope", scope="mcp:basic mcp:write", resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp")");
  CHECK(c.error == "insufficient_scope");
  CHECK(c.scope == "mcp:basic mcp:write");
  CHECK(c.resource_metadata == "https://a.example/.well-known/oauth-protected-resource/mcp");
  const auto t = parse_bearer_challenge(R"(Bearer realm="x, y", Scope=files error=invalid_token)");
  CHECK(t.scope == "files");
  CHECK(t.error == "invalid_token");
  const auto e = parse_bearer_challenge(R"(Bearer scope="a \"quoted\" b")");
  CHECK(e.scope == "a \"quoted\" b");
  CHECK(parse_bearer_challenge("Bearer").scope.empty());
}

TEST_CASE("an authorization answer with another state is refused, and no token is requested", "[mcp][oauth]") {
  std::atomic<int> token_requests{0};
  std::string base;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/.well-known/oauth-protected-resource/mcp") {
      conn.write(scout::test::http_response(
          200, "application/json", Json{{"resource", base + "/mcp"}, {"authorization_servers", {base}}}.dump()));
    } else if (req.target == "/.well-known/oauth-authorization-server") {
      conn.write(scout::test::http_response(200, "application/json",
                                            Json{{"issuer", base}, {"authorization_endpoint", base + "/authorize"},
                                                 {"token_endpoint", base + "/token"},
                                                 {"code_challenge_methods_supported", {"S256"}}}
                                                .dump()));
    } else if (req.target.rfind("/token", 0) == 0) {
      ++token_requests;
      conn.write(scout::test::http_response(200, "application/json", R"({"access_token":"t","token_type":"Bearer"})"));
    } else {
      conn.write(scout::test::http_response(404, "text/plain", "no"));
    }
  });
  base = server.url("");
  if (!base.empty() && base.back() == '/') base.pop_back();
  asio::io_context io;
  OAuthClientConfig config;
  config.client_id = "pre-registered";
  Authorizer forged = [](std::string) -> asio::awaitable<scout::Result<std::string>> {
    co_return std::string("http://127.0.0.1:33418/callback?code=stolen&state=not-the-one-sent");
  };
  OAuthSession session(io.get_executor(), base + "/mcp", config, forged);
  auto done = run(io, session.authorize("Bearer"));
  REQUIRE_FALSE(done);
  CHECK_THAT(done.error().message, Contains("wrong state"));
  CHECK(token_requests.load() == 0);
  CHECK(session.access_token().empty());
}

TEST_CASE("a server whose metadata names another resource is not authorized", "[mcp][oauth]") {
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/.well-known/oauth-protected-resource/mcp")
      conn.write(scout::test::http_response(200, "application/json",
                                            R"({"resource":"https://evil.example.com/mcp","authorization_servers":["https://evil.example.com"]})"));
    else
      conn.write(scout::test::http_response(404, "text/plain", "no"));
  });
  asio::io_context io;
  bool asked = false;
  Authorizer authorizer = [&](std::string) -> asio::awaitable<scout::Result<std::string>> {
    asked = true;
    co_return std::string();
  };
  OAuthSession session(io.get_executor(), server.url("/mcp"), OAuthClientConfig{}, authorizer);
  auto done = run(io, session.authorize("Bearer"));
  REQUIRE_FALSE(done);
  CHECK_THAT(done.error().message, Contains("another resource") && Contains("evil.example.com"));
  CHECK_FALSE(asked);
}

TEST_CASE("a person's browser brings the authorization answer back to the loopback listener", "[mcp][oauth]") {
  asio::io_context io;
  auto redirect = LoopbackRedirect::open(io.get_executor());
  REQUIRE(redirect);
  const std::string callback = (*redirect)->redirect_uri();
  CHECK_THAT(callback, Catch::StartsWith("http://127.0.0.1:") && Catch::EndsWith("/callback"));
  // The authorization server approves at once and redirects the browser back.
  LocalHttpServer authorization_server([&](const HttpExchange&, RawConnection& conn) {
    conn.write(scout::test::http_response(302, "", "", {{"Location", callback + "?code=abc&state=s1"}}));
  });
  std::string shown;
  Authorizer authorizer = (*redirect)->authorizer([&](const std::string& text) { shown += text; }, "tracker");
  std::optional<scout::Result<std::string>> answer;
  std::optional<scout::tools::http::HttpResult<scout::tools::http::Response>> page;
  const std::string url = authorization_server.url("/authorize?client_id=x");
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { answer = co_await authorizer(url); }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {  // the browser, once the URL is printed
    scout::tools::http::Client browser(io.get_executor());
    scout::tools::http::Options options;
    options.address_policy.allow_private = true;
    scout::tools::http::Request request;
    request.url = url;
    page = co_await browser.fetch(request, options);
  }, asio::detached);
  io.run();
  REQUIRE(answer);
  REQUIRE(*answer);
  CHECK(**answer == callback + "?code=abc&state=s1");
  CHECK_THAT(shown, Contains("MCP server 'tracker' needs you to sign in") && Contains(url));
  REQUIRE(page);
  REQUIRE(*page);
  CHECK((*page)->status == 200);
  CHECK_THAT((*page)->body, Contains("You can close this tab"));
}

namespace {

// A resource and its authorization server on one port, with the metadata's issuer and its
// promise to name itself (RFC 9207) chosen by the test; counts token requests.
struct TinyAuthorizationServer {
  std::string base;
  std::string metadata_issuer;  // empty: the true issuer
  bool promises_iss = false;
  std::atomic<int> token_requests{0};
  std::atomic<int> authorize_requests{0};
  std::atomic<bool> refresh_accepted{true};
  std::mutex mutex;
  std::vector<std::string> token_bodies;  // form bodies of the token requests
  LocalHttpServer server{[this](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/.well-known/oauth-protected-resource/mcp") {
      conn.write(scout::test::http_response(
          200, "application/json", Json{{"resource", base + "/mcp"}, {"authorization_servers", {base}}}.dump()));
    } else if (req.target == "/.well-known/oauth-authorization-server") {
      Json metadata = {{"issuer", metadata_issuer.empty() ? base : metadata_issuer},
                       {"authorization_endpoint", base + "/authorize"},
                       {"token_endpoint", base + "/token"},
                       {"code_challenge_methods_supported", {"S256"}}};
      if (promises_iss) metadata["authorization_response_iss_parameter_supported"] = true;
      conn.write(scout::test::http_response(200, "application/json", metadata.dump()));
    } else if (req.target.rfind("/token", 0) == 0) {
      ++token_requests;
      {
        std::lock_guard lock(mutex);
        token_bodies.push_back(req.body);
      }
      if (req.body.find("grant_type=refresh_token") == std::string::npos)
        conn.write(scout::test::http_response(200, "application/json",
                                              R"({"access_token":"t","token_type":"Bearer","refresh_token":"r1"})"));
      else if (refresh_accepted)
        conn.write(scout::test::http_response(200, "application/json",
                                              R"({"access_token":"t-refreshed","token_type":"Bearer","refresh_token":"r2"})"));
      else
        conn.write(scout::test::http_response(400, "application/json", R"({"error":"invalid_grant"})"));
    } else {
      conn.write(scout::test::http_response(404, "text/plain", "no"));
    }
  }};
  std::string last_token_body() {
    std::lock_guard lock(mutex);
    return token_bodies.empty() ? "" : token_bodies.back();
  }
  TinyAuthorizationServer() {
    base = server.url("");
    if (!base.empty() && base.back() == '/') base.pop_back();
  }
};

// Answers with a code, the state the request carried, and `iss` (left out when empty).
Authorizer answering_with_iss(std::string iss, std::atomic<int>& asked) {
  return [iss, &asked](std::string url) -> asio::awaitable<scout::Result<std::string>> {
    ++asked;
    const auto at = url.find("state=");
    const std::string state = url.substr(at + 6, url.find('&', at) - at - 6);
    co_return "http://127.0.0.1:33418/callback?code=c1&state=" + state +
        (iss.empty() ? "" : "&iss=" + scout::tools::http::percent_encode(iss));
  };
}

}  // namespace

TEST_CASE("an authorization answer from another issuer, or without the issuer the server promised, gets no token",
          "[mcp][oauth]") {
  TinyAuthorizationServer as;
  OAuthClientConfig config;
  config.client_id = "pre-registered";
  asio::io_context io;
  std::atomic<int> asked{0};
  SECTION("the right issuer is accepted") {
    as.promises_iss = true;
    OAuthSession session(io.get_executor(), as.base + "/mcp", config, answering_with_iss(as.base, asked));
    REQUIRE(run(io, session.authorize("Bearer")));
    CHECK(session.access_token() == "t");
  }
  SECTION("no iss from a server that does not promise one is accepted") {
    OAuthSession session(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
    REQUIRE(run(io, session.authorize("Bearer")));
  }
  SECTION("another issuer, promised or not") {
    OAuthSession session(io.get_executor(), as.base + "/mcp", config, answering_with_iss("https://evil.example.com", asked));
    auto done = run(io, session.authorize("Bearer"));
    REQUIRE_FALSE(done);
    CHECK_THAT(done.error().message, Contains("'https://evil.example.com'") && Contains("refused"));
    CHECK(as.token_requests == 0);
  }
  SECTION("the issuer with a trailing slash is another string, so another issuer") {
    as.promises_iss = true;
    OAuthSession session(io.get_executor(), as.base + "/mcp", config, answering_with_iss(as.base + "/", asked));
    REQUIRE_FALSE(run(io, session.authorize("Bearer")));
    CHECK(as.token_requests == 0);
  }
  SECTION("a promised iss left out") {
    as.promises_iss = true;
    OAuthSession session(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
    auto done = run(io, session.authorize("Bearer"));
    REQUIRE_FALSE(done);
    CHECK_THAT(done.error().message, Contains("did not name its issuer"));
    CHECK(as.token_requests == 0);
  }
}

TEST_CASE("authorization server metadata that names another issuer is not used", "[mcp][oauth]") {
  TinyAuthorizationServer as;
  as.metadata_issuer = "https://attacker.example.com";
  OAuthClientConfig config;
  config.client_id = "pre-registered";
  asio::io_context io;
  std::atomic<int> asked{0};
  OAuthSession session(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
  auto done = run(io, session.authorize("Bearer"));
  REQUIRE_FALSE(done);
  CHECK_THAT(done.error().message, Contains("names issuer 'https://attacker.example.com'") && Contains(as.base));
  CHECK(asked == 0);  // the user is never sent to its endpoints
  CHECK(as.token_requests == 0);
}

TEST_CASE("tokens are kept in a private file, and a later session starts with them without asking the user",
          "[mcp][oauth]") {
  TinyAuthorizationServer as;
  const auto dir = scout::test::fresh_scratch_dir("oauth", "store");
  OAuthClientConfig config;
  config.client_id = "pre-registered";
  config.token_file = (dir / "state" / "tracker.json").string();
  asio::io_context io;
  std::atomic<int> asked{0};
  {
    OAuthSession first(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
    CHECK(first.access_token().empty());
    REQUIRE(run(io, first.authorize("Bearer")));
    CHECK(first.access_token() == "t");
  }
  CHECK(asked == 1);
  namespace fs = std::filesystem;
  REQUIRE(fs::exists(config.token_file));
  CHECK((fs::status(config.token_file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(dir / "state").permissions() & fs::perms::all) == fs::perms::owner_all);
  std::ifstream in(config.token_file);
  const Json saved = Json::parse(in);
  CHECK(saved["resource"] == as.base + "/mcp");
  CHECK(saved["refresh_token"] == "r1");

  OAuthSession second(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
  CHECK(second.access_token() == "t");  // sent with the first request, no sign-in
  CHECK(asked == 1);

  // The same file for another server is not used.
  OAuthSession other(io.get_executor(), as.base + "/other", config, answering_with_iss("", asked));
  CHECK(other.access_token().empty());
}

TEST_CASE("an expired token is renewed with the refresh token, and a refused refresh asks the user again",
          "[mcp][oauth]") {
  TinyAuthorizationServer as;
  const auto dir = scout::test::fresh_scratch_dir("oauth", "refresh");
  OAuthClientConfig config;
  config.client_id = "pre-registered";
  config.token_file = (dir / "tracker.json").string();
  asio::io_context io;
  std::atomic<int> asked{0};
  {
    OAuthSession first(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
    REQUIRE(run(io, first.authorize("Bearer")));
  }
  OAuthSession later(io.get_executor(), as.base + "/mcp", config, answering_with_iss("", asked));
  REQUIRE(run(io, later.authorize(R"(Bearer error="invalid_token")")));
  CHECK(later.access_token() == "t-refreshed");
  CHECK(asked == 1);  // no browser this time
  const std::string body = as.last_token_body();
  CHECK_THAT(body, Contains("grant_type=refresh_token") && Contains("refresh_token=r1") && Contains("resource=") &&
                       Contains("client_id=pre-registered"));

  // A step-up needs the user even with a refresh token.
  REQUIRE(run(io, later.authorize(R"(Bearer error="insufficient_scope", scope="write")")));
  CHECK(asked == 2);

  as.refresh_accepted = false;
  REQUIRE(run(io, later.authorize(R"(Bearer error="invalid_token")")));
  CHECK(asked == 3);  // the refresh was refused: signed in again
  CHECK(later.access_token() == "t");
}
