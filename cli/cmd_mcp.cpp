// scout mcp: talk to one MCP server ad hoc — for people debugging a server, and for tests.
//
//   scout mcp list [--json] -- COMMAND ARGS...              start the server, list its tools
//   scout mcp call TOOL ['JSON' | -] [--json] [--timeout S] -- COMMAND ARGS...
//
// The server runs as a child process spoken to over stdio; its tools go through the same
// registry, argument checks and result conversion as in an agent run, so `call` prints what the
// model would read. (Streamable HTTP servers, given by URL, come with the HTTP transport.)
//
// Exit codes: 0 ok; 1 the tool reported an error (or timed out); 2 usage: malformed JSON,
// invalid arguments, an unknown tool; 3 the server could not be started, died, or refused the
// handshake (its stderr tail is printed); 130 interrupted.
#include <chrono>
#include <csignal>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_on.h"
#include "cli/tool_view.h"
#include "common/json.h"
#include "plugins/mcp/http_transport.h"
#include "plugins/mcp/mcp_tool.h"
#include "plugins/mcp/servers.h"
#include "plugins/mcp/stdio_transport.h"

namespace scout::cli {
namespace {

namespace asio = boost::asio;
namespace mcp = plugins::mcp;
using tools::Json;

struct McpArgs {
  std::vector<std::string> words;  // [URL] then, for call, TOOL ['JSON'] (a stdio server's command comes after "--")
  std::vector<std::string> headers;  // --header 'Name: value' (HTTP servers)
  bool json = false;
  bool oauth = false;            // --oauth: sign in with a browser when the server asks
  std::string oauth_client_id;   // --oauth-client-id: a client its operator registered
  std::string protocol;          // --protocol: the revision to speak (default: what the server speaks)
  double timeout_s = 60;
};

bool is_url(const std::string& text) { return text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0; }

int run_mcp(McpArgs a, std::vector<std::string> command, bool call) {
  const char* who = call ? "scout mcp call" : "scout mcp list";
  std::string url;
  if (!a.words.empty() && is_url(a.words.front())) {
    url = a.words.front();
    a.words.erase(a.words.begin());
  }
  if (url.empty() == command.empty()) {
    std::cerr << who << ": give the server as a URL or as a command after --, e.g. " << who
              << " http://127.0.0.1:3001/mcp" << (call ? " echo '{\"message\": \"hi\"}'" : "") << ", or " << who
              << (call ? " echo '{\"message\": \"hi\"}'" : "") << " -- npx @modelcontextprotocol/server-everything\n";
    return kExitUsage;
  }
  if ((!a.headers.empty() || a.oauth || !a.oauth_client_id.empty()) && url.empty()) {
    std::cerr << who << ": --header and --oauth are for servers reached by URL\n";
    return kExitUsage;
  }
  std::string tool_name;
  Json arguments = Json::object();
  if (call) {
    if (a.words.empty() || a.words.size() > 2) {
      std::cerr << who << ": give TOOL and optionally its 'JSON' arguments\n";
      return kExitUsage;
    }
    tool_name = a.words[0];
    std::string text = a.words.size() == 2 ? a.words[1] : "{}";
    if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    auto parsed = parse_json<Json>(text);
    if (!parsed || !parsed->is_object()) {
      std::cerr << who << ": the arguments must be one JSON object, e.g. '{\"message\": \"hi\"}'"
                << (parsed ? "" : " (" + parsed.error().message + ")") << "\n";
      return kExitUsage;
    }
    arguments = std::move(*parsed);
  } else if (!a.words.empty()) {
    std::cerr << who << ": unexpected '" << a.words[0] << "'\n";
    return kExitUsage;
  }

  asio::io_context io;
  Result<std::unique_ptr<mcp::Transport>> transport = make_error("no transport");
  if (!url.empty()) {
    mcp::HttpEndpoint endpoint{url, {}, "", "", nullptr};
    for (const std::string& h : a.headers) {
      const auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0) {
        std::cerr << who << ": --header takes 'Name: value', not '" << h << "'\n";
        return kExitUsage;
      }
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      endpoint.headers.emplace_back(h.substr(0, colon), value);
    }
    if (a.oauth || !a.oauth_client_id.empty()) {
      auto redirect = mcp::LoopbackRedirect::open(io.get_executor());
      if (!redirect) {
        std::cerr << who << ": " << redirect.error().message << "\n";
        return kExitModelError;
      }
      mcp::OAuthClientConfig oauth;
      oauth.redirect_uri = (*redirect)->redirect_uri();
      oauth.client_id = a.oauth_client_id;
      endpoint.oauth = std::make_shared<mcp::OAuthSession>(
          io.get_executor(), url, oauth, (*redirect)->authorizer([](const std::string& text) { std::cerr << text << "\n"; }, url));
    }
    auto http = mcp::HttpTransport::open(io.get_executor(), std::move(endpoint));
    if (http) transport = std::unique_ptr<mcp::Transport>(std::move(*http));
    else transport = Unexpected{http.error()};
  } else {
    const std::string program = command.front();
    command.erase(command.begin());
    auto stdio = mcp::StdioTransport::spawn(io.get_executor(), mcp::StdioCommand{program, command, {}, ""});
    if (stdio) transport = std::unique_ptr<mcp::Transport>(std::move(*stdio));
    else transport = Unexpected{stdio.error()};
  }
  if (!transport) {
    std::cerr << who << ": " << transport.error().message << "\n";
    return kExitModelError;
  }
  mcp::ClientOptions options;
  options.request_timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout_s * 1000));
  options.protocol_version = a.protocol;
  options.on_warning = [who](const std::string& what) { std::cerr << who << ": " << what << "\n"; };
  auto client = std::make_shared<mcp::McpClient>(io.get_executor(), std::move(*transport), options);
  auto fail = [&](const std::string& message) {
    std::cerr << who << ": " << message << "\n";
    run_on(io, mcp::close_clients({client}));
    return kExitModelError;
  };

  auto info = run_on(io, client->initialize());
  if (!info || !*info) return fail(info ? (*info).error().message : "the handshake did not complete");
  auto listed = run_on(io, client->list_tools());
  if (!listed || !*listed) return fail(listed ? (*listed).error().message : "tools/list did not complete");

  tools::Registry registry;
  for (const mcp::McpTool& t : **listed) {
    if (auto added = registry.add(std::make_shared<mcp::McpToolAdapter>(client, t, t.name)); !added)
      std::cerr << who << ": skipping tool '" << t.name << "': " << added.error().message << "\n";
  }
  std::cerr << "MCP server " << (**info).name << " " << (**info).version << " (protocol " << (**info).protocol_version
            << ((**info).stateless ? ", stateless" : "") << "), " << registry.list().size() << " tools\n";

  int code = kExitOk;
  if (!call) {
    print_tools(registry.list(), a.json);
  } else if (!registry.find(tool_name)) {
    std::string names;
    for (const auto& t : registry.list()) names += (names.empty() ? "" : ", ") + t.name;
    std::cerr << who << ": the server has no tool '" << tool_name << "'; it has: " << names << "\n";
    code = kExitUsage;
  } else {
    asio::cancellation_signal cancel;
    bool interrupted = false;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      interrupted = true;
      cancel.emit(asio::cancellation_type::terminal);
    });
    tools::ToolContext ctx;
    ctx.cancel = cancel.slot();
    auto out = run_on(io, registry.call(tool_name, std::move(arguments), ctx));
    signals.cancel();
    const tools::ToolOutput result = out ? *out : tools::ToolOutput::failure("the call did not complete");
    const Json& s = result.structured ? *result.structured : Json();
    const bool invalid = s.is_object() && s.contains("invalid_arguments");
    if (invalid) {
      std::cerr << result.text << "\n";
    } else {
      print_output(result, a.json);
    }
    code = interrupted ? kExitInterrupted : invalid ? kExitUsage : result.is_error ? kExitTaskFailed : kExitOk;
  }
  run_on(io, mcp::close_clients({client}));
  return code;
}

