// run_in_sandbox: fork, join the run's cgroup, set limits, exec bubblewrap (or the interpreter
// when unsandboxed), then read the pipes with poll() until the program ends or the wall clock
// runs out.
//
//   scout (parent) ── fork ──> child: setsid, join cgroup, rlimits, drop to uid 65534 if root,
//        │                       exec bwrap (fd 3 json status, 4 seccomp filter, 5 the program)
//        │                       bwrap (outer) ── pid namespace ──> bwrap init (pid 1)
//        │  stdout/stderr pipes                                       └─ bash shim: ulimit -u N
//        │  json status pipe (fd 3)                                       └─ exec python3/bash
//        └── timeout, output flood or the cgroup's OOM kill: SIGKILL the process group;
//            --die-with-parent takes pid 1 down with the outer bwrap, and the kernel kills
//            everything left in the pid namespace with it. The cgroup is removed last.
#include "tools/sandbox/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "tools/sandbox/bwrap_args.h"
#include "tools/sandbox/cgroup.h"
#include "tools/sandbox/seccomp_filter.h"

namespace scout {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// As root, RLIMIT_NPROC does nothing: the kernel skips the check for the root user and for
// holders of CAP_SYS_ADMIN/CAP_SYS_RESOURCE, and mapping root into a user namespace keeps the
// kernel uid 0. So a root caller first drops to this unprivileged uid and runs bwrap without
// privileges; bwrap then builds an unprivileged user namespace (the code sees uid 1000, no
// capabilities). Since Linux 5.14 process counts are kept per user namespace, so the
// "ulimit -u" applied inside the sandbox counts only this run's processes, and concurrent runs
// sharing this uid do not eat into each other's budget.
constexpr uid_t kSandboxUid = 65534;  // "nobody" on Debian
constexpr gid_t kSandboxGid = 65534;
// Descriptors bwrap is given in the child: --json-status-fd, --seccomp, --file (the program).
constexpr int kStatusFd = 3, kFilterFd = 4, kProgramFd = 5;
// Output beyond the cap is read and dropped so the writer never blocks; after this many times
// the cap has been dropped, the program is stopped instead of being drained until the timeout.
constexpr std::size_t kDrainFactor = 64;

// The scratch directory of an unsandboxed run (a sandboxed run's is a tmpfs that ends with it).
// Code may chmod its directories to 0 to make cleanup fail; give the owner access back first.
void remove_workdir(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) remove_workdir(it->path());
  }
  fs::remove_all(dir, ec);
}

struct Stream {
  int fd = -1;
  std::string* text = nullptr;
};

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// What the run's cgroup saw; both false without one.
struct CgroupVerdict {
  bool memory = false;  // the kernel killed a process at the run's memory limit
  bool tasks = false;   // a fork or thread failed at the run's process limit
};

// Names the limit that ended or broke the run. Signals, timeouts and the cgroup's counters are
// certain; the rest is read from what the interpreter printed (Python turns a failed
// allocation into MemoryError and ignores SIGXFSZ, so a too-large write surfaces as "File too
// large", and a full tmpfs as "No space left on device").
std::string classify(const SandboxResult& r, const SandboxLimits& lim, bool output_killed, CgroupVerdict cgroup) {
  std::string procs = "process limit (" + std::to_string(lim.max_processes) + ") reached";
  bool fork_failed = cgroup.tasks || contains(r.stderr_text, "Resource temporarily unavailable") ||
                     contains(r.stderr_text, "BlockingIOError") || contains(r.stderr_text, "fork: retry") ||
                     contains(r.stderr_text, "can't start new thread");
  if (r.cancelled) return "cancelled";
  if (cgroup.memory) return "memory limit (" + mib(lim.memory_bytes) + " for the whole run)";
  if (r.timed_out) {
    std::string why = "wall-clock limit (" + seconds_text(lim.wall_seconds) + ")";
    return fork_failed ? why + "; " + procs : why;
  }
  if (output_killed) return "output limit (" + std::to_string(lim.output_cap_bytes) + " bytes)";
  if (r.term_signal == SIGXCPU) return "CPU time limit (" + std::to_string(lim.cpu_seconds) + " s)";
  if (r.term_signal == SIGXFSZ || contains(r.stderr_text, "File too large") ||
      contains(r.stderr_text, "File size limit exceeded"))
    return "file size limit (" + std::to_string(lim.max_file_bytes) + " bytes)";
  if (r.sandboxed && contains(r.stderr_text, "No space left on device"))
    return "disk limit (" + mib(lim.disk_bytes) + " each for /tmp and the working directory)";
  if (r.exit_code != 0 &&
      (contains(r.stderr_text, "MemoryError") || contains(r.stderr_text, "Cannot allocate memory") ||
       contains(r.stderr_text, "xmalloc")))
    return "memory limit (" + mib(lim.address_space_bytes) + " address space)";
  if (r.term_signal == SIGKILL) return "killed by SIGKILL (CPU hard limit or out of memory)";
  if (fork_failed) return procs;
  if (r.term_signal == SIGSYS) return "system-call filter (a call from a foreign ABI)";
  if (r.term_signal != 0) return std::string("terminated by signal ") + strsignal(r.term_signal);
  return "";
}

