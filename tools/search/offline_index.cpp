#include "tools/search/offline_index.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "common/files.h"
#include "tools/fetch/content_decode.h"
#include "tools/search/text_extract.h"

namespace fs = std::filesystem;

namespace scout {
namespace {

constexpr int32_t kApplicationId = 0x53434958;  // 'SCIX'
constexpr int32_t kSchemaVersion = 1;
// Files larger than this are not documents a reader wants from a search (logs, dumps).
constexpr uintmax_t kMaxFileBytes = 64u << 20;
// Text kept from one PDF: a book's worth; the rest of a larger document is not indexed.
constexpr std::size_t kMaxPdfTextBytes = 16u << 20;
// BM25 column weights: a word in the title says more about the document than one in the body.
// The snippet always comes from the body (column 1): the title is returned beside it anyway.
constexpr const char* kSearchSql =
    "SELECT d.title, d.path, snippet(documents_fts, 1, '**', '**', '…', 24), "
    "bm25(documents_fts, 5.0, 1.0) AS rank "
    "FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid "
    "WHERE documents_fts MATCH ?1 ORDER BY rank LIMIT ?2";

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return stmt_; }
  void bind(int i, std::string_view s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = 0;
};

Result<FileStamp> stamp_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return make_error(file.string() + ": cannot read: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error(file.string() + ": not a regular file");
  return FileStamp{static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, static_cast<int64_t>(st.st_size)};
}

Result<std::string> read_file(const fs::path& file, int64_t size) {
  if (static_cast<uintmax_t>(size) > kMaxFileBytes) {
    return make_error(file.string() + ": too large to index (" + std::to_string(size >> 20) + " MiB, limit " +
                      std::to_string(kMaxFileBytes >> 20) + " MiB)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(file.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return make_error(file.string() + ": read failed");
  return buf.str();
}

// Snippets are shown one per result; line breaks from <pre> blocks or plain text would break
// that up, so every run of whitespace becomes one space.
std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (!space) out += c;
    else if (!out.empty() && out.back() != ' ') out += ' ';
  }
  return out;
}

bool is_word_byte(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; }

}  // namespace

std::string fts5_match_expression(std::string_view query, std::string_view joiner) {
  std::string expr;
  size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && !is_word_byte(static_cast<unsigned char>(query[i]))) ++i;
    const size_t start = i;
    while (i < query.size() && is_word_byte(static_cast<unsigned char>(query[i]))) ++i;
    const std::string_view word = query.substr(start, i - start);
    if (word.empty() || word == "AND" || word == "OR" || word == "NOT" || word == "NEAR") continue;
    if (!expr.empty()) expr += joiner;
    // Words hold no '"' (it is a separator above), so quoting makes them FTS5 strings verbatim.
    expr += '"';
    expr += word;
    expr += '"';
  }
  return expr;
}

OfflineIndex::OfflineIndex(OfflineIndex&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), db_path_(std::move(other.db_path_)) {}

OfflineIndex& OfflineIndex::operator=(OfflineIndex&& other) noexcept {
  if (this != &other) {
    sqlite3_close(db_);
    db_ = std::exchange(other.db_, nullptr);
    db_path_ = std::move(other.db_path_);
  }
  return *this;
}

OfflineIndex::~OfflineIndex() { sqlite3_close(db_); }

Error OfflineIndex::db_error(std::string_view what) const {
  const int code = sqlite3_extended_errcode(db_) & 0xff;
  std::string reason = sqlite3_errmsg(db_);
  if (code == SQLITE_NOTADB) reason = "not a SQLite database (is it an index file?)";
  if (code == SQLITE_CORRUPT) reason = "the database is corrupt (" + reason + "); delete it and index again";
  return Error{db_path_.string() + ": " + std::string(what) + ": " + reason};
}

Result<void> OfflineIndex::exec(const char* sql) const {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Unexpected{db_error("query failed")};
  return {};
}

Result<OfflineIndex> OfflineIndex::open(const fs::path& db_path) { return open_with(db_path, false); }
Result<OfflineIndex> OfflineIndex::create(const fs::path& db_path) { return open_with(db_path, true); }

