// scout index killed with SIGKILL at many moments — while it creates the index, inside a batch
// and between batches, while it replaces changed files and removes deleted ones — never leaves
// the index corrupt: SQLite's integrity check and FTS5's pass, the documents table and the
// full-text table hold the same documents, a document's stored text is its file's content as of
// the size and time stored with it, `scout index --search` works on what the kill left, and the
// next `scout index` finishes the work.
//
// The corpus is generated (HTML, Markdown and text pages with a unique marker word each), so the
// test knows what every document must hold.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/kill_support.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;

namespace {

using scout::test::BackgroundProcess;
using scout::test::wait_until;
const auto quote = scout::test::shell_quote;

// Generated pages: page i is docs/dNN/page-IIII.{html,md,txt}, holds the word "markerIIII" and
// "revisionR" for its current revision R. Every revision changes the size, so the index sees it.
class Corpus {
 public:
  Corpus(fs::path root, int pages, std::mt19937& random) : root_(std::move(root)), random_(random) {
    for (int i = 0; i < pages; ++i) write(i, 0);
  }

  const fs::path& root() const { return root_; }
  const std::map<int, int>& revisions() const { return revision_; }  // page → revision, pages present

  fs::path path_of(int page) const {
    static const char* const kExtensions[] = {".html", ".md", ".txt"};
    const std::string folder = "d" + std::string(page % 12 < 10 ? "0" : "") + std::to_string(page % 12);
    return root_ / folder / ("page-" + marker(page).substr(6) + kExtensions[page % 3]);
  }

  // Rewrites about a fifth of the pages, deletes a few and brings back the deleted ones.
  void change() {
    std::uniform_int_distribution<int> pick(0, 99);
    const int pages = static_cast<int>(revision_.size() + deleted_.size());
    std::vector<int> back(deleted_.begin(), deleted_.end());
    deleted_.clear();
    for (int page : back) write(page, 0);
    for (int page = 0; page < pages; ++page) {
      if (std::find(back.begin(), back.end(), page) != back.end()) continue;
      const int roll = pick(random_);
      if (roll < 3) {
        fs::remove(path_of(page));
        revision_.erase(page);
        deleted_.push_back(page);
      } else if (roll < 25) {
        write(page, revision_[page] + 1);
      }
    }
  }

  // The page a document's path names (-1 when it names none).
  static int page_of(const std::string& path) {
    const auto at = path.rfind("page-");
    return at == std::string::npos ? -1 : std::stoi(path.substr(at + 5, 4));
  }

  static std::string marker(int page) {
    std::string digits = std::to_string(page);
    return "marker" + std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
  }

 private:
  void write(int page, int revision) {
    static const char* const kWords[] = {"lantern", "harbour", "copper", "meadow", "signal", "orchard", "ferry",
                                         "granite", "willow", "beacon", "canal", "thistle", "quarry", "saddle"};
    std::uniform_int_distribution<std::size_t> word(0, std::size(kWords) - 1);
    std::string body;
    for (int w = 0; w < 150 + revision * 7; ++w) body += std::string(kWords[word(random_)]) + (w % 12 == 11 ? ".\n" : " ");
    const std::string title = "Page " + std::to_string(page);
    const std::string tags = marker(page) + " revision" + std::to_string(revision);
    const fs::path path = path_of(page);
    std::string text;
    if (path.extension() == ".html")
      text = "<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1><p>" + tags + "</p><p>" + body +
             "</p></body></html>\n";
    else if (path.extension() == ".md")
      text = "# " + title + "\n\n" + tags + "\n\n" + body;
    else
      text = title + "\n\n" + tags + "\n" + body;
    scout::test::write_file(path, text);
    revision_[page] = revision;
  }

  fs::path root_;
  std::mt19937& random_;
  std::map<int, int> revision_;
  std::vector<int> deleted_;
};

struct Database {
  explicit Database(const fs::path& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~Database() { sqlite3_close(db); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The rows `sql` gives, each column as text.
  std::vector<std::vector<std::string>> rows(const char* sql) const {
    sqlite3_stmt* stmt = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.emplace_back(text ? text : "");
      }
      out.push_back(std::move(row));
    }
    const std::string error = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    INFO(error);
    REQUIRE(rc == SQLITE_DONE);
    return out;
  }

  sqlite3* db = nullptr;
};

struct Stamp {
  long long mtime_ns = -1;
  long long size = -1;
};

Stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, static_cast<long long>(st.st_size)};
}

