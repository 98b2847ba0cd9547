// Hostile tests of the sandbox's system-call filter (tools/sandbox/seccomp_filter.h): calls that
// would let code reach past its namespaces are refused, calls from a foreign ABI kill the
// process, and ordinary programs (threads, subprocesses) are untouched.
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "tests/tools/sandbox_test_support.h"
#include "tools/sandbox/seccomp_filter.h"

using scout::SandboxLimits;
using namespace scout::testing;

namespace {

// Python that calls a raw system call through ctypes and prints "NAME: result or error".
const std::string kPrelude =
    "import ctypes, os, signal\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.syscall.restype = ctypes.c_long\n"
    "def report(name, r):\n"
    "  print(name + ':', os.strerror(ctypes.get_errno()) if r == -1 else 'ok')\n";

std::string n(long nr) { return std::to_string(nr); }

}  // namespace

TEST_CASE("ptrace of the sandbox's pid 1 is refused at once instead of hanging the run", "[sandbox][seccomp]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 20;  // an attach that succeeded would stop pid 1 and hold the run to here
  auto r = py(kPrelude + "report('attach', libc.ptrace(16, 1, None, None))\n", lim);  // PTRACE_ATTACH
  CHECK(r.stdout_text == "attach: Operation not permitted\n");
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
}

TEST_CASE("unshare -Ur fails inside the sandbox", "[sandbox][seccomp]") {
  auto r = sh("unshare -Ur true\necho status $?\n");
  CHECK(r.stdout_text == "status 1\n");
  CHECK(r.stderr_text.find("Operation not permitted") != std::string::npos);
}

TEST_CASE("New namespaces are refused through unshare, clone and clone3", "[sandbox][seccomp]") {
  auto r = py(kPrelude +
              "report('unshare user', libc.unshare(0x10000000))\n"
              "report('unshare net', libc.unshare(0x40000000))\n"
              // clone with a null stack forks; a child that got through leaves at once.
              "for name, flags in [('clone user', 0x10000000), ('clone pid', 0x20000000), ('clone mount', 0x20000)]:\n"
              "  r = libc.syscall(" + n(SYS_clone) + ", flags | signal.SIGCHLD, 0, 0, 0, 0)\n"
              "  if r == 0:\n    os._exit(0)\n"
              "  report(name, r)\n"
              // struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls
              "args = (ctypes.c_uint64 * 8)(0x10000000, 0, 0, 0, signal.SIGCHLD, 0, 0, 0)\n"
              "r = libc.syscall(" + n(SYS_clone3) + ", ctypes.byref(args), 64)\n"
              "if r == 0:\n  os._exit(0)\n"
              "report('clone3', r)\n"
              "report('setns', libc.setns(0, 0))\n");
  CHECK(r.stdout_text ==
        "unshare user: Operation not permitted\n"
        "unshare net: Operation not permitted\n"
        "clone user: Operation not permitted\n"
        "clone pid: Operation not permitted\n"
        "clone mount: Operation not permitted\n"
        "clone3: Function not implemented\n"
        "setns: Operation not permitted\n");
}

