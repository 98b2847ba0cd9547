#include "tools/sandbox/bwrap_args.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

namespace scout::bwrap {
namespace {

namespace fs = std::filesystem;

// bwrap --help, stdout and stderr together; "" when it cannot be run.
std::string help_text(const std::string& bwrap) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  std::string arg0 = bwrap, arg1 = "--help";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, bwrap.c_str(), &actions, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) text.append(buf, static_cast<std::size_t>(n));
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  close(out[0]);
  return text;
}

}  // namespace

std::string find_executable(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = std::string(path ? path : "") + ":/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
    start = end + 1;
  }
  return "";
}

bool supports_size(const std::string& bwrap) {
  static std::mutex mutex;
  static std::map<std::string, bool> known;
  std::lock_guard lock(mutex);
  auto it = known.find(bwrap);
  if (it == known.end()) it = known.emplace(bwrap, help_text(bwrap).find("--size") != std::string::npos).first;
  return it->second;
}

void add_isolation(std::vector<std::string>& a) {
  a.insert(a.end(), {"--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000", "--hostname", "sandbox",
                     "--die-with-parent", "--cap-drop", "ALL", "--clearenv", "--setenv", "PATH", kPathValue,
                     "--setenv", "HOME", kInnerHome, "--setenv", "LANG", "C.UTF-8"});
}

void add_system_mounts(std::vector<std::string>& a) {
  a.insert(a.end(), {"--ro-bind", "/usr", "/usr"});
  // Debian 12 has a merged /usr: /bin, /lib, ... are symlinks into it. Older layouts are real
  // directories and get bound read-only instead.
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}) {
    std::error_code ec;
    if (fs::is_symlink(top, ec)) {
      a.insert(a.end(), {"--symlink", fs::read_symlink(top, ec).string(), top});
    } else if (fs::is_directory(top, ec)) {
      a.insert(a.end(), {"--ro-bind", top, top});
    }
  }
  // Only what the dynamic loader, Python and Debian's alternatives links need. No resolv.conf
  // or hosts: there is no network, and name lookups should fail fast.
  for (const char* f : {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
                        "/etc/localtime", "/etc/nsswitch.conf"}) {
    a.insert(a.end(), {"--ro-bind-try", f, f});
  }
}

void add_private_mounts(std::vector<std::string>& a, std::uint64_t size_bytes) {
  a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev"});
  for (const char* dir : {"/tmp", kInnerHome}) {
    if (size_bytes > 0) a.insert(a.end(), {"--size", std::to_string(size_bytes)});
    a.insert(a.end(), {"--tmpfs", dir});
  }
}

}  // namespace scout::bwrap