// The words after "--", set by main() before parsing.
std::vector<std::string>& server_command() {
  static std::vector<std::string> command;
  return command;
}

}  // namespace

void set_mcp_server_command(std::vector<std::string> command) { server_command() = std::move(command); }

void register_mcp(CLI::App& app, int& exit_code) {
  auto* mcp_cmd = app.add_subcommand("mcp", "Talk to one MCP server: list its tools or call one");
  mcp_cmd->require_subcommand(1);
  for (const bool call : {false, true}) {
    auto a = std::make_shared<McpArgs>();
    auto* cmd = call ? mcp_cmd->add_subcommand("call", "Call one tool of an MCP server and print its result")
                     : mcp_cmd->add_subcommand("list", "List an MCP server's tools with their arguments");
    cmd->add_option("words", a->words,
                    call ? "[URL] TOOL ['JSON']: the server's URL (or its command after --), the tool, its arguments "
                           "(- reads them from stdin)"
                         : "[URL]: the server's Streamable HTTP endpoint (or its command after --)");
    cmd->add_option("--header", a->headers, "An HTTP header for a server reached by URL, 'Name: value' (repeatable)");
    cmd->add_flag("--oauth", a->oauth, "Sign in with a browser (OAuth 2.1) when the server asks for authorization");
    cmd->add_option("--oauth-client-id", a->oauth_client_id, "With --oauth: a client ID the server's operator issued");
    cmd->add_option("--protocol", a->protocol,
                    "The MCP revision to speak (" + mcp::spoken_protocol_versions() +
                        "); by default Scout asks the server and speaks what it speaks")
        ->check([](const std::string& v) {
          return mcp::speaks_protocol_version(v) ? std::string()
                                                 : "Scout does not speak '" + v + "' (it speaks " + mcp::spoken_protocol_versions() + ")";
        });
    cmd->add_flag("--json", a->json, "Print JSON");
    cmd->add_option("--timeout", a->timeout_s, "Seconds to wait for each answer")->capture_default_str()->check(
        CLI::PositiveNumber);
    cmd->footer(std::string("The server is a URL, scout mcp ") + (call ? "call URL TOOL '{\"arg\": 1}'" : "list URL") +
                ", or a command after --: scout mcp " + (call ? "call TOOL '{\"arg\": 1}'" : "list") +
                " -- COMMAND ARGS...\nExit codes: 0 ok; 1 the tool reported an error; 2 usage; 3 the server could "
                "not be started or failed; 130 interrupted.");
    cmd->callback([a, call, &exit_code] { exit_code = run_mcp(*a, server_command(), call); });
  }
}

}  // namespace scout::cli
