// Hostile tests of the code sandbox: each case runs code that tries to escape or exhaust the
// machine and checks that the sandbox holds and says which limit ended the run. Limits are
// short so the file runs in a few seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "tests/tools/sandbox_test_support.h"
#include "tools/sandbox/sandbox.h"

namespace fs = std::filesystem;
using scout::SandboxLanguage;
using scout::SandboxLimits;
using scout::SandboxResult;

using namespace scout::testing;

TEST_CASE("Python hello world prints and returns its exit code", "[sandbox]") {
  auto r = py("import sys\nprint('hello from python')\nsys.exit(3)\n");
  CHECK(r.stdout_text == "hello from python\n");
  CHECK(r.exit_code == 3);
  CHECK(r.term_signal == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.killed_for.empty());
}

TEST_CASE("Bash hello world writes stdout and stderr and returns its exit code", "[sandbox]") {
  auto r = sh("echo hello from bash\necho oops >&2\nexit 5\n");
  CHECK(r.stdout_text == "hello from bash\n");
  CHECK(r.stderr_text == "oops\n");
  CHECK(r.exit_code == 5);
  CHECK(r.killed_for.empty());
}

TEST_CASE("Sandboxed code cannot connect to a TCP listener on the host's loopback", "[sandbox]") {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const int port = ntohs(addr.sin_port);
  auto r = py("import socket\ntry:\n  socket.create_connection(('127.0.0.1', " + std::to_string(port) +
              "), timeout=2)\n  print('connected')\nexcept OSError as e:\n  print('refused', e)\n");
  CHECK(r.stdout_text.rfind("refused", 0) == 0);
  CHECK(accept(listener, nullptr, nullptr) < 0);  // nothing ever arrived
  close(listener);
}

TEST_CASE("DNS resolution fails inside the sandbox", "[sandbox]") {
  auto r = py("import socket\ntry:\n  print(socket.getaddrinfo('example.com', 80))\n"
              "except OSError as e:\n  print('no dns')\n");
  CHECK(r.stdout_text == "no dns\n");
}

TEST_CASE("Writes to system directories fail", "[sandbox]") {
  auto r = py("for p in ['/usr/x', '/usr/bin/x', '/etc/x', '/bin/x', '/x']:\n"
              "  try:\n    open(p, 'w').write('x')\n    print('wrote', p)\n"
              "  except OSError:\n    print('denied', p)\n");
  CHECK(r.stdout_text == "denied /usr/x\ndenied /usr/bin/x\ndenied /etc/x\ndenied /bin/x\ndenied /x\n");
  CHECK_FALSE(fs::exists("/usr/x"));
}

TEST_CASE("The sandbox's /tmp is private and not the host's /tmp", "[sandbox]") {
  const std::string tag = "scout-sandbox-test-" + std::to_string(getpid());
  const fs::path host_marker = fs::temp_directory_path() / (tag + "-host");
  std::ofstream(host_marker) << "host";
  auto r = py("import os\nprint(os.path.exists('/tmp/" + tag + "-host'))\n"
              "open('/tmp/" + tag + "-inside', 'w').write('x')\nprint(os.listdir('/tmp'))\n");
  CHECK(r.stdout_text == "False\n['" + tag + "-inside']\n");
  CHECK_FALSE(fs::exists(fs::temp_directory_path() / (tag + "-inside")));
  fs::remove(host_marker);
}

TEST_CASE("The repository, /root, /work and /home are not visible", "[sandbox]") {
  auto r = py("import os\nfor p in ['" SCOUT_SOURCE_DIR "', '/root', '/work', '/home', '/etc/shadow', "
              "'/etc/passwd', '/var', '/run']:\n  print(p, os.path.exists(p))\n");
  CHECK(r.stdout_text.find("True") == std::string::npos);
  CHECK(r.stdout_text.find(SCOUT_SOURCE_DIR " False") != std::string::npos);
}

