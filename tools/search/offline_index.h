// OfflineIndex: a full-text index of local documents (HTML, Markdown, reST, plain text) kept in
// one SQLite file, searched with FTS5 and ranked by BM25. It is what the agent searches when no
// network is available, and what `scout index` builds.
//
// File layout (schema version 1, PRAGMA application_id 'SCIX' marks the file as ours):
//   documents(id, path UNIQUE, title, mtime_ns, size)    one row per indexed file
//   documents_fts(title, text)  FTS5, porter+unicode61    rowid = documents.id
//
// Ownership and threads: an OfflineIndex owns its SQLite connection; it is movable, not
// copyable, and not thread-safe (use one per thread; SQLite serialises writers across them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

struct sqlite3;  // SQLite's connection type; only offline_index.cpp includes sqlite3.h

namespace scout {

struct SearchHit {
  std::string title;
  std::string path;     // absolute path of the file as it was indexed
  std::string snippet;  // one line of the body around the matches, each match wrapped in ** **
  double score = 0;     // BM25 relevance, higher is better (SQLite's bm25() negated)
};

enum class AddOutcome { added, replaced, unchanged };

struct FileReport {
  std::filesystem::path path;
  Result<AddOutcome> outcome;
};

class OfflineIndex {
 public:
  // Opens an existing index; fails when the file is missing, not SQLite, corrupt or not an index.
  static Result<OfflineIndex> open(const std::filesystem::path& db_path);
  // Opens the index, creating the file (and its parent folders) when it does not exist yet.
  static Result<OfflineIndex> create(const std::filesystem::path& db_path);

  OfflineIndex(OfflineIndex&& other) noexcept;
  OfflineIndex& operator=(OfflineIndex&& other) noexcept;
  OfflineIndex(const OfflineIndex&) = delete;
  OfflineIndex& operator=(const OfflineIndex&) = delete;
  ~OfflineIndex();

  // Indexes one file (format from its extension; unknown extensions are read as plain text).
  // A file whose size and modification time match the stored ones is skipped (unchanged); a
  // changed one replaces its old entry. Fails naming the file when it cannot be read.
  Result<AddOutcome> add_file(const std::filesystem::path& file);

  // Indexes many files, committing one transaction per `batch_size` files: per-file commits
  // would sync the disk thousands of times. `on_file` sees each file's outcome as it is done.
  // A file that fails is reported and rolled back alone; failing to begin or commit a batch
  // stops the run.
  Result<void> add_files(const std::vector<std::filesystem::path>& files,
                         const std::function<void(const FileReport&)>& on_file, size_t batch_size = 500);

  // Removes the documents whose files no longer exist (deleted or moved since they were
  // indexed), among those under `roots` (a folder, or a file named directly) — or among all
  // documents when `roots` is empty. A file that exists but cannot be read now is kept. Returns
  // the removed paths, sorted; one transaction, so a failure removes nothing.
  Result<std::vector<std::string>> remove_missing(const std::vector<std::filesystem::path>& roots);

  // Best matches first, at most `max_results`. `query` is plain text: it is split into words and
  // every word is quoted, so no FTS5 syntax can reach the engine; a query with no words gives no
  // hits. Documents holding every word come first; when there are too few of them, documents
  // holding some of the words fill the list.
  Result<std::vector<SearchHit>> search(std::string_view query, size_t max_results) const;

  // Number of documents indexed.
  Result<int64_t> size() const;

  const std::filesystem::path& path() const { return db_path_; }

 private:
  OfflineIndex(sqlite3* db, std::filesystem::path db_path) : db_(db), db_path_(std::move(db_path)) {}
  static Result<OfflineIndex> open_with(const std::filesystem::path& db_path, bool create);
  Result<void> init_schema();
  Result<void> exec(const char* sql) const;
  Result<AddOutcome> add_file_in_transaction(const std::filesystem::path& file);
  Result<void> delete_document(int64_t id);
  Result<std::vector<SearchHit>> run_match(const std::string& match, size_t limit) const;
  Error db_error(std::string_view what) const;

  sqlite3* db_ = nullptr;
  std::filesystem::path db_path_;
};

// The FTS5 MATCH expression for a plain-text query: each word double-quoted (words are split at
// ASCII punctuation and spaces, so a quote can never occur inside one), joined by `joiner`
// (" " for all words, " OR " for any). Upper-case AND, OR, NOT and NEAR are dropped: they are
// FTS5 operators and English stop words, so a query of only them matches nothing. Empty when the
// query has no words.
std::string fts5_match_expression(std::string_view query, std::string_view joiner = " ");

// The files under `roots` (files named directly or found recursively in folders) whose
// extension the index reads, sorted; unreadable folders are skipped. Fails naming a root that
// does not exist.
Result<std::vector<std::filesystem::path>> find_indexable_files(const std::vector<std::filesystem::path>& roots);

// $XDG_DATA_HOME/scout/index.sqlite, else ~/.local/share/scout/index.sqlite.
std::filesystem::path default_index_path();

}  // namespace scout
