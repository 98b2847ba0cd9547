#include "plugins/mcp/stdio_transport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

extern char** environ;

namespace scout::plugins::mcp {

namespace {

constexpr std::size_t kStderrTail = 8192;

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended (status " + std::to_string(status) + ")";
}

}  // namespace

struct StdioTransport::Pipes {
  asio::posix::stream_descriptor in;   // the child's stdin
  asio::posix::stream_descriptor out;  // the child's stdout
  asio::posix::stream_descriptor err;  // the child's stderr
  Pipes(asio::any_io_executor ex, int in_fd, int out_fd, int err_fd) : in(ex, in_fd), out(ex, out_fd), err(ex, err_fd) {}
};

Result<std::unique_ptr<StdioTransport>> StdioTransport::spawn(asio::any_io_executor executor, StdioCommand command,
                                                              const std::vector<std::pair<int, int>>& pass_fds) {
  const std::string name = command.name.empty() ? base_name(command.program) : command.name;
  // Writing to a server that has exited must be an error, not SIGPIPE ending Scout: sockets
  // have MSG_NOSIGNAL, pipes have only this. (The child gets SIGPIPE back at its default.)
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return make_error(name + ": cannot create pipes: " + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return make_error(name + ": cannot create pipes: " + std::strerror(errno));
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    return make_error(name + ": cannot create pipes: " + std::strerror(errno));
  }
  auto close_all = [&] {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
  };

  // The environment: Scout's, with the command's entries added or replacing.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : command.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings{command.program};
  arg_strings.insert(arg_strings.end(), command.args.begin(), command.args.end());
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  for (const auto& [here, there] : pass_fds) posix_spawn_file_actions_adddup2(&actions, here, there);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, command.program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    close_all();
    return make_error(name + ": cannot start '" + command.program + "': " + std::strerror(rc));
  }
  ::close(in[0]), ::close(out[1]), ::close(err[1]);
  std::unique_ptr<StdioTransport> t(new StdioTransport(std::move(executor), name, pid, in[1], out[0], err[0]));
  asio::co_spawn(t->executor_, t->drain_stderr(), asio::detached);
  return t;
}

StdioTransport::StdioTransport(asio::any_io_executor executor, std::string name, int pid, int in_fd, int out_fd,
                               int err_fd)
    : executor_(executor),
      name_(std::move(name)),
      pid_(pid),
      pipes_(std::make_unique<Pipes>(executor, in_fd, out_fd, err_fd)),
      stderr_tail_(std::make_shared<std::string>()) {}

StdioTransport::~StdioTransport() {
  if (!exit_status_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    reap(true);
  }
}

asio::awaitable<void> StdioTransport::drain_stderr() {
  // Holds the tail through a shared pointer: the transport may be gone when the read completes.
  auto tail = stderr_tail_;
  auto* err = &pipes_->err;
  std::array<char, 4096> buf;
  for (;;) {
    auto [ec, n] = co_await err->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    tail->append(buf.data(), n);
    if (tail->size() > kStderrTail) tail->erase(0, tail->size() - kStderrTail);
  }
}

std::string StdioTransport::stderr_tail() const { return *stderr_tail_; }

void StdioTransport::collect_stderr_now() {
  // What the server wrote to stderr and the background reader has not taken yet (it may not
  // have run before a fault is reported).
  boost::system::error_code ec;
  pipes_->err.non_blocking(true, ec);
  std::array<char, 4096> buf;
  for (;;) {
    const std::size_t n = pipes_->err.read_some(asio::buffer(buf), ec);
    if (ec || n == 0) break;
    stderr_tail_->append(buf.data(), n);
    if (stderr_tail_->size() > kStderrTail) stderr_tail_->erase(0, stderr_tail_->size() - kStderrTail);
  }
}

asio::awaitable<Result<void>> StdioTransport::send(const Message& message) {
  std::string line = serialize(message) + "\n";
  auto [ec, n] = co_await asio::async_write(pipes_->in, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
  (void)n;
  if (ec) {
    // Most often the server has exited: say how, as receive() does.
    co_await settle_exit();
    co_return make_error("MCP server '" + name_ + "': cannot write to it (" + ec.message() + ")" +
                         (exit_status_ ? "; it " + *exit_status_ : std::string()));
  }
  co_return Result<void>{};
}

asio::awaitable<Result<Message>> StdioTransport::receive() {
  std::array<char, 65536> buf;
  while (ready_.empty()) {
    if (framer_.failed()) co_return make_error("MCP server '" + name_ + "' wrote " + framer_.error());
    auto [ec, n] = co_await pipes_->out.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return make_error("MCP server '" + name_ + "': reading cancelled");
      co_await settle_exit();
      co_return make_error("MCP server '" + name_ + "' closed its output" +
                           (exit_status_ ? " (it " + *exit_status_ + ")" : std::string()));
    }
    for (auto& line : framer_.feed(std::string_view(buf.data(), n))) ready_.push_back(std::move(line));
  }
  std::string line = std::move(ready_.front());
  ready_.erase(ready_.begin());
  auto message = parse_message(line);
  if (!message) co_return make_error("MCP server '" + name_ + "' wrote something that is " + message.error().message);
  co_return std::move(*message);
}

asio::awaitable<void> StdioTransport::settle_exit() {
  // The pipe broke: the server is exiting or has exited. Give it a moment to be reaped, and take
  // what it wrote to stderr on the way out.
  for (int i = 0; i < 100 && !reap(false); ++i) {
    asio::steady_timer pause(executor_, std::chrono::milliseconds(2));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  collect_stderr_now();
}

bool StdioTransport::reap(bool block) {
  if (exit_status_) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    exit_status_ = describe_status(status);
    return true;
  }
  return false;
}

asio::awaitable<void> StdioTransport::close(std::chrono::milliseconds grace) {
  boost::system::error_code ignored;
  pipes_->in.close(ignored);
  asio::steady_timer timer(executor_);
  auto wait_for_exit = [&](std::chrono::milliseconds limit) -> asio::awaitable<bool> {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!reap(false)) {
      if (std::chrono::steady_clock::now() >= deadline) co_return false;
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return true;
  };
  if (!co_await wait_for_exit(grace)) {
    kill(-pid_, SIGTERM);
    if (!co_await wait_for_exit(grace)) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      reap(true);
    }
  }
  collect_stderr_now();
  // The server may have left children holding its pipes: close ours so reads end.
  pipes_->out.close(ignored);
  pipes_->err.close(ignored);
}

}  // namespace scout::plugins::mcp