Result<OfflineIndex> OfflineIndex::open_with(const fs::path& db_path, bool create) {
  std::error_code ec;
  if (!create && !fs::exists(db_path, ec)) {
    return make_error(db_path.string() + ": no index here (build one with 'scout index --db " + db_path.string() + " PATH')");
  }
  if (const auto refused = not_a_regular_file(db_path)) return make_error(db_path.string() + ": " + *refused);
  if (create && db_path.has_parent_path()) {
    fs::create_directories(db_path.parent_path(), ec);
    if (ec) return make_error(db_path.parent_path().string() + ": cannot create folder: " + ec.message());
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(db_path.c_str(), &db, flags, nullptr);
  OfflineIndex index(db, db_path);  // owns `db` from here, even when opening failed
  if (rc != SQLITE_OK) return Unexpected{index.db_error("cannot open")};
  sqlite3_busy_timeout(db, 5000);  // another scout writing the same index: wait, don't fail
  if (auto r = index.init_schema(); !r) return Unexpected{r.error()};
  return index;
}

// Checks that the file is a Scout index of the current schema, or makes an empty file into one.
Result<void> OfflineIndex::init_schema() {
  Statement header(db_, "PRAGMA application_id");  // reading the header finds files that are not SQLite
  if (!header.ok() || header.step() != SQLITE_ROW) return Unexpected{db_error("cannot read")};
  const int64_t app_id = header.int64(0);
  Statement tables(db_, "SELECT count(*) FROM sqlite_schema");
  if (!tables.ok() || tables.step() != SQLITE_ROW) return Unexpected{db_error("cannot read")};
  const int64_t n_tables = tables.int64(0);
  if (app_id == 0 && n_tables == 0) {
    const std::string sql =
        "BEGIN;"
        "CREATE TABLE documents(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
        " mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL);"
        "CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, tokenize='porter unicode61 remove_diacritics 2');"
        "PRAGMA application_id=" + std::to_string(kApplicationId) + ";"
        "PRAGMA user_version=" + std::to_string(kSchemaVersion) + ";"
        "COMMIT;";
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error e = db_error("cannot create the index");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Unexpected{e};
    }
    return {};
  }
  if (app_id != kApplicationId) {
    return make_error(db_path_.string() + ": a SQLite database but not a Scout search index");
  }
  Statement version(db_, "PRAGMA user_version");
  if (!version.ok() || version.step() != SQLITE_ROW) return Unexpected{db_error("cannot read")};
  if (version.int64(0) != kSchemaVersion) {
    return make_error(db_path_.string() + ": index schema version " + std::to_string(version.int64(0)) +
                      ", this scout reads version " + std::to_string(kSchemaVersion) + "; delete it and index again");
  }
  return {};
}

Result<AddOutcome> OfflineIndex::add_file(const fs::path& file) {
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return Unexpected{r.error()};
  auto outcome = add_file_in_transaction(file);
  // A failed file leaves nothing behind; a stored one becomes visible only when complete.
  if (auto r = exec(outcome ? "COMMIT" : "ROLLBACK"); !r && outcome) return Unexpected{r.error()};
  return outcome;
}

Result<void> OfflineIndex::add_files(const std::vector<fs::path>& files,
                                     const std::function<void(const FileReport&)>& on_file, size_t batch_size) {
  batch_size = std::max<size_t>(batch_size, 1);
  for (size_t begin = 0; begin < files.size(); begin += batch_size) {
    if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
    for (size_t i = begin; i < std::min(files.size(), begin + batch_size); ++i) {
      // Each file in a savepoint, so that one failing midway is undone without losing the batch.
      if (auto r = exec("SAVEPOINT file"); !r) return r;
      FileReport report{files[i], add_file_in_transaction(files[i])};
      if (auto r = exec(report.outcome ? "RELEASE file" : "ROLLBACK TO file; RELEASE file"); !r) return r;
      if (on_file) on_file(report);
    }
    if (auto r = exec("COMMIT"); !r) return r;
  }
  return {};
}

