// The offline index: ranking, snippets, inert query syntax, re-indexing, broken files, and a real
// corpus (the Python documentation as Debian's python3-doc ships it).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "tests/tools/pdf_fixture.h"
#include "tools/search/offline_index.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;
using Catch::Contains;
using scout::AddOutcome;
using scout::OfflineIndex;

namespace {

using scout::test::write_file;

// A fresh, empty folder for one test case.
fs::path scratch(const std::string& name) { return scout::test::fresh_scratch_dir("search", name); }


std::vector<std::string> paths_of(const std::vector<scout::SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(fs::path(h.path).filename().string());
  return out;
}

// Three documents about different things; "kettle" is what the first is about.
OfflineIndex small_index(const fs::path& dir) {
  write_file(dir / "kettle.html",
        "<title>Descaling a kettle</title><p>Fill the kettle with vinegar, boil the kettle, rinse the kettle.</p>");
  write_file(dir / "tea.md", "# Brewing tea\n\nBoil water in a kettle and pour it over the leaves.\n");
  write_file(dir / "garden.txt", "Garden notes\n\nWater the roses in the morning; prune them in spring.\n");
  auto index = OfflineIndex::create(dir / "index.sqlite");
  REQUIRE(index);
  for (const char* f : {"kettle.html", "tea.md", "garden.txt"}) {
    auto r = index->add_file(dir / f);
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
    CHECK(*r == AddOutcome::added);
  }
  return std::move(*index);
}

}  // namespace

TEST_CASE("BM25 ranking puts the document that matches best first", "[search]") {
  const auto dir = scratch("ranking");
  auto index = small_index(dir);
  auto hits = index.search("kettle", 10);
  REQUIRE(hits);
  REQUIRE(paths_of(*hits) == std::vector<std::string>{"kettle.html", "tea.md"});
  CHECK((*hits)[0].score > (*hits)[1].score);
  CHECK((*hits)[0].title == "Descaling a kettle");
  CHECK((*hits)[1].title == "Brewing tea");
}

TEST_CASE("the porter stemmer matches other forms of a word", "[search]") {
  auto index = small_index(scratch("stemming"));
  auto hits = index.search("pruning", 10);
  REQUIRE(hits);
  CHECK(paths_of(*hits) == std::vector<std::string>{"garden.txt"});
}

TEST_CASE("documents holding every query word come before those holding some", "[search]") {
  auto index = small_index(scratch("all-words"));
  auto hits = index.search("water roses", 10);
  REQUIRE(hits);
  REQUIRE(hits->size() == 2);
  CHECK(paths_of(*hits)[0] == "garden.txt");  // both words
  CHECK(paths_of(*hits)[1] == "tea.md");      // "water" only
  auto one = index.search("water roses", 1);
  REQUIRE(one);
  CHECK(paths_of(*one) == std::vector<std::string>{"garden.txt"});
}

TEST_CASE("snippets contain the matched words, highlighted", "[search]") {
  auto index = small_index(scratch("snippets"));
  auto hits = index.search("vinegar", 5);
  REQUIRE(hits);
  REQUIRE(hits->size() == 1);
  CHECK_THAT((*hits)[0].snippet, Contains("**vinegar**"));
}

TEST_CASE("FTS5 syntax in a query is inert", "[search]") {
  auto index = small_index(scratch("injection"));
  // Each of these is an FTS5 syntax error or an operator when passed through unquoted.
  for (const char* q : {"\"", "\"kettle", "*", "kettle*", "NEAR(", "NEAR(kettle tea)", "AND", "kettle AND",
                        "OR tea", "NOT", "-", "-kettle", "title:kettle", "col:", "^kettle", "kettle + tea", "(", ")",
                        "{title text}: kettle", "'; DROP TABLE documents; --", ""}) {
    INFO("query: " << q);
    auto hits = index.search(q, 10);
    REQUIRE(hits);  // never an error
  }
  // A query of only punctuation or operator words finds nothing instead of everything.
  for (const char* q : {"\"", "*", "NEAR(", "AND", "OR", "NOT", "-", "col:", "( ) ^ + :"}) {
    INFO("query: " << q);
    CHECK(index.search(q, 10)->empty());
  }
  // Syntax around words leaves the words: these search for "kettle" (and "title").
  CHECK(paths_of(*index.search("\"kettle", 10))[0] == "kettle.html");
  CHECK(paths_of(*index.search("title:kettle", 10))[0] == "kettle.html");
  CHECK(paths_of(*index.search("NEAR(kettle", 10))[0] == "kettle.html");
  CHECK(*index.size() == 3);  // and nothing was dropped
  CHECK(scout::fts5_match_expression("a\"b OR c*") == "\"a\" \"b\" \"c\"");
}

