#include "tests/common/process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <cstdio>

namespace scout::test {

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string output;
  char buffer[1 << 16];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

BackgroundProcess::BackgroundProcess(const std::string& command, const std::string& log_path) : log_path_(log_path) {
  // Built before fork: the child of a threaded test (servers run beside it) may only exec.
  const std::string line = "exec " + command + " >" + shell_quote(log_path) + " 2>&1";
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ > 0) setpgid(pid_, pid_);  // also here: no race with the child's own call
  group_ = pid_;
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0) {
    kill(-group_, SIGTERM);
    for (int i = 0; i < 200 && !exited(); ++i)  // up to 2 s for a clean exit, then SIGKILL
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (group_ > 0) kill(-group_, SIGKILL);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

bool BackgroundProcess::kill_now() {
  if (exited()) return false;
  kill(pid_, SIGKILL);
  wait();
  return WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL;
}

bool BackgroundProcess::exited() {
  if (pid_ <= 0) return true;
  if (waitpid(pid_, &status_, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

int BackgroundProcess::wait() {
  if (pid_ > 0 && waitpid(pid_, &status_, 0) == pid_) pid_ = -1;
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

bool BackgroundProcess::group_alive() const { return group_ > 0 && kill(-group_, 0) == 0; }

bool BackgroundProcess::wait_for_port(int port, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (exited()) return false;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string BackgroundProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace scout::test
