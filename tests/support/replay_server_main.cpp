// scout_replay_server: a ReplayServer as a process, for tests that run the scout executable
// against a model server.
//
//   scout_replay_server --script FILE --port-file FILE [--request-log FILE]
//
// Listens on an ephemeral port of 127.0.0.1, writes the port number to the port file (written
// whole, by rename, so a reader polling for it never sees half of it), and serves until SIGTERM,
// SIGINT or SIGHUP — or until standard input closes, when standard input is a pipe or a socket
// (a parent holding the other end can stop the server by exiting, even when killed).
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/replay_server.h"

namespace {

int usage(const char* why) {
  std::fprintf(stderr, "scout_replay_server: %s\nusage: scout_replay_server --script FILE --port-file FILE "
               "[--request-log FILE]\n", why);
  return 2;
}

bool stdin_is_pipe_or_socket() {
  struct stat st {};
  return ::fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

}  // namespace

int main(int argc, char** argv) {
  std::string script_path, port_file;
  scout::test::ReplayServer::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + arg).c_str());
    if (arg == "--script") {
      script_path = argv[++i];
    } else if (arg == "--port-file") {
      port_file = argv[++i];
    } else if (arg == "--request-log") {
      options.request_log = argv[++i];
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (script_path.empty() || port_file.empty()) return usage("--script and --port-file are required");

  std::ifstream script_file(script_path, std::ios::binary);
  if (!script_file) return usage(("cannot read " + script_path).c_str());
  std::stringstream script;
  script << script_file.rdbuf();

  // Block the stop signals in every thread (the server's threads inherit this mask) so that
  // only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&stop_signals, s);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    scout::test::ReplayServer server(script.str(), options);
    {
      const std::string temp = port_file + ".tmp";
      std::ofstream(temp) << server.port() << "\n";
      if (std::rename(temp.c_str(), port_file.c_str()) != 0) {
        std::fprintf(stderr, "scout_replay_server: cannot write %s: %s\n", port_file.c_str(), std::strerror(errno));
        return 1;
      }
    }
    if (stdin_is_pipe_or_socket()) {
      std::thread([] {
        char buf[256];
        while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
        }
        ::kill(::getpid(), SIGUSR1);
      }).detach();
    }
    int received = 0;
    sigwait(&stop_signals, &received);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scout_replay_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
