// Helpers shared by the sandbox's test files: short limits, running a program and requiring
// that the sandbox started, and looking for processes that outlived their sandbox.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tools/sandbox/sandbox.h"

namespace scout::testing {

inline SandboxLimits short_limits() {
  SandboxLimits l;
  l.wall_seconds = 5;
  l.cpu_seconds = 5;
  l.max_processes = 32;
  l.output_cap_bytes = 4096;
  return l;
}

inline SandboxResult run(SandboxLanguage lang, const std::string& code, SandboxLimits lim = short_limits()) {
  SandboxRequest req;
  req.language = lang;
  req.code = code;
  req.limits = lim;
  auto r = run_in_sandbox(req);
  INFO((r ? "" : r.error().message));
  REQUIRE(r.has_value());
  INFO("stdout: " << r->stdout_text << "\nstderr: " << r->stderr_text << "\nkilled_for: " << r->killed_for
                  << "\nlimits: " << r->limits_held);
  CHECK(r->sandboxed);
  return std::move(r).value();
}

inline SandboxResult py(const std::string& code, SandboxLimits lim = short_limits()) {
  return run(SandboxLanguage::python, code, lim);
}
inline SandboxResult sh(const std::string& code, SandboxLimits lim = short_limits()) {
  return run(SandboxLanguage::bash, code, lim);
}

// Processes whose command line contains `needle` (NULs read as spaces), to prove none survive.
inline int count_processes(const std::string& needle) {
  namespace fs = std::filesystem;
  int n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream f(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), {});
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(needle) != std::string::npos && e.path().filename() != std::to_string(getpid())) ++n;
  }
  return n;
}

inline int wait_for_no_processes(const std::string& needle) {
  for (int i = 0; i < 40 && count_processes(needle) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return count_processes(needle);
}

}  // namespace scout::testing
