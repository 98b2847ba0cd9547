#include "cli/arguments.h"

#include <algorithm>

namespace scout::cli {

namespace {

constexpr char kShield = '\0';

bool needs_shield(const std::string& arg) { return arg.size() >= 2 && arg.front() == '[' && arg.back() == ']'; }

void unshield(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    option->transform(
        [](const std::string& value) { return value.starts_with(kShield) ? value.substr(1) : value; },
        "verbatim", "");
  }
  for (CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) unshield(*command);
}

}  // namespace

std::vector<std::string> shield_arguments(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (auto it = args.rbegin(); it != args.rend(); ++it) out.push_back(needs_shield(*it) ? kShield + *it : *it);
  return out;
}

void unshield_options(CLI::App& app) { unshield(app); }

std::optional<UnknownCommand> find_unknown_command(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* level = &app;
  std::string path = app.get_name().empty() ? "scout" : app.get_name();
  for (const std::string& arg : args) {
    if (arg == "--") return std::nullopt;
    if (!arg.empty() && arg.front() == '-') continue;  // an option of this level; CLI11 checks it
    const auto commands = level->get_subcommands([](const CLI::App*) { return true; });
    if (commands.empty()) return std::nullopt;  // a positional argument of the command
    const auto named = std::find_if(commands.begin(), commands.end(), [&](const CLI::App* c) { return c->check_name(arg); });
    if (named == commands.end()) return UnknownCommand{arg, path};
    level = *named;
    path += " " + arg;
  }
  return std::nullopt;
}

}  // namespace scout::cli
