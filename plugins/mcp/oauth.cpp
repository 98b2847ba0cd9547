#include "plugins/mcp/oauth.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/files.h"

#include "common/json.h"
#include "tools/http/http_client.h"

#include <boost/asio/use_awaitable.hpp>

namespace scout::plugins::mcp {

namespace http = tools::http;
using Json = nlohmann::json;

namespace {

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out = http::base64_encode(std::string_view(reinterpret_cast<const char*>(data), size));
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1)
    throw std::runtime_error("the system's random number generator failed");
  return base64url(buffer.data(), buffer.size());
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The value of `name` in a URL's query, or nullopt.
std::optional<std::string> query_value(const std::string& url, const std::string& name) {
  const auto q = url.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string_view query(url);
  query = query.substr(q + 1, url.find('#') == std::string::npos ? std::string_view::npos : url.find('#') - q - 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name)
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

using Params = std::vector<std::pair<std::string, std::string>>;

std::string encode_params(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + http::percent_encode(k) + "=" + http::percent_encode(v);
  return out;
}

std::string origin_of(const http::Url& url) {
  const bool default_port = url.port == (url.scheme == "https" ? 443 : 80);
  const std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return url.scheme + "://" + host + (default_port ? "" : ":" + std::to_string(url.port));
}

// The path of a URL without query and trailing '/', "" for the root.
std::string path_of(const http::Url& url) {
  std::string path = url.target.substr(0, url.target.find('?'));
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::string excerpt(std::string text) {
  if (text.size() > 300) text = text.substr(0, 300) + "…";
  return text;
}

}  // namespace

BearerChallenge parse_bearer_challenge(const std::string& header) {
  BearerChallenge out;
  std::size_t i = 0;
  auto skip = [&](const char* set) {
    while (i < header.size() && std::strchr(set, header[i])) ++i;
  };
  skip(" \t");
  // The scheme, then name=value pairs; values are tokens or quoted strings.
  while (i < header.size() && !std::isspace(static_cast<unsigned char>(header[i]))) ++i;
  while (i < header.size()) {
    skip(" \t,");
    std::string name;
    while (i < header.size() && header[i] != '=' && header[i] != ',' && !std::isspace(static_cast<unsigned char>(header[i])))
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(header[i++])));
    skip(" \t");
    if (i >= header.size() || header[i] != '=') continue;
    ++i;
    skip(" \t");
    std::string value;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      ++i;
    } else {
      while (i < header.size() && header[i] != ',' && !std::isspace(static_cast<unsigned char>(header[i]))) value += header[i++];
    }
    if (name == "resource_metadata") out.resource_metadata = value;
    else if (name == "scope") out.scope = value;
    else if (name == "error") out.error = value;
  }
  return out;
}

std::string pkce_challenge(const std::string& verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return base64url(digest, sizeof digest);
}

Pkce make_pkce() {
  Pkce p;
  p.verifier = random_token(32);  // 43 characters of [A-Za-z0-9_-]
  p.challenge = pkce_challenge(p.verifier);
  return p;
}

struct OAuthSession::Impl {
  Impl(asio::any_io_executor ex, std::string res, OAuthClientConfig cfg, Authorizer auth)
      : executor(ex), resource(std::move(res)), config(std::move(cfg)), authorizer(std::move(auth)), client(ex) {}

  asio::any_io_executor executor;
  std::string resource;
  OAuthClientConfig config;
  Authorizer authorizer;
  http::Client client;

  std::string issuer;  // the authorization server's issuer identifier, as the resource named it
  // The `resource` sent to the authorization server: exactly what the resource metadata
  // published (RFC 8707/9728), else the MCP endpoint's URL.
  std::string resource_indicator;
  std::vector<std::string> requested_scopes;  // every scope asked for so far, for step-ups
  Json server_metadata = Json::object();
  std::string authorization_endpoint, token_endpoint, registration_endpoint;
  std::vector<std::string> scopes_supported;
  std::string client_id, client_secret, auth_method;  // auth_method: client_secret_basic, client_secret_post or none
  std::string refresh_token;

