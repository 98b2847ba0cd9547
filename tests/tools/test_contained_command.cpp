// contained_command_line (sandboxed MCP servers): what a program started with its command line
// sees. The program lives under /tmp, as a checkout cloned there does.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tools/sandbox/sandbox.h"

namespace fs = std::filesystem;

namespace {

// Runs the contained line as a caller would (the filter at its descriptor), returning stdout
// and stderr together.
std::string run_contained(scout::ContainedLine& line) {
  int out[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  std::vector<char*> argv;
  for (auto& a : line.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    dup2(line.filter.get(), scout::kContainedFilterFd);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return text;
}

struct TempFolderUnderTmp {
  fs::path path;
  TempFolderUnderTmp() {
    char tmpl[] = "/tmp/scout-contained-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempFolderUnderTmp() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("A program's folder under /tmp is visible in the container, over its private /tmp", "[sandbox][contained]") {
  TempFolderUnderTmp dir;
  std::ofstream(dir.path / "server.py") << "import ctypes, os\n"
                                           "print(sorted(os.listdir(os.path.dirname(__file__))))\n"
                                           "open(os.environ['HOME'] + '/state', 'w').write('x')\n"
                                           "open('/tmp/scratch', 'w').write('x')\n"
                                           "print(sorted(os.listdir('/tmp')))\n"
                                           "libc = ctypes.CDLL(None, use_errno=True)\n"
                                           "print(libc.ptrace(16, 1, None, None), os.strerror(ctypes.get_errno()))\n";
  auto line = scout::contained_command_line(
      scout::ContainedCommand{"/usr/bin/python3", {(dir.path / "server.py").string()}, {dir.path.string()}, {}, false, ""});
  REQUIRE(line);
  CHECK(line->filter.get() != scout::kContainedFilterFd);
  const std::string tmp_entry = dir.path.filename().string();
  CHECK(run_contained(*line) == "['server.py']\n['" + tmp_entry + "', 'scratch']\n-1 Operation not permitted\n");
  CHECK_FALSE(fs::exists(dir.path / "state"));  // $HOME is the container's own tmpfs
}

TEST_CASE("A sandbox path that would cover the container's own mounts is refused", "[sandbox][contained]") {
  for (const char* path : {"/", "/proc", "/proc/self", "/dev"}) {
    auto line = scout::contained_command_line(scout::ContainedCommand{"/usr/bin/true", {}, {path}, {}, false, ""});
    INFO(path);
    REQUIRE_FALSE(line);
    CHECK_THAT(line.error().message, Catch::Contains("would cover the container's own"));
  }
}
