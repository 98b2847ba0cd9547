// scout index: builds the offline search index from local documents and queries it.
//
//   scout index [--db FILE] PATH...              index files and folders (recursively); documents
//                                                under PATH whose files were deleted are removed
//   scout index [--db FILE] --prune              remove every document whose file was deleted
//   scout index [--db FILE] --search QUERY [-n N] [--json]
//
// Exit codes: 0 ok; 1 some files could not be indexed (the summary lists them); 2 usage;
// 3 a PATH is missing, or the index file is missing, corrupt or not an index.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "common/files.h"
#include "tools/search/offline_index.h"

namespace fs = std::filesystem;

namespace scout::cli {
namespace {

struct IndexArgs {
  std::string db;
  std::vector<std::string> paths;
  std::string query;
  bool search = false;
  bool prune = false;
  int n_results = 10;
  bool json = false;
};

struct Tally {
  size_t added = 0, replaced = 0, unchanged = 0;
  std::vector<std::string> failures;  // each names its file and the reason
};

// Removes the documents under `roots` (all, when empty) whose files are gone; prints what it did.
bool prune(OfflineIndex& index, const std::vector<fs::path>& roots) {
  auto removed = index.remove_missing(roots);
  if (!removed) {
    std::cerr << "scout index: " << removed.error().message << "\n";
    return false;
  }
  if (!removed->empty() || roots.empty())
    std::printf("removed %zu documents whose files were deleted\n", removed->size());
  constexpr size_t kListed = 20;
  for (size_t i = 0; i < removed->size() && i < kListed; ++i) std::printf("  removed: %s\n", (*removed)[i].c_str());
  if (removed->size() > kListed) std::printf("  … and %zu more\n", removed->size() - kListed);
  return true;
}

int run_indexing(OfflineIndex& index, const std::vector<std::string>& paths) {
  std::vector<fs::path> roots(paths.begin(), paths.end());
  auto files = find_indexable_files(roots);
  if (!files) {
    std::cerr << "scout index: " << files.error().message << "\n";
    return kExitModelError;
  }
  const auto t0 = std::chrono::steady_clock::now();
  // On a terminal the progress line rewrites itself; in a log, one line per thousand files.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  Tally tally;
  size_t done = 0;
  auto on_file = [&](const FileReport& r) {
    ++done;
    if (!r.outcome) tally.failures.push_back(r.outcome.error().message);
    else if (*r.outcome == AddOutcome::added) ++tally.added;
    else if (*r.outcome == AddOutcome::replaced) ++tally.replaced;
    else ++tally.unchanged;
    if (tty && (done % 16 == 0 || done == files->size())) {
      std::fprintf(stderr, "\rindexing %zu/%zu files", done, files->size());
      std::fflush(stderr);
    } else if (!tty && done % 1000 == 0) {
      std::fprintf(stderr, "indexing %zu/%zu files\n", done, files->size());
    }
  };
  auto run = index.add_files(*files, on_file);
  if (tty && !files->empty()) std::fprintf(stderr, "\n");
  if (!run) {
    std::cerr << "scout index: " << run.error().message << "\n";
    return kExitModelError;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("indexed %zu files (%zu new, %zu changed), skipped %zu unchanged, %zu failed, in %.2f s\n",
              tally.added + tally.replaced, tally.added, tally.replaced, tally.unchanged, tally.failures.size(), secs);
  for (const auto& f : tally.failures) std::printf("  failed: %s\n", f.c_str());
  if (!prune(index, roots)) return kExitModelError;
  if (auto n = index.size()) std::printf("%s holds %lld documents\n", index.path().c_str(), static_cast<long long>(*n));
  return tally.failures.empty() ? kExitOk : kExitTaskFailed;
}

int run_search(const OfflineIndex& index, const IndexArgs& a) {
  auto hits = index.search(a.query, static_cast<size_t>(a.n_results));
  if (!hits) {
    std::cerr << "scout index: " << hits.error().message << "\n";
    return kExitModelError;
  }
  if (a.json) {
    nlohmann::json out = {{"query", a.query}, {"results", nlohmann::json::array()}};
    for (const auto& h : *hits) {
      out["results"].push_back({{"title", h.title}, {"path", h.path}, {"snippet", h.snippet}, {"score", h.score}});
    }
    // Documents are not always valid UTF-8; replace bad bytes rather than fail the output.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (hits->empty()) std::printf("no matches for \"%s\"\n", a.query.c_str());
  for (size_t i = 0; i < hits->size(); ++i) {
    const auto& h = (*hits)[i];
    std::printf("%zu. %s  (%.2f)\n   %s\n   %s\n\n", i + 1, h.title.c_str(), h.score, h.path.c_str(), h.snippet.c_str());
  }
  return kExitOk;
}

int run_index(const IndexArgs& a) {
  if (a.paths.empty() && !a.search && !a.prune) {
    std::cerr << "scout index: give PATH... to index, --prune, or --search QUERY\n";
    return kExitUsage;
  }
  const fs::path db = a.db.empty() ? default_index_path() : fs::path(a.db);
  if (const auto refused = not_a_regular_file(db)) {
    std::cerr << "scout index: " << db.string() << ": " << *refused << "\n";
    return kExitIoError;
  }
  // Searching alone never creates an index: a mistyped --db should say so, not find nothing.
  auto index = a.paths.empty() ? OfflineIndex::open(db) : OfflineIndex::create(db);
  if (!index) {
    std::cerr << "scout index: " << index.error().message << "\n";
    return kExitModelError;
  }
  int code = kExitOk;
  if (!a.paths.empty()) code = run_indexing(*index, a.paths);
  else if (a.prune && !prune(*index, {})) code = kExitModelError;
  if (a.search && code != kExitModelError) {
    const int search_code = run_search(*index, a);
    if (search_code != kExitOk) code = search_code;
  }
  return code;
}

}  // namespace

void register_index(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<IndexArgs>();
  auto* cmd = app.add_subcommand("index", "Build or search the offline full-text index of local documents");
  cmd->add_option("paths", a->paths, "Files and folders to index (folders recursively: .html .htm .md .txt .rst .pdf)");
  cmd->add_option("--db", a->db, "Index file (default: $XDG_DATA_HOME/scout/index.sqlite or ~/.local/share/scout/index.sqlite)");
  cmd->add_flag("--prune", a->prune, "Remove every document whose file was deleted (indexing PATH does this under PATH)");
  auto* search = cmd->add_option("-s,--search", a->query, "Search the index for QUERY (plain words) and print the best matches");
  cmd->add_option("-n,--n-results", a->n_results, "Most results to print")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_flag("--json", a->json, "Print search results as one JSON object")->needs(search);
  cmd->callback([a, search, &exit_code] {
    a->search = search->count() > 0;
    exit_code = run_index(*a);
  });
}

}  // namespace scout::cli