Result<AddOutcome> OfflineIndex::add_file_in_transaction(const fs::path& file) {
  std::error_code ec;
  fs::path abs = fs::absolute(file, ec).lexically_normal();
  if (ec) abs = file;
  auto stamp = stamp_of(abs);
  if (!stamp) return Unexpected{stamp.error()};

  Statement find(db_, "SELECT id, mtime_ns, size FROM documents WHERE path = ?1");
  if (!find.ok()) return Unexpected{db_error("lookup failed")};
  find.bind(1, abs.string());
  int64_t old_id = -1;
  const int rc = find.step();
  if (rc == SQLITE_ROW) {
    old_id = find.int64(0);
    if (find.int64(1) == stamp->mtime_ns && find.int64(2) == stamp->size) return AddOutcome::unchanged;
  } else if (rc != SQLITE_DONE) {
    return Unexpected{db_error("lookup failed")};
  }

  auto bytes = read_file(abs, stamp->size);
  if (!bytes) return Unexpected{bytes.error()};
  const auto format = format_for_extension(abs.extension().string()).value_or(DocumentFormat::text);
  ExtractedDocument doc;
  if (format == DocumentFormat::pdf) {
    auto pdf = tools::fetch::pdf_to_text(*bytes, kMaxPdfTextBytes);
    if (!pdf) return make_error(abs.string() + ": " + pdf.error().message);
    doc = ExtractedDocument{pdf->title, std::move(pdf->text)};
  } else {
    doc = format == DocumentFormat::html       ? extract_html(*bytes)
          : format == DocumentFormat::markdown ? extract_markdown(*bytes)
                                                : extract_plain_text(*bytes);
  }
  if (doc.title.empty()) doc.title = abs.stem().string();

  if (old_id >= 0) {
    if (auto r = delete_document(old_id); !r) return Unexpected{r.error()};
  }
  Statement ins_doc(db_, "INSERT INTO documents(path, title, mtime_ns, size) VALUES(?1, ?2, ?3, ?4)");
  if (!ins_doc.ok()) return Unexpected{db_error("insert failed")};
  ins_doc.bind(1, abs.string());
  ins_doc.bind(2, doc.title);
  ins_doc.bind(3, stamp->mtime_ns);
  ins_doc.bind(4, stamp->size);
  if (ins_doc.step() != SQLITE_DONE) return Unexpected{db_error("insert failed")};
  Statement ins_fts(db_, "INSERT INTO documents_fts(rowid, title, text) VALUES(?1, ?2, ?3)");
  if (!ins_fts.ok()) return Unexpected{db_error("insert failed")};
  ins_fts.bind(1, static_cast<int64_t>(sqlite3_last_insert_rowid(db_)));
  ins_fts.bind(2, doc.title);
  ins_fts.bind(3, doc.text);
  if (ins_fts.step() != SQLITE_DONE) return Unexpected{db_error("insert failed")};
  return old_id >= 0 ? AddOutcome::replaced : AddOutcome::added;
}

Result<void> OfflineIndex::delete_document(int64_t id) {
  Statement del_fts(db_, "DELETE FROM documents_fts WHERE rowid = ?1");
  Statement del_doc(db_, "DELETE FROM documents WHERE id = ?1");
  if (!del_fts.ok() || !del_doc.ok()) return Unexpected{db_error("delete failed")};
  del_fts.bind(1, id);
  del_doc.bind(1, id);
  if (del_fts.step() != SQLITE_DONE || del_doc.step() != SQLITE_DONE) return Unexpected{db_error("delete failed")};
  return {};
}