TEST_CASE("re-indexing an unchanged file is skipped and a changed file is replaced", "[search]") {
  const auto dir = scratch("reindex");
  auto index = small_index(dir);
  CHECK(*index.add_file(dir / "tea.md") == AddOutcome::unchanged);

  write_file(dir / "tea.md", "# Brewing coffee\n\nGrind the beans; no kettle needed, use a percolator.\n");
  // Same size is possible; a newer mtime is not guaranteed at coarse resolution, so set it.
  fs::last_write_time(dir / "tea.md", fs::last_write_time(dir / "tea.md") + std::chrono::seconds(2));
  auto r = index.add_file(dir / "tea.md");
  REQUIRE(r);
  CHECK(*r == AddOutcome::replaced);
  CHECK(*index.size() == 3);
  CHECK(index.search("leaves", 10)->empty());
  auto hits = index.search("percolator", 10);
  REQUIRE(hits->size() == 1);
  CHECK((*hits)[0].title == "Brewing coffee");

  // The same file named by another path is the same document.
  CHECK(*index.add_file(dir / "sub" / ".." / "tea.md") == AddOutcome::unchanged);
}

TEST_CASE("documents whose files were deleted are removed, only under the roots given", "[search]") {
  const auto dir = scratch("prune");
  write_file(dir / "docs" / "a.txt", "alpha lantern\n");
  write_file(dir / "docs" / "deep" / "b.md", "# Beta\n\nbeta lantern\n");
  write_file(dir / "docs" / "kept.txt", "kept lantern\n");
  write_file(dir / "docs2" / "c.txt", "gamma lantern\n");  // shares the prefix "docs" but is another folder
  write_file(dir / "other" / "d.txt", "delta lantern\n");
  auto files = scout::find_indexable_files({dir / "docs", dir / "docs2", dir / "other"});
  REQUIRE(files);
  auto index = OfflineIndex::create(dir / "index.sqlite");
  REQUIRE(index);
  REQUIRE(index->add_files(*files, {}));
  REQUIRE(*index->size() == 5);

  for (const char* gone : {"docs/a.txt", "docs/deep/b.md", "docs2/c.txt", "other/d.txt"}) fs::remove(dir / gone);
  fs::remove(dir / "docs" / "deep");
  auto removed = index->remove_missing({dir / "docs/"});
  REQUIRE(removed);
  CHECK(*removed == std::vector<std::string>{(dir / "docs" / "a.txt").string(), (dir / "docs" / "deep" / "b.md").string()});
  CHECK(*index->size() == 3);
  auto names = paths_of(*index->search("lantern", 10));
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"c.txt", "d.txt", "kept.txt"});
  CHECK(index->search("alpha", 10)->empty());

  // A file named directly is a root of its own.
  removed = index->remove_missing({dir / "other" / "d.txt"});
  REQUIRE(removed);
  CHECK(removed->size() == 1);

  // No roots: every document is checked.
  removed = index->remove_missing({});
  REQUIRE(removed);
  CHECK(*removed == std::vector<std::string>{(dir / "docs2" / "c.txt").string()});
  auto left = index->search("lantern", 10);
  REQUIRE(left->size() == 1);
  CHECK(fs::path((*left)[0].path).filename() == "kept.txt");
  CHECK(index->remove_missing({})->empty());
}

