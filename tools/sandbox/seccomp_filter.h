// The system-call filter every sandboxed program runs under (run_code and sandboxed MCP
// servers): a classic BPF program that bubblewrap loads with --seccomp just before it execs the
// program, after it has built the namespaces and mounts (which need the calls refused here).
//
// What it refuses, and why (the namespaces and missing capabilities already stop most of these;
// the filter is the second wall, and it closes what they leave open):
//   EPERM   ptrace, process_vm_readv/writev: the code could stop or steer the sandbox's pid 1
//           (bwrap's init), hanging the run until the wall limit.
//   EPERM   unshare, setns, and clone with any CLONE_NEW* flag: no nested user namespace, which
//           would hand the code a full set of capabilities over new namespaces and widen the
//           kernel surface it can reach.
//   ENOSYS  clone3: its flags are in memory the filter cannot read, so it is refused as if the
//           kernel lacked it; glibc then falls back to clone, whose flags are checked.
//   EPERM   mount, umount2, pivot_root, chroot and the new mount API (open_tree, move_mount,
//           fsopen, fsconfig, fsmount, fspick, mount_setattr).
//   EPERM   kernel keyrings (add_key, keyctl, request_key), bpf, perf_event_open, userfaultfd,
//           io_uring (its requests bypass this filter), kexec, module loading, open_by_handle_at,
//           iopl/ioperm, modify_ldt, reboot, swapon/swapoff, acct, quotactl, syslog, uselib.
//   EPERM   personality with anything but PER_LINUX or a query: no turning ASLR off
//           (setarch -R) or faking another personality.
// Everything else is allowed: Python, Bash, Node, threads, subprocesses work as usual.
//
// Architectures: x86-64 and little-endian AArch64. The program first checks the architecture a
// call comes from; a call from any other ABI (32-bit int 0x80 calls on x86-64, x32 calls, 32-bit
// ARM) kills the process, since the call numbers checked here would mean other calls there. On
// other architectures there is no filter (seccomp_filter_supported() is false) and the sandbox
// runs without it.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "common/expected.h"
#include "tools/sandbox/memfd.h"

namespace scout {

bool seccomp_filter_supported();

// The program described above; empty where the filter is not supported.
std::vector<sock_filter> sandbox_seccomp_program();

// The program in a sealed memfd, ready for bwrap's --seccomp FD. Fails only when no memfd can be
// made, or where the filter is not supported.
Result<ScopedFd> sandbox_seccomp_fd();

}  // namespace scout
