// Shared by the libFuzzer targets: how a broken invariant ends the run, and how a target reads
// the few bytes that choose its mode before the input proper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace scout::fuzz {

// A broken invariant: says which, then aborts, which libFuzzer records as a finding (with the
// input that caused it).
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

// The input as a byte cursor: a target takes its selector bytes from the front and treats the
// rest as the data under test. Missing bytes read as zero, so every input is usable.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() {
    if (pos_ >= size_) return 0;
    return data_[pos_++];
  }
  // Everything not taken yet.
  std::string_view rest() const {
    return pos_ >= size_ ? std::string_view() : std::string_view(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// Cuts `text` into consecutive pieces whose sizes cycle through `sizes` (0 makes an empty piece;
// an all-zero pattern falls back to one byte at a time), calling piece(view) for each. The
// pieces cover `text` exactly, in order.
template <class F>
void for_each_piece(std::string_view text, const std::uint8_t* sizes, std::size_t n_sizes, F&& piece) {
  bool any = false;
  for (std::size_t i = 0; i < n_sizes; ++i) any = any || sizes[i] != 0;
  std::size_t at = 0, k = 0;
  while (at < text.size()) {
    const std::size_t want = any ? sizes[k++ % n_sizes] : 1;
    const std::size_t take = want < text.size() - at ? want : text.size() - at;
    piece(text.substr(at, take));
    at += take;
  }
}

}  // namespace scout::fuzz