TEST_CASE("The working directory is a private tmpfs holding the program, and nothing written there reaches the host",
          "[sandbox]") {
  const std::string token = "token-" + std::to_string(getpid());
  auto run_async = std::async(std::launch::async, [&] {
    return py("import os, time\nopen('data.txt', 'w').write('" + token + "')\n"
              "os.makedirs('a/b')\nopen('a/b/c', 'w').write('x')\nos.chmod('a', 0)\n"
              "print(open('data.txt').read(), os.getcwd(), os.environ['HOME'], sorted(os.listdir('.')))\n"
              "time.sleep(1)\n");
  });
  // While the program runs, no directory on the host holds what it wrote.
  auto written_on_host = [&] {
    for (auto& e : fs::directory_iterator(fs::temp_directory_path())) {
      std::ifstream f(e.path() / "data.txt");
      std::string s;
      if (std::getline(f, s) && s == token) return true;
    }
    return false;
  };
  bool seen = false;
  for (int i = 0; i < 40 && !seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = written_on_host();
  }
  auto r = run_async.get();
  CHECK(r.stdout_text == token + " /sandbox /sandbox ['a', 'data.txt', 'main.py']\n");
  CHECK_FALSE(seen);
}

TEST_CASE("A root caller's sandboxed code runs as uid 65534 on the host, so RLIMIT_NPROC applies to it", "[sandbox]") {
  if (geteuid() != 0) return;  // an unprivileged caller's code runs as that caller, as it should
  const std::string name = "scout-uid-" + std::to_string(getpid());
  auto run_async = std::async(std::launch::async, [&] { return sh("exec -a " + name + " sleep 1\n"); });
  std::string uid_line;
  for (int i = 0; i < 50 && uid_line.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (auto& e : fs::directory_iterator("/proc")) {
      std::ifstream cmd(e.path() / "cmdline");
      std::string c;
      if (!std::getline(cmd, c, '\0') || c != name) continue;
      std::ifstream status(e.path() / "status");
      for (std::string line; std::getline(status, line);)
        if (line.rfind("Uid:", 0) == 0) uid_line = line;
    }
  }
  run_async.get();
  CHECK(uid_line == "Uid:\t65534\t65534\t65534\t65534");
}

TEST_CASE("Cleanup does not follow symlinks the code leaves in its directory", "[sandbox]") {
  const fs::path victim = fs::temp_directory_path() / ("scout-sandbox-victim-" + std::to_string(getpid()));
  fs::create_directories(victim);
  std::ofstream(victim / "keep.txt") << "keep";
  // The host path does not exist inside, but the link itself lands in the host directory.
  auto r = py("import os\nos.symlink('" + victim.string() + "', 'escape')\n"
              "os.symlink('" + (victim / "keep.txt").string() + "', 'file')\nprint('linked')\n");
  CHECK(r.stdout_text == "linked\n");
  CHECK(fs::exists(victim / "keep.txt"));
  fs::remove_all(victim);
}

TEST_CASE("Host processes are not visible inside the sandbox", "[sandbox]") {
  auto r = py("import os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
              "print(len(pids) <= 3, os.getpid())\n");
  CHECK(r.stdout_text.rfind("True ", 0) == 0);  // bwrap's init, the program, nothing else
}

TEST_CASE("Only stdin, stdout and stderr are open in the sandbox, and no capabilities", "[sandbox]") {
  auto r = py("import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))\n"
              "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')])\n"
              "print(os.getuid(), os.getgid())\n");
  // fd 3 is the one listdir itself opens on /proc/self/fd.
  CHECK(r.stdout_text == "[0, 1, 2, 3]\n['0000000000000000']\n1000 1000\n");
}

TEST_CASE("Secrets in the parent's environment are not visible to the code", "[sandbox]") {
  setenv("SCOUT_TEST_SECRET", "hunter2-do-not-leak", 1);
  auto r = py("import os\nprint(sorted(os.environ))\n"
              "for pid in os.listdir('/proc'):\n  try:\n"
              "    print(open('/proc/%s/environ' % pid, 'rb').read())\n  except OSError:\n    pass\n");
  unsetenv("SCOUT_TEST_SECRET");
  // PWD and SHLVL come from the bash shim that sets the process limit before exec.
  CHECK(r.stdout_text.rfind("['HOME', 'LANG', 'PATH', 'PWD', 'SHLVL']\n", 0) == 0);
  CHECK(r.stdout_text.find("hunter2") == std::string::npos);
  CHECK(r.stdout_text.find("SCOUT_TEST_SECRET") == std::string::npos);
}

