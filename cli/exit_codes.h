// Exit codes of the scout executable; README.md lists them for scripts.
#pragma once

namespace scout::cli {

inline constexpr int kExitOk = 0;             // success
inline constexpr int kExitTaskFailed = 1;     // the command ran but could not do what was asked
inline constexpr int kExitUsage = 2;          // bad command line: unknown flag, missing argument, bad value
inline constexpr int kExitModelError = 3;     // a model, vocabulary or input file is missing, unreadable or corrupt
inline constexpr int kExitIoError = 4;        // writing an output file failed (disk full, permissions)
inline constexpr int kExitBackend = 5;        // the model backend failed (remote server unreachable, key refused)
inline constexpr int kExitInterrupted = 130;  // stopped by SIGINT

}  // namespace scout::cli