Result<std::vector<std::string>> OfflineIndex::remove_missing(const std::vector<fs::path>& roots) {
  // Stored paths are absolute and normalised (see add_file_in_transaction); so are the roots.
  std::vector<std::string> prefixes;
  for (const auto& root : roots) {
    std::error_code ec;
    std::string abs = fs::absolute(root, ec).lexically_normal().string();
    if (ec) abs = root.string();
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    prefixes.push_back(std::move(abs));
  }
  auto under_roots = [&](const std::string& path) {
    if (prefixes.empty()) return true;
    for (const auto& p : prefixes) {
      if (path == p) return true;
      // "/docs" holds "/docs/a.txt", not "/docs2/a.txt".
      if (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && (p == "/" || path[p.size()] == '/')) return true;
    }
    return false;
  };
  // Only a file that is gone counts: one behind a folder we may not read now is kept.
  auto is_gone = [](const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
  };

  std::vector<std::pair<int64_t, std::string>> gone;
  {
    Statement all(db_, "SELECT id, path FROM documents ORDER BY path");
    if (!all.ok()) return Unexpected{db_error("listing documents failed")};
    int rc;
    while ((rc = all.step()) == SQLITE_ROW) {
      std::string path = all.text(1);
      if (under_roots(path) && is_gone(path)) gone.emplace_back(all.int64(0), std::move(path));
    }
    if (rc != SQLITE_DONE) return Unexpected{db_error("listing documents failed")};
  }
  if (gone.empty()) return std::vector<std::string>{};
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return Unexpected{r.error()};
  std::vector<std::string> removed;
  for (auto& [id, path] : gone) {
    if (auto r = delete_document(id); !r) {
      (void)exec("ROLLBACK");
      return Unexpected{r.error()};
    }
    removed.push_back(std::move(path));
  }
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    return Unexpected{r.error()};
  }
  return removed;
}

Result<std::vector<SearchHit>> OfflineIndex::run_match(const std::string& match, size_t limit) const {
  Statement q(db_, kSearchSql);
  if (!q.ok()) return Unexpected{db_error("search failed")};
  q.bind(1, match);
  q.bind(2, static_cast<int64_t>(limit));
  std::vector<SearchHit> hits;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    hits.push_back({q.text(0), q.text(1), one_line(q.text(2)), -sqlite3_column_double(q.get(), 3)});
  }
  if (rc != SQLITE_DONE) return Unexpected{db_error("search failed")};
  return hits;
}

Result<std::vector<SearchHit>> OfflineIndex::search(std::string_view query, size_t max_results) const {
  const std::string all_words = fts5_match_expression(query, " ");
  if (all_words.empty() || max_results == 0) return std::vector<SearchHit>{};
  auto hits = run_match(all_words, max_results);
  if (!hits || hits->size() >= max_results) return hits;
  const std::string any_word = fts5_match_expression(query, " OR ");
  if (any_word == all_words) return hits;  // one word: OR finds nothing more
  auto more = run_match(any_word, max_results);
  if (!more) return more;
  std::unordered_set<std::string> seen;
  for (const auto& h : *hits) seen.insert(h.path);
  for (auto& h : *more) {
    if (hits->size() >= max_results) break;
    if (seen.insert(h.path).second) hits->push_back(std::move(h));
  }
  return hits;
}

Result<int64_t> OfflineIndex::size() const {
  Statement q(db_, "SELECT count(*) FROM documents");
  if (!q.ok() || q.step() != SQLITE_ROW) return Unexpected{db_error("count failed")};
  return q.int64(0);
}

Result<std::vector<fs::path>> find_indexable_files(const std::vector<fs::path>& roots) {
  std::vector<fs::path> files;
  for (const auto& root : roots) {
    std::error_code ec;
    const auto status = fs::status(root, ec);
    if (ec || !fs::exists(status)) return make_error(root.string() + ": no such file or folder");
    if (!fs::is_directory(status)) {
      // Named explicitly: indexed whatever its extension, and if it is no regular file, adding it
      // reports that for this file rather than failing the whole walk.
      files.push_back(root);
      continue;
    }
    auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
    if (ec) return make_error(root.string() + ": cannot list: " + ec.message());
    for (const auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec) && format_for_extension(it->path().extension().string())) files.push_back(it->path());
    }
    if (ec) return make_error(root.string() + ": cannot list: " + ec.message());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

fs::path default_index_path() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return fs::path(xdg) / "scout" / "index.sqlite";
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".local" / "share" / "scout" / "index.sqlite";
}

}  // namespace scout