TEST_CASE("a file that exists but cannot be read now is not removed as deleted", "[search]") {
  if (::geteuid() == 0) return;  // root reads everything
  const auto dir = scratch("prune-unreadable");
  write_file(dir / "locked" / "note.txt", "walrus\n");
  auto index = OfflineIndex::create(dir / "index.sqlite");
  REQUIRE(index);
  REQUIRE(index->add_file(dir / "locked" / "note.txt"));
  fs::permissions(dir / "locked", fs::perms::none);
  auto removed = index->remove_missing({dir});
  fs::permissions(dir / "locked", fs::perms::owner_all);
  REQUIRE(removed);
  CHECK(removed->empty());
  CHECK(*index->size() == 1);
}

TEST_CASE("the index persists and add_files reports each file", "[search]") {
  const auto dir = scratch("batch");
  for (int i = 0; i < 30; ++i) write_file(dir / "docs" / ("doc" + std::to_string(i) + ".txt"), "note number " + std::to_string(i) + " about lanterns\n");
  write_file(dir / "docs" / "ignored.png", "not a document");
  auto files = scout::find_indexable_files({dir / "docs"});
  REQUIRE(files);
  CHECK(files->size() == 30);
  files->push_back(dir / "docs" / "missing.txt");
  {
    auto index = OfflineIndex::create(dir / "nested" / "folder" / "index.sqlite");
    REQUIRE(index);
    size_t ok = 0, failed = 0;
    auto run = index->add_files(*files, [&](const scout::FileReport& r) {
      if (r.outcome) ++ok;
      else {
        ++failed;
        CHECK_THAT(r.outcome.error().message, Contains("missing.txt"));
      }
    }, 7);
    REQUIRE(run);
    CHECK(ok == 30);
    CHECK(failed == 1);
  }
  auto reopened = OfflineIndex::open(dir / "nested" / "folder" / "index.sqlite");
  REQUIRE(reopened);
  CHECK(*reopened->size() == 30);
  CHECK(reopened->search("lanterns", 100)->size() == 30);
  CHECK(reopened->search("lanterns", 5)->size() == 5);
}

TEST_CASE("broken index files give errors that name the file", "[search]") {
  const auto dir = scratch("corrupt");
  SECTION("a missing index is not created by open") {
    auto r = OfflineIndex::open(dir / "none.sqlite");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Contains("none.sqlite"));
    CHECK_FALSE(fs::exists(dir / "none.sqlite"));
  }
  SECTION("a file that is not SQLite") {
    write_file(dir / "garbage.sqlite", std::string(8192, 'G'));
    auto r = OfflineIndex::open(dir / "garbage.sqlite");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Contains("garbage.sqlite"));
    CHECK_THAT(r.error().message, Contains("not a SQLite database"));
    CHECK_FALSE(OfflineIndex::create(dir / "garbage.sqlite"));
  }
  SECTION("a SQLite database of something else") {
    REQUIRE(OfflineIndex::create(dir / "x.sqlite"));
    // A copy of an index with the header's application_id (bytes 68..71) cleared: a database
    // with tables that are not ours.
    const auto copy = dir / "foreign.sqlite";
    fs::copy_file(dir / "x.sqlite", copy);
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(68);
    f.write("\0\0\0\0", 4);
    f.close();
    auto r = OfflineIndex::open(copy);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Contains("foreign.sqlite"));
    CHECK_THAT(r.error().message, Contains("not a Scout search index"));
    // An empty file is an empty database: it becomes an index.
    write_file(dir / "empty.sqlite", "");
    CHECK(OfflineIndex::open(dir / "empty.sqlite"));
  }
  SECTION("an index whose pages are overwritten") {
    {
      auto index = small_index(dir);
    }
    const auto db = dir / "index.sqlite";
    const auto size = fs::file_size(db);
    REQUIRE(size > 4096);
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);  // everything after the first page
    const std::string junk(size - 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    f.close();
    auto index = OfflineIndex::open(db);
    if (index) {  // the first page may still read; the damage must show at the first query
      auto hits = index->search("kettle", 10);
      REQUIRE_FALSE(hits);
      CHECK_THAT(hits.error().message, Contains("index.sqlite"));
      CHECK_THAT(hits.error().message, Contains("corrupt"));
    } else {
      CHECK_THAT(index.error().message, Contains("index.sqlite"));
    }
  }
}