TEST_CASE("A bash fork bomb is contained, reported and leaves the machine usable", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 2;
  // The script waits after lighting the bomb, so the run lasts until the wall clock ends it.
  // The bomb runs under a name of its own, so sandboxes of tests running in parallel (which
  // are all "bash main.sh") are not counted as survivors.
  const std::string name = "scout-bomb-" + std::to_string(::getpid()) + "-a";
  auto r = sh("exec -a " + name + " bash -c ':(){ :|:& };:; sleep 100'\n", lim);
  CHECK(r.timed_out);
  CHECK(r.killed_for.find("wall-clock") != std::string::npos);
  CHECK(r.killed_for.find("process limit (32)") != std::string::npos);
  CHECK(wait_for_no_processes(name) == 0);
  CHECK(std::system("true") == 0);
  CHECK(sh("echo alive\n").stdout_text == "alive\n");
}

TEST_CASE("A fork bomb whose script returns at once is torn down with the sandbox", "[sandbox]") {
  // Usually the script ends at once and the pid namespace dies with it; but bash forks both
  // halves of the pipe itself, and when the bomb fills the process table before the second
  // fork, bash retries for several seconds and the wall clock ends the run instead.
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 2;
  const std::string name = "scout-bomb-" + std::to_string(::getpid()) + "-b";
  auto r = sh("exec -a " + name + " bash -c ':(){ :|:& };:'\n", lim);
  CHECK(wait_for_no_processes(name) == 0);
}

TEST_CASE("A Python fork loop stops at the process limit and its children die with it", "[sandbox]") {
  auto r = py("import os, time\nn = 0\ntry:\n  while True:\n"
              "    if os.fork() == 0:\n      time.sleep(600)\n      os._exit(0)\n    n += 1\n"
              "finally:\n  print(n)\n");
  CHECK(std::stoi(r.stdout_text) < 32);
  CHECK(r.exit_code == 1);
  CHECK(r.killed_for == "process limit (32) reached");
  CHECK_FALSE(r.timed_out);  // the sleeping children were torn down with the sandbox
  CHECK(wait_for_no_processes("python3 -u main.py") == 0);
}

