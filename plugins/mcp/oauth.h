// OAuth 2.1 for MCP servers reached over HTTP (MCP's authorization spec, 2025-06-18 to
// 2026-07-28, with the 2025-03-26 fallbacks): what HttpTransport does when a server answers
// 401 (no or expired token) or 403 with error="insufficient_scope" (a step up).
//
//   401 WWW-Authenticate: Bearer resource_metadata="…", scope="…"
//     1. protected resource metadata (RFC 9728): the header's URL, else
//        /.well-known/oauth-protected-resource/PATH, then /.well-known/oauth-protected-resource;
//        its `resource` must be this server (a server cannot send Scout's token elsewhere);
//        none at all: the server's origin is its own authorization server (2025-03-26)
//     2. authorization server metadata (RFC 8414 / OpenID discovery), for an issuer with a path
//        /.well-known/oauth-authorization-server/PATH, /.well-known/openid-configuration/PATH,
//        PATH/.well-known/openid-configuration; none: /authorize, /token, /register at its root.
//        Metadata whose `issuer` is not the issuer it was fetched for is refused (RFC 8414 §3.3).
//        Discovery runs on every 401: a resource that names a new authorization server gets a
//        new client registration there, never the old server's credentials
//     3. the client: a pre-registered client_id (and secret), else a Client ID Metadata Document
//        URL when the server supports those, else dynamic registration (RFC 7591, as a
//        "native" application), once per authorization server
//     4. authorization code with PKCE (S256), `state`, `resource` (RFC 8707) and the scope the
//        header asked for (else the resource's scopes_supported, else none); the user's browser
//        step is the Authorizer's job. The answer's `iss` (RFC 9207) must be the issuer, compared
//        as a plain string, and must be there when the server's metadata promises it
//     5. the token request with the client authentication the server chose (client_secret_basic,
//        client_secret_post or none), `resource` again
//   A refresh token, when the server gave one, is tried first on a later 401 (not on a step-up,
//   which needs the user); a refused one is dropped and the user signs in again. With a
//   token_file, a later run starts with the stored access token and refresh token.
//
// Thread-safety: one session per transport, used from its executor only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/expected.h"

namespace scout::plugins::mcp {

namespace asio = boost::asio;

// Sends the user to `authorization_url` and returns the URL the authorization server redirected
// back to (redirect_uri with ?code=…&state=… or ?error=…).
using Authorizer = std::function<asio::awaitable<Result<std::string>>(std::string authorization_url)>;

struct OAuthClientConfig {
  std::string redirect_uri = "http://127.0.0.1:33418/callback";
  std::string client_name = "Scout";
  // Pre-registered credentials, when the server's operator issued them.
  std::string client_id;
  std::string client_secret;
  // A Client ID Metadata Document URL this client publishes, used as client_id with servers
  // that accept such documents (client_id_metadata_document_supported).
  std::string client_metadata_url;
  std::string ca_file;  // an extra CA to trust (tests)
  // Where the tokens (access and refresh), the scopes asked for and a client Scout registered
  // are kept between runs: a JSON file written 0600 (its folder 0700), read at the start. A file
  // for another resource is ignored. Empty: kept in memory only.
  std::string token_file;
};

// A WWW-Authenticate challenge's Bearer parameters (lower-case names).
struct BearerChallenge {
  std::string resource_metadata;
  std::string scope;
  std::string error;
};
BearerChallenge parse_bearer_challenge(const std::string& header);

// The PKCE pair: a 43-character verifier and its S256 challenge.
struct Pkce {
  std::string verifier;
  std::string challenge;
};
Pkce make_pkce();
std::string pkce_challenge(const std::string& verifier);  // base64url(SHA-256(verifier)), no padding

class OAuthSession {
 public:
  // `resource` is the MCP endpoint's URL (the token's audience).
  OAuthSession(asio::any_io_executor executor, std::string resource, OAuthClientConfig config, Authorizer authorizer);
  ~OAuthSession();

  // Runs the flow for a 401/403 answer carrying `www_authenticate`; afterwards access_token()
  // holds the token to send. Fails naming the step and the server's words.
  asio::awaitable<Result<void>> authorize(std::string www_authenticate);

  const std::string& access_token() const { return token_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
};

// The authorizer for people: a listener on 127.0.0.1 receives the browser's redirect. Open it
// first (its redirect_uri goes into OAuthClientConfig), then hand authorizer() to the session:
// it tells the user (`say`) which URL to open and waits (up to `wait`) for the redirect to /callback,
// answering the browser with a page that says it can be closed. Port 0 picks a free port; a
// pre-registered client needs the port its operator registered.
class LoopbackRedirect : public std::enable_shared_from_this<LoopbackRedirect> {
 public:
  static Result<std::shared_ptr<LoopbackRedirect>> open(asio::any_io_executor executor, unsigned short port = 0);
  ~LoopbackRedirect();
  std::string redirect_uri() const;
  Authorizer authorizer(std::function<void(const std::string&)> say, std::string server_name,
                        std::chrono::seconds wait = std::chrono::seconds(300));

  struct Impl;

 private:
  explicit LoopbackRedirect(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An Authorizer for authorization servers that approve without a person (test servers, and
// the conformance suite's): it requests the URL itself and reads the redirect's Location.
Authorizer headless_authorizer(asio::any_io_executor executor, std::string ca_file = "");

}  // namespace scout::plugins::mcp
