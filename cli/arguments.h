// The command line as Scout reads it, before and around CLI11: arguments reach every command
// byte for byte, and a word that is not a command is named as such.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace scout::cli {

// CLI11 2.1 reads a value written as "[a, b]" for a list option or positional (tokenize's TEXT,
// generate's --stop, index's paths, …) as the list's items, dropping the brackets and splitting
// at commas, so `scout tokenize -- '[1, 2]'` would tokenize "1  2". Every argument of that form
// is handed to CLI11 behind a leading NUL, which no real argument can contain and which makes
// CLI11 see an ordinary word; a transform on every option of every command takes the NUL off
// again before the value is stored. Nothing else CLI11 does changes a value (commas, braces,
// newlines and invalid UTF-8 pass unchanged; a leading '-' needs '--', as usual).
//
// `args` are argv without the program name; the result is what CLI11's parse(std::vector&)
// takes (reversed, as it expects).
std::vector<std::string> shield_arguments(const std::vector<std::string>& args);
// Adds the transform that undoes shield_arguments to every option of `app` and of its commands,
// at any depth. Call after every command is registered.
void unshield_options(CLI::App& app);

// The first word of `args` that stands where a command is expected and names none ("scout
// batch", "scout mcp lst"), with the command path it was given to: CLI11 would print the
// top-level help for "scout batch --help" and exit 0, or say only "A subcommand is required".
struct UnknownCommand {
  std::string word;
  std::string path;  // "scout" or "scout mcp"
};
std::optional<UnknownCommand> find_unknown_command(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace scout::cli