// Whether `word` occurs in `text` as a whole word.
bool has_word(const std::string& text, const std::string& word) {
  auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !is_word_char(text[at - 1]);
    const bool ends = at + word.size() == text.size() || !is_word_char(text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

// The index is sound: both integrity checks pass, the two tables agree, and every document whose
// file still has the stored size and time holds that file's current text. Returns how many
// documents it holds.
std::size_t check_index(const fs::path& db_path, const Corpus& corpus) {
  const Database db(db_path);
  CHECK(db.rows("PRAGMA integrity_check") == std::vector<std::vector<std::string>>{{"ok"}});
  db.rows("INSERT INTO documents_fts(documents_fts) VALUES('integrity-check')");  // fails when corrupt
  CHECK(db.rows("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                "(SELECT 1 FROM documents_fts f WHERE f.rowid = d.id)")[0][0] == "0");
  CHECK(db.rows("SELECT count(*) FROM documents_fts WHERE rowid NOT IN (SELECT id FROM documents)")[0][0] == "0");
  const auto documents = db.rows(
      "SELECT d.path, d.mtime_ns, d.size, f.text FROM documents d JOIN documents_fts f ON f.rowid = d.id");
  // Counted rather than checked one by one: a broken index would report hundreds of documents.
  std::vector<std::string> wrong;
  for (const auto& row : documents) {
    const int page = Corpus::page_of(row[0]);
    const Stamp now = stamp_of(row[0]);
    const auto revision = corpus.revisions().find(page);
    const bool current = revision != corpus.revisions().end() && now.mtime_ns == std::stoll(row[1]) &&
                         now.size == std::stoll(row[2]);
    if (page < 0 || !has_word(row[3], Corpus::marker(page)) ||
        (current && !has_word(row[3], "revision" + std::to_string(revision->second))))
      wrong.push_back(row[0]);
  }
  INFO(wrong.size() << " documents whose text is not their file's, the first: " << (wrong.empty() ? "" : wrong[0]));
  CHECK(wrong.empty());
  return documents.size();
}

}  // namespace

TEST_CASE("scout index killed at any moment leaves an index that is sound and that the next run completes",
          "[kill][index]") {
  const fs::path dir = scout::test::fresh_scratch_dir("kill-index", "rounds");
  const fs::path home = dir / "home";
  const fs::path db = dir / "index.sqlite";
  const fs::path journal = dir / "index.sqlite-journal";
  std::mt19937 random(20261129);
  Corpus corpus(dir / "docs", 600, random);
  const std::string index_args = "index --db " + quote(db.string()) + " " + quote(corpus.root().string());

  // A whole run first: how long indexing takes here sets the range of the kill moments.
  const auto t0 = std::chrono::steady_clock::now();
  const auto whole = scout::test::run_scout_in(home, index_args);
  const double whole_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  INFO(whole.output);
  REQUIRE(whole.exit_code == 0);
  REQUIRE(check_index(db, corpus) == corpus.revisions().size());

  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int kills = 0;
  for (int round = 1; kills < 16 && round <= 60; ++round) {
    // Every fourth round indexes from nothing (kills land in creating the file and the schema,
    // and in the first batches); the others change pages, so a kill lands in replacing changed
    // documents, adding new ones or removing deleted ones.
    const bool fresh = round % 4 == 1;
    if (fresh) {
      fs::remove(db);
      fs::remove(journal);
    } else {
      corpus.change();
    }
    // Every third round waits for a batch to be open (the rollback journal exists) before the
    // random moment; the others count the moment from the start.
    const bool in_batch = round % 3 == 0;
    const double moment_ms = unit(random) * (in_batch ? whole_ms / 4 : fresh ? whole_ms : whole_ms / 2);
    INFO("round " << round << (fresh ? ", from nothing" : ", pages changed") << (in_batch ? ", in a batch" : "")
                  << ", kill after " << moment_ms << " ms; a whole run took " << whole_ms << " ms");
    auto scout = scout::test::start_scout(home, index_args, dir / "index.log");
    if (in_batch) wait_until([&] { return fs::exists(journal) || scout->exited(); });
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(moment_ms));
    if (scout->kill_now()) {
      ++kills;
    } else {
      INFO(scout->log());
      REQUIRE(scout->wait() == 0);  // it finished before the moment came
    }
    if (!fs::exists(db)) continue;  // killed before it made the file

    // What the kill left: searchable, sound.
    const int probe = corpus.revisions().begin()->first;
    const auto search = scout::test::run_scout_in(home, "index --db " + quote(db.string()) + " --search " +
                                                            Corpus::marker(probe) + " --json");
    INFO(search.output);
    CHECK(search.exit_code == 0);
    check_index(db, corpus);

    // The next run finishes the work: every page present is indexed, as it is now.
    const auto next = scout::test::run_scout_in(home, index_args);
    INFO(next.output);
    REQUIRE(next.exit_code == 0);
    CHECK(check_index(db, corpus) == corpus.revisions().size());
    const auto [page, revision] = *std::next(corpus.revisions().begin(), static_cast<long>(round) % 50);
    const auto found = scout::test::run_scout_in(home, "index --db " + quote(db.string()) + " --search " +
                                                           quote(Corpus::marker(page) + " revision" + std::to_string(revision)) +
                                                           " --json -n 1");
    INFO(found.output);
    REQUIRE(found.exit_code == 0);
    const auto results = nlohmann::json::parse(found.output)["results"];
    REQUIRE(results.size() == 1);
    CHECK(results[0]["path"] == fs::absolute(corpus.path_of(page)).lexically_normal().string());
  }
  CHECK(kills >= 16);
}
