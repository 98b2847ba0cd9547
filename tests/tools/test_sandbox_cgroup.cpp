// Finding this process's cgroup directories from /proc/self/mountinfo and /proc/self/cgroup,
// for the layouts Scout meets: pure cgroup v2 (current systemd), hybrid v1 + v2, a container's
// bind-mounted subtree, and paths with escaped spaces.
#include <catch2/catch.hpp>

#include "tools/sandbox/cgroup.h"

using scout::find_cgroup_places;

TEST_CASE("A pure cgroup v2 system's cgroup is found under the cgroup2 mount", "[sandbox][cgroup]") {
  const auto p = find_cgroup_places(
      "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
      "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n",
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/scout.scope\n");
  CHECK(p.v2 == "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/scout.scope");
  CHECK(p.v1_memory.empty());
  CHECK(p.v1_pids.empty());
}

TEST_CASE("A hybrid system's v1 memory and pids cgroups are found in their own hierarchies", "[sandbox][cgroup]") {
  const auto p = find_cgroup_places(
      "25 24 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "26 25 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "29 25 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "33 25 0:31 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
      "35 25 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
      "8:pids:/\n4:memory:/process_api/c2be06\n2:cpu,cpuacct:/\n0::/\n");
  CHECK(p.v1_memory == "/sys/fs/cgroup/memory/process_api/c2be06");
  CHECK(p.v1_pids == "/sys/fs/cgroup/pids");
  CHECK(p.v2 == "/sys/fs/cgroup/unified");
}

TEST_CASE("A bind-mounted cgroup subtree maps paths below its root, and not paths outside it", "[sandbox][cgroup]") {
  const std::string mountinfo = "40 39 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  CHECK(find_cgroup_places(mountinfo, "0::/docker/abc/worker\n").v2 == "/sys/fs/cgroup/worker");
  CHECK(find_cgroup_places(mountinfo, "0::/docker/abc\n").v2 == "/sys/fs/cgroup");
  CHECK(find_cgroup_places(mountinfo, "0::/docker/abcdef\n").v2.empty());
  CHECK(find_cgroup_places(mountinfo, "0::/other\n").v2.empty());
}

TEST_CASE("Escaped spaces in a cgroup mount point are read back as spaces", "[sandbox][cgroup]") {
  const auto p = find_cgroup_places("41 39 0:26 / /run/my\\040cgroups rw - cgroup2 cgroup2 rw\n", "0::/a\n");
  CHECK(p.v2 == "/run/my cgroups/a");
}

TEST_CASE("Without cgroup mounts no place is found", "[sandbox][cgroup]") {
  const auto p = find_cgroup_places("22 1 0:5 / / rw - ext4 /dev/vda rw\n", "0::/\n");
  CHECK(p.v2.empty());
  CHECK(p.v1_memory.empty());
  CHECK(p.v1_pids.empty());
}
