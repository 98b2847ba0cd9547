// The code sandbox behind the run_code tool: runs a short Python or Bash program in a
// bubblewrap container with resource limits, and returns what it printed.
//
// What the code sees: read-only /usr (with the /bin, /lib, /lib64 links of a merged-/usr
// system), a handful of /etc files, a fresh /proc and /dev, and two private, size-capped tmpfs
// mounts: /tmp and the working directory /sandbox (also $HOME), which holds the program as
// main.py or main.sh. Nothing it writes reaches the host's disk. No network (not even loopback
// to the host), no host home, /root, /work or source tree, no capabilities, an environment of
// PATH, HOME and LANG only (so secrets in the caller's environment never reach it), and a
// system-call filter (seccomp_filter.h) that refuses ptrace, new namespaces, mounts, keyrings,
// bpf, perf and the like.
//
// Limits: wall time (the whole container is killed), CPU seconds and address space per
// process, memory and processes for the run as a whole (a cgroup, where one can be had:
// cgroup.h; otherwise processes are still capped in total by RLIMIT_NPROC, and memory only per
// process), the size of /tmp and of the working directory, the size of any one file, and bytes
// of output kept. SandboxResult::limits_held says which held for a run.
//
// Thread-safety: run_in_sandbox is reentrant; concurrent calls from different threads are fine
// (each run owns its pipes, cgroup and child processes). It blocks the calling thread for up
// to the wall-time limit plus a short grace period.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <utility>
#include <vector>

#include "common/expected.h"
#include "tools/sandbox/memfd.h"

namespace scout {

enum class SandboxLanguage { python, bash };

struct SandboxLimits {
  double wall_seconds = 10.0;                   // whole run, then every process is killed
  int cpu_seconds = 10;                         // CPU time per process (RLIMIT_CPU)
  std::uint64_t address_space_bytes = 512ull << 20;  // virtual memory per process (RLIMIT_AS)
  // Memory of all the run's processes together, files in its /tmp and working directory
  // included (they live in memory); no swap. Held by the run's cgroup (memory.max); the kernel
  // kills a process that would go beyond it, and the run is then stopped.
  std::uint64_t memory_bytes = 1ull << 30;
  // Processes and threads of the run together, bubblewrap's own included: RLIMIT_NPROC inside
  // the sandbox's user namespace, and the run's cgroup (pids.max) where there is one.
  int max_processes = 64;
  std::uint64_t max_file_bytes = 16ull << 20;   // largest file the code may write (RLIMIT_FSIZE)
  // Size of /tmp and of the working directory, each (tmpfs --size): writing beyond it fails
  // with "No space left on device".
  std::uint64_t disk_bytes = 256ull << 20;
  // stdout + stderr kept together; the rest is read and dropped, and once 64 times the cap has
  // been dropped the program is stopped (killed_for names the output limit).
  std::size_t output_cap_bytes = 64 * 1024;
};

struct SandboxRequest {
  SandboxLanguage language = SandboxLanguage::python;
  std::string code;
  SandboxLimits limits;
  // Without bubblewrap the request fails, explaining how to fix it. With this set, the code
  // runs with rlimits (and the run's cgroup, where there is one) only: no filesystem, network
  // or environment isolation beyond a cleared environment and a scratch directory on the
  // host's disk, no system-call filter; the result says so in `note`.
  bool allow_unsandboxed = false;
  // The bubblewrap executable; empty means search PATH, then /usr/bin and /bin.
  std::string bwrap_path;
  // When set, another thread may set it to true to stop the run: every process of the
  // container is killed within ~20 ms (as at the wall-clock limit) and the result says
  // `cancelled`. Must outlive the call.
  const std::atomic<bool>* cancel = nullptr;
};

struct SandboxResult {
  int exit_code = -1;       // the program's exit status; -1 when it ended by a signal
  int term_signal = 0;      // the signal that ended it, 0 when it exited normally
  std::string stdout_text;  // each capped; `truncated` says when bytes were dropped
  std::string stderr_text;
  bool truncated = false;   // output cap hit; a "[output truncated at N bytes]" line is appended
  bool timed_out = false;   // the wall-clock limit ended the run
  bool cancelled = false;   // SandboxRequest::cancel stopped the run
  std::string killed_for;   // the limit that ended or broke the run, human readable; "" if none
  bool sandboxed = true;    // false when it ran with rlimits only (allow_unsandboxed)
  std::string note;         // anything the caller should tell the user, e.g. running unsandboxed
  // Which limits held for this run beyond the per-process ones, and where a cgroup could not
  // be had, why, e.g. "memory 1024 MiB and 64 processes for the whole run (cgroup v2); /tmp
  // and the working directory 256 MiB each (tmpfs); system-call filter".
  std::string limits_held;
  double wall_seconds = 0;  // how long the run took
};

// Runs the request's code and waits for it to finish or be killed. Returns an error only when
// the code could not be started at all (bubblewrap missing or unable to create its namespaces,
// no temporary directory, fork failure); a program that fails, crashes or hits a limit is a
// successful SandboxResult describing that.
Result<SandboxResult> run_in_sandbox(const SandboxRequest& request);

// A long-running program (an MCP server over stdio) in the same kind of container: read-only
// system, the listed host paths read-only at the same place (also under /tmp: the private
// mounts go first, the binds over them), a private /tmp and an empty writable $HOME (a tmpfs),
// a cleared environment (PATH, HOME, LANG and `env`), no network unless `network`, the same
// system-call filter, and killed with its parent. No rlimits or cgroup: a server's needs vary;
// its process tree ends with the caller's close().
struct ContainedCommand {
  std::string program;  // a path, or a name looked up in PATH (outside the container)
  std::vector<std::string> args;
  std::vector<std::string> read_only_paths;  // host files or folders the program needs (its code)
  std::vector<std::pair<std::string, std::string>> env;
  bool network = false;
  std::string bwrap_path;  // empty: "bwrap" from PATH
};

// The descriptor number at which bwrap reads the system-call filter.
constexpr int kContainedFilterFd = 3;

// The caller spawns `argv` (bwrap first), owns the pipes, and gives the child `filter` as
// descriptor kContainedFilterFd (e.g. posix_spawn_file_actions_adddup2, which also clears
// close-on-exec); `filter` may be closed once the child is started.
struct ContainedLine {
  std::vector<std::string> argv;
  ScopedFd filter;  // never equal to kContainedFilterFd, so a dup2 onto it is never a no-op
};

// Fails, naming what is missing, when bwrap or the program cannot be found, a listed path does
// not exist or would cover the container's own /, /proc, /dev or $HOME, or the filter cannot
// be built (an architecture other than x86-64 or AArch64).
Result<ContainedLine> contained_command_line(const ContainedCommand& command);

}  // namespace scout
