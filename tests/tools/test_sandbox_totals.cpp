// Hostile tests of the limits a sandbox run has as a whole, beyond each process's rlimits:
// memory and processes (the run's cgroup, where this machine offers one) and disk (the sized
// tmpfs mounts of /tmp and the working directory).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/tools/sandbox_test_support.h"
#include "tools/sandbox/cgroup.h"
#include "tools/sandbox/sandbox.h"

using scout::SandboxLimits;
using namespace scout::testing;

namespace {

bool has_cgroup(const scout::SandboxResult& r) {
  return r.limits_held.find("for the whole run (cgroup v") != std::string::npos;
}

}  // namespace

TEST_CASE("Several processes holding more memory together than the run's limit are stopped, naming that limit",
          "[sandbox][limits]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 30;  // the children sleep far longer; only the memory limit ends the run early
  lim.memory_bytes = 256ull << 20;
  lim.address_space_bytes = 512ull << 20;  // each child alone is well within its own limit
  // Four children each touch 200 MiB (b'\x01' * n writes every page), 800 MiB in all.
  auto r = py("import os, time\n"
              "for i in range(4):\n"
              "  if os.fork() == 0:\n"
              "    held = b'\\x01' * (200 << 20)\n"
              "    print('holding', i, flush=True)\n"
              "    time.sleep(600)\n"
              "    os._exit(0)\n"
              "for i in range(4):\n"
              "  os.wait()\n"
              "print('all children ended')\n",
              lim);
  if (!has_cgroup(r)) {
    WARN("no cgroup on this machine, so memory is capped per process only: " << r.limits_held);
    CHECK(r.limits_held.find("memory is capped per process only (512 MiB address space)") != std::string::npos);
    return;
  }
  CHECK(r.killed_for == "memory limit (256 MiB for the whole run)");
  CHECK_FALSE(r.timed_out);
  CHECK(r.stdout_text.find("all children ended") == std::string::npos);
  CHECK(wait_for_no_processes("python3 -u main.py") == 0);
}

TEST_CASE("A fork and thread bomb stops at the run's process count, and the result says where it is kept",
          "[sandbox][limits]") {
  SandboxLimits lim = short_limits();
  lim.max_processes = 16;
  lim.wall_seconds = 10;
  auto r = py("import os, threading, time\n"
              "n = 0\n"
              "try:\n"
              "  while True:\n"
              "    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
              "    n += 1\n"
              "    if os.fork() == 0:\n"
              "      time.sleep(600)\n"
              "      os._exit(0)\n"
              "    n += 1\n"
              "finally:\n"
              "  print(n, flush=True)\n",
              lim);
  CHECK(std::stoi(r.stdout_text) < 16);
  CHECK(r.killed_for == "process limit (16) reached");
  CHECK_FALSE(r.timed_out);  // the sleeping children and threads went with the sandbox
  if (has_cgroup(r))
    CHECK(r.limits_held.find("and 16 processes for the whole run") != std::string::npos);
  else
    CHECK(r.limits_held.find("processes by RLIMIT_NPROC") != std::string::npos);
}

TEST_CASE("Writing past the size of /tmp fails with no space left, named as the disk limit", "[sandbox][limits]") {
  SandboxLimits lim = short_limits();
  lim.disk_bytes = 8ull << 20;
  lim.max_file_bytes = 64ull << 20;  // the file size limit is not what stops it
  auto r = sh("head -c 16000000 /dev/zero > /tmp/big\necho status $?\n", lim);
  CHECK(r.stdout_text == "status 1\n");
  CHECK(r.stderr_text.find("No space left on device") != std::string::npos);
  CHECK(r.killed_for == "disk limit (8 MiB each for /tmp and the working directory)");
  CHECK(r.limits_held.find("/tmp and the working directory 8 MiB each (tmpfs)") != std::string::npos);
}

TEST_CASE("Writing many files in the working directory stops at its size", "[sandbox][limits]") {
  SandboxLimits lim = short_limits();
  lim.disk_bytes = 8ull << 20;
  auto r = py("import os\nn = 0\ntry:\n"
              "  for i in range(40):\n"
              "    open('f%d' % i, 'wb').write(b'x' * (1 << 20))\n"
              "    n += 1\n"
              "finally:\n"
              "  print(n, os.getcwd())\n",
              lim);
  CHECK(r.stdout_text.find("/sandbox") != std::string::npos);
  CHECK(std::stoi(r.stdout_text) <= 8);  // 8 MiB of files, give or take the program's own page
  CHECK(r.stderr_text.find("No space left on device") != std::string::npos);
  CHECK(r.killed_for == "disk limit (8 MiB each for /tmp and the working directory)");
}

TEST_CASE("A run's cgroup is gone once the run has ended", "[sandbox][limits]") {
  auto r = sh("sleep 0.2 &\necho started\n");
  CHECK(r.stdout_text == "started\n");
  if (!has_cgroup(r)) return;
  std::ifstream mountinfo("/proc/self/mountinfo"), self_cgroup("/proc/self/cgroup");
  const std::string m((std::istreambuf_iterator<char>(mountinfo)), {});
  const std::string c((std::istreambuf_iterator<char>(self_cgroup)), {});
  const auto places = scout::find_cgroup_places(m, c);
  const std::string ours = "scout-sandbox-" + std::to_string(getpid()) + "-";
  int left = 0;
  for (const std::string& dir : {places.v2, places.v1_memory, places.v1_pids}) {
    std::error_code ec;
    if (dir.empty()) continue;
    // Under v2, Scout may have moved itself into "scout-main"; the run cgroups are its siblings.
    const std::filesystem::path parent = std::filesystem::path(dir).filename() == "scout-main"
                                             ? std::filesystem::path(dir).parent_path()
                                             : std::filesystem::path(dir);
    for (auto& e : std::filesystem::directory_iterator(parent, ec))
      if (e.path().filename().string().rfind(ours, 0) == 0) ++left;
  }
  CHECK(left == 0);
}
