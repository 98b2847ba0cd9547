// Running commands from tests: the real scout executable, node scripts, peer builds.
#pragma once

#include <chrono>
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

// A process a test runs beside it (a reference MCP server over HTTP, a scout command to kill
// midway): `command` runs with sh in its own process group (sh execs the last command, so the
// process is that command itself), its output goes to `log_path`; the destructor kills the
// group and reaps it, so a failing test leaves nothing behind.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::string& command, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // SIGKILL to the process alone, as `kill -9 PID` or the OOM killer would send it (what it
  // started is left to its own arrangements), then reaps it. True when the signal ended it;
  // false when it had already exited.
  bool kill_now();
  // Reaps the process if it has exited; true when it has (now or before).
  bool exited();
  // Waits for the process to exit; its exit status, or -1 when a signal ended it.
  int wait();
  // Whether any process is left in the group (what the process started and did not take down
  // with it, such as a sandbox still running after a kill).
  bool group_alive() const;

  // Waits (up to `limit`) until something accepts TCP connections on 127.0.0.1:port; false if
  // the process exited or the time ran out first.
  bool wait_for_port(int port, std::chrono::milliseconds limit = std::chrono::seconds(20));
  // What the process wrote so far.
  std::string log() const;

 private:
  int pid_ = -1;  // -1 once reaped
  int group_ = -1;
  int status_ = 0;  // waitpid's status once reaped
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (for a child server to listen on).
int free_local_port();

}  // namespace scout::test
