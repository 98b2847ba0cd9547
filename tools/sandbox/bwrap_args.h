// Pieces of a bubblewrap command line shared by run_in_sandbox (run_code) and
// contained_command_line (sandboxed MCP servers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace scout::bwrap {

constexpr const char* kInnerHome = "/sandbox";  // the program's $HOME and working directory
constexpr const char* kPathValue = "/usr/local/bin:/usr/bin:/bin";

// The executable `name` in PATH, then /usr/bin and /bin; "" when there is none.
std::string find_executable(const std::string& name);

// Whether this bwrap knows --size (bubblewrap 0.7 and later); asked once per path with
// `bwrap --help`, then remembered.
bool supports_size(const std::string& bwrap);

// The namespaces, identity and environment every container gets: its own user (uid and gid
// 1000, no capabilities), pid, ipc, uts, cgroup and network namespaces, killed with its parent,
// and an environment of PATH, HOME and LANG only.
void add_isolation(std::vector<std::string>& args);

// Read-only /usr with the /bin, /lib... of a merged-/usr system, and the few /etc files the
// dynamic loader and Python need.
void add_system_mounts(std::vector<std::string>& args);

// A fresh /proc and /dev, and private tmpfs mounts on /tmp and kInnerHome, each of
// `size_bytes` (0: the kernel's default, half of RAM). These come before any bind: a mount
// hides whatever was bound beneath it earlier, so binds under /tmp would otherwise vanish.
void add_private_mounts(std::vector<std::string>& args, std::uint64_t size_bytes);

}  // namespace scout::bwrap
