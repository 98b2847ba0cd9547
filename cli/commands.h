// Each subcommand registers itself on the app and stores its exit code in `exit_code` when run.
// Front ends stay thin: parse, call the library, print.
#pragma once

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

}  // namespace scout::cli
