// The filter is a flat list of blocks, each ending in its own return, so no jump is longer than
// a few instructions (classic BPF jumps reach at most 255 ahead):
//
//   load arch;  arch != ours            -> kill process
//   load nr;    x32 bit set (x86-64)    -> kill process
//   clone       -> load flags; any CLONE_NEW* -> EPERM, else allow
//   personality -> load persona; 0 or 0xffffffff -> allow, else EPERM
//   clone3      -> ENOSYS
//   each refused call -> EPERM
//   allow
//
// Flags and personas are read from the low 32 bits of the first argument: the kernel reads
// clone's flags and personality's persona as 32-bit values, and both architectures here are
// little-endian, so the low half is the first word of args[0].
#include "tools/sandbox/seccomp_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace scout {
namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#define SCOUT_SECCOMP_SUPPORTED 1
#elif defined(__aarch64__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#define SCOUT_SECCOMP_SUPPORTED 1
#else
#define SCOUT_SECCOMP_SUPPORTED 0
#endif

#if SCOUT_SECCOMP_SUPPORTED

constexpr std::uint32_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
constexpr std::uint32_t kPersonaLinux = 0;           // PER_LINUX, nothing weakened
constexpr std::uint32_t kPersonaQuery = 0xffffffff;  // reads the persona, changes nothing
#if defined(__x86_64__)
constexpr std::uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT: the x32 ABI's calls
#endif

// Refused with EPERM. A call an architecture lacks (iopl on AArch64) is left out by the #ifdef.
constexpr int kRefused[] = {
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
    __NR_unshare, __NR_setns,
    __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot,
    __NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
    __NR_mount_setattr,
    __NR_add_key, __NR_keyctl, __NR_request_key,
    __NR_bpf, __NR_perf_event_open, __NR_userfaultfd,
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
    __NR_kexec_load, __NR_kexec_file_load,
    __NR_init_module, __NR_finit_module, __NR_delete_module,
    __NR_open_by_handle_at,
    __NR_reboot, __NR_swapon, __NR_swapoff, __NR_acct, __NR_quotactl, __NR_quotactl_fd,
    __NR_syslog,
#ifdef __NR_iopl
    __NR_iopl,
#endif
#ifdef __NR_ioperm
    __NR_ioperm,
#endif
#ifdef __NR_modify_ldt
    __NR_modify_ldt,
#endif
#ifdef __NR_uselib
    __NR_uselib,
#endif
};

sock_filter statement(std::uint16_t code, std::uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t if_true, std::uint8_t if_false) {
  return sock_filter{code, if_true, if_false, k};
}
sock_filter load(std::size_t offset) {
  return statement(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(offset));
}
sock_filter give(std::uint32_t action) { return statement(BPF_RET | BPF_K, action); }
sock_filter refuse(int error) { return give(SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(error) & SECCOMP_RET_DATA)); }
// Skips the next `skip` instructions unless the call number (in A) is `nr`.
sock_filter if_call(int nr, std::uint8_t skip) {
  return jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, skip);
}

#endif  // SCOUT_SECCOMP_SUPPORTED

}  // namespace

bool seccomp_filter_supported() { return SCOUT_SECCOMP_SUPPORTED != 0; }

std::vector<sock_filter> sandbox_seccomp_program() {
  std::vector<sock_filter> p;
#if SCOUT_SECCOMP_SUPPORTED
  const auto kill = SECCOMP_RET_KILL_PROCESS;
  p.push_back(load(offsetof(seccomp_data, arch)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  p.push_back(give(kill));
  p.push_back(load(offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 1));
  p.push_back(give(kill));
#endif
  const std::size_t first_argument = offsetof(seccomp_data, args);

  p.push_back(if_call(__NR_clone, 4));
  p.push_back(load(first_argument));
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kNamespaceFlags, 0, 1));
  p.push_back(refuse(EPERM));
  p.push_back(give(SECCOMP_RET_ALLOW));

  p.push_back(if_call(__NR_personality, 5));
  p.push_back(load(first_argument));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kPersonaLinux, 2, 0));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, kPersonaQuery, 1, 0));
  p.push_back(refuse(EPERM));
  p.push_back(give(SECCOMP_RET_ALLOW));

  p.push_back(if_call(__NR_clone3, 1));
  p.push_back(refuse(ENOSYS));

  for (int nr : kRefused) {
    p.push_back(if_call(nr, 1));
    p.push_back(refuse(EPERM));
  }
  p.push_back(give(SECCOMP_RET_ALLOW));
#endif
  return p;
}

Result<ScopedFd> sandbox_seccomp_fd() {
  if (!seccomp_filter_supported())
    return make_error("the sandbox's system-call filter supports x86-64 and AArch64 only");
  const std::vector<sock_filter> program = sandbox_seccomp_program();
  return sealed_memfd("scout-seccomp",
                      std::string_view(reinterpret_cast<const char*>(program.data()),
                                       program.size() * sizeof(sock_filter)));
}

}  // namespace scout
