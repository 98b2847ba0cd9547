// Each subcommand registers itself on the app and stores its exit code in `exit_code` when run.
// Front ends stay thin: parse, call the library, print.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace scout::cli {

void register_inspect(CLI::App& app, int& exit_code);
void register_tokenize(CLI::App& app, int& exit_code);
void register_synth(CLI::App& app, int& exit_code);
void register_generate(CLI::App& app, int& exit_code);
void register_bench(CLI::App& app, int& exit_code);
void register_index(CLI::App& app, int& exit_code);
void register_tool(CLI::App& app, int& exit_code);  // "tool" and "tools"
void register_run(CLI::App& app, int& exit_code);
void register_trace(CLI::App& app, int& exit_code);
void register_mcp(CLI::App& app, int& exit_code);  // "mcp list", "mcp call"
// The MCP server command given after "--" (main() takes it out before CLI11 parses).
void set_mcp_server_command(std::vector<std::string> command);
void register_mcp_server(CLI::App& app, int& exit_code);  // "mcp-server": Scout's tools offered over MCP

}  // namespace scout::cli