// Everything the child needs, built before fork: after fork only async-signal-safe calls run.
struct ChildPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string workdir;   // chdir target (unsandboxed only; bwrap uses --chdir)
  bool drop_uid = false;
  bool nproc_before_exec = false;
  SandboxLimits limits;
  std::vector<int> cgroup_join_fds;  // cgroup.procs files to write "0" to; empty without a cgroup
  // The child's descriptors 0, 1, 2, then kStatusFd, kFilterFd, kProgramFd: the descriptor
  // here that becomes each, -1 for none.
  int fds[6] = {-1, -1, -1, -1, -1, -1};
};

[[noreturn]] void child_fail(const char* what) {
  const char* err = strerror(errno);
  (void)!write(2, what, strlen(what));
  (void)!write(2, ": ", 2);
  (void)!write(2, err, strlen(err));
  (void)!write(2, "\n", 1);
  _exit(127);
}

void set_limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit rl{soft, hard};
  if (setrlimit(resource, &rl) != 0) child_fail("setrlimit");
}

[[noreturn]] void run_child(const ChildPlan& plan, char* const* argv, char* const* envp, pid_t parent) {
  setsid();  // own process group, so the parent can kill(-pid) the whole tree
  // Into the cgroup first, while still root where we are: everything started from here on is
  // counted there.
  for (int fd : plan.cgroup_join_fds)
    if (write(fd, "0", 1) != 1) child_fail("joining the run's cgroup");
  // Each descriptor is first copied above the targets, so that no dup2 overwrites a source
  // still to be moved; dup2 clears close-on-exec on the copy exec keeps.
  constexpr int n = sizeof plan.fds / sizeof plan.fds[0];
  int high[n];
  for (int i = 0; i < n; ++i) {
    high[i] = plan.fds[i] < 0 ? -1 : fcntl(plan.fds[i], F_DUPFD_CLOEXEC, n);
    if (plan.fds[i] >= 0 && high[i] < 0) child_fail("dup");
  }
  for (int i = 0; i < n; ++i) {
    if (high[i] >= 0 ? dup2(high[i], i) != i : (close(i), false)) child_fail("dup2");
  }
  close_range(n, ~0u, 0);  // no other descriptor of ours leaks in
  const SandboxLimits& l = plan.limits;
  set_limit(RLIMIT_CPU, l.cpu_seconds, l.cpu_seconds + 1);  // SIGXCPU first, SIGKILL 1 s later
  set_limit(RLIMIT_AS, l.address_space_bytes, l.address_space_bytes);
  set_limit(RLIMIT_FSIZE, l.max_file_bytes, l.max_file_bytes);
  set_limit(RLIMIT_CORE, 0, 0);
  if (plan.drop_uid) {
    if (setgroups(0, nullptr) != 0 || setgid(kSandboxGid) != 0 || setuid(kSandboxUid) != 0)
      child_fail("dropping to the sandbox uid");
  }
  if (plan.nproc_before_exec) set_limit(RLIMIT_NPROC, l.max_processes, l.max_processes);
  // Set after setuid (a uid change clears it): if scout dies, so does the sandbox.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  if (!plan.workdir.empty() && chdir(plan.workdir.c_str()) != 0) child_fail("chdir");
  execve(argv[0], argv, envp);
  child_fail(argv[0]);
}

