// Running commands from tests: the real scout executable, node scripts, peer builds.
#pragma once

#include <string>

namespace scout::test {

// 'text' quoted for sh, safe for any bytes.
std::string shell_quote(const std::string& text);

struct CommandResult {
  int exit_code;       // the command's exit status; -1 when it did not exit normally
  std::string output;  // what it wrote to stdout (add "2>&1" to the command for stderr too)
};

// Runs `command` with sh and collects its standard output.
CommandResult run_command(const std::string& command);

}  // namespace scout::test
