// contained_command_line: the bubblewrap command line of a sandboxed MCP server.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "tools/sandbox/bwrap_args.h"
#include "tools/sandbox/sandbox.h"
#include "tools/sandbox/seccomp_filter.h"

namespace scout {
namespace {

namespace fs = std::filesystem;

bool is_at_or_under(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p)
    if (p == path.end() || *p != *d) return false;
  return true;
}

// A bind of one of these would replace the container's own root, /proc, /dev or $HOME (the
// host's /proc or /dev showing inside, or the writable home turning into a host folder).
std::string covers_container_mount(const fs::path& path) {
  if (path == "/" || path == bwrap::kInnerHome) return path.string();
  for (const char* own : {"/proc", "/dev"})
    if (is_at_or_under(path, own)) return own;
  return "";
}

}  // namespace

Result<ContainedLine> contained_command_line(const ContainedCommand& command) {
  const std::string bwrap =
      command.bwrap_path.empty() ? bwrap::find_executable("bwrap") : command.bwrap_path;
  if (bwrap.empty() || access(bwrap.c_str(), X_OK) != 0)
    return make_error("a sandboxed server needs bubblewrap (bwrap), which was not found: install it "
                      "(apt-get install bubblewrap) or turn the server's sandbox off");
  const std::string program =
      command.program.find('/') == std::string::npos ? bwrap::find_executable(command.program) : command.program;
  if (program.empty() || access(program.c_str(), X_OK) != 0)
    return make_error("the program '" + command.program + "' was not found or is not executable");
  auto filter = sandbox_seccomp_fd();
  if (!filter) return make_error("cannot build the sandbox's system-call filter: " + filter.error().message);
  ContainedLine line;
  // Kept off kContainedFilterFd, so that the caller's dup2 onto it always clears close-on-exec.
  line.filter = ScopedFd(fcntl(filter->get(), F_DUPFD_CLOEXEC, kContainedFilterFd + 1));
  if (line.filter.get() < 0) return make_error("cannot hand the system-call filter to bwrap: too many open files");

  std::vector<std::string>& a = line.argv;
  a = {bwrap, "--seccomp", std::to_string(kContainedFilterFd)};
  bwrap::add_isolation(a);
  if (command.network) a.push_back("--share-net");
  for (const auto& [name, value] : command.env) a.insert(a.end(), {"--setenv", name, value});
  bwrap::add_private_mounts(a, 0);
  bwrap::add_system_mounts(a);
  if (command.network)
    for (const char* f : {"/etc/resolv.conf", "/etc/hosts", "/etc/ssl", "/etc/ca-certificates"})
      a.insert(a.end(), {"--ro-bind-try", f, f});
  std::vector<std::string> visible = command.read_only_paths;
  if (program.rfind("/usr/", 0) != 0) visible.push_back(program);
  for (const std::string& path : visible) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec).lexically_normal();
    if (ec || !fs::exists(absolute, ec)) return make_error("the sandbox path '" + path + "' does not exist");
    if (const std::string own = covers_container_mount(absolute); !own.empty())
      return make_error("the sandbox path '" + path + "' would cover the container's own " + own +
                        "; list the files or folders the server needs instead");
    a.insert(a.end(), {"--ro-bind", absolute.string(), absolute.string()});
  }
  // The root is a tmpfs bwrap made for the mount points; freeze it last.
  a.insert(a.end(), {"--chdir", bwrap::kInnerHome, "--remount-ro", "/", "--", program});
  a.insert(a.end(), command.args.begin(), command.args.end());
  return line;
}

}  // namespace scout