// What held for the run beyond the per-process limits (SandboxResult::limits_held).
std::string describe_limits(const SandboxLimits& lim, const RunCgroup* cgroup, const std::string& no_cgroup,
                            bool sandboxed, bool sized, bool filtered) {
  std::string text;
  if (cgroup) {
    text = "memory " + mib(lim.memory_bytes) + " and " + std::to_string(lim.max_processes) +
           " processes for the whole run (" + cgroup->kind() + ")";
  } else {
    text = no_cgroup + ": memory is capped per process only (" + mib(lim.address_space_bytes) +
           " address space), processes by RLIMIT_NPROC";
  }
  if (!sandboxed) return text + "; no disk limit beyond " + mib(lim.max_file_bytes) + " per file";
  text += sized ? "; /tmp and the working directory " + mib(lim.disk_bytes) + " each (tmpfs)"
                : "; /tmp and the working directory unsized (this bwrap has no --size): each may take half of RAM";
  return text + (filtered ? "; system-call filter" : "; no system-call filter on this architecture");
}

}  // namespace

Result<SandboxResult> run_in_sandbox(const SandboxRequest& request) {
  const SandboxLimits& lim = request.limits;
  const auto start = Clock::now();
  SandboxResult result;
  std::string bwrap = request.bwrap_path.empty() ? bwrap::find_executable("bwrap") : request.bwrap_path;
  bool sandboxed = !bwrap.empty() && access(bwrap.c_str(), X_OK) == 0;
  if (!sandboxed && !request.allow_unsandboxed) {
    return make_error(
        "run_code needs bubblewrap (bwrap), which was not found: install it (apt-get install "
        "bubblewrap) or allow unsandboxed execution");
  }
  bool is_python = request.language == SandboxLanguage::python;
  std::string interpreter = is_python ? "/usr/bin/python3" : "/usr/bin/bash";
  if (access(interpreter.c_str(), X_OK) != 0) return make_error(interpreter + " is not installed");
  const std::string script = is_python ? "main.py" : "main.sh";
  std::vector<std::string> command = {interpreter};
  if (is_python) command.push_back("-u");  // unbuffered: output printed before a kill survives

  ChildPlan plan;
  plan.limits = lim;
  plan.drop_uid = geteuid() == 0;
  // Declared before anything that holds the run's processes, so it is removed after they end.
  std::unique_ptr<RunCgroup> cgroup;
  std::string no_cgroup;
  if (auto made = RunCgroup::create({lim.memory_bytes, lim.max_processes})) {
    cgroup = std::move(*made);
    plan.cgroup_join_fds = cgroup->join_fds();
  } else {
    no_cgroup = made.error().message;
  }
  ScopedFd program_fd, filter_fd;
  std::unique_ptr<fs::path, void (*)(fs::path*)> workdir(nullptr, [](fs::path* dir) {
    remove_workdir(*dir);
    delete dir;
  });
  bool sized = false;
  if (sandboxed) {
    auto program = sealed_memfd("scout-program", request.code);
    if (!program) return make_error("cannot hand the program to the sandbox: " + program.error().message);
    program_fd = std::move(*program);
    if (seccomp_filter_supported()) {
      auto filter = sandbox_seccomp_fd();
      if (!filter) return make_error("cannot build the sandbox's system-call filter: " + filter.error().message);
      filter_fd = std::move(*filter);
    }
    sized = bwrap::supports_size(bwrap);
    plan.args = {bwrap, "--new-session", "--json-status-fd", std::to_string(kStatusFd)};
    if (filter_fd.get() >= 0) plan.args.insert(plan.args.end(), {"--seccomp", std::to_string(kFilterFd)});
    bwrap::add_isolation(plan.args);
    bwrap::add_private_mounts(plan.args, sized ? lim.disk_bytes : 0);
    bwrap::add_system_mounts(plan.args);
    const std::string home = bwrap::kInnerHome;
    const std::string nproc = std::to_string(lim.max_processes);
    plan.args.insert(plan.args.end(),
                     {"--file", std::to_string(kProgramFd), home + "/" + script, "--chdir", home,
                      // The root is a tmpfs bwrap made for the mount points; freeze it last.
                      "--remount-ro", "/", "--",
                      // The process limit is set here, inside the new user namespace, so the
                      // kernel counts only this sandbox's processes (see kSandboxUid).
                      "/usr/bin/bash", "-c", "ulimit -u " + nproc + " || exit 126; exec \"$@\"",
                      "scout-sandbox"});
    plan.args.insert(plan.args.end(), command.begin(), command.end());
    plan.args.push_back(script);
    plan.env = {std::string("PATH=") + bwrap::kPathValue, std::string("HOME=") + bwrap::kInnerHome,
                "LANG=C.UTF-8"};
  } else {
    // rlimits (and the cgroup) only, in a scratch directory on the host. Dropping root still
    // makes RLIMIT_NPROC count (all of uid 65534's processes).
    std::string tmpl = (fs::temp_directory_path() / "scout-sandbox-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr)
      return make_error("cannot create a sandbox directory: " + std::string(strerror(errno)));
    workdir.reset(new fs::path(tmpl));
    {
      std::ofstream f(*workdir / script, std::ios::binary);
      f << request.code;
      if (!f) return make_error("cannot write the program into " + workdir->string());
    }
    if (plan.drop_uid) {
      if (chown(workdir->c_str(), kSandboxUid, kSandboxGid) != 0 ||
          chown((*workdir / script).c_str(), kSandboxUid, kSandboxGid) != 0)
        return make_error("cannot hand the sandbox directory to uid 65534: " + std::string(strerror(errno)));
    }
    result.sandboxed = false;
    result.note = "bubblewrap not found: ran without a sandbox (rlimits only; the host's "
                  "filesystem and network were reachable)";
    plan.nproc_before_exec = plan.drop_uid;
    if (!plan.drop_uid && !cgroup) {
      result.note += "; no process limit (RLIMIT_NPROC would count all of this user's processes)";
    }
    plan.args = command;
    plan.args.push_back((*workdir / script).string());
    plan.workdir = workdir->string();
    plan.env = {std::string("PATH=") + bwrap::kPathValue, "HOME=" + workdir->string(), "LANG=C.UTF-8"};
  }
  result.limits_held = describe_limits(lim, cgroup.get(), no_cgroup, sandboxed, sized, filter_fd.get() >= 0);
  std::vector<char*> argv, envp;
  for (auto& s : plan.args) argv.push_back(s.data());
  for (auto& s : plan.env) envp.push_back(s.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  // Close-on-exec, so a fork on another thread does not carry our pipes into its child.
  int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  auto close_pipes = [&] {
    for (int fd : {out[0], out[1], err[0], err[1], status[0], status[1]})
      if (fd >= 0) close(fd);
  };
  ScopedFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return make_error("cannot open /dev/null: " + std::string(strerror(errno)));
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      (sandboxed && pipe2(status, O_CLOEXEC) != 0)) {
    std::string why = strerror(errno);
    close_pipes();
    return make_error("cannot create pipes: " + why);
  }
  const int child_fds[] = {devnull.get(), out[1], err[1], status[1], filter_fd.get(), program_fd.get()};
  std::copy(std::begin(child_fds), std::end(child_fds), plan.fds);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    std::string why = strerror(errno);
    close_pipes();
    return make_error("fork failed: " + why);
  }
  if (pid == 0) run_child(plan, argv.data(), envp.data(), parent);
  close(out[1]);
  close(err[1]);
  if (status[1] >= 0) close(status[1]);
  program_fd.reset();
  filter_fd.reset();
  // Only our read ends are non-blocking: a non-blocking stdout would surprise the program.
  for (int fd : {out[0], err[0], status[0]})
    if (fd >= 0) fcntl(fd, F_SETFL, O_NONBLOCK);

  std::string status_text;
  std::vector<Stream> streams = {{out[0], &result.stdout_text}, {err[0], &result.stderr_text}};
  if (sandboxed) streams.push_back({status[0], &status_text});
  std::size_t kept = 0, dropped = 0;
  bool reaped = false, killed = false, output_killed = false;  // reaped: exited, not yet waited
  Clock::time_point reaped_at{}, killed_at{};
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(lim.wall_seconds));
  auto kill_all = [&] {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    killed = true;
    killed_at = Clock::now();
  };
  char buf[16384];
  for (;;) {
    // WNOWAIT leaves the child a zombie until the end, so its pid (and the process group id
    // kill(-pid) names) cannot be reused by an unrelated process while this loop runs.
    siginfo_t info{};
    if (!reaped && waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
      reaped = true;
      reaped_at = Clock::now();
    }
    bool open_pipes = false;
    for (auto& s : streams) open_pipes |= s.fd >= 0;
    if (reaped && !open_pipes) break;
    const auto now = Clock::now();
    if (!killed && !reaped && now >= deadline) {
      result.timed_out = true;
      kill_all();
    }
    if (!killed && !reaped && request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
      result.cancelled = true;
      kill_all();
    }
    // The kernel killed one process at the run's memory limit (cgroup v1 picks one; v2 takes
    // the group): stop the rest too, so the run ends now and says why.
    if (!killed && !reaped && cgroup && cgroup->memory_limit_hit()) kill_all();
    // The program is gone but something still holds a pipe (only possible unsandboxed, or a
    // descendant that left the process group): stop waiting for it.
    if (reaped && now - std::max(reaped_at, killed_at) > std::chrono::milliseconds(500)) {
      kill(-pid, SIGKILL);
      break;
    }
    std::vector<pollfd> fds;
    for (auto& s : streams)
      if (s.fd >= 0) fds.push_back({s.fd, POLLIN, 0});
    poll(fds.data(), fds.size(), 20);  // short, so waitpid and the deadline are checked often
    for (auto& s : streams) {
      if (s.fd < 0) continue;
      ssize_t n = read(s.fd, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        close(s.fd);
        s.fd = -1;
        continue;
      }
      if (s.text == &status_text) {
        status_text.append(buf, n);
        continue;
      }
      std::size_t take = std::min<std::size_t>(n, lim.output_cap_bytes - kept);
      s.text->append(buf, take);
      kept += take;
      if (take < static_cast<std::size_t>(n)) {
        if (!result.truncated)
          s.text->append("\n[output truncated at " + std::to_string(lim.output_cap_bytes) + " bytes]");
        result.truncated = true;
        dropped += n - take;
        if (!killed && dropped > kDrainFactor * lim.output_cap_bytes) {
          output_killed = true;
          kill_all();
        }
      }
    }
  }
  for (auto& s : streams)
    if (s.fd >= 0) close(s.fd);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // bwrap reports "child-pid" on the status fd once the sandbox is set up; without it the
  // sandbox never started and the output is bwrap's (or the child's) complaint.
  if (sandboxed && !killed && !contains(status_text, "child-pid")) {
    return make_error(
        "bubblewrap could not start the sandbox: " + result.stderr_text +
        "bwrap needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
        "and user.max_user_namespaces > 0, and no AppArmor or container policy blocking them; "
        "a root caller runs bwrap as uid 65534 so that the process limit holds) and seccomp");
  }
  if (WIFSIGNALED(wait_status)) {
    result.term_signal = WTERMSIG(wait_status);
  } else {
    result.exit_code = WEXITSTATUS(wait_status);
    // bwrap passes on a signal death as 128 + signal; a program exiting with such a code
    // itself reads the same (as in a shell).
    if (sandboxed && result.exit_code > 128 && result.exit_code < 128 + NSIG) {
      result.term_signal = result.exit_code - 128;
    }
  }
  if (result.term_signal != 0) result.exit_code = -1;
  CgroupVerdict verdict;
  if (cgroup) verdict = {cgroup->memory_limit_hit(), cgroup->task_limit_hit()};
  result.killed_for = classify(result, lim, output_killed, verdict);
  return result;
}

}  // namespace scout
