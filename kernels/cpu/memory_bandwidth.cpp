#include "kernels/cpu/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace scout {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRepetitions = 5;
constexpr size_t kAlign = size_t{2} << 20;  // huge-page aligned, so transparent huge pages can back it

// Two 64-bit lanes: SSE2 registers at the baseline ISA (GCC and Clang vector extension).
typedef uint64_t U64x2 __attribute__((vector_size(16)));

// Sum of v[0, n), n a multiple of 8. Eight independent accumulators (two cache lines per step)
// keep the loads in flight; the prefetches run 2 KiB ahead, as the dot-product kernels do.
uint64_t sum_words(const U64x2* v, size_t n) {
  U64x2 s[8] = {};
  for (size_t i = 0; i < n; i += 8) {
    __builtin_prefetch(v + i + 128);
    __builtin_prefetch(v + i + 132);
    for (int k = 0; k < 8; ++k) s[k] += v[i + k];
  }
  const U64x2 t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  return t[0] + t[1];
}

}  // namespace

double measure_read_bandwidth_gbs(int n_threads, size_t bytes_per_thread) {
  n_threads = std::max(n_threads, 1);
  const size_t n = std::max<size_t>(bytes_per_thread / 128, 1) * 8;  // whole pairs of 64-byte lines
  const size_t bytes = n * sizeof(U64x2);
  const size_t alloc_bytes = (bytes + kAlign - 1) / kAlign * kAlign;

  std::atomic<bool> failed{false};
  std::atomic<uint64_t> checksum{0};  // every thread's sum lands here, so no read is dead code
  Clock::time_point t0;
  double best_seconds = 0;
  int phase = 0;  // 0: buffers ready; then odd: a repetition starts, even: it ended
  // Runs on one thread when all have arrived, between two phases of the barrier.
  auto on_phase = [&]() noexcept {
    const auto now = Clock::now();
    if (phase > 0 && phase % 2 == 1) t0 = now;
    if (phase > 0 && phase % 2 == 0) {
      const double s = std::chrono::duration<double>(now - t0).count();
      if (best_seconds == 0 || s < best_seconds) best_seconds = s;
    }
    ++phase;
  };
  // Built once the threads are known to have started (the count must be exact); the workers
  // wait for `go` before they touch it.
  std::optional<std::barrier<decltype(on_phase)>> sync;
  std::atomic<bool> go{false};

  auto worker = [&]() {
    go.wait(false, std::memory_order_acquire);
    auto* buf = static_cast<U64x2*>(std::aligned_alloc(kAlign, alloc_bytes));
    if (buf == nullptr) failed.store(true);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (buf != nullptr) madvise(buf, alloc_bytes, MADV_HUGEPAGE);  // fewer TLB misses; advisory only
#endif
    // Touch every page from this thread (first-touch NUMA placement), with data the sum cannot
    // predict.
    if (buf != nullptr)
      for (size_t i = 0; i < n; ++i) buf[i] = U64x2{i * 0x9E3779B97F4A7C15ull, ~i};
    sync->arrive_and_wait();  // everything allocated (or not)
    const bool ok = !failed.load();
    uint64_t total = 0;
    for (int r = 0; r < kRepetitions; ++r) {
      sync->arrive_and_wait();  // start: the completion step stamps t0
      if (ok) total += sum_words(buf, n);
      sync->arrive_and_wait();  // end: the completion step stamps the duration
    }
    checksum.fetch_add(total, std::memory_order_relaxed);
    std::free(buf);
  };

  std::vector<std::thread> threads;
  try {
    threads.reserve(static_cast<size_t>(n_threads - 1));
    for (int t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  } catch (const std::exception&) {
    failed.store(true);  // the threads that did start still run, so that they can be joined
  }
  sync.emplace(static_cast<std::ptrdiff_t>(threads.size() + 1), on_phase);
  go.store(true, std::memory_order_release);
  go.notify_all();
  worker();
  for (auto& t : threads) t.join();

  // Keep the checksum observable (a relaxed load into a volatile costs nothing).
  [[maybe_unused]] volatile uint64_t sink = checksum.load(std::memory_order_relaxed);
  if (failed.load() || best_seconds <= 0) return 0;
  return static_cast<double>(bytes) * n_threads / best_seconds / 1e9;
}

}  // namespace scout
