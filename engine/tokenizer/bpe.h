// Internal to engine/tokenizer: the BPE merge loop over token ids.
//
// Semantics (those of the HF `tokenizers` library): while some adjacent pair of symbols has a
// merge, apply the merge of lowest rank; among equal ranks (the same pair occurring several
// times), the leftmost first. Two implementations give that result: a direct scan, quickest for
// the short pieces that make up almost all text, and a heap over a linked list of symbols for
// long pieces (O(n log n) instead of O(n^2)). Tests check that both agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace scout::detail {

// (left id, right id) -> (rank, merged id), open addressing. Immutable after building.
class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t result = 0;
  };

  explicit MergeTable(size_t n_merges = 0);
  // Returns false when the pair is already present (the first rank is kept).
  bool insert(int32_t left, int32_t right, int32_t rank, int32_t result);
  const Entry* find(int32_t left, int32_t right) const {
    const uint64_t key = make_key(left, right);
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  static uint64_t make_key(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  size_t slot(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Pieces up to this many symbols use the direct scan.
inline constexpr size_t kBpeScanMaxSymbols = 48;

void bpe_merge_scan(const MergeTable& merges, std::vector<int32_t>& symbols);
void bpe_merge_heap(const MergeTable& merges, std::vector<int32_t>& symbols);
inline void bpe_merge(const MergeTable& merges, std::vector<int32_t>& symbols) {
  if (symbols.size() <= kBpeScanMaxSymbols) {
    bpe_merge_scan(merges, symbols);
  } else {
    bpe_merge_heap(merges, symbols);
  }
}

}  // namespace scout::detail
