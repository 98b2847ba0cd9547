// Support for the kill-safety tests: starting the scout executable in the background so that a
// test can SIGKILL it midway, and waiting for what it writes to disk.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "tests/common/process.h"

namespace scout::test {

inline std::string scout_executable() { return shell_quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout"); }

// The environment scout runs in for these tests: no keys of the user's, no config of the user's
// (HOME and the XDG folders point into `home`).
inline std::string scout_environment(const std::filesystem::path& home) {
  std::filesystem::create_directories(home);
  return "env -u BRAVE_API_KEY -u TAVILY_API_KEY -u XDG_CONFIG_HOME -u XDG_STATE_HOME -u XDG_DATA_HOME HOME=" +
         shell_quote(home.string()) + " OPENAI_API_KEY=sk-kill-test-0123456789";
}

// `scout ARGS` started in the background (its output in `log`), to be killed midway.
inline std::unique_ptr<BackgroundProcess> start_scout(const std::filesystem::path& home, const std::string& args,
                                                      const std::filesystem::path& log) {
  return std::make_unique<BackgroundProcess>(scout_environment(home) + " " + scout_executable() + " " + args,
                                             log.string());
}

// `scout ARGS` run to its end; its exit status and what it wrote to stdout and stderr.
inline CommandResult run_scout_in(const std::filesystem::path& home, const std::string& args) {
  return run_command(scout_environment(home) + " " + scout_executable() + " " + args + " 2>&1");
}

// Polls `done` until it holds (true) or `limit` passes (false). The limit only keeps a broken
// build from hanging the suite; no test depends on how soon `done` holds.
template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

inline std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace scout::test
