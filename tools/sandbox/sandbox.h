// The code sandbox behind the run_code tool: runs a short Python or Bash program in a
// bubblewrap container with resource limits, and returns what it printed.
//
// What the code sees: read-only /usr (with the /bin, /lib, /lib64 links of a merged-/usr
// system), a handful of /etc files, a fresh /proc and /dev, a private tmpfs /tmp and a fresh,
// empty, writable working directory that is also $HOME. No network (not even loopback to the
// host), no host home, /root, /work or source tree, no capabilities, and an environment of
// PATH, HOME and LANG only, so secrets in the caller's environment never reach it.
//
// Limits: wall time (the whole container is killed), CPU seconds, address space, processes,
// size of any file written, and bytes of output kept. Each run gets its own working directory,
// created before the run and removed after it.
//
// Thread-safety: run_in_sandbox is reentrant; concurrent calls from different threads are fine
// (each run owns its pipes, directory and child processes). It blocks the calling thread for
// up to the wall-time limit plus a short grace period.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <utility>
#include <vector>

#include "common/expected.h"

namespace scout {

enum class SandboxLanguage { python, bash };

struct SandboxLimits {
  double wall_seconds = 10.0;                   // whole run, then every process is killed
  int cpu_seconds = 10;                         // CPU time per process (RLIMIT_CPU)
  std::uint64_t address_space_bytes = 512ull << 20;  // virtual memory per process (RLIMIT_AS)
  int max_processes = 64;                       // processes and threads together (RLIMIT_NPROC)
  std::uint64_t max_file_bytes = 16ull << 20;   // largest file the code may write (RLIMIT_FSIZE)
  // stdout + stderr kept together; the rest is read and dropped, and once 64 times the cap has
  // been dropped the program is stopped (killed_for names the output limit).
  std::size_t output_cap_bytes = 64 * 1024;
};

struct SandboxRequest {
  SandboxLanguage language = SandboxLanguage::python;
  std::string code;
  SandboxLimits limits;
  // Without bubblewrap the request fails, explaining how to fix it. With this set, the code
  // runs with rlimits only (no filesystem, network or environment isolation beyond a cleared
  // environment and a scratch directory), and the result says so in `note`.
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
  double wall_seconds = 0;  // how long the run took
};

// Runs the request's code and waits for it to finish or be killed. Returns an error only when
// the code could not be started at all (bubblewrap missing or unable to create its namespaces,
// no temporary directory, fork failure); a program that fails, crashes or hits a limit is a
// successful SandboxResult describing that.
Result<SandboxResult> run_in_sandbox(const SandboxRequest& request);

// A long-running program (an MCP server over stdio) in the same kind of container: read-only
// system, the listed host paths read-only at the same place, a private /tmp and an empty
// writable $HOME (a tmpfs), a cleared environment (PATH, HOME, LANG and `env`), no network
// unless `network`, and killed with its parent. No rlimits: a server's needs vary; its process
// tree ends with the caller's close(). The caller spawns the returned argv (bwrap first) and
// owns the pipes.
struct ContainedCommand {
  std::string program;  // a path, or a name looked up in PATH (outside the container)
  std::vector<std::string> args;
  std::vector<std::string> read_only_paths;  // host files or folders the program needs (its code)
  std::vector<std::pair<std::string, std::string>> env;
  bool network = false;
  std::string bwrap_path;  // empty: "bwrap" from PATH
};
// Fails, naming what is missing, when bwrap or the program cannot be found or a listed path
// does not exist.
Result<std::vector<std::string>> contained_command_line(const ContainedCommand& command);

}  // namespace scout
