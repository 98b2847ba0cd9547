// The scout executable: subcommands by concern (see ARCHITECTURE.md). Exit codes: exit_codes.h.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"

#ifndef SCOUT_VERSION
#define SCOUT_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace scout::cli;
  CLI::App app{"scout: a search-augmented agent with its own inference engine for reasoning models"};
  app.set_version_flag("-V,--version", std::string("scout ") + SCOUT_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 task failed, 2 usage, 3 model/config/file error, 4 output I/O error, 5 model backend failed, 130 interrupted.\n"
      "Run 'scout COMMAND --help' for a command's options.");

  // `scout mcp … -- COMMAND ARGS…`: the server's command line is taken out before parsing, so
  // its own options and arguments are never read as Scout's.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "mcp") {
    const auto dashes = std::find(args.begin(), args.end(), "--");
    if (dashes != args.end()) {
      set_mcp_server_command(std::vector<std::string>(dashes + 1, args.end()));
      args.erase(dashes, args.end());
    }
  }

  int exit_code = kExitOk;
  register_inspect(app, exit_code);
  register_tokenize(app, exit_code);
  register_synth(app, exit_code);
  register_generate(app, exit_code);
  register_bench(app, exit_code);
  register_index(app, exit_code);
  register_tool(app, exit_code);
  register_run(app, exit_code);
  register_trace(app, exit_code);
  register_mcp(app, exit_code);
  register_mcp_server(app, exit_code);
  unshield_options(app);

  // Like git: a word that names no command is an error, even beside --help.
  if (const auto unknown = find_unknown_command(app, args)) {
    std::cerr << unknown->path << ": '" << unknown->word << "' is not a command; see '" << unknown->path
              << " --help' for the list\n";
    return kExitUsage;
  }
  try {
    app.parse(shield_arguments(args));
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the usage hint
    return kExitUsage;
  }
  return exit_code;
}
