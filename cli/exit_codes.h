// Exit codes of the scout executable; README.md lists them for scripts.
#pragma once

namespace scout::cli {

enum ExitCode : int {
  kExitOk = 0,           // success
  kExitTaskFailed = 1,   // the command ran but could not do what was asked
  kExitUsage = 2,        // bad command line: unknown flag, missing argument, bad value
  kExitModelError = 3,   // a model, vocabulary or input file is missing, unreadable or corrupt
  kExitIoError = 4,      // writing an output file failed (disk full, permissions)
  kExitBackend = 5,      // the model backend failed (remote server unreachable, key refused)
  kExitInterrupted = 130 // stopped by SIGINT
};

}  // namespace scout::cli