TEST_CASE("the Python documentation indexes quickly and 'json loads' finds the json module", "[search]") {
  fs::path root;
  for (const char* dir : {"/usr/share/doc/python3/html", "/usr/share/doc/python3-doc/html", "/usr/share/doc/python3.11/html"}) {
    if (fs::exists(fs::path(dir) / "library" / "json.html")) {
      root = dir;
      break;
    }
  }
  if (root.empty()) {
    WARN("python3-doc is not installed (apt-get install python3-doc): real-corpus test skipped");
    return;
  }
  auto files = scout::find_indexable_files({root / "library"});
  REQUIRE(files);
  // A few hundred pages keep the test quick; json.html must be among them.
  constexpr size_t kMaxFiles = 400;
  if (files->size() > kMaxFiles) files->resize(kMaxFiles);
  const auto json_page = fs::canonical(root / "library" / "json.html");
  REQUIRE(std::any_of(files->begin(), files->end(), [&](const fs::path& p) { return fs::canonical(p) == json_page; }));

  const auto dir = scratch("python-docs");
  auto index = OfflineIndex::create(dir / "index.sqlite");
  REQUIRE(index);
  const auto t0 = std::chrono::steady_clock::now();
  size_t failed = 0;
  REQUIRE(index->add_files(*files, [&](const scout::FileReport& r) { failed += r.outcome ? 0 : 1; }));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(failed == 0);
  WARN("indexed " << files->size() << " pages of the Python documentation in " << secs << " s");

  const auto t1 = std::chrono::steady_clock::now();
  auto hits = index->search("json loads", 3);
  const double query_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
  REQUIRE(hits);
  REQUIRE_FALSE(hits->empty());
  INFO("query took " << query_ms << " ms; top: " << (*hits)[0].path);
  CHECK(std::any_of(hits->begin(), hits->end(), [&](const auto& h) { return fs::canonical(h.path) == json_page; }));
  for (const auto& h : *hits) CHECK_THAT(h.title, !Contains("<"));

  // Re-indexing the same pages reads none of them again.
  size_t unchanged = 0;
  REQUIRE(index->add_files(*files, [&](const scout::FileReport& r) { unchanged += r.outcome && *r.outcome == AddOutcome::unchanged; }));
  CHECK(unchanged == files->size());
}

TEST_CASE("PDF files are indexed by their text and title", "[search]") {
  const auto dir = scratch("pdf");
  write_file(dir / "docs" / "report.pdf", scout::test::make_pdf({"Quarterly report", "Lantern sales grew by 12 percent"},
                                                           "Lantern Report"));
  write_file(dir / "docs" / "broken.pdf", "%PDF-1.4\nthis is not a PDF body\n");
  auto files = scout::find_indexable_files({dir / "docs"});
  REQUIRE(files);
  CHECK(files->size() == 2);
  auto index = OfflineIndex::create(dir / "index.sqlite");
  REQUIRE(index);
  auto added = index->add_file(dir / "docs" / "report.pdf");
  INFO((added ? "" : added.error().message));
  REQUIRE(added);
  auto hits = index->search("lantern sales", 5);
  REQUIRE(hits);
  REQUIRE(hits->size() == 1);
  CHECK((*hits)[0].title == "Lantern Report");
  CHECK_THAT((*hits)[0].snippet, Contains("**Lantern**") && Contains("**sales**"));
  auto broken = index->add_file(dir / "docs" / "broken.pdf");
  REQUIRE(!broken);
  CHECK_THAT(broken.error().message, Contains("broken.pdf"));
}