  http::Options options() const {
    http::Options o;
    o.address_policy.allow_private = true;  // the servers the user configured, and their authorization servers
    o.max_redirects = 0;
    o.total_timeout = std::chrono::seconds(30);
    o.ca_file = config.ca_file;
    return o;
  }

  // GET url → its JSON object, or nullopt (not there, not JSON).
  asio::awaitable<std::optional<Json>> get_json(std::string url) {
    http::Request req;
    req.url = std::move(url);
    req.headers = {{"Accept", "application/json"}};
    auto r = co_await client.fetch(std::move(req), options());
    if (!r || r->status != 200) co_return std::nullopt;
    auto j = parse_json<Json>(r->body);
    if (!j || !j->is_object()) co_return std::nullopt;
    co_return std::move(*j);
  }

  bool supports(const char* key, const std::string& value) const {
    const auto it = server_metadata.find(key);
    if (it == server_metadata.end() || !it->is_array()) return false;
    for (const Json& v : *it)
      if (v.is_string() && v.get<std::string>() == value) return true;
    return false;
  }

  asio::awaitable<Result<void>> discover(const BearerChallenge& challenge) {
    auto server = http::Url::parse(resource);
    if (!server) co_return make_error("the MCP server URL '" + resource + "' cannot be authorized: " + server.error().message);
    const std::string origin = origin_of(*server);
    const std::string path = path_of(*server);

    std::vector<std::string> candidates;
    if (!challenge.resource_metadata.empty()) candidates.push_back(challenge.resource_metadata);
    if (!path.empty()) candidates.push_back(origin + "/.well-known/oauth-protected-resource" + path);
    candidates.push_back(origin + "/.well-known/oauth-protected-resource");
    std::optional<Json> prm;
    for (const auto& url : candidates)
      if ((prm = co_await get_json(url))) break;

    std::string named_issuer = origin;  // 2025-03-26: the server is its own authorization server
    resource_indicator = resource;
    if (prm) {
      const std::string named = prm->value("resource", "");
      auto named_url = http::Url::parse(named);
      const bool same = named_url && origin_of(*named_url) == origin &&
                        (path_of(*named_url).empty() || path == path_of(*named_url) ||
                         path.rfind(path_of(*named_url) + "/", 0) == 0);
      if (!same)
        co_return make_error("MCP server " + resource + " says its tokens are for another resource ('" + named +
                             "'); Scout will not authorize it");
      const auto servers = prm->find("authorization_servers");
      if (servers == prm->end() || !servers->is_array() || servers->empty() || !servers->front().is_string())
        co_return make_error("MCP server " + resource + " names no authorization server in its resource metadata");
      named_issuer = servers->front().get<std::string>();
      resource_indicator = named;
      scopes_supported.clear();
      if (const auto s = prm->find("scopes_supported"); s != prm->end() && s->is_array())
        for (const Json& v : *s)
          if (v.is_string()) scopes_supported.push_back(v.get<std::string>());
    }

    // Credentials belong to the authorization server that issued them: when the resource moves
    // to another one, Scout registers there afresh (a pre-registered client stays as configured).
    if (!issuer.empty() && named_issuer != issuer) {
      client_id.clear();
      client_secret.clear();
      auth_method.clear();
      client_redirect.clear();
      refresh_token.clear();
    }
    issuer = named_issuer;
    auto issuer_url = http::Url::parse(issuer);
    if (!issuer_url) co_return make_error("the authorization server '" + issuer + "' is not a URL: " + issuer_url.error().message);
    const std::string as_origin = origin_of(*issuer_url);
    const std::string as_path = path_of(*issuer_url);
    std::vector<std::string> metadata_urls;
    if (as_path.empty()) {
      metadata_urls = {as_origin + "/.well-known/oauth-authorization-server", as_origin + "/.well-known/openid-configuration"};
    } else {
      metadata_urls = {as_origin + "/.well-known/oauth-authorization-server" + as_path,
                       as_origin + "/.well-known/openid-configuration" + as_path,
                       as_origin + as_path + "/.well-known/openid-configuration"};
    }
    std::optional<Json> metadata;
    std::string metadata_url;
    for (const auto& url : metadata_urls)
      if ((metadata = co_await get_json(url))) {
        metadata_url = url;
        break;
      }
    server_metadata = Json::object();
    if (metadata) {
      // RFC 8414 §3.3: metadata naming another issuer than the one it was fetched for is not to
      // be used (someone could be redirecting Scout's authorization elsewhere).
      // Without resource metadata (2025-03-26) the issuer was not named, only guessed from the
      // server's origin: the metadata's own issuer is taken then.
      const std::string claimed = metadata->value("issuer", "");
      if (!prm && !claimed.empty()) issuer = claimed;
      if (claimed != issuer)
        co_return make_error("the authorization server metadata at " + metadata_url + " names issuer '" + claimed +
                             "', not '" + issuer + "'; Scout will not use it");
      server_metadata = *metadata;
      authorization_endpoint = server_metadata.value("authorization_endpoint", "");
      token_endpoint = server_metadata.value("token_endpoint", "");
      registration_endpoint = server_metadata.value("registration_endpoint", "");
      if (server_metadata.contains("code_challenge_methods_supported") && !supports("code_challenge_methods_supported", "S256"))
        co_return make_error("the authorization server " + issuer + " does not offer PKCE with S256, which MCP requires");
    } else {  // no metadata at all: the default endpoints (2025-03-26)
      authorization_endpoint = as_origin + "/authorize";
      token_endpoint = as_origin + "/token";
      registration_endpoint = as_origin + "/register";
    }
    if (authorization_endpoint.empty() || token_endpoint.empty())
      co_return make_error("the authorization server " + issuer + " names no authorization or token endpoint");
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> ensure_client() {
    // A client Scout registered before is used again only with the redirect it was registered
    // with (a loopback listener on a free port gets a new one each run).
    if (!client_id.empty() && (client_redirect.empty() || client_redirect == config.redirect_uri)) co_return Result<void>{};
    client_id.clear();
    auto method_for_secret = [&] {
      if (supports("token_endpoint_auth_methods_supported", "client_secret_basic")) return "client_secret_basic";
      if (supports("token_endpoint_auth_methods_supported", "client_secret_post")) return "client_secret_post";
      return "client_secret_basic";  // RFC 8414's default
    };
    if (!config.client_id.empty()) {
      client_id = config.client_id;
      client_secret = config.client_secret;
      auth_method = client_secret.empty() ? "none" : method_for_secret();
      co_return Result<void>{};
    }
    if (server_metadata.value("client_id_metadata_document_supported", false) && !config.client_metadata_url.empty()) {
      client_id = config.client_metadata_url;
      auth_method = "none";
      co_return Result<void>{};
    }
    if (registration_endpoint.empty())
      co_return make_error("the authorization server of " + resource +
                           " offers no client registration; configure a client_id issued by its operator");
    std::string wanted = "none";
    if (server_metadata.contains("token_endpoint_auth_methods_supported") &&
        !supports("token_endpoint_auth_methods_supported", "none"))
      wanted = method_for_secret();
    // A command-line program receiving its redirect on a loopback address: a native client.
    const Json body = {{"client_name", config.client_name},
                       {"application_type", "native"},
                       {"redirect_uris", Json::array({config.redirect_uri})},
                       {"grant_types", Json::array({"authorization_code", "refresh_token"})},
                       {"response_types", Json::array({"code"})},
                       {"token_endpoint_auth_method", wanted}};
    http::Request req;
    req.method = "POST";
    req.url = registration_endpoint;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.body = body.dump();
    auto r = co_await client.fetch(std::move(req), options());
    if (!r) co_return make_error("registering with the authorization server failed: " + r.error().message);
    const Json answer = parse_json<Json>(r->body).value_or(Json());
    if (r->status / 100 != 2 || !answer.is_object() || !answer.contains("client_id"))
      co_return make_error("the authorization server refused Scout's registration (HTTP " + std::to_string(r->status) +
                           "): " + excerpt(r->body));
    client_id = answer.value("client_id", "");
    client_secret = answer.value("client_secret", "");
    client_redirect = config.redirect_uri;
    auth_method = answer.value("token_endpoint_auth_method", client_secret.empty() ? std::string("none") : wanted);
    if (auth_method != "none" && client_secret.empty()) auth_method = "none";
    co_return Result<void>{};
  }

  // A token request (authorization_code or refresh_token grant) with the client authentication
  // the server chose and `resource`; the answer when it holds an access token.
  asio::awaitable<Result<Json>> token_request(Params form) {
    form.emplace_back("resource", resource_indicator);
    http::Request req;
    req.method = "POST";
    req.url = token_endpoint;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    if (auth_method == "client_secret_basic") {
      const std::string pair = http::percent_encode(client_id) + ":" + http::percent_encode(client_secret);
      req.headers.emplace_back("Authorization", "Basic " + http::base64_encode(pair));
    } else {
      form.emplace_back("client_id", client_id);
      if (auth_method == "client_secret_post") form.emplace_back("client_secret", client_secret);
    }
    req.body = encode_params(form);
    auto r = co_await client.fetch(std::move(req), options());
    if (!r) co_return make_error("the token request failed: " + r.error().message);
    Json answer = parse_json<Json>(r->body).value_or(Json());
    if (r->status != 200 || !answer.is_object() || !answer.contains("access_token") || !answer["access_token"].is_string())
      co_return make_error("the authorization server refused the token request (HTTP " + std::to_string(r->status) +
                           "): " + excerpt(r->body));
    co_return answer;
  }

  // Takes the tokens of a token answer (a refresh token is kept only when one came: servers
  // may keep the old one valid) and writes the state down.
  std::string take_tokens(const Json& answer) {
    if (const auto r = answer.find("refresh_token"); r != answer.end() && r->is_string()) refresh_token = r->get<std::string>();
    access_token = answer["access_token"].get<std::string>();
    save();
    return access_token;
  }

  // --- what outlives the process (config.token_file) ---
  // {"resource", "issuer", "client": {"client_id", "client_secret", "auth_method", "redirect_uri"},
  //  "access_token", "refresh_token", "scopes"}; the client only when Scout registered it.
  std::string access_token;  // the last one issued, for save()
  std::string client_redirect;  // the redirect_uri a registered client was registered with; empty otherwise

  void load(std::string& token) {
    if (config.token_file.empty()) return;
    const Json saved = read_json_file<Json>(config.token_file).value_or(Json());
    if (!saved.is_object() || saved.value("resource", "") != resource) return;  // another server's, or damaged
    issuer = saved.value("issuer", "");
    token = saved.value("access_token", "");
    access_token = token;
    refresh_token = saved.value("refresh_token", "");
    for (const Json& v : saved.value("scopes", Json::array()))
      if (v.is_string()) requested_scopes.push_back(v.get<std::string>());
    const Json c = saved.value("client", Json::object());
    if (config.client_id.empty() && c.is_object() && c.value("client_id", Json()).is_string()) {
      client_id = c.value("client_id", "");
      client_secret = c.value("client_secret", "");
      auth_method = c.value("auth_method", "none");
      client_redirect = c.value("redirect_uri", "");
    }
  }

  void save() const {
    if (config.token_file.empty()) return;
    Json state = {{"resource", resource}, {"issuer", issuer}, {"access_token", access_token},
                  {"refresh_token", refresh_token}, {"scopes", requested_scopes}};
    if (config.client_id.empty() && !client_id.empty())
      state["client"] = {{"client_id", client_id}, {"client_secret", client_secret}, {"auth_method", auth_method},
                         {"redirect_uri", client_redirect}};
    // Credentials: readable by the user only, the folder too.
    const std::filesystem::path path(config.token_file);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
    (void)write_file_whole(path, state.dump(2) + "\n", 0600);
  }
};

OAuthSession::OAuthSession(asio::any_io_executor executor, std::string resource, OAuthClientConfig config,
                           Authorizer authorizer)
    : impl_(std::make_unique<Impl>(executor, std::move(resource), std::move(config), std::move(authorizer))) {
  impl_->load(token_);
}

OAuthSession::~OAuthSession() = default;

asio::awaitable<Result<void>> OAuthSession::authorize(std::string www_authenticate) {
  Impl& s = *impl_;
  const BearerChallenge challenge = parse_bearer_challenge(www_authenticate);
  // Discovered again each time: the resource may have moved to another authorization server.
  if (auto found = co_await s.discover(challenge); !found) co_return found;
  // A refresh token gets a new access token without the user — unless more scope is wanted,
  // which only the user can grant.
  if (!s.refresh_token.empty() && s.client_id.empty() && !s.config.client_id.empty())
    (void)co_await s.ensure_client();  // the pre-registered client the refresh token was issued to
  if (!s.refresh_token.empty() && !s.client_id.empty() && challenge.error != "insufficient_scope") {
    // (Named: GCC 12 rejects string literals initializing an aggregate inside a co_await.)
    Params refresh = {{"grant_type", "refresh_token"}, {"refresh_token", s.refresh_token}};
    auto refreshed = co_await s.token_request(std::move(refresh));
    if (refreshed) {
      token_ = s.take_tokens(*refreshed);
      co_return Result<void>{};
    }
    s.refresh_token.clear();  // spent or revoked: sign in again
  }
  if (auto client = co_await s.ensure_client(); !client) co_return client;

  // What the challenge asks for (else all the resource offers), with what was asked for before:
  // a step-up adds scopes, it does not trade the ones already granted for new ones.
  std::vector<std::string> wanted = s.requested_scopes;
  auto want = [&](const std::string& v) {
    if (!v.empty() && std::find(wanted.begin(), wanted.end(), v) == wanted.end()) wanted.push_back(v);
  };
  std::istringstream challenged(challenge.scope);
  for (std::string v; challenged >> v;) want(v);
  if (challenge.scope.empty())
    for (const auto& v : s.scopes_supported) want(v);
  s.requested_scopes = wanted;
  std::string scope;
  for (const auto& v : wanted) scope += (scope.empty() ? "" : " ") + v;
  const Pkce pkce = make_pkce();
  const std::string state = random_token(16);
  Params query = {{"response_type", "code"},  {"client_id", s.client_id},         {"redirect_uri", s.config.redirect_uri},
                  {"code_challenge", pkce.challenge}, {"code_challenge_method", "S256"}, {"state", state},
                  {"resource", s.resource_indicator}};
  if (!scope.empty()) query.emplace_back("scope", scope);
  const std::string url = s.authorization_endpoint + (s.authorization_endpoint.find('?') == std::string::npos ? "?" : "&") +
                          encode_params(query);
  auto back = co_await s.authorizer(url);
  if (!back) co_return Unexpected{back.error()};
  if (const auto error = query_value(*back, "error"))
    co_return make_error("the authorization was refused: " + *error +
                         (query_value(*back, "error_description") ? " (" + *query_value(*back, "error_description") + ")" : ""));
  if (query_value(*back, "state") != state)
    co_return make_error("the authorization answer carried the wrong state (a forged or stale redirect); refused");
  // RFC 9207: the answer names the server that issued it, compared as a plain string; a server
  // that promises to name itself must.
  if (const auto iss = query_value(*back, "iss")) {
    if (*iss != s.issuer)
      co_return make_error("the authorization answer came from issuer '" + *iss + "', not '" + s.issuer +
                           "' (a mix-up or a forged redirect); refused");
  } else if (s.server_metadata.value("authorization_response_iss_parameter_supported", false)) {
    co_return make_error("the authorization answer did not name its issuer, which " + s.issuer +
                         " promises to do (a mix-up or a forged redirect); refused");
  }
  const auto code = query_value(*back, "code");
  if (!code || code->empty()) co_return make_error("the authorization answer carried no code");
  Params grant = {{"grant_type", "authorization_code"}, {"code", *code}, {"redirect_uri", s.config.redirect_uri},
                  {"code_verifier", pkce.verifier}};
  auto answer = co_await s.token_request(std::move(grant));
  if (!answer) co_return Unexpected{answer.error()};
  s.refresh_token.clear();  // this grant's refresh token, if it gave one, replaces any older one
  token_ = s.take_tokens(*answer);
  co_return Result<void>{};
}

}  // namespace scout::plugins::mcp