TEST_CASE("Kernel interfaces outside the sandbox's needs are refused", "[sandbox][seccomp]") {
  // Arguments that would succeed, or fail with another error, without the filter.
  auto r = py(kPrelude +
              "report('add_key', libc.syscall(" + n(SYS_add_key) + ", b'user', b'k', b'v', 1, -2))\n"
              "report('keyctl', libc.syscall(" + n(SYS_keyctl) + ", 0, -2, 0))\n"
              "report('perf_event_open', libc.syscall(" + n(SYS_perf_event_open) + ", None, 0, -1, -1, 0))\n"
              "report('bpf', libc.syscall(" + n(SYS_bpf) + ", 0, None, 0))\n"
              "report('userfaultfd', libc.syscall(" + n(SYS_userfaultfd) + ", 1))\n"
              "report('io_uring_setup', libc.syscall(" + n(SYS_io_uring_setup) + ", 1, None))\n"
              "report('process_vm_readv', libc.syscall(" + n(SYS_process_vm_readv) + ", 1, None, 0, None, 0, 0))\n"
              "report('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))\n"
              "report('fsopen', libc.syscall(" + n(SYS_fsopen) + ", b'tmpfs', 0))\n"
              "report('open_by_handle_at', libc.syscall(" + n(SYS_open_by_handle_at) + ", -1, None, 0))\n"
              "report('personality no-aslr', libc.personality(0x0040000))\n"
              "print('personality query:', libc.personality(0xffffffff) != -1)\n");
  CHECK(r.stdout_text ==
        "add_key: Operation not permitted\n"
        "keyctl: Operation not permitted\n"
        "perf_event_open: Operation not permitted\n"
        "bpf: Operation not permitted\n"
        "userfaultfd: Operation not permitted\n"
        "io_uring_setup: Operation not permitted\n"
        "process_vm_readv: Operation not permitted\n"
        "mount: Operation not permitted\n"
        "fsopen: Operation not permitted\n"
        "open_by_handle_at: Operation not permitted\n"
        "personality no-aslr: Operation not permitted\n"
        "personality query: True\n");
}

TEST_CASE("Threads, fork and subprocesses work as usual under the filter", "[sandbox][seccomp]") {
  auto r = py("import os, subprocess, threading\n"
              "from concurrent.futures import ThreadPoolExecutor\n"
              "with ThreadPoolExecutor(8) as pool:\n"
              "  print(sum(pool.map(lambda x: x * x, range(100))))\n"
              "pid = os.fork()\n"
              "if pid == 0:\n  os._exit(7)\n"
              "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
              "out = subprocess.run(['bash', '-c', 'echo from bash; python3 -c \"print(6 * 7)\" & wait'],\n"
              "                     capture_output=True, text=True)\n"
              "print(out.stdout, end='')\n");
  CHECK(r.stdout_text == "328350\n7\nfrom bash\n42\n");
  CHECK(r.exit_code == 0);
  CHECK(r.limits_held.find("system-call filter") != std::string::npos);
}

#if defined(__x86_64__)
namespace {

// Whether this kernel runs 32-bit system calls (int 0x80) from 64-bit code: without IA-32
// emulation they end in SIGSEGV before any filter sees them.
bool kernel_runs_int80() {
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);  // not the test framework's handler, which would report a failure
    long nr = 20;  // getpid in the i386 table
    asm volatile("int $0x80" : "+a"(nr) : : "memory");
    _exit(nr > 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("A 32-bit system call from x86-64 code kills the process", "[sandbox][seccomp]") {
  if (!kernel_runs_int80()) {
    WARN("this kernel has no IA-32 emulation: int 0x80 faults before the filter sees it");
    return;
  }
  // mov eax, 20 (getpid in the i386 table, but 20 is writev on x86-64); int 0x80; ret
  auto r = py("import ctypes, mmap\n"
              "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
              "m.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))\n"
              "f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))\n"
              "print('returned', f(), flush=True)\n");
  CHECK(r.stdout_text.empty());
  CHECK(r.term_signal == SIGSYS);
  CHECK(r.killed_for == "system-call filter (a call from a foreign ABI)");
}

TEST_CASE("An x32 system call kills the process", "[sandbox][seccomp]") {
  auto r = py(kPrelude + "report('x32 getpid', libc.syscall(0x40000000 | " + n(SYS_getpid) + "))\n");
  CHECK(r.stdout_text.empty());
  CHECK(r.term_signal == SIGSYS);
}
#endif

TEST_CASE("The filter program checks the architecture first and ends in allow", "[sandbox][seccomp]") {
  if (!scout::seccomp_filter_supported()) return;
  const auto program = scout::sandbox_seccomp_program();
  REQUIRE(program.size() > 10);
  CHECK(program.size() < 4096);  // BPF_MAXINSNS
  CHECK(program[0].code == (BPF_LD | BPF_W | BPF_ABS));
  CHECK(program[0].k == 4);  // offsetof(seccomp_data, arch)
  CHECK(program.back().code == (BPF_RET | BPF_K));
  CHECK(program.back().k == 0x7fff0000u);  // SECCOMP_RET_ALLOW
}
