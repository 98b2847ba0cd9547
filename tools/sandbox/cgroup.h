// A cgroup for one sandbox run, so that memory and the number of processes are capped for the
// run as a whole: rlimits count per process, and N processes under a per-process cap of M hold
// N x M.
//
// Where one comes from, tried in this order (found once per Scout process, then reused):
//   cgroup v2: this process's own cgroup must offer the memory and pids controllers, and they
//     must be enabled (or enableable) for its children. A cgroup that still holds processes
//     cannot enable controllers for its children (the kernel's "no internal processes" rule),
//     so when Scout is alone in its cgroup (a systemd scope or service with Delegate=yes, a
//     container running Scout alone) it first moves itself into a leaf child, "scout-main".
//   cgroup v1 (hybrid systems): the memory and pids hierarchies, writable (normally as root).
// Each run then gets "scout-sandbox-PID-N" beside Scout's own cgroup (v1: in each hierarchy)
// with memory.max (v1: memory.limit_in_bytes), no swap (memory.swap.max = 0, v1:
// memory.memsw.limit_in_bytes where swap is accounted) and pids.max; under v2 an out-of-memory
// kill takes the whole group (memory.oom.group). The run's first process joins it between fork
// and exec, so everything the run starts is inside. Leftovers of a Scout that died mid-run are
// removed when the next Scout process sets up.
//
// Thread-safety: create() may be called from several threads; each RunCgroup belongs to one run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace scout {

struct CgroupLimits {
  std::uint64_t memory_bytes = 0;  // memory of every process of the run, page cache and tmpfs files included
  int max_tasks = 0;               // processes and threads together
};

// This process's cgroup directories, as /proc/self/mountinfo and /proc/self/cgroup describe
// them; "" where there is none. Pure, so that layouts other than this machine's can be tested.
struct CgroupPlaces {
  std::string v2;         // in the cgroup2 hierarchy
  std::string v1_memory;  // in the cgroup v1 hierarchy with the memory controller
  std::string v1_pids;    // in the cgroup v1 hierarchy with the pids controller
};
CgroupPlaces find_cgroup_places(std::string_view mountinfo, std::string_view self_cgroup);

class RunCgroup {
 public:
  // Creates the run's cgroup with these limits, or says why none can be had on this machine
  // (what was looked at and what would make it work).
  static Result<std::unique_ptr<RunCgroup>> create(const CgroupLimits& limits);

  // Kills whatever is still inside and removes the cgroup (waiting up to ~2 s for the
  // processes to be gone; a cgroup that cannot be removed is left for the next sweep).
  ~RunCgroup();
  RunCgroup(const RunCgroup&) = delete;
  RunCgroup& operator=(const RunCgroup&) = delete;

  // Open cgroup.procs files (close-on-exec). The run's first process writes "0" to each after
  // fork and before exec, which moves it in; write() is async-signal-safe.
  const std::vector<int>& join_fds() const { return join_fds_; }

  // The kernel killed a process of the run because the run reached its memory limit.
  bool memory_limit_hit() const;
  // A fork or thread creation failed because the run reached its process limit.
  bool task_limit_hit() const;
  // "cgroup v2" or "cgroup v1".
  const std::string& kind() const { return kind_; }

 private:
  RunCgroup() = default;

  std::string kind_;
  std::vector<std::string> dirs_;  // one (v2) or two (v1: memory, pids)
  std::string memory_dir_, pids_dir_;
  std::vector<int> join_fds_;
  bool v2_ = false;
};

}  // namespace scout