TEST_CASE("A memory bomb is stopped with a clear reason", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 30;  // touching 512 MiB can take seconds on a loaded machine
  auto r = py("chunks = []\nwhile True:\n  chunks.append(bytearray(16 << 20))\n", lim);
  CHECK(r.exit_code != 0);
  CHECK(r.killed_for == "memory limit (512 MiB address space)");
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("Infinite output is truncated with a visible marker and stopped", "[sandbox]") {
  auto r = py("while True:\n  print('x' * 1000)\n");
  CHECK(r.truncated);
  const std::string marker = "\n[output truncated at 4096 bytes]";
  REQUIRE(r.stdout_text.size() == 4096 + marker.size());
  CHECK(r.stdout_text.substr(4096) == marker);
  CHECK(r.killed_for == "output limit (4096 bytes)");
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("Output on stdout and stderr together counts against one cap", "[sandbox]") {
  auto r = sh("head -c 3000 /dev/zero | tr '\\0' a\nhead -c 3000 /dev/zero | tr '\\0' b >&2\n");
  CHECK(r.truncated);
  CHECK(r.stdout_text == std::string(3000, 'a'));
  CHECK(r.stderr_text == std::string(1096, 'b') + "\n[output truncated at 4096 bytes]");
  CHECK(r.exit_code == 0);
}

TEST_CASE("sleep 1000 is killed at the wall-clock limit", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 1;
  auto r = sh("echo before\nsleep 1000\n", lim);
  CHECK(r.timed_out);
  CHECK(r.stdout_text == "before\n");  // output printed before the kill is kept
  CHECK(r.killed_for == "wall-clock limit (1 s)");
}

TEST_CASE("A Python busy loop is stopped by the CPU limit", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.cpu_seconds = 1;
  auto r = py("while True:\n  pass\n", lim);
  CHECK_FALSE(r.timed_out);
  CHECK(r.term_signal == SIGXCPU);
  CHECK(r.killed_for == "CPU time limit (1 s)");
}

TEST_CASE("A program that closes stdout and stderr and keeps running is killed at the timeout", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 1;
  auto r = py("import os, time\nprint('closing')\nos.close(1)\nos.close(2)\ntime.sleep(1000)\n", lim);
  CHECK(r.timed_out);
  CHECK(r.stdout_text == "closing\n");
}

TEST_CASE("A program that ignores SIGTERM is killed at the timeout", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.wall_seconds = 1;
  auto r = py("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "signal.signal(signal.SIGHUP, signal.SIG_IGN)\ntime.sleep(1000)\n", lim);
  CHECK(r.timed_out);
}

TEST_CASE("A daemon forked into its own session dies with the sandbox", "[sandbox]") {
  auto r = sh("setsid sleep 987 > /dev/null 2>&1 < /dev/null &\nnohup sleep 986 &\necho started\n");
  CHECK(r.stdout_text == "started\n");
  CHECK_FALSE(r.timed_out);
  CHECK(wait_for_no_processes("sleep 987") == 0);
  CHECK(wait_for_no_processes("sleep 986") == 0);
}

TEST_CASE("Writing a file larger than the file size limit fails", "[sandbox]") {
  SandboxLimits lim = short_limits();
  lim.max_file_bytes = 1 << 20;
  auto r = py("open('big', 'wb').write(b'x' * (2 << 20))\n", lim);
  CHECK(r.exit_code == 1);
  CHECK(r.stderr_text.find("File too large") != std::string::npos);
  CHECK(r.killed_for == "file size limit (1048576 bytes)");
  auto b = sh("head -c 2000000 /dev/zero > big\necho status $?\nstat -c %s big\n", lim);
  CHECK(b.stdout_text == "status 153\n1048576\n");  // 128 + SIGXFSZ
  CHECK(b.killed_for == "file size limit (1048576 bytes)");
}

TEST_CASE("Missing bubblewrap is an error that says how to fix it", "[sandbox]") {
  scout::SandboxRequest req;
  req.code = "print('hi')\n";
  req.bwrap_path = "/nonexistent/bwrap";
  auto r = scout::run_in_sandbox(req);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("apt-get install bubblewrap") != std::string::npos);
}

TEST_CASE("Missing bubblewrap with allow_unsandboxed runs with rlimits only and says so", "[sandbox]") {
  scout::SandboxRequest req;
  req.code = "import os\nprint('hi', 'SCOUT_TEST_SECRET' in os.environ)\n";
  req.bwrap_path = "/nonexistent/bwrap";
  req.allow_unsandboxed = true;
  req.limits = short_limits();
  setenv("SCOUT_TEST_SECRET", "x", 1);
  auto r = scout::run_in_sandbox(req);
  unsetenv("SCOUT_TEST_SECRET");
  REQUIRE(r.has_value());
  CHECK(r->stdout_text == "hi False\n");
  CHECK_FALSE(r->sandboxed);
  CHECK(r->note.find("without a sandbox") != std::string::npos);
}

TEST_CASE("A bubblewrap that cannot set up the sandbox is an error naming user namespaces", "[sandbox]") {
  scout::SandboxRequest req;
  req.code = "print('hi')\n";
  req.bwrap_path = "/usr/bin/false";  // exits 1 without ever starting the program
  auto r = scout::run_in_sandbox(req);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("could not start the sandbox") != std::string::npos);
  CHECK(r.error().message.find("user namespaces") != std::string::npos);
}

TEST_CASE("A set cancel flag stops the run and its processes, and the result says cancelled", "[sandbox]") {
  std::atomic<bool> cancel{true};
  scout::SandboxRequest req;
  req.language = SandboxLanguage::bash;
  const std::string name = "scout-cancel-" + std::to_string(::getpid());
  req.code = "exec -a " + name + " sleep 600\n";
  req.limits = short_limits();
  req.limits.wall_seconds = 20;  // without the flag the run would end here, as timed out
  req.cancel = &cancel;
  auto r = scout::run_in_sandbox(req);
  REQUIRE(r);
  CHECK(r->cancelled);
  CHECK_FALSE(r->timed_out);
  CHECK(r->killed_for == "cancelled");
  CHECK(wait_for_no_processes(name) == 0);
}
