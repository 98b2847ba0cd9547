#include "engine/tokenizer/bpe.h"

#include <bit>
#include <climits>
#include <queue>

namespace scout::detail {

MergeTable::MergeTable(size_t n_merges) {
  // Load factor at most 1/2.
  const size_t capacity = std::bit_ceil(std::max<size_t>(16, n_merges * 2));
  entries_.assign(capacity, Entry{});
  mask_ = capacity - 1;
}

bool MergeTable::insert(int32_t left, int32_t right, int32_t rank, int32_t result) {
  const uint64_t key = make_key(left, right);
  for (size_t i = slot(key);; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.key == key) return false;
    if (e.key == kEmpty) {
      e = Entry{key, rank, result};
      ++size_;
      return true;
    }
  }
}

void bpe_merge_scan(const MergeTable& merges, std::vector<int32_t>& symbols) {
  while (symbols.size() >= 2) {
    int32_t best_rank = INT32_MAX;
    size_t best = 0;
    int32_t best_result = 0;
    for (size_t k = 0; k + 1 < symbols.size(); ++k) {
      const MergeTable::Entry* e = merges.find(symbols[k], symbols[k + 1]);
      if (e != nullptr && e->rank < best_rank) {  // strict: the leftmost wins ties
        best_rank = e->rank;
        best = k;
        best_result = e->result;
      }
    }
    if (best_rank == INT32_MAX) return;
    symbols[best] = best_result;
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
}

void bpe_merge_heap(const MergeTable& merges, std::vector<int32_t>& symbols) {
  const size_t n = symbols.size();
  if (n < 2) return;
  // Symbols live at their original positions; merged-away ones are unlinked. A symbol's position
  // never changes, so comparing positions compares places in the current sequence.
  std::vector<int32_t> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Candidate {
    int32_t rank;
    int32_t pos;     // position of the left symbol
    int32_t left;    // ids when queued: the candidate is stale once either changed
    int32_t right;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    const int32_t l = symbols[pos], r = symbols[next[pos]];
    if (const MergeTable::Entry* e = merges.find(l, r)) queue.push({e->rank, pos, l, r});
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i));

  std::vector<bool> alive(n, true);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int32_t right_pos = next[c.pos];
    if (!alive[c.pos] || right_pos < 0 || symbols[c.pos] != c.left || symbols[right_pos] != c.right) continue;
    const MergeTable::Entry* e = merges.find(c.left, c.right);
    symbols[c.pos] = e->result;
    alive[right_pos] = false;
    next[c.pos] = next[right_pos];
    if (next[c.pos] >= 0) prev[next[c.pos]] = c.pos;
    consider(prev[c.pos]);
    consider(c.pos);
  }
  size_t out = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) symbols[out++] = symbols[i];
  symbols.resize(out);
}

}  // namespace scout::detail
