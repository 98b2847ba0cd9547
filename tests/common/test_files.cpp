// write_file_whole (common/files.h), the way Scout writes the state it keeps between runs (OAuth
// tokens, MCP servers' protocol eras): a writer stopped partway — killed, or out of space —
// leaves the old content whole, never part of the new.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/files.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& path) {
  std::ostringstream text;
  text << std::ifstream(path, std::ios::binary).rdbuf();
  return text.str();
}

// Runs `write` with files limited to `max_bytes`: a write past the limit stops there (EFBIG), as
// a writer killed in the middle of its write would have stopped.
template <class Write>
auto with_file_size_limit(rlim_t max_bytes, Write write) {
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal's core dump
  rlimit limited = saved;
  limited.rlim_cur = max_bytes;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  auto result = write();
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  return result;
}

}  // namespace

TEST_CASE("a state file whose new content is cut off midway keeps its old content whole", "[kill][files]") {
  const fs::path state = scout::test::fresh_scratch_dir("files", "cut-off") / "state.json";
  const std::string old_content = "{\"era\": \"2025-06-18\"}\n";
  REQUIRE(scout::write_file_whole(state, old_content, 0600));
  const std::string new_content = "{\"era\": \"" + std::string(64 * 1024, 'x') + "\"}\n";
  // The write stops after 4 KiB of the new content.
  CHECK_FALSE(with_file_size_limit(4096, [&] { return scout::write_file_whole(state, new_content, 0600); }));
  CHECK(read_whole(state) == old_content);
  CHECK(!fs::exists(state.string() + ".new"));  // nothing left beside it
  // Written whole, the new content replaces the old, with the permissions asked for.
  REQUIRE(scout::write_file_whole(state, new_content, 0600));
  CHECK(read_whole(state) == new_content);
  CHECK((fs::status(state).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}
