// `scout index` end to end: the real executable indexes a folder and answers queries.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

using scout::test::write_file;

const auto quote = scout::test::shell_quote;

// The scout executable with these arguments; `tail` picks the streams ("2>&1" or "2>/dev/null").
scout::test::CommandResult run_scout(const std::string& args, const std::string& tail = "2>&1") {
  return scout::test::run_command(quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " " + args + " " + tail);
}


}  // namespace

TEST_CASE("scout index indexes a folder and --search --json returns the best match first", "[search][cli]") {
  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "search" / "cli";
  fs::remove_all(dir);
  write_file(dir / "docs" / "a" / "otters.html", "<title>River otters</title><p>Otters eat fish and crayfish.</p>");
  write_file(dir / "docs" / "b" / "badgers.md", "# Badgers\n\nBadgers dig setts; otters swim.\n");
  write_file(dir / "docs" / "notes.rst", "Notes\n=====\n\nNothing about rivers.\n");
  write_file(dir / "docs" / "photo.jpg", "not indexed");
  const std::string db = quote((dir / "idx.sqlite").string());

  auto first = run_scout("index --db " + db + " " + quote((dir / "docs").string()));
  INFO(first.output);
  CHECK(first.exit_code == 0);
  CHECK_THAT(first.output, Contains("indexed 3 files (3 new, 0 changed), skipped 0 unchanged, 0 failed"));

  auto again = run_scout("index --db " + db + " " + quote((dir / "docs").string()));
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.output, Contains("indexed 0 files (0 new, 0 changed), skipped 3 unchanged, 0 failed"));

  auto search = run_scout("index --db " + db + " --search 'otters' -n 5 --json", "2>/dev/null");
  INFO(search.output);
  REQUIRE(search.exit_code == 0);
  const auto j = nlohmann::json::parse(search.output);
  CHECK(j["query"] == "otters");
  REQUIRE(j["results"].size() == 2);
  CHECK(j["results"][0]["title"] == "River otters");
  CHECK(fs::path(j["results"][0]["path"].get<std::string>()).filename() == "otters.html");
  CHECK_THAT(j["results"][0]["snippet"].get<std::string>(), Contains("**Otters**"));
  CHECK(j["results"][0]["score"].get<double>() >= j["results"][1]["score"].get<double>());

  auto text = run_scout("index --db " + db + " --search 'NEAR( \" *'");
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Contains("no matches"));

  // Indexing the folder again after a file was deleted drops it from the index.
  fs::remove(dir / "docs" / "a" / "otters.html");
  auto pruned = run_scout("index --db " + db + " " + quote((dir / "docs").string()));
  INFO(pruned.output);
  CHECK(pruned.exit_code == 0);
  CHECK_THAT(pruned.output, Contains("removed 1 documents whose files were deleted"));
  CHECK_THAT(pruned.output, Contains("removed: " + (dir / "docs" / "a" / "otters.html").string()));
  CHECK_THAT(pruned.output, Contains("holds 2 documents"));
  auto after = run_scout("index --db " + db + " --search 'crayfish'");
  CHECK_THAT(after.output, Contains("no matches"));

  // A whole folder gone: --prune checks every document.
  fs::remove_all(dir / "docs" / "b");
  auto all = run_scout("index --db " + db + " --prune");
  INFO(all.output);
  CHECK(all.exit_code == 0);
  CHECK_THAT(all.output, Contains("removed 1 documents whose files were deleted"));
  CHECK_THAT(all.output, Contains("badgers.md"));
  auto none = run_scout("index --db " + db + " --prune");
  CHECK_THAT(none.output, Contains("removed 0 documents"));
}

TEST_CASE("scout index reports missing paths, bad index files and usage errors with exit codes", "[search][cli]") {
  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "search" / "cli-errors";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = quote((dir / "idx.sqlite").string());

  auto usage = run_scout("index --db " + db);
  CHECK(usage.exit_code == 2);

  auto missing_path = run_scout("index --db " + db + " /nonexistent/docs");
  CHECK(missing_path.exit_code == 3);
  CHECK_THAT(missing_path.output, Contains("/nonexistent/docs"));

  auto no_index = run_scout("index --db " + quote((dir / "none.sqlite").string()) + " --search x");
  CHECK(no_index.exit_code == 3);
  CHECK_THAT(no_index.output, Contains("none.sqlite"));
  CHECK_FALSE(fs::exists(dir / "none.sqlite"));

  write_file(dir / "junk.sqlite", std::string(4096, 'j'));
  auto junk = run_scout("index --db " + quote((dir / "junk.sqlite").string()) + " --search x");
  CHECK(junk.exit_code == 3);
  CHECK_THAT(junk.output, Contains("junk.sqlite"));

  // A PATH that does not exist is an input error: nothing is indexed.
  write_file(dir / "ok.txt", "readable\n");
  auto gone = run_scout("index --db " + db + " " + quote((dir / "ok.txt").string()) + " " + quote((dir / "gone.md").string()));
  CHECK(gone.exit_code == 3);
  CHECK_THAT(gone.output, Contains("gone.md"));

  // A named file that cannot be indexed (a FIFO) fails alone, with its reason; the others are
  // indexed and the exit code is 1.
  REQUIRE(scout::test::run_command("mkfifo " + quote((dir / "pipe.txt").string())).exit_code == 0);
  auto one_bad = run_scout("index --db " + db + " " + quote((dir / "ok.txt").string()) + " " + quote((dir / "pipe.txt").string()));
  INFO(one_bad.output);
  CHECK(one_bad.exit_code == 1);
  CHECK_THAT(one_bad.output, Contains("indexed 1 files (1 new, 0 changed), skipped 0 unchanged, 1 failed"));
  CHECK_THAT(one_bad.output, Contains("pipe.txt: not a regular file"));
}
